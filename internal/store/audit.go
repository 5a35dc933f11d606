package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/auth"
)

// Page size limits of ListAudit.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 500
)

const auditColumns = "id, time_us, actor, action, target, team, summary, diff, client_ip, request_id"

// AppendAudit stores an audit entry and returns it as stored. ID defaults
// to a new time-ordered one and Time to now; Actor and Action are required.
func (db *DB) AppendAudit(ctx context.Context, e auth.AuditEntry) (auth.AuditEntry, error) {
	if e.Actor == "" || e.Action == "" {
		return auth.AuditEntry{}, fmt.Errorf("audit entry needs an actor and an action: %w", ErrInvalid)
	}
	e.Time = fromMicros(micros(nowOr(e.Time)))
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return auth.AuditEntry{}, fmt.Errorf("audit entry id: %w", err)
		}
		e.ID = "aud_" + id.String()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO audit_log ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
			e.ID, micros(e.Time), e.Actor, e.Action, e.Target, e.Team, e.Summary, e.Diff, e.ClientIP, e.RequestID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrConflict
		}
		return nil
	})
	if err != nil {
		return auth.AuditEntry{}, fmt.Errorf("appending audit entry %s: %w", e.Action, err)
	}
	return e, nil
}

// ListAudit returns one page of audit entries matching f, newest first.
// A Cursor not produced by this method is ErrInvalid.
func (db *DB) ListAudit(ctx context.Context, f auth.AuditFilter) (auth.AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	var (
		where []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("actor", f.Actor)
	eq("target", f.Target)
	eq("team", f.Team)
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok && prefix != "" {
		// A range rather than LIKE: no wildcard escaping, and it uses the
		// byte order both databases compare these columns in. '/' follows
		// '.' in ASCII.
		where = append(where, "action > ? AND action < ?")
		args = append(args, prefix+".", prefix+"/")
	} else {
		eq("action", f.Action)
	}
	if !f.Since.IsZero() {
		where = append(where, "time_us >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, "time_us < ?")
		args = append(args, f.Until.UnixMicro())
	}
	if f.Cursor != "" {
		us, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return auth.AuditPage{}, err
		}
		where = append(where, "(time_us, id) < (?, ?)")
		args = append(args, us, id)
	}
	q := "SELECT " + auditColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time_us DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return auth.AuditPage{}, fmt.Errorf("listing audit entries: %w", err)
	}
	defer rows.Close()
	page := auth.AuditPage{Entries: []auth.AuditEntry{}}
	for rows.Next() {
		var (
			e  auth.AuditEntry
			us int64
		)
		if err := rows.Scan(&e.ID, &us, &e.Actor, &e.Action, &e.Target, &e.Team, &e.Summary, &e.Diff, &e.ClientIP, &e.RequestID); err != nil {
			return auth.AuditPage{}, fmt.Errorf("listing audit entries: %w", err)
		}
		e.Time = fromMicros(us)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return auth.AuditPage{}, fmt.Errorf("listing audit entries: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		last := page.Entries[limit-1]
		page.Next = encodeCursor(micros(last.Time), last.ID)
	}
	return page, nil
}
