package policy

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowPeriod(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	cases := []struct {
		name       string
		w          Window
		now        time.Time
		start, end time.Time
	}{
		{"day in UTC", Day, at("2026-03-14T09:26:53.5Z"), at("2026-03-14T00:00:00Z"), at("2026-03-15T00:00:00Z")},
		{"day is UTC whatever the zone", Day, time.Date(2026, 3, 15, 0, 30, 0, 0, paris), at("2026-03-14T00:00:00Z"), at("2026-03-15T00:00:00Z")},
		{"day at midnight", Day, at("2026-03-15T00:00:00Z"), at("2026-03-15T00:00:00Z"), at("2026-03-16T00:00:00Z")},
		{"month", Month, at("2026-02-28T23:59:59.999Z"), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z")},
		{"month across a year", Month, at("2026-12-31T12:00:00Z"), at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z")},
		{"sliding second", Sliding(time.Second), at("2026-03-14T09:26:53.5Z"), at("2026-03-14T09:26:53Z"), at("2026-03-14T09:26:54Z")},
		{"sliding minute", Sliding(time.Minute), at("2026-03-14T09:26:53.5Z"), at("2026-03-14T09:26:00Z"), at("2026-03-14T09:27:00Z")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, e := tc.w.Period(tc.now)
			if !s.Equal(tc.start) || !e.Equal(tc.end) {
				t.Fatalf("Period = %v, %v; want %v, %v", s, e, tc.start, tc.end)
			}
		})
	}
}

func TestWindowUsedAndUntil(t *testing.T) {
	minute := Sliding(time.Minute)
	start := at("2026-03-14T09:26:00Z")
	cases := []struct {
		name  string
		w     Window
		c     Count
		now   time.Time
		used  int64
		max   int64
		until time.Time
	}{
		{"current period only", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 40}, start.Add(30 * time.Second), 40, 39, start.Add(time.Minute)},
		{"previous period weighted", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 10, Prev: 100}, start.Add(15 * time.Second), 85, 49, start.Add(36 * time.Second)},
		{"already within", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 10, Prev: 100}, start.Add(45 * time.Second), 35, 50, start.Add(45 * time.Second)},
		{"advanced one period", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 60}, start.Add(90 * time.Second), 30, 30, start.Add(90 * time.Second)},
		{"advanced two periods", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 60, Prev: 60}, start.Add(150 * time.Second), 0, 0, start.Add(150 * time.Second)},
		{"drained fully", minute, Count{Start: start, End: start.Add(time.Minute), Cur: 5, Prev: 5}, start.Add(30 * time.Second), 7, 0, start.Add(108 * time.Second)},
		{"calendar day until midnight", Day, Count{Start: at("2026-03-14T00:00:00Z"), End: at("2026-03-15T00:00:00Z"), Cur: 10}, at("2026-03-14T18:00:00Z"), 10, 9, at("2026-03-15T00:00:00Z")},
		{"calendar new day", Day, Count{Start: at("2026-03-13T00:00:00Z"), End: at("2026-03-14T00:00:00Z"), Cur: 10}, at("2026-03-14T18:00:00Z"), 0, 0, at("2026-03-14T18:00:00Z")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Used(tc.c, tc.now); got != tc.used {
				t.Errorf("Used = %v, want %v", got, tc.used)
			}
			got := tc.w.Until(tc.c, tc.now, tc.max)
			if d := got.Sub(tc.until); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Until = %v, want %v", got, tc.until)
			}
			if u := tc.w.Used(tc.c, got); u > tc.max {
				t.Errorf("Used at Until = %v, over %v", u, tc.max)
			}
		})
	}
}

func TestRateWindow(t *testing.T) {
	cases := []struct {
		name string
		rate float64
		per  time.Duration
		w    time.Duration
		n    int64
	}{
		{"whole per second", 100, time.Second, time.Second, 100},
		{"whole per minute", 100, time.Minute, time.Minute, 100},
		{"half per second", 0.5, time.Second, 2 * time.Second, 1},
		{"two and a half per second", 2.5, time.Second, 800 * time.Millisecond, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, n := rateWindow(tc.rate, tc.per)
			if w.Length() != tc.w || n != tc.n {
				t.Fatalf("rateWindow(%v, %v) = %v, %d; want %v, %d", tc.rate, tc.per, w.Length(), n, tc.w, tc.n)
			}
		})
	}
}

func TestFormatWait(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "1s"}, {1500 * time.Millisecond, "2s"}, {12 * time.Second, "12s"}, {90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"}, {5*time.Hour + 11*time.Minute + 30*time.Second, "5h12m"}, {5*time.Hour + 59*time.Minute + 30*time.Second, "6h"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := formatWait(tc.d); got != tc.want {
				t.Fatalf("formatWait(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}
