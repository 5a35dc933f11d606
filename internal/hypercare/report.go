package hypercare

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// Verdict is the plain judgement of one metric.
type Verdict string

// The verdicts.
const (
	Improved      Verdict = "improved"
	Regressed     Verdict = "regressed"
	Unchanged     Verdict = "unchanged"
	NotEnoughData Verdict = "not enough data"
)

// The metrics of a report, in the order shown.
const (
	MetricLatencyP50     = "latency_p50"
	MetricLatencyP95     = "latency_p95"
	MetricLatencyP99     = "latency_p99"
	MetricErrorRate      = "error_rate"
	MetricPositiveRatio  = "positive_feedback_ratio"
	MetricAnomalyRate    = "anomaly_rate"
	MetricTokensPerCall  = "tokens_per_call"
	MetricCostPerCall    = "cost_per_call"
	betterLower          = "lower"
	betterHigher         = "higher"
	testZ                = "two-proportion z-test"
	testWelch            = "Welch's test (normal approximation)"
	testBootstrap        = "bootstrap percentile interval"
	unitMS, unitRatio    = "ms", "ratio"
	unitTokens, unitUSD  = "tokens", "usd"
	defaultBootstrapSeed = 0x6879706572636172 // "hypercar"
)

// Period is a span of time with how many calls and thumbs up or down it
// holds.
type Period struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Calls    int64     `json:"calls"`
	Feedback int64     `json:"feedback"`
}

// Metric is one metric of a report: its values before and in the window,
// the test and the verdict.
type Metric struct {
	Metric string `json:"metric"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`
	// Better says which direction is an improvement: lower or higher.
	Better string `json:"better"`
	// Baseline and Window are nil without any data.
	Baseline *float64 `json:"baseline"`
	Window   *float64 `json:"window"`
	// Change is the relative change, (window - baseline) / baseline; nil
	// when either is missing or the baseline is 0.
	Change *float64 `json:"change"`
	// BaselineN and WindowN are the observations: calls, or thumbs for
	// the feedback ratio, or sampled latencies for the percentiles.
	BaselineN int64  `json:"baseline_n"`
	WindowN   int64  `json:"window_n"`
	Test      string `json:"test"`
	// P is the two-sided p-value of the test.
	P *float64 `json:"p_value"`
	// CILow and CIHigh bound the change (window minus baseline, in the
	// metric's unit) at level 1-alpha, for the percentiles.
	CILow   *float64 `json:"ci_low,omitempty"`
	CIHigh  *float64 `json:"ci_high,omitempty"`
	Verdict Verdict  `json:"verdict"`
	// Text says it in words.
	Text string `json:"text"`
}

// Report compares a window with its baseline as of a time.
type Report struct {
	Window string    `json:"window"`
	Target string    `json:"target"`
	State  State     `json:"state"`
	At     time.Time `json:"at"`
	// Period is the window so far: from its start to At or its end.
	Period   Period `json:"period"`
	Baseline Period `json:"baseline"`
	// Alpha, MinEffect, MinCalls and MinFeedback are the verdict settings
	// used.
	Alpha       float64 `json:"alpha"`
	MinEffect   float64 `json:"min_effect"`
	MinCalls    int     `json:"min_calls"`
	MinFeedback int     `json:"min_feedback"`
	// Summary is one sentence: what regressed, what improved.
	Summary string   `json:"summary"`
	Metrics []Metric `json:"metrics"`
	// Exit is the exit criteria's standing; nil when the window has none.
	Exit *Exit `json:"exit,omitempty"`
	// Method says how the figures were computed.
	Method string `json:"method"`
}

// Options tune Build; zero values take the defaults.
type Options struct {
	// Resamples is the number of bootstrap resamples (DefaultResamples).
	Resamples int
	// Seed seeds the bootstrap; by default a hash of the window's name,
	// so that a window's reports are reproducible.
	Seed uint64
	// MaxSample bounds the latencies sampled per period (MaxSample).
	MaxSample int
}

