//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ticker wakes the open-loop scheduler every period. Go's timers sleep for
// at least about a millisecond on Linux (the netpoller waits in whole
// milliseconds), which would send requests in bursts and add up to a
// millisecond to every measured latency; a timerfd read through the netpoller
// wakes within microseconds, since readiness of a file ends the wait at once.
type ticker struct {
	f   *os.File
	buf [8]byte
}

func newTicker(period time.Duration) (*ticker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating timerfd: %w", err)
	}
	ts := unix.NsecToTimespec(int64(period))
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("arming timerfd: %w", err)
	}
	// A non-blocking descriptor handed to os.NewFile is registered with the
	// netpoller, so a Read parks the goroutine instead of an OS thread.
	return &ticker{f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// wait blocks until the next tick; ticks missed meanwhile are folded into it.
func (t *ticker) wait() error {
	_, err := t.f.Read(t.buf[:])
	return err
}

func (t *ticker) stop() { t.f.Close() }
