package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
)

// rollupKeyCols are the rollups primary key columns after resolution and
// bucket, in analytics.Dimensions order.
const rollupKeyCols = "service, route, model, provider, consumer, status_class"

// InsertCallsAndRollups is InsertCalls that also counts, in the same
// transaction, the records it actually inserts in the analytics rollups.
// A record whose ID is already stored is neither inserted nor counted
// again, so replaying a spill file any number of times leaves the rollups
// as they were.
//
// Records are known to be new by looking their IDs up before inserting,
// inside the transaction: on SQLite writers are serialised, and on
// PostgreSQL a call's ID is only ever written by the node that took the
// call, from one writer goroutine.
func (db *DB) InsertCallsAndRollups(ctx context.Context, recs []calllog.Record) error {
	_, err := db.StoreCalls(ctx, recs)
	return err
}

// StoreCalls is InsertCallsAndRollups that also returns the indexes in recs
// of the records it inserted, in order: the ones that were new, which the
// call pipeline's observers (triage, review queues) must see exactly once.
func (db *DB) StoreCalls(ctx context.Context, recs []calllog.Record) (fresh []int, err error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := db.prepareInserts(ctx, len(recs)); err != nil {
		return nil, fmt.Errorf("inserting %d calls: %w", len(recs), err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		fresh = fresh[:0]
		known, err := existingCalls(ctx, db, tx, recs)
		if err != nil {
			return err
		}
		var added int64
		for start := 0; start < len(recs); {
			end := start + chunkRows(len(recs)-start)
			n, err := db.insertCallChunk(ctx, tx, recs[start:end])
			start = end
			if err != nil {
				return err
			}
			added += n
		}
		if added > 0 {
			if _, err := tx.ExecContext(ctx, db.Rebind("UPDATE call_usage SET bytes = bytes + ? WHERE id = 1"), added); err != nil {
				return fmt.Errorf("updating call usage: %w", err)
			}
		}
		agg := analytics.NewAggregator()
		for i := range recs {
			if !known[recs[i].ID] {
				known[recs[i].ID] = true // the first of duplicates in a batch is the one inserted
				agg.Add(&recs[i])
				fresh = append(fresh, i)
			}
		}
		if err := db.insertFlags(ctx, tx, recs, fresh); err != nil {
			return err
		}
		return db.mergeRollups(ctx, tx, agg.Rows())
	})
	if err != nil {
		return nil, fmt.Errorf("inserting %d calls: %w", len(recs), err)
	}
	return fresh, nil
}

// insertFlags stores a row per flag of the records at fresh.
func (db *DB) insertFlags(ctx context.Context, tx *sql.Tx, recs []calllog.Record, fresh []int) error {
	var q *sql.Stmt
	for _, i := range fresh {
		r := &recs[i]
		for _, f := range r.Flags {
			if q == nil {
				st, err := tx.PrepareContext(ctx, db.Rebind("INSERT INTO call_flags (call_id, flag, time_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"))
				if err != nil {
					return fmt.Errorf("storing call flags: %w", err)
				}
				defer st.Close()
				q = st
			}
			if _, err := q.ExecContext(ctx, r.ID, f, micros(r.Time)); err != nil {
				return fmt.Errorf("storing call flags: %w", err)
			}
		}
	}
	return nil
}

// existingCalls returns the IDs among recs' that are already stored.
func existingCalls(ctx context.Context, db *DB, tx *sql.Tx, recs []calllog.Record) (map[string]bool, error) {
	known := make(map[string]bool, len(recs))
	for start := 0; start < len(recs); start += maxInsertRows {
		part := recs[start:min(start+maxInsertRows, len(recs))]
		args := make([]any, len(part))
		for i := range part {
			args[i] = part[i].ID
		}
		q := "SELECT id FROM calls WHERE id IN (" + placeholders(len(part)) + ")"
		rows, err := tx.QueryContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("looking up stored calls: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("looking up stored calls: %w", err)
			}
			known[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("looking up stored calls: %w", err)
		}
	}
	return known, nil
}

