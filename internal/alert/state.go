package alert

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// GroupState is one group of a rule as the store keeps it between
// evaluations, so that it outlives the node that evaluated it.
type GroupState struct {
	Rule string
	// RuleHash fingerprints the rule's definition: the state of a group
	// of an earlier definition is not taken up, since a changed rule starts
	// over.
	RuleHash string
	// Key fingerprints Labels; with Rule it identifies the group.
	Key      string
	Labels   map[string]string
	State    State
	Severity Severity
	// Value is the metric at the last evaluation; nil without data.
	Value    *float64
	Requests int64
	// Since is when the group entered its state, ActiveSince when its
	// condition started to hold and LastActive the last evaluation at which
	// it held (zero when it never did).
	Since, ActiveSince, LastActive time.Time
	// LastEval is the group's last evaluation.
	LastEval time.Time
}

// StateChange is what one evaluation changed in the stored states, applied
// at once.
type StateChange struct {
	// Put adds these groups or replaces them.
	Put []GroupState
	// Delete removes the groups of these rules and keys; their other fields
	// are not read.
	Delete []GroupState
	// Evaluated names the rules evaluated at EvaluatedAt: every stored group
	// of theirs takes it as its LastEval, so that a group whose state did
	// not change need not be written again.
	Evaluated   []string
	EvaluatedAt time.Time
}

// StateStore keeps the groups' states, so that a firing alert is still
// firing after a restart and every node shows the evaluating node's states.
// The store package implements it for SQLite and PostgreSQL.
type StateStore interface {
	// AlertStates returns every stored group, by rule and key.
	AlertStates(ctx context.Context) ([]GroupState, error)
	// SaveAlertStates applies a change in one transaction.
	SaveAlertStates(ctx context.Context, c StateChange) error
}

