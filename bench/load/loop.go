package main

import (
	"fmt"
	"sync"
	"time"
)

// tally is one worker's share of a run; tallies are merged when it ends.
type tally struct {
	latency  *histogram
	ttfb     *histogram
	ok       uint64
	non2xx   uint64
	errors   uint64
	unsent   uint64
	firstErr string
}

func newTally() *tally {
	return &tally{latency: newHistogram(), ttfb: newHistogram()}
}

// add counts one outcome; from is the instant latencies are measured from.
func (t *tally) add(out outcome, from, end time.Time) {
	switch {
	case out.err != nil:
		t.errors++
		t.noteErr(out.err.Error())
	case !is2xx(out.status):
		t.non2xx++
		t.noteErr(fmt.Sprintf("HTTP %d: %s", out.status, out.detail))
	default:
		t.ok++
		t.latency.record(end.Sub(from))
		if !out.firstEvent.IsZero() {
			t.ttfb.record(out.firstEvent.Sub(from))
		}
	}
}

func (t *tally) noteErr(s string) {
	if t.firstErr == "" {
		t.firstErr = s
	}
}

func (t *tally) merge(o *tally) {
	t.latency.merge(o.latency)
	t.ttfb.merge(o.ttfb)
	t.ok += o.ok
	t.non2xx += o.non2xx
	t.errors += o.errors
	t.unsent += o.unsent
	if t.firstErr == "" {
		t.firstErr = o.firstErr
	}
}

// minTick bounds how often the open-loop scheduler wakes: above 50,000
// requests per second it releases them in small batches.
const minTick = 20 * time.Microsecond

// errorPause keeps a worker whose target refuses connections from spinning a
// core for the rest of the run.
const errorPause = time.Millisecond

// closedLoop runs o.conns workers, each sending its next request as soon as
// the previous one is answered, until the duration is over.
func closedLoop(o options, newDoer func() doer) *result {
	tallies := make([]*tally, o.conns)
	doers := make([]doer, o.conns)
	for i := range tallies {
		tallies[i] = newTally()
		doers[i] = newDoer()
	}
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.duration)
	for i := range o.conns {
		wg.Go(func() {
			t, d := tallies[i], doers[i]
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				out := d.do()
				t.add(out, t0, time.Now())
				if out.err != nil {
					time.Sleep(errorPause)
				}
			}
		})
	}
	wg.Wait()
	return summarize(o, "closed", tallies, time.Since(start))
}

// openLoop sends requests at o.rate on a fixed schedule. A request's latency
// runs from its scheduled time, not from when a worker got to it, so time
// spent queued behind a slow target counts (no coordinated omission). Requests
// whose turn comes more than o.timeout after the end are not sent but counted
// as unsent, which bounds the run to duration + 2 × timeout.
func openLoop(o options, newDoer func() doer) (*result, error) {
	total := int(o.rate * o.duration.Seconds())
	schedule := make(chan time.Time, min(max(total, 1), 1<<16))
	tallies := make([]*tally, o.maxInflight)
	doers := make([]doer, o.maxInflight)
	for i := range tallies {
		tallies[i] = newTally()
		doers[i] = newDoer()
	}
	start := time.Now()
	giveUp := start.Add(o.duration + o.timeout)

	// The scheduler hands out requests by index: after each tick it releases
	// every request whose time has come, so a late wake-up delays requests
	// (and their latency shows it) but never skips or thins them.
	nsPerReq := float64(time.Second) / o.rate
	tick, err := newTicker(max(time.Duration(nsPerReq), minTick))
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(schedule)
		defer tick.stop()
		for i := 0; i < total; {
			due := min(int(float64(time.Since(start))/nsPerReq)+1, total)
			for ; i < due; i++ {
				schedule <- start.Add(time.Duration(float64(i) * nsPerReq))
			}
			if i < total {
				if err := tick.wait(); err != nil {
					// Without its clock the scheduler could only send the
					// rest at once; stopping early shows up as a low
					// achieved rate instead.
					return
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for i := range o.maxInflight {
		wg.Go(func() {
			t, d := tallies[i], doers[i]
			for at := range schedule {
				if time.Now().After(giveUp) {
					t.unsent++
					continue
				}
				out := d.do()
				t.add(out, at, time.Now())
			}
		})
	}
	wg.Wait()
	return summarize(o, "open", tallies, time.Since(start)), nil
}

func summarize(o options, mode string, tallies []*tally, elapsed time.Duration) *result {
	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	r := &result{
		Label:     o.label,
		Mode:      mode,
		Stream:    o.stream,
		URL:       o.url,
		DurationS: round(elapsed.Seconds(), 3),
		OK:        all.ok,
		Non2xx:    all.non2xx,
		Errors:    all.errors,
		Unsent:    all.unsent,
		RPS:       round(float64(all.ok)/elapsed.Seconds(), 1),
		Latency:   summaryOf(all.latency),
		FirstErr:  all.firstErr,
	}
	if mode == "closed" {
		r.Conns = o.conns
	} else {
		r.TargetRate = o.rate
		r.MaxInflight = o.maxInflight
	}
	if o.stream {
		s := summaryOf(all.ttfb)
		r.TTFB = &s
	}
	return r
}