// MergeRollups adds rows to the stored rollups: a row whose bucket and key
// are stored is merged into it (counts added, sketches merged), others are
// inserted. It is what the call writer does for each batch; it is exported
// for rebuilding tools and for tests and benchmarks that lay out rollups
// without raw records.
func (db *DB) MergeRollups(ctx context.Context, rows []*analytics.Row) error {
	return db.write(ctx, func(tx *sql.Tx) error { return db.mergeRollups(ctx, tx, rows) })
}

// mergeRollups reads, merges and writes back each row: sketches can only be
// merged in Go.
func (db *DB) mergeRollups(ctx context.Context, tx *sql.Tx, rows []*analytics.Row) error {
	if len(rows) == 0 {
		return nil
	}
	sel := db.Rebind("SELECT " + rollupCountCols + ", latency_sketch, ttft_sketch " +
		"FROM rollups WHERE resolution = ? AND bucket = ? AND service = ? AND route = ? AND model = ? AND provider = ? AND consumer = ? AND status_class = ?")
	upd := db.Rebind("UPDATE rollups SET requests = ?, errors = ?, cache_hits = ?, input_tokens = ?, output_tokens = ?, cost_usd = ?, latency_sum_us = ?, " +
		"rate_limited = ?, anomalies = ?, feedback_count = ?, feedback_scored = ?, feedback_sum = ?, feedback_positive = ?, feedback_negative = ?, latency_sketch = ?, ttft_sketch = ? " +
		"WHERE resolution = ? AND bucket = ? AND service = ? AND route = ? AND model = ? AND provider = ? AND consumer = ? AND status_class = ?")
	for _, r := range rows {
		pk := []any{r.Resolution.Seconds(), r.Bucket.Unix(), r.Service, r.Route, r.Model, r.Provider, r.Consumer, r.StatusClass}
		old := analytics.NewRow(r.Resolution, r.Bucket, r.Key)
		var lat, ttft []byte
		err := tx.QueryRowContext(ctx, sel, pk...).Scan(append(countDest(old), &lat, &ttft)...)
		if errors.Is(err, sql.ErrNoRows) {
			if err := db.insertRollup(ctx, tx, r); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading rollup: %w", err)
		}
		if old.Latency, err = analytics.DecodeSketch(lat); err != nil {
			return err
		}
		if old.TTFT, err = analytics.DecodeSketch(ttft); err != nil {
			return err
		}
		if err := old.Merge(r); err != nil {
			return err
		}
		args := append(countArgs(old), old.Latency.AppendBinary(nil), old.TTFT.AppendBinary(nil))
		args = append(args, pk...)
		if _, err := tx.ExecContext(ctx, upd, args...); err != nil {
			return fmt.Errorf("updating rollup: %w", err)
		}
	}
	return nil
}

// rollupCountCols are the rollups' count and sum columns, in the order of
// countDest and countArgs.
const rollupCountCols = "requests, errors, cache_hits, input_tokens, output_tokens, cost_usd, latency_sum_us, " +
	"rate_limited, anomalies, feedback_count, feedback_scored, feedback_sum, feedback_positive, feedback_negative"

// rollupLeanCols are the first leanCols of rollupCountCols: the calls'
// counts and sums, what a Lean selection reads.
const (
	rollupLeanCols = "requests, errors, cache_hits, input_tokens, output_tokens, cost_usd, latency_sum_us"
	leanCols       = 7
)

// countDest returns scan destinations for rollupCountCols.
func countDest(r *analytics.Row) []any {
	return []any{&r.Requests, &r.Errors, &r.CacheHits, &r.InputTokens, &r.OutputTokens, &r.CostUSD, &r.LatencySumUS,
		&r.RateLimited, &r.Anomalies, &r.FeedbackCount, &r.FeedbackScored, &r.FeedbackSum, &r.FeedbackPositive, &r.FeedbackNegative}
}

