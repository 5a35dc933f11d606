// Package alert evaluates the configuration's alert rules over the
// analytics rollups on a timer, keeps each rule's state per group (ok,
// pending, firing, resolved), records every transition, honours silences,
// and notifies webhooks and Slack-compatible receivers when an alert fires
// and when it resolves.
package alert

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// State is where one group of a rule stands.
type State string

// The states. A group is pending while its condition holds for less than
// the rule's for; firing once it has held that long; resolved when a
// firing condition has cleared (for longer than keep_firing_for).
const (
	StateOK       State = "ok"
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Severity is the level a value crosses.
type Severity string

// The severities; none when no threshold is crossed.
const (
	SeverityNone     Severity = ""
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// RuleLabel is the matcher name that matches a rule's name in silences.
const RuleLabel = "rule"

// Event is one transition of one group of a rule, as kept in the history.
type Event struct {
	ID     string            `json:"id"`
	Time   time.Time         `json:"time"`
	Rule   string            `json:"rule"`
	Labels map[string]string `json:"labels"`
	From   State             `json:"from"`
	To     State             `json:"to"`
	// Severity is the level at the transition; empty when resolving to ok.
	Severity Severity `json:"severity,omitempty"`
	// Value is the metric then; nil without data.
	Value *float64 `json:"value"`
	// Silenced is set when a silence kept the transition from being
	// notified.
	Silenced bool `json:"silenced,omitempty"`
}

// EventQuery selects history events, newest first.
type EventQuery struct {
	Rule   string    // "" for every rule
	Since  time.Time // zero for no lower bound
	Before time.Time // zero for no upper bound (exclusive)
	Limit  int       // 1 to MaxEvents; 0 means DefaultEvents
}

// History page sizes.
const (
	DefaultEvents = 100
	MaxEvents     = 1000
)

// Matcher matches one label of an alert (or its rule name, as the label
// RuleLabel): equal to Value, or matching it as an anchored regular
// expression when Regex.
type Matcher struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Regex bool   `json:"regex,omitempty"`
}

// Silence keeps the alerts it matches from being notified between Start
// and End. Their transitions are still evaluated and recorded.
type Silence struct {
	ID       string    `json:"id"`
	Matchers []Matcher `json:"matchers"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Author   string    `json:"author"`
	Comment  string    `json:"comment"`
	// CreatedAt is when the silence was made.
	CreatedAt time.Time `json:"created_at"`
}

// ErrInvalid marks a silence or a query the caller got wrong.
var ErrInvalid = errors.New("invalid alert request")

// MaxMatchers bounds the matchers of one silence.
const MaxMatchers = 20

// Validate checks a silence before it is stored: at least one matcher,
// valid regular expressions, an end after its start and an author.
func (s *Silence) Validate() error {
	if len(s.Matchers) == 0 || len(s.Matchers) > MaxMatchers {
		return fmt.Errorf("%w: a silence needs 1 to %d matchers", ErrInvalid, MaxMatchers)
	}
	for i, m := range s.Matchers {
		if m.Name == "" {
			return fmt.Errorf("%w: matchers[%d].name is required", ErrInvalid, i)
		}
		if m.Regex {
			if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
				return fmt.Errorf("%w: matchers[%d].value: %v", ErrInvalid, i, err)
			}
		}
	}
	if s.Start.IsZero() || s.End.IsZero() || !s.End.After(s.Start) {
		return fmt.Errorf("%w: a silence needs a start and an end after it", ErrInvalid)
	}
	if strings.TrimSpace(s.Author) == "" {
		return fmt.Errorf("%w: a silence needs an author", ErrInvalid)
	}
	return nil
}

// Active reports whether the silence applies at t.
func (s *Silence) Active(t time.Time) bool {
	return !t.Before(s.Start) && t.Before(s.End)
}

// Matches reports whether every matcher of the silence matches the alert
// of rule with labels.
func (s *Silence) Matches(rule string, labels map[string]string) bool {
	for _, m := range s.Matchers {
		v := labels[m.Name]
		if m.Name == RuleLabel {
			v = rule
		}
		if m.Regex {
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil || !re.MatchString(v) {
				return false
			}
		} else if v != m.Value {
			return false
		}
	}
	return true
}

// Store keeps the history of transitions and the silences; the store
// package implements it for SQLite and PostgreSQL.
type Store interface {
	// InsertAlertEvents records transitions.
	InsertAlertEvents(ctx context.Context, evs []Event) error
	// AlertEvents returns the transitions q selects, newest first.
	AlertEvents(ctx context.Context, q EventQuery) ([]Event, error)
	// InsertSilence stores a new silence.
	InsertSilence(ctx context.Context, s Silence) error
	// Silences returns the silences that end after t (every one when t is
	// zero), by start.
	Silences(ctx context.Context, t time.Time) ([]Silence, error)
	// DeleteSilence removes a silence; an unknown id is an error wrapping
	// the store's ErrNotFound.
	DeleteSilence(ctx context.Context, id string) error
	// PruneAlerts deletes the transitions recorded before t and the
	// silences that ended before it.
	PruneAlerts(ctx context.Context, t time.Time) error
}

// HistoryRetention is how long transitions and ended silences are kept.
const HistoryRetention = 90 * 24 * time.Hour

// NewID returns a time-ordered identifier with prefix.
func NewID(prefix string) string {
	id, err := uuid.NewV7()
	if err != nil {
		return prefix + uuid.NewString()
	}
	return prefix + id.String()
}

// labelsKey is the canonical form of a group's labels, a map key.
func labelsKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}
