package triage

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
)

// Store keeps incidents. RecordIncidents adds each group to its
// fingerprint's incident — creating it, or reopening it as a regression
// when it was resolved before the group's last call — in one transaction,
// and says what it did to each.
type Store interface {
	RecordIncidents(ctx context.Context, groups []Group) ([]Change, error)
}

// Options configures a Triage.
type Options struct {
	Store Store
	// Severities are the severities by class, flag and feedback; the
	// defaults when nil.
	Severities SeverityTable
	// Notifier sends the webhooks of new and regressed incidents to
	// Targets; none are sent when nil.
	Notifier *Notifier
	Targets  []Target
	// IncidentURL, when set, makes the link a notification carries from
	// an incident's id (the admin API's or the console's page).
	IncidentURL func(id string) string
	Logger      *slog.Logger
}

// Triage turns calls and feedback into incidents. It is a call observer
// (ObserveCalls) and a feedback observer (ObserveFeedback); both run off
// the request path.
type Triage struct {
	store       Store
	notifier    *Notifier
	incidentURL func(string) string
	log         *slog.Logger

	mu      sync.RWMutex
	sev     SeverityTable
	targets []Target

	qmu   sync.RWMutex
	queue chan Occurrence // nil until Start
	done  chan struct{}
}

// New makes a Triage.
func New(o Options) *Triage {
	sev := o.Severities
	if sev == nil {
		sev, _ = NewSeverityTable(nil)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Triage{store: o.Store, notifier: o.Notifier, incidentURL: o.IncidentURL, log: log.With("component", "triage"),
		sev: sev, targets: o.Targets}
}

// Configure replaces the severities and the notification targets, as the
// configuration changes.
func (t *Triage) Configure(sev SeverityTable, targets []Target) {
	if sev == nil {
		sev, _ = NewSeverityTable(nil)
	}
	t.mu.Lock()
	t.sev, t.targets = sev, targets
	t.mu.Unlock()
}

// Severities returns the severities in use.
func (t *Triage) Severities() SeverityTable {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.sev
}

// Occurrence is one call's or one piece of feedback's contribution to an
// incident.
type Occurrence struct {
	Key       Key
	RequestID string
	Time      time.Time
	Consumer  string
	EndUser   string
	Once      string
}

// OfCall returns what a call record contributes to incidents: one failure
// when it failed, otherwise one anomaly per detector flag. Synthetic
// (probe) calls and calls the client abandoned contribute nothing.
func OfCall(r *calllog.Record) []Occurrence {
	if r.Synthetic {
		return nil
	}
	base := Key{Service: r.Service, Route: r.Route, Provider: r.Provider, Model: cmp.Or(r.Model, r.UpstreamModel)}
	if r.Service == "" {
		// The /v1 endpoints: the path says which. A service's call is
		// told by its route instead, its path holding ids that would
		// split one failure into as many incidents as there are ids.
		base.Endpoint = Normalize(r.Endpoint)
	}
	occ := Occurrence{RequestID: r.ID, Time: r.Time, Consumer: r.Consumer}
	if class := StatusClass(r.Status, r.ErrorType); class != "" {
		k := base
		k.Kind, k.StatusClass, k.ErrorCode, k.Message = KindFailure, class, r.ErrorType, Normalize(r.ErrorMessage)
		occ.Key, occ.EndUser = k, EndUser(r.RequestBody)
		return []Occurrence{occ}
	}
	if len(r.Flags) == 0 {
		return nil
	}
	occ.EndUser = EndUser(r.RequestBody)
	finish := FinishReason(r.ResponseBody)
	var out []Occurrence
	seen := map[string]bool{}
	for _, f := range r.Flags {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		k := base
		k.Kind, k.Flag, k.FinishReason = KindAnomaly, f, finish
		o := occ
		o.Key = k
		out = append(out, o)
	}
	return out
}

// StatusClass returns a failed call's status class, or "" for a call that
// did not fail or that the client abandoned (499, client_closed): the
// client leaving is not the gateway's failure.
func StatusClass(status int, errorType string) string {
	et := strings.ToLower(errorType)
	switch {
	case status == 499 || et == "client_closed":
		return ""
	case strings.Contains(et, "timeout") || status == 504:
		return ClassTimeout
	case status == 0 && et != "", strings.Contains(et, "unreachable"), strings.Contains(et, "connection"):
		return ClassConnection
	case status >= 500:
		return ClassServerError
	case status >= 400:
		return ClassClientError
	case et != "":
		return ClassStream
	}
	return ""
}

// MaxEndUserBytes bounds an end user's id.
const MaxEndUserBytes = 256

// EndUser returns the end user a captured request body names: OpenAI's
// "user" field or Anthropic's "metadata.user_id"; "" when the body was not
// captured, names none, or was cut before the field.
func EndUser(body string) string {
	if body == "" || body[0] != '{' {
		return ""
	}
	u := gjson.Get(body, "user")
	if u.Type != gjson.String || u.Str == "" {
		u = gjson.Get(body, "metadata.user_id")
	}
	if u.Type != gjson.String {
		return ""
	}
	return cutBytes(strings.ToValidUTF8(u.Str, "\uFFFD"), MaxEndUserBytes)
}

// FinishReason returns the finish reason a captured JSON answer names, in
// the OpenAI, Anthropic or Gemini shape; "" for a streamed answer or one
// not captured.
func FinishReason(body string) string {
	if body == "" || body[0] != '{' {
		return ""
	}
	for _, path := range []string{"choices.0.finish_reason", "stop_reason", "candidates.0.finishReason"} {
		if v := gjson.Get(body, path); v.Type == gjson.String && v.Str != "" {
			return cutBytes(strings.ToValidUTF8(v.Str, "\uFFFD"), 64)
		}
	}
	return ""
}

func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "")
}

