package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoutingDefaults(t *testing.T) {
	c := mustParse(t, modelBase)
	m := c.Models[0]
	wantRetry := &Retry{
		Attempts:   0,
		Backoff:    Duration(200 * time.Millisecond),
		MaxBackoff: Duration(5 * time.Second),
		RetryOn:    []string{"server_error", "rate_limited", "timeout", "connection_error"},
	}
	if !reflect.DeepEqual(m.Retry, wantRetry) {
		t.Errorf("retry: got %+v, want %+v", m.Retry, wantRetry)
	}
	wantBreaker := &Breaker{Failures: 5, ErrorRatio: 0.5, MinRequests: 20,
		Window: Duration(30 * time.Second), Cooldown: Duration(30 * time.Second)}
	if !reflect.DeepEqual(m.Breaker, wantBreaker) {
		t.Errorf("breaker: got %+v, want %+v", m.Breaker, wantBreaker)
	}
	if m.Fallbacks != nil || m.Timeout != 0 || m.AttemptTimeout != 0 {
		t.Errorf("optional routing fields: got %+v", m)
	}
}

func TestRoutingPartialDefaults(t *testing.T) {
	c := mustParse(t, modelBase+"    retry: {attempts: 3}\n    breaker: {cooldown: 1m, disabled: true}\n    fallbacks: []\n")
	m := c.Models[0]
	if r := m.Retry; r.Attempts != 3 || r.Backoff != DefaultBackoff || r.MaxBackoff != DefaultMaxBackoff || len(r.RetryOn) != 4 {
		t.Errorf("retry: got %+v", r)
	}
	if b := m.Breaker; !b.Disabled || b.Cooldown.Std() != time.Minute || b.Failures != DefaultBreakerFailures || b.Window != DefaultBreakerWindow {
		t.Errorf("breaker: got %+v", b)
	}
	if m.Fallbacks != nil {
		t.Errorf("an empty fallbacks list is not nil: %q", m.Fallbacks)
	}
}

func TestParseFullRouting(t *testing.T) {
	c := mustParse(t, string(readFile(t, "full.yaml")))
	m := c.Models[0]
	if !reflect.DeepEqual(m.Fallbacks, []string{"llama3:8b"}) {
		t.Errorf("fallbacks: got %q", m.Fallbacks)
	}
	wantRetry := &Retry{Attempts: 2, Backoff: Duration(250 * time.Millisecond), MaxBackoff: Duration(4 * time.Second),
		RetryOn: []string{RetryOnServerError, RetryOnRateLimited, RetryOnTimeout}}
	if !reflect.DeepEqual(m.Retry, wantRetry) {
		t.Errorf("retry: got %+v, want %+v", m.Retry, wantRetry)
	}
	if m.Timeout.Std() != 30*time.Second || m.AttemptTimeout.Std() != 10*time.Second {
		t.Errorf("timeouts: got %v and %v", m.Timeout, m.AttemptTimeout)
	}
	wantBreaker := &Breaker{Failures: 3, ErrorRatio: 0.25, MinRequests: 10, Window: Duration(time.Minute), Cooldown: Duration(15 * time.Second)}
	if !reflect.DeepEqual(m.Breaker, wantBreaker) {
		t.Errorf("breaker: got %+v, want %+v", m.Breaker, wantBreaker)
	}
	if !c.Models[1].Breaker.Disabled {
		t.Error("llama3:8b: breaker not disabled")
	}
	if fast := c.Models[2]; fast.Strategy != StrategyLatency || fast.Fallbacks[0] != "gpt-4o-mini" {
		t.Errorf("chat-fast: got %+v", fast)
	}
}

// TestApplyDefaultsCopiesShared covers configurations built in Go, where two
// models may share one *Retry: filling in one must not change the other's
// meaning, and defaults must not leak back into the caller's value.
func TestApplyDefaultsCopiesShared(t *testing.T) {
	shared := &Retry{Attempts: 1}
	c := &Config{Models: []Model{{Name: "a", Retry: shared}, {Name: "b", Retry: shared}}}
	c.ApplyDefaults()
	if shared.Backoff != 0 || shared.RetryOn != nil {
		t.Errorf("the caller's Retry was modified: %+v", shared)
	}
	if c.Models[0].Retry == c.Models[1].Retry {
		t.Error("two models still share one Retry")
	}
	before := *c.Models[0].Retry
	c.ApplyDefaults()
	if !reflect.DeepEqual(*c.Models[0].Retry, before) {
		t.Errorf("ApplyDefaults is not idempotent: %+v then %+v", before, *c.Models[0].Retry)
	}
}

func TestRoutingJSON(t *testing.T) {
	_, err := ParseJSON([]byte(`{"providers":[{"name":"p","type":"openai"}],
		"models":[{"name":"m","targets":[{"provider":"p"}],"fallbacks":["m"],"retry":{"attempts":1,"retry_on":["never"]}}]}`))
	// Without lines, errors come in the order of validation: fallbacks are
	// checked once every model is known.
	want := `models[0].retry.retry_on[0]: unknown condition "never" (one of: server_error, rate_limited, timeout, connection_error)` + "\n" +
		"models[0].fallbacks[0]: a model cannot fall back to itself"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	_, err = ParseJSON([]byte(`{"models":[{"name":"m","targets":[{"provider":"p"}],"retry":{"tries":1}}]}`))
	if err == nil || !strings.Contains(err.Error(), `unknown field "tries"`) {
		t.Errorf("an unknown retry field was accepted: %v", err)
	}
}

func TestRetryConditionsIsACopy(t *testing.T) {
	RetryConditions()[0] = "changed"
	if retryConditions[0] != RetryOnServerError {
		t.Error("RetryConditions exposes the package's slice")
	}
}
