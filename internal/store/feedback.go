package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
)

// feedbackColumns are the columns scanFeedback reads, in its order: the
// feedback, then its call's dimensions.
const feedbackColumns = "id, request_id, consumer, name, kind, num, str, comment, created_us, updated_us, service, route, model, provider, status, source, author, polarity"

// UpsertFeedback stores feedback by ID. A new ID is inserted (created is
// true). An existing ID of the same consumer and request has its name,
// value, comment, source, author, polarity and updated_at replaced
// (created is false), so a user can toggle a thumbs-up. An existing ID of
// another consumer or another request is ErrConflict. It returns the row as
// stored. Missing timestamps default to now.
//
// In the same transaction the feedback is counted in the analytics rollups
// under its call's dimensions (f.Call) at the time it was given; an update
// moves the count from the old value and time to the new ones, so each item
// is counted once, with its current value.
//
// Concurrent calls are committed together (feedback_batch.go): each waits
// for the transaction that holds its feedback, so what returns without an
// error is stored.
//
// There is deliberately no foreign key to calls: feedback may arrive before
// the batch writer has flushed its call record.
func (db *DB) UpsertFeedback(ctx context.Context, f feedback.Feedback) (feedback.Feedback, bool, error) {
	r := db.fbBatch.upsert(ctx, db, f)
	if r.err != nil {
		return feedback.Feedback{}, false, fmt.Errorf("storing feedback %q: %w", f.ID, r.err)
	}
	return r.stored, r.created, nil
}

// feedbackInsert inserts a feedback row unless its id is stored.
const feedbackInsert = "INSERT INTO feedback (" + feedbackColumns +
	") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"

