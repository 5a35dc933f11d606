package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hypergate/hypergate/internal/catalog"
)

const subscriptionColumns = "id, consumer, service, state, reason, requested_by, decided_by, created_us, updated_us, decided_us"

// CreateSubscription stores a new subscription of s.Consumer to s.Service,
// or reopens theirs when it was rejected or revoked: it then takes s's
// state, reason, requester and decision, and keeps its ID and creation
// time. A subscription still pending or approved is returned unchanged
// with created false. ID, Consumer, Service and a valid State are required;
// CreatedAt and UpdatedAt default to now.
func (db *DB) CreateSubscription(ctx context.Context, s catalog.Subscription) (catalog.Subscription, bool, error) {
	if s.ID == "" || s.Consumer == "" || s.Service == "" || !s.State.Valid() {
		return catalog.Subscription{}, false, fmt.Errorf("subscription needs an id, a consumer, a service and a state: %w", ErrInvalid)
	}
	s.Source = catalog.SourceAPI
	s.CreatedAt = fromMicros(micros(nowOr(s.CreatedAt)))
	s.UpdatedAt = fromMicros(micros(nowOr(s.UpdatedAt)))
	var decided any
	if s.DecidedAt != nil {
		t := fromMicros(micros(*s.DecidedAt))
		s.DecidedAt = &t
		decided = micros(t)
	}
	var (
		out     catalog.Subscription
		created bool
	)
	err := db.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanSubscription(tx.QueryRowContext(ctx, db.Rebind("SELECT "+subscriptionColumns+
			" FROM subscriptions WHERE consumer = ? AND service = ?"), s.Consumer, s.Service))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO subscriptions ("+subscriptionColumns+
				") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
				s.ID, s.Consumer, s.Service, string(s.State), s.Reason, s.RequestedBy, s.DecidedBy,
				micros(s.CreatedAt), micros(s.UpdatedAt), decided)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				// The ID is taken, or another node inserted the same pair
				// between the read and the write (PostgreSQL).
				return ErrConflict
			}
			out, created = s, true
			return nil
		case err != nil:
			return err
		case cur.State == catalog.SubscriptionPending || cur.State == catalog.SubscriptionApproved:
			out = cur
			return nil
		}
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE subscriptions SET state = ?, reason = ?, requested_by = ?, decided_by = ?, updated_us = ?, decided_us = ?"+
			" WHERE id = ? AND state = ?"),
			string(s.State), s.Reason, s.RequestedBy, s.DecidedBy, micros(s.UpdatedAt), decided, cur.ID, string(cur.State))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrConflict
		}
		out = s
		out.ID, out.CreatedAt = cur.ID, cur.CreatedAt
		created = true
		return nil
	})
	if err != nil {
		return catalog.Subscription{}, false, fmt.Errorf("storing subscription of %s to %s: %w", s.Consumer, s.Service, err)
	}
	return out, created, nil
}

// GetSubscription returns one stored subscription; ErrNotFound when there
// is none with that ID.
func (db *DB) GetSubscription(ctx context.Context, id string) (catalog.Subscription, error) {
	s, err := scanSubscription(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+subscriptionColumns+" FROM subscriptions WHERE id = ?"), id))
	if err != nil {
		return catalog.Subscription{}, errNoRows(err, fmt.Sprintf("subscription %q", id))
	}
	return s, nil
}

// ListSubscriptions returns the stored subscriptions matching f, oldest
// first.
func (db *DB) ListSubscriptions(ctx context.Context, f catalog.SubscriptionFilter) ([]catalog.Subscription, error) {
	q := "SELECT " + subscriptionColumns + " FROM subscriptions WHERE 1 = 1"
	var args []any
	if f.State != "" {
		q += " AND state = ?"
		args = append(args, string(f.State))
	}
	if f.Service != "" {
		q += " AND service = ?"
		args = append(args, f.Service)
	}
	if f.Consumer != "" {
		q += " AND consumer = ?"
		args = append(args, f.Consumer)
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q+" ORDER BY created_us, id"), args...)
	if err != nil {
		return nil, fmt.Errorf("listing subscriptions: %w", err)
	}
	defer rows.Close()
	out := []catalog.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("listing subscriptions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing subscriptions: %w", err)
	}
	return out, nil
}

// DecideSubscription moves a subscription from d.From to d.To, recording
// the reason, the actor and the time. A subscription no longer in d.From
// (another decision came first) is ErrConflict; an unknown ID ErrNotFound.
func (db *DB) DecideSubscription(ctx context.Context, d catalog.SubscriptionDecision) (catalog.Subscription, error) {
	if !d.From.Valid() || !d.To.Valid() {
		return catalog.Subscription{}, fmt.Errorf("decision needs valid states: %w", ErrInvalid)
	}
	at := micros(nowOr(d.At))
	var out catalog.Subscription
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE subscriptions SET state = ?, reason = ?, decided_by = ?, decided_us = ?, updated_us = ?"+
			" WHERE id = ? AND state = ?"), string(d.To), d.Reason, d.Actor, at, at, d.ID, string(d.From))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		out, err = scanSubscription(tx.QueryRowContext(ctx, db.Rebind("SELECT "+subscriptionColumns+" FROM subscriptions WHERE id = ?"), d.ID))
		if err != nil {
			return errNoRows(err, fmt.Sprintf("subscription %q", d.ID))
		}
		if n == 0 {
			return fmt.Errorf("subscription %s is %s, not %s: %w", d.ID, out.State, d.From, ErrConflict)
		}
		return nil
	})
	if err != nil {
		return catalog.Subscription{}, fmt.Errorf("deciding subscription: %w", err)
	}
	return out, nil
}

func scanSubscription(row interface{ Scan(...any) error }) (catalog.Subscription, error) {
	var (
		s                catalog.Subscription
		state            string
		created, updated int64
		decided          sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.Consumer, &s.Service, &state, &s.Reason, &s.RequestedBy, &s.DecidedBy, &created, &updated, &decided); err != nil {
		return catalog.Subscription{}, err
	}
	s.State, s.Source = catalog.SubscriptionState(state), catalog.SourceAPI
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	if decided.Valid {
		t := fromMicros(decided.Int64)
		s.DecidedAt = &t
	}
	return s, nil
}
