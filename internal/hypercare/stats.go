package hypercare

import (
	"math"
	"math/rand/v2"
	"slices"
)

// TwoSidedP is the two-sided p-value of a standard normal statistic z.
func TwoSidedP(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// TwoProportionZ tests whether the rates x1/n1 (before) and x2/n2 (after)
// differ: the pooled two-proportion z-test, without continuity correction
// (the same statistic as a 2×2 chi-square test, z² = χ²). It returns z
// (positive when the second rate is higher) and the two-sided p-value; p
// is 1 when either sample is empty or the pooled rate is 0 or 1.
func TwoProportionZ(x1, n1, x2, n2 int64) (z, p float64) {
	if n1 <= 0 || n2 <= 0 {
		return 0, 1
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pool := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 || math.IsNaN(se) {
		return 0, 1
	}
	z = (p2 - p1) / se
	return z, TwoSidedP(z)
}

// Moments are the count, sum and sum of squares of a sample, which SQL
// aggregates give without reading the rows.
type Moments struct {
	N          int64
	Sum, SumSq float64
}

// Mean is the sample mean; 0 for an empty sample.
func (m Moments) Mean() float64 {
	if m.N == 0 {
		return 0
	}
	return m.Sum / float64(m.N)
}

// Variance is the unbiased sample variance; 0 below two observations.
func (m Moments) Variance() float64 {
	if m.N < 2 {
		return 0
	}
	v := (m.SumSq - m.Sum*m.Sum/float64(m.N)) / float64(m.N-1)
	return math.Max(v, 0) // rounding may take it a hair below zero
}

// WelchZ tests whether the means of a (before) and b (after) differ:
// Welch's statistic with the normal approximation, which the minimum
// sample sizes of a verdict make sound. It returns the statistic (positive
// when b's mean is higher) and the two-sided p-value.
func WelchZ(a, b Moments) (z, p float64) {
	if a.N < 2 || b.N < 2 {
		return 0, 1
	}
	se := math.Sqrt(a.Variance()/float64(a.N) + b.Variance()/float64(b.N))
	d := b.Mean() - a.Mean()
	if se == 0 {
		if d == 0 {
			return 0, 1
		}
		return math.Copysign(math.Inf(1), d), 0
	}
	z = d / se
	return z, TwoSidedP(z)
}

// Quantile is the nearest-rank q-quantile of sorted: the smallest value
// with at least q of the sample at or below it. 0 for an empty sample.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rank(len(sorted), q)]
}

// rank is the index of the nearest-rank q-quantile in n sorted values.
func rank(n int, q float64) int {
	k := int(math.Ceil(q*float64(n))) - 1
	return min(max(k, 0), n-1)
}

// BootstrapResult is the bootstrap distribution of the change of one
// quantile, after minus before.
type BootstrapResult struct {
	Q      float64
	Before float64
	After  float64
	// Low and High bound the (1-alpha) percentile interval of the change.
	Low, High float64
	// P is a two-sided bootstrap p-value: twice the share of resampled
	// changes on the far side of zero, with one added to both counts so
	// that it is never 0.
	P float64
}

// DefaultResamples is the number of bootstrap resamples.
const DefaultResamples = 1000

// BootstrapQuantiles estimates, for each quantile in qs, the change from
// sample before to sample after with a percentile bootstrap interval at
// level 1-alpha. The random draws come from a PCG generator with the
// given seed, so equal inputs give equal intervals.
//
// Resampling never sorts: with the samples sorted once, a resample is a
// count of how often each position is drawn, and its quantiles are found
// by walking the cumulative counts, so each resample costs O(n).
func BootstrapQuantiles(before, after []float64, qs []float64, resamples int, alpha float64, seed uint64) []BootstrapResult {
	a, b := slices.Clone(before), slices.Clone(after)
	slices.Sort(a)
	slices.Sort(b)
	out := make([]BootstrapResult, len(qs))
	for i, q := range qs {
		out[i] = BootstrapResult{Q: q, Before: Quantile(a, q), After: Quantile(b, q), P: 1}
	}
	if len(a) == 0 || len(b) == 0 || resamples <= 0 {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	diffs := make([][]float64, len(qs))
	for i := range diffs {
		diffs[i] = make([]float64, resamples)
	}
	ca, cb := make([]int32, len(a)), make([]int32, len(b))
	qa, qb := make([]float64, len(qs)), make([]float64, len(qs))
	for r := range resamples {
		resampleQuantiles(rng, a, ca, qs, qa)
		resampleQuantiles(rng, b, cb, qs, qb)
		for i := range qs {
			diffs[i][r] = qb[i] - qa[i]
		}
	}
	for i := range qs {
		d := diffs[i]
		slices.Sort(d)
		out[i].Low = d[rank(len(d), alpha/2)]
		out[i].High = d[rank(len(d), 1-alpha/2)]
		var below, above int
		for _, x := range d {
			if x <= 0 {
				below++
			}
			if x >= 0 {
				above++
			}
		}
		out[i].P = math.Min(1, 2*float64(min(below, above)+1)/float64(len(d)+1))
	}
	return out
}

// resampleQuantiles draws len(sorted) positions with replacement and puts
// the resample's quantiles qs into dst.
func resampleQuantiles(rng *rand.Rand, sorted []float64, counts []int32, qs, dst []float64) {
	n := len(sorted)
	clear(counts)
	for range n {
		counts[rng.IntN(n)]++
	}
	// qs are few; for each, walk until the cumulative count reaches its rank.
	for i, q := range qs {
		want := int32(rank(n, q)) + 1
		var cum int32
		for j, c := range counts {
			cum += c
			if cum >= want {
				dst[i] = sorted[j]
				break
			}
		}
	}
}