// upsertFeedbackTx stores one feedback in tx, inserting with ins (the
// prepared feedbackInsert, bound to tx), and counts it in agg. It returns
// what is stored, or ErrConflict (and changes nothing) when the id is taken
// by another call or consumer.
func (db *DB) upsertFeedbackTx(ctx context.Context, tx *sql.Tx, ins *sql.Stmt, agg *analytics.Aggregator, f feedback.Feedback) (feedback.Feedback, bool, error) {
	if f.ID == "" || f.RequestID == "" {
		return feedback.Feedback{}, false, fmt.Errorf("feedback needs an id and a request id: %w", ErrInvalid)
	}
	createdAt := fromMicros(micros(nowOr(f.CreatedAt)))
	updatedAt := fromMicros(micros(f.UpdatedAt))
	if updatedAt.IsZero() {
		updatedAt = createdAt
	}
	c := f.Call
	res, err := ins.ExecContext(ctx,
		f.ID, f.RequestID, f.Consumer, f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str,
		f.Comment, micros(createdAt), micros(updatedAt), c.Service, c.Route, c.Model, c.Provider, c.Status,
		f.Source, f.Author, f.Polarity)
	if err != nil {
		return feedback.Feedback{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return feedback.Feedback{}, false, err
	} else if n == 1 {
		agg.AddFeedback(analytics.FeedbackKey(withConsumer(c, f.Consumer)), updatedAt, f.Value, f.Polarity, 1)
		stored := f
		stored.CreatedAt, stored.UpdatedAt = createdAt, updatedAt
		stored.Call.Consumer = f.Consumer
		return stored, true, nil
	}
	// The row is read, and on PostgreSQL locked, before it changes, so that
	// its old value is uncounted exactly once even when the same id is
	// posted twice at once.
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	old, err := scanFeedback(tx.QueryRowContext(ctx, db.Rebind("SELECT "+feedbackColumns+
		" FROM feedback WHERE id = ?"+lock), f.ID))
	if err != nil {
		return feedback.Feedback{}, false, err
	}
	// Feedback is never deleted, so a row of another consumer or request
	// means the id is taken.
	if old.Consumer != f.Consumer || old.RequestID != f.RequestID {
		return feedback.Feedback{}, false, ErrConflict
	}
	now := fromMicros(micros(nowOr(f.UpdatedAt)))
	if _, err := tx.ExecContext(ctx, db.Rebind(`UPDATE feedback
		SET name = ?, kind = ?, num = ?, str = ?, comment = ?, updated_us = ?, source = ?, author = ?, polarity = ?
		WHERE id = ?`),
		f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str, f.Comment, micros(now),
		f.Source, f.Author, f.Polarity, f.ID); err != nil {
		return feedback.Feedback{}, false, err
	}
	k := analytics.FeedbackKey(withConsumer(old.Call, old.Consumer))
	agg.AddFeedback(k, old.UpdatedAt, old.Value, old.Polarity, -1)
	agg.AddFeedback(k, now, f.Value, f.Polarity, 1)
	stored := old
	stored.Name, stored.Value, stored.Comment, stored.UpdatedAt = f.Name, f.Value, f.Comment, now
	stored.Source, stored.Author, stored.Polarity = f.Source, f.Author, f.Polarity
	return stored, false, nil
}

func withConsumer(c calllog.CallSummary, consumer string) calllog.CallSummary {
	c.Consumer = consumer
	return c
}

// scanFeedback scans feedbackColumns.
func scanFeedback(s interface{ Scan(...any) error }) (feedback.Feedback, error) {
	var (
		f                  feedback.Feedback
		kind               string
		created, updatedAt int64
	)
	if err := s.Scan(&f.ID, &f.RequestID, &f.Consumer, &f.Name, &kind, &f.Value.Num, &f.Value.Str,
		&f.Comment, &created, &updatedAt, &f.Call.Service, &f.Call.Route, &f.Call.Model, &f.Call.Provider, &f.Call.Status,
		&f.Source, &f.Author, &f.Polarity); err != nil {
		return feedback.Feedback{}, err
	}
	f.Value.Kind = feedback.Kind(kind)
	f.CreatedAt = fromMicros(created)
	f.UpdatedAt = fromMicros(updatedAt)
	f.Call.Consumer = f.Consumer
	return f, nil
}

// ListFeedback returns the feedback on one call, oldest first; none is an
// empty slice, not an error.
func (db *DB) ListFeedback(ctx context.Context, requestID string) ([]feedback.Feedback, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT "+feedbackColumns+
		" FROM feedback WHERE request_id = ? ORDER BY created_us, id"), requestID)
	if err != nil {
		return nil, fmt.Errorf("listing feedback on %q: %w", requestID, err)
	}
	defer rows.Close()
	out := []feedback.Feedback{}
	for rows.Next() {
		f, err := scanFeedback(rows)
		if err != nil {
			return nil, fmt.Errorf("listing feedback on %q: %w", requestID, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing feedback on %q: %w", requestID, err)
	}
	return out, nil
}

// errNoRows maps sql.ErrNoRows to ErrNotFound, described by what.
func errNoRows(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// feedbackMatchSQL is the condition on calls of a feedback filter: a
// subquery the feedback_name_value and feedback_polarity indexes answer.
func feedbackMatchSQL(m calllog.FeedbackMatch) (string, []any) {
	const in = "id IN (SELECT request_id FROM feedback WHERE "
	if m.Polarity != "" {
		return in + "polarity = ?)", []any{m.Polarity}
	}
	if m.Value == "" {
		return in + "name = ?)", []any{m.Name}
	}
	// A value may read as a boolean, a number and a string at once ("1"
	// is a number and could be a category): each reading matches.
	conds := []string{"(kind = ? AND str = ?)"}
	args := []any{m.Name, string(feedback.String), m.Value}
	if b, ok := m.Bool(); ok {
		n := 0.0
		if b {
			n = 1
		}
		conds = append(conds, "(kind = ? AND num = ?)")
		args = append(args, string(feedback.Boolean), n)
	}
	if n, ok := m.Number(); ok {
		conds = append(conds, "(kind = ? AND num = ?)")
		args = append(args, string(feedback.Numeric), n)
	}
	return in + "name = ? AND (" + strings.Join(conds, " OR ") + "))", args
}
