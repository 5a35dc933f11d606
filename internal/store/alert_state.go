package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hypergate/hypergate/internal/alert"
)

var _ alert.StateStore = (*DB)(nil)

const alertStateColumns = "rule, labels_key, rule_hash, labels, state, severity, value, requests, since_us, active_since_us, last_active_us, last_eval_us"

// AlertStates returns every stored alert group, by rule and key.
func (db *DB) AlertStates(ctx context.Context) ([]alert.GroupState, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+alertStateColumns+" FROM alert_state ORDER BY rule, labels_key")
	if err != nil {
		return nil, fmt.Errorf("listing alert states: %w", err)
	}
	defer rows.Close()
	out := []alert.GroupState{}
	for rows.Next() {
		var (
			s                                        alert.GroupState
			labels, state, severity                  string
			value                                    sql.NullFloat64
			since, activeSince, lastActive, lastEval int64
		)
		if err := rows.Scan(&s.Rule, &s.Key, &s.RuleHash, &labels, &state, &severity, &value, &s.Requests,
			&since, &activeSince, &lastActive, &lastEval); err != nil {
			return nil, fmt.Errorf("reading alert state: %w", err)
		}
		if err := json.Unmarshal([]byte(labels), &s.Labels); err != nil {
			return nil, fmt.Errorf("decoding alert state %s labels: %w", s.Rule, err)
		}
		s.State, s.Severity = alert.State(state), alert.Severity(severity)
		if value.Valid {
			v := value.Float64
			s.Value = &v
		}
		s.Since, s.ActiveSince, s.LastActive, s.LastEval = fromMicros(since), fromMicros(activeSince), fromMicros(lastActive), fromMicros(lastEval)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SaveAlertStates applies what one evaluation changed in one transaction:
// the groups to write, those to remove and the rules whose stored groups
// were all evaluated at c.EvaluatedAt.
func (db *DB) SaveAlertStates(ctx context.Context, c alert.StateChange) error {
	for _, s := range c.Put {
		if s.Rule == "" || s.Key == "" || s.State == "" {
			return fmt.Errorf("alert state needs a rule, a key and a state: %w", ErrInvalid)
		}
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		del := db.Rebind("DELETE FROM alert_state WHERE rule = ? AND labels_key = ?")
		for _, s := range c.Delete {
			if _, err := tx.ExecContext(ctx, del, s.Rule, s.Key); err != nil {
				return fmt.Errorf("deleting alert state: %w", err)
			}
		}
		put := db.Rebind("INSERT INTO alert_state (" + alertStateColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" +
			" ON CONFLICT (rule, labels_key) DO UPDATE SET rule_hash = excluded.rule_hash, labels = excluded.labels," +
			" state = excluded.state, severity = excluded.severity, value = excluded.value, requests = excluded.requests," +
			" since_us = excluded.since_us, active_since_us = excluded.active_since_us," +
			" last_active_us = excluded.last_active_us, last_eval_us = excluded.last_eval_us")
		for _, s := range c.Put {
			labels, err := json.Marshal(nonNilLabels(s.Labels))
			if err != nil {
				return err
			}
			var value any
			if s.Value != nil {
				value = *s.Value
			}
			if _, err := tx.ExecContext(ctx, put, s.Rule, s.Key, s.RuleHash, string(labels), string(s.State),
				string(s.Severity), value, s.Requests, micros(s.Since), micros(s.ActiveSince), micros(s.LastActive),
				micros(s.LastEval)); err != nil {
				return fmt.Errorf("writing alert state: %w", err)
			}
		}
		touch := db.Rebind("UPDATE alert_state SET last_eval_us = ? WHERE rule = ?")
		for _, rule := range c.Evaluated {
			if _, err := tx.ExecContext(ctx, touch, micros(c.EvaluatedAt), rule); err != nil {
				return fmt.Errorf("recording the evaluation of alert %s: %w", rule, err)
			}
		}
		return nil
	})
}