// method documents the computation in each report.
const method = "Counts and sums are SQL aggregates over every call of the target in each period, synthetic probe calls left out. " +
	"Rates (error, anomaly, positive feedback) are compared with a pooled two-proportion z-test; tokens and cost per call with Welch's test " +
	"(normal approximation) from sums and sums of squares. Latency percentiles are over the calls that succeeded, from a sample of at most " +
	"20,000 per period (every k-th call in time order when there are more), compared with a seeded percentile bootstrap of the change. " +
	"A change counts when it is significant at alpha and at least min_effect relative to the baseline; below min_calls calls (min_feedback thumbs) " +
	"in either period the verdict is \"not enough data\". Positive-feedback ratio is thumbs up over thumbs up and down on the period's calls."

// Build computes the report of window h as of at.
func Build(ctx context.Context, src Source, h config.Hypercare, at time.Time, o Options) (*Report, error) {
	at = at.UTC()
	t := TargetOf(h.Target)
	vs := h.EffectiveVerdict()
	if o.Resamples <= 0 {
		o.Resamples = DefaultResamples
	}
	if o.MaxSample <= 0 {
		o.MaxSample = MaxSample
	}
	if o.Seed == 0 {
		f := fnv.New64a()
		f.Write([]byte(h.Name))
		o.Seed = f.Sum64() ^ defaultBootstrapSeed
	}
	bp := h.BaselinePeriod()
	wFrom, wTo := h.Start, min64(at, h.End())
	if wTo.Before(wFrom) {
		wTo = wFrom
	}
	base, err := src.HypercareAggregates(ctx, t, bp.From, bp.To)
	if err != nil {
		return nil, fmt.Errorf("baseline of %s: %w", h.Name, err)
	}
	win, err := src.HypercareAggregates(ctx, t, wFrom, wTo)
	if err != nil {
		return nil, fmt.Errorf("window of %s: %w", h.Name, err)
	}
	bs, err := src.HypercareLatencySample(ctx, t, bp.From, bp.To, o.MaxSample)
	if err != nil {
		return nil, fmt.Errorf("baseline latencies of %s: %w", h.Name, err)
	}
	ws, err := src.HypercareLatencySample(ctx, t, wFrom, wTo, o.MaxSample)
	if err != nil {
		return nil, fmt.Errorf("window latencies of %s: %w", h.Name, err)
	}
	r := &Report{
		Window: h.Name, Target: t.String(), At: at,
		Period:   Period{From: wFrom, To: wTo, Calls: win.Calls, Feedback: win.Positive + win.Negative},
		Baseline: Period{From: bp.From, To: bp.To, Calls: base.Calls, Feedback: base.Positive + base.Negative},
		Alpha:    vs.Alpha, MinEffect: vs.MinEffect, MinCalls: vs.MinCalls, MinFeedback: vs.MinFeedback,
		Method: method,
	}
	j := judge{alpha: vs.Alpha, minEffect: vs.MinEffect}
	// Latency percentiles.
	boot := BootstrapQuantiles(millis(bs), millis(ws), []float64{0.5, 0.95, 0.99}, o.Resamples, vs.Alpha, o.Seed)
	for i, m := range []struct{ name, label string }{
		{MetricLatencyP50, "Latency p50"}, {MetricLatencyP95, "Latency p95"}, {MetricLatencyP99, "Latency p99"},
	} {
		b := boot[i]
		mt := Metric{Metric: m.name, Label: m.label, Unit: unitMS, Better: betterLower, Test: testBootstrap,
			BaselineN: int64(len(bs)), WindowN: int64(len(ws))}
		if len(bs) > 0 {
			mt.Baseline = ptr(b.Before)
		}
		if len(ws) > 0 {
			mt.Window = ptr(b.After)
		}
		enough := len(bs) >= vs.MinCalls && len(ws) >= vs.MinCalls && len(bs) > 0 && len(ws) > 0
		if enough {
			mt.P, mt.CILow, mt.CIHigh = ptr(b.P), ptr(b.Low), ptr(b.High)
		}
		j.decide(&mt, enough, enough && (b.Low > 0 || b.High < 0))
		r.Metrics = append(r.Metrics, mt)
	}
	// Rates.
	rate := func(name, label, better string, xb, nb, xw, nw int64, min int) {
		mt := Metric{Metric: name, Label: label, Unit: unitRatio, Better: better, Test: testZ, BaselineN: nb, WindowN: nw}
		if nb > 0 {
			mt.Baseline = ptr(float64(xb) / float64(nb))
		}
		if nw > 0 {
			mt.Window = ptr(float64(xw) / float64(nw))
		}
		enough := nb >= int64(max(min, 1)) && nw >= int64(max(min, 1))
		_, p := TwoProportionZ(xb, nb, xw, nw)
		if enough {
			mt.P = ptr(p)
		}
		j.decide(&mt, enough, enough && p < vs.Alpha)
		r.Metrics = append(r.Metrics, mt)
	}
	rate(MetricErrorRate, "Error rate", betterLower, base.Errors, base.Calls, win.Errors, win.Calls, vs.MinCalls)
	rate(MetricPositiveRatio, "Positive feedback", betterHigher, base.Positive, base.Positive+base.Negative,
		win.Positive, win.Positive+win.Negative, vs.MinFeedback)
	rate(MetricAnomalyRate, "Anomaly rate", betterLower, base.Anomalies, base.Calls, win.Anomalies, win.Calls, vs.MinCalls)
	// Means.
	mean := func(name, label, unit string, b, w Moments) {
		mt := Metric{Metric: name, Label: label, Unit: unit, Better: betterLower, Test: testWelch, BaselineN: b.N, WindowN: w.N}
		if b.N > 0 {
			mt.Baseline = ptr(b.Mean())
		}
		if w.N > 0 {
			mt.Window = ptr(w.Mean())
		}
		enough := b.N >= int64(max(vs.MinCalls, 2)) && w.N >= int64(max(vs.MinCalls, 2))
		_, p := WelchZ(b, w)
		if enough {
			mt.P = ptr(p)
		}
		j.decide(&mt, enough, enough && p < vs.Alpha)
		r.Metrics = append(r.Metrics, mt)
	}
	mean(MetricTokensPerCall, "Tokens per call", unitTokens, base.Tokens, win.Tokens)
	mean(MetricCostPerCall, "Cost per call", unitUSD, base.Cost, win.Cost)

	if h.Exit != nil {
		if r.Exit, err = checkExit(ctx, src, t, h, at); err != nil {
			return nil, err
		}
	}
	r.State = StateAt(h, at, r.Exit != nil && r.Exit.Ready)
	r.Summary = summary(r)
	return r, nil
}

