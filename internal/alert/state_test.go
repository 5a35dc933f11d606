package alert_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// node is an evaluator over the fixture's store, as on one gateway node:
// its own sender, the fixture's receiver, the stored states and, with a
// holder, the lease.
func (f *fixture) node(t *testing.T, rule config.Alert, holder string, opts ...func(*alert.Options)) *alert.Evaluator {
	t.Helper()
	sender := alert.NewSender(alert.SenderOptions{Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Attempts: 4})
	t.Cleanup(func() { sender.Close(context.Background()) })
	o := alert.Options{Reader: f.db, Store: f.db, States: f.db, Sender: sender, Now: f.clock.Now}
	if holder != "" {
		o.Leases, o.Holder, o.LeaseTTL = f.db, holder, 45*time.Second
	}
	for _, opt := range opts {
		opt(&o)
	}
	ev := alert.New(o)
	rule.Notify = []string{"ops"}
	cfg := &config.Config{
		Notifiers: []config.Notifier{{Name: "ops", Type: config.NotifierWebhook, URL: f.rc.srv.URL, Secret: "env:ALERT_TEST_SECRET"}},
		Alerts:    []config.Alert{rule},
	}
	if err := ev.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return ev
}

// group evaluates ev once and returns the state of its group with labels.
func group(t *testing.T, ev *alert.Evaluator, labels map[string]string) alert.GroupStatus {
	t.Helper()
	if err := ev.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, g := range ev.Status()[0].Groups {
		if labelsEqual(g.Labels, labels) {
			return g
		}
	}
	return alert.GroupStatus{State: "absent"}
}

func labelsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// settled waits for the notifications in flight and returns their
// statuses, in order.
func (f *fixture) settled(t *testing.T, n int) []string {
	t.Helper()
	f.rc.waitFor(t, n)
	time.Sleep(50 * time.Millisecond) // time for one too many to arrive
	var out []string
	for _, got := range f.rc.notifications() {
		out = append(out, got.Status)
	}
	return out
}

func history(t *testing.T, f *fixture) []alert.State {
	t.Helper()
	evs, err := f.db.AlertEvents(t.Context(), alert.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []alert.State
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].To)
	}
	return out
}

// TestStateSurvivesRestart restarts the evaluator (a new one on the same
// store) while a group is pending and again while it fires: the pending
// group keeps the time its condition started to hold, so it fires when
// for has passed since then; the firing group is not notified a second
// time, and resolves later with one resolve notification.
func TestStateSurvivesRestart(t *testing.T) {
	rule := errorRule()
	f := newFixture(t, rule)
	shop := map[string]string{"consumer": "web-shop"}
	start := f.clock.Now()

	f.calls(t, "web-shop", 2, 8)
	if g := group(t, f.node(t, rule, ""), shop); g.State != alert.StatePending {
		t.Fatalf("first crossing: %+v, want pending", g)
	}
	f.clock.Add(15 * time.Second)
	if g := group(t, f.node(t, rule, ""), shop); g.State != alert.StatePending || g.ActiveSince == nil || !g.ActiveSince.Equal(start) {
		t.Fatalf("after a restart: %+v, want pending since %v", g, start)
	}
	f.clock.Add(15 * time.Second)
	ev := f.node(t, rule, "")
	if g := group(t, ev, shop); g.State != alert.StateFiring {
		t.Fatalf("for after the condition started, across restarts: %+v, want firing", g)
	}
	if got := f.settled(t, 1); len(got) != 1 || got[0] != alert.StatusFiring {
		t.Fatalf("notifications %v, want one firing", got)
	}

	f.clock.Add(15 * time.Second)
	ev = f.node(t, rule, "")
	if g := group(t, ev, shop); g.State != alert.StateFiring || g.Severity != alert.SeverityCritical {
		t.Fatalf("firing after a restart: %+v, want firing critical", g)
	}
	// The failures leave the window; successes take their place.
	f.clock.Add(90 * time.Second)
	f.calls(t, "web-shop", 10, 0)
	if g := group(t, ev, shop); g.State != alert.StateResolved {
		t.Fatalf("after healing: %+v, want resolved", g)
	}
	f.clock.Add(15 * time.Second)
	if g := group(t, f.node(t, rule, ""), shop); g.State != alert.StateResolved {
		t.Fatalf("resolved after a restart: %+v, want resolved", g)
	}
	if got := f.settled(t, 2); len(got) != 2 || got[1] != alert.StatusResolved {
		t.Fatalf("notifications %v, want firing then resolved, once each", got)
	}
	if got := history(t, f); len(got) != 3 || got[0] != alert.StatePending || got[1] != alert.StateFiring || got[2] != alert.StateResolved {
		t.Errorf("history %v, want pending firing resolved", got)
	}
}

// TestChangedRuleStartsOverAfterRestart checks that the stored states of
// an earlier definition of a rule are not taken up, and are removed.
func TestChangedRuleStartsOverAfterRestart(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	shop := map[string]string{"consumer": "web-shop"}
	f.calls(t, "web-shop", 0, 5)
	if g := group(t, f.node(t, rule, ""), shop); g.State != alert.StateFiring {
		t.Fatalf("%+v, want firing", g)
	}
	changed := rule
	changed.For = config.Duration(time.Minute)
	if g := group(t, f.node(t, changed, ""), shop); g.State != alert.StatePending {
		t.Fatalf("changed rule after a restart: %+v, want pending, started over", g)
	}
	states, err := f.db.AlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].State != alert.StatePending {
		t.Errorf("stored states %+v, want only the new definition's pending group", states)
	}
}

