package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAnalyticsEndToEnd sends calls through the data plane and reads them
// back from the analytics API: rollups are fed by the call writer, a
// breakdown counts every call once, and a principal scoped to a team sees
// only its team's consumers.
func TestAnalyticsEndToEnd(t *testing.T) {
	e := startTeams(t)
	// shop is of team payments, other of team search (teamsConfig).
	sent := map[string]int{"shop": 3, "other": 2}
	keys := map[string]string{"shop": shopKey, "other": otherKey}
	var last string
	for consumer, n := range sent {
		for range n {
			resp, body := e.do("POST", "/v1/chat/completions", keys[consumer], chatBody)
			if resp.StatusCode != 200 {
				t.Fatalf("call as %s: %d %s", consumer, resp.StatusCode, body)
			}
			last = resp.Header.Get("X-Request-Id")
		}
	}
	failed, _ := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-500", 1))
	e.call(last)
	e.call(failed.Header.Get("X-Request-Id"))

	from := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	type breakdown struct {
		Groups []struct {
			Value  string              `json:"value"`
			Values map[string]*float64 `json:"values"`
		} `json:"groups"`
	}
	read := func(token string) map[string][2]float64 {
		t.Helper()
		var out map[string][2]float64
		// Records reach the store asynchronously; the last two are there,
		// and batches are stored in order, so one retry round is plenty.
		for range 50 {
			code, body := e.as(token, "GET", "/admin/v1/analytics/breakdown?by=consumer&metric=requests,errors&from="+from, "")
			if code != 200 {
				t.Fatalf("breakdown: %d %s", code, body)
			}
			var b breakdown
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			out = map[string][2]float64{}
			for _, g := range b.Groups {
				out[g.Value] = [2]float64{*g.Values["requests"], *g.Values["errors"]}
			}
			if token != adminToken || out["shop"][0] == 4 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return out
	}
	all := read(adminToken)
	if fmt.Sprint(all) != fmt.Sprint(map[string][2]float64{"shop": {4, 1}, "other": {2, 0}}) {
		t.Errorf("admin breakdown by consumer = %v, want shop 4 requests 1 error, other 2", all)
	}
	scoped := read(e.tokens["viewer"]) // a viewer of team payments
	if fmt.Sprint(scoped) != fmt.Sprint(map[string][2]float64{"shop": {4, 1}}) {
		t.Errorf("payments viewer's breakdown = %v, want only shop", scoped)
	}
	if code, body := e.as(e.tokens["consumer"], "GET", "/admin/v1/analytics/timeseries?metric=requests&format=csv&from="+from, ""); code != 200 ||
		!strings.HasPrefix(string(body), "time,requests\n") {
		t.Errorf("consumer token's csv time series: %d %q", code, body)
	}
	if code, _ := e.as("", "GET", "/admin/v1/analytics/timeseries", ""); code != 401 {
		t.Errorf("time series without credentials: %d, want 401", code)
	}

	// Feedback is counted at once under its call's dimensions; a toggled
	// thumbs-up is counted once, with its new value.
	feedbackTotals := func() string {
		t.Helper()
		code, body := e.as(adminToken, "GET", "/admin/v1/analytics/breakdown?by=consumer&consumer=shop&metric=feedback,feedback_mean,negative_feedback_ratio&from="+from, "")
		if code != 200 {
			t.Fatalf("feedback breakdown: %d %s", code, body)
		}
		var b breakdown
		if err := json.Unmarshal(body, &b); err != nil || len(b.Groups) != 1 {
			t.Fatalf("feedback breakdown %s: %v", body, err)
		}
		v := b.Groups[0].Values
		show := func(p *float64) string {
			if p == nil {
				return "null"
			}
			return fmt.Sprintf("%.2f", *p)
		}
		return show(v["feedback"]) + " " + show(v["feedback_mean"]) + " " + show(v["negative_feedback_ratio"])
	}
	if got := feedbackTotals(); got != "0.00 null null" {
		t.Errorf("before any feedback: feedback, mean, negative ratio = %s", got)
	}
	shopCall := failed.Header.Get("X-Request-Id")
	for _, fb := range []string{
		`{"id":"a1","request_id":"` + shopCall + `","value":false}`,
		`{"id":"a2","request_id":"` + shopCall + `","value":true}`,
		`{"id":"a2","request_id":"` + shopCall + `","value":false}`, // toggled
		`{"id":"a3","request_id":"` + shopCall + `","name":"stars","value":4}`,
	} {
		if resp, body := e.do("POST", "/v1/feedback", shopKey, fb); resp.StatusCode != 200 && resp.StatusCode != 201 {
			t.Fatalf("feedback %s: %d %s", fb, resp.StatusCode, body)
		}
	}
	const wantFeedback = "3.00 1.33 1.00" // three items; mean of 0, 0 and 4; both booleans false
	if got := feedbackTotals(); got != wantFeedback {
		t.Errorf("feedback, mean, negative ratio = %s, want %s", got, wantFeedback)
	}

	// Rebuilding from the raw records gives the same figures; only admins
	// may.
	if code, body := e.as(e.tokens["viewer"], "POST", "/admin/v1/analytics/rebuild", `{"from":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`); code != 403 {
		t.Errorf("viewer rebuilding: %d %s, want 403", code, body)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"no from", `{}`, "from is required"},
		{"reversed", `{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}`, "to must be after from"},
		{"too long", `{"from":"2020-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}`, "at most 400"},
	} {
		if code, body := e.as(adminToken, "POST", "/admin/v1/analytics/rebuild", tc.body); code != 400 || !strings.Contains(string(body), tc.want) {
			t.Errorf("rebuild %s: %d %s, want 400 saying %q", tc.name, code, body, tc.want)
		}
	}
	code, body := e.as(adminToken, "POST", "/admin/v1/analytics/rebuild", `{"from":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`)
	if code != 200 || !strings.Contains(string(body), `"days":`) {
		t.Fatalf("rebuild: %d %s", code, body)
	}
	if got := feedbackTotals(); got != wantFeedback {
		t.Errorf("after rebuild: feedback, mean, negative ratio = %s, want %s", got, wantFeedback)
	}
	if again := read(adminToken); fmt.Sprint(again) != fmt.Sprint(all) {
		t.Errorf("after rebuild: breakdown by consumer = %v, want %v", again, all)
	}
}
