package hypercare

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestClassify(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name        string
		better      string
		base, win   *float64
		enough, sig bool
		want        Verdict
	}{
		{"too few calls", betterLower, f(0.01), f(0.05), false, true, NotEnoughData},
		{"no baseline data", betterLower, nil, f(0.05), true, true, NotEnoughData},
		{"significant rise of a lower-is-better metric", betterLower, f(0.01), f(0.05), true, true, Regressed},
		{"significant fall of a lower-is-better metric", betterLower, f(0.05), f(0.01), true, true, Improved},
		{"significant fall of a higher-is-better metric", betterHigher, f(0.9), f(0.7), true, true, Regressed},
		{"significant rise of a higher-is-better metric", betterHigher, f(0.7), f(0.9), true, true, Improved},
		{"large but not significant", betterLower, f(100), f(150), true, false, Unchanged},
		{"significant but tiny (2 %)", betterLower, f(100), f(102), true, true, Unchanged},
		{"significant at exactly the minimum effect", betterLower, f(100), f(105), true, true, Regressed},
		{"from a baseline of zero", betterLower, f(0), f(0.01), true, true, Regressed},
		{"no change at all", betterLower, f(0), f(0), true, true, Unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.better, tt.base, tt.win, tt.enough, tt.sig, 0.05); got != tt.want {
				t.Errorf("Classify = %q, want %q", got, tt.want)
			}
		})
	}
}

// call is a call of the fake source.
type call struct {
	at              time.Time
	status          int
	latencyUS       int64
	tokens          int64
	cost            float64
	flagged         bool
	thumbsUp, thumb bool // thumb: has a thumb; thumbsUp: which
}

// fakeSource answers from a list of calls, as the store would.
type fakeSource struct{ calls []call }

func (s fakeSource) HypercareAggregates(_ context.Context, _ Target, from, to time.Time) (Aggregates, error) {
	var a Aggregates
	for _, c := range s.calls {
		if c.at.Before(from) || !c.at.Before(to) {
			continue
		}
		a.Calls++
		if c.status < 100 || c.status >= 400 {
			a.Errors++
		}
		if c.flagged {
			a.Anomalies++
		}
		tk := float64(c.tokens)
		a.Tokens.Sum, a.Tokens.SumSq = a.Tokens.Sum+tk, a.Tokens.SumSq+tk*tk
		a.Cost.Sum, a.Cost.SumSq = a.Cost.Sum+c.cost, a.Cost.SumSq+c.cost*c.cost
		if c.thumb && c.thumbsUp {
			a.Positive++
		} else if c.thumb {
			a.Negative++
		}
	}
	a.Tokens.N, a.Cost.N = a.Calls, a.Calls
	return a, nil
}

func (s fakeSource) HypercareDailyAggregates(ctx context.Context, t Target, start time.Time, days int) ([]Aggregates, error) {
	out := make([]Aggregates, days)
	for i := range days {
		out[i], _ = s.HypercareAggregates(ctx, t, start.Add(time.Duration(i)*Day), start.Add(time.Duration(i+1)*Day))
	}
	return out, nil
}

func (s fakeSource) HypercareLatencySample(_ context.Context, _ Target, from, to time.Time, max int) ([]int64, error) {
	var all []int64
	for _, c := range s.calls {
		if !c.at.Before(from) && c.at.Before(to) && c.status >= 100 && c.status < 400 {
			all = append(all, c.latencyUS)
		}
	}
	stride := (len(all) + max - 1) / max
	var out []int64
	for i := 0; i < len(all) && len(out) < max; i += max1(stride) {
		out = append(out, all[i])
	}
	return out, nil
}

func max1(n int) int { return max(n, 1) }

