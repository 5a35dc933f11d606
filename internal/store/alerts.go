package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
)

var _ alert.Store = (*DB)(nil)

// InsertAlertEvents records alert transitions in one transaction.
func (db *DB) InsertAlertEvents(ctx context.Context, evs []alert.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		q := db.Rebind("INSERT INTO alert_events (id, time_us, rule, labels, from_state, to_state, severity, value, silenced)" +
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
		for _, ev := range evs {
			if ev.ID == "" || ev.Rule == "" {
				return fmt.Errorf("alert event needs an id and a rule: %w", ErrInvalid)
			}
			labels, err := json.Marshal(nonNilLabels(ev.Labels))
			if err != nil {
				return err
			}
			var value any
			if ev.Value != nil {
				value = *ev.Value
			}
			if _, err := tx.ExecContext(ctx, q, ev.ID, micros(nowOr(ev.Time)), ev.Rule, string(labels), string(ev.From),
				string(ev.To), string(ev.Severity), value, ev.Silenced); err != nil {
				return fmt.Errorf("inserting alert event: %w", err)
			}
		}
		return nil
	})
}

func nonNilLabels(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}

// AlertEvents returns the alert transitions q selects, newest first.
func (db *DB) AlertEvents(ctx context.Context, q alert.EventQuery) ([]alert.Event, error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = alert.DefaultEvents
	case limit < 0 || limit > alert.MaxEvents:
		return nil, fmt.Errorf("limit must be 1 to %d: %w", alert.MaxEvents, ErrInvalid)
	}
	query := "SELECT id, time_us, rule, labels, from_state, to_state, severity, value, silenced FROM alert_events WHERE 1 = 1"
	var args []any
	if q.Rule != "" {
		query += " AND rule = ?"
		args = append(args, q.Rule)
	}
	if !q.Since.IsZero() {
		query += " AND time_us >= ?"
		args = append(args, micros(q.Since))
	}
	if !q.Before.IsZero() {
		query += " AND time_us < ?"
		args = append(args, micros(q.Before))
	}
	query += " ORDER BY time_us DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing alert events: %w", err)
	}
	defer rows.Close()
	out := []alert.Event{}
	for rows.Next() {
		var (
			ev           alert.Event
			at           int64
			labels       string
			from, to, sv string
			value        sql.NullFloat64
		)
		if err := rows.Scan(&ev.ID, &at, &ev.Rule, &labels, &from, &to, &sv, &value, &ev.Silenced); err != nil {
			return nil, fmt.Errorf("reading alert event: %w", err)
		}
		if err := json.Unmarshal([]byte(labels), &ev.Labels); err != nil {
			return nil, fmt.Errorf("decoding alert event %s labels: %w", ev.ID, err)
		}
		ev.Time, ev.From, ev.To, ev.Severity = fromMicros(at), alert.State(from), alert.State(to), alert.Severity(sv)
		if value.Valid {
			v := value.Float64
			ev.Value = &v
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// InsertSilence stores a new silence; it must be valid.
func (db *DB) InsertSilence(ctx context.Context, s alert.Silence) error {
	if s.ID == "" {
		return fmt.Errorf("silence needs an id: %w", ErrInvalid)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	matchers, err := json.Marshal(s.Matchers)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO alert_silences (id, matchers, start_us, end_us, author, comment, created_us)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?)"), s.ID, string(matchers), micros(s.Start), micros(s.End), s.Author, s.Comment,
			micros(nowOr(s.CreatedAt)))
		if err != nil {
			return fmt.Errorf("inserting silence: %w", err)
		}
		return nil
	})
}

// Silences returns the silences that end after t (every one when t is
// zero), by start.
func (db *DB) Silences(ctx context.Context, t time.Time) ([]alert.Silence, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT id, matchers, start_us, end_us, author, comment, created_us"+
		" FROM alert_silences WHERE end_us > ? ORDER BY start_us, id"), micros(t))
	if err != nil {
		return nil, fmt.Errorf("listing silences: %w", err)
	}
	defer rows.Close()
	out := []alert.Silence{}
	for rows.Next() {
		var (
			s                     alert.Silence
			matchers              string
			start, end, createdUS int64
		)
		if err := rows.Scan(&s.ID, &matchers, &start, &end, &s.Author, &s.Comment, &createdUS); err != nil {
			return nil, fmt.Errorf("reading silence: %w", err)
		}
		if err := json.Unmarshal([]byte(matchers), &s.Matchers); err != nil {
			return nil, fmt.Errorf("decoding silence %s matchers: %w", s.ID, err)
		}
		s.Start, s.End, s.CreatedAt = fromMicros(start), fromMicros(end), fromMicros(createdUS)
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSilence removes a silence; ErrNotFound when there is none of id.
func (db *DB) DeleteSilence(ctx context.Context, id string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM alert_silences WHERE id = ?"), id)
		if err != nil {
			return fmt.Errorf("deleting silence: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("silence %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// PruneAlerts deletes the alert transitions recorded before t and the
// silences that ended before it.
func (db *DB) PruneAlerts(ctx context.Context, t time.Time) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM alert_events WHERE time_us < ?"), micros(t)); err != nil {
			return fmt.Errorf("pruning alert events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM alert_silences WHERE end_us < ?"), micros(t)); err != nil {
			return fmt.Errorf("pruning silences: %w", err)
		}
		return nil
	})
}
