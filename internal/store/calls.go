package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/jsonenc"
)

// Page size limits of ListCalls.
const (
	DefaultCallLimit = 50
	MaxCallLimit     = 500
)

// maxInsertRows is the most records one multi-row INSERT carries: 256 rows of
// 36 columns stays well under both SQLite's (32766) and PostgreSQL's (65535)
// bound-parameter limits while saving most of the per-statement work.
// Batches are cut into power-of-two chunks (500 = 256+128+64+32+16+4) so
// that a handful of prepared statements serve every batch size: SQLite
// would otherwise parse and plan the long statement anew each time, which
// profiling showed to be a sixth of the insert cost.
const maxInsertRows = 256

// callColumns are the calls columns in the order insert arguments are built.
var callColumns = []string{
	"id", "time_us", "consumer", "key_id", "endpoint", "model", "provider", "upstream_model",
	"status", "error_type", "error_message", "latency_us", "upstream_us", "ttft_us",
	"input_tokens", "output_tokens", "cost_usd", "stream", "request_bytes", "response_bytes",
	"client_ip", "user_agent", "trace_id", "request_body", "response_body", "size_bytes",
	"attempts", "fallback", "usage_estimated", "dropped", "service", "route", "cache_hit",
	"prompt", "prompt_version", "service_release", "synthetic", "probe", "flags",
}

// listColumns are the columns ListCalls reads: everything but the bodies.
const listColumns = "id, time_us, consumer, key_id, endpoint, model, provider, upstream_model, " +
	"status, error_type, error_message, latency_us, upstream_us, ttft_us, " +
	"input_tokens, output_tokens, cost_usd, stream, request_bytes, response_bytes, " +
	"client_ip, user_agent, trace_id, attempts, fallback, usage_estimated, dropped, service, route, cache_hit, " +
	"prompt, prompt_version, service_release, synthetic, probe, flags"

// rowOverhead approximates the bytes a call row costs beyond its variable
// fields: 16 fixed-width columns, the row header and the entries in the
// six secondary indexes.
const rowOverhead = 200

// encodeAttempts stores attempts as a JSON array ("" for none): they are
// read with the call, never queried by field. Written by hand, not with
// encoding/json: it runs for every record, and reflection was a visible
// share of the writer's CPU in profiles. The output is what json.Marshal
// gives, byte for byte (TestEncodeAttemptsIsJSON).
func encodeAttempts(as []calllog.Attempt) string {
	if len(as) == 0 {
		return ""
	}
	b := make([]byte, 0, 96*len(as))
	b = append(b, '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"provider":`...)
		b = jsonenc.AppendString(b, a.Provider)
		b = append(b, `,"upstream_model":`...)
		b = jsonenc.AppendString(b, a.UpstreamModel)
		if a.KeyID != "" {
			b = append(b, `,"key_id":`...)
			b = jsonenc.AppendString(b, a.KeyID)
		}
		if a.Status != 0 {
			b = append(b, `,"status":`...)
			b = strconv.AppendInt(b, int64(a.Status), 10)
		}
		if a.ErrorType != "" {
			b = append(b, `,"error_type":`...)
			b = jsonenc.AppendString(b, a.ErrorType)
		}
		b = append(b, `,"latency_us":`...)
		b = strconv.AppendInt(b, a.LatencyUS, 10)
		b = append(b, '}')
	}
	return string(append(b, ']'))
}

// encodeStrings stores a list of names as a JSON array ("" for none).
func encodeStrings(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	b := []byte{'['}
	for i, x := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, x)
	}
	return string(append(b, ']'))
}

// recordSize estimates the stored bytes of r, for CallsSizeBytes.
func recordSize(r *calllog.Record) int64 {
	n := rowOverhead +
		// id is stored in the row, its primary key index and the time index;
		// consumer, model, service and prompt are also in their index.
		3*len(r.ID) + 2*len(r.Consumer) + 2*len(r.Model) + 2*len(r.Service) + len(r.Route) + 2*len(r.Prompt) +
		len(r.KeyID) + len(r.Endpoint) + len(r.Provider) + len(r.UpstreamModel) +
		len(r.ErrorType) + len(r.ErrorMessage) + len(r.ClientIP) + len(r.UserAgent) +
		len(r.TraceID) + len(r.RequestBody) + len(r.ResponseBody) + 64*len(r.Attempts) + 16*len(r.Dropped)
	return int64(n)
}