// launch is a window whose release doubled the error rate and slowed the
// answers, with the same tokens, cost, anomalies and feedback as before.
func launch() (config.Hypercare, fakeSource) {
	rate := 0.05
	h := config.Hypercare{
		Name: "support-bot-v2", Target: config.HypercareTarget{Service: "support-bot"},
		Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Duration: config.Duration(14 * Day),
		Exit: &config.HypercareExit{ErrorRate: &rate, LatencyP95: config.Duration(2 * time.Second), Days: 2},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var src fakeSource
	add := func(from time.Time, n int, errRate float64, latMS float64) {
		for i := range n {
			c := call{at: from.Add(time.Duration(i) * (3 * Day) / time.Duration(n)), status: 200,
				latencyUS: int64((latMS + rng.ExpFloat64()*latMS/2) * 1000), tokens: 300 + rng.Int64N(50), cost: 0.0004,
				flagged: rng.Float64() < 0.02, thumb: rng.Float64() < 0.2}
			c.thumbsUp = c.thumb && rng.Float64() < 0.8
			if rng.Float64() < errRate {
				c.status = 502
			}
			src.calls = append(src.calls, c)
		}
	}
	add(h.Start.Add(-3*Day), 3000, 0.02, 400)
	add(h.Start, 3000, 0.08, 650)
	return h, src
}

func TestReportVerdicts(t *testing.T) {
	h, src := launch()
	r, err := Build(t.Context(), src, h, h.Start.Add(3*Day), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Verdict{
		MetricLatencyP50: Regressed, MetricLatencyP95: Regressed, MetricLatencyP99: Regressed, MetricErrorRate: Regressed,
		MetricPositiveRatio: Unchanged, MetricAnomalyRate: Unchanged, MetricTokensPerCall: Unchanged, MetricCostPerCall: Unchanged,
	}
	for _, m := range r.Metrics {
		if m.Verdict != want[m.Metric] {
			t.Errorf("%s: %s, want %s (%s)", m.Metric, m.Verdict, want[m.Metric], m.Text)
		}
	}
	if r.Exit == nil || r.Exit.Ready || len(r.Exit.History) != 3 {
		t.Fatalf("exit = %+v", r.Exit)
	}
	if !strings.Contains(r.Exit.Text, "Latency p95") && !strings.Contains(r.Exit.Text, "Error rate") {
		t.Errorf("exit text names no failed criterion: %s", r.Exit.Text)
	}
	// Small samples say so rather than guess.
	few := Options{}
	h.Verdict = &config.HypercareVerdict{MinCalls: 5000, MinFeedback: 5000}
	r, err = Build(t.Context(), src, h, h.Start.Add(3*Day), few)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Metrics {
		if m.Verdict != NotEnoughData {
			t.Errorf("%s: %s with fewer calls than min_calls", m.Metric, m.Verdict)
		}
	}
}

func TestExitReady(t *testing.T) {
	h, src := launch()
	limit := 0.5
	h.Exit = &config.HypercareExit{ErrorRate: &limit, Days: 2}
	r, err := Build(t.Context(), src, h, h.Start.Add(3*Day+time.Hour), Options{Resamples: 50})
	if err != nil {
		t.Fatal(err)
	}
	e := r.Exit
	if !e.Ready || e.Streak != 3 || e.Since == nil || !e.Since.Equal(h.Start.Add(2*Day)) || r.State != StateReadyToExit {
		t.Fatalf("exit = %+v, state %s", e, r.State)
	}
	if !strings.HasPrefix(e.Text, "Ready to leave hypercare since 2026-12-03 09:00 UTC") {
		t.Errorf("text = %q", e.Text)
	}
	// The fourth day has no calls: it fails, and the streak starts over.
	r, _ = Build(t.Context(), src, h, h.Start.Add(4*Day+time.Hour), Options{Resamples: 50})
	if r.Exit.Ready || !strings.Contains(r.Exit.Text, "day 4 (2026-12-04): no calls") {
		t.Errorf("exit text = %q", r.Exit.Text)
	}
}

func TestRenderGolden(t *testing.T) {
	h, src := launch()
	h.Name = "support-bot-v2 <b>&|"
	r, err := Build(t.Context(), src, h, h.Start.Add(3*Day), Options{})
	if err != nil {
		t.Fatal(err)
	}
	html, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"report.md": Markdown(r), "report.html": html} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the golden file; run with -update and review the diff:\n%s", name, got)
			}
		})
	}
	if s := string(html); strings.Contains(s, "<b>") || strings.Contains(s, "<script") {
		t.Error("the HTML report lets markup through or runs a script")
	}
}
