package anomaly

import (
	"cmp"
	"math"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// routeKey is what a baseline describes: one route of a service (or one
// endpoint, for the /v1 endpoints) and one model.
type routeKey struct {
	service, route, endpoint, model string
}

func keyOf(r *calllog.Record) routeKey {
	if r.Service != "" {
		return routeKey{service: r.Service, route: r.Route, model: r.Model}
	}
	return routeKey{endpoint: r.Endpoint, model: r.Model}
}

// maxBaselines bounds each detector's baselines. Routes and models are
// configured names, so the bound is only reached by endpoints clients make
// up (a /v1/prompts/ name that does not exist); those past it go unjudged.
const maxBaselines = 10000

// sketches are the output-token sketches of the long-output detector.
type sketches struct {
	m map[routeKey]*analytics.Sketch
}

func newSketches() *sketches { return &sketches{m: map[routeKey]*analytics.Sketch{}} }

// longOutput flags an answer whose output tokens exceed Factor times the
// running Quantile of its route and model, once MinSamples answers are
// known. Cached answers are judged but not learnt: they repeat an answer
// already counted.
type longOutput struct {
	minSamples int64
	quantile   float64
	factor     float64
	st         *sketches
}

func newLongOutput(cfg *config.LongOutputDetector, st *sketches) *longOutput {
	if cfg == nil {
		cfg = &config.LongOutputDetector{}
	}
	return &longOutput{
		minSamples: int64(cmp.Or(cfg.MinSamples, config.DefaultLongOutputMinSamples)),
		quantile:   cmp.Or(cfg.Quantile, config.DefaultLongOutputQuantile),
		factor:     cmp.Or(cfg.Factor, config.DefaultLongOutputFactor),
		st:         st,
	}
}

func (*longOutput) Name() string { return config.DetectorLongOutput }

func (d *longOutput) Detect(c *Call) bool {
	r := c.Record
	if c.Kind == KindOther || r.Status < 200 || r.Status >= 300 || r.ErrorType != "" || r.OutputTokens <= 0 {
		return false
	}
	k := keyOf(r)
	sk := d.st.m[k]
	if sk == nil {
		if len(d.st.m) >= maxBaselines {
			return false
		}
		sk = analytics.NewSketch()
		d.st.m[k] = sk
	}
	v := float64(r.OutputTokens)
	// Above the quantile by more than the sketch's own error, so that an
	// answer as long as the usual longest ones is not flagged.
	flag := sk.Count() >= d.minSamples && v > d.factor*sk.Quantile(d.quantile)*(1+2*analytics.RelativeAccuracy)
	if !r.CacheHit {
		sk.Add(v)
	}
	return flag
}

// ewma is an exponentially weighted mean and variance (West's update) of
// the logarithm of a timing: timings are skewed to the right, and on a log
// scale their spread is about symmetric, so that mean + k·stddev means the
// same on a quick route and on a slow one.
type ewma struct {
	n       int
	mean, v float64
}

type ewmas struct{ m map[routeKey]*ewma }

func newEWMAs() *ewmas { return &ewmas{m: map[routeKey]*ewma{}} }

// outlier flags a call whose timing is above mean + K standard deviations
// of its route and model (on a log scale), and at least MinExcess above the
// usual timing, after MinSamples calls. An outlier is learnt only up to that bound, so that one
// slow call does not widen the baseline for the next; a lasting slowdown
// still moves the mean up, and stops being flagged once it is the usual.
type outlier struct {
	name       string
	k          float64
	minSamples int
	alpha      float64
	minExcess  float64 // microseconds
	st         *ewmas
	value      func(*calllog.Record) (float64, bool)
}

func newOutlier(name string, cfg *config.OutlierDetector, st *ewmas, value func(*calllog.Record) (float64, bool)) *outlier {
	if cfg == nil {
		cfg = &config.OutlierDetector{}
	}
	return &outlier{
		name:       name,
		k:          cmp.Or(cfg.K, config.DefaultOutlierK),
		minSamples: cmp.Or(cfg.MinSamples, config.DefaultOutlierMinSamples),
		alpha:      cmp.Or(cfg.Alpha, config.DefaultOutlierAlpha),
		minExcess:  float64(cmp.Or(cfg.MinExcess, config.DefaultOutlierMinExcess).Std().Microseconds()),
		st:         st,
		value:      value,
	}
}

// latencyOf is a successful call's latency; cached answers tell nothing
// of the upstream's.
func latencyOf(r *calllog.Record) (float64, bool) {
	if r.Status < 200 || r.Status >= 400 || r.ErrorType != "" || r.CacheHit || r.LatencyUS <= 0 {
		return 0, false
	}
	return float64(r.LatencyUS), true
}

// ttftOf is a successful streamed call's time to first token.
func ttftOf(r *calllog.Record) (float64, bool) {
	if r.Status < 200 || r.Status >= 400 || r.ErrorType != "" || r.CacheHit || r.TTFTUS <= 0 {
		return 0, false
	}
	return float64(r.TTFTUS), true
}

func (d *outlier) Name() string { return d.name }

func (d *outlier) Detect(c *Call) bool {
	x, ok := d.value(c.Record)
	if !ok {
		return false
	}
	k := keyOf(c.Record)
	e := d.st.m[k]
	if e == nil {
		if len(d.st.m) >= maxBaselines {
			return false
		}
		e = &ewma{}
		d.st.m[k] = e
	}
	flag := false
	lx := math.Log(max(x, 1))
	learn := lx
	if e.n >= d.minSamples {
		bound := e.mean + d.k*math.Sqrt(e.v)
		flag = lx > bound && x-math.Exp(e.mean) >= d.minExcess
		learn = min(lx, bound)
	}
	e.n++
	// During warm-up the plain mean and variance, so that the first calls
	// do not weigh more than the later ones.
	a := max(d.alpha, 1/float64(e.n))
	diff := learn - e.mean
	incr := a * diff
	e.mean += incr
	e.v = (1 - a) * (e.v + diff*incr)
	return flag
}

// burst counts a route and model's calls and failures in buckets covering
// one window.
type burst struct {
	width   time.Duration
	buckets [burstBuckets]struct {
		at            int64 // the bucket's index since the epoch
		calls, errors int
	}
}

const burstBuckets = 60

type bursts struct{ m map[routeKey]*burst }

func newBursts() *bursts { return &bursts{m: map[routeKey]*burst{}} }

// errorBurst flags a failed call (status 500 and above) while its route and
// model have failed at least MinErrors times, and MinShare of their calls,
// in the last Window. Time is the records', so that a replayed spill file
// reads as it happened.
type errorBurst struct {
	window    time.Duration
	minErrors int
	minShare  float64
	st        *bursts
}

func newErrorBurst(cfg *config.ErrorBurstDetector, st *bursts) *errorBurst {
	if cfg == nil {
		cfg = &config.ErrorBurstDetector{}
	}
	return &errorBurst{
		window:    cmp.Or(cfg.Window, config.DefaultErrorBurstWindow).Std(),
		minErrors: cmp.Or(cfg.MinErrors, config.DefaultErrorBurstMinErrors),
		minShare:  cmp.Or(cfg.MinShare, config.DefaultErrorBurstMinShare),
		st:        st,
	}
}

func (*errorBurst) Name() string { return config.DetectorErrorBurst }

func (d *errorBurst) Detect(c *Call) bool {
	r := c.Record
	failed := r.Status >= 500
	k := keyOf(r)
	b := d.st.m[k]
	width := d.window / burstBuckets
	if b == nil || b.width != width {
		if b == nil && len(d.st.m) >= maxBaselines {
			return false
		}
		b = &burst{width: width}
		d.st.m[k] = b
	}
	now := r.Time.UnixNano() / int64(width)
	slot := &b.buckets[now%burstBuckets]
	if now < 0 {
		slot = &b.buckets[(now%burstBuckets+burstBuckets)%burstBuckets]
	}
	if slot.at != now {
		if slot.at > now { // a record older than the window's start
			return false
		}
		slot.at, slot.calls, slot.errors = now, 0, 0
	}
	slot.calls++
	if !failed {
		return false
	}
	slot.errors++
	calls, errs := 0, 0
	for i := range b.buckets {
		if at := b.buckets[i].at; at > now-burstBuckets && at <= now {
			calls += b.buckets[i].calls
			errs += b.buckets[i].errors
		}
	}
	return errs >= d.minErrors && float64(errs) >= d.minShare*float64(calls)
}
