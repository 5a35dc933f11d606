package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Names of the anomaly detectors, which are also the flags they set on call
// records (a contract: clients filter calls by them).
const (
	DetectorEmptyOutput      = "empty_output"
	DetectorTruncated        = "truncated"
	DetectorContentFilter    = "content_filter"
	DetectorRefusal          = "refusal"
	DetectorRepetition       = "repetition"
	DetectorLongOutput       = "long_output"
	DetectorInvalidJSON      = "invalid_json"
	DetectorLanguageMismatch = "language_mismatch"
	DetectorLatencyOutlier   = "latency_outlier"
	DetectorTTFTOutlier      = "ttft_outlier"
	DetectorErrorBurst       = "error_burst"
)

// detectorNames lists the built-in detectors in the order they run.
var detectorNames = []string{
	DetectorEmptyOutput, DetectorTruncated, DetectorContentFilter, DetectorRefusal,
	DetectorRepetition, DetectorLongOutput, DetectorInvalidJSON, DetectorLanguageMismatch,
	DetectorLatencyOutlier, DetectorTTFTOutlier, DetectorErrorBurst,
}

// DetectorNames returns the names of the built-in anomaly detectors, in the
// order they run.
func DetectorNames() []string { return slices.Clone(detectorNames) }

// Defaults of the anomaly detectors, used for every field left out (or 0).
const (
	DefaultRepetitionNgram      = 4
	DefaultRepetitionThreshold  = 0.5
	DefaultRepetitionMinWords   = 40
	DefaultLongOutputMinSamples = 50
	DefaultLongOutputQuantile   = 0.99
	DefaultLongOutputFactor     = 1.0
	DefaultLanguageMinLetters   = 40
	DefaultOutlierK             = 4.0
	DefaultOutlierMinSamples    = 30
	DefaultOutlierAlpha         = 0.05
	DefaultOutlierMinExcess     = Duration(100 * time.Millisecond)
	DefaultErrorBurstWindow     = Duration(time.Minute)
	DefaultErrorBurstMinErrors  = 5
	DefaultErrorBurstMinShare   = 0.5
)

// Limits of the anomaly detectors' settings.
const (
	// MaxRefusalPhrases bounds the phrases added to the built-in ones.
	MaxRefusalPhrases = 500
	// MaxRefusalPhraseLen bounds one phrase, in bytes.
	MaxRefusalPhraseLen = 200
)

