package balance

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Attempt is one try of a call: which target to send it to, when, and for
// how long at most.
type Attempt struct {
	// Route is the model being tried: the requested one or a fallback.
	Route *Route
	// Target is the upstream to send the call to.
	Target *Target
	// Number counts the call's attempts from 1.
	Number int
	// Retry is 0 for the first try at a target, else the number of this
	// retry of the model.
	Retry int
	// Fallback is set when Route is not the model the client asked for.
	Fallback bool
	// Delay is how long to wait before sending.
	Delay time.Duration
	// Timeout bounds the attempt, from the end of Delay: the policy's
	// AttemptTimeout or what is left of the deadline, whichever is
	// shorter. 0 when neither applies: the caller uses its own default.
	Timeout time.Duration
}

// Result is how an attempt went, reported to Plan.Report.
type Result struct {
	// Outcome is the attempt's Outcome, from Classify.
	Outcome Outcome
	// RetryAfter is how long the upstream asked to wait (Retry-After,
	// retry-after-ms), or 0. Leave it 0 when the wait concerned only a key
	// that a KeyPool has now set aside while other keys remain.
	RetryAfter time.Duration
	// Latency is what the target's latency estimate should observe: for
	// LLM calls, the time to the first byte.
	Latency time.Duration
}

// Plan yields the attempts of one call in order: the model's targets by its
// strategy, skipping those whose breaker is open, without waiting; then its
// retries, after a backoff; then each fallback model in the same way, until
// an attempt succeeds, fails in a way that no other attempt can cure, or
// the deadline comes. A Plan is used by one goroutine; it allocates nothing
// unless an upstream asks to wait (Retry-After).
//
//	plan := route.Plan(time.Now(), nil)
//	for {
//		a, ok := plan.Next(time.Now())
//		if !ok {
//			break // plan.Err() says why, if no attempt answered
//		}
//		// wait a.Delay, send to a.Target within a.Timeout, then:
//		plan.Report(balance.Result{Outcome: balance.Classify(status, err), …})
//	}
type Plan struct {
	route    *Route
	cur      *Route
	link     int // index of cur in route.chain
	rng      *rand.Rand
	deadline time.Time // zero: none

	tried     uint64 // targets of cur attempted in this call
	retries   int    // retries of cur so far
	notBefore []time.Time

	n       int // attempts so far
	last    int // index in cur.targets of the last attempt
	permit  Permit
	pending bool // the last attempt awaits its Report
	result  Result
	done    bool
	err     error
}

// errUnreported ends a plan whose caller asked for a next attempt without
// reporting the last one: a programming error, made visible.
var errUnreported = errors.New("balance: Next called before Report")

// Plan starts a call to the model at start. rng makes the choices
// reproducible in tests; nil uses the runtime's generator, which is safe
// for concurrent use.
func (r *Route) Plan(start time.Time, rng *rand.Rand) Plan {
	p := Plan{route: r, cur: r, rng: rng}
	if r.policy.Deadline > 0 {
		p.deadline = start.Add(r.policy.Deadline)
	}
	return p
}

// Next returns the next attempt, or false when there is none: the last
// attempt succeeded or failed for good, every target is exhausted, or the
// deadline has come (see Err). Report must be called after each attempt.
func (p *Plan) Next(now time.Time) (Attempt, bool) {
	if p.done {
		return Attempt{}, false
	}
	first := p.n == 0
	if p.pending {
		p.Report(Result{Outcome: Canceled})
		return p.finish(errUnreported)
	}
	o := p.result.Outcome
	if !first && !p.movesOn(o) {
		return p.finish(nil)
	}
	if !first && p.result.RetryAfter > 0 {
		if p.notBefore == nil {
			p.notBefore = make([]time.Time, len(p.cur.targets))
		}
		p.notBefore[p.last] = now.Add(p.result.RetryAfter)
	}
	left := NoDeadline
	if !p.deadline.IsZero() {
		if left = p.deadline.Sub(now); left <= 0 {
			return p.finish(ErrDeadline)
		}
	}
	if a, ok := p.untried(left); ok {
		return a, true
	}
	if !first && o.Retryable() && p.retries < p.cur.policy.Attempts {
		if a, ok := p.retry(now, left); ok {
			return a, true
		}
	}
	for p.link+1 < len(p.route.chain) {
		p.link++
		p.cur = p.route.chain[p.link]
		p.tried, p.retries, p.notBefore = 0, 0, nil
		if a, ok := p.untried(left); ok {
			return a, true
		}
	}
	if p.n == 0 {
		return p.finish(ErrNoTarget)
	}
	return p.finish(nil)
}

