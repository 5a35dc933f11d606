package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// TestRateLimitUnderOverload is the measurement: a limit of 100
// requests per second offered 500 per second lets 100 ± 5 % through. The
// clock is simulated, so the figure is exact and the same on every run;
// it is checked over the whole run and over every second of it.
//
// Traffic clumped in bursts is the sliding-window counter's weak spot: it
// assumes the previous period's calls were spread evenly, and bursts that
// fall early in a period meet a previous share that is still heavy, so
// fewer pass — never more than the limit.
func TestRateLimitUnderOverload(t *testing.T) {
	const (
		limit   = 100
		offered = 500
		seconds = 60
	)
	cases := []struct {
		name   string
		lo, hi float64 // bounds of the admitted share of the limit
		gap    func(r *rand.Rand) time.Duration
	}{
		{"evenly spaced", 0.95, 1.05, func(*rand.Rand) time.Duration { return time.Second / offered }},
		{"random arrivals", 0.95, 1.05, func(r *rand.Rand) time.Duration {
			return time.Duration(r.ExpFloat64() * float64(time.Second) / offered)
		}},
		{"bursts of 50 every 100 ms", 0.85, 1.0, func() func(*rand.Rand) time.Duration {
			n := 0
			return func(*rand.Rand) time.Duration {
				n++
				if n%50 == 0 {
					return 50 * time.Second / offered
				}
				return 0
			}
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := at("2026-03-14T09:00:00.000Z")
			clk := newClock(start)
			e := NewEngine(Options{Now: clk.Now})
			set, err := e.Compile(shop, &config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: limit}})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			perSecond := make([]int, seconds)
			sent, passed := 0, 0
			var times []time.Duration
			for {
				now := clk.Now()
				sec := int(now.Sub(start) / time.Second)
				if sec >= seconds {
					break
				}
				sent++
				if d := e.Admit(Request{}, set); d.Refused == nil {
					passed++
					perSecond[sec]++
					times = append(times, now.Sub(start))
				}
				clk.Advance(tc.gap(r))
			}
			rate := float64(passed) / seconds
			// The most admitted within any one second, not only the aligned ones.
			most := 0
			for i, j := 0, 0; i < len(times); i++ {
				for times[i]-times[j] >= time.Second {
					j++
				}
				most = max(most, i-j+1)
			}
			t.Logf("offered %d (%.0f/s), admitted %d: %.2f/s, %.1f %% of the limit; per aligned second min %d max %d; most in any second %d",
				sent, float64(sent)/seconds, passed, rate, 100*rate/limit, minOf(perSecond), maxOf(perSecond), most)
			if rate < limit*tc.lo || rate > limit*tc.hi {
				t.Fatalf("admitted %.2f/s under a limit of %d/s", rate, limit)
			}
			if float64(most) > limit*1.05 {
				t.Errorf("%d admitted within one second", most)
			}
			for s, n := range perSecond {
				if float64(n) < limit*tc.lo || float64(n) > limit*tc.hi {
					t.Errorf("second %d: %d admitted", s, n)
				}
			}
		})
	}
}

func minOf(xs []int) int {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []int) int {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