// OfFeedback returns what a piece of feedback contributes: one occurrence
// when it is negative (its polarity says so, or, without a polarity, it is
// a false boolean), keyed by the call's service, route and model and the
// score's name. It counts once per feedback id, however often it toggles.
func OfFeedback(f feedback.Feedback) (Occurrence, bool) {
	negative := f.Polarity == feedback.PolarityNegative ||
		f.Polarity == "" && f.Value.Kind == feedback.Boolean && !f.Value.Bool()
	if !negative || f.RequestID == "" {
		return Occurrence{}, false
	}
	k := Key{Kind: KindFeedback, Service: f.Call.Service, Route: f.Call.Route, Provider: f.Call.Provider,
		Model: f.Call.Model, Score: f.Name}
	at := f.UpdatedAt
	if at.IsZero() {
		at = f.CreatedAt
	}
	if at.IsZero() {
		at = time.Now()
	}
	return Occurrence{Key: k, RequestID: f.RequestID, Time: at, Consumer: cmp.Or(f.Call.Consumer, f.Consumer),
		Once: "feedback:" + f.ID}, true
}

// Aggregate groups occurrences by fingerprint: one Group per fingerprint,
// with its count, time span, distinct consumers and end users, counts per
// hour and newest samples. Groups come sorted by fingerprint, the order the
// store locks them in, so that concurrent writers never deadlock.
func Aggregate(occs []Occurrence, sev SeverityTable) []Group {
	if sev == nil {
		sev, _ = NewSeverityTable(nil)
	}
	type acc struct {
		g         Group
		consumers map[string]bool
		users     map[string]bool
		hours     map[int64]int64
		samples   []Sample
	}
	by := map[string]*acc{}
	for _, o := range occs {
		fp := o.Key.Fingerprint()
		if o.Once != "" {
			// Each once-only occurrence is its own group, so that the
			// store can skip it alone.
			fp2 := fp + "\x00" + o.Once
			if _, dup := by[fp2]; dup {
				continue
			}
			a := &acc{g: Group{Fingerprint: fp, Key: o.Key, Severity: sev.Of(o.Key), Once: o.Once},
				consumers: map[string]bool{}, users: map[string]bool{}, hours: map[int64]int64{}}
			by[fp2] = a
			addOcc(&a.g, a.consumers, a.users, a.hours, &a.samples, o)
			continue
		}
		a := by[fp]
		if a == nil {
			a = &acc{g: Group{Fingerprint: fp, Key: o.Key, Severity: sev.Of(o.Key)},
				consumers: map[string]bool{}, users: map[string]bool{}, hours: map[int64]int64{}}
			by[fp] = a
		}
		addOcc(&a.g, a.consumers, a.users, a.hours, &a.samples, o)
	}
	out := make([]Group, 0, len(by))
	for _, a := range by {
		g := a.g
		g.Consumers = sortedKeys(a.consumers)
		g.EndUsers = sortedKeys(a.users)
		for h, n := range a.hours {
			g.Hours = append(g.Hours, HourCount{Hour: time.Unix(h, 0).UTC(), Count: n})
		}
		slices.SortFunc(g.Hours, func(x, y HourCount) int { return x.Hour.Compare(y.Hour) })
		slices.SortFunc(a.samples, func(x, y Sample) int {
			return cmp.Or(y.Time.Compare(x.Time), strings.Compare(y.RequestID, x.RequestID))
		})
		g.Samples = slices.CompactFunc(a.samples, func(x, y Sample) bool { return x.RequestID == y.RequestID })
		if len(g.Samples) > MaxSamples {
			g.Samples = g.Samples[:MaxSamples]
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y Group) int {
		return cmp.Or(strings.Compare(x.Fingerprint, y.Fingerprint), strings.Compare(x.Once, y.Once))
	})
	return out
}

