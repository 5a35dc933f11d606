package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/hypercare"
)

var _ hypercare.Source = (*DB)(nil)

// hypercareWhere is the condition selecting a target's client calls (the
// alias c names the calls) in [from, to), with its arguments.
func hypercareWhere(t hypercare.Target, from, to time.Time) (string, []any) {
	where := "c.time_us >= ? AND c.time_us < ? AND c.synthetic = ?"
	args := []any{micros(from), micros(to), false}
	switch {
	case t.Service != "":
		where += " AND c.service = ?"
		args = append(args, t.Service)
		if t.Release > 0 {
			where += " AND c.service_release = ?"
			args = append(args, t.Release)
		}
	case t.Model != "":
		where += " AND c.model = ?"
		args = append(args, t.Model)
	case t.Prompt != "":
		where += " AND c.prompt = ?"
		args = append(args, t.Prompt)
		if t.PromptVersion > 0 {
			where += " AND c.prompt_version = ?"
			args = append(args, t.PromptVersion)
		}
	default:
		where += " AND 1 = 0"
	}
	return where, args
}

// hypercareCallSums are the aggregates of the calls, in the order
// scanHypercareSums reads them. Sums of tokens are cast to floating point
// first: PostgreSQL sums BIGINT into NUMERIC, and squares could overflow.
// Tokens and cost are summed over the answered calls only: a failed call
// uses nothing, so counting it would make a failing release look cheaper.
const hypercareCallSums = `COUNT(*),
	COALESCE(SUM(CASE WHEN c.status < 100 OR c.status >= 400 THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN c.flags <> '' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN ` + hypercareAnswered + ` THEN CAST(c.input_tokens + c.output_tokens AS DOUBLE PRECISION) ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN ` + hypercareAnswered + ` THEN CAST(c.input_tokens + c.output_tokens AS DOUBLE PRECISION) * CAST(c.input_tokens + c.output_tokens AS DOUBLE PRECISION) ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN ` + hypercareAnswered + ` THEN c.cost_usd ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN ` + hypercareAnswered + ` THEN c.cost_usd * c.cost_usd ELSE 0 END), 0)`

// hypercareAnswered selects the calls that got an answer.
const hypercareAnswered = "c.status >= 100 AND c.status < 400"

// hypercareFeedbackSums counts the thumbs up and down (feedback by its
// polarity) on the calls.
const hypercareFeedbackSums = `COALESCE(SUM(CASE WHEN f.polarity = 'positive' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN f.polarity = 'negative' THEN 1 ELSE 0 END), 0)`

func scanCallSums(dst []any, a *hypercare.Aggregates) []any {
	return append(dst, &a.Calls, &a.Errors, &a.Anomalies, &a.Tokens.Sum, &a.Tokens.SumSq, &a.Cost.Sum, &a.Cost.SumSq)
}

// HypercareAggregates sums the target's client calls in [from, to), and
// the polar feedback on them, in two aggregate queries.
func (db *DB) HypercareAggregates(ctx context.Context, t hypercare.Target, from, to time.Time) (hypercare.Aggregates, error) {
	var a hypercare.Aggregates
	where, args := hypercareWhere(t, from, to)
	if err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+hypercareCallSums+" FROM calls c WHERE "+where), args...).
		Scan(scanCallSums(nil, &a)...); err != nil {
		return a, fmt.Errorf("summing the calls of %s: %w", t, err)
	}
	a.Tokens.N, a.Cost.N = a.Calls-a.Errors, a.Calls-a.Errors
	if err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+hypercareFeedbackSums+
		" FROM feedback f JOIN calls c ON c.id = f.request_id WHERE "+where), args...).Scan(&a.Positive, &a.Negative); err != nil {
		return a, fmt.Errorf("counting the feedback on %s: %w", t, err)
	}
	return a, nil
}