func min64(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func millis(us []int64) []float64 {
	out := make([]float64, len(us))
	for i, v := range us {
		out[i] = float64(v) / 1000
	}
	return out
}

// judge turns a metric's figures into a verdict.
type judge struct{ alpha, minEffect float64 }

// decide sets the metric's change, verdict and text. enough says whether
// both periods have the minimum sample; significant whether the test
// rejects "no change" at alpha.
func (j judge) decide(m *Metric, enough, significant bool) {
	if m.Baseline != nil && m.Window != nil && *m.Baseline != 0 {
		m.Change = ptr((*m.Window - *m.Baseline) / math.Abs(*m.Baseline))
	}
	m.Verdict = Classify(m.Better, m.Baseline, m.Window, enough, significant, j.minEffect)
	m.Text = describe(*m, j.alpha)
}

// Classify is the verdict rule. Without the minimum sample in both
// periods: not enough data. Otherwise a change is improved or regressed
// (by the metric's better direction) only when it is significant and its
// relative size is at least minEffect (from a baseline of 0, any change
// is large); every other case is unchanged.
func Classify(better string, baseline, window *float64, enough, significant bool, minEffect float64) Verdict {
	if !enough || baseline == nil || window == nil {
		return NotEnoughData
	}
	d := *window - *baseline
	if !significant || d == 0 {
		return Unchanged
	}
	if *baseline != 0 && math.Abs(d)/math.Abs(*baseline) < minEffect {
		return Unchanged
	}
	if (better == betterLower) == (d < 0) {
		return Improved
	}
	return Regressed
}

// describe writes a metric's verdict in words, e.g. "Error rate regressed:
// 2.1 % vs 0.4 % before (p < 0.001)".
func describe(m Metric, alpha float64) string {
	if m.Verdict == NotEnoughData {
		what := "calls"
		if m.Metric == MetricPositiveRatio {
			what = "thumbs up or down"
		}
		return fmt.Sprintf("%s: not enough data (%d %s before, %d in the window).", m.Label, m.BaselineN, what, m.WindowN)
	}
	vals := fmt.Sprintf("%s vs %s before", FormatValue(m.Unit, *m.Window), FormatValue(m.Unit, *m.Baseline))
	var sig string
	switch {
	case m.CILow != nil && m.CIHigh != nil:
		sig = fmt.Sprintf("change %s to %s at %s confidence, %s", signed(m.Unit, *m.CILow), signed(m.Unit, *m.CIHigh),
			percent(1-alpha), FormatP(*m.P))
	case m.P != nil:
		sig = FormatP(*m.P)
	}
	switch m.Verdict {
	case Unchanged:
		return fmt.Sprintf("%s unchanged: %s (%s).", m.Label, vals, sig)
	}
	return fmt.Sprintf("%s %s: %s (%s).", m.Label, m.Verdict, vals, sig)
}

// FormatValue writes v in unit for people.
func FormatValue(unit string, v float64) string {
	switch unit {
	case unitMS:
		if v >= 1000 {
			return trimFloat(v/1000, 2) + " s"
		}
		return trimFloat(v, 1) + " ms"
	case unitRatio:
		return percent(v)
	case unitUSD:
		return "$" + trimFloat(v, 6)
	case unitTokens:
		return trimFloat(v, 1)
	}
	return trimFloat(v, 3)
}

func signed(unit string, v float64) string {
	if v >= 0 {
		return "+" + FormatValue(unit, v)
	}
	return "-" + FormatValue(unit, -v)
}

// percent writes a share as a percentage with one decimal ("2.1 %").
func percent(v float64) string { return trimFloat(v*100, 1) + " %" }

func trimFloat(v float64, decimals int) string {
	s := fmt.Sprintf("%.*f", decimals, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// FormatP writes a p-value as people read it: "p < 0.001" or "p = 0.04".
func FormatP(p float64) string {
	switch {
	case p < 0.001:
		return "p < 0.001"
	case p < 0.01:
		return fmt.Sprintf("p = %.3f", p)
	}
	return fmt.Sprintf("p = %.2f", p)
}

// summary is the report's one sentence.
func summary(r *Report) string {
	var reg, imp []string
	for _, m := range r.Metrics {
		switch m.Verdict {
		case Regressed:
			reg = append(reg, strings.ToLower(m.Label))
		case Improved:
			imp = append(imp, strings.ToLower(m.Label))
		}
	}
	var b strings.Builder
	switch {
	case len(reg) > 0 && len(imp) > 0:
		fmt.Fprintf(&b, "Worse than before on %s; better on %s.", joinWords(reg), joinWords(imp))
	case len(reg) > 0:
		fmt.Fprintf(&b, "Worse than before on %s.", joinWords(reg))
	case len(imp) > 0:
		fmt.Fprintf(&b, "Better than before on %s; nothing regressed.", joinWords(imp))
	case slices.ContainsFunc(r.Metrics, func(m Metric) bool { return m.Verdict == Unchanged }):
		b.WriteString("No significant change from before.")
	default:
		b.WriteString("Not enough data to compare yet.")
	}
	if r.Exit != nil {
		b.WriteString(" " + r.Exit.Text)
	}
	return b.String()
}

func joinWords(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
