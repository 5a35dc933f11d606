package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hypergate/hypergate/internal/feedback"
)

const feedbackColumns = "id, request_id, consumer, name, kind, num, str, comment, created_us, updated_us"

func scanFeedback(s interface{ Scan(...any) error }) (feedback.Feedback, error) {
	var (
		f                  feedback.Feedback
		kind               string
		created, updatedAt int64
	)
	if err := s.Scan(&f.ID, &f.RequestID, &f.Consumer, &f.Name, &kind, &f.Value.Num, &f.Value.Str,
		&f.Comment, &created, &updatedAt); err != nil {
		return feedback.Feedback{}, err
	}
	f.Value.Kind = feedback.Kind(kind)
	f.CreatedAt = fromMicros(created)
	f.UpdatedAt = fromMicros(updatedAt)
	return f, nil
}

// UpsertFeedback stores feedback by ID. A new ID is inserted (created is
// true). An existing ID of the same consumer and request has its name,
// value, comment and updated_at replaced (created is false), so a user can
// toggle a thumbs-up. An existing ID of another consumer or another request
// is ErrConflict. It returns the row as stored. Missing timestamps default
// to now.
//
// There is deliberately no foreign key to calls: feedback may arrive before
// the batch writer has flushed its call record.
func (db *DB) UpsertFeedback(ctx context.Context, f feedback.Feedback) (feedback.Feedback, bool, error) {
	if f.ID == "" || f.RequestID == "" {
		return feedback.Feedback{}, false, fmt.Errorf("feedback needs an id and a request id: %w", ErrInvalid)
	}
	created := false
	var stored feedback.Feedback
	err := db.write(ctx, func(tx *sql.Tx) error {
		createdAt := nowOr(f.CreatedAt)
		updatedAt := f.UpdatedAt
		if updatedAt.IsZero() {
			updatedAt = createdAt
		}
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO feedback ("+feedbackColumns+
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"),
			f.ID, f.RequestID, f.Consumer, f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str,
			f.Comment, micros(createdAt), micros(updatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			created = true
		} else {
			res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE feedback
				SET name = ?, kind = ?, num = ?, str = ?, comment = ?, updated_us = ?
				WHERE id = ? AND consumer = ? AND request_id = ?`),
				f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str, f.Comment, micros(nowOr(f.UpdatedAt)),
				f.ID, f.Consumer, f.RequestID)
			if err != nil {
				return err
			}
			// Feedback is never deleted, so no update means the row belongs
			// to another consumer or request.
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return ErrConflict
			}
		}
		stored, err = scanFeedback(tx.QueryRowContext(ctx,
			db.Rebind("SELECT "+feedbackColumns+" FROM feedback WHERE id = ?"), f.ID))
		return err
	})
	if err != nil {
		return feedback.Feedback{}, false, fmt.Errorf("storing feedback %q: %w", f.ID, err)
	}
	return stored, created, nil
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
