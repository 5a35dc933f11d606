package store

import (
	"context"
	"database/sql"
	"fmt"
)

// GetSetting returns a stored setting, or ErrNotFound.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, db.Rebind("SELECT value FROM settings WHERE name = ?"), key).Scan(&v)
	if err != nil {
		return "", errNoRows(err, fmt.Sprintf("setting %q", key))
	}
	return v, nil
}

// SetSetting stores value under key, replacing any previous value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind(
			"INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
			key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing setting %q: %w", key, err)
	}
	return nil
}

// SetSettingIfAbsent stores value only if key has none yet and returns the
// value now stored: the first writer wins, even across gateway nodes, which
// is what generating the initial admin token on first start needs.
func (db *DB) SetSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Rebind(
			"INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"), key, value); err != nil {
			return err
		}
		// In PostgreSQL the insert above waited for any concurrent writer of
		// the key to commit, so this read sees the winner's value.
		return tx.QueryRowContext(ctx, db.Rebind("SELECT value FROM settings WHERE name = ?"), key).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("storing setting %q: %w", key, err)
	}
	return stored, nil
}
