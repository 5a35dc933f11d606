package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/feedback"
)

const publishableColumns = "id, consumer, name, prefix, hash, origins, created_us, revoked_us"

// CreatePublishableKey stores a publishable key (its hash, never the
// secret). A key whose ID or hash is already stored is ErrConflict.
// CreatedAt defaults to now.
func (db *DB) CreatePublishableKey(ctx context.Context, k feedback.PublishableKey) error {
	if k.ID == "" || k.Hash == "" || k.Consumer == "" {
		return fmt.Errorf("publishable key needs an id, a consumer and a hash: %w", ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO publishable_keys ("+publishableColumns+
			") VALUES (?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING"),
			k.ID, k.Consumer, k.Name, k.Prefix, k.Hash, strings.Join(k.Origins, ","), micros(nowOr(k.CreatedAt)))
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
		return fmt.Errorf("creating publishable key %q: %w", k.ID, err)
	}
	return nil
}

// ListPublishableKeys returns the publishable keys of one consumer, or of
// all when consumer is "", revoked ones included, oldest first.
func (db *DB) ListPublishableKeys(ctx context.Context, consumer string) ([]feedback.PublishableKey, error) {
	q := "SELECT " + publishableColumns + " FROM publishable_keys"
	var args []any
	if consumer != "" {
		q += " WHERE consumer = ?"
		args = append(args, consumer)
	}
	return db.queryPublishable(ctx, q+" ORDER BY created_us, id", args...)
}

// ActivePublishableKeys returns every publishable key not revoked: the set
// the gateway authenticates feedback posts against.
func (db *DB) ActivePublishableKeys(ctx context.Context) ([]feedback.PublishableKey, error) {
	return db.queryPublishable(ctx, "SELECT "+publishableColumns+" FROM publishable_keys WHERE revoked_us IS NULL ORDER BY created_us, id")
}

// GetPublishableKey returns one publishable key, revoked or not;
// ErrNotFound when there is none with that ID.
func (db *DB) GetPublishableKey(ctx context.Context, id string) (feedback.PublishableKey, error) {
	k, err := scanPublishable(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+publishableColumns+" FROM publishable_keys WHERE id = ?"), id))
	if err != nil {
		return feedback.PublishableKey{}, errNoRows(err, fmt.Sprintf("publishable key %q", id))
	}
	return k, nil
}

// RevokePublishableKey marks a publishable key revoked now. Revoking a
// revoked key keeps its first revocation time; an unknown ID is
// ErrNotFound.
func (db *DB) RevokePublishableKey(ctx context.Context, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE publishable_keys SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL"),
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
		if err := tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM publishable_keys WHERE id = ?"), id).Scan(&one); err != nil {
			return errNoRows(err, fmt.Sprintf("publishable key %q", id))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoking publishable key: %w", err)
	}
	return nil
}

func (db *DB) queryPublishable(ctx context.Context, q string, args ...any) ([]feedback.PublishableKey, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing publishable keys: %w", err)
	}
	defer rows.Close()
	out := []feedback.PublishableKey{}
	for rows.Next() {
		k, err := scanPublishable(rows)
		if err != nil {
			return nil, fmt.Errorf("listing publishable keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing publishable keys: %w", err)
	}
	return out, nil
}

func scanPublishable(row interface{ Scan(...any) error }) (feedback.PublishableKey, error) {
	var (
		k       feedback.PublishableKey
		origins string
		created int64
		revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Consumer, &k.Name, &k.Prefix, &k.Hash, &origins, &created, &revoked); err != nil {
		return feedback.PublishableKey{}, err
	}
	k.Origins = []string{}
	if origins != "" {
		k.Origins = strings.Split(origins, ",")
	}
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		t := fromMicros(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}
