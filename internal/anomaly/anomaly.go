// Package anomaly judges recorded calls off the request path and flags the
// suspicious ones: empty, cut-short, filtered or refused answers, answers
// stuck in a loop, far longer than usual, not the JSON that was asked for
// or in another language than the question, calls much slower than usual,
// and failures that come in bursts. Each flag is a detector's name and is
// stored on the call record (calllog.Record.Flags).
//
// Detectors read the captured bodies in the client's format, by endpoint,
// with gjson rather than a full decode: the engine runs in the call log's
// writer for every record. Detectors are pluggable (the Detector interface)
// and tuned by the declarative detectors section (config.Detectors).
package anomaly

import (
	"slices"
	"sync"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// Detector judges one call. Detect reports whether the call gets the flag
// Name; it may keep state across calls (a baseline), since the engine gives
// it every call in order, from one goroutine at a time.
type Detector interface {
	// Name is the flag the detector sets.
	Name() string
	// Detect judges c. It must not keep c, or strings from it, past the
	// call: they may point into a buffer the engine reuses.
	Detect(c *Call) bool
}

// Options configure an Engine beyond the declarative settings.
type Options struct {
	// Count is called once per flag set, e.g. to count it in a metric;
	// nil counts nothing.
	Count func(flag, model string)
	// Extra detectors run after the built-in ones.
	Extra []Detector
}

// Engine runs a list of detectors over batches of call records. Its
// methods are safe for concurrent use; Annotate batches run one at a time.
type Engine struct {
	o Options

	mu        sync.Mutex
	detectors []Detector
	// The baselines of the stateful detectors live here, not in the
	// detectors, so that a configuration reload keeps what was learnt.
	long    *sketches
	latency *ewmas
	ttft    *ewmas
	bursts  *bursts
	scratch scratch
}

// New returns an engine running the built-in detectors tuned by cfg (nil:
// the defaults), then o.Extra.
func New(cfg *config.Detectors, o Options) *Engine {
	e := &Engine{o: o, long: newSketches(), latency: newEWMAs(), ttft: newEWMAs(), bursts: newBursts()}
	e.detectors = e.build(cfg)
	return e
}

// Update retunes the detectors, keeping their baselines.
func (e *Engine) Update(cfg *config.Detectors) {
	ds := e.build(cfg)
	e.mu.Lock()
	e.detectors = ds
	e.mu.Unlock()
}

// Detectors returns the names of the detectors that run, in order.
func (e *Engine) Detectors() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, len(e.detectors))
	for i, d := range e.detectors {
		names[i] = d.Name()
	}
	return names
}

func (e *Engine) build(cfg *config.Detectors) []Detector {
	if cfg == nil {
		cfg = &config.Detectors{}
	}
	all := []Detector{
		emptyOutput{},
		truncated{},
		contentFilter{},
		newRefusal(cfg.Refusal),
		newRepetition(cfg.Repetition),
		newLongOutput(cfg.LongOutput, e.long),
		invalidJSON{},
		newLanguageMismatch(cfg.LanguageMismatch),
		newOutlier(config.DetectorLatencyOutlier, cfg.LatencyOutlier, e.latency, latencyOf),
		newOutlier(config.DetectorTTFTOutlier, cfg.TTFTOutlier, e.ttft, ttftOf),
		newErrorBurst(cfg.ErrorBurst, e.bursts),
	}
	ds := make([]Detector, 0, len(all)+len(e.o.Extra))
	for _, d := range all {
		if !slices.Contains(cfg.Disabled, d.Name()) {
			ds = append(ds, d)
		}
	}
	return append(ds, e.o.Extra...)
}

// Annotate runs the detectors over recs, in order, appending the flags of
// each record to its Flags (a flag already there is not added twice, so a
// batch written again after a failure reads the same). Probe calls are left
// alone: they are not the traffic the baselines describe.
func (e *Engine) Annotate(recs []calllog.Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if r.Synthetic {
			continue
		}
		c := e.scratch.call(r)
		for _, d := range e.detectors {
			if !d.Detect(c) || slices.Contains(r.Flags, d.Name()) {
				continue
			}
			r.Flags = append(r.Flags, d.Name())
			if e.o.Count != nil {
				e.o.Count(d.Name(), r.Model)
			}
		}
	}
}
