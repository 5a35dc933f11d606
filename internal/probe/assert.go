// Package probe runs synthetic probes: requests the gateway sends to its
// own data plane on a schedule, over loopback, so that what they measure is
// what users get — keys, policies, routing, retries and upstreams included.
// Each run's assertions are evaluated and its call recorded like any other,
// marked synthetic so that analytics leave it out.
package probe

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/config"
)

// Failure says which assertion a run failed and why.
type Failure struct {
	// Assertion is status, max_latency, json or body_contains.
	Assertion string `json:"assertion"`
	// Message describes the failure, e.g. "502 is not one of 2xx".
	Message string `json:"message"`
}

func (f *Failure) String() string { return f.Assertion + ": " + f.Message }

// Evaluate checks a response against a probe's assertions, in the order
// status, latency, JSON paths, body text, and returns the first that fails,
// or nil when all pass.
func Evaluate(a config.ProbeAssertions, status int, latency time.Duration, body []byte) *Failure {
	ranges, err := a.StatusRanges()
	if err != nil {
		return &Failure{"status", err.Error()}
	}
	ok := false
	for _, r := range ranges {
		ok = ok || r.Contains(status)
	}
	if !ok {
		want := a.Status
		if len(want) == 0 {
			want = []string{"2xx"}
		}
		return &Failure{"status", fmt.Sprintf("%d is not one of %s", status, strings.Join(want, ", "))}
	}
	if a.MaxLatency > 0 && latency > a.MaxLatency.Std() {
		return &Failure{"max_latency", fmt.Sprintf("took %s, more than %s", latency.Round(time.Millisecond), a.MaxLatency)}
	}
	if len(a.JSON) > 0 && !gjson.ValidBytes(body) {
		return &Failure{"json", "the response body is not JSON"}
	}
	for _, j := range a.JSON {
		v := gjson.GetBytes(body, j.Path)
		if j.Exists != nil && v.Exists() != *j.Exists {
			if *j.Exists {
				return &Failure{"json", fmt.Sprintf("%s does not exist", j.Path)}
			}
			return &Failure{"json", fmt.Sprintf("%s exists", j.Path)}
		}
		if j.Equals != nil {
			if !v.Exists() {
				return &Failure{"json", fmt.Sprintf("%s does not exist, want %q", j.Path, *j.Equals)}
			}
			if got := v.String(); got != *j.Equals {
				return &Failure{"json", fmt.Sprintf("%s is %s, want %q", j.Path, quote(got), *j.Equals)}
			}
		}
	}
	if a.BodyContains != "" && !strings.Contains(string(body), a.BodyContains) {
		return &Failure{"body_contains", fmt.Sprintf("the response body does not contain %q", a.BodyContains)}
	}
	return nil
}

// quote shows a value found in a response, cut short: responses are not
// trusted to be small.
func quote(s string) string {
	const max = 120
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
