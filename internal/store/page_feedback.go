package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hypergate/hypergate/internal/feedback"
)

const pageFeedbackColumns = "id, page, consumer, name, kind, num, str, comment, source, author, polarity, created_us, updated_us"

// UpsertPageFeedback stores feedback on a documentation page by ID, as
// UpsertFeedback does for calls: a new ID is inserted (created is true); an
// existing ID of the same consumer and page has its value replaced
// (created is false); an existing ID of another consumer or page is
// ErrConflict. It returns the row as stored.
func (db *DB) UpsertPageFeedback(ctx context.Context, f feedback.PageFeedback) (feedback.PageFeedback, bool, error) {
	if f.ID == "" || f.Page == "" {
		return feedback.PageFeedback{}, false, fmt.Errorf("page feedback needs an id and a page: %w", ErrInvalid)
	}
	created := false
	var stored feedback.PageFeedback
	err := db.write(ctx, func(tx *sql.Tx) error {
		createdAt := nowOr(f.CreatedAt)
		updatedAt := f.UpdatedAt
		if updatedAt.IsZero() {
			updatedAt = createdAt
		}
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO page_feedback ("+pageFeedbackColumns+
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"),
			f.ID, f.Page, f.Consumer, f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str, f.Comment,
			f.Source, f.Author, f.Polarity, micros(createdAt), micros(updatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			created = true
		} else {
			old, err := scanPageFeedback(tx.QueryRowContext(ctx, db.Rebind("SELECT "+pageFeedbackColumns+" FROM page_feedback WHERE id = ?"), f.ID))
			if err != nil {
				return err
			}
			if old.Consumer != f.Consumer || old.Page != f.Page {
				return ErrConflict
			}
			if _, err := tx.ExecContext(ctx, db.Rebind(`UPDATE page_feedback
				SET name = ?, kind = ?, num = ?, str = ?, comment = ?, source = ?, author = ?, polarity = ?, updated_us = ?
				WHERE id = ?`),
				f.Name, string(f.Value.Kind), f.Value.Num, f.Value.Str, f.Comment, f.Source, f.Author, f.Polarity,
				micros(nowOr(f.UpdatedAt)), f.ID); err != nil {
				return err
			}
		}
		stored, err = scanPageFeedback(tx.QueryRowContext(ctx, db.Rebind("SELECT "+pageFeedbackColumns+" FROM page_feedback WHERE id = ?"), f.ID))
		return err
	})
	if err != nil {
		return feedback.PageFeedback{}, false, fmt.Errorf("storing page feedback %q: %w", f.ID, err)
	}
	return stored, created, nil
}

// PageFeedbackCounts sums the feedback on one page.
type PageFeedbackCounts struct {
	Page string `json:"page"`
	// Total counts every item; Helpful and NotHelpful those judged
	// positive and negative.
	Total      int64 `json:"total"`
	Helpful    int64 `json:"helpful"`
	NotHelpful int64 `json:"not_helpful"`
}

// PageFeedbackPage is the feedback on pages matching a list query, newest
// first, with the counts of every page that has any.
type PageFeedbackPage struct {
	Counts   []PageFeedbackCounts    `json:"counts"`
	Feedback []feedback.PageFeedback `json:"data"`
}

// ListPageFeedback returns the feedback on page (every page when ""),
// newest first, at most limit items, with the counts per page (all items,
// not only those returned). A non-nil consumers limits both to the
// feedback given with those consumers' keys (none: nothing).
func (db *DB) ListPageFeedback(ctx context.Context, page string, consumers []string, limit int) (PageFeedbackPage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var conds []string
	var args []any
	if page != "" {
		conds, args = append(conds, "page = ?"), append(args, page)
	}
	if consumers != nil {
		if len(consumers) == 0 {
			return PageFeedbackPage{Counts: []PageFeedbackCounts{}, Feedback: []feedback.PageFeedback{}}, nil
		}
		conds = append(conds, "consumer IN (?"+strings.Repeat(", ?", len(consumers)-1)+")")
		for _, c := range consumers {
			args = append(args, c)
		}
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	out := PageFeedbackPage{Counts: []PageFeedbackCounts{}, Feedback: []feedback.PageFeedback{}}
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT page, COUNT(*), "+
		"COALESCE(SUM(CASE WHEN polarity = 'positive' THEN 1 ELSE 0 END), 0), "+
		"COALESCE(SUM(CASE WHEN polarity = 'negative' THEN 1 ELSE 0 END), 0) "+
		"FROM page_feedback"+where+" GROUP BY page ORDER BY page"), args...)
	if err != nil {
		return PageFeedbackPage{}, fmt.Errorf("counting page feedback: %w", err)
	}
	for rows.Next() {
		var c PageFeedbackCounts
		if err := rows.Scan(&c.Page, &c.Total, &c.Helpful, &c.NotHelpful); err != nil {
			rows.Close()
			return PageFeedbackPage{}, fmt.Errorf("counting page feedback: %w", err)
		}
		out.Counts = append(out.Counts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return PageFeedbackPage{}, fmt.Errorf("counting page feedback: %w", err)
	}
	rows, err = db.sql.QueryContext(ctx, db.Rebind("SELECT "+pageFeedbackColumns+" FROM page_feedback"+where+
		" ORDER BY updated_us DESC, id DESC LIMIT ?"), append(args, limit)...)
	if err != nil {
		return PageFeedbackPage{}, fmt.Errorf("listing page feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanPageFeedback(rows)
		if err != nil {
			return PageFeedbackPage{}, fmt.Errorf("listing page feedback: %w", err)
		}
		out.Feedback = append(out.Feedback, f)
	}
	if err := rows.Err(); err != nil {
		return PageFeedbackPage{}, fmt.Errorf("listing page feedback: %w", err)
	}
	return out, nil
}

func scanPageFeedback(s interface{ Scan(...any) error }) (feedback.PageFeedback, error) {
	var (
		f                  feedback.PageFeedback
		kind               string
		created, updatedAt int64
	)
	if err := s.Scan(&f.ID, &f.Page, &f.Consumer, &f.Name, &kind, &f.Value.Num, &f.Value.Str, &f.Comment,
		&f.Source, &f.Author, &f.Polarity, &created, &updatedAt); err != nil {
		return feedback.PageFeedback{}, err
	}
	f.Value.Kind = feedback.Kind(kind)
	f.CreatedAt = fromMicros(created)
	f.UpdatedAt = fromMicros(updatedAt)
	return f, nil
}
