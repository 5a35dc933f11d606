package gateway

import (
	"math"
	"time"
)

// available reports whether t may take a call: it has weight, active
// checks have not marked it down, it is not ejected, and this call has not
// tried it yet.
func (t *upstreamTarget) available(tried uint64, now int64) bool {
	return t.weight > 0 && tried&(1<<t.index) == 0 && !t.st.down.Load() && t.st.ejectedUntil.Load() <= now
}

// anyAvailable reports, without moving any balancing state, whether a
// target other than those tried could take a call.
func (p *upstreamPool) anyAvailable(tried uint64, now int64) bool {
	for _, t := range p.targets {
		if t.available(tried, now) {
			return true
		}
	}
	return false
}

// pick chooses the target of an attempt among those available and not yet
// tried (a bit per target index), or returns nil when there is none. key
// is the hash of the request's balancing key, for balance hash; last is
// the target of the previous attempt, nil for the first.
//
// A retry leaves the rotation of round robin and weighted alone: it takes
// the next target after the one that failed (the heaviest untried one for
// weighted), so that a failing target does not turn the rotation into
// "always the failing target first".
func (p *upstreamPool) pick(key uint64, tried uint64, last *upstreamTarget, now int64) *upstreamTarget {
	switch p.balance {
	case balanceWeighted:
		if last != nil {
			return p.pickHeaviest(tried, now)
		}
		return p.pickWeighted(tried, now)
	case balanceLeastConn:
		return p.pickLeastConn(tried, now)
	case balanceHash:
		return p.pickHash(key, tried, now)
	}
	if last != nil {
		n := len(p.targets)
		for k := 1; k <= n; k++ {
			if t := p.targets[(last.index+k)%n]; t.available(tried, now) {
				return t
			}
		}
		return nil
	}
	// The turn counts among the available targets only: one that is down
	// does not hand its turns to its neighbour.
	avail := 0
	for _, t := range p.targets {
		if t.available(tried, now) {
			avail++
		}
	}
	if avail == 0 {
		return nil
	}
	turn := int((p.next.Add(1) - 1) % uint64(avail))
	for _, t := range p.targets {
		if t.available(tried, now) {
			if turn == 0 {
				return t
			}
			turn--
		}
	}
	return nil
}

// pickHeaviest takes the available target with the largest weight.
func (p *upstreamPool) pickHeaviest(tried uint64, now int64) *upstreamTarget {
	var best *upstreamTarget
	for _, t := range p.targets {
		if t.available(tried, now) && (best == nil || t.weight > best.weight) {
			best = t
		}
	}
	return best
}

// pickWeighted is nginx's smooth weighted round robin: each pick adds every
// target's weight to its running weight and takes the largest, which then
// gives back the total. Weights 5:1:1 give a a b a c a a, never five a in a
// row; a target out of rotation simply takes no part.
func (p *upstreamPool) pickWeighted(tried uint64, now int64) *upstreamTarget {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *upstreamTarget
	total := 0
	for i, t := range p.targets {
		if !t.available(tried, now) {
			continue
		}
		p.current[i] += t.weight
		total += t.weight
		if best == nil || p.current[i] > p.current[best.index] {
			best = t
		}
	}
	if best != nil {
		p.current[best.index] -= total
	}
	return best
}

// pickLeastConn takes the target with the fewest calls in flight relative
// to its weight; ties go round robin, so that an idle pool still spreads.
func (p *upstreamPool) pickLeastConn(tried uint64, now int64) *upstreamTarget {
	n := uint64(len(p.targets))
	start := p.next.Add(1) - 1
	var best *upstreamTarget
	var bestLoad int64
	for k := uint64(0); k < n; k++ {
		t := p.targets[(start+k)%n]
		if !t.available(tried, now) {
			continue
		}
		load := t.st.inflight.Load()
		// load/weight < bestLoad/bestWeight, without division.
		if best == nil || load*int64(best.weight) < bestLoad*int64(t.weight) {
			best, bestLoad = t, load
		}
	}
	return best
}

// pickHash is weighted rendezvous hashing: every target scores the key and
// the highest score wins. A key keeps its target while that target is
// available; when it is not, or when targets come and go, only the keys of
// the targets concerned move. A retry takes the next-highest score.
func (p *upstreamPool) pickHash(key uint64, tried uint64, now int64) *upstreamTarget {
	var best *upstreamTarget
	bestScore := -1.0
	for _, t := range p.targets {
		if !t.available(tried, now) {
			continue
		}
		// u is uniform in (0, 1); -w/ln(u) makes each target win in
		// proportion to its weight.
		u := (float64(mix64(key^t.seed)>>11) + 0.5) / (1 << 53)
		score := -float64(t.weight) / math.Log(u)
		if score > bestScore {
			best, bestScore = t, score
		}
	}
	return best
}

// mix64 is SplitMix64's finaliser: it spreads every bit of x over the
// result.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// report feeds passive health: a failed call (a connection error or a
// 5xx) counts towards ejection, a good one resets the count. It returns
// true when this failure ejected the target.
func (p *upstreamPool) report(t *upstreamTarget, failed bool, now time.Time) bool {
	if p.ejectAfter <= 0 {
		return false
	}
	if !failed {
		if t.st.fails.Load() != 0 {
			t.st.fails.Store(0)
		}
		return false
	}
	if t.st.fails.Add(1) < p.ejectAfter {
		return false
	}
	t.st.fails.Store(0)
	t.st.ejectedUntil.Store(now.Add(p.ejectFor).UnixNano())
	return true
}