func addOcc(g *Group, consumers, users map[string]bool, hours map[int64]int64, samples *[]Sample, o Occurrence) {
	g.Count++
	t := o.Time.UTC()
	if g.First.IsZero() || t.Before(g.First) {
		g.First = t
	}
	if t.After(g.Last) {
		g.Last = t
	}
	if o.Consumer != "" {
		consumers[o.Consumer] = true
	}
	if o.EndUser != "" {
		users[o.EndUser] = true
	}
	hours[t.Truncate(time.Hour).Unix()]++
	if o.RequestID != "" {
		*samples = append(*samples, Sample{RequestID: o.RequestID, Time: t})
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ObserveCalls groups a batch of newly stored calls into incidents: one
// upsert per fingerprint for the whole batch, never one per call. It is a
// call observer of the call pipeline.
func (t *Triage) ObserveCalls(ctx context.Context, recs []calllog.Record) error {
	var occs []Occurrence
	for i := range recs {
		occs = append(occs, OfCall(&recs[i])...)
	}
	return t.record(ctx, occs)
}

// ObserveFeedback counts a piece of negative feedback into its incident.
// It is a feedback observer, called on the poster's request: once Start
// has run, the occurrence is queued and written with others in one batch
// by the background loop; when the queue is full it is written at once,
// so that none is lost.
func (t *Triage) ObserveFeedback(ctx context.Context, f feedback.Feedback) error {
	o, ok := OfFeedback(f)
	if !ok {
		return nil
	}
	t.qmu.RLock()
	q := t.queue
	if q != nil {
		select {
		case q <- o:
			t.qmu.RUnlock()
			return nil
		default:
		}
	}
	t.qmu.RUnlock()
	return t.record(ctx, []Occurrence{o})
}

// Feedback batching: the queue's size, and how long and how many
// occurrences the loop gathers before writing.
const (
	feedbackQueue    = 4096
	feedbackMaxBatch = 512
	feedbackLinger   = 200 * time.Millisecond
)

// Start starts the loop that writes queued feedback occurrences in
// batches; Close stops it after writing what is queued.
func (t *Triage) Start() {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	if t.queue != nil {
		return
	}
	t.queue = make(chan Occurrence, feedbackQueue)
	t.done = make(chan struct{})
	go t.loop(t.queue, t.done)
}

// Close stops the feedback loop, writing what is queued, and waits for it
// until ctx is done.
func (t *Triage) Close(ctx context.Context) {
	t.qmu.Lock()
	q, done := t.queue, t.done
	t.queue = nil
	t.qmu.Unlock()
	if q == nil {
		return
	}
	close(q)
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (t *Triage) loop(q <-chan Occurrence, done chan<- struct{}) {
	defer close(done)
	for o := range q {
		batch := []Occurrence{o}
		timer := time.NewTimer(feedbackLinger)
	gather:
		for len(batch) < feedbackMaxBatch {
			select {
			case o, ok := <-q:
				if !ok {
					break gather
				}
				batch = append(batch, o)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		// A batch is written whatever happens to the caller's context;
		// a failure is retried once, then logged.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := t.record(ctx, batch)
		if err != nil {
			err = t.record(ctx, batch)
		}
		cancel()
		if err != nil {
			t.log.Error("negative feedback left out of triage", "occurrences", len(batch), "err", err)
		}
	}
}

func (t *Triage) record(ctx context.Context, occs []Occurrence) error {
	if len(occs) == 0 {
		return nil
	}
	t.mu.RLock()
	sev, targets := t.sev, t.targets
	t.mu.RUnlock()
	changes, err := t.store.RecordIncidents(ctx, Aggregate(occs, sev))
	if err != nil {
		return err
	}
	for _, c := range changes {
		if !c.New && !c.Regressed || c.Incident.State == StateIgnored {
			continue
		}
		ev := EventNew
		if c.Regressed {
			ev = EventRegressed
		}
		t.log.Info("incident "+strings.TrimPrefix(ev, "incident."), "id", c.Incident.ID, "title", c.Incident.Title,
			"severity", c.Incident.Severity)
		if t.notifier == nil {
			continue
		}
		n := Notification{ID: NewID("trnt_"), Event: ev, Time: time.Now().UTC(), Incident: c.Incident}
		if t.incidentURL != nil {
			n.URL = t.incidentURL(c.Incident.ID)
		}
		for _, tg := range targets {
			t.notifier.Send(tg, n)
		}
	}
	return nil
}
