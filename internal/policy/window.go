package policy

import (
	"math"
	"time"
)

// Window is the span of time a counter counts over: a sliding window of a
// fixed length (rate limits), or a UTC calendar day or month (quotas and
// budgets). Windows are comparable values.
type Window struct {
	length time.Duration // sliding windows only
	cal    calendar
}

type calendar uint8

const (
	sliding calendar = iota
	calendarDay
	calendarMonth
)

// The calendar windows. They start at 00:00 UTC, whatever the gateway's
// time zone, so every node of a cluster agrees on when a quota resets.
var (
	Day   = Window{cal: calendarDay}
	Month = Window{cal: calendarMonth}
)

// Sliding returns a sliding window of length d (which must be positive).
//
// It is counted as a sliding-window counter: one count for the current
// aligned period of length d and one for the period before, the latter
// weighted by how much of it the window still covers. Two integers per
// counter, exact for evenly spread traffic, and the same arithmetic on a
// shared store as in memory.
func Sliding(d time.Duration) Window {
	if d <= 0 {
		panic("policy: sliding window length must be positive")
	}
	return Window{length: d}
}

// IsSliding reports whether w is a sliding window rather than a calendar one.
func (w Window) IsSliding() bool { return w.cal == sliding }

// Length is a sliding window's length; 0 for calendar windows.
func (w Window) Length() time.Duration { return w.length }

// String names the window in counter keys and logs: "day", "month" or the
// sliding length ("1m0s").
func (w Window) String() string {
	switch w.cal {
	case calendarDay:
		return "day"
	case calendarMonth:
		return "month"
	}
	return w.length.String()
}

const nanosPerDay = int64(24 * time.Hour)

// Period returns the fixed period containing now: for a sliding window the
// aligned stretch of its length (aligned on the Unix epoch) that the
// "current" count belongs to; for calendar windows the UTC day or month.
func (w Window) Period(now time.Time) (start, end time.Time) {
	switch w.cal {
	case calendarDay:
		// Unix time has exactly 86,400 seconds a day (no leap seconds), so a
		// UTC day is plain arithmetic.
		ns := now.UnixNano()
		s := ns - floorMod(ns, nanosPerDay)
		return time.Unix(0, s).UTC(), time.Unix(0, s+nanosPerDay).UTC()
	case calendarMonth:
		y, m, _ := now.UTC().Date()
		s := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(0, 1, 0)
	}
	ns, d := now.UnixNano(), int64(w.length)
	s := ns - floorMod(ns, d)
	return time.Unix(0, s), time.Unix(0, s+d)
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Count is what a counter holds for one window: the counts of the current
// period and, for sliding windows, of the one before.
type Count struct {
	// Start and End bound the period Cur counts.
	Start, End time.Time
	Cur        int64
	// Prev is the previous period's count (sliding windows only).
	Prev int64
}

// Advance returns c as it stands at now: unchanged while now is in c's
// period; for a sliding window one period on, the current count becomes
// the previous one; anything later, or any new calendar period, starts
// from zero. Counter implementations call it before they read or change a
// count.
func (w Window) Advance(c Count, now time.Time) Count {
	if !now.Before(c.Start) && now.Before(c.End) {
		return c
	}
	start, end := w.Period(now)
	if w.cal == sliding && start.Equal(c.End) {
		return Count{Start: start, End: end, Prev: c.Cur}
	}
	return Count{Start: start, End: end}
}

// Used is how much the window holds at now: the current period's count for
// a calendar window; for a sliding window the current count plus the
// previous period's, weighted by the share of it the window still covers
// and rounded down. Rounding down is what lets a limit of n per window pass
// n per period under steady load: rounded up or kept fractional, the last
// request of every period would be refused, and a limit of 1 would pass
// one request every other period.
func (w Window) Used(c Count, now time.Time) int64 {
	c = w.Advance(c, now)
	if w.cal != sliding || c.Prev == 0 {
		return c.Cur
	}
	left := c.End.Sub(now)
	return int64(math.Floor(float64(c.Prev)*float64(left)/float64(w.length))) + c.Cur
}

// Until returns the earliest instant, not before now, at which Used will
// have fallen to max or below if nothing more is counted: when a refused
// call could pass. For a calendar window that is now or the period's end.
func (w Window) Until(c Count, now time.Time, max int64) time.Time {
	c = w.Advance(c, now)
	if w.Used(c, now) <= max {
		return now
	}
	end := c.End
	if w.cal != sliding {
		return end
	}
	// Used <= max once the weighted share is below max-Cur+1 (it is
	// rounded down); the nanosecond added makes "below" strict.
	d := float64(w.length)
	var t time.Time
	if c.Cur <= max {
		// The previous period's share decays enough within this period.
		t = end.Add(-time.Duration(math.Ceil(float64(max-c.Cur+1)*d/float64(c.Prev))) + 1)
	} else {
		// Only in the next period, as this one's count decays in turn.
		t = end.Add(w.length - time.Duration(math.Ceil(float64(max+1)*d/float64(c.Cur))) + 1)
	}
	if t.Before(now) {
		return now
	}
	return t
}

// expired reports whether nothing counted in c weighs anything at now: its
// period is over, and for a sliding window the one after it too. A now
// older than c (a sweep that started before c was last counted) never
// expires it.
func (w Window) expired(c Count, now time.Time) bool {
	end := c.End
	if w.cal == sliding {
		end = end.Add(w.length)
	}
	return !now.Before(end)
}
