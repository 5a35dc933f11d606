package balance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// answer is what a scripted upstream does for one attempt.
type answer struct {
	outcome    Outcome
	retryAfter time.Duration
	took       time.Duration
}

// model describes a route for a test: targets are "name" or "name:weight".
type model struct {
	name      string
	strategy  Strategy
	policy    Policy
	targets   []string
	fallbacks []string
}

func buildRoutes(t *testing.T, clock *fakeClock, models []model, breaker BreakerConfig) map[string]*Route {
	t.Helper()
	breaker.Now = clock.Now
	specs := make([]RouteSpec, len(models))
	for i, m := range models {
		specs[i] = RouteSpec{Name: m.name, Strategy: m.strategy, Policy: m.policy, Fallbacks: m.fallbacks}
		for j, tn := range m.targets {
			name, weight := tn, 1
			if n, w, ok := strings.Cut(tn, ":"); ok {
				name = n
				fmt.Sscan(w, &weight)
			}
			specs[i].Targets = append(specs[i].Targets, &Target{
				Name: name, Index: j, Weight: weight,
				Breaker: NewBreaker(breaker),
				Latency: NewLatency(0, 0, clock.Now),
			})
		}
	}
	routes, err := NewRoutes(specs)
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

// runPlan drives a plan against scripted upstreams (answers by target name,
// consumed in order; Success once a script runs out) and returns one line
// per attempt: "model/target", then " r<n>" for a retry and " +<delay>"
// when it waits.
func runPlan(clock *fakeClock, r *Route, scripts map[string][]answer, rng *rand.Rand) ([]string, *Plan) {
	plan := r.Plan(clock.Now(), rng)
	var trace []string
	for {
		a, ok := plan.Next(clock.Now())
		if !ok {
			break
		}
		line := a.Route.Name() + "/" + a.Target.Name
		if a.Retry > 0 {
			line += fmt.Sprintf(" r%d", a.Retry)
		}
		if a.Delay > 0 {
			line += " +" + a.Delay.String()
		}
		trace = append(trace, line)
		clock.Advance(a.Delay)
		ans := answer{outcome: Success}
		if s := scripts[a.Target.Name]; len(s) > 0 {
			ans, scripts[a.Target.Name] = s[0], s[1:]
		}
		clock.Advance(ans.took)
		plan.Report(Result{Outcome: ans.outcome, RetryAfter: ans.retryAfter, Latency: ans.took})
	}
	return trace, &plan
}

func fail(o Outcome) answer { return answer{outcome: o} }

func TestPlan(t *testing.T) {
	retryAll := Policy{RetryOn: DefaultRetryOn}
	cases := []struct {
		name    string
		models  []model
		scripts map[string][]answer
		breaker BreakerConfig
		open    []string // targets whose breaker is opened before the call
		want    []string
		err     error
	}{
		{
			name:   "the first target answers",
			models: []model{{name: "m", policy: retryAll, targets: []string{"a"}}},
			want:   []string{"m/a"},
		},
		{
			name:    "priority fails over in order without waiting",
			models:  []model{{name: "m", strategy: StrategyPriority, policy: retryAll, targets: []string{"a", "b", "c"}}},
			scripts: map[string][]answer{"a": {fail(ServerError)}, "b": {fail(ConnectionError)}},
			want:    []string{"m/a", "m/b", "m/c"},
		},
		{
			name: "a client error ends the call",
			models: []model{
				{name: "m", strategy: StrategyPriority, policy: retryAll, targets: []string{"a", "b"}, fallbacks: []string{"f"}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			scripts: map[string][]answer{"a": {fail(ClientError)}},
			want:    []string{"m/a"},
		},
		{
			name:    "a client that went away ends the call",
			models:  []model{{name: "m", strategy: StrategyPriority, policy: retryAll, targets: []string{"a", "b"}}},
			scripts: map[string][]answer{"a": {fail(Canceled)}},
			want:    []string{"m/a"},
		},
		{
			name:    "a failure not in retry_on ends the call",
			models:  []model{{name: "m", strategy: StrategyPriority, policy: Policy{RetryOn: NewOutcomeSet(ServerError)}, targets: []string{"a", "b"}}},
			scripts: map[string][]answer{"a": {fail(RateLimited)}},
			want:    []string{"m/a"},
		},
		{
			name:    "an empty retry_on moves on after nothing",
			models:  []model{{name: "m", strategy: StrategyPriority, targets: []string{"a", "b"}}},
			scripts: map[string][]answer{"a": {fail(ServerError)}},
			want:    []string{"m/a"},
		},
		{
			name: "retries come back to the preferred target once every target was tried",
			models: []model{{name: "m", strategy: StrategyPriority, targets: []string{"a", "b"},
				policy: Policy{Attempts: 2, RetryOn: DefaultRetryOn}}},
			scripts: map[string][]answer{"a": {fail(ServerError), fail(ServerError), fail(ServerError)}, "b": {fail(ServerError)}},
			want:    []string{"m/a", "m/b", "m/a r1", "m/a r2"},
		},
		{
			name: "a retry that succeeds ends the call",
			models: []model{{name: "m", targets: []string{"a"}, fallbacks: []string{"f"},
				policy: Policy{Attempts: 3, RetryOn: DefaultRetryOn}}, {name: "f", targets: []string{"x"}}},
			scripts: map[string][]answer{"a": {fail(Timeout)}},
			want:    []string{"m/a", "m/a r1"},
		},
		{
			name: "a rejected key moves on without a retry",
			models: []model{
				{name: "m", targets: []string{"a"}, fallbacks: []string{"f"}, policy: Policy{Attempts: 2}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			scripts: map[string][]answer{"a": {fail(KeyRejected)}},
			want:    []string{"m/a", "f/x"},
		},
		{
			name: "fallbacks are walked depth first, each model once",
			models: []model{
				{name: "m", policy: retryAll, targets: []string{"a"}, fallbacks: []string{"f1", "f2"}},
				{name: "f1", policy: retryAll, targets: []string{"b"}, fallbacks: []string{"f3", "f2"}},
				{name: "f2", policy: retryAll, targets: []string{"c"}},
				{name: "f3", policy: retryAll, targets: []string{"d"}},
			},
			scripts: map[string][]answer{"a": {fail(ServerError)}, "b": {fail(ServerError)}, "c": {fail(ServerError)}, "d": {fail(ServerError)}},
			want:    []string{"m/a", "f1/b", "f3/d", "f2/c"},
		},
		{
			name: "a fallback's own retry_on decides after its failures",
			models: []model{
				{name: "m", policy: retryAll, targets: []string{"a"}, fallbacks: []string{"f", "g"}},
				{name: "f", policy: Policy{RetryOn: NewOutcomeSet(ServerError)}, targets: []string{"b"}},
				{name: "g", policy: retryAll, targets: []string{"c"}},
			},
			scripts: map[string][]answer{"a": {fail(RateLimited)}, "b": {fail(RateLimited)}},
			want:    []string{"m/a", "f/b"},
		},
		{
			name:    "an open breaker is skipped",
			models:  []model{{name: "m", strategy: StrategyPriority, policy: retryAll, targets: []string{"a", "b"}}},
			breaker: BreakerConfig{Failures: 1, Cooldown: time.Minute},
			open:    []string{"a"},
			want:    []string{"m/b"},
		},
		{
			name: "a model whose breakers are all open goes to its fallback",
			models: []model{
				{name: "m", policy: retryAll, targets: []string{"a", "b"}, fallbacks: []string{"f"}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			breaker: BreakerConfig{Failures: 1, Cooldown: time.Minute},
			open:    []string{"a", "b"},
			want:    []string{"f/x"},
		},
		{
			name: "every breaker open: no attempt at all",
			models: []model{
				{name: "m", policy: retryAll, targets: []string{"a"}, fallbacks: []string{"f"}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			breaker: BreakerConfig{Failures: 1, Cooldown: time.Minute},
			open:    []string{"a", "x"},
			want:    nil,
			err:     ErrNoTarget,
		},
		{
			name: "retry-after is waited for",
			models: []model{{name: "m", targets: []string{"a"},
				policy: Policy{Attempts: 1, Backoff: 100 * time.Millisecond, RetryOn: DefaultRetryOn}}},
			scripts: map[string][]answer{"a": {{outcome: RateLimited, retryAfter: 2 * time.Second}}},
			want:    []string{"m/a", "m/a r1 +2s"},
		},
		{
			name: "another target does not wait for the first one's retry-after",
			models: []model{{name: "m", strategy: StrategyPriority, targets: []string{"a", "b"},
				policy: Policy{Attempts: 1, RetryOn: DefaultRetryOn}}},
			scripts: map[string][]answer{"a": {{outcome: RateLimited, retryAfter: 2 * time.Second}}, "b": {fail(ServerError)}},
			want:    []string{"m/a", "m/b", "m/b r1"},
		},
		{
			name: "retry-after beyond the deadline: straight to the fallback",
			models: []model{
				{name: "m", targets: []string{"a"}, fallbacks: []string{"f"},
					policy: Policy{Attempts: 2, Deadline: 5 * time.Second, RetryOn: DefaultRetryOn}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			scripts: map[string][]answer{"a": {{outcome: RateLimited, retryAfter: 10 * time.Second}}},
			want:    []string{"m/a", "f/x"},
		},
		{
			name: "the deadline ends the call",
			models: []model{
				{name: "m", targets: []string{"a"}, fallbacks: []string{"f"},
					policy: Policy{Attempts: 2, Deadline: time.Second, RetryOn: DefaultRetryOn}},
				{name: "f", policy: retryAll, targets: []string{"x"}},
			},
			scripts: map[string][]answer{"a": {{outcome: Timeout, took: time.Second}}},
			want:    []string{"m/a"},
			err:     ErrDeadline,
		},
		{
			name: "standby targets come last",
			models: []model{{name: "m", strategy: StrategyLatency, policy: retryAll,
				targets: []string{"s1:0", "a:2", "s2:0", "b:1"}}},
			scripts: map[string][]answer{"a": {fail(ServerError)}, "b": {fail(ServerError)}, "s1": {fail(ServerError)}},
			// a and b in either order, then the standbys in order.
			want: []string{"*", "*", "m/s1", "m/s2"},
		},
		{
			name:    "attempts exhausted: the last result stands",
			models:  []model{{name: "m", policy: Policy{Attempts: 1, RetryOn: DefaultRetryOn}, targets: []string{"a"}}},
			scripts: map[string][]answer{"a": {fail(ServerError), fail(ServerError)}},
			want:    []string{"m/a", "m/a r1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			routes := buildRoutes(t, clock, tc.models, tc.breaker)
			for _, r := range routes {
				for _, tg := range r.Targets() {
					for _, name := range tc.open {
						if tg.Name == name {
							p, _ := tg.Breaker.Allow()
							p.Done(ServerError)
						}
					}
				}
			}
			trace, plan := runPlan(clock, routes[tc.models[0].name], tc.scripts, rand.New(rand.NewPCG(1, 1)))
			match := len(trace) == len(tc.want)
			for i := 0; match && i < len(trace); i++ {
				match = tc.want[i] == "*" || tc.want[i] == trace[i]
			}
			if !match {
				t.Errorf("attempts:\n  %s\nwant:\n  %s", strings.Join(trace, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if !errors.Is(plan.Err(), tc.err) || (tc.err == nil && plan.Err() != nil) {
				t.Errorf("Err() = %v, want %v", plan.Err(), tc.err)
			}
			if plan.Attempts() != len(trace) {
				t.Errorf("Attempts() = %d, want %d", plan.Attempts(), len(trace))
			}
			for _, r := range routes {
				for _, tg := range r.Targets() {
					if n := tg.Latency.Pending(); n != 0 {
						t.Errorf("target %s: %d calls still pending", tg.Name, n)
					}
				}
			}
		})
	}
}

func TestPlanTimeoutsAndBackoff(t *testing.T) {
	clock := newFakeClock()
	policy := Policy{Attempts: 3, Backoff: 400 * time.Millisecond, MaxBackoff: time.Second,
		AttemptTimeout: 2 * time.Second, Deadline: 5 * time.Second, RetryOn: DefaultRetryOn}
	routes := buildRoutes(t, clock, []model{{name: "m", policy: policy, targets: []string{"a"}}}, BreakerConfig{})
	plan := routes["m"].Plan(clock.Now(), rand.New(rand.NewPCG(3, 3)))

	a, _ := plan.Next(clock.Now())
	if a.Timeout != 2*time.Second || a.Delay != 0 || a.Number != 1 || a.Fallback {
		t.Fatalf("first attempt %+v", a)
	}
	clock.Advance(2 * time.Second)
	plan.Report(Result{Outcome: Timeout})

	ceilings := []time.Duration{400 * time.Millisecond, 800 * time.Millisecond, time.Second}
	for i, ceiling := range ceilings {
		a, ok := plan.Next(clock.Now())
		if !ok {
			// The deadline may come before the last retry.
			if plan.Err() != ErrDeadline {
				t.Fatalf("retry %d: no attempt, Err() = %v", i+1, plan.Err())
			}
			return
		}
		if a.Retry != i+1 || a.Delay < 0 || a.Delay >= ceiling {
			t.Fatalf("retry %d: %+v, want a delay below %v", i+1, a, ceiling)
		}
		left := 5*time.Second - clock.Now().Sub(newFakeClock().Now()) - a.Delay
		if want := min(2*time.Second, left); a.Timeout != want {
			t.Fatalf("retry %d: timeout %v, want %v (what is left of the deadline)", i+1, a.Timeout, want)
		}
		clock.Advance(a.Delay + time.Second)
		plan.Report(Result{Outcome: ServerError})
	}
}

func TestPlanWeightedShares(t *testing.T) {
	clock := newFakeClock()
	routes := buildRoutes(t, clock, []model{{name: "m", policy: Policy{RetryOn: DefaultRetryOn},
		targets: []string{"a:3", "b:1", "c:0"}}}, BreakerConfig{})
	rng := rand.New(rand.NewPCG(5, 5))
	counts := map[string]int{}
	const calls = 4000
	for range calls {
		plan := routes["m"].Plan(clock.Now(), rng)
		a, _ := plan.Next(clock.Now())
		counts[a.Target.Name]++
		plan.Report(Result{Outcome: Success, Latency: time.Millisecond})
	}
	if share := float64(counts["a"]) / calls; share < 0.72 || share > 0.78 {
		t.Errorf("a got %.3f of the calls, want about 0.75 (%v)", share, counts)
	}
	if counts["c"] != 0 {
		t.Errorf("the standby got %d first attempts", counts["c"])
	}
}

func TestPlanDeterministic(t *testing.T) {
	trace := func() []string {
		clock := newFakeClock()
		routes := buildRoutes(t, clock, []model{{name: "m", strategy: StrategyWeighted,
			policy:  Policy{Attempts: 2, Backoff: time.Second, RetryOn: DefaultRetryOn},
			targets: []string{"a", "b", "c", "d"}}}, BreakerConfig{})
		scripts := map[string][]answer{}
		for _, n := range []string{"a", "b", "c", "d"} {
			scripts[n] = []answer{fail(ServerError), fail(ServerError)}
		}
		tr, _ := runPlan(clock, routes["m"], scripts, rand.New(rand.NewPCG(9, 9)))
		return tr
	}
	first, second := trace(), trace()
	if strings.Join(first, ",") != strings.Join(second, ",") || len(first) != 6 {
		t.Errorf("same seed, different plans:\n%q\n%q", first, second)
	}
}

func TestPlanNextWithoutReport(t *testing.T) {
	clock := newFakeClock()
	routes := buildRoutes(t, clock, []model{{name: "m", policy: Policy{RetryOn: DefaultRetryOn}, targets: []string{"a", "b"}}},
		BreakerConfig{Failures: 1, Cooldown: time.Minute, Probes: 1})
	plan := routes["m"].Plan(clock.Now(), nil)
	a, _ := plan.Next(clock.Now())
	if _, ok := plan.Next(clock.Now()); ok || plan.Err() != errUnreported {
		t.Fatalf("Next without Report: ok %v, Err() %v", ok, plan.Err())
	}
	if a.Target.Latency.Pending() != 0 || a.Target.Breaker.State() != Closed {
		t.Error("the unreported attempt was not released as canceled")
	}
}

func TestNewRoutesErrors(t *testing.T) {
	tg := func(names ...string) []*Target {
		ts := make([]*Target, len(names))
		for i, n := range names {
			ts[i] = &Target{Name: n, Weight: 1}
		}
		return ts
	}
	cases := []struct {
		name  string
		specs []RouteSpec
		want  string
	}{
		{
			name:  "no target",
			specs: []RouteSpec{{Name: "m"}},
			want:  `model "m": has 0 targets, want 1 to 64`,
		},
		{
			name:  "too many targets",
			specs: []RouteSpec{{Name: "m", Targets: make([]*Target, 65)}},
			want:  `model "m": has 65 targets, want 1 to 64`,
		},
		{
			name:  "negative weight",
			specs: []RouteSpec{{Name: "m", Targets: []*Target{{Name: "a", Weight: -1}}}},
			want:  `model "m": target "a" has a negative weight`,
		},
		{
			name:  "duplicate model",
			specs: []RouteSpec{{Name: "m", Targets: tg("a")}, {Name: "m", Targets: tg("b")}},
			want:  `model "m" is defined twice`,
		},
		{
			name:  "unknown fallback",
			specs: []RouteSpec{{Name: "m", Targets: tg("a"), Fallbacks: []string{"nope"}}},
			want:  `model "m": unknown fallback "nope"`,
		},
		{
			name:  "fallback to itself",
			specs: []RouteSpec{{Name: "m", Targets: tg("a"), Fallbacks: []string{"m"}}},
			want:  `model "m": fallbacks form a cycle: m -> m`,
		},
		{
			name: "longer cycle",
			specs: []RouteSpec{
				{Name: "a", Targets: tg("x"), Fallbacks: []string{"b"}},
				{Name: "b", Targets: tg("y"), Fallbacks: []string{"c"}},
				{Name: "c", Targets: tg("z"), Fallbacks: []string{"b"}},
			},
			want: `model "b": fallbacks form a cycle: b -> c -> b`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRoutes(tc.specs)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestRouteChain(t *testing.T) {
	tg := func() []*Target { return []*Target{{Name: "t", Weight: 1}} }
	routes, err := NewRoutes([]RouteSpec{
		{Name: "a", Targets: tg(), Fallbacks: []string{"b", "c"}},
		{Name: "b", Targets: tg(), Fallbacks: []string{"d"}},
		{Name: "c", Targets: tg(), Fallbacks: []string{"d"}},
		{Name: "d", Targets: tg()},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range routes["a"].Chain() {
		names = append(names, r.Name())
	}
	if got := strings.Join(names, " "); got != "a b d c" {
		t.Errorf("chain %s, want a b d c", got)
	}
	if routes["a"].Targets()[0].Latency == nil {
		t.Error("a target without a Latency did not get one")
	}
}

func TestStrategyNames(t *testing.T) {
	for _, s := range []Strategy{StrategyWeighted, StrategyPriority, StrategyLatency} {
		if got, ok := ParseStrategy(s.String()); !ok || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s.String(), got, ok)
		}
	}
	if _, ok := ParseStrategy("round_robin"); ok || Strategy(9).String() != "unknown" {
		t.Error("an unknown strategy was accepted")
	}
}
