package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Revision is one applied configuration change. Numbers start at 1 and grow
// by one with every change, across all gateway nodes sharing the database.
type Revision struct {
	Number    int64     `json:"number"`
	Author    string    `json:"author"`
	Message   string    `json:"message,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Config    []byte    `json:"-"`    // the whole configuration as JSON (secrets only as env:NAME refs)
	Diff      string    `json:"diff"` // human-readable diff against the previous revision
}

// Page size limits of ListRevisions.
const (
	DefaultRevisionLimit = 50
	MaxRevisionLimit     = 500
)

const revisionColumns = "number, author, message, created_us, config, diff"

func scanRevision(s interface{ Scan(...any) error }) (Revision, error) {
	var (
		r       Revision
		created int64
	)
	if err := s.Scan(&r.Number, &r.Author, &r.Message, &created, &r.Config, &r.Diff); err != nil {
		return Revision{}, err
	}
	r.CreatedAt = fromMicros(created)
	return r, nil
}

// AppendRevision stores r as the next revision: its Number is the previous
// highest plus one, assigned atomically even with concurrent callers on
// several nodes. r.Number is ignored; CreatedAt defaults to now. It returns
// the stored revision.
func (db *DB) AppendRevision(ctx context.Context, r Revision) (Revision, error) {
	r.CreatedAt = nowOr(r.CreatedAt)
	if r.Config == nil {
		r.Config = []byte{}
	}
	err := db.write(ctx, func(tx *sql.Tx) error { return db.insertRevision(ctx, tx, &r) })
	if err != nil {
		return Revision{}, fmt.Errorf("appending revision: %w", err)
	}
	r.CreatedAt = fromMicros(micros(r.CreatedAt))
	return r, nil
}

// insertRevision numbers r and inserts it within tx.
func (db *DB) insertRevision(ctx context.Context, tx *sql.Tx, r *Revision) error {
	if db.dialect == Postgres {
		// MAX()+1 under READ COMMITTED would hand two transactions the
		// same number. This lock mode conflicts with itself but not with
		// readers. SQLite needs nothing: its write transactions are
		// serial (BEGIN IMMEDIATE).
		if _, err := tx.ExecContext(ctx, "LOCK TABLE config_revisions IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM config_revisions").Scan(&r.Number); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO config_revisions ("+revisionColumns+") VALUES (?, ?, ?, ?, ?, ?)"),
		r.Number, r.Author, r.Message, micros(r.CreatedAt), r.Config, r.Diff)
	return err
}

// LatestRevision returns the newest revision, or ErrNotFound when there is none.
func (db *DB) LatestRevision(ctx context.Context) (Revision, error) {
	r, err := scanRevision(db.sql.QueryRowContext(ctx,
		"SELECT "+revisionColumns+" FROM config_revisions ORDER BY number DESC LIMIT 1"))
	if err != nil {
		return Revision{}, errNoRows(err, "latest revision")
	}
	return r, nil
}

// GetRevision returns revision n, or ErrNotFound.
func (db *DB) GetRevision(ctx context.Context, n int64) (Revision, error) {
	r, err := scanRevision(db.sql.QueryRowContext(ctx,
		db.Rebind("SELECT "+revisionColumns+" FROM config_revisions WHERE number = ?"), n))
	if err != nil {
		return Revision{}, errNoRows(err, fmt.Sprintf("revision %d", n))
	}
	return r, nil
}

// ListRevisions returns up to limit revisions (default 50, at most 500),
// newest first, numbered below before; before = 0 starts from the newest.
// Pass the last Number of one page as before to get the next.
func (db *DB) ListRevisions(ctx context.Context, limit int, before int64) ([]Revision, error) {
	if limit <= 0 {
		limit = DefaultRevisionLimit
	}
	limit = min(limit, MaxRevisionLimit)
	q := "SELECT " + revisionColumns + " FROM config_revisions"
	var args []any
	if before > 0 {
		q += " WHERE number < ?"
		args = append(args, before)
	}
	q += " ORDER BY number DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	defer rows.Close()
	out := []Revision{}
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, fmt.Errorf("listing revisions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	return out, nil
}
