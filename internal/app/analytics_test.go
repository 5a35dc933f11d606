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
}
