package balance

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestLatencyEstimate(t *testing.T) {
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	type obs struct {
		advance time.Duration
		rtt     time.Duration // observed; 0 only advances the clock
		penalty bool          // Penalize instead of Observe
	}
	cases := []struct {
		name string
		obs  []obs
		want time.Duration
	}{
		{"never measured", nil, 100 * time.Millisecond},
		{"a slower observation is taken at once", []obs{{rtt: ms(400)}}, ms(400)},
		{"a faster one at the same instant changes nothing", []obs{{rtt: ms(10)}}, ms(100)},
		{
			name: "a faster one after one time constant weighs 1-1/e",
			obs:  []obs{{advance: time.Second, rtt: ms(10)}},
			want: ms(100/math.E + 10*(1-1/math.E)),
		},
		{
			name: "idle decays towards zero",
			obs:  []obs{{rtt: ms(1000)}, {advance: 2 * time.Second}},
			want: ms(1000 / math.E / math.E),
		},
		{
			name: "a fast failure doubles the estimate",
			obs:  []obs{{rtt: ms(5), penalty: true}},
			want: ms(200),
		},
		{
			name: "a slow failure counts with its own time",
			obs:  []obs{{rtt: ms(900), penalty: true}},
			want: ms(900),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewLatency(100*time.Millisecond, time.Second, clock.Now)
			for _, o := range tc.obs {
				clock.Advance(o.advance)
				switch {
				case o.penalty:
					l.Penalize(o.rtt)
				case o.rtt > 0:
					l.Observe(o.rtt)
				}
			}
			if got := l.Estimate(); math.Abs(float64(got-tc.want)) > float64(time.Microsecond) {
				t.Errorf("estimate %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLatencyCost(t *testing.T) {
	clock := newFakeClock()
	l := NewLatency(100*time.Millisecond, time.Second, clock.Now)
	if got := l.Cost(); got != float64(100*time.Millisecond) {
		t.Errorf("idle cost %v, want the estimate", got)
	}
	l.Begin()
	l.Begin()
	if got, want := l.Cost(), 3*float64(100*time.Millisecond); got != want {
		t.Errorf("cost with two waiting %v, want %v", got, want)
	}
	l.End(0)
	l.End(time.Second)
	if l.Pending() != 0 || l.Estimate() != time.Second {
		t.Errorf("after two ends: pending %d, estimate %v", l.Pending(), l.Estimate())
	}
	// Long idle: the estimate fades but keeps a floor, so that waiting
	// calls still count.
	clock.Advance(time.Hour)
	l.Begin()
	if got, want := l.Cost(), 2*float64(time.Microsecond); got != want {
		t.Errorf("faded cost %v, want %v", got, want)
	}
}

// TestP2CPrefersTheFasterTarget checks that the latency strategy sends most
// calls to the fast target, some to the slow one while its estimate fades,
// and spreads calls when load builds up on the fast one.
func TestP2CPrefersTheFasterTarget(t *testing.T) {
	clock := newFakeClock()
	fast := &Target{Name: "fast", Weight: 1, Latency: NewLatency(0, time.Second, clock.Now)}
	slow := &Target{Name: "slow", Weight: 1, Latency: NewLatency(0, time.Second, clock.Now)}
	medium := &Target{Name: "medium", Weight: 1, Latency: NewLatency(0, time.Second, clock.Now)}
	ts := []*Target{slow, fast, medium}
	latency := map[*Target]time.Duration{fast: 50 * time.Millisecond, medium: 200 * time.Millisecond, slow: 2 * time.Second}
	rng := rand.New(rand.NewPCG(7, 7))

	counts := map[*Target]int{}
	const calls = 3000
	for range calls {
		clock.Advance(10 * time.Millisecond)
		i := pick(StrategyLatency, ts, 0, 0b111, rng)
		ts[i].Latency.Begin()
		ts[i].Latency.End(latency[ts[i]])
		counts[ts[i]]++
	}
	// The fast target is in two pairs out of three, and wins them.
	if counts[fast] < calls*6/10 || counts[medium] > calls*4/10 {
		t.Errorf("fast target got %d of %d calls (medium %d), want nearly two thirds", counts[fast], calls, counts[medium])
	}
	if counts[slow] == 0 || counts[slow] > calls/20 {
		t.Errorf("slow target got %d calls, want a few probes as its estimate fades", counts[slow])
	}

	// Load on the fast target: its cost grows with the calls waiting.
	for range 20 {
		fast.Latency.Begin()
	}
	before := counts[medium]
	for range 100 {
		i := pick(StrategyLatency, ts, 0, 0b111, rng)
		counts[ts[i]]++
	}
	if counts[medium]-before < 50 {
		t.Errorf("medium target got %d of 100 calls while the fast one was loaded", counts[medium]-before)
	}
}

func TestP2CBetweenTwo(t *testing.T) {
	clock := newFakeClock()
	fast := &Target{Name: "fast", Weight: 1, Latency: NewLatency(0, time.Second, clock.Now)}
	slow := &Target{Name: "slow", Weight: 1, Latency: NewLatency(0, time.Second, clock.Now)}
	ts := []*Target{slow, fast}
	rng := rand.New(rand.NewPCG(8, 8))
	picked := 0
	const calls = 1000
	for range calls {
		clock.Advance(10 * time.Millisecond)
		i := pick(StrategyLatency, ts, 0, 0b11, rng)
		rtt := 2 * time.Second
		if ts[i] == fast {
			picked++
			rtt = 50 * time.Millisecond
		}
		ts[i].Latency.Begin()
		ts[i].Latency.End(rtt)
	}
	if picked < calls*95/100 || picked == calls {
		t.Errorf("fast target got %d of %d calls, want nearly all, and the slow one a few probes", picked, calls)
	}
}

func TestLatencyConcurrent(t *testing.T) {
	l := NewLatency(0, 0, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				l.Begin()
				_ = l.Cost()
				if i%7 == g {
					l.End(0)
					l.Penalize(time.Millisecond)
				} else {
					l.End(time.Duration(i) * time.Microsecond)
				}
			}
		})
	}
	wg.Wait()
	if l.Pending() != 0 {
		t.Errorf("pending %d after every call ended", l.Pending())
	}
}
