package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/hypercare"
	"github.com/hypergate/hypergate/internal/store"
)

// Hypercare is the conformance case of issue 6's hypercare windows: the
// aggregates of a target's calls in a period (each kind of target: a
// service, a release, a model, a prompt and a prompt version), with the
// period's start included and its end left out, synthetic calls left out,
// failures (no answer, or 400 and above) and flagged calls counted, and
// the thumbs up and down on the calls counted by their current polarity;
// the same per day; the evenly spread latency sample of the successful
// calls; and the stored daily reports, one per window and day.
func Hypercare(t *testing.T, db *store.DB) {
	t.Run("Aggregates", func(t *testing.T) { hypercareAggregates(t, db) })
	t.Run("Daily", func(t *testing.T) { hypercareDaily(t, db) })
	t.Run("LatencySample", func(t *testing.T) { hypercareSample(t, db) })
	t.Run("Reports", func(t *testing.T) { hypercareReports(t, db) })
}

// putHypercareFeedback stores a piece of feedback on rec with a polarity
// ("" for one that says neither).
func putHypercareFeedback(t *testing.T, db *store.DB, id string, rec calllog.Record, polarity string) {
	t.Helper()
	v := feedback.BoolValue(polarity == feedback.PolarityPositive)
	name := "helpful"
	if polarity == "" {
		v, name = feedback.Value{Kind: feedback.String, Str: "a remark"}, "note"
	}
	if _, _, err := db.UpsertFeedback(t.Context(), feedback.Feedback{ID: id, RequestID: rec.ID, Consumer: rec.Consumer,
		Name: name, Value: v, Polarity: polarity, Source: feedback.SourceUser, Call: calllog.SummaryOf(&rec),
		UpdatedAt: rec.Time.Add(time.Minute)}); err != nil {
		t.Fatalf("UpsertFeedback(%s): %v", id, err)
	}
}

// sameAggregates compares counts exactly and sums within rounding.
func sameAggregates(got, want hypercare.Aggregates) bool {
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	nearM := func(a, b hypercare.Moments) bool { return a.N == b.N && near(a.Sum, b.Sum) && near(a.SumSq, b.SumSq) }
	return got.Calls == want.Calls && got.Errors == want.Errors && got.Anomalies == want.Anomalies &&
		got.Positive == want.Positive && got.Negative == want.Negative &&
		nearM(got.Tokens, want.Tokens) && nearM(got.Cost, want.Cost)
}

