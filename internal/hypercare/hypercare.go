// Package hypercare compares a launch with what came before it: a window
// on a service, a release, a model or a prompt version is set against a
// baseline period on latency percentiles, error rate, positive-feedback
// ratio, anomaly rate, tokens and cost per call, each with a significance
// test and a plain verdict (improved, regressed, unchanged, not enough
// data), and its exit criteria are checked day by day until they have held
// long enough to leave hypercare. Reports render as JSON, Markdown and
// self-contained HTML.
//
// The figures come from a Source (the store): counts and sums are SQL
// aggregates, so a window of millions of calls is never loaded; the
// percentiles come from a bounded, evenly spread sample of latencies.
package hypercare

import (
	"context"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// Target selects the calls a window watches. Exactly one of Service,
// Model and Prompt is set; Release narrows Service to one release and
// PromptVersion narrows Prompt to one version (0: every version).
type Target struct {
	Service       string
	Release       int
	Model         string
	Prompt        string
	PromptVersion int
}

// TargetOf converts a window's declared target.
func TargetOf(t config.HypercareTarget) Target {
	switch {
	case t.Release != nil:
		return Target{Service: t.Release.Service, Release: t.Release.Number}
	case t.Prompt != nil:
		return Target{Prompt: t.Prompt.Name, PromptVersion: t.Prompt.Version}
	}
	return Target{Service: t.Service, Model: t.Model}
}

// String describes the target in words: "service support-bot",
// "release 3 of service support-bot", "model gpt-4o", "prompt summarize
// version 2".
func (t Target) String() string {
	switch {
	case t.Service != "" && t.Release > 0:
		return fmt.Sprintf("release %d of service %s", t.Release, t.Service)
	case t.Service != "":
		return "service " + t.Service
	case t.Model != "":
		return "model " + t.Model
	case t.Prompt != "" && t.PromptVersion > 0:
		return fmt.Sprintf("prompt %s version %d", t.Prompt, t.PromptVersion)
	case t.Prompt != "":
		return "prompt " + t.Prompt
	}
	return "nothing"
}

// Aggregates are the figures of a target's calls in a period. Synthetic
// (probe) calls are left out. Latency is not here: percentiles need a
// sample (Source.LatencySample).
type Aggregates struct {
	// Calls counts the calls; Errors those that failed (no HTTP answer,
	// or a status of 400 or more); Anomalies those a detector flagged.
	Calls, Errors, Anomalies int64
	// Tokens (input plus output) and Cost (USD) per call, as moments.
	Tokens, Cost Moments
	// Positive and Negative count the thumbs up and down (boolean
	// feedback) given on the period's calls.
	Positive, Negative int64
}

// Source reads the figures of a target's calls; the store implements it.
type Source interface {
	// HypercareAggregates sums the calls of t in [from, to).
	HypercareAggregates(ctx context.Context, t Target, from, to time.Time) (Aggregates, error)
	// HypercareDailyAggregates sums the calls of t in each of days
	// consecutive 24-hour days from start, one element per day.
	HypercareDailyAggregates(ctx context.Context, t Target, start time.Time, days int) ([]Aggregates, error)
	// HypercareLatencySample returns the latencies, in microseconds, of
	// at most max successful calls of t in [from, to): all of them when
	// there are few enough, otherwise every k-th call in time order, with
	// k the smallest stride that fits — the same calls each time.
	HypercareLatencySample(ctx context.Context, t Target, from, to time.Time, max int) ([]int64, error)
}

// State is where a window stands.
type State string

// The states of a window.
const (
	StateScheduled State = "scheduled"
	StateActive    State = "active"
	StateEnded     State = "ended"
	// StateReadyToExit is an active window whose exit criteria have held
	// long enough.
	StateReadyToExit State = "ready-to-exit"
)

// StateAt is the window's state at t, ready being whether its exit
// criteria have held long enough.
func StateAt(h config.Hypercare, t time.Time, ready bool) State {
	switch {
	case t.Before(h.Start):
		return StateScheduled
	case !t.Before(h.End()):
		return StateEnded
	case ready:
		return StateReadyToExit
	}
	return StateActive
}

// Day is 24 hours.
const Day = 24 * time.Hour

// MaxSample bounds the latencies sampled per period for the percentiles
// and their bootstrap; MaxDaySample those per day for the exit criteria.
const (
	MaxSample    = 20000
	MaxDaySample = 5000
)
