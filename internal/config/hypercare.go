package config

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Hypercare is a window of close watch after a launch: from Start for
// Duration, the calls of Target are compared with a baseline period in a
// daily report, until the exit criteria have held for Exit.Days full days
// in a row.
type Hypercare struct {
	// Name identifies the window; unique.
	Name string `yaml:"name" json:"name"`
	// Target is what is watched: exactly one of a service, a release of a
	// service, a model or a prompt (version).
	Target HypercareTarget `yaml:"target" json:"target"`
	// Start is when the window opens.
	Start time.Time `yaml:"start" json:"start"`
	// Duration is how long the window lasts; at least a day.
	Duration Duration `yaml:"duration" json:"duration"`
	// Baseline is the period the window is compared with; unset, the same
	// length right before Start.
	Baseline *HypercarePeriod `yaml:"baseline,omitempty" json:"baseline,omitempty"`
	// Exit lists the criteria that must hold on each of the last Days full
	// days of the window before it may end; none when unset.
	Exit *HypercareExit `yaml:"exit,omitempty" json:"exit,omitempty"`
	// Verdict tunes when a change counts; the defaults when unset.
	Verdict *HypercareVerdict `yaml:"verdict,omitempty" json:"verdict,omitempty"`
	// ReportHour is the hour of the day (UTC, 0 to 23) at which the daily
	// report is stored and sent; DefaultHypercareReportHour when unset.
	ReportHour *int `yaml:"report_hour,omitempty" json:"report_hour,omitempty"`
	// Notify lists the notifiers (webhook or slack) the daily report is
	// sent to.
	Notify []string `yaml:"notify,omitempty" json:"notify,omitempty"`
}

// HypercareTarget is what a hypercare window watches; exactly one field is
// set.
type HypercareTarget struct {
	// Service is a service's name: all its calls.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	// Release is one release of a service: the calls it served.
	Release *HypercareRelease `yaml:"release,omitempty" json:"release,omitempty"`
	// Model is a model name clients send.
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// Prompt is a prompt API, or one version of it.
	Prompt *HypercarePrompt `yaml:"prompt,omitempty" json:"prompt,omitempty"`
}

// HypercareRelease names a release of a service.
type HypercareRelease struct {
	Service string `yaml:"service" json:"service"`
	Number  int    `yaml:"number" json:"number"`
}

// HypercarePrompt names a prompt API and, optionally, one of its versions
// (0: every version).
type HypercarePrompt struct {
	Name    string `yaml:"name" json:"name"`
	Version int    `yaml:"version,omitempty" json:"version,omitempty"`
}

// HypercarePeriod is a period of time, From inclusive, To exclusive.
type HypercarePeriod struct {
	From time.Time `yaml:"from" json:"from"`
	To   time.Time `yaml:"to" json:"to"`
}

// HypercareExit is a window's exit criteria: each set limit must hold on
// each of the last Days full days of the window.
type HypercareExit struct {
	// ErrorRate is the highest share of failed calls (0 to 1).
	ErrorRate *float64 `yaml:"error_rate,omitempty" json:"error_rate,omitempty"`
	// LatencyP95 is the highest 95th percentile of latency.
	LatencyP95 Duration `yaml:"latency_p95,omitempty" json:"latency_p95,omitempty"`
	// NegativeFeedbackRatio is the highest share of negative feedback
	// among the thumbs up and down (0 to 1).
	NegativeFeedbackRatio *float64 `yaml:"negative_feedback_ratio,omitempty" json:"negative_feedback_ratio,omitempty"`
	// AnomalyRate is the highest share of calls flagged by a detector (0
	// to 1).
	AnomalyRate *float64 `yaml:"anomaly_rate,omitempty" json:"anomaly_rate,omitempty"`
	// Days is how many full days in a row the criteria must hold; at least 1.
	Days int `yaml:"days" json:"days"`
}

