package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/webhook"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiver is a webhook endpoint that records what it gets and can be
// told to fail its first answers.
type receiver struct {
	srv      *httptest.Server
	secret   []byte
	failures atomic.Int32 // answers still to fail
	mu       sync.Mutex
	got      []alert.Notification
	bad      []string // problems with the requests
	attempts atomic.Int32
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: []byte(secret)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.attempts.Add(1)
		body, _ := io.ReadAll(r.Body)
		if rc.failures.Add(-1) >= 0 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		ts := r.Header.Get(alert.TimestampHeader)
		if !webhook.Verify(rc.secret, ts, body, r.Header.Get(alert.SignatureHeader)) {
			rc.bad = append(rc.bad, "bad signature "+r.Header.Get(alert.SignatureHeader))
		}
		var n alert.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			rc.bad = append(rc.bad, err.Error())
		}
		if r.Header.Get(alert.EventHeader) != "alert."+n.Status || r.Header.Get(alert.DeliveryHeader) != n.ID {
			rc.bad = append(rc.bad, "event or delivery header does not match the body")
		}
		rc.got = append(rc.got, n)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// notifications returns what the receiver got, by time: two workers
// deliver in parallel, so arrival order is not notification order.
func (rc *receiver) notifications() []alert.Notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := append([]alert.Notification(nil), rc.got...)
	slices.SortStableFunc(out, func(a, b alert.Notification) int { return a.Time.Compare(b.Time) })
	return out
}

// waitFor polls until the receiver holds n notifications.
func (rc *receiver) waitFor(t *testing.T, n int) []alert.Notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := rc.notifications(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("receiver got %d notifications, want %d", len(rc.notifications()), n)
	return nil
}

type fixture struct {
	db     *store.DB
	clock  *clock
	ev     *alert.Evaluator
	sender *alert.Sender
	rc     *receiver
	seq    int
}

func newFixture(t *testing.T, rule config.Alert) *fixture {
	t.Helper()
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "hg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Setenv("ALERT_TEST_SECRET", "s3cret")
	rc := newReceiver(t, "s3cret")
	sender := alert.NewSender(alert.SenderOptions{Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Attempts: 4})
	t.Cleanup(func() { sender.Close(context.Background()) })
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)}
	ev := alert.New(alert.Options{Reader: db, Store: db, Sender: sender, Now: c.Now})
	rule.Notify = []string{"ops"}
	cfg := &config.Config{
		Notifiers: []config.Notifier{{Name: "ops", Type: config.NotifierWebhook, URL: rc.srv.URL, Secret: "env:ALERT_TEST_SECRET"}},
		Alerts:    []config.Alert{rule},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := ev.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, clock: c, ev: ev, sender: sender, rc: rc}
}