// InsertCalls writes a batch of call records in one transaction. It is
// idempotent by ID: a record whose ID is already stored is skipped, so a
// spill file can be replayed any number of times.
func (db *DB) InsertCalls(ctx context.Context, recs []calllog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := db.prepareInserts(ctx, len(recs)); err != nil {
		return fmt.Errorf("inserting %d calls: %w", len(recs), err)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
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
		if added == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("UPDATE call_usage SET bytes = bytes + ? WHERE id = 1"), added); err != nil {
			return fmt.Errorf("updating call usage: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inserting %d calls: %w", len(recs), err)
	}
	return nil
}

// chunkRows is the largest power of two up to maxInsertRows that fits in n.
func chunkRows(n int) int {
	c := maxInsertRows
	for c > n {
		c /= 2
	}
	return c
}

// insertQuery is the multi-row INSERT of n calls.
func (db *DB) insertQuery(n int) string {
	var q strings.Builder
	q.WriteString("INSERT INTO calls (")
	q.WriteString(strings.Join(callColumns, ", "))
	q.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(callColumns)), ", ") + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(" ON CONFLICT (id) DO NOTHING RETURNING id")
	return db.Rebind(q.String())
}

// prepareInserts prepares, once each, the INSERTs that writing n records
// in chunks (see chunkRows) takes. It must run before the write
// transaction begins: a statement is prepared on a connection of the pool,
// and an in-memory database has one connection only, which the
// transaction would hold while the preparation waited for it.
func (db *DB) prepareInserts(ctx context.Context, n int) error {
	for n > 0 {
		c := chunkRows(n)
		if _, ok := db.insertStmts.Load(c); !ok {
			st, err := db.sql.PrepareContext(ctx, db.insertQuery(c))
			if err != nil {
				return fmt.Errorf("preparing insert of %d calls: %w", c, err)
			}
			if _, loaded := db.insertStmts.LoadOrStore(c, st); loaded {
				st.Close()
			}
		}
		n -= c
	}
	return nil
}

// insertCallChunk inserts recs (a power of two of them, see chunkRows) with
// one statement and returns the estimated bytes of the rows actually
// inserted (RETURNING lists only those). The statement is the one
// prepareInserts cached; without it, one is prepared on the transaction
// itself, never on the pool.
func (db *DB) insertCallChunk(ctx context.Context, tx *sql.Tx, recs []calllog.Record) (int64, error) {
	var st *sql.Stmt
	if cached, ok := db.insertStmts.Load(len(recs)); ok {
		st = tx.StmtContext(ctx, cached.(*sql.Stmt))
	} else {
		var err error
		if st, err = tx.PrepareContext(ctx, db.insertQuery(len(recs))); err != nil {
			return 0, fmt.Errorf("preparing insert of %d calls: %w", len(recs), err)
		}
	}
	defer st.Close()
	args := make([]any, 0, len(recs)*len(callColumns))
	sizes := make(map[string]int64, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.ID == "" {
			return 0, fmt.Errorf("call record at %s has no id: %w", r.Time.Format(time.RFC3339Nano), ErrInvalid)
		}
		size := recordSize(r)
		if _, dup := sizes[r.ID]; !dup {
			sizes[r.ID] = size
		}
		args = append(args,
			r.ID, micros(r.Time), r.Consumer, r.KeyID, r.Endpoint, r.Model, r.Provider, r.UpstreamModel,
			r.Status, r.ErrorType, r.ErrorMessage, r.LatencyUS, r.UpstreamUS, r.TTFTUS,
			r.InputTokens, r.OutputTokens, r.CostUSD, r.Stream, r.RequestBytes, r.ResponseBytes,
			r.ClientIP, r.UserAgent, r.TraceID, r.RequestBody, r.ResponseBody, size,
			encodeAttempts(r.Attempts), r.Fallback, r.UsageEstimated, encodeStrings(r.Dropped), r.Service, r.Route, r.CacheHit,
			r.Prompt, r.PromptVersion, r.Release, r.Synthetic, r.Probe, strings.Join(r.Flags, ","),
		)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var added int64
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		added += sizes[id]
	}
	return added, rows.Err()
}

