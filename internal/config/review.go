package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Review queue limits and defaults.
const (
	// DefaultReviewLease is how long a reviewer holds the item they fetched
	// before it is offered to someone else.
	DefaultReviewLease = 5 * time.Minute
	// MinReviewLease and MaxReviewLease bound a queue's lease.
	MinReviewLease = 30 * time.Second
	MaxReviewLease = 24 * time.Hour
	// MaxReviewsPerItem bounds how many reviewers judge one item.
	MaxReviewsPerItem = 10
	// MaxReviewDimensions bounds a queue's dimensions.
	MaxReviewDimensions = 32
)

// ReviewQueue is a list of calls that people judge by hand, each on the
// queue's dimensions. Calls join it by hand (the admin API) or by its
// rules, and never twice.
type ReviewQueue struct {
	// Name identifies the queue; unique.
	Name string `yaml:"name" json:"name"`
	// Description says what the queue is for, for its reviewers.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Team owns the queue: its members review it and manage it. A queue of
	// no team is for principals of no team only.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
	// Dimensions are the scores a reviewer gives each call, stored as
	// feedback under these names. A dimension with a score definition
	// (scores) takes only values that definition accepts.
	Dimensions []string `yaml:"dimensions" json:"dimensions"`
	// ReviewsPerItem is how many different reviewers judge each item
	// before it is complete; 1 when unset. With 2 or more the queue
	// reports how often they agree.
	ReviewsPerItem int `yaml:"reviews_per_item,omitempty" json:"reviews_per_item,omitempty"`
	// Lease is how long a reviewer holds a fetched item before it is
	// offered to another; DefaultReviewLease when unset.
	Lease Duration `yaml:"lease,omitempty" json:"lease,omitempty"`
	// Reviewers, when set, are the only users (by e-mail) or API tokens
	// (by name) that may fetch, complete and skip items, and to whom items
	// may be assigned. Admins always may.
	Reviewers []string `yaml:"reviewers,omitempty" json:"reviewers,omitempty"`
	// Rules add calls to the queue as they are recorded, or as feedback
	// on them arrives.
	Rules []ReviewRule `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// ReviewRule adds the calls that match When, or the share Sample of them.
// Which calls fall in the sample depends only on the call's id and the
// rule, so every node and every replay picks the same ones.
type ReviewRule struct {
	When ReviewMatch `yaml:"when" json:"when"`
	// Sample is the share of matching calls added, from 0 (excluded) to 1;
	// 1 when unset.
	Sample *float64 `yaml:"sample,omitempty" json:"sample,omitempty"`
}

// ReviewMatch is the condition of a review rule: every field set must
// hold. A rule with Feedback or Polarity is checked when feedback on a call
// arrives, against that feedback and the call's dimensions; any other rule
// when the call is recorded.
type ReviewMatch struct {
	Service  string `yaml:"service,omitempty" json:"service,omitempty"`
	Route    string `yaml:"route,omitempty" json:"route,omitempty"`
	Model    string `yaml:"model,omitempty" json:"model,omitempty"`
	Consumer string `yaml:"consumer,omitempty" json:"consumer,omitempty"`
	// Status is a status code (500), a class (5xx) or a range (400-499).
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// Flag is the name of an anomaly detector that flagged the call
	// (refusal, empty_output …). A rule on feedback cannot also name a
	// flag: the call's record may not be stored yet when feedback comes.
	Flag string `yaml:"flag,omitempty" json:"flag,omitempty"`
	// Feedback matches feedback by name and value, e.g. {helpful: false}:
	// any one of the entries matching is enough.
	Feedback map[string]FeedbackValue `yaml:"feedback,omitempty" json:"feedback,omitempty"`
	// Polarity matches feedback that says the call is "negative" or
	// "positive", whatever its name.
	Polarity string `yaml:"polarity,omitempty" json:"polarity,omitempty"`
}

// OnFeedback reports whether the rule is checked when feedback arrives,
// rather than when the call is recorded.
func (m ReviewMatch) OnFeedback() bool { return len(m.Feedback) > 0 || m.Polarity != "" }

// FeedbackValue is a feedback value in a rule: a boolean, a number or a
// string, kept as its canonical JSON text (false, 3, "billing") so that it
// compares, diffs and encodes as written.
type FeedbackValue string

// UnmarshalYAML reads a scalar, keeping whether it is a boolean, a number
// or a string.
func (v *FeedbackValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a feedback value must be a boolean, a number or a string")
	}
	var x any
	switch n.ShortTag() {
	case "!!bool", "!!int", "!!float", "!!str":
		if err := n.Decode(&x); err != nil {
			return err
		}
	default:
		return fmt.Errorf("a feedback value must be a boolean, a number or a string")
	}
	return v.set(x)
}

// MarshalYAML writes the value as the scalar it was.
func (v FeedbackValue) MarshalYAML() (any, error) {
	var x any
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		return nil, fmt.Errorf("feedback value %s: %w", string(v), err)
	}
	return x, nil
}

// UnmarshalJSON accepts a JSON boolean, number or string.
func (v *FeedbackValue) UnmarshalJSON(b []byte) error {
	var x any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return err
	}
	if n, ok := x.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("feedback value %s: %w", n, err)
		}
		x = f
	}
	return v.set(x)
}

// MarshalJSON writes the canonical JSON text.
func (v FeedbackValue) MarshalJSON() ([]byte, error) {
	if v == "" {
		return []byte("null"), nil
	}
	return []byte(v), nil
}

func (v *FeedbackValue) set(x any) error {
	switch x := x.(type) {
	case bool:
		*v = FeedbackValue(strconv.FormatBool(x))
	case int:
		*v = FeedbackValue(strconv.Itoa(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("a feedback value must be a finite number")
		}
		*v = FeedbackValue(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		*v = FeedbackValue(b)
	default:
		return fmt.Errorf("a feedback value must be a boolean, a number or a string")
	}
	return nil
}

// SampleRate is the rule's sample, 1 when unset.
func (r ReviewRule) SampleRate() float64 {
	if r.Sample == nil {
		return 1
	}
	return *r.Sample
}

// StatusRange parses Status; ok is false when Status is unset.
func (m ReviewMatch) StatusRange() (r StatusRange, ok bool, err error) {
	if m.Status == "" {
		return StatusRange{}, false, nil
	}
	r, err = parseStatusRange(m.Status)
	return r, err == nil, err
}

// LeaseDuration is the queue's lease, the default when unset.
func (q ReviewQueue) LeaseDuration() time.Duration {
	if q.Lease == 0 {
		return DefaultReviewLease
	}
	return q.Lease.Std()
}

// Required is how many reviews complete an item, 1 when unset.
func (q ReviewQueue) Required() int { return max(q.ReviewsPerItem, 1) }

func (q *ReviewQueue) applyDefaults() {
	q.Reviewers = nilIfEmpty(q.Reviewers)
	q.Rules = nilIfEmpty(q.Rules)
	for i := range q.Rules {
		if len(q.Rules[i].When.Feedback) == 0 {
			q.Rules[i].When.Feedback = nil
		}
	}
}

var reviewPolarities = []string{"negative", "positive"}

// reviewQueues checks the review queues.
func (v *validator) reviewQueues(qs []ReviewQueue, teams map[string]bool) {
	seen := map[string]bool{}
	for i, q := range qs {
		path := fmt.Sprintf("review_queues[%d]", i)
		v.name(q.Name, path+".name")
		v.unique(seen, q.Name, path, "review queue")
		v.team(q.Team, path+".team", teams)
		if len(q.Description) > 1024 {
			v.fail(path+".description", "must be at most 1024 bytes")
		}
		switch {
		case len(q.Dimensions) == 0:
			v.fail(path+".dimensions", "list at least one score reviewers give, e.g. [correct, helpful]")
		case len(q.Dimensions) > MaxReviewDimensions:
			v.fail(path+".dimensions", "at most %d dimensions", MaxReviewDimensions)
		}
		dims := map[string]bool{}
		for j, d := range q.Dimensions {
			dp := fmt.Sprintf("%s.dimensions[%d]", path, j)
			v.scoreName(d, dp)
			if dims[d] {
				v.fail(dp, "dimension %q is listed twice", d)
			}
			dims[d] = true
		}
		if q.ReviewsPerItem < 0 || q.ReviewsPerItem > MaxReviewsPerItem {
			v.fail(path+".reviews_per_item", "must be from 1 to %d", MaxReviewsPerItem)
		}
		if q.Lease != 0 && (q.Lease.Std() < MinReviewLease || q.Lease.Std() > MaxReviewLease) {
			v.fail(path+".lease", "must be from %s to %s", MinReviewLease, MaxReviewLease)
		}
		reviewers := map[string]bool{}
		for j, r := range q.Reviewers {
			rp := fmt.Sprintf("%s.reviewers[%d]", path, j)
			switch {
			case r == "" || len(r) > 254:
				v.fail(rp, "must be a user's e-mail or an API token's name")
			case reviewers[r]:
				v.fail(rp, "%q is listed twice", r)
			}
			reviewers[r] = true
		}
		if q.ReviewsPerItem > 1 && len(q.Reviewers) > 0 && len(q.Reviewers) < q.ReviewsPerItem {
			v.fail(path+".reviewers", "%d reviewers cannot give each item %d reviews", len(q.Reviewers), q.ReviewsPerItem)
		}
		for j, r := range q.Rules {
			v.reviewRule(r, fmt.Sprintf("%s.rules[%d]", path, j))
		}
	}
}

func (v *validator) reviewRule(r ReviewRule, path string) {
	m := r.When
	if m.Service == "" && m.Route == "" && m.Model == "" && m.Consumer == "" && m.Status == "" && m.Flag == "" &&
		len(m.Feedback) == 0 && m.Polarity == "" {
		v.fail(path+".when", "set at least one condition (service, route, model, consumer, status, flag, feedback or polarity)")
	}
	if _, _, err := m.StatusRange(); err != nil {
		v.fail(path+".when.status", "%v", err)
	}
	if m.Flag != "" && m.OnFeedback() {
		v.fail(path+".when.flag", "a rule on feedback cannot also name a flag: make two rules")
	}
	if m.Polarity != "" && !slices.Contains(reviewPolarities, m.Polarity) {
		v.fail(path+".when.polarity", "must be negative or positive")
	}
	for _, name := range slices.Sorted(maps.Keys(m.Feedback)) {
		fp := path + ".when.feedback." + name
		v.scoreName(name, fp)
		if m.Feedback[name] == "" {
			v.fail(fp, "must be a boolean, a number or a string")
		}
	}
	if s := r.Sample; s != nil && (math.IsNaN(*s) || *s <= 0 || *s > 1) {
		v.fail(path+".sample", "must be greater than 0 and at most 1")
	}
}
