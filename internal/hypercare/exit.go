package hypercare

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// Exit is the standing of a window's exit criteria: each must hold on each
// of the last Days full days of the window.
type Exit struct {
	Days     int         `json:"days"`
	Criteria []Criterion `json:"criteria"`
	// Ready says the criteria have held on the last Days full days; Since
	// is the end of the day when that first became true in the current
	// run of days.
	Ready bool       `json:"ready"`
	Since *time.Time `json:"since,omitempty"`
	// Streak is how many full days in a row, up to the last one, met every
	// criterion.
	Streak int `json:"streak"`
	// History lists every full day of the window so far.
	History []ExitDay `json:"history"`
	Text    string    `json:"text"`
}

// Criterion is one exit criterion: Metric must not exceed Limit.
type Criterion struct {
	Metric string  `json:"metric"`
	Label  string  `json:"label"`
	Unit   string  `json:"unit"`
	Limit  float64 `json:"limit"`
}

// ExitDay is one full day of the window with the criteria's values.
type ExitDay struct {
	// Day counts from 1, the window's first 24 hours.
	Day   int       `json:"day"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Calls int64     `json:"calls"`
	// Values maps each criterion's metric to its value that day; a metric
	// without data is absent.
	Values map[string]float64 `json:"values"`
	Held   bool               `json:"held"`
	// Failures say which criteria failed and why, in words.
	Failures []string `json:"failures,omitempty"`
}

// criteria lists a window's set criteria in a fixed order.
func criteria(e config.HypercareExit) []Criterion {
	var out []Criterion
	if e.ErrorRate != nil {
		out = append(out, Criterion{MetricErrorRate, "Error rate", unitRatio, *e.ErrorRate})
	}
	if e.LatencyP95 > 0 {
		out = append(out, Criterion{MetricLatencyP95, "Latency p95", unitMS, float64(e.LatencyP95.Std()) / float64(time.Millisecond)})
	}
	if e.NegativeFeedbackRatio != nil {
		out = append(out, Criterion{"negative_feedback_ratio", "Negative feedback", unitRatio, *e.NegativeFeedbackRatio})
	}
	if e.AnomalyRate != nil {
		out = append(out, Criterion{MetricAnomalyRate, "Anomaly rate", unitRatio, *e.AnomalyRate})
	}
	return out
}

// checkExit judges each full day of the window up to at. A day without
// calls fails (nothing shows the criteria hold); a day without thumbs up
// or down meets the negative-feedback criterion, as no one complained.
func checkExit(ctx context.Context, src Source, t Target, h config.Hypercare, at time.Time) (*Exit, error) {
	e := &Exit{Days: h.Exit.Days, Criteria: criteria(*h.Exit), History: []ExitDay{}}
	full := int(min64(at, h.End()).Sub(h.Start) / Day)
	if full > 0 {
		aggs, err := src.HypercareDailyAggregates(ctx, t, h.Start, full)
		if err != nil {
			return nil, fmt.Errorf("daily figures of %s: %w", h.Name, err)
		}
		needP95 := slices.ContainsFunc(e.Criteria, func(c Criterion) bool { return c.Metric == MetricLatencyP95 })
		for i := range full {
			from := h.Start.Add(time.Duration(i) * Day)
			d := ExitDay{Day: i + 1, From: from, To: from.Add(Day), Values: map[string]float64{}}
			var a Aggregates
			if i < len(aggs) {
				a = aggs[i]
			}
			d.Calls = a.Calls
			if a.Calls > 0 {
				d.Values[MetricErrorRate] = float64(a.Errors) / float64(a.Calls)
				d.Values[MetricAnomalyRate] = float64(a.Anomalies) / float64(a.Calls)
			}
			if n := a.Positive + a.Negative; n > 0 {
				d.Values["negative_feedback_ratio"] = float64(a.Negative) / float64(n)
			} else {
				d.Values["negative_feedback_ratio"] = 0
			}
			if needP95 && a.Calls > 0 {
				s, err := src.HypercareLatencySample(ctx, t, d.From, d.To, MaxDaySample)
				if err != nil {
					return nil, fmt.Errorf("latencies of day %d of %s: %w", i+1, h.Name, err)
				}
				if len(s) > 0 {
					ms := millis(s)
					slices.Sort(ms)
					d.Values[MetricLatencyP95] = Quantile(ms, 0.95)
				}
			}
			d.Held = true
			if a.Calls == 0 {
				d.Held = false
				d.Failures = append(d.Failures, "no calls")
			}
			for _, c := range e.Criteria {
				v, ok := d.Values[c.Metric]
				switch {
				case !ok && a.Calls > 0:
					d.Held = false
					d.Failures = append(d.Failures, c.Label+": no data")
				case ok && v > c.Limit:
					d.Held = false
					d.Failures = append(d.Failures, fmt.Sprintf("%s was %s (limit %s)", c.Label, FormatValue(c.Unit, v), FormatValue(c.Unit, c.Limit)))
				}
			}
			// Only the criteria's values are reported.
			for k := range d.Values {
				if !slices.ContainsFunc(e.Criteria, func(c Criterion) bool { return c.Metric == k }) {
					delete(d.Values, k)
				}
			}
			e.History = append(e.History, d)
		}
	}
	for i := len(e.History) - 1; i >= 0 && e.History[i].Held; i-- {
		e.Streak++
	}
	e.Ready = e.Streak >= e.Days
	if e.Ready {
		first := e.History[len(e.History)-e.Streak+e.Days-1]
		e.Since = ptr(first.To)
	}
	e.Text = exitText(e, len(e.History))
	return e, nil
}

// exitText says where the exit criteria stand, naming the failed criteria
// and days.
func exitText(e *Exit, full int) string {
	if e.Ready {
		return fmt.Sprintf("Ready to leave hypercare since %s: every exit criterion has held for %d full days in a row.",
			e.Since.Format("2006-01-02 15:04 MST"), e.Days)
	}
	if full == 0 {
		return fmt.Sprintf("Not ready to leave hypercare: no full day of the window has passed yet; the exit criteria must hold for %s.", days(e.Days))
	}
	var fails []string
	for _, d := range e.History[max(0, len(e.History)-e.Days):] {
		if !d.Held {
			fails = append(fails, fmt.Sprintf("day %d (%s): %s", d.Day, d.From.Format("2006-01-02"), strings.Join(d.Failures, "; ")))
		}
	}
	if len(fails) == 0 {
		return fmt.Sprintf("Not ready to leave hypercare: the exit criteria have held for %d of the %d days needed.", e.Streak, e.Days)
	}
	return fmt.Sprintf("Not ready to leave hypercare (%d of %d days held): %s.", e.Streak, e.Days, strings.Join(fails, "; "))
}

// days writes a count of days: "1 day", "7 days".
func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
