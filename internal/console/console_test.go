package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
)

func TestConsoleLocalPath(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"empty":      {"", "/"},
		"page":       {"/calls?model=x", "/calls?model=x"},
		"other host": {"//evil.example/x", "/"},
		"backslash":  {"/\\evil.example", "/"},
		"absolute":   {"https://evil.example/", "/"},
		"admin API":  {"/admin/v1/me", "/"},
		"relative":   {"calls", "/"},
	} {
		if got := localPath(c.in); got != c.want {
			t.Errorf("%s: localPath(%q) = %q, want %q", name, c.in, got, c.want)
		}
	}
}

func TestConsoleSameOrigin(t *testing.T) {
	for name, c := range map[string]struct {
		origin, site string
		want         bool
	}{
		"same origin":   {"http://console.test", "same-origin", true},
		"no headers":    {"", "", true},
		"cross site":    {"http://console.test", "cross-site", false},
		"same site":     {"", "same-site", false},
		"other origin":  {"https://evil.example", "", false},
		"opaque origin": {"null", "", false},
	} {
		r := httptest.NewRequest("POST", "http://console.test/signin", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if got := sameOrigin(r); got != c.want {
			t.Errorf("%s: sameOrigin = %v, want %v", name, got, c.want)
		}
	}
}

func TestConsoleChart(t *testing.T) {
	to := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	from := to.Add(-24 * time.Hour)
	v := func(x float64) *float64 { return &x }
	series := analytics.Series{Points: []analytics.Point{
		{Time: from.Truncate(time.Hour).Add(2 * time.Hour), Values: analytics.Values{analytics.Requests: v(40), analytics.Errors: v(4)}},
		{Time: to.Truncate(time.Hour), Values: analytics.Values{analytics.Requests: v(10), analytics.Errors: nil}},
	}}
	c := newChart(series, from, to)
	if len(c.Rows) != 25 || c.Max != 40 || c.Rows[2].Requests != 40 || c.Rows[2].Errors != 4 || c.Rows[24].Requests != 10 {
		t.Fatalf("chart rows %+v max %v", c.Rows, c.Max)
	}
	if n := len(strings.Fields(c.Requests)); n != 25 {
		t.Errorf("%d requests points, want 25", n)
	}
	// The busiest hour is drawn at the top of the plot, an empty one at
	// its base.
	if !strings.Contains(c.Requests, ",20.0") || !strings.HasPrefix(c.Requests, "40.0,180.0") {
		t.Errorf("requests line %q", c.Requests)
	}
}

func TestConsoleTemplatesParse(t *testing.T) {
	s := &Server{}
	if err := s.parse(); err != nil {
		t.Fatal(err)
	}
}
