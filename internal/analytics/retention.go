package analytics

import (
	"context"
	"log/slog"
	"time"
)

// Default retentions: rollups outlive the raw call log, coarser ones longer.
const (
	DefaultMinuteRetention = 7 * 24 * time.Hour
	DefaultHourRetention   = 90 * 24 * time.Hour
	DefaultDayRetention    = 2 * 365 * 24 * time.Hour
)

// Pruner deletes rollups of one resolution older than a time; the store
// implements it.
type Pruner interface {
	PruneRollups(ctx context.Context, res Resolution, before time.Time) (int64, error)
}

// Retention deletes rollups past their resolution's age. Zero fields take
// the defaults.
type Retention struct {
	Minute, Hour, Day time.Duration
	Interval          time.Duration // default 1h
	Logger            *slog.Logger  // default: discard
	Now               func() time.Time
}

// RunOnce prunes every resolution once and returns the rows deleted.
func (r Retention) RunOnce(ctx context.Context, p Pruner) (int64, error) {
	r = r.withDefaults()
	now := r.Now()
	var total int64
	for _, x := range []struct {
		res Resolution
		age time.Duration
	}{{Minute, r.Minute}, {Hour, r.Hour}, {Day, r.Day}} {
		n, err := p.PruneRollups(ctx, x.res, now.Add(-x.age))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
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
			r.Logger.Error("analytics rollup retention failed", "deleted", n, "err", err)
		case n > 0:
			r.Logger.Info("analytics rollup retention deleted old rollups", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r Retention) withDefaults() Retention {
	if r.Minute <= 0 {
		r.Minute = DefaultMinuteRetention
	}
	if r.Hour <= 0 {
		r.Hour = DefaultHourRetention
	}
	if r.Day <= 0 {
		r.Day = DefaultDayRetention
	}
	if r.Interval <= 0 {
		r.Interval = time.Hour
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}
