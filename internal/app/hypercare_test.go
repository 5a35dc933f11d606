package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/hypercare"
)

// hypercareConfig adds to the base configuration a service of team
// payments under a hypercare window opened at the given start, whose exit
// criterion (at most 5 % errors a day) the window's first day breaks.
const hypercareConfig = `
teams:
  - name: payments
  - name: search
services:
  - { name: support-bot, team: payments, kind: ai, models: [gpt-4o-mini], routes: [ { path: /bot } ] }
hypercare:
  - name: bot-v2
    target: { service: support-bot }
    start: %s
    duration: 14d
    exit: { error_rate: 0.05, days: 1 }
`

// hypercarePeriod lays out 400 calls of support-bot from 'from', one every
// three minutes, with errors every errEvery-th call; latencies of the
// successful ones follow latency (by their rank among the successes);
// tokens, cost, flags and feedback follow the call's rank alone, so they
// are the same in every period.
func hypercarePeriod(prefix string, from time.Time, errEvery int, latency func(j int) time.Duration) ([]calllog.Record, []feedback.Feedback) {
	var recs []calllog.Record
	var fbs []feedback.Feedback
	j := 0
	for i := range 400 {
		r := calllog.Record{ID: fmt.Sprintf("%s-%03d", prefix, i), Time: from.Add(time.Duration(i) * 3 * time.Minute),
			Consumer: "shop", Endpoint: "/bot", Service: "support-bot", Route: "/bot", Model: "gpt-4o-mini", Provider: "fake",
			InputTokens: 100 + int64(i%4)*20, OutputTokens: 50 + int64(i%5)*10}
		r.CostUSD = float64(r.InputTokens)*1e-6 + float64(r.OutputTokens)*2e-6
		if i%errEvery == errEvery-1 {
			r.Status, r.ErrorType, r.LatencyUS = 500, "upstream_error", 40_000
		} else {
			r.Status, r.LatencyUS = 200, latency(j).Microseconds()
			j++
		}
		if i%50 == 7 {
			r.Flags = []string{"empty_output"}
		}
		recs = append(recs, r)
		if k := i % 20; k == 0 || k == 5 || k == 10 {
			pol := feedback.PolarityPositive
			if k == 10 {
				pol = feedback.PolarityNegative
			}
			fbs = append(fbs, feedback.Feedback{ID: "fb-" + r.ID, RequestID: r.ID, Consumer: "shop", Name: "helpful",
				Value: feedback.BoolValue(pol == feedback.PolarityPositive), Polarity: pol, Source: feedback.SourceUser,
				Call: calllog.SummaryOf(&r), UpdatedAt: r.Time.Add(time.Minute)})
		}
	}
	return recs, fbs
}

// TestHypercareReport opens a hypercare window two days ago on a service
// whose calls fail more often (1 % before, 20 % in the window) and more
// often take long (2 % before, 10 % in the window) since it opened, with
// the same tokens, cost, flags and feedback: the report finds error rate
// and latency p95 regressed and every other metric unchanged, renders as
// Markdown and HTML, and the window is listed as active to the team that
// owns the service only.
func TestHypercareReport(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { hypercareReport(t, start(t, b.opt(t))) })
	}
}

// seedHypercare applies the hypercare configuration (window bot-v2 on
// service support-bot, opened two days ago, with extra appended) and
// stores the calls and feedback of the three days before it and of the
// window so far. It returns when the window began.
func seedHypercare(t *testing.T, e *env, extra string) time.Time {
	t.Helper()
	ctx := context.Background()
	begin := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)
	cfg := fmt.Sprintf(baseConfig, e.up.BaseURL()) + fmt.Sprintf(hypercareConfig, begin.Format(time.RFC3339)) + extra
	if code := e.adminDo("PUT", "/admin/v1/config?message=hypercare", cfg, nil); code != 200 {
		t.Fatalf("applying the hypercare configuration: %d", code)
	}

	// Before: 60 % of the successful calls take 120 ms, 38 % 150 ms and
	// 2 % 900 ms, so p50 is 120 ms, p95 150 ms and p99 900 ms. In the
	// window: 55 %, 35 % and 10 %, so p50 and p99 stay and p95 is 900 ms.
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	before, fbBefore := hypercarePeriod("hc-before", begin.Add(-3*hypercare.Day), 100, func(j int) time.Duration {
		switch k := j % 50; {
		case k < 30:
			return ms(120)
		case k < 49:
			return ms(150)
		}
		return ms(900)
	})
	inside, fbInside := hypercarePeriod("hc-inside", begin, 5, func(j int) time.Duration {
		switch k := j % 20; {
		case k < 11:
			return ms(120)
		case k < 18:
			return ms(150)
		}
		return ms(900)
	})
	// The window's calls are recorded through the store with their past
	// times, as the call writer would have stored them then.
	if err := e.app.Store().InsertCallsAndRollups(ctx, append(before, inside...)); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(fbBefore, fbInside...) {
		if _, _, err := e.app.Store().UpsertFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	return begin
}

