// Package triage groups what goes wrong with recorded calls — failures,
// anomalies the detectors flag, negative feedback — into incidents: one per
// fingerprint, however many calls share it, with first and last sight,
// counts, the consumers and end users affected, hourly counts for a trend,
// a severity and a priority score, a workflow (open, acknowledged, resolved
// or ignored; a resolved incident seen again reopens as a regression),
// notes, sample calls, and webhooks when an incident is new or regresses.
//
// The package computes fingerprints, aggregates each batch of calls per
// fingerprint and ranks incidents; the store keeps them (upserting each
// fingerprint once per batch under a unique constraint, so that concurrent
// writers and several nodes still make one incident per fingerprint).
package triage

import (
	"time"
)

// Kind is what an incident is about.
type Kind string

// The kinds of incident.
const (
	// KindFailure groups calls that failed: an error status or error type.
	KindFailure Kind = "failure"
	// KindAnomaly groups calls an anomaly detector flagged.
	KindAnomaly Kind = "anomaly"
	// KindFeedback groups negative feedback on calls.
	KindFeedback Kind = "feedback"
)

// Kinds returns every kind.
func Kinds() []Kind { return []Kind{KindFailure, KindAnomaly, KindFeedback} }

// State is where an incident is in its workflow.
type State string

// The states. Open → acknowledged → resolved, or ignored from any; a
// resolved incident seen again goes back to open as a regression. An
// ignored incident keeps counting but never notifies.
const (
	StateOpen         State = "open"
	StateAcknowledged State = "acknowledged"
	StateResolved     State = "resolved"
	StateIgnored      State = "ignored"
)

// States returns every state.
func States() []State { return []State{StateOpen, StateAcknowledged, StateResolved, StateIgnored} }

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	switch s {
	case StateOpen, StateAcknowledged, StateResolved, StateIgnored:
		return true
	}
	return false
}

// Status classes of failures, part of a failure's fingerprint.
const (
	ClassServerError = "5xx"
	ClassClientError = "4xx"
	ClassTimeout     = "timeout"
	ClassConnection  = "connection"
	// ClassStream is a call whose answer started well (a 2xx) and then
	// broke off with an error.
	ClassStream = "stream"
)

// SeverityNegativeFeedback is the key of negative feedback's severity in
// the configuration's overrides (the others are status classes and
// anomaly flags).
const SeverityNegativeFeedback = "negative_feedback"

// Key is what a fingerprint is made of. Which fields are set depends on the
// kind: a failure has its status class, error code and normalised message;
// an anomaly its flag and finish reason; negative feedback its score name.
type Key struct {
	Kind     Kind   `json:"kind"`
	Service  string `json:"service,omitempty"`
	Route    string `json:"route,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	// StatusClass is one of the Class constants (failures).
	StatusClass string `json:"status_class,omitempty"`
	// ErrorCode is the provider's or gateway's error code, such as
	// rate_limit_exceeded (failures).
	ErrorCode string `json:"error_code,omitempty"`
	// Message is the error message with its variable parts replaced by
	// placeholders (see Normalize).
	Message string `json:"message,omitempty"`
	// Flag is the anomaly detector's name (anomalies).
	Flag string `json:"flag,omitempty"`
	// FinishReason is the answer's finish reason, when the captured
	// response names one (anomalies).
	FinishReason string `json:"finish_reason,omitempty"`
	// Score is the name of the feedback score (negative feedback).
	Score string `json:"score,omitempty"`
}

// Incident is one fingerprint's record: what it is, how often and whom it
// hit, and where it stands.
type Incident struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	Key
	// Title is a one-line description made from the key.
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	State    State    `json:"state"`
	// Regressed is true once a resolved incident was seen again; it stays
	// set, and Regressions counts how many times it happened.
	Regressed   bool      `json:"regressed"`
	Regressions int       `json:"regressions"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Count is the calls (or pieces of feedback) the incident grouped.
	Count int64 `json:"count"`
	// Consumers and EndUsers count the distinct consumers and end users
	// affected, exactly (see package store's incident_subjects).
	Consumers int64 `json:"consumers"`
	EndUsers  int64 `json:"end_users"`
	// StateChanged is when the state last changed, and StateBy who changed
	// it ("triage" for a regression).
	StateChanged time.Time `json:"state_changed"`
	StateBy      string    `json:"state_by,omitempty"`
	// ResolvedAt is when it was last resolved; a call seen after that time
	// reopens it.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Recent is the count of the last 24 hours, from the hourly counts.
	Recent int64 `json:"recent_24h"`
	// Trend compares the current hour with the one before.
	Trend Trend `json:"trend"`
	// Share is the incident's calls over the route's calls from the hour it
	// was first seen to the hour it was last seen (analytics rollups), when
	// that is known; nil otherwise.
	Share *float64 `json:"share,omitempty"`
	// Priority ranks incidents: see Priority.
	Priority float64 `json:"priority"`
}

