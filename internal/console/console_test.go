package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/triage"
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

func TestConsoleBarChart(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	h := now.Truncate(time.Hour)
	c := newBarChart([]triage.HourCount{
		{Hour: h.Add(-72 * time.Hour), Count: 9}, // before the chart: only in the table
		{Hour: h.Add(-47 * time.Hour), Count: 2},
		{Hour: h, Count: 4},
	}, now)
	if len(c.Bars) != barHours || c.Max != 4 || len(c.Rows) != 3 {
		t.Fatalf("bars %d, max %d, rows %d", len(c.Bars), c.Max, len(c.Rows))
	}
	first, last := c.Bars[0], c.Bars[barHours-1]
	if first.Count != 2 || !first.Hour.Equal(h.Add(-47*time.Hour)) || last.Count != 4 || !last.Hour.Equal(h) {
		t.Errorf("first bar %+v, last bar %+v", first, last)
	}
	// The busiest hour reaches the top of the plot; half as many, half way.
	if last.Y != padTB || first.H != last.H/2 || c.Bars[1].H != 0 {
		t.Errorf("bar heights: first %+v, last %+v, empty %+v", first, last, c.Bars[1])
	}
	if newBarChart(nil, now) != nil {
		t.Error("a chart without counts")
	}
}

func TestConsoleTemplatesParse(t *testing.T) {
	s := &Server{}
	if err := s.parse(); err != nil {
		t.Fatal(err)
	}
}

func TestUntilParam(t *testing.T) {
	for name, c := range map[string]struct {
		in   time.Time
		want string
	}{
		"whole second stays":    {time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), "2026-11-27T12:00:00Z"},
		"fraction rounds up":    {time.Date(2026, 11, 27, 12, 0, 0, 700_000_000, time.UTC), "2026-11-27T12:00:01Z"},
		"other zones print UTC": {time.Date(2026, 11, 27, 13, 0, 0, 1, time.FixedZone("CET", 3600)), "2026-11-27T12:00:01Z"},
	} {
		if got := untilParam(c.in); got != c.want {
			t.Errorf("%s: untilParam(%s) = %s, want %s", name, c.in, got, c.want)
		}
	}
}
