package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
)

// feedbackChart is the overview's feedback trend: feedback given per hour
// (left scale) and the share of yes-or-no feedback that was negative
// (right scale, 0 to 100 %), drawn as SVG with chart.go's geometry.
type feedbackChart struct {
	Width, Height int
	// Count and Negative are SVG polyline points; Negative leaves out the
	// hours without yes-or-no feedback.
	Count, Negative string
	// Dots mark the negative share of each hour that has one, so that a
	// lone hour shows too.
	Dots []dot
	// Max is the value of the top gridline of the count; Total the
	// feedback of the whole range.
	Max, Total float64
	Ticks      []tick
	Rows       []feedbackRow
}

type dot struct{ X, Y float64 }

type feedbackRow struct {
	Time     time.Time
	Count    float64
	Negative *float64
}

// newFeedbackChart draws series (hourly points from..to of the feedback
// and negative_feedback_ratio metrics).
func newFeedbackChart(series analytics.Series, from, to time.Time) *feedbackChart {
	times, index := hours(from, to)
	rows := make([]feedbackRow, len(times))
	for i, t := range times {
		rows[i].Time = t
	}
	for _, p := range series.Points {
		i, ok := index(p.Time)
		if !ok {
			continue
		}
		if v := p.Values[analytics.FeedbackCount]; v != nil {
			rows[i].Count += *v
		}
		if v := p.Values[analytics.NegativeFeedbackRatio]; v != nil {
			x := *v
			rows[i].Negative = &x
		}
	}
	c := &feedbackChart{Width: chartW, Height: chartH, Rows: rows, Max: 1, Ticks: hourTicks(times)}
	for _, r := range rows {
		c.Max = max(c.Max, r.Count)
		c.Total += r.Count
	}
	var count, neg strings.Builder
	for i, r := range rows {
		x := xAt(i, len(rows))
		fmt.Fprintf(&count, "%.1f,%.1f ", x, yAt(r.Count, c.Max))
		if r.Negative != nil {
			fmt.Fprintf(&neg, "%.1f,%.1f ", x, yAt(*r.Negative, 1))
			c.Dots = append(c.Dots, dot{X: x, Y: yAt(*r.Negative, 1)})
		}
	}
	c.Count, c.Negative = strings.TrimSpace(count.String()), strings.TrimSpace(neg.String())
	return c
}
