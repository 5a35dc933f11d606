package admin

import (
	"time"

	"github.com/hypergate/hypergate/internal/probe"
)

// oasProbes is a probe scheduler's answer with every field set: one probe
// that passed, then failed an assertion.
type oasProbes struct{}

func (oasProbes) Status() []probe.Status {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return []probe.Status{{
		Name: "chat-canary", Target: "model gpt-4o-mini", Interval: "30s", Consumer: "web-shop",
		Results: []probe.Result{
			{Time: at.Add(30 * time.Second), RequestID: "probe-AAAAAAAAAAAAAAAAAAAAAAAAAB", Status: 502, LatencyMS: 12.5,
				Failure: &probe.Failure{Assertion: "status", Message: "502 is not one of 2xx"}},
			{Time: at, RequestID: "probe-AAAAAAAAAAAAAAAAAAAAAAAAAA", Pass: true, Status: 200, LatencyMS: 80.25},
		},
	}, {Name: "orders-health", Target: "GET /orders/health", Interval: "1m", Results: []probe.Result{}}}
}