// Trend compares the incident's count in the current clock hour so far
// with its count in the whole hour before.
type Trend struct {
	LastHour     int64 `json:"last_hour"`
	PreviousHour int64 `json:"previous_hour"`
	// Direction is "up", "down" or "flat".
	Direction string `json:"direction"`
}

// NewTrend makes the trend of two hourly counts.
func NewTrend(last, previous int64) Trend {
	d := "flat"
	switch {
	case last > previous:
		d = "up"
	case last < previous:
		d = "down"
	}
	return Trend{LastHour: last, PreviousHour: previous, Direction: d}
}

// Detail is an incident with its samples, notes and hourly counts.
type Detail struct {
	Incident
	// Samples are the latest calls of the incident, newest first (at most
	// MaxSamples).
	Samples []Sample `json:"samples"`
	Notes   []Note   `json:"notes"`
	// Hourly are the counts per hour, oldest first.
	Hourly []HourCount `json:"hourly"`
}

// MaxSamples is how many request ids an incident keeps: the newest.
const MaxSamples = 20

// Sample is one call an incident grouped.
type Sample struct {
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
}

// HourCount is an incident's count in one clock hour.
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count int64     `json:"count"`
}

// Note is an operator's remark on an incident.
type Note struct {
	ID     string    `json:"id"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
}

// MaxNoteBytes bounds a note's text.
const MaxNoteBytes = 16 << 10

// Group is what one batch saw of one fingerprint: the store adds it to the
// fingerprint's incident in one upsert.
type Group struct {
	// ID is the id the incident gets if the group creates it; a random
	// one when empty (imports and fixtures name their own).
	ID          string
	Fingerprint string
	Key         Key
	Severity    Severity
	Count       int64
	First, Last time.Time
	// Consumers and EndUsers are the distinct values seen in the batch.
	Consumers []string
	EndUsers  []string
	// Hours are the counts per clock hour.
	Hours []HourCount
	// Samples are the batch's newest calls, newest first, at most
	// MaxSamples.
	Samples []Sample
	// Once, when set, makes the group count at most once per incident
	// under that key: a piece of feedback that toggles back to negative
	// is not counted twice.
	Once string
}

// Change is what adding a group did to its incident.
type Change struct {
	Incident Incident
	// New is true when the group created the incident, Regressed when it
	// reopened a resolved one.
	New, Regressed bool
}

// Filter selects incidents. Zero fields do not filter.
type Filter struct {
	State   State
	Service string
	Model   string
	Kind    Kind
	// Sort is SortPriority (the default), SortLastSeen, SortFirstSeen or
	// SortCount, each highest or newest first.
	Sort  string
	Limit int
	// Consumers and Services, when Scoped, limit the incidents to those
	// of one of the services or that affected one of the consumers.
	Scoped    bool
	Consumers []string
	Services  []string
}

// Sort orders.
const (
	SortPriority  = "priority"
	SortLastSeen  = "last_seen"
	SortFirstSeen = "first_seen"
	SortCount     = "count"
)

// DefaultLimit and MaxLimit bound a listing.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// CanMove reports whether an incident in state from may be moved to state
// to by an operator: acknowledged from open; resolved from open or
// acknowledged; ignored from any other state; open again (reopen) from
// acknowledged, resolved or ignored. Reopening by a regression is the
// store's, not an operator's, move.
func CanMove(from, to State) bool {
	switch to {
	case StateAcknowledged:
		return from == StateOpen
	case StateResolved:
		return from == StateOpen || from == StateAcknowledged
	case StateIgnored:
		return from.Valid() && from != StateIgnored
	case StateOpen:
		return from == StateAcknowledged || from == StateResolved || from == StateIgnored
	}
	return false
}
