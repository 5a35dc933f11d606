package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

const tokenColumns = "id, name, role, team, consumer, prefix, hash, created_by, created_us, expires_us, last_used_us, revoked_us"

// CreateToken stores an API token (its hash, never the secret). A token
// whose ID or hash is already stored is ErrConflict. CreatedAt defaults to
// now.
func (db *DB) CreateToken(ctx context.Context, t auth.Token) error {
	if t.ID == "" || t.Hash == "" || t.Name == "" {
		return fmt.Errorf("token needs an id, a name and a hash: %w", ErrInvalid)
	}
	if err := auth.CheckBinding(t.Role, t.Team, t.Consumer); err != nil || t.Role == auth.RoleNone {
		return fmt.Errorf("%w: token role: %v", ErrInvalid, err)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO api_tokens ("+tokenColumns+
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
			t.ID, t.Name, string(t.Role), t.Team, t.Consumer, t.Prefix, t.Hash, t.CreatedBy, micros(nowOr(t.CreatedAt)),
			nullMicros(t.ExpiresAt), nullMicros(t.LastUsedAt), nullMicros(t.RevokedAt))
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
		return fmt.Errorf("creating token %q: %w", t.Name, err)
	}
	return nil
}

func scanToken(s interface{ Scan(...any) error }) (auth.Token, error) {
	var (
		t                      auth.Token
		role                   string
		created                int64
		expires, used, revoked sql.NullInt64
	)
	if err := s.Scan(&t.ID, &t.Name, &role, &t.Team, &t.Consumer, &t.Prefix, &t.Hash, &t.CreatedBy, &created,
		&expires, &used, &revoked); err != nil {
		return auth.Token{}, err
	}
	t.Role = auth.Role(role)
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(expires), timePtr(used), timePtr(revoked)
	return t, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// GetTokenByHash returns the token whose secret hashes to hash, revoked and
// expired ones included (the caller decides), or ErrNotFound.
func (db *DB) GetTokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+tokenColumns+" FROM api_tokens WHERE hash = ?"), hash))
	if err != nil {
		return auth.Token{}, errNoRows(err, "token")
	}
	return t, nil
}

// GetToken returns the token with the given ID, or ErrNotFound.
func (db *DB) GetToken(ctx context.Context, id string) (auth.Token, error) {
	t, err := scanToken(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+tokenColumns+" FROM api_tokens WHERE id = ?"), id))
	if err != nil {
		return auth.Token{}, errNoRows(err, fmt.Sprintf("token %q", id))
	}
	return t, nil
}

// ListTokens returns every API token, revoked and expired ones included,
// oldest first.
func (db *DB) ListTokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens ORDER BY created_us, id")
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	out := []auth.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked now. Revoking a revoked token keeps its
// first revocation time; an unknown ID is ErrNotFound.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE api_tokens SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL"),
			micros(time.Now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		return rowExists(tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM api_tokens WHERE id = ?"), id).Scan(&one), fmt.Sprintf("token %q", id))
	})
	if err != nil {
		return fmt.Errorf("revoking token: %w", err)
	}
	return nil
}

// TouchToken records that a token was used at; it never moves last use
// backwards. An unknown ID is ErrNotFound.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE api_tokens SET last_used_us = ? WHERE id = ? AND (last_used_us IS NULL OR last_used_us < ?)"),
			micros(at), id, micros(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		return rowExists(tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM api_tokens WHERE id = ?"), id).Scan(&one), fmt.Sprintf("token %q", id))
	})
	if err != nil {
		return fmt.Errorf("touching token: %w", err)
	}
	return nil
}
