package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

const keyColumns = "id, consumer, name, prefix, hash, created_us, revoked_us, expires_us"

// CreateKey stores a consumer key (its hash, never the secret). A key whose
// ID or hash is already stored is ErrConflict. CreatedAt defaults to now.
func (db *DB) CreateKey(ctx context.Context, k auth.Key) error {
	if k.ID == "" || k.Hash == "" || k.Consumer == "" {
		return fmt.Errorf("key needs an id, a consumer and a hash: %w", ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error { return db.insertKey(ctx, tx, k) })
	if err != nil {
		return fmt.Errorf("creating key %q: %w", k.ID, err)
	}
	return nil
}

// ListKeys returns the keys of one consumer, or of all consumers when
// consumer is "", revoked ones included, oldest first.
func (db *DB) ListKeys(ctx context.Context, consumer string) ([]auth.Key, error) {
	q := "SELECT " + keyColumns + " FROM consumer_keys"
	var args []any
	if consumer != "" {
		q += " WHERE consumer = ?"
		args = append(args, consumer)
	}
	return db.queryKeys(ctx, q+" ORDER BY created_us, id", args...)
}

// ActiveKeys returns every key that is not revoked, oldest first: the set
// the gateway authenticates against. Expired keys are included, so that
// the data plane can tell their callers why they are refused.
func (db *DB) ActiveKeys(ctx context.Context) ([]auth.Key, error) {
	return db.queryKeys(ctx, "SELECT "+keyColumns+" FROM consumer_keys WHERE revoked_us IS NULL ORDER BY created_us, id")
}

func (db *DB) queryKeys(ctx context.Context, q string, args ...any) ([]auth.Key, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()
	out := []auth.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return out, nil
}

// RevokeKey marks a key revoked now. Revoking a revoked key keeps its first
// revocation time; an unknown ID is ErrNotFound.
func (db *DB) RevokeKey(ctx context.Context, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE consumer_keys SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL"),
			time.Now().UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM consumer_keys WHERE id = ?"), id).Scan(&one)
		if err != nil {
			return errNoRows(err, fmt.Sprintf("key %q", id))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoking key: %w", err)
	}
	return nil
}
