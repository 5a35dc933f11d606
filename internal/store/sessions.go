package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

const sessionColumns = "id, user_id, created_us, last_seen_us, expires_us, client_ip, user_agent"

// CreateSession stores a session (its ID is the hash of the secret). An ID
// already stored is ErrConflict; an unknown user is ErrNotFound.
func (db *DB) CreateSession(ctx context.Context, s auth.Session) error {
	if s.ID == "" || s.UserID == "" || s.ExpiresAt.IsZero() {
		return fmt.Errorf("session needs an id, a user and an expiry: %w", ErrInvalid)
	}
	created := nowOr(s.CreatedAt)
	seen := s.LastSeenAt
	if seen.IsZero() {
		seen = created
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM users WHERE id = ?"), s.UserID).Scan(&one); err != nil {
			return errNoRows(err, fmt.Sprintf("user %q", s.UserID))
		}
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
			s.ID, s.UserID, micros(created), micros(seen), micros(s.ExpiresAt), s.ClientIP, s.UserAgent)
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
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// GetSession returns the session with the given ID, expired or not, or
// ErrNotFound.
func (db *DB) GetSession(ctx context.Context, id string) (auth.Session, error) {
	var (
		s                      auth.Session
		created, seen, expires int64
	)
	err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+sessionColumns+" FROM sessions WHERE id = ?"), id).
		Scan(&s.ID, &s.UserID, &created, &seen, &expires, &s.ClientIP, &s.UserAgent)
	if err != nil {
		return auth.Session{}, errNoRows(err, "session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return s, nil
}

// TouchSession records that a session was used at, sliding its idle
// timeout; it never moves last use backwards. An unknown ID is ErrNotFound.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE sessions SET last_seen_us = ? WHERE id = ? AND last_seen_us < ?"),
			micros(at), id, micros(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		return rowExists(tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM sessions WHERE id = ?"), id).Scan(&one), "session")
	})
	if err != nil {
		return fmt.Errorf("touching session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; an unknown ID is ErrNotFound.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return db.deleteWhere(ctx, "DELETE FROM sessions WHERE id = ?", id, "session")
}

// DeleteUserSessions ends every session of a user (password changed, user
// disabled) and returns how many there were.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM sessions WHERE user_id = ?"), userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of user %q: %w", userID, err)
	}
	return n, nil
}

// DeleteSessionsIdleSince deletes the sessions that expired before now or
// were last used before idleSince, and returns how many.
func (db *DB) DeleteSessionsIdleSince(ctx context.Context, idleSince, now time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM sessions WHERE expires_us <= ? OR last_seen_us < ?"),
			micros(now), micros(idleSince))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting ended sessions: %w", err)
	}
	return n, nil
}

// deleteWhere runs a one-argument DELETE and turns "no row" into ErrNotFound.
func (db *DB) deleteWhere(ctx context.Context, q string, arg any, what string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(q), arg)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting %s: %w", what, err)
	}
	return nil
}

// rowExists turns the error of a one-row existence query into nil when the
// row was found and ErrNotFound when it was not.
func rowExists(err error, what string) error {
	if err == nil {
		return nil
	}
	return errNoRows(err, what)
}
