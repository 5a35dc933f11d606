package balance

import (
	"testing"
	"time"
)

// benchRoutes is a model with three targets, breakers and a fallback: the
// configuration the gateway's benchmark runs with.
func benchRoutes(b *testing.B, s Strategy) *Route {
	cfg := BreakerConfig{Failures: 5, ErrorRatio: 0.5, MinRequests: 20, Window: 30 * time.Second, Cooldown: 30 * time.Second}
	targets := func(names ...string) []*Target {
		ts := make([]*Target, len(names))
		for i, n := range names {
			ts[i] = &Target{Name: n, Index: i, Weight: i + 1, Breaker: NewBreaker(cfg)}
		}
		return ts
	}
	policy := Policy{Attempts: 2, Backoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second,
		Deadline: 30 * time.Second, RetryOn: DefaultRetryOn}
	routes, err := NewRoutes([]RouteSpec{
		{Name: "m", Strategy: s, Policy: policy, Targets: targets("a", "b", "c"), Fallbacks: []string{"f"}},
		{Name: "f", Policy: policy, Targets: targets("x")},
	})
	if err != nil {
		b.Fatal(err)
	}
	return routes["m"]
}

// BenchmarkPlan is the per-call cost of routing a call that succeeds at
// once: Plan, Next (strategy and Breaker.Allow), Report (breaker and
// latency).
func BenchmarkPlan(b *testing.B) {
	for _, s := range []Strategy{StrategyWeighted, StrategyPriority, StrategyLatency} {
		b.Run(s.String(), func(b *testing.B) {
			r := benchRoutes(b, s)
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				plan := r.Plan(now, nil)
				if _, ok := plan.Next(now); !ok {
					b.Fatal("no attempt")
				}
				plan.Report(Result{Outcome: Success, Latency: 300 * time.Millisecond})
			}
		})
	}
}

// BenchmarkPlanParallel is BenchmarkPlan from every core at once, where
// the breakers' and latency estimates' shared state is contended.
func BenchmarkPlanParallel(b *testing.B) {
	r := benchRoutes(b, StrategyLatency)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		now := time.Now()
		for pb.Next() {
			plan := r.Plan(now, nil)
			plan.Next(now)
			plan.Report(Result{Outcome: Success, Latency: 300 * time.Millisecond})
		}
	})
}

func BenchmarkBreakerAllow(b *testing.B) {
	br := NewBreaker(BreakerConfig{Failures: 5, ErrorRatio: 0.5, MinRequests: 20, Window: 30 * time.Second, Cooldown: 30 * time.Second})
	b.ReportAllocs()
	for b.Loop() {
		p, _ := br.Allow()
		p.Done(Success)
	}
}

func BenchmarkKeyPoolNext(b *testing.B) {
	p := NewKeyPool("p", []string{"k1", "k2", "k3"}, nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Next()
	}
}