// scanCall reads a row of listColumns, plus the bodies when withBodies.
func scanCall(s interface{ Scan(...any) error }, withBodies bool) (calllog.Record, error) {
	var (
		r        calllog.Record
		timeUS   int64
		attempts string
		dropped  string
		flags    string
	)
	dest := []any{
		&r.ID, &timeUS, &r.Consumer, &r.KeyID, &r.Endpoint, &r.Model, &r.Provider, &r.UpstreamModel,
		&r.Status, &r.ErrorType, &r.ErrorMessage, &r.LatencyUS, &r.UpstreamUS, &r.TTFTUS,
		&r.InputTokens, &r.OutputTokens, &r.CostUSD, &r.Stream, &r.RequestBytes, &r.ResponseBytes,
		&r.ClientIP, &r.UserAgent, &r.TraceID, &attempts, &r.Fallback, &r.UsageEstimated, &dropped, &r.Service, &r.Route, &r.CacheHit,
		&r.Prompt, &r.PromptVersion, &r.Release, &r.Synthetic, &r.Probe, &flags,
	}
	if withBodies {
		dest = append(dest, &r.RequestBody, &r.ResponseBody)
	}
	if err := s.Scan(dest...); err != nil {
		return calllog.Record{}, err
	}
	r.Time = fromMicros(timeUS)
	if flags != "" {
		r.Flags = strings.Split(flags, ",")
	}
	if attempts != "" {
		if err := json.Unmarshal([]byte(attempts), &r.Attempts); err != nil {
			return calllog.Record{}, fmt.Errorf("call %q: decoding attempts: %w", r.ID, err)
		}
	}
	if dropped != "" {
		if err := json.Unmarshal([]byte(dropped), &r.Dropped); err != nil {
			return calllog.Record{}, fmt.Errorf("call %q: decoding dropped fields: %w", r.ID, err)
		}
	}
	return r, nil
}

// GetCall returns one call record, bodies included, or ErrNotFound.
func (db *DB) GetCall(ctx context.Context, id string) (calllog.Record, error) {
	row := db.sql.QueryRowContext(ctx,
		db.Rebind("SELECT "+listColumns+", request_body, response_body FROM calls WHERE id = ?"), id)
	r, err := scanCall(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return calllog.Record{}, fmt.Errorf("call %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return calllog.Record{}, fmt.Errorf("reading call %q: %w", id, err)
	}
	return r, nil
}

// CallSummary returns who made a call and under which dimensions, or
// ErrNotFound. It is the cheap check behind "may this consumer give feedback
// on this call".
func (db *DB) CallSummary(ctx context.Context, id string) (calllog.CallSummary, error) {
	var c calllog.CallSummary
	err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT consumer, service, route, model, provider, status FROM calls WHERE id = ?"), id).
		Scan(&c.Consumer, &c.Service, &c.Route, &c.Model, &c.Provider, &c.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("call %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("reading call %q: %w", id, err)
	}
	return c, nil
}

// encodeCursor makes the opaque position after a call: its time and id.
func encodeCursor(timeUS int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(timeUS, 10) + ":" + id))
}

// decodeCursor reverses encodeCursor; anything else wraps ErrInvalid.
func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	ts, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return 0, "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return us, id, nil
}

