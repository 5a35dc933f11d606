// Package analytics turns call records into compact rollups — per-bucket
// aggregates by service, route, model, provider, consumer and status class
// with mergeable latency sketches — and answers the analytics API's
// questions (time series, breakdowns, top-N, window comparison) from them,
// so that dashboards never scan the raw call log.
//
// Rollups are kept at three resolutions (minute, hour, day). Every batch of
// newly stored call records is aggregated at all three at once, so coarser
// buckets never wait for a downsampling job and each resolution only needs
// its own retention.
package analytics

import (
	"errors"
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// RelativeAccuracy is the sketches' guarantee: a quantile read from a
// sketch is within 1 % of the true value of that rank.
const RelativeAccuracy = 0.01

// maxSketchBins bounds a sketch's memory and encoding. With 1 % accuracy,
// 2048 bins span a ratio of about 10^17 between the smallest and largest
// value kept exactly, far beyond latencies in microseconds; should a sketch
// ever exceed it, the lowest bins collapse, which only blurs the fastest
// calls.
const maxSketchBins = 2048

// sketchVersion prefixes every encoded sketch, so that a later change of
// mapping or format can still read what is stored.
const sketchVersion = 1

// indexMapping is shared by every sketch: encodings omit it (it is what
// sketchVersion 1 means), which keeps a stored sketch a few dozen bytes.
var indexMapping = func() mapping.IndexMapping {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil {
		panic(fmt.Sprintf("analytics: sketch mapping: %v", err))
	}
	return m
}()

// Sketch is a mergeable quantile sketch (DDSketch) of non-negative values,
// latencies in microseconds here. The zero value is not usable; use
// NewSketch or DecodeSketch.
type Sketch struct {
	s *ddsketch.DDSketch
}

func newStore() store.Store { return store.NewCollapsingLowestDenseStore(maxSketchBins) }

// NewSketch returns an empty sketch.
func NewSketch() *Sketch {
	return &Sketch{s: ddsketch.NewDDSketch(indexMapping, newStore(), newStore())}
}

// Add records one value. Negative values, NaN and infinities are ignored:
// a duration is never negative, and one bad value must not fail a batch.
func (k *Sketch) Add(v float64) {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	_ = k.s.Add(v) // fails only for values the checks above exclude
}

// Merge adds every value of o to k.
func (k *Sketch) Merge(o *Sketch) error {
	if o == nil || o.s.IsEmpty() {
		return nil
	}
	if err := k.s.MergeWith(o.s); err != nil {
		return fmt.Errorf("merging latency sketches: %w", err)
	}
	return nil
}

// Count is the number of values added.
func (k *Sketch) Count() int64 { return int64(math.Round(k.s.GetCount())) }

// Quantile returns the value at rank q (0..1), within RelativeAccuracy;
// 0 for an empty sketch.
func (k *Sketch) Quantile(q float64) float64 {
	if k.s.IsEmpty() {
		return 0
	}
	v, err := k.s.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// AppendBinary appends the sketch's compact encoding to b: a version byte
// then DDSketch's own varint encoding without the index mapping.
func (k *Sketch) AppendBinary(b []byte) []byte {
	b = append(b, sketchVersion)
	k.s.Encode(&b, true)
	return b
}

// MarshalBinary returns the compact encoding (see AppendBinary).
func (k *Sketch) MarshalBinary() ([]byte, error) { return k.AppendBinary(nil), nil }

// DecodeSketch reads an encoding made by AppendBinary. An empty input is an
// empty sketch.
func DecodeSketch(b []byte) (*Sketch, error) {
	if len(b) == 0 {
		return NewSketch(), nil
	}
	if b[0] != sketchVersion {
		return nil, fmt.Errorf("decoding latency sketch: unknown version %d", b[0])
	}
	k := NewSketch()
	if err := decodeInto(k.s, b[1:]); err != nil {
		return nil, err
	}
	return k, nil
}

// MergeEncoded merges an encoding made by AppendBinary into k, without
// building a sketch for it: queries over many rollups merge each row's
// sketch straight into the group's.
func (k *Sketch) MergeEncoded(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if b[0] != sketchVersion {
		return fmt.Errorf("decoding latency sketch: unknown version %d", b[0])
	}
	return decodeInto(k.s, b[1:])
}

// decodeInto merges an encoding into s, turning the decoder's panics on
// corrupt input (it indexes past short buffers) into errors.
func decodeInto(s *ddsketch.DDSketch, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoding latency sketch: corrupt encoding: %v", r)
		}
	}()
	if err := s.DecodeAndMergeWith(b); err != nil {
		return fmt.Errorf("decoding latency sketch: %w", err)
	}
	if math.IsNaN(s.GetCount()) || s.GetCount() < 0 {
		return errors.New("decoding latency sketch: corrupt counts")
	}
	return nil
}
