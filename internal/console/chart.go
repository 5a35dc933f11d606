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
	times, index := hours(from, to)
	rows := make([]chartRow, len(times))
	for i, t := range times {
		rows[i].Time = t
	}
	for _, p := range series.Points {
		i, ok := index(p.Time)
		if !ok {
			continue
		}
		if v := p.Values[analytics.Requests]; v != nil {
			rows[i].Requests += *v
		}
		if v := p.Values[analytics.Errors]; v != nil {
			rows[i].Errors += *v
		}
	}
	c := &chart{Width: chartW, Height: chartH, Rows: rows, Max: 1, Ticks: hourTicks(times)}
	for _, r := range rows {
		c.Max = max(c.Max, r.Requests, r.Errors)
	}
	var req, errs strings.Builder
	for i, r := range rows {
		fmt.Fprintf(&req, "%.1f,%.1f ", xAt(i, len(rows)), yAt(r.Requests, c.Max))
		fmt.Fprintf(&errs, "%.1f,%.1f ", xAt(i, len(rows)), yAt(r.Errors, c.Max))
	}
	c.Requests, c.Errors = strings.TrimSpace(req.String()), strings.TrimSpace(errs.String())
	return c
}

// hours returns the hours from..to (UTC, whole hours) and index, which
// places a point's time among them; ok is false outside the range.
func hours(from, to time.Time) (times []time.Time, index func(time.Time) (int, bool)) {
	start := from.UTC().Truncate(time.Hour)
	n := int(to.Sub(start)/time.Hour) + 1
	times = make([]time.Time, n)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * time.Hour)
	}
	return times, func(t time.Time) (int, bool) {
		i := int(t.UTC().Truncate(time.Hour).Sub(start) / time.Hour)
		return i, i >= 0 && i < n
	}
}

// xAt is the x of the i-th of n points spread across the plot.
func xAt(i, n int) float64 {
	if n == 1 {
		return padLeft
	}
	return padLeft + float64(i)*float64(chartW-padLeft-padRight)/float64(n-1)
}

// yAt is the y of v on a scale whose top gridline is top.
func yAt(v, top float64) float64 { return chartH - padTB - v/top*float64(chartH-2*padTB) }

// hourTicks labels every sixth hour.
func hourTicks(times []time.Time) []tick {
	var out []tick
	for i := 0; i < len(times); i += 6 {
		out = append(out, tick{X: int(xAt(i, len(times))), Label: times[i].Format("15:04")})
	}
	return out
}