// HypercareVerdict tunes the verdicts of a report: zero fields take the
// defaults.
type HypercareVerdict struct {
	// Alpha is the significance level; DefaultHypercareAlpha.
	Alpha float64 `yaml:"alpha,omitempty" json:"alpha,omitempty"`
	// MinEffect is the smallest relative change that counts, so that a
	// tiny but significant change reads "unchanged";
	// DefaultHypercareMinEffect.
	MinEffect float64 `yaml:"min_effect,omitempty" json:"min_effect,omitempty"`
	// MinCalls is the fewest calls in each period for a verdict on a call
	// metric; DefaultHypercareMinCalls.
	MinCalls int `yaml:"min_calls,omitempty" json:"min_calls,omitempty"`
	// MinFeedback is the fewest thumbs up and down in each period for a
	// verdict on feedback; DefaultHypercareMinFeedback.
	MinFeedback int `yaml:"min_feedback,omitempty" json:"min_feedback,omitempty"`
}

// Hypercare defaults and limits.
const (
	DefaultHypercareAlpha       = 0.05
	DefaultHypercareMinEffect   = 0.05
	DefaultHypercareMinCalls    = 100
	DefaultHypercareMinFeedback = 30
	DefaultHypercareReportHour  = 9
	// MinHypercareDuration is a day: reports and exit criteria count
	// full days.
	MinHypercareDuration = Duration(24 * time.Hour)
	// MaxHypercareDuration bounds a window to a year.
	MaxHypercareDuration = Duration(366 * 24 * time.Hour)
)

// End is when the window closes.
func (h Hypercare) End() time.Time { return h.Start.Add(h.Duration.Std()) }

// BaselinePeriod is the period the window is compared with.
func (h Hypercare) BaselinePeriod() HypercarePeriod {
	if h.Baseline != nil {
		return *h.Baseline
	}
	return HypercarePeriod{From: h.Start.Add(-h.Duration.Std()), To: h.Start}
}

// EffectiveVerdict is the verdict settings with the defaults filled in.
func (h Hypercare) EffectiveVerdict() HypercareVerdict {
	var v HypercareVerdict
	if h.Verdict != nil {
		v = *h.Verdict
	}
	if v.Alpha == 0 {
		v.Alpha = DefaultHypercareAlpha
	}
	if v.MinEffect == 0 {
		v.MinEffect = DefaultHypercareMinEffect
	}
	if v.MinCalls == 0 {
		v.MinCalls = DefaultHypercareMinCalls
	}
	if v.MinFeedback == 0 {
		v.MinFeedback = DefaultHypercareMinFeedback
	}
	return v
}

// EffectiveReportHour is the hour of the daily report, UTC.
func (h Hypercare) EffectiveReportHour() int {
	if h.ReportHour == nil {
		return DefaultHypercareReportHour
	}
	return *h.ReportHour
}

func (h *Hypercare) applyDefaults() {
	h.Notify = nilIfEmpty(h.Notify)
	if !h.Start.IsZero() {
		h.Start = h.Start.UTC()
	}
	if h.Baseline != nil {
		h.Baseline.From, h.Baseline.To = h.Baseline.From.UTC(), h.Baseline.To.UTC()
	}
}

