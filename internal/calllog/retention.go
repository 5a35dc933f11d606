package calllog

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RetentionStore is what retention needs from the database.
type RetentionStore interface {
	// DeleteCallsBefore deletes calls older than t and returns how many.
	DeleteCallsBefore(ctx context.Context, t time.Time) (int64, error)
	// CallsSizeBytes estimates the bytes the call log occupies. It must shrink
	// when calls are deleted, or size-based retention stops after one chunk.
	CallsSizeBytes(ctx context.Context) (int64, error)
	// DeleteOldestCalls deletes up to n of the oldest calls and returns how many.
	DeleteOldestCalls(ctx context.Context, n int) (int64, error)
}

// Retention bounds the call log by age and by size. Zero fields take the
// defaults noted; a negative MaxAge or MaxBytes turns that limit off.
type Retention struct {
	MaxAge   time.Duration // default 30 days
	MaxBytes int64         // default 5 GiB
	Interval time.Duration // default 10 minutes
	Logger   *slog.Logger  // default: discard
}

const (
	defaultRetentionAge      = 30 * 24 * time.Hour
	defaultRetentionBytes    = 5 << 30
	defaultRetentionInterval = 10 * time.Minute

	// retentionChunk is how many rows one size-driven delete removes: small
	// enough that a delete does not hold the database for long.
	retentionChunk = 10_000
	// retentionRounds bounds the chunks of one run; whatever is left over is
	// deleted by the next run rather than in one long burst.
	retentionRounds = 100
)

func (r Retention) withDefaults() Retention {
	if r.MaxAge == 0 {
		r.MaxAge = defaultRetentionAge
	}
	if r.MaxBytes == 0 {
		r.MaxBytes = defaultRetentionBytes
	}
	if r.Interval <= 0 {
		r.Interval = defaultRetentionInterval
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

// RunOnce deletes calls older than MaxAge, then the oldest calls in chunks
// until the log is no larger than MaxBytes, for a bounded number of chunks. It
// returns how many calls it deleted, also when it fails part way.
func (r Retention) RunOnce(ctx context.Context, st RetentionStore) (deleted int64, err error) {
	r = r.withDefaults()
	if r.MaxAge > 0 {
		n, err := st.DeleteCallsBefore(ctx, time.Now().Add(-r.MaxAge))
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("deleting calls older than %s: %w", r.MaxAge, err)
		}
	}
	if r.MaxBytes < 0 {
		return deleted, nil
	}
	size, err := st.CallsSizeBytes(ctx)
	if err != nil {
		return deleted, fmt.Errorf("measuring the call log: %w", err)
	}
	for round := 0; size > r.MaxBytes; round++ {
		if round == retentionRounds {
			r.Logger.Warn("call log still over its size limit; the next retention run continues",
				"size_bytes", size, "max_bytes", r.MaxBytes)
			break
		}
		if err := ctx.Err(); err != nil {
			return deleted, fmt.Errorf("trimming the call log: %w", err)
		}
		n, err := st.DeleteOldestCalls(ctx, retentionChunk)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("deleting the oldest calls: %w", err)
		}
		if n == 0 {
			break // the log is empty; what remains is overhead
		}
		next, err := st.CallsSizeBytes(ctx)
		if err != nil {
			return deleted, fmt.Errorf("measuring the call log: %w", err)
		}
		if next >= size {
			// Deleting more would not bring the estimate down and would only
			// empty the log.
			r.Logger.Warn("call log size did not shrink after deleting calls; stopping this run",
				"size_bytes", next, "max_bytes", r.MaxBytes)
			break
		}
		size = next
	}
	return deleted, nil
}

// Run applies retention at once and then every Interval until ctx is done.
func (r Retention) Run(ctx context.Context, st RetentionStore) {
	r = r.withDefaults()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := r.RunOnce(ctx, st)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			r.Logger.Error("call log retention failed", "deleted", n, "err", err)
		case n > 0:
			r.Logger.Info("call log retention deleted old calls", "deleted", n, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
