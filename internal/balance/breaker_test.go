package balance

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// call runs one call through the breaker if it allows it, and reports
// whether it did.
func call(b *Breaker, o Outcome) bool {
	p, ok := b.Allow()
	if ok {
		p.Done(o)
	}
	return ok
}

// Steps of a breaker scenario.
type step struct {
	advance time.Duration
	calls   int     // how many calls to make (1 when 0)
	outcome Outcome // what each allowed call returns
	allowed int     // how many of them must be allowed
	state   BreakerState
}

func TestBreakerTransitions(t *testing.T) {
	consecutive := BreakerConfig{Failures: 3, Cooldown: 10 * time.Second, MaxCooldown: 25 * time.Second}
	ratio := BreakerConfig{ErrorRatio: 0.5, MinRequests: 10, Window: 10 * time.Second, Cooldown: 5 * time.Second}
	cases := []struct {
		name  string
		cfg   BreakerConfig
		steps []step
	}{
		{
			name: "opens after consecutive failures",
			cfg:  consecutive,
			steps: []step{
				{calls: 2, outcome: ServerError, allowed: 2, state: Closed},
				{calls: 1, outcome: Timeout, allowed: 1, state: Open},
				{calls: 5, outcome: Success, allowed: 0, state: Open},
			},
		},
		{
			name: "a success resets the count",
			cfg:  consecutive,
			steps: []step{
				{calls: 2, outcome: ServerError, allowed: 2, state: Closed},
				{outcome: Success, allowed: 1, state: Closed},
				{calls: 2, outcome: ConnectionError, allowed: 2, state: Closed},
				{outcome: RateLimited, allowed: 1, state: Open},
			},
		},
		{
			name: "client errors and cancellations are not failures",
			cfg:  consecutive,
			steps: []step{
				{calls: 2, outcome: ServerError, allowed: 2, state: Closed},
				{calls: 5, outcome: Canceled, allowed: 5, state: Closed},
				{calls: 5, outcome: ClientError, allowed: 5, state: Closed},
				{calls: 2, outcome: ServerError, allowed: 2, state: Closed},
			},
		},
		{
			name: "a rejected key counts as a failure",
			cfg:  consecutive,
			steps: []step{
				{calls: 3, outcome: KeyRejected, allowed: 3, state: Open},
			},
		},
		{
			name: "half-open after the cool-down, a successful probe closes",
			cfg:  consecutive,
			steps: []step{
				{calls: 3, outcome: ServerError, allowed: 3, state: Open},
				{advance: 9 * time.Second, outcome: Success, allowed: 0, state: Open},
				{advance: time.Second, outcome: Success, allowed: 1, state: Closed},
				{calls: 10, outcome: Success, allowed: 10, state: Closed},
			},
		},
		{
			name: "a failed probe reopens with a doubled cool-down, capped",
			cfg:  consecutive,
			steps: []step{
				{calls: 3, outcome: ServerError, allowed: 3, state: Open},
				{advance: 10 * time.Second, outcome: ServerError, allowed: 1, state: Open},
				{advance: 19 * time.Second, outcome: Success, allowed: 0, state: Open},
				{advance: time.Second, outcome: ServerError, allowed: 1, state: Open},
				// 40s would be next, but the cap is 25s.
				{advance: 24 * time.Second, outcome: Success, allowed: 0, state: Open},
				{advance: time.Second, outcome: Success, allowed: 1, state: Closed},
				// Closing resets the cool-down.
				{calls: 3, outcome: ServerError, allowed: 3, state: Open},
				{advance: 10 * time.Second, outcome: Success, allowed: 1, state: Closed},
			},
		},
		{
			name: "the ratio needs the minimum of requests",
			cfg:  ratio,
			steps: []step{
				{calls: 9, outcome: ServerError, allowed: 9, state: Closed},
				{outcome: ServerError, allowed: 1, state: Open},
			},
		},
		{
			name: "the ratio opens at the threshold",
			cfg:  ratio,
			steps: []step{
				{calls: 10, outcome: Success, allowed: 10, state: Closed},
				{calls: 9, outcome: ServerError, allowed: 9, state: Closed},
				{outcome: ServerError, allowed: 1, state: Open},
			},
		},
		{
			name: "old calls leave the window",
			cfg:  ratio,
			steps: []step{
				{calls: 9, outcome: ServerError, allowed: 9, state: Closed},
				{advance: 11 * time.Second, calls: 9, outcome: Success, allowed: 9, state: Closed},
				{outcome: ServerError, allowed: 1, state: Closed},
			},
		},
		{
			name: "no rule, never opens",
			cfg:  BreakerConfig{Cooldown: time.Second},
			steps: []step{
				{calls: 1000, outcome: ServerError, allowed: 1000, state: Closed},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			tc.cfg.Now = clock.Now
			b := NewBreaker(tc.cfg)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				allowed := 0
				for range max(s.calls, 1) {
					if call(b, s.outcome) {
						allowed++
					}
				}
				if allowed != s.allowed || b.State() != s.state {
					t.Fatalf("step %d: %d allowed, state %v; want %d, %v", i, allowed, b.State(), s.allowed, s.state)
				}
			}
		})
	}
}

