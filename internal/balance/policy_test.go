package balance

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestDelayJitterBounds(t *testing.T) {
	p := Policy{Backoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
	cases := []struct {
		name    string
		retry   int
		ceiling time.Duration
	}{
		{"first retry", 1, 200 * time.Millisecond},
		{"second retry doubles", 2, 400 * time.Millisecond},
		{"fifth retry", 5, 3200 * time.Millisecond},
		{"sixth retry is capped", 6, 5 * time.Second},
		{"huge retry number is capped without overflow", 1000, 5 * time.Second},
		{"retry 0 is treated as the first", 0, 200 * time.Millisecond},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lo, hi time.Duration = tc.ceiling, 0
			for range 2000 {
				d, ok := p.delay(tc.retry, 0, NoDeadline, rng)
				if !ok {
					t.Fatal("not worth waiting with no deadline")
				}
				if d < 0 || d >= tc.ceiling {
					t.Fatalf("delay %v outside [0, %v)", d, tc.ceiling)
				}
				lo, hi = min(lo, d), max(hi, d)
			}
			// Full jitter spreads over the whole range, not a slice of it.
			if lo > tc.ceiling/10 || hi < tc.ceiling*9/10 {
				t.Errorf("delays span [%v, %v], want most of [0, %v)", lo, hi, tc.ceiling)
			}
		})
	}
}

func TestDelayRules(t *testing.T) {
	p := Policy{Backoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
	cases := []struct {
		name       string
		policy     Policy
		retry      int
		retryAfter time.Duration
		left       time.Duration
		min, max   time.Duration // the delay's bounds, inclusive
		ok         bool
	}{
		{"retry-after longer than backoff wins", p, 1, 3 * time.Second, NoDeadline, 3 * time.Second, 3 * time.Second, true},
		{"retry-after beyond max backoff still honoured", p, 1, 20 * time.Second, NoDeadline, 20 * time.Second, 20 * time.Second, true},
		{"retry-after shorter than backoff", p, 3, time.Millisecond, NoDeadline, time.Millisecond, 800 * time.Millisecond, true},
		{"retry-after within the deadline", p, 1, 2 * time.Second, 3 * time.Second, 2 * time.Second, 2 * time.Second, true},
		{"retry-after past the deadline is not worth waiting", p, 1, 10 * time.Second, 3 * time.Second, 10 * time.Second, 10 * time.Second, false},
		{"retry-after equal to what is left", p, 1, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, false},
		{"deadline already reached", p, 1, 0, 0, 0, 200 * time.Millisecond, false},
		{"no backoff configured", Policy{}, 4, 0, NoDeadline, 0, 0, true},
		{"no cap", Policy{Backoff: time.Second}, 11, 0, NoDeadline, 0, 1024 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 {
				d, ok := tc.policy.Delay(tc.retry, tc.retryAfter, tc.left)
				if ok != tc.ok {
					t.Fatalf("Delay = %v, %v; want ok %v", d, ok, tc.ok)
				}
				if d < tc.min || d > tc.max {
					t.Fatalf("Delay = %v, want within [%v, %v]", d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    string
		want time.Duration
		ok   bool
	}{
		{"delay-seconds", "120", 2 * time.Minute, true},
		{"zero", "0", 0, true},
		{"padded", "  5 ", 5 * time.Second, true},
		{"fractional seconds", "1.5", 1500 * time.Millisecond, true},
		{"imf-fixdate", "Wed, 21 Oct 2015 07:28:30 GMT", 30 * time.Second, true},
		{"rfc 850 date", "Wednesday, 21-Oct-15 07:29:00 GMT", time.Minute, true},
		{"asctime date", "Wed Oct 21 07:28:10 2015", 10 * time.Second, true},
		{"date in the past", "Wed, 21 Oct 2015 07:00:00 GMT", 0, true},
		{"huge number is bounded", "99999999999999999999", maxRetryAfter, true},
		{"empty", "", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"exponent", "1e3", 0, false},
		{"infinity", "inf", 0, false},
		{"not a number", "soon", 0, false},
		{"two dots", "1.2.3", 0, false},
		{"lone dot", ".", 0, false},
		{"date in another zone", "Wed, 21 Oct 2015 07:28:30 CET", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tc.h, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.h, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseRetryAfterMS(t *testing.T) {
	cases := []struct {
		name string
		h    string
		want time.Duration
		ok   bool
	}{
		{"milliseconds", "250", 250 * time.Millisecond, true},
		{"fractional", "12.5", 12500 * time.Microsecond, true},
		{"zero", "0", 0, true},
		{"empty", "", 0, false},
		{"negative", "-1", 0, false},
		{"unit written out", "250ms", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseRetryAfterMS(tc.h)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseRetryAfterMS(%q) = %v, %v; want %v, %v", tc.h, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParseRetryAfter feeds upstream headers, which the gateway does not
// control, to both parsers: they must never panic nor return a negative or
// unbounded wait.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT",
		"Wed Oct 21 07:28:00 2015", "", "-1", "1e309", "99999999999999999999999999", "0.0000001"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		for _, parse := range []func(string) (time.Duration, bool){
			func(s string) (time.Duration, bool) { return ParseRetryAfter(s, now) },
			ParseRetryAfterMS,
		} {
			d, ok := parse(h)
			if d < 0 || d > maxRetryAfter {
				t.Fatalf("%q: wait %v out of range", h, d)
			}
			if !ok && d != 0 {
				t.Fatalf("%q: refused but returned %v", h, d)
			}
		}
	})
}
