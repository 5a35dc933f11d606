package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// insertKey inserts k in tx; a key whose ID or hash is already stored is
// ErrConflict.
func (db *DB) insertKey(ctx context.Context, tx *sql.Tx, k auth.Key) error {
	var revoked, expires any
	if k.RevokedAt != nil {
		revoked = micros(*k.RevokedAt)
	}
	if k.ExpiresAt != nil {
		expires = micros(*k.ExpiresAt)
	}
	// ON CONFLICT without a target covers both the id and the hash.
	res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO consumer_keys ("+keyColumns+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
		k.ID, k.Consumer, k.Name, k.Prefix, k.Hash, micros(nowOr(k.CreatedAt)), revoked, expires)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrConflict
	}
	return nil
}

func scanKey(row interface{ Scan(...any) error }) (auth.Key, error) {
	var (
		k                auth.Key
		created          int64
		revoked, expires sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Consumer, &k.Name, &k.Prefix, &k.Hash, &created, &revoked, &expires); err != nil {
		return auth.Key{}, err
	}
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		t := fromMicros(revoked.Int64)
		k.RevokedAt = &t
	}
	if expires.Valid {
		t := fromMicros(expires.Int64)
		k.ExpiresAt = &t
	}
	return k, nil
}

// GetKey returns one key, revoked or not; ErrNotFound when there is none
// with that ID.
func (db *DB) GetKey(ctx context.Context, id string) (auth.Key, error) {
	k, err := scanKey(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+keyColumns+" FROM consumer_keys WHERE id = ?"), id))
	if err != nil {
		return auth.Key{}, errNoRows(err, fmt.Sprintf("key %q", id))
	}
	return k, nil
}

// RotateKey stores next and sets the key oldID to expire at oldExpires (or
// at its own expiry, if that comes sooner), in one transaction: a
// rotation either happens whole or not at all. The old key must belong to
// next.Consumer and not be revoked (ErrNotFound and ErrConflict
// otherwise). It returns the old key as it now is.
func (db *DB) RotateKey(ctx context.Context, oldID string, next auth.Key, oldExpires time.Time) (auth.Key, error) {
	if next.ID == "" || next.Hash == "" || next.Consumer == "" {
		return auth.Key{}, fmt.Errorf("key needs an id, a consumer and a hash: %w", ErrInvalid)
	}
	var old auth.Key
	err := db.write(ctx, func(tx *sql.Tx) error {
		k, err := scanKey(tx.QueryRowContext(ctx, db.Rebind("SELECT "+keyColumns+" FROM consumer_keys WHERE id = ?"), oldID))
		if err != nil {
			return errNoRows(err, fmt.Sprintf("key %q", oldID))
		}
		switch {
		case k.Consumer != next.Consumer:
			return fmt.Errorf("key %q of consumer %q: %w", oldID, next.Consumer, ErrNotFound)
		case k.RevokedAt != nil:
			return fmt.Errorf("key %q is revoked: %w", oldID, ErrConflict)
		}
		exp := fromMicros(micros(oldExpires))
		if k.ExpiresAt == nil || exp.Before(*k.ExpiresAt) {
			if _, err := tx.ExecContext(ctx, db.Rebind("UPDATE consumer_keys SET expires_us = ? WHERE id = ?"), micros(exp), oldID); err != nil {
				return err
			}
			k.ExpiresAt = &exp
		}
		if err := db.insertKey(ctx, tx, next); err != nil {
			return err
		}
		old = k
		return nil
	})
	if err != nil {
		return auth.Key{}, fmt.Errorf("rotating key %q: %w", oldID, err)
	}
	return old, nil
}