func hypercareReport(t *testing.T, e *env) {
	begin := seedHypercare(t, e, "")

	var rep hypercare.Report
	if code := e.adminDo("GET", "/admin/v1/hypercare/bot-v2/report", "", &rep); code != 200 {
		t.Fatalf("GET report: %d", code)
	}
	if rep.Window != "bot-v2" || rep.Target != "service support-bot" || rep.State != hypercare.StateActive {
		t.Errorf("report of %q on %q, %s; want bot-v2 on service support-bot, active", rep.Window, rep.Target, rep.State)
	}
	if rep.Period.Calls != 400 || rep.Baseline.Calls != 400 || rep.Period.Feedback != 60 || rep.Baseline.Feedback != 60 {
		t.Errorf("periods: window %+v, baseline %+v; want 400 calls and 60 thumbs each", rep.Period, rep.Baseline)
	}
	if !rep.Baseline.To.Equal(begin) || !rep.Baseline.From.Equal(begin.Add(-14*hypercare.Day)) || !rep.Period.From.Equal(begin) {
		t.Errorf("baseline %s → %s, window from %s; want the 14 days before %s", rep.Baseline.From, rep.Baseline.To, rep.Period.From, begin)
	}
	want := map[string]hypercare.Verdict{
		hypercare.MetricLatencyP50:    hypercare.Unchanged,
		hypercare.MetricLatencyP95:    hypercare.Regressed,
		hypercare.MetricLatencyP99:    hypercare.Unchanged,
		hypercare.MetricErrorRate:     hypercare.Regressed,
		hypercare.MetricPositiveRatio: hypercare.Unchanged,
		hypercare.MetricAnomalyRate:   hypercare.Unchanged,
		hypercare.MetricTokensPerCall: hypercare.Unchanged,
		hypercare.MetricCostPerCall:   hypercare.Unchanged,
	}
	if len(rep.Metrics) != len(want) {
		t.Errorf("%d metrics, want %d", len(rep.Metrics), len(want))
	}
	values := map[string][2]float64{}
	for _, m := range rep.Metrics {
		if m.Verdict != want[m.Metric] {
			t.Errorf("%s: %s (%s), want %s", m.Metric, m.Verdict, m.Text, want[m.Metric])
		}
		if m.Baseline != nil && m.Window != nil {
			values[m.Metric] = [2]float64{*m.Baseline, *m.Window}
		}
	}
	for metric, bw := range map[string][2]float64{
		hypercare.MetricLatencyP50: {120, 120}, hypercare.MetricLatencyP95: {150, 900}, hypercare.MetricLatencyP99: {900, 900},
		hypercare.MetricErrorRate: {0.01, 0.2}, hypercare.MetricPositiveRatio: {2.0 / 3, 2.0 / 3}, hypercare.MetricAnomalyRate: {0.02, 0.02},
	} {
		if got := values[metric]; got != bw {
			t.Errorf("%s: baseline and window %v, want %v", metric, got, bw)
		}
	}
	if !strings.HasPrefix(rep.Summary, "Worse than before on latency p95 and error rate.") {
		t.Errorf("summary %q", rep.Summary)
	}
	// The first full day broke the exit criterion; the second had no
	// calls: not ready to leave hypercare.
	if x := rep.Exit; x == nil || x.Ready || x.Streak != 0 || len(x.History) != 2 || x.History[0].Calls != 400 ||
		x.History[0].Values[hypercare.MetricErrorRate] != 0.2 || x.History[1].Calls != 0 {
		t.Errorf("exit: %+v", rep.Exit)
	}

	// The same report as Markdown and as a self-contained HTML page.
	for _, tc := range []struct {
		format, contentType string
		contains            []string
	}{
		{"md", "text/markdown; charset=utf-8", []string{"# Hypercare report: bot-v2", "Worse than before on latency p95 and error rate.",
			"| Error rate | 1 % | 20 % |", "| Latency p95 | 150 ms | 900 ms |", "| regressed |", "| unchanged |", "Not ready to leave hypercare"}},
		{"html", "text/html; charset=utf-8", []string{"<title>Hypercare report: bot-v2</title>", `<li class="regressed">Error rate regressed: 20 % vs 1 % before`,
			`<td class="regressed">regressed</td>`, `<td class="unchanged">unchanged</td>`, "Not ready to leave hypercare"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, body, hdr := getWithHeaders(t, e, "/admin/v1/hypercare/bot-v2/report?format="+tc.format)
			if code != 200 || hdr.Get("Content-Type") != tc.contentType {
				t.Fatalf("format=%s: %d %s: %.300s", tc.format, code, hdr.Get("Content-Type"), body)
			}
			for _, s := range tc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("format=%s lacks %q:\n%s", tc.format, s, body)
				}
			}
			if tc.format == "html" && (hdr.Get("Content-Security-Policy") == "" || strings.Contains(body, "<script")) {
				t.Errorf("the HTML page is not self-contained: CSP %q", hdr.Get("Content-Security-Policy"))
			}
		})
	}
	// A report as of a past time sees the window as it was then: at its
	// start nothing had happened in it yet.
	var early hypercare.Report
	at := url.QueryEscape(begin.Format(time.RFC3339))
	if code := e.adminDo("GET", "/admin/v1/hypercare/bot-v2/report?at="+at, "", &early); code != 200 ||
		early.Period.Calls != 0 || early.Baseline.Calls != 400 {
		t.Errorf("report at the start: %d, window %+v, baseline %+v", code, early.Period, early.Baseline)
	}

	// The list shows the window, active, to whoever reaches team payments.
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	if code := e.adminDo("GET", "/admin/v1/hypercare", "", &list); code != 200 || len(list.Data) != 1 {
		t.Fatalf("GET /admin/v1/hypercare: %d, %s", code, list.Data)
	}
	w := list.Data[0]
	if gjson.GetBytes(w, "name").Str != "bot-v2" || gjson.GetBytes(w, "state").Str != string(hypercare.StateActive) ||
		gjson.GetBytes(w, "team").Str != "payments" || gjson.GetBytes(w, "target").Str != "service support-bot" ||
		gjson.GetBytes(w, "end").Str != begin.Add(14*hypercare.Day).Format(time.RFC3339) || gjson.GetBytes(w, "ready_since").Exists() {
		t.Errorf("listed window: %s", w)
	}
	viewer := func(team string) string {
		var out struct {
			Token string `json:"token"`
		}
		body := fmt.Sprintf(`{"name":"hc-%s","role":"viewer","team":%q}`, team, team)
		if code := e.adminDo("POST", "/admin/v1/tokens", body, &out); code != 201 {
			t.Fatalf("creating a viewer of %s: %d", team, code)
		}
		return out.Token
	}
	for _, tc := range []struct {
		team       string
		listed     int
		reportCode int
	}{
		{"payments", 1, 200},
		{"search", 0, 404},
	} {
		tok := viewer(tc.team)
		code, b := e.as(tok, "GET", "/admin/v1/hypercare", "")
		if n := len(gjson.GetBytes(b, "data").Array()); code != 200 || n != tc.listed {
			t.Errorf("a viewer of %s lists %d windows (%d), want %d", tc.team, n, code, tc.listed)
		}
		if code, b := e.as(tok, "GET", "/admin/v1/hypercare/bot-v2/report", ""); code != tc.reportCode {
			t.Errorf("a viewer of %s reads the report: %d %.200s, want %d", tc.team, code, b, tc.reportCode)
		}
		if code, _ := e.as(tok, "GET", "/admin/v1/hypercare/bot-v2/reports", ""); code != tc.reportCode {
			t.Errorf("a viewer of %s reads the stored reports: %d, want %d", tc.team, code, tc.reportCode)
		}
	}
}

// getWithHeaders calls the admin API as the admin and returns the status,
// the body and the headers.
func getWithHeaders(t *testing.T, e *env, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", e.admin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b), resp.Header
}
