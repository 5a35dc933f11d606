// Package balance decides where each call to a model goes and what happens
// when it fails: the choice among a model's targets (weighted, priority or
// least latency), retries with backoff that honour Retry-After, fallbacks to
// other models, a circuit breaker and a latency estimate per target, and the
// rotation of a provider's API keys. It knows nothing of HTTP: the gateway
// turns each answer into an Outcome with Classify and asks a Plan what to
// do next.
package balance

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
)

// Strategy is how a model chooses among its targets.
type Strategy uint8

// The strategies.
const (
	// StrategyWeighted picks targets at random in proportion to weight.
	StrategyWeighted Strategy = iota
	// StrategyPriority takes targets in the order given.
	StrategyPriority
	// StrategyLatency takes the target with the least expected wait (see
	// Latency) of two picked at random: the power of two choices, which
	// gets nearly all the benefit of comparing every target while never
	// sending every call to the same one.
	StrategyLatency
)

var strategyNames = [...]string{
	StrategyWeighted: "weighted",
	StrategyPriority: "priority",
	StrategyLatency:  "latency",
}

// String returns the strategy's name in the configuration.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return "unknown"
}

// ParseStrategy is the inverse of String.
func ParseStrategy(s string) (Strategy, bool) {
	for i, name := range strategyNames {
		if name == s {
			return Strategy(i), true
		}
	}
	return 0, false
}

// Target is one upstream behind a model. The caller owns it and may share
// its Breaker and Latency between configuration snapshots, so that a
// reload does not forget which targets are failing.
type Target struct {
	// Name identifies the target in call records, e.g.
	// "openai-main/gpt-4o-mini".
	Name string
	// Index is the caller's own index for the target: balance only hands
	// it back.
	Index int
	// Weight is the target's share under StrategyWeighted. Under every
	// strategy, a target of weight 0 is a standby: it is tried, in order,
	// only after every target with a weight.
	Weight int
	// Breaker is the target's circuit breaker; nil never refuses a call.
	Breaker *Breaker
	// Latency tracks the target's latency and calls in flight; NewRoutes
	// gives a target without one a fresh one.
	Latency *Latency
}

// MaxTargets is the most targets a model may have. A call's progress
// through them is kept in one machine word.
const MaxTargets = 64

// RouteSpec describes one model for NewRoutes.
type RouteSpec struct {
	// Name is the model's name.
	Name string
	// Strategy picks among Targets.
	Strategy Strategy
	// Policy governs the model's retries and timeouts.
	Policy Policy
	// Targets serve the model; 1 to MaxTargets.
	Targets []*Target
	// Fallbacks are other models tried in this order when every attempt at
	// this one failed. A fallback's own fallbacks follow it: the chain is
	// walked depth first, each model at most once.
	Fallbacks []string
}

// Route is one model's compiled routing, immutable and shared by every call
// to the model.
type Route struct {
	name     string
	strategy Strategy
	policy   Policy
	targets  []*Target
	standby  uint64   // targets of weight 0
	chain    []*Route // this route, then its fallbacks depth first
}

// Name returns the model's name.
func (r *Route) Name() string { return r.name }

// Strategy returns the model's strategy.
func (r *Route) Strategy() Strategy { return r.strategy }

// Policy returns the model's retry policy.
func (r *Route) Policy() Policy { return r.policy }

// Targets returns the model's targets; the slice must not be modified.
func (r *Route) Targets() []*Target { return r.targets }

// Chain returns the models a call to this one may reach, in the order it
// tries them: this model first, then its fallbacks, depth first.
func (r *Route) Chain() []*Route { return r.chain }

