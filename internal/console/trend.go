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
	start := from.UTC().Truncate(time.Hour)
	n := int(to.Sub(start)/time.Hour) + 1
	rows := make([]feedbackRow, n)
	for i := range rows {
		rows[i].Time = start.Add(time.Duration(i) * time.Hour)
	}
	for _, p := range series.Points {
		i := int(p.Time.UTC().Truncate(time.Hour).Sub(start) / time.Hour)
		if i < 0 || i >= n {
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
	c := &feedbackChart{Width: chartW, Height: chartH, Rows: rows, Max: 1}
	for _, r := range rows {
		c.Max = max(c.Max, r.Count)
		c.Total += r.Count
	}
	x := func(i int) float64 {
		if n == 1 {
			return padLeft
		}
		return padLeft + float64(i)*float64(chartW-padLeft-padRight)/float64(n-1)
	}
	y := func(v, top float64) float64 { return chartH - padTB - v/top*float64(chartH-2*padTB) }
	var count, neg strings.Builder
	for i, r := range rows {
		fmt.Fprintf(&count, "%.1f,%.1f ", x(i), y(r.Count, c.Max))
		if r.Negative != nil {
			fmt.Fprintf(&neg, "%.1f,%.1f ", x(i), y(*r.Negative, 1))
			c.Dots = append(c.Dots, dot{X: x(i), Y: y(*r.Negative, 1)})
		}
		if i%6 == 0 {
			c.Ticks = append(c.Ticks, tick{X: int(x(i)), Label: r.Time.Format("15:04")})
		}
	}
	c.Count, c.Negative = strings.TrimSpace(count.String()), strings.TrimSpace(neg.String())
	return c
}
