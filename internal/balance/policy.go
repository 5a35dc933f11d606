package balance

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Policy is how one model's calls are retried. The zero value tries each
// target once, with no pause, no timeout of its own and no deadline, and
// moves on after no failure at all (RetryOn is empty).
type Policy struct {
	// Attempts is the number of retries: tries beyond the first one at each
	// target. The targets of a model are always tried in turn without
	// waiting, since they are different upstreams; Attempts adds tries
	// that come back to a target already tried, after a backoff.
	Attempts int
	// Backoff is the base of the exponential backoff before a retry.
	Backoff time.Duration
	// MaxBackoff caps the exponential backoff (not Retry-After); 0 leaves
	// it uncapped.
	MaxBackoff time.Duration
	// AttemptTimeout bounds each attempt; 0 leaves it to the caller's
	// default, the provider's timeout.
	AttemptTimeout time.Duration
	// Deadline bounds the whole call from its start: every attempt, pause
	// and fallback. 0 means none. Only the requested model's deadline
	// counts: its fallbacks share it.
	Deadline time.Duration
	// RetryOn lists the failures after which the call moves on: to the
	// model's next target, to a retry or to a fallback model. After any
	// other failure the call ends with it. KeyRejected always moves on:
	// the gateway's key is at fault, never the client.
	RetryOn OutcomeSet
}

// NoDeadline is the time left of a call that has no deadline.
const NoDeadline = time.Duration(math.MaxInt64)

// Delay returns how long to wait before retry number retry (1 for the first
// retry): exponential backoff with full jitter, as AWS recommends (a random
// duration between 0 and Backoff×2^(retry-1), capped by MaxBackoff), so that
// clients that failed together do not retry together. An upstream's
// Retry-After wins when it is longer. ok is false when the wait is not
// worth it: it would reach the deadline, left being the time remaining
// before it (NoDeadline when there is none); the caller then moves on to a
// fallback, if any, rather than wait for nothing.
func (p Policy) Delay(retry int, retryAfter, left time.Duration) (d time.Duration, ok bool) {
	return p.delay(retry, retryAfter, left, nil)
}

func (p Policy) delay(retry int, retryAfter, left time.Duration, rng *rand.Rand) (time.Duration, bool) {
	ceiling := p.backoffCeiling(retry)
	var d time.Duration
	if ceiling > 0 {
		d = time.Duration(int64n(rng, int64(ceiling)))
	}
	d = max(d, retryAfter)
	return d, d < left
}

// backoffCeiling is Backoff×2^(retry-1), capped by MaxBackoff and kept from
// overflowing.
func (p Policy) backoffCeiling(retry int) time.Duration {
	if p.Backoff <= 0 {
		return 0
	}
	limit := p.MaxBackoff
	if limit <= 0 {
		limit = NoDeadline
	}
	shift := max(retry-1, 0)
	if shift >= 62 || p.Backoff > limit>>shift {
		return limit
	}
	return min(p.Backoff<<shift, limit)
}

// maxRetryAfter bounds what an upstream may ask for; anything longer is
// past every deadline anyway, and the bound keeps the arithmetic exact.
const maxRetryAfter = 100 * 365 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After header: delay-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", and the two obsolete forms
// RFC 9110 still requires a recipient to accept), relative to now. A date in
// the past means no wait. Fractional seconds ("1.5") are accepted, as the
// official OpenAI and Anthropic SDKs accept them. ok is false for a missing
// or malformed header.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if d, ok := parseDecimal(h, time.Second); ok {
		return d, true
	}
	for _, layout := range []string{
		"Mon, 02 Jan 2006 15:04:05 GMT", // IMF-fixdate
		time.RFC850,
		time.ANSIC,
	} {
		if t, err := time.Parse(layout, h); err == nil {
			return min(max(t.Sub(now), 0), maxRetryAfter), true
		}
	}
	return 0, false
}

// ParseRetryAfterMS reads OpenAI's retry-after-ms header: a number of
// milliseconds, more precise than Retry-After and preferred to it when both
// are present.
func ParseRetryAfterMS(h string) (time.Duration, bool) {
	return parseDecimal(strings.TrimSpace(h), time.Millisecond)
}

// parseDecimal reads digits with an optional fraction ("12", "0.25") as a
// number of units. Signs, exponents, "inf" and "nan", which ParseFloat would
// take, are refused.
func parseDecimal(s string, unit time.Duration) (time.Duration, bool) {
	if s == "" || s == "." {
		return 0, false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	if f*float64(unit) >= float64(maxRetryAfter) {
		return maxRetryAfter, true
	}
	return time.Duration(f * float64(unit)), true
}

// int64n returns a random number in [0, n), from rng when there is one (a
// seeded generator in tests) and from the runtime's otherwise.
func int64n(rng *rand.Rand, n int64) int64 {
	if rng == nil {
		return rand.Int64N(n)
	}
	return rng.Int64N(n)
}

func intn(rng *rand.Rand, n int) int {
	if rng == nil {
		return rand.IntN(n)
	}
	return rng.IntN(n)
}