// NewRoutes compiles the models and links their fallbacks by name. It
// refuses what would make a call's path unclear: a model without targets or
// with more than MaxTargets, a negative weight, a duplicate name, an
// unknown fallback, and fallbacks that lead back to the model (naming the
// cycle).
func NewRoutes(specs []RouteSpec) (map[string]*Route, error) {
	routes := make(map[string]*Route, len(specs))
	for _, s := range specs {
		if _, dup := routes[s.Name]; dup {
			return nil, fmt.Errorf("model %q is defined twice", s.Name)
		}
		if len(s.Targets) == 0 || len(s.Targets) > MaxTargets {
			return nil, fmt.Errorf("model %q: has %d targets, want 1 to %d", s.Name, len(s.Targets), MaxTargets)
		}
		r := &Route{name: s.Name, strategy: s.Strategy, policy: s.Policy, targets: s.Targets}
		for i, t := range s.Targets {
			if t == nil {
				return nil, fmt.Errorf("model %q: target %d is nil", s.Name, i)
			}
			if t.Weight < 0 {
				return nil, fmt.Errorf("model %q: target %q has a negative weight", s.Name, t.Name)
			}
			if t.Weight == 0 {
				r.standby |= 1 << i
			}
			if t.Latency == nil {
				t.Latency = NewLatency(0, 0, nil)
			}
		}
		routes[s.Name] = r
	}
	fallbacks := make(map[*Route][]*Route, len(specs))
	for _, s := range specs {
		r := routes[s.Name]
		for _, name := range s.Fallbacks {
			f, ok := routes[name]
			if !ok {
				return nil, fmt.Errorf("model %q: unknown fallback %q", s.Name, name)
			}
			fallbacks[r] = append(fallbacks[r], f)
		}
	}
	if cycle := findCycle(specs, routes, fallbacks); cycle != nil {
		return nil, fmt.Errorf("model %q: fallbacks form a cycle: %s", cycle[0], strings.Join(cycle, " -> "))
	}
	for _, r := range routes {
		seen := map[*Route]bool{}
		var walk func(*Route)
		walk = func(x *Route) {
			if seen[x] {
				return
			}
			seen[x] = true
			r.chain = append(r.chain, x)
			for _, f := range fallbacks[x] {
				walk(f)
			}
		}
		walk(r)
	}
	return routes, nil
}

// findCycle returns the names along a fallback path that leads back to
// where it started, or nil. It is a depth-first search that visits each
// model once, so that many models sharing fallbacks cost no more than a few.
func findCycle(specs []RouteSpec, routes map[string]*Route, fallbacks map[*Route][]*Route) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make(map[*Route]int, len(routes))
	var path []*Route
	var visit func(*Route) []string
	visit = func(r *Route) []string {
		state[r] = onPath
		path = append(path, r)
		for _, f := range fallbacks[r] {
			switch state[f] {
			case onPath:
				start := 0
				for path[start] != f {
					start++
				}
				names := make([]string, 0, len(path)-start+1)
				for _, q := range path[start:] {
					names = append(names, q.name)
				}
				return append(names, f.name)
			case unvisited:
				if c := visit(f); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[r] = done
		return nil
	}
	for _, s := range specs {
		if r := routes[s.Name]; state[r] == unvisited {
			if c := visit(r); c != nil {
				return c
			}
		}
	}
	return nil
}

// pick chooses one of the targets in mask by strategy, or returns -1 for an
// empty mask. Standby targets are chosen only when no other is left, and
// then in order.
func pick(s Strategy, ts []*Target, standby, mask uint64, rng *rand.Rand) int {
	if mask == 0 {
		return -1
	}
	if active := mask &^ standby; active != 0 {
		mask = active
	} else {
		return bits.TrailingZeros64(mask)
	}
	n := bits.OnesCount64(mask)
	if n == 1 {
		return bits.TrailingZeros64(mask)
	}
	switch s {
	case StrategyWeighted:
		total := 0
		for m := mask; m != 0; m &= m - 1 {
			total += ts[bits.TrailingZeros64(m)].Weight
		}
		x := intn(rng, total)
		for m := mask; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			if x < ts[i].Weight {
				return i
			}
			x -= ts[i].Weight
		}
	case StrategyLatency:
		a := intn(rng, n)
		b := intn(rng, n-1)
		if b >= a {
			b++
		}
		i, j := nthBit(mask, a), nthBit(mask, b)
		if ts[j].Latency.Cost() < ts[i].Latency.Cost() {
			return j
		}
		return i
	}
	return bits.TrailingZeros64(mask)
}

// nthBit returns the index of the n-th (0-based) set bit of m.
func nthBit(m uint64, n int) int {
	for range n {
		m &= m - 1
	}
	return bits.TrailingZeros64(m)
}

// Why a Plan made no further attempt, from Plan.Err.
var (
	// ErrNoTarget means that no attempt could be made at all: every
	// target of the model and of its fallbacks has an open breaker.
	ErrNoTarget = errors.New("no target available: every circuit breaker is open")
	// ErrDeadline means that the call's deadline came before an answer.
	ErrDeadline = errors.New("the call's deadline was reached")
)