// HypercareDailyAggregates sums the target's client calls per 24-hour day
// from start, grouping in SQL by the day's index.
func (db *DB) HypercareDailyAggregates(ctx context.Context, t hypercare.Target, start time.Time, days int) ([]hypercare.Aggregates, error) {
	out := make([]hypercare.Aggregates, max(days, 0))
	if days <= 0 {
		return out, nil
	}
	const dayUS = int64(hypercare.Day / time.Microsecond)
	where, args := hypercareWhere(t, start, start.Add(time.Duration(days)*hypercare.Day))
	day := fmt.Sprintf("(c.time_us - %d) / %d", micros(start), dayUS)
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT "+day+", "+hypercareCallSums+
		" FROM calls c WHERE "+where+" GROUP BY 1"), args...)
	if err != nil {
		return nil, fmt.Errorf("summing the days of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var a hypercare.Aggregates
		if err := rows.Scan(scanCallSums([]any{&i}, &a)...); err != nil {
			return nil, fmt.Errorf("summing the days of %s: %w", t, err)
		}
		if i >= 0 && i < int64(days) {
			a.Tokens.N, a.Cost.N = a.Calls-a.Errors, a.Calls-a.Errors
			out[i] = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summing the days of %s: %w", t, err)
	}
	rows.Close()
	rows, err = db.sql.QueryContext(ctx, db.Rebind("SELECT "+day+", "+hypercareFeedbackSums+
		" FROM feedback f JOIN calls c ON c.id = f.request_id WHERE "+where+" GROUP BY 1"), args...)
	if err != nil {
		return nil, fmt.Errorf("counting the feedback by day on %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, pos, neg int64
		if err := rows.Scan(&i, &pos, &neg); err != nil {
			return nil, fmt.Errorf("counting the feedback by day on %s: %w", t, err)
		}
		if i >= 0 && i < int64(days) {
			out[i].Positive, out[i].Negative = pos, neg
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the feedback by day on %s: %w", t, err)
	}
	return out, nil
}

// HypercareLatencySample returns the latencies of at most max successful
// client calls of the target in [from, to). With more calls than that it
// takes every k-th in time order (k the smallest stride that fits), a
// systematic sample spread evenly over the period; the database numbers
// and filters the rows, so only the sample is read.
func (db *DB) HypercareLatencySample(ctx context.Context, t hypercare.Target, from, to time.Time, max int) ([]int64, error) {
	if max <= 0 {
		return []int64{}, nil
	}
	where, args := hypercareWhere(t, from, to)
	where += " AND c.status >= 100 AND c.status < 400"
	var n int64
	if err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM calls c WHERE "+where), args...).Scan(&n); err != nil {
		return nil, fmt.Errorf("counting the latencies of %s: %w", t, err)
	}
	out := make([]int64, 0, min(n, int64(max)))
	if n == 0 {
		return out, nil
	}
	stride := (n + int64(max) - 1) / int64(max)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT s.latency_us FROM (
		SELECT c.latency_us, ROW_NUMBER() OVER (ORDER BY c.time_us, c.id) AS rn FROM calls c WHERE `+where+`
	) s WHERE (s.rn - 1) % ? = 0 ORDER BY s.rn LIMIT ?`), append(args, stride, max)...)
	if err != nil {
		return nil, fmt.Errorf("sampling the latencies of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sampling the latencies of %s: %w", t, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sampling the latencies of %s: %w", t, err)
	}
	return out, nil
}

// SaveHypercareReport stores a window's daily report unless one is stored
// for that window and day already, and reports whether it stored it: of
// several nodes making the same day's report, one stores it (and so sends
// it).
func (db *DB) SaveHypercareReport(ctx context.Context, r hypercare.StoredReport) (bool, error) {
	if r.Window == "" || r.Day == "" || r.Report == nil {
		return false, fmt.Errorf("a hypercare report needs a window, a day and the report: %w", ErrInvalid)
	}
	body, err := json.Marshal(r.Report)
	if err != nil {
		return false, fmt.Errorf("encoding hypercare report %s %s: %w", r.Window, r.Day, err)
	}
	var since int64
	if r.ReadySince != nil {
		since = micros(*r.ReadySince)
	}
	var stored bool
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO hypercare_reports
			(name, day, at_us, created_us, state, ready, ready_since_us, summary, report)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, day) DO NOTHING`),
			r.Window, r.Day, micros(r.At), micros(nowOr(r.CreatedAt)), string(r.State), r.Ready, since, r.Summary, string(body))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		stored = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storing hypercare report %s %s: %w", r.Window, r.Day, err)
	}
	return stored, nil
}

// ListHypercareReports returns a window's stored reports, the latest day
// first, at most limit (all when limit <= 0); none is an empty slice.
func (db *DB) ListHypercareReports(ctx context.Context, window string, limit int) ([]hypercare.StoredReport, error) {
	q := `SELECT name, day, at_us, created_us, state, ready, ready_since_us, summary, report
		FROM hypercare_reports WHERE name = ? ORDER BY day DESC`
	args := []any{window}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing hypercare reports of %s: %w", window, err)
	}
	defer rows.Close()
	out := []hypercare.StoredReport{}
	for rows.Next() {
		var (
			r                  hypercare.StoredReport
			at, created, since int64
			state, body        string
		)
		if err := rows.Scan(&r.Window, &r.Day, &at, &created, &state, &r.Ready, &since, &r.Summary, &body); err != nil {
			return nil, fmt.Errorf("listing hypercare reports of %s: %w", window, err)
		}
		r.At, r.CreatedAt, r.State = fromMicros(at), fromMicros(created), hypercare.State(state)
		if since != 0 {
			r.ReadySince = new(time.Time)
			*r.ReadySince = fromMicros(since)
		}
		r.Report = &hypercare.Report{}
		if err := json.Unmarshal([]byte(body), r.Report); err != nil {
			return nil, fmt.Errorf("decoding hypercare report %s %s: %w", window, r.Day, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing hypercare reports of %s: %w", window, err)
	}
	return out, nil
}
