package balance

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Latency.
const (
	// DefaultInitialLatency is the estimate of a target never measured:
	// pessimistic enough that a new target is not flooded with every call
	// that arrives before its first answer, low enough that it is tried.
	DefaultInitialLatency = 500 * time.Millisecond
	// DefaultDecay is how fast an estimate fades when no answer refreshes
	// it: after DefaultDecay it has lost about 63% of its value.
	DefaultDecay = 10 * time.Second
)

// Latency is a target's "peak EWMA" latency, the load measure of Finagle and
// Linkerd: an exponentially weighted moving average that jumps at once to a
// slower observation (peak) and comes down only gradually, multiplied by
// the number of calls waiting for the target, plus one. A target that gets
// slow, or that many calls are waiting for, loses traffic at once.
//
// Between observations the estimate decays towards zero, as if the time
// that passed had been a stream of instant answers. Without that, a target
// that was slow once and then got no traffic (because it was slow) would
// keep its bad estimate forever; with it, the target is tried again after a
// while and measured afresh.
//
// What is observed is up to the caller, as long as it is comparable between
// targets: for LLM calls, the time to the first byte of the answer, since
// the total time depends mostly on how long the answer is.
type Latency struct {
	now     func() time.Time
	start   time.Time
	decay   float64 // nanoseconds
	pending atomic.Int64

	mu  sync.Mutex
	est float64 // nanoseconds
	at  int64   // elapsed nanoseconds when est was last updated
}

// NewLatency returns a Latency starting at initial (DefaultInitialLatency
// when 0) and fading with the time constant decay (DefaultDecay when 0).
// now is the clock; nil means time.Now.
func NewLatency(initial, decay time.Duration, now func() time.Time) *Latency {
	if now == nil {
		now = time.Now
	}
	if initial <= 0 {
		initial = DefaultInitialLatency
	}
	if decay <= 0 {
		decay = DefaultDecay
	}
	return &Latency{now: now, start: now(), decay: float64(decay), est: float64(initial)}
}

// Begin counts a call that is now waiting for the target. End must follow.
func (l *Latency) Begin() { l.pending.Add(1) }

// End counts the call as answered, observing rtt when it is positive.
func (l *Latency) End(rtt time.Duration) {
	l.pending.Add(-1)
	if rtt > 0 {
		l.Observe(rtt)
	}
}

// Observe folds one measured latency into the estimate.
func (l *Latency) Observe(rtt time.Duration) {
	now := l.elapsed()
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := float64(rtt); r > l.est {
		l.est = r
	} else {
		w := l.weight(now)
		l.est = l.est*w + r*(1-w)
	}
	l.at = max(l.at, now)
}

// Penalize raises the estimate after a failure: to rtt if that is longer,
// else to twice the current estimate. A target that fails fast must not
// look fast, or the least-loaded choice would send it everything.
func (l *Latency) Penalize(rtt time.Duration) {
	now := l.elapsed()
	l.mu.Lock()
	defer l.mu.Unlock()
	est := l.est * l.weight(now)
	l.est = max(float64(rtt), 2*est, 1)
	l.at = max(l.at, now)
}

// weight is how much of the estimate survives to now.
func (l *Latency) weight(now int64) float64 {
	if now <= l.at {
		return 1
	}
	return math.Exp(-float64(now-l.at) / l.decay)
}

// Estimate returns the estimate, decayed to now.
func (l *Latency) Estimate() time.Duration {
	now := l.elapsed()
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.est * l.weight(now))
}

// Pending returns the number of calls waiting for the target.
func (l *Latency) Pending() int64 { return l.pending.Load() }

// Cost is the estimate times the calls waiting plus one: the expected wait
// of one more call. The estimate counts for at least a microsecond, so that
// between targets whose estimates have all decayed away the one with fewer
// calls waiting still wins.
func (l *Latency) Cost() float64 {
	est := max(float64(l.Estimate()), float64(time.Microsecond))
	return est * float64(max(l.pending.Load(), 0)+1)
}

func (l *Latency) elapsed() int64 { return int64(l.now().Sub(l.start)) }
