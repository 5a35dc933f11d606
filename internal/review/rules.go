package review

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
)

// Queue is a review queue as declared, compiled for matching.
type Queue struct {
	config.ReviewQueue
	rules []rule
}

// rule is a compiled config.ReviewRule.
type rule struct {
	index      int // its position in the queue's rules, part of its identity
	match      config.ReviewMatch
	status     config.StatusRange
	hasStatus  bool
	feedback   map[string]feedback.Value
	sample     float64
	onFeedback bool
}

// Compile compiles declared queues. The configuration is validated, so an
// error here is a bug, but it is reported rather than trusted.
func Compile(qs []config.ReviewQueue) ([]*Queue, error) {
	out := make([]*Queue, 0, len(qs))
	for _, q := range qs {
		cq := &Queue{ReviewQueue: q}
		for i, r := range q.Rules {
			cr := rule{index: i, match: r.When, sample: r.SampleRate(), onFeedback: r.When.OnFeedback()}
			var err error
			if cr.status, cr.hasStatus, err = r.When.StatusRange(); err != nil {
				return nil, fmt.Errorf("review queue %q rule %d: %w", q.Name, i, err)
			}
			if len(r.When.Feedback) > 0 {
				cr.feedback = make(map[string]feedback.Value, len(r.When.Feedback))
				for name, v := range r.When.Feedback {
					var fv feedback.Value
					if err := json.Unmarshal([]byte(v), &fv); err != nil {
						return nil, fmt.Errorf("review queue %q rule %d: feedback %s: %w", q.Name, i, name, err)
					}
					cr.feedback[name] = fv
				}
			}
			cq.rules = append(cq.rules, cr)
		}
		out = append(out, cq)
	}
	return out, nil
}

// RuleName names a queue's rule in an item's AddedBy: "rule:N", N counted
// from 1 as a reader counts the rules in the file.
func RuleName(index int) string { return "rule:" + strconv.Itoa(index+1) }

// MatchCall returns the first rule on recorded calls that adds rec to the
// queue, after sampling; ok is false when none does.
func (q *Queue) MatchCall(rec calllog.Record) (index int, ok bool) {
	for _, r := range q.rules {
		if r.onFeedback || !r.dims(rec.Service, rec.Route, rec.Model, rec.Consumer, rec.Status) {
			continue
		}
		if r.match.Flag != "" && !slices.Contains(rec.Flags, r.match.Flag) {
			continue
		}
		if Sampled(q.Name, r.index, rec.ID, r.sample) {
			return r.index, true
		}
	}
	return 0, false
}

// MatchFeedback returns the first rule on feedback that adds the call f is
// about to the queue, after sampling.
func (q *Queue) MatchFeedback(f feedback.Feedback) (index int, ok bool) {
	c := f.Call
	consumer := c.Consumer
	if consumer == "" {
		consumer = f.Consumer
	}
	for _, r := range q.rules {
		if !r.onFeedback || !r.dims(c.Service, c.Route, c.Model, consumer, c.Status) {
			continue
		}
		if r.match.Polarity != "" && f.Polarity != r.match.Polarity {
			continue
		}
		if len(r.feedback) > 0 {
			want, named := r.feedback[f.Name]
			if !named || !sameValue(want, f.Value) {
				continue
			}
		}
		if Sampled(q.Name, r.index, f.RequestID, r.sample) {
			return r.index, true
		}
	}
	return 0, false
}

// dims checks the conditions on the call's dimensions.
func (r rule) dims(service, route, model, consumer string, status int) bool {
	m := r.match
	return (m.Service == "" || m.Service == service) &&
		(m.Route == "" || m.Route == route) &&
		(m.Model == "" || m.Model == model) &&
		(m.Consumer == "" || m.Consumer == consumer) &&
		(!r.hasStatus || r.status.Contains(status))
}

// sameValue compares feedback values by kind and value; a rule's number
// also matches a boolean stored as 0 or 1 only when written as a boolean.
func sameValue(a, b feedback.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == feedback.String {
		return a.Str == b.Str
	}
	return a.Num == b.Num
}

// Sampled reports whether a call falls in a rule's sample. It hashes the
// queue, the rule's position and the call id, so the answer is the same
// on every node, on every replay of the call log and across restarts; and
// a rule sampling 0.2 adds a subset of what the same rule at 0.5 would.
func Sampled(queue string, rule int, callID string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if rate <= 0 {
		return false
	}
	return SampleFraction(queue, rule, callID) < rate
}

// SampleFraction maps a call for a rule to a number in [0, 1), uniformly
// over call ids: the first 53 bits of SHA-256(queue NUL rule NUL id).
func SampleFraction(queue string, rule int, callID string) float64 {
	h := sha256.New()
	h.Write([]byte(queue))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(rule)))
	h.Write([]byte{0})
	h.Write([]byte(callID))
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}
