package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// DefaultInterval is how often rules are evaluated unless told otherwise.
const DefaultInterval = 15 * time.Second

// Options configures an Evaluator.
type Options struct {
	// Reader reads the analytics rollups; the store implements it.
	Reader analytics.Reader
	// Store keeps the history and the silences.
	Store Store
	// CallLog returns the call log recorder's counters, for the
	// calllog_spilled and calllog_dropped metrics; nil leaves them without
	// data.
	CallLog func() calllog.Stats
	// Probes counts the synthetic probes' runs, for the probe metrics; nil
	// leaves them without data.
	Probes ProbeReader
	// Sender delivers notifications; nil records transitions without
	// notifying anyone.
	Sender *Sender
	// Now is the clock; time.Now when nil. Tests drive evaluations with a
	// fake one.
	Now func() time.Time
	// CallsURL is the address of the admin API's call list, linked from
	// notifications; default "/admin/v1/calls" (relative to wherever the
	// admin API is reached).
	CallsURL string
	Logger   *slog.Logger
	// States keeps the groups' states in the store, so that a firing group
	// stays firing across a restart without a second notification and a
	// pending one keeps its start; nil keeps them in memory only.
	States StateStore
	// Leases, when set, lets one evaluator among those sharing the store
	// evaluate and notify: the holder of the lease LeaseName. The others
	// show the stored states, read again at each Evaluate. nil: this
	// evaluator always evaluates.
	Leases Leases
	// Holder names this evaluator in the lease; unique among the nodes. A
	// random name when empty.
	Holder string
	// LeaseTTL is how long the lease lasts unless Evaluate renews it;
	// DefaultLeaseTTL when zero. A few intervals, so that another node
	// takes over soon after the holder stops, but not at its first slow
	// evaluation.
	LeaseTTL time.Duration
}

// GroupStatus is the state of one group of a rule.
type GroupStatus struct {
	Labels   map[string]string `json:"labels"`
	State    State             `json:"state"`
	Severity Severity          `json:"severity,omitempty"`
	// Value is the metric at the last evaluation; nil without data.
	Value    *float64 `json:"value"`
	Requests int64    `json:"requests"`
	// Since is when the group entered its state.
	Since time.Time `json:"since"`
	// ActiveSince is when its condition started to hold (pending and
	// firing groups).
	ActiveSince *time.Time `json:"active_since,omitempty"`
	// Silenced is set when an active silence matches the group.
	Silenced bool      `json:"silenced"`
	LastEval time.Time `json:"last_eval"`
}

