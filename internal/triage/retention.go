package triage

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// DefaultRetention is how long incidents that are over (resolved or
// ignored and not seen since) and the hourly counts of every incident are
// kept: as long as the hourly analytics rollups, which their share is read
// from.
const DefaultRetention = 90 * 24 * time.Hour

// Pruner deletes what Retention ages out; the store implements it.
type Pruner interface {
	// PruneIncidents deletes the resolved and ignored incidents last seen
	// before t (with their samples, subjects, notes and counts) and every
	// incident's hourly counts before t, and returns the incidents deleted.
	PruneIncidents(ctx context.Context, before time.Time) (int64, error)
}

// Retention keeps the incident tables from growing without bound. Open and
// acknowledged incidents are never deleted, however old: someone still
// owes them an answer. Zero fields take the defaults.
type Retention struct {
	Age      time.Duration // default DefaultRetention
	Interval time.Duration // default 1h
	Logger   *slog.Logger  // default: discard
	Now      func() time.Time
}

func (r Retention) withDefaults() Retention {
	if r.Age <= 0 {
		r.Age = DefaultRetention
	}
	if r.Interval <= 0 {
		r.Interval = time.Hour
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// RunOnce prunes once and returns the incidents deleted.
func (r Retention) RunOnce(ctx context.Context, p Pruner) (int64, error) {
	r = r.withDefaults()
	return p.PruneIncidents(ctx, r.Now().Add(-r.Age))
}

// Run prunes at once and then every Interval until ctx is done.
func (r Retention) Run(ctx context.Context, p Pruner) {
	r = r.withDefaults()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		n, err := r.RunOnce(ctx, p)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			r.Logger.Error("incident retention failed", "err", err)
		case n > 0:
			r.Logger.Info("incident retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
