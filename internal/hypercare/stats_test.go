package hypercare

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestTwoSidedPAgainstNormalTable(t *testing.T) {
	// Two-sided tail areas of the standard normal distribution.
	tests := []struct {
		name string
		z, p float64
	}{
		{"zero", 0, 1},
		{"one sigma", 1, 0.3173105},
		{"5 percent", 1.959964, 0.05},
		{"1 percent", 2.575829, 0.01},
		{"0.1 percent", 3.290527, 0.001},
		{"negative", -1.644854, 0.10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TwoSidedP(tt.z); math.Abs(got-tt.p) > 1e-6 {
				t.Errorf("TwoSidedP(%v) = %.7f, want %.7f", tt.z, got, tt.p)
			}
		})
	}
}

func TestTwoProportionZ(t *testing.T) {
	// References: the 2×2 chi-square test without continuity correction,
	// whose statistic is z², e.g. R's prop.test(c(50, 70), c(1000, 1000),
	// correct = FALSE): X-squared = 3.5461, p-value = 0.05969.
	tests := []struct {
		name           string
		x1, n1, x2, n2 int64
		z, p           float64
	}{
		{"5 % vs 7 %", 50, 1000, 70, 1000, 1.883109, 0.05968},
		{"equal rates", 30, 600, 15, 300, 0, 1},
		{"improvement is negative", 80, 1000, 40, 1000, -3.76626, 0.000166},
		{"large samples", 400, 100000, 2100, 100000, 34.2145, 0},
		{"empty sample", 0, 0, 5, 10, 0, 1},
		{"no events at all", 0, 100, 0, 100, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, p := TwoProportionZ(tt.x1, tt.n1, tt.x2, tt.n2)
			if math.Abs(z-tt.z) > 0.01 || math.Abs(p-tt.p) > 1e-4 {
				t.Errorf("TwoProportionZ = (%.5f, %.6f), want (%.5f, %.6f)", z, p, tt.z, tt.p)
			}
		})
	}
}

func TestWelchZ(t *testing.T) {
	// a: 1..100 (mean 50.5, variance 841.667); b the same shifted by 10.
	var a, b Moments
	for i := 1; i <= 100; i++ {
		a.N, a.Sum, a.SumSq = a.N+1, a.Sum+float64(i), a.SumSq+float64(i*i)
		v := float64(i + 10)
		b.N, b.Sum, b.SumSq = b.N+1, b.Sum+v, b.SumSq+v*v
	}
	if math.Abs(a.Variance()-841.6667) > 1e-3 {
		t.Fatalf("variance = %v", a.Variance())
	}
	z, p := WelchZ(a, b)
	// se = sqrt(2 * 841.667 / 100) = 4.1028; z = 10 / 4.1028.
	if math.Abs(z-2.43733) > 1e-4 || math.Abs(p-0.014796) > 1e-5 {
		t.Errorf("WelchZ = (%v, %v), want (2.43733, 0.014796)", z, p)
	}
	if z, p := WelchZ(a, a); z != 0 || p != 1 {
		t.Errorf("WelchZ of equal samples = (%v, %v)", z, p)
	}
}

func TestQuantileNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0.5: 5, 0.95: 10, 0.1: 1, 0.11: 2, 1: 10, 0: 1} {
		if got := Quantile(s, q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

// TestBootstrapCoverage checks the intervals on synthetic data with a known
// answer: with both samples from one distribution, the 95 % interval of
// the change in the median covers 0 about 95 % of the time; with the
// second shifted by a constant it covers that constant as often.
func TestBootstrapCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const trials, n = 200, 400
	for _, shift := range []float64{0, 25} {
		covered := 0
		for trial := range trials {
			a, b := make([]float64, n), make([]float64, n)
			for i := range n {
				a[i] = rng.ExpFloat64() * 100
				b[i] = rng.ExpFloat64()*100 + shift
			}
			r := BootstrapQuantiles(a, b, []float64{0.5}, 300, 0.05, uint64(trial+1))[0]
			if r.Low <= shift && shift <= r.High {
				covered++
			}
		}
		rate := float64(covered) / trials
		if rate < 0.88 || rate > 0.995 {
			t.Errorf("shift %v: 95 %% intervals covered the true change in %.1f %% of trials", shift, rate*100)
		}
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := make([]float64, 1000), make([]float64, 1000)
	for i := range a {
		a[i], b[i] = rng.NormFloat64()*10+100, rng.NormFloat64()*10+130
	}
	qs := []float64{0.5, 0.95, 0.99}
	x := BootstrapQuantiles(a, b, qs, 500, 0.05, 42)
	y := BootstrapQuantiles(a, b, qs, 500, 0.05, 42)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("same seed, different results: %+v vs %+v", x[i], y[i])
		}
	}
	if m := x[0]; m.Low <= 0 || m.P > 0.01 {
		t.Errorf("a 30-unit shift in the median is not significant: %+v", m)
	}
}