// Leases elects one holder of a named lease among the nodes sharing a
// store. The store package implements it.
type Leases interface {
	// AcquireLease gives the lease name to holder until now + ttl when it
	// is free, expired or holder's already (renewing it), and reports
	// whether holder has it. Of concurrent callers at most one wins.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	// ReleaseLease frees the lease name if holder has it; otherwise it does
	// nothing.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// LeaseName is the name of the lease held by the node that evaluates the
// rules and notifies.
const LeaseName = "alert-evaluator"

// DefaultLeaseTTL is the lease's duration unless told otherwise: three
// evaluations at DefaultInterval, so that one slow or failed renewal does
// not hand the evaluation over.
const DefaultLeaseTTL = 3 * DefaultInterval

// ruleHash fingerprints a rule's definition. Its JSON form holds every
// field and writes maps in key order, so equal definitions hash alike.
func ruleHash(a config.Alert) string {
	b, err := json.Marshal(a)
	if err != nil {
		// A configuration's rule always encodes; should one not, its
		// states are never taken up, as if it had changed.
		return "unencodable"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// labelsFingerprint is a group's key in the store: fixed-size and free of
// the NUL bytes that labelsKey uses, which PostgreSQL's text rejects.
func labelsFingerprint(l map[string]string) string {
	sum := sha256.Sum256([]byte(labelsKey(l)))
	return hex.EncodeToString(sum[:16])
}

// hashOf returns r's definition hash, computing it once. Called with e.mu
// held.
func (r *rule) hashOf() string {
	if r.hash == "" {
		r.hash = ruleHash(r.def)
	}
	return r.hash
}

// snapshot is g as stored.
func (r *rule) snapshot(g *group) GroupState {
	return GroupState{Rule: r.def.Name, RuleHash: r.hashOf(), Key: labelsFingerprint(g.labels), Labels: g.labels,
		State: g.state, Severity: g.severity, Value: g.value, Requests: g.requests, Since: g.since,
		ActiveSince: g.activeSince, LastActive: g.lastActive, LastEval: g.lastEval}
}

// sameState reports whether two stored states agree on everything but the
// time of their last evaluation, which SaveAlertStates sets rule by rule.
func sameState(a, b GroupState) bool {
	return a.RuleHash == b.RuleHash && a.State == b.State && a.Severity == b.Severity &&
		((a.Value == nil) == (b.Value == nil)) && (a.Value == nil || *a.Value == *b.Value) &&
		a.Requests == b.Requests && a.Since.Equal(b.Since) && a.ActiveSince.Equal(b.ActiveSince) &&
		a.LastActive.Equal(b.LastActive) && maps.Equal(a.Labels, b.Labels)
}

// stateID identifies a stored group among every rule's.
func stateID(s GroupState) string { return s.Rule + "\x00" + s.Key }

// install replaces the groups of rules with the stored ones of their
// current definitions. Called with e.mu held.
func install(rules []*rule, states []GroupState) {
	byName := make(map[string]*rule, len(rules))
	for _, r := range rules {
		byName[r.def.Name] = r
		r.groups = map[string]*group{}
	}
	for _, s := range states {
		r := byName[s.Rule]
		if r == nil || r.hashOf() != s.RuleHash {
			continue
		}
		labels := s.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		r.groups[labelsKey(labels)] = &group{labels: labels, state: s.State, severity: s.Severity, value: s.Value,
			requests: s.Requests, since: s.Since, activeSince: s.ActiveSince, lastActive: s.LastActive, lastEval: s.LastEval}
	}
}

// lead renews or takes the lease and reports whether this evaluator is the
// one to evaluate. Without leases it always is. When the store does not
// answer, a lease already held stays held until it expires by this node's
// clock: no other node can have taken it before then. Called with evalMu
// held.
func (e *Evaluator) lead(ctx context.Context, now time.Time) (bool, error) {
	if e.o.Leases == nil {
		return true, nil
	}
	ok, err := e.o.Leases.AcquireLease(ctx, LeaseName, e.o.Holder, e.o.LeaseTTL, now)
	if err != nil {
		ok = e.leader.Load() && now.Before(e.leaseUntil)
		err = fmt.Errorf("renewing the alert evaluation lease: %w", err)
	} else if ok {
		e.leaseUntil = now.Add(e.o.LeaseTTL)
	}
	if was := e.leader.Swap(ok); was != ok {
		e.log.Info("alert evaluation lease", "holder", e.o.Holder, "held", ok)
	}
	if !ok {
		// Another node evaluates now; should this one lead again, the
		// states it left meanwhile are the ones to go on from.
		e.loaded = false
	}
	return ok, err
}

// load takes up the stored states, once after start and each time the
// evaluator becomes the leader. Called with evalMu held.
func (e *Evaluator) load(ctx context.Context, rules []*rule) error {
	if e.o.States == nil {
		e.loaded = true
		return nil
	}
	states, err := e.o.States.AlertStates(ctx)
	if err != nil {
		return fmt.Errorf("loading alert states: %w", err)
	}
	e.mu.Lock()
	install(rules, states)
	e.mu.Unlock()
	e.persisted = make(map[string]GroupState, len(states))
	for _, s := range states {
		e.persisted[stateID(s)] = s
	}
	e.loaded = true
	return nil
}

// refresh shows the leader's states: it replaces the groups with the
// stored ones and marks those an active silence matches. Called with
// evalMu held, on a node that does not evaluate.
func (e *Evaluator) refresh(ctx context.Context, rules []*rule, silences []Silence, now time.Time) error {
	if e.o.States == nil {
		return nil
	}
	states, err := e.o.States.AlertStates(ctx)
	if err != nil {
		return fmt.Errorf("reading alert states: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	install(rules, states)
	silenced := map[string]bool{}
	for _, r := range rules {
		// The leader's errors are its own; the rule's last evaluation is
		// its groups' latest.
		r.err, r.lastEval = "", time.Time{}
		for k, g := range r.groups {
			if g.lastEval.After(r.lastEval) {
				r.lastEval = g.lastEval
			}
			silenced[r.def.Name+"\x00"+k] = matchesAny(silences, r.def.Name, g.labels, now)
		}
	}
	e.silenced = silenced
	return nil
}

// save writes what the evaluation changed: the groups whose state differs
// from the stored one, the removal of groups no longer kept (forgotten, of
// a changed rule or of a rule no longer configured), and the time of the
// evaluation of the rules in evaluated. Called with evalMu held.
func (e *Evaluator) save(ctx context.Context, rules []*rule, evaluated []string, now time.Time) error {
	if e.o.States == nil {
		return nil
	}
	cur := map[string]GroupState{}
	e.mu.Lock()
	for _, r := range rules {
		for _, g := range r.groups {
			s := r.snapshot(g)
			cur[stateID(s)] = s
		}
	}
	e.mu.Unlock()
	c := StateChange{Evaluated: evaluated, EvaluatedAt: now}
	for id, s := range cur {
		if p, ok := e.persisted[id]; !ok || !sameState(p, s) {
			c.Put = append(c.Put, s)
		}
	}
	for id, p := range e.persisted {
		if _, ok := cur[id]; !ok {
			c.Delete = append(c.Delete, p)
		}
	}
	if len(c.Put) == 0 && len(c.Delete) == 0 && len(c.Evaluated) == 0 {
		return nil
	}
	// In a fixed order, so that the rows are always written in the same
	// sequence.
	byID := func(a, b GroupState) int { return cmp.Compare(stateID(a), stateID(b)) }
	slices.SortFunc(c.Put, byID)
	slices.SortFunc(c.Delete, byID)
	if err := e.o.States.SaveAlertStates(ctx, c); err != nil {
		// The stored states stay as they were, and so does what this
		// evaluator believes of them: the next evaluation writes the
		// difference again.
		return fmt.Errorf("saving alert states: %w", err)
	}
	e.persisted = cur
	return nil
}

// Leader reports whether this evaluator evaluates the rules and notifies:
// it holds the lease, or there is none to hold.
func (e *Evaluator) Leader() bool {
	return e.o.Leases == nil || e.leader.Load()
}

// Release gives up the lease, so that another node takes the evaluation
// over at its next interval rather than when the lease expires. Call it
// when the node stops; an Evaluate after it takes the lease again if it is
// free.
func (e *Evaluator) Release(ctx context.Context) error {
	if e.o.Leases == nil {
		return nil
	}
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	e.leader.Store(false)
	e.loaded = false
	if err := e.o.Leases.ReleaseLease(ctx, LeaseName, e.o.Holder); err != nil {
		return fmt.Errorf("releasing the alert evaluation lease: %w", err)
	}
	return nil
}