func TestBreakerHalfOpenProbes(t *testing.T) {
	clock := newFakeClock()
	b := NewBreaker(BreakerConfig{Failures: 1, Cooldown: time.Second, Probes: 2, Now: clock.Now})
	call(b, ServerError)
	clock.Advance(time.Second)

	p1, ok1 := b.Allow()
	p2, ok2 := b.Allow()
	_, ok3 := b.Allow()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("half-open let through %v %v %v, want two probes only", ok1, ok2, ok3)
	}
	if b.State() != HalfOpen {
		t.Fatalf("state %v, want half_open", b.State())
	}

	// A canceled probe says nothing; its slot goes to another call.
	p2.Done(Canceled)
	p3, ok := b.Allow()
	if !ok {
		t.Fatal("the slot of a canceled probe was not freed")
	}
	if _, ok := b.Allow(); ok {
		t.Fatal("a third probe was let through")
	}

	// One success out of two is not enough to close.
	p1.Done(Success)
	if b.State() != HalfOpen {
		t.Fatalf("state %v after one success, want half_open", b.State())
	}
	if _, ok := b.Allow(); ok {
		t.Fatal("a probe beyond the limit was let through after a success")
	}
	p3.Done(Success)
	if b.State() != Closed {
		t.Fatalf("state %v after two successes, want closed", b.State())
	}
}

func TestBreakerStalePermits(t *testing.T) {
	clock := newFakeClock()
	b := NewBreaker(BreakerConfig{Failures: 2, Cooldown: time.Second, Now: clock.Now})
	slow, _ := b.Allow() // allowed while closed, answers late
	call(b, ServerError)
	call(b, ServerError)
	if b.State() != Open {
		t.Fatalf("state %v, want open", b.State())
	}
	// Its success must not close the breaker behind the probes' back.
	slow.Done(Success)
	if b.State() != Open {
		t.Fatalf("a stale success moved the breaker to %v", b.State())
	}
	clock.Advance(time.Second)
	probe, ok := b.Allow()
	if !ok {
		t.Fatal("no probe after the cool-down")
	}
	Permit{b: b, gen: 0}.Done(ServerError) // a permit of the first generation

	if b.State() != HalfOpen {
		t.Fatalf("a stale failure moved the breaker to %v", b.State())
	}
	probe.Done(Success)
	if b.State() != Closed {
		t.Fatalf("state %v, want closed", b.State())
	}
}

func TestBreakerNil(t *testing.T) {
	var b *Breaker
	p, ok := b.Allow()
	if !ok {
		t.Fatal("a nil breaker refused a call")
	}
	p.Done(ServerError)
	if b.State() != Closed {
		t.Fatal("a nil breaker is not closed")
	}
}

func TestBreakerStateNames(t *testing.T) {
	for s, want := range map[BreakerState]string{Closed: "closed", Open: "open", HalfOpen: "half_open", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: got %q, want %q", s, s.String(), want)
		}
	}
}

// TestBreakerConcurrent is for the race detector: many goroutines failing
// and succeeding while the breaker opens, probes and closes.
func TestBreakerConcurrent(t *testing.T) {
	b := NewBreaker(BreakerConfig{Failures: 5, ErrorRatio: 0.5, MinRequests: 10, Window: time.Second,
		Cooldown: time.Millisecond, Probes: 2})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				o := Success
				if (i+g)%3 == 0 {
					o = ServerError
				}
				call(b, o)
				_ = b.State()
			}
		})
	}
	wg.Wait()
}

func TestBreakerBucketSaturates(t *testing.T) {
	b := NewBreaker(BreakerConfig{ErrorRatio: 0.9, MinRequests: 1, Window: time.Second, Cooldown: time.Second,
		Now: newFakeClock().Now})
	b.buckets[0].Store(uint64(0)<<(2*countBits) | countMask<<countBits | countMask)
	b.record(0, true)
	w := b.buckets[0].Load()
	if w>>countBits&countMask != countMask || w&countMask != countMask {
		t.Fatalf("a full bucket overflowed: %x", w)
	}
}
