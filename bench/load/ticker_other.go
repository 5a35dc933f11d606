//go:build !linux

package main

import "time"

// ticker wakes the open-loop scheduler every period. Outside Linux it is a
// plain time.Ticker, whose resolution is whatever the platform's timers give.
type ticker struct{ t *time.Ticker }

func newTicker(period time.Duration) (*ticker, error) {
	return &ticker{t: time.NewTicker(period)}, nil
}

func (t *ticker) wait() error {
	<-t.t.C
	return nil
}

func (t *ticker) stop() { t.t.Stop() }
