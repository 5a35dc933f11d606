package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
)

// chart is a line chart of requests and errors per hour, drawn as SVG on
// the server: no script, and readable without one.
type chart struct {
	Width, Height int
	// Requests and Errors are SVG polyline points.
	Requests, Errors string
	// Max is the value of the top gridline.
	Max   float64
	Ticks []tick
	// Rows are the points as a table, for screen readers and for anyone
	// who wants the numbers.
	Rows []chartRow
}

type tick struct {
	X     int
	Label string
}

type chartRow struct {
	Time             time.Time
	Requests, Errors float64
}

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartW, chartH           = 720, 200
	padLeft, padRight, padTB = 40, 10, 20
)

// newChart draws series (hourly points from..to). Hours without a point
// are zero: the rollups only hold hours that had calls.
func newChart(series analytics.Series, from, to time.Time) *chart {
	start := from.UTC().Truncate(time.Hour)
	n := int(to.Sub(start)/time.Hour) + 1
	rows := make([]chartRow, n)
	for i := range rows {
		rows[i].Time = start.Add(time.Duration(i) * time.Hour)
	}
	for _, p := range series.Points {
		i := int(p.Time.UTC().Truncate(time.Hour).Sub(start) / time.Hour)
		if i < 0 || i >= n {
			continue
		}
		if v := p.Values[analytics.Requests]; v != nil {
			rows[i].Requests += *v
		}
		if v := p.Values[analytics.Errors]; v != nil {
			rows[i].Errors += *v
		}
	}
	c := &chart{Width: chartW, Height: chartH, Rows: rows, Max: 1}
	for _, r := range rows {
		c.Max = max(c.Max, r.Requests, r.Errors)
	}
	x := func(i int) float64 {
		if n == 1 {
			return padLeft
		}
		return padLeft + float64(i)*float64(chartW-padLeft-padRight)/float64(n-1)
	}
	y := func(v float64) float64 { return chartH - padTB - v/c.Max*float64(chartH-2*padTB) }
	var req, errs strings.Builder
	for i, r := range rows {
		fmt.Fprintf(&req, "%.1f,%.1f ", x(i), y(r.Requests))
		fmt.Fprintf(&errs, "%.1f,%.1f ", x(i), y(r.Errors))
		if i%6 == 0 {
			c.Ticks = append(c.Ticks, tick{X: int(x(i)), Label: r.Time.Format("15:04")})
		}
	}
	c.Requests, c.Errors = strings.TrimSpace(req.String()), strings.TrimSpace(errs.String())
	return c
}
