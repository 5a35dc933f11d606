package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
)

var _ alert.Leases = (*DB)(nil)

// AcquireLease gives the lease name to holder until now + ttl when it is
// free, expired or holder's already (renewing it), and reports whether
// holder has it. now is the caller's clock, so expiry is judged by the
// nodes' clocks and not the database's; ttl should dwarf their skew.
//
// One statement decides, and the rows it changed say who won: an insert
// when there is no row, an update when the row's lease is holder's or has
// expired, nothing otherwise. PostgreSQL locks the conflicting row and
// checks the condition on its latest version, so of concurrent callers
// exactly one changes it; SQLite has one writer at a time.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("a lease needs a name, a holder and a positive duration: %w", ErrInvalid)
	}
	var won bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO leases (name, holder, expires_us) VALUES (?, ?, ?)"+
			" ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us"+
			" WHERE leases.holder = excluded.holder OR leases.expires_us <= ?"),
			name, holder, micros(now.Add(ttl)), micros(now))
		if err != nil {
			return fmt.Errorf("acquiring lease %s: %w", name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("acquiring lease %s: %w", name, err)
		}
		won = n == 1
		return nil
	})
	return won, err
}

// ReleaseLease frees the lease name if holder has it, so that another
// holder may take it at once; otherwise it does nothing.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM leases WHERE name = ? AND holder = ?"), name, holder); err != nil {
			return fmt.Errorf("releasing lease %s: %w", name, err)
		}
		return nil
	})
}
