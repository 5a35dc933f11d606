package alert_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
)

// TestNegativeFeedbackRatio judges the share of thumbs-down given in the
// window, per model, once enough feedback (not calls) is in: min_requests
// counts the boolean feedback.
func TestNegativeFeedbackRatio(t *testing.T) {
	rule := config.Alert{Name: "unhappy", Metric: "negative_feedback_ratio", GroupBy: []string{"model"},
		Window: config.Duration(5 * time.Minute), Threshold: config.AlertThreshold{Critical: ptr(0.5)}, MinRequests: 4}
	f := newFixture(t, rule)
	f.calls(t, "web-shop", 20, 0) // many calls, no feedback yet
	give := func(n int, helpful bool) {
		t.Helper()
		polarity := feedback.PolarityNegative
		if helpful {
			polarity = feedback.PolarityPositive
		}
		for range n {
			f.seq++
			fb := feedback.Feedback{ID: fmt.Sprint("fb", f.seq), RequestID: fmt.Sprint("c", f.seq), Consumer: "web-shop", Name: "helpful",
				Value: feedback.BoolValue(helpful), Polarity: polarity, UpdatedAt: f.clock.Now(),
				Call: calllog.CallSummary{Consumer: "web-shop", Model: "gpt-4o-mini", Provider: "openai-main", Status: 200}}
			if _, _, err := f.db.UpsertFeedback(t.Context(), fb); err != nil {
				t.Fatal(err)
			}
		}
	}
	model := map[string]string{"model": "gpt-4o-mini"}
	give(3, false)
	// 3 feedback values are under min_requests, however many calls there
	// are: no data, and a quiet group of a grouped rule is not kept.
	if g := f.eval(t, model); g.State != "absent" {
		t.Fatalf("3 thumbs-down among 20 calls: %+v; want no data", g)
	}
	give(1, true)
	g := f.eval(t, model)
	if g.State != alert.StateFiring || g.Value == nil || *g.Value != 0.75 {
		t.Fatalf("3 of 4 negative: %+v, want firing at 0.75", g)
	}
	f.clock.Add(10 * time.Minute) // the feedback leaves the window
	give(4, true)
	if g := f.eval(t, model); g.State != alert.StateResolved || *g.Value != 0 {
		t.Fatalf("4 of 4 positive: %+v, want resolved at 0", g)
	}
	n := f.rc.waitFor(t, 2)
	if n[0].Status != alert.StatusFiring || n[1].Status != alert.StatusResolved {
		t.Errorf("notifications %s, %s; want firing then resolved", n[0].Status, n[1].Status)
	}
}

// probeRuns is a ProbeReader over fixed counts, checking the window it is
// asked for.
type probeRuns struct {
	runs        []alert.ProbeRuns
	since, upto time.Time
}

func (p *probeRuns) ProbeRuns(_ context.Context, since, until time.Time) ([]alert.ProbeRuns, error) {
	p.since, p.upto = since, until
	return p.runs, nil
}

// TestProbeMetrics counts failed probe runs per probe, or their share,
// with the runs as the group's request count.
func TestProbeMetrics(t *testing.T) {
	runs := &probeRuns{runs: []alert.ProbeRuns{{Probe: "chat", Runs: 10, Failures: 4}, {Probe: "orders", Runs: 2, Failures: 2}}}
	tests := []struct {
		name string
		rule config.Alert
		want map[string]string // probe → state and value
	}{
		{"failures per probe", config.Alert{Metric: config.MetricProbeFailures, GroupBy: []string{"probe"},
			Threshold: config.AlertThreshold{Critical: ptr(3)}},
			map[string]string{"chat": "firing 4", "orders": "ok 2"}},
		{"failure rate, enough runs", config.Alert{Metric: config.MetricProbeFailureRate, GroupBy: []string{"probe"},
			Threshold: config.AlertThreshold{Critical: ptr(0.3)}, MinRequests: 5},
			map[string]string{"chat": "firing 0.4"}}, // orders' 2 runs are under min_requests: no data
		{"one probe", config.Alert{Metric: config.MetricProbeFailures, Filter: map[string]string{"probe": "orders"},
			Threshold: config.AlertThreshold{Critical: ptr(1)}},
			map[string]string{"": "firing 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rule := tc.rule
			rule.Name, rule.Window = "probes", config.Duration(10*time.Minute)
			f := newFixture(t, rule)
			ev := alert.New(alert.Options{Reader: f.db, Store: f.db, Now: f.clock.Now, Probes: runs})
			if err := ev.SetConfig(&config.Config{Alerts: []config.Alert{rule}}); err != nil {
				t.Fatal(err)
			}
			if err := ev.Evaluate(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, g := range ev.Status()[0].Groups {
				got[g.Labels["probe"]] = fmt.Sprintf("%s %g", g.State, *g.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
			if want := f.clock.Now().Add(-10 * time.Minute); !runs.since.Equal(want) || runs.upto.Before(f.clock.Now()) {
				t.Errorf("read runs from %v to %v, want the 10m window ending now", runs.since, runs.upto)
			}
		})
	}
}