// calls records ok and failed calls of consumer at the clock's now.
func (f *fixture) calls(t *testing.T, consumer string, ok, failed int) {
	t.Helper()
	var recs []calllog.Record
	for i := range ok + failed {
		f.seq++
		status := 200
		if i >= ok {
			status = 500
		}
		recs = append(recs, calllog.Record{ID: fmt.Sprintf("c%d", f.seq), Time: f.clock.Now(), Consumer: consumer,
			Model: "gpt-4o-mini", Provider: "openai-main", Status: status, LatencyUS: 1000})
	}
	if err := f.db.InsertCallsAndRollups(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates once and returns the state of the group with labels.
func (f *fixture) eval(t *testing.T, labels map[string]string) alert.GroupStatus {
	t.Helper()
	if err := f.ev.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.ev.Status()[0].Groups {
		if fmt.Sprint(g.Labels) == fmt.Sprint(labels) {
			return g
		}
	}
	return alert.GroupStatus{State: "absent"}
}

func ptr(v float64) *float64 { return &v }

func errorRule() config.Alert {
	return config.Alert{Name: "errors-high", Metric: "error_rate", Filter: map[string]string{"model": "gpt-4o-mini"},
		GroupBy: []string{"consumer"}, Window: config.Duration(time.Minute),
		Threshold: config.AlertThreshold{Warning: ptr(0.1), Critical: ptr(0.5)},
		For:       config.Duration(30 * time.Second), MinRequests: 4}
}

func TestPendingBecomesFiringAfterFor(t *testing.T) {
	f := newFixture(t, errorRule())
	shop := map[string]string{"consumer": "web-shop"}
	f.calls(t, "web-shop", 2, 8)
	f.calls(t, "quiet", 1, 1) // under min_requests: no data, never fires
	if g := f.eval(t, shop); g.State != alert.StatePending || g.Severity != alert.SeverityCritical {
		t.Fatalf("first crossing: %+v, want pending critical", g)
	}
	// A group without data and nothing to show is not kept.
	if g := f.eval(t, map[string]string{"consumer": "quiet"}); g.State != "absent" {
		t.Errorf("group under min_requests: %+v, want none", g)
	}
	f.clock.Add(15 * time.Second)
	if g := f.eval(t, shop); g.State != alert.StatePending {
		t.Fatalf("before for: %+v, want still pending", g)
	}
	f.clock.Add(15 * time.Second)
	if g := f.eval(t, shop); g.State != alert.StateFiring {
		t.Fatalf("after for: %+v, want firing", g)
	}
	f.eval(t, shop) // still firing: no second notification
	got := f.rc.waitFor(t, 1)
	time.Sleep(50 * time.Millisecond)
	if got = f.rc.notifications(); len(got) != 1 {
		t.Fatalf("got %d notifications, want 1", len(got))
	}
	n := got[0]
	if n.Status != alert.StatusFiring || n.Rule != "errors-high" || len(n.Alerts) != 1 ||
		n.Alerts[0].Labels["consumer"] != "web-shop" || n.Alerts[0].Severity != alert.SeverityCritical ||
		n.Alerts[0].Value == nil || *n.Alerts[0].Value != 0.8 {
		t.Errorf("notification = %+v", n)
	}
	u, err := url.Parse(n.Alerts[0].CallsURL)
	if err != nil || u.Path != "/admin/v1/calls" || u.Query().Get("model") != "gpt-4o-mini" ||
		u.Query().Get("consumer") != "web-shop" || u.Query().Get("since") == "" || u.Query().Get("until") == "" {
		t.Errorf("calls link = %q", n.Alerts[0].CallsURL)
	}
	if len(f.rc.bad) > 0 {
		t.Errorf("bad requests: %v", f.rc.bad)
	}
	evs, err := f.db.AlertEvents(t.Context(), alert.EventQuery{Rule: "errors-high"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].To != alert.StateFiring || evs[1].To != alert.StatePending {
		t.Errorf("history = %+v, want ok→pending, pending→firing", evs)
	}
}

func TestKeepFiringForPreventsFlapping(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	rule.KeepFiringFor = config.Duration(2 * time.Minute)
	f := newFixture(t, rule)
	shop := map[string]string{"consumer": "web-shop"}
	f.calls(t, "web-shop", 0, 5)
	if g := f.eval(t, shop); g.State != alert.StateFiring {
		t.Fatalf("for 0: %+v, want firing at once", g)
	}
	// The window moves past the failures and sees only successes.
	f.clock.Add(90 * time.Second)
	f.calls(t, "web-shop", 10, 0)
	if g := f.eval(t, shop); g.State != alert.StateFiring {
		t.Fatalf("cleared for less than keep_firing_for: %+v, want still firing", g)
	}
	f.clock.Add(45 * time.Second)
	f.calls(t, "web-shop", 10, 0)
	if g := f.eval(t, shop); g.State != alert.StateResolved {
		t.Fatalf("cleared for keep_firing_for: %+v, want resolved", g)
	}
	f.clock.Add(15 * time.Second)
	f.calls(t, "web-shop", 10, 0)
	f.eval(t, shop)
	got := f.rc.waitFor(t, 2)
	time.Sleep(50 * time.Millisecond)
	if got = f.rc.notifications(); len(got) != 2 || got[0].Status != alert.StatusFiring || got[1].Status != alert.StatusResolved {
		t.Fatalf("notifications = %+v, want one firing then one resolved", got)
	}
	if got[1].Alerts[0].State != alert.StateResolved {
		t.Errorf("resolved notice = %+v", got[1].Alerts[0])
	}
}

func TestSilenceSuppresses(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	now := f.clock.Now()
	if err := f.db.InsertSilence(t.Context(), alert.Silence{ID: "sil_1", Start: now.Add(-time.Minute), End: now.Add(time.Hour),
		Author: "user:ana@example.com", Matchers: []alert.Matcher{{Name: alert.RuleLabel, Value: "errors-high"}, {Name: "consumer", Value: "web-.*", Regex: true}}}); err != nil {
		t.Fatal(err)
	}
	f.calls(t, "web-shop", 0, 5)
	f.calls(t, "mobile", 0, 5)
	if g := f.eval(t, map[string]string{"consumer": "web-shop"}); g.State != alert.StateFiring || !g.Silenced {
		t.Fatalf("silenced group: %+v, want firing and silenced", g)
	}
	got := f.rc.waitFor(t, 1)
	time.Sleep(50 * time.Millisecond)
	if got = f.rc.notifications(); len(got) != 1 || len(got[0].Alerts) != 1 || got[0].Alerts[0].Labels["consumer"] != "mobile" {
		t.Fatalf("notifications = %+v, want only mobile's", got)
	}
	evs, _ := f.db.AlertEvents(t.Context(), alert.EventQuery{})
	silenced := 0
	for _, e := range evs {
		if e.Silenced {
			silenced++
		}
	}
	if len(evs) != 2 || silenced != 1 {
		t.Errorf("history = %+v, want two firings, one silenced", evs)
	}
}

func TestNoDataPolicies(t *testing.T) {
	tests := []struct {
		policy string
		want   alert.State
	}{
		{config.NoDataOK, alert.StateResolved},
		{config.NoDataKeep, alert.StateFiring},
		{config.NoDataAlert, alert.StateFiring},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			rule := errorRule()
			rule.GroupBy, rule.For, rule.NoData = nil, 0, tt.policy
			f := newFixture(t, rule)
			f.calls(t, "web-shop", 0, 5)
			if g := f.eval(t, map[string]string{}); g.State != alert.StateFiring {
				t.Fatalf("%+v, want firing", g)
			}
			f.clock.Add(3 * time.Minute) // no calls in the window any more
			if g := f.eval(t, map[string]string{}); g.State != tt.want || g.Value != nil {
				t.Errorf("without data: %+v, want %s", g, tt.want)
			}
		})
	}
}

func TestSeverityAndOperators(t *testing.T) {
	rule := config.Alert{Name: "traffic-low", Metric: "requests", Operator: "<", Window: config.Duration(time.Minute),
		Threshold: config.AlertThreshold{Warning: ptr(5), Critical: ptr(2)}, NoData: config.NoDataOK}
	f := newFixture(t, rule)
	f.calls(t, "web-shop", 3, 0)
	if g := f.eval(t, map[string]string{}); g.State != alert.StateFiring || g.Severity != alert.SeverityWarning {
		t.Fatalf("3 requests: %+v, want firing warning", g)
	}
	f.clock.Add(2 * time.Minute)
	f.calls(t, "web-shop", 1, 0)
	if g := f.eval(t, map[string]string{}); g.State != alert.StateFiring || g.Severity != alert.SeverityCritical {
		t.Fatalf("1 request: %+v, want firing critical", g)
	}
	got := f.rc.waitFor(t, 2)
	if got[1].Alerts[0].Severity != alert.SeverityCritical {
		t.Errorf("escalation notice = %+v", got[1].Alerts[0])
	}
}

func TestFailingReceiverIsRetried(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	f.rc.failures.Store(2)
	f.calls(t, "web-shop", 0, 5)
	f.eval(t, map[string]string{"consumer": "web-shop"})
	f.rc.waitFor(t, 1)
	if a := f.rc.attempts.Load(); a != 3 {
		t.Errorf("attempts = %d, want 3 (two failures, one success)", a)
	}
	// The receiver has the body before the sender counts the delivery.
	deadline := time.Now().Add(5 * time.Second)
	st := f.sender.Stats()
	for st.Delivered == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		st = f.sender.Stats()
	}
	if st.Delivered != 1 || st.Retries != 2 || st.Failed != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestReceiverThatNeverAnswersIsCounted(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	f.rc.failures.Store(100)
	f.calls(t, "web-shop", 0, 5)
	f.eval(t, map[string]string{"consumer": "web-shop"})
	deadline := time.Now().Add(5 * time.Second)
	for f.sender.Stats().Failed == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := f.sender.Stats(); st.Failed != 1 || st.Delivered != 0 || st.Retries != 3 {
		t.Errorf("stats = %+v, want one failure after 4 attempts", st)
	}
}

func TestCallLogCounter(t *testing.T) {
	rule := config.Alert{Name: "calls-lost", Metric: config.MetricCallLogDropped, Window: config.Duration(time.Minute),
		Threshold: config.AlertThreshold{Critical: ptr(0)}}
	f := newFixture(t, rule)
	var dropped atomic.Uint64
	ev := alert.New(alert.Options{Reader: f.db, Store: f.db, Now: f.clock.Now,
		CallLog: func() calllog.Stats { return calllog.Stats{Dropped: dropped.Load()} }})
	if err := ev.SetConfig(&config.Config{Alerts: []config.Alert{rule}}); err != nil {
		t.Fatal(err)
	}
	state := func() alert.State {
		if err := ev.Evaluate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return ev.Status()[0].Groups[0].State
	}
	if s := state(); s != alert.StateOK {
		t.Fatalf("nothing dropped: %s", s)
	}
	f.clock.Add(30 * time.Second)
	dropped.Store(3)
	if s := state(); s != alert.StateFiring {
		t.Fatalf("3 dropped: %s, want firing", s)
	}
	f.clock.Add(90 * time.Second) // the window no longer holds the increase
	if s := state(); s != alert.StateResolved {
		t.Fatalf("nothing dropped in the window: %s, want resolved", s)
	}
}

func TestSlackText(t *testing.T) {
	n := alert.Notification{Status: alert.StatusFiring, Rule: "errors-high", Metric: "error_rate", Operator: ">",
		Threshold: config.AlertThreshold{Warning: ptr(0.05), Critical: ptr(0.2)}, Window: "5m",
		Alerts: []alert.Notice{{Labels: map[string]string{"consumer": "web-shop"}, Severity: alert.SeverityCritical,
			Value: ptr(0.31), CallsURL: "/admin/v1/calls?consumer=web-shop"}}}
	want := "[FIRING critical] errors-high: error_rate > warning 0.05 / critical 0.2 over 5m\n• consumer=web-shop: 0.31 </admin/v1/calls?consumer=web-shop|calls>"
	if got := alert.SlackText(n); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(alert.SlackText(alert.Notification{Status: "resolved", Alerts: []alert.Notice{{}}}), "all calls: no data") {
		t.Error("a notice without labels or value")
	}
}

func TestSilenceValidate(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := alert.Silence{Matchers: []alert.Matcher{{Name: "rule", Value: "x"}}, Start: at, End: at.Add(time.Hour), Author: "a"}
	tests := []struct {
		name string
		edit func(*alert.Silence)
		want string
	}{
		{"valid", func(*alert.Silence) {}, ""},
		{"no matchers", func(s *alert.Silence) { s.Matchers = nil }, "needs 1 to"},
		{"bad regex", func(s *alert.Silence) { s.Matchers = []alert.Matcher{{Name: "rule", Value: "(", Regex: true}} }, "matchers[0].value"},
		{"end before start", func(s *alert.Silence) { s.End = s.Start.Add(-time.Second) }, "an end after it"},
		{"no author", func(s *alert.Silence) { s.Author = " " }, "needs an author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSetConfig checks that an unchanged rule keeps its states across a
// configuration change, a changed one starts over, and a notifier whose
// secret does not resolve is reported and its notifications counted as
// failed rather than lost silently.
func TestSetConfig(t *testing.T) {
	rule := errorRule()
	rule.For = 0
	f := newFixture(t, rule)
	shop := map[string]string{"consumer": "web-shop"}
	f.calls(t, "web-shop", 0, 5)
	if g := f.eval(t, shop); g.State != alert.StateFiring {
		t.Fatalf("%+v, want firing", g)
	}
	ops := config.Notifier{Name: "ops", Type: config.NotifierWebhook, URL: f.rc.srv.URL, Secret: "env:ALERT_TEST_SECRET"}
	rule.Notify = []string{"ops"}
	if err := f.ev.SetConfig(&config.Config{Notifiers: []config.Notifier{ops}, Alerts: []config.Alert{rule}}); err != nil {
		t.Fatal(err)
	}
	if g := f.ev.Status()[0].Groups; len(g) != 1 || g[0].State != alert.StateFiring {
		t.Errorf("unchanged rule: groups %+v, want still firing", g)
	}
	changed := rule
	changed.Threshold.Critical = ptr(0.9)
	ops.Secret = "env:ALERT_TEST_SECRET_MISSING"
	err := f.ev.SetConfig(&config.Config{Notifiers: []config.Notifier{ops}, Alerts: []config.Alert{changed}})
	if err == nil || !strings.Contains(err.Error(), "notifier ops") {
		t.Errorf("unresolvable secret: err = %v", err)
	}
	if g := f.ev.Status()[0].Groups; len(g) != 0 {
		t.Errorf("changed rule: groups %+v, want none yet", g)
	}
	f.eval(t, shop) // fires again under the new rule, to a notifier that is unavailable
	deadline := time.Now().Add(5 * time.Second)
	for f.sender.Stats().Failed == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := f.sender.Stats(); st.Failed != 1 {
		t.Errorf("stats = %+v, want the unavailable notifier's notification failed", st)
	}
}