// RuleStatus is a rule with the state of each of its groups.
type RuleStatus struct {
	Rule   config.Alert  `json:"rule"`
	Groups []GroupStatus `json:"groups"`
	// LastEval is the time of the rule's last evaluation; Error what went
	// wrong with it, if anything.
	LastEval *time.Time `json:"last_eval,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// group is the evaluator's memory of one group.
type group struct {
	labels      map[string]string
	state       State
	severity    Severity
	value       *float64
	requests    int64
	since       time.Time
	activeSince time.Time // when the condition started holding
	lastActive  time.Time // the last evaluation at which it held
	lastEval    time.Time
}

type rule struct {
	def      config.Alert
	groups   map[string]*group
	lastEval time.Time
	err      string
	hash     string // of def, once computed (hashOf)
}

// counterSample is the call log's counters at one evaluation.
type counterSample struct {
	at               time.Time
	spilled, dropped uint64
}

// Evaluator evaluates the alert rules. SetConfig gives it the rules and
// notifiers; Evaluate evaluates them once (the caller runs it on a timer).
type Evaluator struct {
	o   Options
	log *slog.Logger

	evalMu sync.Mutex // one evaluation at a time; guards what follows
	// loaded is set once the stored states are in the rules: after start,
	// and again after each time the lease was lost.
	loaded bool
	// persisted is what the store holds, as of the last load or save, by
	// stateID.
	persisted  map[string]GroupState
	leaseUntil time.Time   // when the lease held expires, by this node's clock
	leader     atomic.Bool // holds the lease

	mu        sync.Mutex // guards what follows
	rules     []*rule
	notifiers map[string]Target
	samples   []counterSample
	pruned    time.Time       // the last pruning of the history
	silenced  map[string]bool // rule + labels key → silenced at the last evaluation
}

// New returns an evaluator without rules.
func New(o Options) *Evaluator {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.CallsURL = cmp.Or(o.CallsURL, "/admin/v1/calls")
	o.LeaseTTL = cmp.Or(o.LeaseTTL, DefaultLeaseTTL)
	if o.Holder == "" {
		o.Holder = NewID("evaluator-")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Evaluator{o: o, log: log.With("component", "alerts"), notifiers: map[string]Target{}}
}

// SetConfig replaces the rules and notifiers. A rule whose definition is
// unchanged keeps its groups' states; a changed rule starts over. A
// notifier whose secret cannot be resolved is left out, and the error
// says so; the others are kept.
func (e *Evaluator) SetConfig(c *config.Config) error {
	targets := map[string]Target{}
	var errs []error
	for _, n := range c.Notifiers {
		t := Target{Name: n.Name, Type: n.Type, URL: n.URL, From: n.From, To: n.To, Username: n.Username}
		if n.Secret != "" {
			s, err := config.ResolveSecret(n.Secret)
			if err != nil {
				errs = append(errs, fmt.Errorf("notifier %s: %w", n.Name, err))
				continue
			}
			t.Secret = []byte(s)
		}
		targets[n.Name] = t
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := map[string]*rule{}
	for _, r := range e.rules {
		old[r.def.Name] = r
	}
	rules := make([]*rule, 0, len(c.Alerts))
	for _, a := range c.Alerts {
		if r := old[a.Name]; r != nil && reflect.DeepEqual(r.def, a) {
			rules = append(rules, r)
			continue
		}
		rules = append(rules, &rule{def: a, groups: map[string]*group{}})
	}
	e.rules, e.notifiers = rules, targets
	return errors.Join(errs...)
}

// measurement is one group's data at an evaluation.
type measurement struct {
	labels   map[string]string
	value    *float64
	requests int64
}

// transition is a change of one group, to record and maybe notify.
type transition struct {
	rule     *rule
	g        *group
	from, to State
	severity Severity
	notify   bool
}

// Evaluate evaluates every rule once, at the evaluator's clock's now. A
// rule whose data cannot be read keeps its states, and the error is
// returned (and shown in its status); the other rules are evaluated.
//
// With Leases, only the holder of the lease evaluates (Evaluate takes the
// lease when it is free and renews it); on the other nodes Evaluate reads
// the holder's states from the store instead, so that every node shows the
// same.
func (e *Evaluator) Evaluate(ctx context.Context) error {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	now := e.o.Now()
	e.mu.Lock()
	rules := slices.Clone(e.rules)
	e.mu.Unlock()

	lead, leaseErr := e.lead(ctx, now)
	silences, err := e.o.Store.Silences(ctx, now)
	if err != nil {
		return errors.Join(leaseErr, fmt.Errorf("reading silences: %w", err))
	}
	if !lead {
		// The call log's counters are sampled all the same: should this
		// node take over, an increase before the window is not counted
		// as one within it.
		e.sampleCounters(now, rules)
		return errors.Join(leaseErr, e.refresh(ctx, rules, silences, now))
	}
	if !e.loaded {
		// Evaluating without the stored states would notify again of
		// what fires already: better to wait for the store.
		if err := e.load(ctx, rules); err != nil {
			return errors.Join(leaseErr, err)
		}
	}
	if now.Sub(e.pruned) >= time.Hour {
		// Pruning failures are reported but do not stop the evaluation.
		if err := e.o.Store.PruneAlerts(ctx, now.Add(-HistoryRetention)); err != nil {
			e.log.Warn("pruning the alert history", "err", err)
		} else {
			e.pruned = now
		}
	}
	counters := e.sampleCounters(now, rules)
	var (
		errs      = []error{leaseErr}
		trans     []transition
		evaluated []string
	)
	measured := make([]map[string]measurement, len(rules))
	readErr := make([]error, len(rules))
	for i, r := range rules {
		switch {
		case config.IsCallLogMetric(r.def.Metric):
			measured[i] = counters(r.def)
		case config.IsProbeMetric(r.def.Metric):
			measured[i], readErr[i] = e.measureProbes(ctx, r.def, now)
		default:
			measured[i], readErr[i] = e.measure(ctx, r.def, now)
		}
	}
	e.mu.Lock()
	silenced := map[string]bool{}
	for i, r := range rules {
		r.lastEval = now
		if readErr[i] != nil {
			r.err = readErr[i].Error()
			errs = append(errs, fmt.Errorf("alert %s: %w", r.def.Name, readErr[i]))
			continue
		}
		r.err = ""
		evaluated = append(evaluated, r.def.Name)
		trans = append(trans, e.step(r, measured[i], now)...)
		for k, g := range r.groups {
			silenced[r.def.Name+"\x00"+k] = matchesAny(silences, r.def.Name, g.labels, now)
		}
	}
	e.silenced = silenced
	e.mu.Unlock()

	if len(trans) == 0 {
		return errors.Join(append(errs, e.save(ctx, rules, evaluated, now))...)
	}
	evs := make([]Event, len(trans))
	for i, t := range trans {
		evs[i] = Event{ID: NewID("alev_"), Time: now, Rule: t.rule.def.Name, Labels: t.g.labels, From: t.from, To: t.to,
			Severity: t.severity, Value: t.g.value, Silenced: t.notify && matchesAny(silences, t.rule.def.Name, t.g.labels, now)}
	}
	if err := e.o.Store.InsertAlertEvents(ctx, evs); err != nil {
		errs = append(errs, fmt.Errorf("recording alert transitions: %w", err))
	}
	e.notify(trans, evs, now)
	// After notifying: should the node stop in between, a notification
	// sent twice is better than one never sent.
	return errors.Join(append(errs, e.save(ctx, rules, evaluated, now))...)
}

// step advances the groups of r with this evaluation's measurements and
// returns the transitions. Called with e.mu held.
func (e *Evaluator) step(r *rule, ms map[string]measurement, now time.Time) []transition {
	if len(r.def.GroupBy) == 0 {
		if _, ok := ms[""]; !ok {
			ms[""] = measurement{labels: map[string]string{}}
		}
	}
	for k, m := range ms {
		if r.groups[k] == nil {
			r.groups[k] = &group{labels: m.labels, state: StateOK, since: now}
		}
	}
	var out []transition
	keys := slices.Sorted(maps.Keys(r.groups))
	for _, k := range keys {
		g := r.groups[k]
		m, ok := ms[k]
		if !ok {
			m = measurement{labels: g.labels}
		}
		g.value, g.requests, g.lastEval = m.value, m.requests, now
		noData := m.value == nil || (!config.IsCallLogMetric(r.def.Metric) && m.requests < int64(r.def.MinRequests))
		sev := SeverityNone
		if noData {
			switch r.def.EffectiveNoData() {
			case config.NoDataKeep:
				continue
			case config.NoDataAlert:
				sev = SeverityCritical
			}
		} else {
			sev = judge(r.def, *m.value)
		}
		t, moved := advance(r, g, sev, now)
		if moved {
			out = append(out, t)
		}
		// Groups that went quiet and hold nothing worth showing are
		// forgotten, so that a rule grouped by consumer does not keep every
		// consumer ever seen.
		if noData && len(r.def.GroupBy) > 0 && (g.state == StateOK || g.state == StateResolved) && !moved {
			delete(r.groups, k)
		}
	}
	return out
}

// advance moves g given the severity its value crosses (none when the
// condition does not hold).
func advance(r *rule, g *group, sev Severity, now time.Time) (transition, bool) {
	a := r.def
	move := func(to State, notify bool) (transition, bool) {
		t := transition{rule: r, g: g, from: g.state, to: to, severity: sev, notify: notify}
		g.state, g.since = to, now
		return t, true
	}
	holds := sev != SeverityNone
	switch g.state {
	case StateOK, StateResolved:
		if !holds {
			return transition{}, false
		}
		g.activeSince, g.lastActive, g.severity = now, now, sev
		if a.For == 0 {
			return move(StateFiring, true)
		}
		return move(StatePending, false)
	case StatePending:
		if !holds {
			g.severity = SeverityNone
			return move(StateOK, false)
		}
		g.lastActive, g.severity = now, sev
		if now.Sub(g.activeSince) >= a.For.Std() {
			return move(StateFiring, true)
		}
	case StateFiring:
		if holds {
			g.lastActive = now
			if sev != g.severity {
				// A change of level while firing is a transition of its
				// own: receivers learn that a warning became critical.
				g.severity = sev
				return transition{rule: r, g: g, from: StateFiring, to: StateFiring, severity: sev, notify: true}, true
			}
			return transition{}, false
		}
		if now.Sub(g.lastActive) >= a.KeepFiringFor.Std() {
			t, ok := move(StateResolved, true)
			t.severity = g.severity
			g.severity = SeverityNone
			return t, ok
		}
	}
	return transition{}, false
}

// judge returns the worst level v crosses.
func judge(a config.Alert, v float64) Severity {
	cross := func(t *float64) bool {
		if t == nil {
			return false
		}
		switch a.EffectiveOperator() {
		case ">=":
			return v >= *t
		case "<":
			return v < *t
		case "<=":
			return v <= *t
		}
		return v > *t
	}
	switch {
	case cross(a.Threshold.Critical):
		return SeverityCritical
	case cross(a.Threshold.Warning):
		return SeverityWarning
	}
	return SeverityNone
}

func matchesAny(ss []Silence, rule string, labels map[string]string, t time.Time) bool {
	for i := range ss {
		if ss[i].Active(t) && ss[i].Matches(rule, labels) {
			return true
		}
	}
	return false
}

// measure reads a rule's window of rollups and computes its metric per
// group. The window is read in whole minutes, so it starts at the
// beginning of the minute now − window falls in.
func (e *Evaluator) measure(ctx context.Context, a config.Alert, now time.Time) (map[string]measurement, error) {
	m := analytics.Metric(a.Metric)
	if _, err := analytics.ParseMetric(a.Metric); err != nil {
		return nil, err
	}
	latency := m == analytics.LatencyP50 || m == analytics.LatencyP95 || m == analytics.LatencyP99
	ttft := m == analytics.TTFTP50 || m == analytics.TTFTP95
	sel := analytics.Selection{Resolution: analytics.Minute, From: analytics.Minute.Truncate(now.Add(-a.EffectiveWindow())),
		To: now, Sketches: latency || ttft, Lean: !m.NeedsExtras()}
	if len(a.Filter) > 0 {
		sel.Filter = map[analytics.Dimension]string{}
		for k, v := range a.Filter {
			sel.Filter[analytics.Dimension(k)] = v
		}
	}
	rows := map[string]*analytics.Row{}
	labels := map[string]map[string]string{}
	err := e.o.Reader.ScanRollups(ctx, sel, func(r *analytics.Row, lat, tt []byte) error {
		l := make(map[string]string, len(a.GroupBy))
		for _, d := range a.GroupBy {
			l[d] = r.Key.Get(analytics.Dimension(d))
		}
		k := labelsKey(l)
		g := rows[k]
		if g == nil {
			g = analytics.NewRow(analytics.Minute, sel.From, analytics.Key{})
			rows[k], labels[k] = g, l
		}
		g.MergeCounts(r)
		if latency {
			if err := g.Latency.MergeEncoded(lat); err != nil {
				return err
			}
		}
		if ttft {
			return g.TTFT.MergeEncoded(tt)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading rollups: %w", err)
	}
	out := make(map[string]measurement, len(rows))
	for k, r := range rows {
		ms := measurement{labels: labels[k], requests: r.Requests}
		if config.IsFeedbackMetric(a.Metric) {
			// A ratio of feedback is judged on how much feedback there is,
			// not on how many calls were made.
			ms.requests = r.FeedbackScored
			if m == analytics.NegativeFeedbackRatio {
				ms.requests = r.FeedbackPositive + r.FeedbackNegative
			}
		}
		if v, ok := m.Value(r); ok {
			ms.value = &v
		}
		out[k] = ms
	}
	return out, nil
}

// sampleCounters records the call log's counters at now and returns a
// function that measures a call log rule: the counter's increase over its
// window, from the newest sample at or before the window's start (or from
// zero, the counters' start, when there is none).
func (e *Evaluator) sampleCounters(now time.Time, rules []*rule) func(config.Alert) map[string]measurement {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.o.CallLog == nil {
		return func(config.Alert) map[string]measurement { return map[string]measurement{} }
	}
	st := e.o.CallLog()
	cur := counterSample{at: now, spilled: st.Spilled, dropped: st.Dropped}
	keep := time.Duration(0)
	for _, r := range rules {
		if config.IsCallLogMetric(r.def.Metric) {
			keep = max(keep, r.def.EffectiveWindow())
		}
	}
	// Keep one sample older than the longest window: it is the baseline.
	cut := 0
	for i, s := range e.samples {
		if now.Sub(s.at) > keep {
			cut = i
		}
	}
	e.samples = append(e.samples[cut:], cur)
	samples := slices.Clone(e.samples)
	return func(a config.Alert) map[string]measurement {
		var base counterSample
		for _, s := range samples {
			if !s.at.After(now.Add(-a.EffectiveWindow())) {
				base = s
			}
		}
		v := float64(cur.spilled - base.spilled)
		if a.Metric == config.MetricCallLogDropped {
			v = float64(cur.dropped - base.dropped)
		}
		return map[string]measurement{"": {labels: map[string]string{}, value: &v}}
	}
}

// Status returns every rule with its groups' states, rules in
// configuration order and groups by labels.
func (e *Evaluator) Status() []RuleStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleStatus, 0, len(e.rules))
	for _, r := range e.rules {
		rs := RuleStatus{Rule: r.def, Groups: []GroupStatus{}, Error: r.err}
		if !r.lastEval.IsZero() {
			t := r.lastEval
			rs.LastEval = &t
		}
		for _, k := range slices.Sorted(maps.Keys(r.groups)) {
			g := r.groups[k]
			gs := GroupStatus{Labels: g.labels, State: g.state, Severity: g.severity, Value: g.value,
				Requests: g.requests, Since: g.since, Silenced: e.silenced[r.def.Name+"\x00"+k], LastEval: g.lastEval}
			if g.state == StatePending || g.state == StateFiring {
				t := g.activeSince
				gs.ActiveSince = &t
			}
			rs.Groups = append(rs.Groups, gs)
		}
		out = append(out, rs)
	}
	return out
}

// callsURL links the calls an alert group is about: the rule's filter and
// the group's labels that the call list can filter on, over the window.
func (e *Evaluator) callsURL(a config.Alert, labels map[string]string, now time.Time) string {
	q := url.Values{}
	if config.IsProbeMetric(a.Metric) {
		q.Set("synthetic", "true")
	}
	// The same range the rule reads: the window in whole minutes.
	q.Set("since", analytics.Minute.Truncate(now.Add(-a.EffectiveWindow())).Format(time.RFC3339))
	q.Set("until", now.UTC().Format(time.RFC3339))
	for _, src := range []map[string]string{a.Filter, labels} {
		for k, v := range src {
			// The call list filters on these; route and provider it cannot.
			if k == "service" || k == "model" || k == "consumer" || k == config.AlertDimensionProbe {
				q.Set(k, v)
			}
		}
	}
	return e.o.CallsURL + "?" + q.Encode()
}