// countArgs returns r's values of rollupCountCols.
func countArgs(r *analytics.Row) []any {
	return []any{r.Requests, r.Errors, r.CacheHits, r.InputTokens, r.OutputTokens, r.CostUSD, r.LatencySumUS,
		r.RateLimited, r.Anomalies, r.FeedbackCount, r.FeedbackScored, r.FeedbackSum, r.FeedbackPositive, r.FeedbackNegative}
}

func (db *DB) insertRollup(ctx context.Context, tx *sql.Tx, r *analytics.Row) error {
	q := db.Rebind("INSERT INTO rollups (resolution, bucket, " + rollupKeyCols + ", " + rollupCountCols +
		", latency_sketch, ttft_sketch) VALUES (" + placeholders(24) + ")")
	args := append([]any{r.Resolution.Seconds(), r.Bucket.Unix(), r.Service, r.Route, r.Model, r.Provider, r.Consumer, r.StatusClass},
		countArgs(r)...)
	_, err := tx.ExecContext(ctx, q, append(args, r.Latency.AppendBinary(nil), r.TTFT.AppendBinary(nil))...)
	if err != nil {
		return fmt.Errorf("inserting rollup: %w", err)
	}
	return nil
}

// RebuildRollups recomputes the rollups of [from, to) from the raw call
// records and feedback, widened to whole UTC days so that every minute, hour and day
// bucket it touches is recomputed from all of its calls. It replaces what
// was stored for those buckets, in one transaction, so running it twice
// gives the same rollups as running it once. Rollups of days whose raw
// records retention has already deleted are replaced by what is left of
// them: rebuild only ranges the call log still holds.
func (db *DB) RebuildRollups(ctx context.Context, from, to time.Time) error {
	from = analytics.Day.Truncate(from)
	if end := analytics.Day.Truncate(to); end.Before(to) {
		to = end.Add(24 * time.Hour)
	}
	if !to.After(from) {
		return fmt.Errorf("rebuilding rollups: empty range: %w", ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM rollups WHERE bucket >= ? AND bucket < ?"), from.Unix(), to.Unix()); err != nil {
			return fmt.Errorf("deleting rollups: %w", err)
		}
		rows, err := tx.QueryContext(ctx, db.Rebind("SELECT time_us, service, route, model, provider, consumer, status, "+
			"latency_us, ttft_us, input_tokens, output_tokens, cost_usd, cache_hit, flags FROM calls WHERE time_us >= ? AND time_us < ? AND synthetic = ?"),
			from.UnixMicro(), to.UnixMicro(), false)
		if err != nil {
			return fmt.Errorf("reading calls: %w", err)
		}
		agg := analytics.NewAggregator()
		for rows.Next() {
			var r calllog.Record
			var us int64
			var flags string
			if err := rows.Scan(&us, &r.Service, &r.Route, &r.Model, &r.Provider, &r.Consumer, &r.Status,
				&r.LatencyUS, &r.TTFTUS, &r.InputTokens, &r.OutputTokens, &r.CostUSD, &r.CacheHit, &flags); err != nil {
				rows.Close()
				return fmt.Errorf("reading calls: %w", err)
			}
			r.Time = fromMicros(us)
			if flags != "" {
				r.Flags = strings.Split(flags, ",")
			}
			agg.Add(&r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading calls: %w", err)
		}
		if err := db.aggregateFeedback(ctx, tx, agg, from, to); err != nil {
			return err
		}
		for _, r := range agg.Rows() {
			if err := db.insertRollup(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuilding rollups from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return nil
}

// PruneRollups deletes the rollups of resolution res whose bucket starts
// before before, and returns how many it deleted.
func (db *DB) PruneRollups(ctx context.Context, res analytics.Resolution, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM rollups WHERE resolution = ? AND bucket < ?"), res.Seconds(), before.Unix())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning %s rollups: %w", res, err)
	}
	return n, nil
}

// ReadRollups returns the rollups of sel, unmerged, with their sketches
// decoded when sel.Sketches.
func (db *DB) ReadRollups(ctx context.Context, sel analytics.Selection) ([]*analytics.Row, error) {
	var out []*analytics.Row
	err := db.ScanRollups(ctx, sel, func(r *analytics.Row, lat, ttft []byte) error {
		c := *r
		var err error
		if c.Latency, err = analytics.DecodeSketch(lat); err != nil {
			return err
		}
		if c.TTFT, err = analytics.DecodeSketch(ttft); err != nil {
			return err
		}
		out = append(out, &c)
		return nil
	})
	return out, err
}

// ScanRollups implements analytics.Reader: it calls fn for each rollup of
// sel.
func (db *DB) ScanRollups(ctx context.Context, sel analytics.Selection, fn func(r *analytics.Row, latency, ttft []byte) error) error {
	cols := "bucket, " + rollupKeyCols + ", " + rollupCountCols
	if sel.Lean {
		cols = "bucket, " + rollupKeyCols + ", " + rollupLeanCols
	}
	if sel.Sketches {
		cols += ", latency_sketch, ttft_sketch"
	}
	var q strings.Builder
	q.WriteString("SELECT " + cols + " FROM rollups WHERE resolution = ? AND bucket >= ? AND bucket < ?")
	args := []any{sel.Resolution.Seconds(), sel.From.Unix(), sel.To.Unix()}
	for _, d := range analytics.Dimensions {
		if v, ok := sel.Filter[d]; ok {
			q.WriteString(" AND " + string(d) + " = ?")
			args = append(args, v)
		}
	}
	if sc := sel.Scope; sc != nil {
		if len(sc.Consumers) == 0 && len(sc.Services) == 0 {
			return nil
		}
		var ors []string
		if len(sc.Consumers) > 0 {
			ors = append(ors, "consumer IN ("+placeholders(len(sc.Consumers))+")")
			for _, c := range sc.Consumers {
				args = append(args, c)
			}
		}
		if len(sc.Services) > 0 {
			ors = append(ors, "service IN ("+placeholders(len(sc.Services))+")")
			for _, s := range sc.Services {
				args = append(args, s)
			}
		}
		q.WriteString(" AND (" + strings.Join(ors, " OR ") + ")")
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q.String()), args...)
	if err != nil {
		return fmt.Errorf("reading rollups: %w", err)
	}
	defer rows.Close()
	var (
		r         analytics.Row
		bucket    int64
		lat, ttft sql.RawBytes
	)
	counts := countDest(&r)
	if sel.Lean {
		counts = counts[:leanCols]
	}
	dest := append([]any{&bucket, &r.Service, &r.Route, &r.Model, &r.Provider, &r.Consumer, &r.StatusClass}, counts...)
	if sel.Sketches {
		dest = append(dest, &lat, &ttft)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reading rollups: %w", err)
		}
		r.Resolution, r.Bucket = sel.Resolution, time.Unix(bucket, 0).UTC()
		if err := fn(&r, lat, ttft); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading rollups: %w", err)
	}
	return nil
}

var _ analytics.Reader = (*DB)(nil)

// aggregateFeedback counts in agg the feedback last given in [from, to).
func (db *DB) aggregateFeedback(ctx context.Context, tx *sql.Tx, agg *analytics.Aggregator, from, to time.Time) error {
	rows, err := tx.QueryContext(ctx, db.Rebind("SELECT updated_us, consumer, service, route, model, provider, status, kind, num, polarity "+
		"FROM feedback WHERE updated_us >= ? AND updated_us < ?"), from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return fmt.Errorf("reading feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			us   int64
			c    calllog.CallSummary
			kind string
			v    feedback.Value
			pol  string
		)
		if err := rows.Scan(&us, &c.Consumer, &c.Service, &c.Route, &c.Model, &c.Provider, &c.Status, &kind, &v.Num, &pol); err != nil {
			return fmt.Errorf("reading feedback: %w", err)
		}
		v.Kind = feedback.Kind(kind)
		agg.AddFeedback(analytics.FeedbackKey(c), fromMicros(us), v, pol, 1)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading feedback: %w", err)
	}
	return nil
}
