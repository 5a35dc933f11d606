// Package calllog records every data-plane call: the record type, a bounded
// queue in front of a batch writer, a spill file for when the queue is full or
// the store is down, and retention so the log never grows without bound.
package calllog

import "time"

// Record is one data-plane call, rejected ones included. Durations are kept in
// microseconds so that they sort and aggregate as plain integers in SQL.
type Record struct {
	ID            string    `json:"id"` // the request id returned in X-Request-Id
	Time          time.Time `json:"time"`
	Consumer      string    `json:"consumer,omitempty"`
	KeyID         string    `json:"key_id,omitempty"`
	Endpoint      string    `json:"endpoint"`          // e.g. /v1/chat/completions
	Service       string    `json:"service,omitempty"` // the service whose route took the call; "" for the /v1 endpoints
	Route         string    `json:"route,omitempty"`   // that route: its name, or its index among the service's routes
	Model         string    `json:"model,omitempty"`
	Provider      string    `json:"provider,omitempty"`
	UpstreamModel string    `json:"upstream_model,omitempty"`
	Status        int       `json:"status"`
	ErrorType     string    `json:"error_type,omitempty"`
	ErrorMessage  string    `json:"error_message,omitempty"`
	LatencyUS     int64     `json:"latency_us"`
	UpstreamUS    int64     `json:"upstream_us,omitempty"`
	TTFTUS        int64     `json:"ttft_us,omitempty"`
	InputTokens   int64     `json:"input_tokens,omitempty"`
	OutputTokens  int64     `json:"output_tokens,omitempty"`
	CostUSD       float64   `json:"cost_usd,omitempty"`
	Stream        bool      `json:"stream,omitempty"`
	RequestBytes  int64     `json:"request_bytes"`
	ResponseBytes int64     `json:"response_bytes"`
	ClientIP      string    `json:"client_ip,omitempty"`
	UserAgent     string    `json:"user_agent,omitempty"`
	TraceID       string    `json:"trace_id,omitempty"`
	RequestBody   string    `json:"request_body,omitempty"`  // capped and redacted
	ResponseBody  string    `json:"response_body,omitempty"` // capped and redacted
	// Attempts lists every try of the call in order, the answering one last;
	// empty for calls rejected before any upstream was tried.
	Attempts []Attempt `json:"attempts,omitempty"`
	// Fallback is true when a fallback model, not the one asked for, answered.
	Fallback bool `json:"fallback,omitempty"`
	// UsageEstimated is true when the upstream reported no usage (an aborted
	// stream) and the token counts were estimated.
	UsageEstimated bool `json:"usage_estimated,omitempty"`
	// Dropped names the request fields a translation left out on purpose
	// because the upstream's format has no counterpart (docs/translation.md).
	Dropped []string `json:"dropped,omitempty"`
	// CacheHit is true when the answer came from the response cache: no
	// upstream was called, so the call has no attempts and costs nothing;
	// its token counts are those of the cached answer, for reference.
	CacheHit bool `json:"cache_hit,omitempty"`
	// Prompt and PromptVersion name the prompt API (and its version) whose
	// template made the request, so that versions can be compared; empty
	// for calls to the other endpoints.
	Prompt        string `json:"prompt,omitempty"`
	PromptVersion int    `json:"prompt_version,omitempty"`
	// Release is the release of the service that served the call, the
	// canary's when the call fell in its share; 0 for calls no service's
	// route took, or to a service with no release known yet.
	Release int `json:"release,omitempty"`
	// Synthetic is true for a call a probe made (internal/probe), not a
	// client: analytics leave such calls out. Probe names that probe, and
	// for a failed assertion ErrorType is probe_assertion_failed and
	// ErrorMessage says which assertion failed.
	Synthetic bool   `json:"synthetic,omitempty"`
	Probe     string `json:"probe,omitempty"`
	// Flags name the anomaly detectors that flagged the call (empty_output,
	// refusal, latency_outlier …), set off the request path before the
	// record is stored.
	Flags []string `json:"flags,omitempty"`
}

// Attempt is one try of a call against one target. It names the key by its
// id, never the key.
type Attempt struct {
	Provider      string `json:"provider"`
	UpstreamModel string `json:"upstream_model"`
	KeyID         string `json:"key_id,omitempty"`
	Status        int    `json:"status,omitempty"`     // 0 when no HTTP answer came
	ErrorType     string `json:"error_type,omitempty"` // e.g. upstream_timeout, rate_limit_exceeded
	LatencyUS     int64  `json:"latency_us"`
}

// Filter selects call records for listing. Zero fields do not filter.
type Filter struct {
	Since, Until time.Time
	Consumer     string
	Model        string
	Service      string
	Status       int
	// HasFeedback: nil = any, true = only calls with feedback, false = only without.
	HasFeedback *bool
	// CacheHit: nil = any, true = only answers from the response cache,
	// false = only the others.
	CacheHit *bool
	// Prompt and PromptVersion: only calls of this prompt API (and version).
	Prompt        string
	PromptVersion int
	// Synthetic: nil = any, true = only probe calls, false = only client
	// calls.
	Synthetic *bool
	// Probe: only the calls of this probe.
	Probe string
	// Flag: only the calls an anomaly detector flagged with this name.
	Flag string
	// Feedback: only the calls with feedback that matches (the zero
	// value: any call); see ParseFeedbackMatch.
	Feedback FeedbackMatch
	// Cursor is the opaque value returned as Page.Next by the previous page.
	Cursor string
	Limit  int
}

// Page is one page of call records, newest first.
type Page struct {
	Calls []Record `json:"data"`
	Next  string   `json:"next_cursor,omitempty"`
}