// ListCalls returns one page of call records, newest first, without bodies.
// Page.Next is empty on the last page. Limit defaults to 50 and is capped at
// 500; a malformed Cursor is an error wrapping ErrInvalid.
func (db *DB) ListCalls(ctx context.Context, f calllog.Filter) (calllog.Page, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallLimit
	}
	limit = min(limit, MaxCallLimit)

	var (
		where []string
		args  []any
	)
	if !f.Since.IsZero() {
		where = append(where, "time_us >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, "time_us < ?")
		args = append(args, f.Until.UnixMicro())
	}
	if f.Consumer != "" {
		where = append(where, "consumer = ?")
		args = append(args, f.Consumer)
	}
	if f.Model != "" {
		where = append(where, "model = ?")
		args = append(args, f.Model)
	}
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	if f.Status != 0 {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.HasFeedback != nil {
		exists := "EXISTS (SELECT 1 FROM feedback WHERE feedback.request_id = calls.id)"
		if !*f.HasFeedback {
			exists = "NOT " + exists
		}
		where = append(where, exists)
	}
	if f.CacheHit != nil {
		where = append(where, "cache_hit = ?")
		args = append(args, *f.CacheHit)
	}
	if f.Prompt != "" {
		where = append(where, "prompt = ?")
		args = append(args, f.Prompt)
	}
	if f.PromptVersion != 0 {
		where = append(where, "prompt_version = ?")
		args = append(args, f.PromptVersion)
	}
	if f.Synthetic != nil {
		where = append(where, "synthetic = ?")
		args = append(args, *f.Synthetic)
	}
	if f.Probe != "" {
		where = append(where, "probe = ?")
		args = append(args, f.Probe)
	}
	if f.Flag != "" {
		where = append(where, "id IN (SELECT call_id FROM call_flags WHERE flag = ?)")
		args = append(args, f.Flag)
	}
	if !f.Feedback.IsZero() {
		w, a := feedbackMatchSQL(f.Feedback)
		where = append(where, w)
		args = append(args, a...)
	}
	if f.Cursor != "" {
		us, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return calllog.Page{}, err
		}
		// A row-value comparison lets both databases seek in the (time_us, id) indexes.
		where = append(where, "(time_us, id) < (?, ?)")
		args = append(args, us, id)
	}
	q := "SELECT " + listColumns + " FROM calls"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// One extra row tells whether another page follows.
	q += " ORDER BY time_us DESC, id DESC LIMIT ?"
	args = append(args, limit+1)

	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return calllog.Page{}, fmt.Errorf("listing calls: %w", err)
	}
	defer rows.Close()
	page := calllog.Page{Calls: make([]calllog.Record, 0, min(limit, 64))}
	for rows.Next() {
		r, err := scanCall(rows, false)
		if err != nil {
			return calllog.Page{}, fmt.Errorf("listing calls: %w", err)
		}
		page.Calls = append(page.Calls, r)
	}
	if err := rows.Err(); err != nil {
		return calllog.Page{}, fmt.Errorf("listing calls: %w", err)
	}
	if len(page.Calls) > limit {
		page.Calls = page.Calls[:limit]
		last := page.Calls[limit-1]
		page.Next = encodeCursor(micros(last.Time), last.ID)
	}
	return page, nil
}

// DeleteCallsBefore deletes the calls older than t and returns how many.
func (db *DB) DeleteCallsBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := db.deleteCalls(ctx, "time_us < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("deleting calls before %s: %w", t.Format(time.RFC3339), err)
	}
	return n, nil
}

// DeleteOldestCalls deletes the n oldest calls and returns how many it
// deleted; size-based retention calls it until CallsSizeBytes is low enough.
func (db *DB) DeleteOldestCalls(ctx context.Context, n int) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	deleted, err := db.deleteCalls(ctx, "id IN (SELECT id FROM calls ORDER BY time_us, id LIMIT ?)", n)
	if err != nil {
		return 0, fmt.Errorf("deleting %d oldest calls: %w", n, err)
	}
	return deleted, nil
}

// deleteCalls deletes the calls matching cond and takes their estimated
// bytes off the running total in the same transaction.
func (db *DB) deleteCalls(ctx context.Context, cond string, args ...any) (int64, error) {
	var count int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.Rebind("DELETE FROM calls WHERE "+cond+" RETURNING size_bytes"), args...)
		if err != nil {
			return err
		}
		var bytes int64
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			bytes += s
			count++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		// Calls are deleted oldest first, so the flags of deleted calls are
		// those older than every call left.
		if _, err := tx.ExecContext(ctx, "DELETE FROM call_flags WHERE time_us < "+
			"(SELECT COALESCE(MIN(time_us), 9223372036854775807) FROM calls)"); err != nil {
			return fmt.Errorf("deleting the flags of deleted calls: %w", err)
		}
		_, err = tx.ExecContext(ctx, db.Rebind("UPDATE call_usage SET bytes = bytes - ? WHERE id = 1"), bytes)
		return err
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// CallsSizeBytes returns the approximate bytes stored for call records:
// every row's fields, bodies included, plus a fixed allowance per row for
// row and index overhead. It is a running total rather than a file size
// because neither SQLite nor PostgreSQL shrinks its files after a delete, so
// a file size would never fall below a retention limit.
func (db *DB) CallsSizeBytes(ctx context.Context) (int64, error) {
	var n int64
	if err := db.sql.QueryRowContext(ctx, "SELECT bytes FROM call_usage WHERE id = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("reading calls size: %w", err)
	}
	return n, nil
}
