package balance

import (
	"sync"
	"sync/atomic"
	"time"
)

// BreakerConfig says when a Breaker opens and how it recovers.
type BreakerConfig struct {
	// Failures opens the breaker after that many failures in a row; 0
	// turns this rule off.
	Failures int
	// ErrorRatio opens the breaker when failures make up at least this
	// share of the calls in the last Window; 0 turns this rule off.
	ErrorRatio float64
	// MinRequests is how many calls the window must hold before the ratio
	// counts, so that one failure out of two calls opens nothing.
	MinRequests int
	// Window is the span of the error ratio; 0 turns the ratio rule off.
	Window time.Duration
	// Cooldown is how long the breaker stays open the first time. Each
	// failed probe doubles it, up to MaxCooldown; closing resets it.
	Cooldown time.Duration
	// MaxCooldown caps the growing cool-down; 0 means 10×Cooldown.
	MaxCooldown time.Duration
	// Probes is how many calls half-open lets through, and how many of
	// them must succeed for the breaker to close; 0 means 1.
	Probes int
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// BreakerState is the state of a Breaker.
type BreakerState uint8

// The states of a Breaker.
const (
	// Closed lets every call through and counts failures.
	Closed BreakerState = iota
	// Open refuses every call until the cool-down is over.
	Open
	// HalfOpen lets a few probe calls through to see if the target is back.
	HalfOpen
)

// String returns "closed", "open" or "half_open", for metrics and the
// admin API.
func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// Breaker is a circuit breaker for one target: it stops sending calls to a
// target that keeps failing, so that they go at once to a target that
// works, and lets a few through after a cool-down to find out whether it is
// back. A nil *Breaker lets everything through.
//
// Closed is the hot path: Allow is one atomic load, Done a few atomic
// operations and no lock. Transitions, and everything in the half-open
// state, take a mutex; they are rare.
type Breaker struct {
	cfg   BreakerConfig
	now   func() time.Time
	start time.Time // elapsed times are counted from here, monotonically

	// state holds the state in its low two bits and a generation above,
	// bumped on every transition, so that a call allowed under an earlier
	// state cannot move the breaker when it ends.
	state       atomic.Uint64
	consecutive atomic.Int64
	openUntil   atomic.Int64 // elapsed nanoseconds
	width       int64        // nanoseconds per bucket; 0 with no ratio rule
	buckets     [numBuckets]atomic.Uint64

	mu        sync.Mutex // transitions and the fields below
	cooldown  time.Duration
	probing   int // probes let through with no verdict yet
	succeeded int // probes that succeeded
}

// The error-ratio window is a ring of buckets. Each bucket packs, in one
// word updated by compare-and-swap, the number of the period it counts
// (24 bits, enough for years of periods before one could be mistaken for
// another) and its calls and failures (20 bits each, saturating).
const (
	numBuckets = 10
	countBits  = 20
	countMask  = 1<<countBits - 1
	epochMask  = 1<<24 - 1
)

// NewBreaker returns a closed breaker.
func NewBreaker(cfg BreakerConfig) *Breaker {
	if cfg.Probes <= 0 {
		cfg.Probes = 1
	}
	if cfg.MaxCooldown <= 0 {
		cfg.MaxCooldown = 10 * cfg.Cooldown
	}
	b := &Breaker{cfg: cfg, now: cfg.Now, cooldown: cfg.Cooldown}
	if b.now == nil {
		b.now = time.Now
	}
	b.start = b.now()
	if cfg.ErrorRatio > 0 && cfg.Window > 0 {
		b.width = max(int64(cfg.Window)/numBuckets, 1)
	}
	return b
}

// Permit is a call let through by Allow. Its Done must be called exactly
// once, with the call's outcome.
type Permit struct {
	b     *Breaker
	gen   uint64
	probe bool
}

// Allow reports whether a call may go to the target now. When it may, the
// returned Permit's Done must report how the call went.
func (b *Breaker) Allow() (Permit, bool) {
	if b == nil {
		return Permit{}, true
	}
	s := b.state.Load()
	if BreakerState(s&3) == Closed {
		return Permit{b: b, gen: s >> 2}, true
	}
	if BreakerState(s&3) == Open && b.elapsed() < b.openUntil.Load() {
		return Permit{}, false
	}
	return b.allowSlow()
}

// allowSlow handles the end of the cool-down and the half-open state.
func (b *Breaker) allowSlow() (Permit, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state.Load()
	switch BreakerState(s & 3) {
	case Closed:
		return Permit{b: b, gen: s >> 2}, true
	case Open:
		if b.elapsed() < b.openUntil.Load() {
			return Permit{}, false
		}
		s = b.setLocked(HalfOpen)
		b.probing, b.succeeded = 0, 0
	}
	if b.probing+b.succeeded >= b.cfg.Probes {
		return Permit{}, false
	}
	b.probing++
	return Permit{b: b, gen: s >> 2, probe: true}, true
}

// Done reports the outcome of a permitted call. Every outcome that would
// send a call elsewhere (Outcome.Fallback) counts as a failure; a client
// error counts as a success, since the target answered; Canceled and
// Unsupported count as nothing at all.
func (p Permit) Done(o Outcome) {
	b := p.b
	if b == nil {
		return
	}
	if p.probe {
		b.probeDone(p.gen, o)
		return
	}
	if o == Canceled || o == Unsupported || b.state.Load()>>2 != p.gen {
		return
	}
	failed := o.Fallback()
	now := b.elapsed()
	if b.width > 0 {
		b.record(now, failed)
	}
	if !failed {
		if b.consecutive.Load() != 0 {
			b.consecutive.Store(0)
		}
		return
	}
	n := b.consecutive.Add(1)
	if b.cfg.Failures > 0 && n >= int64(b.cfg.Failures) || b.ratioReached(now) {
		b.trip(p.gen, now)
	}
}

func (b *Breaker) probeDone(gen uint64, o Outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load()>>2 != gen {
		return
	}
	b.probing--
	switch {
	case o == Canceled || o == Unsupported:
		// Says nothing of the target's health: the slot is free for another probe.
	case o.Fallback():
		b.cooldown = min(2*b.cooldown, b.cfg.MaxCooldown)
		b.openLocked(b.elapsed())
	default:
		b.succeeded++
		if b.succeeded >= b.cfg.Probes {
			b.cooldown = b.cfg.Cooldown
			b.consecutive.Store(0)
			for i := range b.buckets {
				b.buckets[i].Store(0)
			}
			b.setLocked(Closed)
		}
	}
}

// trip opens a closed breaker, unless another call has already done so.
func (b *Breaker) trip(gen uint64, now int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() != gen<<2|uint64(Closed) {
		return
	}
	b.openLocked(now)
}

func (b *Breaker) openLocked(now int64) {
	b.openUntil.Store(now + int64(b.cooldown))
	b.setLocked(Open)
}

// setLocked moves to state s in a new generation and returns the new word.
func (b *Breaker) setLocked(s BreakerState) uint64 {
	next := (b.state.Load()>>2+1)<<2 | uint64(s)
	b.state.Store(next)
	return next
}

// record counts a call in the bucket of the current period.
func (b *Breaker) record(now int64, failed bool) {
	period := now / b.width
	epoch := uint64(period) & epochMask
	slot := &b.buckets[period%numBuckets]
	for {
		old := slot.Load()
		calls, fails := uint64(1), uint64(0)
		if old>>(2*countBits) == epoch {
			calls, fails = min((old>>countBits&countMask)+1, countMask), old&countMask
		}
		if failed {
			fails = min(fails+1, countMask)
		}
		if slot.CompareAndSwap(old, epoch<<(2*countBits)|calls<<countBits|fails) {
			return
		}
	}
}

// ratioReached sums the buckets of the last Window.
func (b *Breaker) ratioReached(now int64) bool {
	if b.width == 0 {
		return false
	}
	period := now / b.width
	var calls, fails uint64
	for k := int64(0); k < numBuckets && period-k >= 0; k++ {
		w := b.buckets[(period-k)%numBuckets].Load()
		if w>>(2*countBits) != uint64(period-k)&epochMask {
			continue // an older period's counts
		}
		calls += w >> countBits & countMask
		fails += w & countMask
	}
	return calls > 0 && calls >= uint64(b.cfg.MinRequests) &&
		float64(fails) >= b.cfg.ErrorRatio*float64(calls)
}

// State returns the state as of the last call. An open breaker whose
// cool-down is over reports Open until a call finds it so and probes.
func (b *Breaker) State() BreakerState {
	if b == nil {
		return Closed
	}
	return BreakerState(b.state.Load() & 3)
}

func (b *Breaker) elapsed() int64 { return int64(b.now().Sub(b.start)) }