func hypercareAggregates(t *testing.T, db *store.DB) {
	ctx := t.Context()
	from := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	call := func(id string, at time.Time, service string, release int, model, prompt string, version, status int) calllog.Record {
		return calllog.Record{ID: id, Time: at, Endpoint: "/v1/chat/completions", Consumer: "shop", Service: service,
			Release: release, Model: model, Prompt: prompt, PromptVersion: version, Status: status, LatencyUS: 1000}
	}
	c1 := call("hc-1", from, "bot", 1, "m-1", "sum", 1, 200) // at the start: in
	c1.InputTokens, c1.OutputTokens, c1.CostUSD = 10, 5, 0.01
	c2 := call("hc-2", from.Add(time.Minute), "bot", 2, "m-1", "sum", 2, 500)
	c2.InputTokens, c2.OutputTokens, c2.CostUSD = 20, 10, 0.02
	c3 := call("hc-3", from.Add(2*time.Minute), "bot", 2, "m-2", "", 0, 200)
	c3.Flags = []string{"empty_output", "refusal"}                         // flagged twice, one anomalous call
	c4 := call("hc-4", from.Add(3*time.Minute), "bot", 2, "m-2", "", 0, 0) // no answer at all: a failure
	c5 := call("hc-5", from.Add(4*time.Minute), "other", 1, "m-1", "qa", 1, 200)
	c5.InputTokens, c5.OutputTokens, c5.CostUSD = 7, 3, 0.005
	c6 := call("hc-6", from.Add(5*time.Minute), "bot", 2, "m-1", "sum", 2, 429)
	c7 := call("hc-7", from.Add(6*time.Minute), "bot", 2, "m-1", "sum", 2, 399) // below 400: a success
	// Left out everywhere: a probe's call, and calls just before the
	// period and at its end.
	s1 := call("hc-s1", from.Add(7*time.Minute), "bot", 2, "m-1", "sum", 2, 500)
	s1.Synthetic, s1.Probe, s1.Flags, s1.InputTokens = true, "canary", []string{"empty_output"}, 1000
	o1 := call("hc-o1", from.Add(-time.Microsecond), "bot", 2, "m-1", "sum", 2, 500)
	o2 := call("hc-o2", to, "bot", 2, "m-1", "sum", 2, 500)
	recs := []calllog.Record{c1, c2, c3, c4, c5, c6, c7, s1, o1, o2}
	if err := db.InsertCallsAndRollups(ctx, recs); err != nil {
		t.Fatal(err)
	}
	putHypercareFeedback(t, db, "hcf-1", c1, feedback.PolarityPositive)
	putHypercareFeedback(t, db, "hcf-2", c2, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hcf-2n", c2, "") // neither up nor down
	putHypercareFeedback(t, db, "hcf-3", c3, feedback.PolarityPositive)
	putHypercareFeedback(t, db, "hcf-3b", c3, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hcf-5", c5, feedback.PolarityNegative)
	// A toggle counts once, with its current polarity.
	putHypercareFeedback(t, db, "hcf-7", c7, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hcf-7", c7, feedback.PolarityPositive)
	putHypercareFeedback(t, db, "hcf-s1", s1, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hcf-o1", o1, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hcf-o2", o2, feedback.PolarityPositive)

	// Tokens and cost are those of the answered calls (status 100–399):
	// c1, c3, c5 and c7.
	m := func(n int64, sum, sumSq float64) hypercare.Moments {
		return hypercare.Moments{N: n, Sum: sum, SumSq: sumSq}
	}
	for _, tc := range []struct {
		name   string
		target hypercare.Target
		want   hypercare.Aggregates
	}{
		{"service", hypercare.Target{Service: "bot"}, hypercare.Aggregates{Calls: 6, Errors: 3, Anomalies: 1,
			Tokens: m(3, 15, 225), Cost: m(3, 0.01, 0.0001), Positive: 3, Negative: 2}},
		{"release", hypercare.Target{Service: "bot", Release: 2}, hypercare.Aggregates{Calls: 5, Errors: 3, Anomalies: 1,
			Tokens: m(2, 0, 0), Cost: m(2, 0, 0), Positive: 2, Negative: 2}},
		{"first release", hypercare.Target{Service: "bot", Release: 1}, hypercare.Aggregates{Calls: 1,
			Tokens: m(1, 15, 225), Cost: m(1, 0.01, 0.0001), Positive: 1}},
		{"model", hypercare.Target{Model: "m-1"}, hypercare.Aggregates{Calls: 5, Errors: 2,
			Tokens: m(3, 25, 325), Cost: m(3, 0.015, 0.000125), Positive: 2, Negative: 2}},
		{"prompt, every version", hypercare.Target{Prompt: "sum"}, hypercare.Aggregates{Calls: 4, Errors: 2,
			Tokens: m(2, 15, 225), Cost: m(2, 0.01, 0.0001), Positive: 2, Negative: 1}},
		{"prompt version", hypercare.Target{Prompt: "sum", PromptVersion: 2}, hypercare.Aggregates{Calls: 3, Errors: 2,
			Tokens: m(1, 0, 0), Cost: m(1, 0, 0), Positive: 1, Negative: 1}},
		{"unknown service", hypercare.Target{Service: "nobody"}, hypercare.Aggregates{}},
		{"no target", hypercare.Target{}, hypercare.Aggregates{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.HypercareAggregates(ctx, tc.target, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAggregates(got, tc.want) {
				t.Errorf("HypercareAggregates(%s) =\n %+v\nwant\n %+v", tc.target, got, tc.want)
			}
		})
	}
	// An empty period holds nothing, and the period's end is its own.
	if got, err := db.HypercareAggregates(ctx, hypercare.Target{Service: "bot"}, to, to.Add(time.Hour)); err != nil ||
		got.Calls != 1 || got.Errors != 1 || got.Positive != 1 {
		t.Errorf("the hour after: %+v, %v; want o2 alone", got, err)
	}
}

func hypercareDaily(t *testing.T, db *store.DB) {
	ctx := t.Context()
	start := time.Date(2026, 6, 10, 9, 30, 0, 0, time.UTC)
	day := hypercare.Day
	target := func(service string, release int, model, prompt string, version int) hypercare.Target {
		return hypercare.Target{Service: service, Release: release, Model: model, Prompt: prompt, PromptVersion: version}
	}
	call := func(id string, at time.Time, status int, flagged, synthetic bool) calllog.Record {
		r := calllog.Record{ID: id, Time: at, Endpoint: "/v1/chat/completions", Consumer: "shop", Service: "daily",
			Release: 3, Model: "m-daily", Prompt: "p-daily", PromptVersion: 4, Status: status, LatencyUS: 2000,
			InputTokens: 3, OutputTokens: 1, CostUSD: 0.5, Synthetic: synthetic}
		if flagged {
			r.Flags = []string{"long_output"}
		}
		return r
	}
	d0a := call("hd-0a", start, 200, false, false)
	d0b := call("hd-0b", start.Add(day-time.Microsecond), 503, false, false) // the last instant of day 0
	d1s := call("hd-1s", start.Add(day+time.Hour), 200, false, true)         // a probe: day 1 stays empty
	d2 := call("hd-2", start.Add(2*day), 200, true, false)                   // the first instant of day 2
	before := call("hd-before", start.Add(-time.Microsecond), 500, false, false)
	after := call("hd-after", start.Add(3*day), 500, false, false)
	if err := db.InsertCallsAndRollups(ctx, []calllog.Record{d0a, d0b, d1s, d2, before, after}); err != nil {
		t.Fatal(err)
	}
	putHypercareFeedback(t, db, "hdf-0a", d0a, feedback.PolarityPositive)
	putHypercareFeedback(t, db, "hdf-0b", d0b, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hdf-0b2", d0b, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hdf-1s", d1s, feedback.PolarityNegative)
	putHypercareFeedback(t, db, "hdf-2", d2, feedback.PolarityPositive)
	putHypercareFeedback(t, db, "hdf-after", after, feedback.PolarityNegative)
	m := func(n int64, sum, sumSq float64) hypercare.Moments {
		return hypercare.Moments{N: n, Sum: sum, SumSq: sumSq}
	}
	want := []hypercare.Aggregates{
		{Calls: 2, Errors: 1, Tokens: m(1, 4, 16), Cost: m(1, 0.5, 0.25), Positive: 1, Negative: 2}, // tokens and cost of the answered call only
		{},
		{Calls: 1, Anomalies: 1, Tokens: m(1, 4, 16), Cost: m(1, 0.5, 0.25), Positive: 1},
	}
	for _, tc := range []struct {
		name   string
		target hypercare.Target
	}{
		{"service", target("daily", 0, "", "", 0)},
		{"release", target("daily", 3, "", "", 0)},
		{"model", target("", 0, "m-daily", "", 0)},
		{"prompt", target("", 0, "", "p-daily", 0)},
		{"prompt version", target("", 0, "", "p-daily", 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.HypercareDailyAggregates(ctx, tc.target, start, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("HypercareDailyAggregates(%s) has %d days, want %d", tc.target, len(got), len(want))
			}
			for i := range want {
				if !sameAggregates(got[i], want[i]) {
					t.Errorf("day %d of %s = %+v, want %+v", i, tc.target, got[i], want[i])
				}
			}
			// Fewer days stop earlier; other versions or releases see nothing.
			one, err := db.HypercareDailyAggregates(ctx, tc.target, start, 1)
			if err != nil || len(one) != 1 || !sameAggregates(one[0], want[0]) {
				t.Errorf("one day of %s = %+v, %v", tc.target, one, err)
			}
		})
	}
	for _, other := range []hypercare.Target{target("daily", 2, "", "", 0), target("", 0, "", "p-daily", 5)} {
		got, err := db.HypercareDailyAggregates(ctx, other, start, 3)
		if err != nil || len(got) != 3 || got[0].Calls != 0 || got[2].Calls != 0 || got[0].Negative != 0 {
			t.Errorf("days of %s = %+v, %v; want three empty days", other, got, err)
		}
	}
	if got, err := db.HypercareDailyAggregates(ctx, target("daily", 0, "", "", 0), start, 0); err != nil || len(got) != 0 {
		t.Errorf("zero days = %+v, %v; want none", got, err)
	}
}

func hypercareSample(t *testing.T, db *store.DB) {
	ctx := t.Context()
	from := time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)
	var recs []calllog.Record
	// Ten successful calls with latencies 1 to 10 ms in time order,
	// stored out of order; two share an instant and go by id.
	for i, k := range []int{7, 2, 9, 0, 4, 1, 8, 3, 6, 5} {
		at := from.Add(time.Duration(k) * time.Minute)
		if k == 6 {
			at = from.Add(5 * time.Minute) // same instant as k 5; its id sorts after
		}
		recs = append(recs, calllog.Record{ID: fmt.Sprintf("hs-%02d-%d", k, i), Time: at, Endpoint: "/v1/chat/completions",
			Service: "sampled", Model: "m-s", Prompt: "p-s", PromptVersion: 1, Release: 1, Status: 200,
			LatencyUS: int64(k+1) * 1000})
	}
	// Left out: a failure, a probe, a call after the period.
	recs = append(recs,
		calllog.Record{ID: "hs-fail", Time: from.Add(30 * time.Second), Endpoint: "/v1/chat/completions", Service: "sampled",
			Model: "m-s", Prompt: "p-s", PromptVersion: 1, Release: 1, Status: 500, LatencyUS: 99000},
		calllog.Record{ID: "hs-probe", Time: from.Add(90 * time.Second), Endpoint: "/v1/chat/completions", Service: "sampled",
			Model: "m-s", Prompt: "p-s", PromptVersion: 1, Release: 1, Status: 200, LatencyUS: 98000, Synthetic: true},
		calllog.Record{ID: "hs-late", Time: from.Add(time.Hour), Endpoint: "/v1/chat/completions", Service: "sampled",
			Model: "m-s", Prompt: "p-s", PromptVersion: 1, Release: 1, Status: 200, LatencyUS: 97000},
	)
	if err := db.InsertCallsAndRollups(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ms := func(v ...int64) []int64 {
		for i := range v {
			v[i] *= 1000
		}
		return v
	}
	targets := []hypercare.Target{{Service: "sampled"}, {Service: "sampled", Release: 1}, {Model: "m-s"},
		{Prompt: "p-s"}, {Prompt: "p-s", PromptVersion: 1}}
	for _, tc := range []struct {
		name string
		max  int
		want []int64
	}{
		{"all of them", 10, ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
		{"room to spare", 20000, ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
		{"every other", 5, ms(1, 3, 5, 7, 9)},
		{"every fourth", 3, ms(1, 5, 9)},
		{"every second, capped", 9, ms(1, 3, 5, 7, 9)},
		{"the first", 1, ms(1)},
		{"none asked", 0, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range targets {
				got, err := db.HypercareLatencySample(ctx, target, from, from.Add(time.Hour), tc.max)
				if err != nil {
					t.Fatal(err)
				}
				if got == nil || !slices.Equal(got, tc.want) {
					t.Errorf("HypercareLatencySample(%s, max %d) = %v, want %v", target, tc.max, got, tc.want)
				}
			}
		})
	}
	if got, err := db.HypercareLatencySample(ctx, hypercare.Target{Service: "sampled", Release: 2}, from, from.Add(time.Hour), 10); err != nil ||
		got == nil || len(got) != 0 {
		t.Errorf("sample of another release = %v, %v; want an empty slice", got, err)
	}
}

func hypercareReports(t *testing.T, db *store.DB) {
	ctx := t.Context()
	at := time.Date(2026, 6, 1, 9, 0, 0, 123456789, time.UTC)
	report := func(window string, at time.Time, summary string, ready bool) hypercare.StoredReport {
		r := &hypercare.Report{Window: window, Target: "service bot", State: hypercare.StateActive, At: at,
			Summary: summary, Alpha: 0.05, MinEffect: 0.05, MinCalls: 100, MinFeedback: 30, Method: "figures",
			Period: hypercare.Period{From: at.Add(-hypercare.Day), To: at, Calls: 12, Feedback: 3},
			Metrics: []hypercare.Metric{{Metric: hypercare.MetricErrorRate, Label: "Error rate", Unit: "ratio", Better: "lower",
				Verdict: hypercare.Regressed, Text: "Error rate regressed."}}}
		if ready {
			since := at.Add(-time.Hour)
			r.State = hypercare.StateReadyToExit
			r.Exit = &hypercare.Exit{Days: 1, Ready: true, Since: &since, Streak: 1, History: []hypercare.ExitDay{}}
		}
		return hypercare.Stored(r, at.Add(time.Minute))
	}
	first := report("launch", at, "Worse than before on error rate.", false)
	if ok, err := db.SaveHypercareReport(ctx, first); err != nil || !ok {
		t.Fatalf("SaveHypercareReport(day 1) = %v, %v; want stored", ok, err)
	}
	// Another node's report of the same day is not stored: the first stays.
	again := report("launch", at.Add(time.Hour), "a later take", true)
	if ok, err := db.SaveHypercareReport(ctx, again); err != nil || ok {
		t.Fatalf("SaveHypercareReport(day 1 again) = %v, %v; want not stored", ok, err)
	}
	second := report("launch", at.Add(hypercare.Day), "Ready.", true)
	if ok, err := db.SaveHypercareReport(ctx, second); err != nil || !ok {
		t.Fatalf("SaveHypercareReport(day 2) = %v, %v; want stored", ok, err)
	}
	if ok, err := db.SaveHypercareReport(ctx, report("other", at, "other window", false)); err != nil || !ok {
		t.Fatalf("SaveHypercareReport(other window) = %v, %v", ok, err)
	}
	for _, bad := range []hypercare.StoredReport{
		{Day: "2026-06-01", Report: first.Report},
		{Window: "launch", Report: first.Report},
		{Window: "launch", Day: "2026-06-03"},
	} {
		if _, err := db.SaveHypercareReport(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SaveHypercareReport(%+v) = %v, want ErrInvalid", bad, err)
		}
	}

	// What comes back is what was stored, times at the store's microseconds.
	norm := func(r hypercare.StoredReport) string {
		r.At, r.CreatedAt = stored(r.At), stored(r.CreatedAt)
		if r.ReadySince != nil {
			s := stored(*r.ReadySince)
			r.ReadySince = &s
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name   string
		window string
		limit  int
		want   []hypercare.StoredReport
	}{
		{"all, the latest day first", "launch", 0, []hypercare.StoredReport{second, first}},
		{"the latest", "launch", 1, []hypercare.StoredReport{second}},
		{"more than there are", "launch", 10, []hypercare.StoredReport{second, first}},
		{"another window", "other", 0, []hypercare.StoredReport{report("other", at, "other window", false)}},
		{"no reports", "nothing", 0, []hypercare.StoredReport{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ListHypercareReports(ctx, tc.window, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("ListHypercareReports returned nil, want an empty slice")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ListHypercareReports(%s, %d) has %d reports, want %d", tc.window, tc.limit, len(got), len(tc.want))
			}
			for i := range got {
				if g, w := norm(got[i]), norm(tc.want[i]); g != w {
					t.Errorf("report %d:\n got %s\nwant %s", i, g, w)
				}
			}
		})
	}
	if got, _ := db.ListHypercareReports(ctx, "launch", 1); len(got) == 1 &&
		(!got[0].Ready || got[0].ReadySince == nil || got[0].State != hypercare.StateReadyToExit || got[0].Day != "2026-06-02") {
		t.Errorf("the latest report's standing: %+v", got[0])
	}
}