// hypercare checks the hypercare windows against what they name.
func (v *validator) hypercare(hs []Hypercare, c *Config, models map[string]bool) {
	seen := map[string]bool{}
	for i, h := range hs {
		path := fmt.Sprintf("hypercare[%d]", i)
		v.name(h.Name, path+".name")
		v.unique(seen, h.Name, path, "hypercare window")
		v.hypercareTarget(h.Target, path+".target", c, models)
		if h.Start.IsZero() {
			v.fail(path+".start", "is required: an RFC 3339 time such as 2026-12-01T09:00:00Z")
		}
		switch {
		case h.Duration < MinHypercareDuration:
			v.fail(path+".duration", "must be at least 1d: reports count full days")
		case h.Duration > MaxHypercareDuration:
			v.fail(path+".duration", "must be at most %s", MaxHypercareDuration)
		}
		if b := h.Baseline; b != nil {
			switch {
			case b.From.IsZero() || b.To.IsZero():
				v.fail(path+".baseline", "set both from and to")
			case !b.From.Before(b.To):
				v.fail(path+".baseline.to", "must be after from")
			case !h.Start.IsZero() && b.To.After(h.Start):
				v.fail(path+".baseline.to", "must not be after the window's start")
			}
		}
		if e := h.Exit; e != nil {
			ep := path + ".exit"
			if e.Days < 1 {
				v.fail(ep+".days", "must be at least 1")
			} else if h.Duration >= MinHypercareDuration && e.Days > int(h.Duration.Std()/(24*time.Hour)) {
				v.fail(ep+".days", "must not exceed the window's %d full days", int(h.Duration.Std()/(24*time.Hour)))
			}
			if e.ErrorRate == nil && e.LatencyP95 == 0 && e.NegativeFeedbackRatio == nil && e.AnomalyRate == nil {
				v.fail(ep, "set at least one of error_rate, latency_p95, negative_feedback_ratio, anomaly_rate")
			}
			v.ratio(e.ErrorRate, ep+".error_rate")
			v.ratio(e.NegativeFeedbackRatio, ep+".negative_feedback_ratio")
			v.ratio(e.AnomalyRate, ep+".anomaly_rate")
			if e.LatencyP95 < 0 {
				v.fail(ep+".latency_p95", "must not be negative")
			}
		}
		if vd := h.Verdict; vd != nil {
			vp := path + ".verdict"
			if vd.Alpha < 0 || vd.Alpha >= 0.5 || math.IsNaN(vd.Alpha) {
				v.fail(vp+".alpha", "must be above 0 and below 0.5")
			}
			if vd.MinEffect < 0 || math.IsNaN(vd.MinEffect) || math.IsInf(vd.MinEffect, 0) {
				v.fail(vp+".min_effect", "must be 0 or more (a relative change: 0.05 is 5 %%)")
			}
			if vd.MinCalls < 0 {
				v.fail(vp+".min_calls", "must be 0 or more")
			}
			if vd.MinFeedback < 0 {
				v.fail(vp+".min_feedback", "must be 0 or more")
			}
		}
		if h.ReportHour != nil && (*h.ReportHour < 0 || *h.ReportHour > 23) {
			v.fail(path+".report_hour", "must be an hour from 0 to 23 (UTC)")
		}
		listed := map[string]bool{}
		for j, n := range h.Notify {
			np := fmt.Sprintf("%s.notify[%d]", path, j)
			k := slices.IndexFunc(c.Notifiers, func(x Notifier) bool { return x.Name == n })
			switch {
			case k < 0:
				v.fail(np, "unknown notifier %q: declare it under notifiers", n)
			case c.Notifiers[k].Type != NotifierWebhook && c.Notifiers[k].Type != NotifierSlack:
				v.fail(np, "notifier %q is of type %s; hypercare reports go to webhook and slack notifiers", n, c.Notifiers[k].Type)
			case listed[n]:
				v.fail(np, "notifier %q is listed twice", n)
			}
			listed[n] = true
		}
	}
}

func (v *validator) ratio(r *float64, path string) {
	if r != nil && (math.IsNaN(*r) || *r < 0 || *r > 1) {
		v.fail(path, "must be a share from 0 to 1")
	}
}

func (v *validator) hypercareTarget(t HypercareTarget, path string, c *Config, models map[string]bool) {
	set := 0
	for _, ok := range []bool{t.Service != "", t.Release != nil, t.Model != "", t.Prompt != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		v.fail(path, "set exactly one of service, release, model, prompt")
		return
	}
	hasService := func(name string) bool {
		return slices.ContainsFunc(c.Services, func(s Service) bool { return s.Name == name })
	}
	switch {
	case t.Service != "" && !hasService(t.Service):
		v.fail(path+".service", "unknown service %q", t.Service)
	case t.Release != nil && !hasService(t.Release.Service):
		v.fail(path+".release.service", "unknown service %q", t.Release.Service)
	case t.Release != nil && t.Release.Number < 1:
		v.fail(path+".release.number", "must be a release number, 1 or more")
	case t.Model != "" && !models[t.Model]:
		v.fail(path+".model", "unknown model %q", t.Model)
	case t.Prompt != nil:
		i := slices.IndexFunc(c.Prompts, func(p Prompt) bool { return p.Name == t.Prompt.Name })
		switch {
		case i < 0:
			v.fail(path+".prompt.name", "unknown prompt %q", t.Prompt.Name)
		case t.Prompt.Version < 0:
			v.fail(path+".prompt.version", "must be a version number, or left out for every version")
		}
	}
}