// Detectors tunes the anomaly detectors that judge every recorded call off
// the request path and flag it (internal/anomaly). Absent, every detector
// runs with its defaults; each field left out (or 0) keeps its default.
type Detectors struct {
	// Disabled names detectors that do not run.
	Disabled []string `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	// Refusal flags answers that decline the request.
	Refusal *RefusalDetector `yaml:"refusal,omitempty" json:"refusal,omitempty"`
	// Repetition flags answers stuck in a loop.
	Repetition *RepetitionDetector `yaml:"repetition,omitempty" json:"repetition,omitempty"`
	// LongOutput flags answers far longer than the route's usual.
	LongOutput *LongOutputDetector `yaml:"long_output,omitempty" json:"long_output,omitempty"`
	// LanguageMismatch flags answers in another language than the question.
	LanguageMismatch *LanguageDetector `yaml:"language_mismatch,omitempty" json:"language_mismatch,omitempty"`
	// LatencyOutlier flags calls much slower than the route's usual.
	LatencyOutlier *OutlierDetector `yaml:"latency_outlier,omitempty" json:"latency_outlier,omitempty"`
	// TTFTOutlier flags streamed calls whose first token came much later
	// than the route's usual.
	TTFTOutlier *OutlierDetector `yaml:"ttft_outlier,omitempty" json:"ttft_outlier,omitempty"`
	// ErrorBurst flags failed calls that are part of a burst of failures.
	ErrorBurst *ErrorBurstDetector `yaml:"error_burst,omitempty" json:"error_burst,omitempty"`
}

// RefusalDetector tunes the refusal detector, which looks for refusal
// phrases at the start of an answer (where a model declines, not where it
// quotes a refusal) and trusts the upstream's own refusal signals.
type RefusalDetector struct {
	// Phrases are added to the built-in phrases (English, French, German,
	// Spanish, Portuguese, Italian, Dutch, Chinese, Japanese …); matched
	// case-insensitively.
	Phrases []string `yaml:"phrases,omitempty" json:"phrases,omitempty"`
	// ReplaceDefaults drops the built-in phrases: only Phrases count.
	ReplaceDefaults bool `yaml:"replace_defaults,omitempty" json:"replace_defaults,omitempty"`
}

// RepetitionDetector tunes the repetition detector: the share of an answer's
// word n-grams that repeat an earlier one.
type RepetitionDetector struct {
	// Ngram is the n-gram length in words (a character each in Chinese and
	// Japanese), 2 to 12; DefaultRepetitionNgram.
	Ngram int `yaml:"ngram,omitempty" json:"ngram,omitempty"`
	// Threshold is the share of repeated n-grams above which an answer is
	// flagged, above 0 and below 1; DefaultRepetitionThreshold.
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// MinWords is the length below which an answer is not judged;
	// DefaultRepetitionMinWords.
	MinWords int `yaml:"min_words,omitempty" json:"min_words,omitempty"`
}

// LongOutputDetector tunes the long-output detector, which keeps a sketch
// of the output tokens of each route (or endpoint) and model.
type LongOutputDetector struct {
	// MinSamples is how many answers a route and model must have had
	// before any is judged; DefaultLongOutputMinSamples.
	MinSamples int `yaml:"min_samples,omitempty" json:"min_samples,omitempty"`
	// Quantile of the past output tokens an answer must exceed, 0.5 to
	// 0.9999; DefaultLongOutputQuantile.
	Quantile float64 `yaml:"quantile,omitempty" json:"quantile,omitempty"`
	// Factor multiplies that quantile, at least 1; DefaultLongOutputFactor.
	Factor float64 `yaml:"factor,omitempty" json:"factor,omitempty"`
}

// LanguageDetector tunes the language-mismatch detector.
type LanguageDetector struct {
	// MinLetters is how many letters both the last user message and the
	// answer need before their languages are compared;
	// DefaultLanguageMinLetters.
	MinLetters int `yaml:"min_letters,omitempty" json:"min_letters,omitempty"`
}

// OutlierDetector tunes a latency or time-to-first-token outlier detector:
// an exponentially weighted mean and variance per route and model, and a
// call flagged above mean + K standard deviations.
type OutlierDetector struct {
	// K is the number of standard deviations, above 0;
	// DefaultOutlierK.
	K float64 `yaml:"k,omitempty" json:"k,omitempty"`
	// MinSamples is the warm-up: calls seen before any is judged;
	// DefaultOutlierMinSamples.
	MinSamples int `yaml:"min_samples,omitempty" json:"min_samples,omitempty"`
	// Alpha is the weight of each new call in the moving mean and
	// variance, above 0 and below 1; DefaultOutlierAlpha.
	Alpha float64 `yaml:"alpha,omitempty" json:"alpha,omitempty"`
	// MinExcess is how far above the mean a call must also be, so that a
	// route with steady timings is not flagged for a few milliseconds;
	// DefaultOutlierMinExcess.
	MinExcess Duration `yaml:"min_excess,omitempty" json:"min_excess,omitempty"`
}

// ErrorBurstDetector tunes the error-burst detector: a failed call (status
// 500 and above) is flagged while the failures of its route and model in
// the last Window reach MinErrors and MinShare of its calls.
type ErrorBurstDetector struct {
	// Window is the span counted, 1s to 1h; DefaultErrorBurstWindow.
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// MinErrors is the failures in Window that make a burst;
	// DefaultErrorBurstMinErrors.
	MinErrors int `yaml:"min_errors,omitempty" json:"min_errors,omitempty"`
	// MinShare is the share of calls in Window that failed, above 0 and
	// at most 1; DefaultErrorBurstMinShare.
	MinShare float64 `yaml:"min_share,omitempty" json:"min_share,omitempty"`
}

// normalize makes an empty section nil, so that "detectors: {}" and an
// absent section compare equal.
func (d *Detectors) normalize() *Detectors {
	if d == nil {
		return nil
	}
	d.Disabled = nilIfEmpty(d.Disabled)
	if d.Refusal != nil {
		d.Refusal.Phrases = nilIfEmpty(d.Refusal.Phrases)
	}
	if d.Refusal != nil && d.Refusal.isZero() {
		d.Refusal = nil
	}
	d.Repetition = nilIfZero(d.Repetition)
	d.LongOutput = nilIfZero(d.LongOutput)
	d.LanguageMismatch = nilIfZero(d.LanguageMismatch)
	d.LatencyOutlier = nilIfZero(d.LatencyOutlier)
	d.TTFTOutlier = nilIfZero(d.TTFTOutlier)
	d.ErrorBurst = nilIfZero(d.ErrorBurst)
	if d.Disabled == nil && d.Refusal == nil && d.Repetition == nil && d.LongOutput == nil &&
		d.LanguageMismatch == nil && d.LatencyOutlier == nil && d.TTFTOutlier == nil && d.ErrorBurst == nil {
		return nil
	}
	return d
}

// nilIfZero returns nil for a pointer to a zero structure without slices.
func nilIfZero[T comparable](p *T) *T {
	var zero T
	if p == nil || *p == zero {
		return nil
	}
	return p
}

// isZero is nilIfZero for the refusal settings, which hold a slice and so
// cannot be compared.
func (r RefusalDetector) isZero() bool { return len(r.Phrases) == 0 && !r.ReplaceDefaults }

func (v *validator) detectors(d *Detectors) {
	if d == nil {
		return
	}
	const path = "detectors"
	seen := map[string]bool{}
	for i, name := range d.Disabled {
		p := fmt.Sprintf("%s.disabled[%d]", path, i)
		switch {
		case !slices.Contains(detectorNames, name):
			v.fail(p, "unknown detector %q; one of %s", name, strings.Join(detectorNames, ", "))
		case seen[name]:
			v.fail(p, "detector %q is listed twice", name)
		}
		seen[name] = true
	}
	if r := d.Refusal; r != nil {
		if len(r.Phrases) > MaxRefusalPhrases {
			v.fail(path+".refusal.phrases", "at most %d phrases", MaxRefusalPhrases)
		}
		if r.ReplaceDefaults && len(r.Phrases) == 0 {
			v.fail(path+".refusal.phrases", "replace_defaults needs at least one phrase")
		}
		for i, ph := range r.Phrases {
			p := fmt.Sprintf("%s.refusal.phrases[%d]", path, i)
			switch {
			case strings.TrimSpace(ph) == "":
				v.fail(p, "must not be blank")
			case len(ph) > MaxRefusalPhraseLen:
				v.fail(p, "must be at most %d bytes", MaxRefusalPhraseLen)
			}
		}
	}
	if r := d.Repetition; r != nil {
		p := path + ".repetition"
		if r.Ngram != 0 && (r.Ngram < 2 || r.Ngram > 12) {
			v.fail(p+".ngram", "must be between 2 and 12")
		}
		if r.Threshold < 0 || r.Threshold >= 1 {
			v.fail(p+".threshold", "must be above 0 and below 1")
		}
		if r.MinWords < 0 || r.MinWords > 100000 {
			v.fail(p+".min_words", "must be between 1 and 100000")
		}
	}
	if l := d.LongOutput; l != nil {
		p := path + ".long_output"
		v.minSamples(l.MinSamples, p+".min_samples")
		if l.Quantile != 0 && (l.Quantile < 0.5 || l.Quantile > 0.9999) {
			v.fail(p+".quantile", "must be between 0.5 and 0.9999")
		}
		if l.Factor != 0 && (l.Factor < 1 || l.Factor > 100) {
			v.fail(p+".factor", "must be between 1 and 100")
		}
	}
	if l := d.LanguageMismatch; l != nil && (l.MinLetters < 0 || l.MinLetters > 10000) {
		v.fail(path+".language_mismatch.min_letters", "must be between 1 and 10000")
	}
	v.outlier(d.LatencyOutlier, path+".latency_outlier")
	v.outlier(d.TTFTOutlier, path+".ttft_outlier")
	if b := d.ErrorBurst; b != nil {
		p := path + ".error_burst"
		if b.Window != 0 && (b.Window.Std() < time.Second || b.Window.Std() > time.Hour) {
			v.fail(p+".window", "must be between 1s and 1h")
		}
		if b.MinErrors < 0 || b.MinErrors > 1000000 {
			v.fail(p+".min_errors", "must be between 1 and 1000000")
		}
		if b.MinShare < 0 || b.MinShare > 1 {
			v.fail(p+".min_share", "must be above 0 and at most 1")
		}
	}
}

func (v *validator) outlier(o *OutlierDetector, path string) {
	if o == nil {
		return
	}
	if o.K < 0 || o.K > 100 {
		v.fail(path+".k", "must be above 0 and at most 100")
	}
	v.minSamples(o.MinSamples, path+".min_samples")
	if o.Alpha < 0 || o.Alpha >= 1 {
		v.fail(path+".alpha", "must be above 0 and below 1")
	}
	if o.MinExcess < 0 || o.MinExcess.Std() > time.Hour {
		v.fail(path+".min_excess", "must be between 0s and 1h")
	}
}

func (v *validator) minSamples(n int, path string) {
	if n < 0 || n > 1000000 {
		v.fail(path, "must be between 1 and 1000000")
	}
}
