package main

import (
	"math/bits"
	"time"
)

// The histogram is log-linear, as HdrHistogram is: values below 2^subBits
// nanoseconds have a bucket each, and every power of two above is split into
// 2^(subBits-1) equal buckets, so a reported value is within 1/2^(subBits-1)
// (0.8%) of the recorded one at any scale. Values past 2^(subBits+maxExp-1)
// ns (about 39 hours) land in the last bucket.
const (
	subBits  = 8
	subCount = 1 << subBits
	subHalf  = subCount / 2
	maxExp   = 40
	nBuckets = subCount + maxExp*subHalf
)

// histogram records durations. It is not safe for concurrent use: each worker
// keeps its own and they are merged at the end, which keeps the hot path free
// of shared cache lines.
type histogram struct {
	counts []uint64
	n      uint64
	sum    uint64
	min    uint64
	max    uint64
}

func newHistogram() *histogram {
	return &histogram{counts: make([]uint64, nBuckets)}
}

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits
	if e > maxExp {
		return nBuckets - 1
	}
	return subCount + (e-1)*subHalf + int(v>>e) - subHalf
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	j := i - subCount
	e := j/subHalf + 1
	m := uint64(j%subHalf + subHalf)
	return m << e, 1 << e
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at or below which a fraction q of the recorded
// values lie: the middle of the bucket holding that rank, kept within the
// exact minimum and maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			v := low + (width-1)/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