// TestLeaseElectsOneEvaluator runs two evaluators on one store, as two
// gateway nodes: only the lease holder notifies, the other shows the same
// states; when the holder stops renewing, the other takes over from the
// stored states without notifying again; a released lease passes on at
// the next evaluation.
func TestLeaseElectsOneEvaluator(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	shop := map[string]string{"consumer": "web-shop"}
	a, b := f.node(t, rule, "node-a"), f.node(t, rule, "node-b")
	statusJSON := func(ev *alert.Evaluator) string {
		b, err := json.Marshal(ev.Status())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	f.calls(t, "web-shop", 0, 5)
	for range 3 {
		if g := group(t, a, shop); g.State != alert.StateFiring {
			t.Fatalf("leader: %+v, want firing", g)
		}
		if g := group(t, b, shop); g.State != alert.StateFiring {
			t.Fatalf("follower: %+v, want the leader's firing", g)
		}
		if sa, sb := statusJSON(a), statusJSON(b); sa != sb {
			t.Fatalf("the nodes disagree:\nleader   %s\nfollower %s", sa, sb)
		}
		f.clock.Add(15 * time.Second)
	}
	if !a.Leader() || b.Leader() {
		t.Fatalf("Leader() = %v, %v; want the first to evaluate the only one", a.Leader(), b.Leader())
	}
	if got := f.settled(t, 1); len(got) != 1 {
		t.Fatalf("notifications %v, want one firing from one node", got)
	}

	// a stops renewing (it hangs, or its node died). Its lease was last
	// renewed 15s ago and lasts 45s.
	f.clock.Add(15 * time.Second)
	if group(t, b, shop); b.Leader() {
		t.Fatal("the follower took a lease that had not expired")
	}
	f.clock.Add(15 * time.Second)
	f.calls(t, "web-shop", 0, 5)
	if g := group(t, b, shop); !b.Leader() || g.State != alert.StateFiring {
		t.Fatalf("after the lease expired: leader %v, %+v; want b evaluating, still firing", b.Leader(), g)
	}
	if got := f.settled(t, 1); len(got) != 1 {
		t.Fatalf("notifications %v: the new leader notified again of what fired already", got)
	}
	// a is back: it follows.
	if g := group(t, a, shop); a.Leader() || g.State != alert.StateFiring {
		t.Fatalf("former leader: leader %v, %+v; want following", a.Leader(), g)
	}

	// b resolves, and is the only one to say so.
	f.clock.Add(90 * time.Second)
	f.calls(t, "web-shop", 10, 0)
	for _, ev := range []*alert.Evaluator{a, b, a, b} {
		if g := group(t, ev, shop); g.State != alert.StateResolved {
			t.Fatalf("after healing: %+v, want resolved on both nodes", g)
		}
	}
	if got := f.settled(t, 2); len(got) != 2 || got[1] != alert.StatusResolved {
		t.Fatalf("notifications %v, want firing then one resolved", got)
	}

	// b shuts down gracefully: a takes over at its next evaluation.
	if err := b.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if group(t, a, shop); !a.Leader() || b.Leader() {
		t.Fatalf("after a release: Leader() = %v, %v; want a evaluating at once", a.Leader(), b.Leader())
	}
	if got := history(t, f); len(got) != 2 {
		t.Errorf("history %v, want one firing and one resolved", got)
	}
}

// TestCallLogBaselineAcrossTakeover checks that a node taking the
// evaluation over judges its call log's counters from the samples it took
// while following: records it dropped long before the window do not fire
// the rule, those it drops afterwards do.
func TestCallLogBaselineAcrossTakeover(t *testing.T) {
	rule := config.Alert{Name: "calls-lost", Metric: config.MetricCallLogDropped, Window: config.Duration(time.Minute),
		Threshold: config.AlertThreshold{Critical: ptr(0)}}
	f := newFixture(t, rule)
	var dropped atomic.Uint64
	dropped.Store(5) // before the evaluation started
	counters := func(o *alert.Options) {
		o.CallLog = func() calllog.Stats { return calllog.Stats{Dropped: dropped.Load()} }
	}
	a, b := f.node(t, rule, "node-a"), f.node(t, rule, "node-b", counters)
	for range 4 {
		if g := group(t, a, map[string]string{}); g.State != alert.StateOK {
			t.Fatalf("leader without counters: %+v, want ok", g)
		}
		group(t, b, map[string]string{})
		f.clock.Add(15 * time.Second)
	}
	f.clock.Add(45 * time.Second) // a stopped renewing a while ago
	if g := group(t, b, map[string]string{}); !b.Leader() || g.State != alert.StateOK {
		t.Fatalf("after taking over: leader %v, %+v; want ok, nothing dropped within the window", b.Leader(), g)
	}
	f.clock.Add(15 * time.Second)
	dropped.Add(1)
	if g := group(t, b, map[string]string{}); g.State != alert.StateFiring {
		t.Fatalf("after one more drop: %+v, want firing", g)
	}
}
