package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    uint64
	}{
		{name: "zero", v: 0},
		{name: "exact range top", v: subCount - 1},
		{name: "first log bucket", v: subCount},
		{name: "microsecond", v: 1000},
		{name: "millisecond", v: 1_000_000},
		{name: "odd value", v: 123_456_789},
		{name: "one minute", v: uint64(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := bucketOf(tt.v)
			low, width := bucketRange(i)
			if tt.v < low || tt.v >= low+width {
				t.Errorf("value %d in bucket %d = [%d, %d)", tt.v, i, low, low+width)
			}
			if float64(width-1)/float64(max(low, 1)) > 1.0/subHalf {
				t.Errorf("bucket %d is [%d, +%d): wider than the promised precision", i, low, width)
			}
		})
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	next := uint64(0)
	for i := range nBuckets {
		low, width := bucketRange(i)
		if low != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, low, next)
		}
		next = low + width
	}
}

func TestHugeValueIsClamped(t *testing.T) {
	h := newHistogram()
	h.record(time.Duration(math.MaxInt64))
	if h.n != 1 || h.quantile(1) != time.Duration(math.MaxInt64) {
		t.Errorf("n=%d max quantile=%v", h.n, h.quantile(1))
	}
}

func TestQuantilesAgainstSort(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{name: "uniform 100us-2ms", gen: func(r *rand.Rand) time.Duration {
			return 100*time.Microsecond + time.Duration(r.Int64N(int64(1900*time.Microsecond)))
		}},
		{name: "long tail", gen: func(r *rand.Rand) time.Duration {
			return time.Duration(200_000 * math.Exp(r.NormFloat64()))
		}},
		{name: "constant", gen: func(*rand.Rand) time.Duration { return 777 * time.Microsecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			// Two halves merged, as the workers' histograms are.
			a, b := newHistogram(), newHistogram()
			var all []time.Duration
			for i := range 20000 {
				d := tt.gen(r)
				all = append(all, d)
				if i%2 == 0 {
					a.record(d)
				} else {
					b.record(d)
				}
			}
			a.merge(b)
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				want := all[max(int(math.Ceil(q*float64(len(all))))-1, 0)]
				got := a.quantile(q)
				if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
					t.Errorf("q%.3f = %v, want %v (off by %.2f%%)", q, got, want, rel*100)
				}
			}
			if a.max != uint64(all[len(all)-1]) || a.min != uint64(all[0]) {
				t.Errorf("min/max = %d/%d, want %v/%v", a.min, a.max, all[0], all[len(all)-1])
			}
		})
	}
}

func TestEmptyHistogram(t *testing.T) {
	h := newHistogram()
	h.merge(newHistogram())
	if h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Error("empty histogram reports values")
	}
}