// movesOn reports whether a failure sends the call on to another attempt.
func (p *Plan) movesOn(o Outcome) bool {
	return o.Fallback() && (o == KeyRejected || o == Unsupported || p.cur.policy.RetryOn.Has(o))
}

// untried picks a target of the current model not attempted yet whose
// breaker lets the call through.
func (p *Plan) untried(left time.Duration) (Attempt, bool) {
	ts := p.cur.targets
	mask := allTargets(len(ts)) &^ p.tried
	for mask != 0 {
		i := pick(p.cur.strategy, ts, p.cur.standby, mask, p.rng)
		mask &^= 1 << i
		if permit, ok := ts[i].Breaker.Allow(); ok {
			return p.attempt(i, permit, 0, 0, left), true
		}
	}
	return Attempt{}, false
}

// retry picks a target already attempted for another try, after the
// backoff or the wait its upstream asked for, unless that wait would reach
// the deadline. Targets that asked for no wait go first.
func (p *Plan) retry(now time.Time, left time.Duration) (Attempt, bool) {
	var waiting uint64
	for i := range p.notBefore {
		if p.notBefore[i].After(now) {
			waiting |= 1 << i
		}
	}
	for _, mask := range [2]uint64{p.tried &^ waiting, p.tried & waiting} {
		for mask != 0 {
			i := pick(p.cur.strategy, p.cur.targets, p.cur.standby, mask, p.rng)
			mask &^= 1 << i
			var wait time.Duration
			if waiting&(1<<i) != 0 {
				wait = p.notBefore[i].Sub(now)
			}
			d, worth := p.cur.policy.delay(p.retries+1, wait, left, p.rng)
			if !worth {
				continue
			}
			if permit, ok := p.cur.targets[i].Breaker.Allow(); ok {
				p.retries++
				return p.attempt(i, permit, p.retries, d, left), true
			}
		}
	}
	return Attempt{}, false
}

func (p *Plan) attempt(i int, permit Permit, retry int, delay, left time.Duration) Attempt {
	t := p.cur.targets[i]
	t.Latency.Begin()
	p.n++
	p.tried |= 1 << i
	p.last, p.permit, p.pending = i, permit, true
	timeout := p.cur.policy.AttemptTimeout
	if left != NoDeadline {
		if rest := left - delay; timeout <= 0 || rest < timeout {
			timeout = rest
		}
	}
	return Attempt{
		Route:    p.cur,
		Target:   t,
		Number:   p.n,
		Retry:    retry,
		Fallback: p.link > 0,
		Delay:    delay,
		Timeout:  max(timeout, 0),
	}
}

// Report records how the last attempt went: in the target's breaker and
// latency estimate, and for Next to decide what comes after it. A target
// that failed is penalised in its latency estimate; a client error or a
// cancellation leaves the estimate alone, since neither says how fast the
// target is.
func (p *Plan) Report(r Result) {
	if !p.pending {
		return
	}
	p.pending = false
	p.result = r
	p.permit.Done(r.Outcome)
	p.permit = Permit{}
	lat := p.cur.targets[p.last].Latency
	switch {
	case r.Outcome == Success:
		lat.End(r.Latency)
	case r.Outcome == Unsupported:
		lat.End(0)
	case r.Outcome.Fallback():
		lat.End(0)
		lat.Penalize(r.Latency)
	default:
		lat.End(0)
	}
}

// Err tells why Next returned false: ErrNoTarget when no attempt could be
// made at all, ErrDeadline when the deadline came first, nil when the last
// attempt's result stands (a success, a failure no other attempt can
// cure, or the last of the attempts).
func (p *Plan) Err() error { return p.err }

// Attempts returns how many attempts the plan has made.
func (p *Plan) Attempts() int { return p.n }

func (p *Plan) finish(err error) (Attempt, bool) {
	p.done, p.err = true, err
	return Attempt{}, false
}

func allTargets(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}
