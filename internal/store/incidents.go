package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/triage"
)

var _ triage.Store = (*DB)(nil)

// incidentCols are the columns scanIncident reads, in its order.
const incidentCols = "id, fingerprint, kind, service, route, endpoint, provider, model, status_class, error_code, message, " +
	"flag, finish_reason, score, severity, state, regressed, regressions, first_seen_us, last_seen_us, count, consumers, " +
	"end_users, state_us, state_by, resolved_us"

func scanIncident(row interface{ Scan(...any) error }) (triage.Incident, error) {
	var (
		inc                              triage.Incident
		kind, sev, state                 string
		first, last, stateUS, resolvedUS int64
	)
	err := row.Scan(&inc.ID, &inc.Fingerprint, &kind, &inc.Service, &inc.Route, &inc.Endpoint, &inc.Provider, &inc.Model,
		&inc.StatusClass, &inc.ErrorCode, &inc.Message, &inc.Flag, &inc.FinishReason, &inc.Score, &sev, &state,
		&inc.Regressed, &inc.Regressions, &first, &last, &inc.Count, &inc.Consumers, &inc.EndUsers, &stateUS,
		&inc.StateBy, &resolvedUS)
	if err != nil {
		return inc, err
	}
	inc.Kind, inc.Severity, inc.State = triage.Kind(kind), triage.Severity(sev), triage.State(state)
	inc.FirstSeen, inc.LastSeen, inc.StateChanged = fromMicros(first), fromMicros(last), fromMicros(stateUS)
	if resolvedUS != 0 {
		t := fromMicros(resolvedUS)
		inc.ResolvedAt = &t
	}
	inc.Title = inc.Key.Title()
	inc.Trend = triage.NewTrend(0, 0)
	inc.Priority = triage.Priority(inc.Severity, inc.Consumers, inc.EndUsers, 0)
	return inc, nil
}

// RecordIncidents adds each group to its fingerprint's incident in one
// transaction: one upsert per group, under the unique constraint on the
// fingerprint, so that concurrent batches and several nodes sharing a
// PostgreSQL database still make exactly one incident per fingerprint.
// Groups are taken in fingerprint order (as triage.Aggregate sorts them)
// so that concurrent writers lock rows in the same order.
//
// A resolved incident whose group has a call after its resolution reopens
// as a regression; an acknowledged or ignored one keeps its state. The
// distinct consumers and end users are counted exactly, through a row per
// incident and value in incident_subjects. A group with Once set counts
// only the first time its key is seen for the incident.
func (db *DB) RecordIncidents(ctx context.Context, groups []triage.Group) ([]triage.Change, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	groups = slices.Clone(groups)
	slices.SortStableFunc(groups, func(a, b triage.Group) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	var changes []triage.Change
	err := db.write(ctx, func(tx *sql.Tx) error {
		changes = changes[:0]
		byID := map[string]int{}
		for _, g := range groups {
			c, counted, err := db.recordGroup(ctx, tx, g)
			if err != nil {
				return err
			}
			if !counted {
				continue
			}
			if i, ok := byID[c.Incident.ID]; ok {
				prev := changes[i]
				c.New, c.Regressed = c.New || prev.New, c.Regressed || prev.Regressed
				changes[i] = c
				continue
			}
			byID[c.Incident.ID] = len(changes)
			changes = append(changes, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

func (db *DB) recordGroup(ctx context.Context, tx *sql.Tx, g triage.Group) (triage.Change, bool, error) {
	if g.Fingerprint == "" || g.Count <= 0 {
		return triage.Change{}, false, fmt.Errorf("incident group needs a fingerprint and a count: %w", ErrInvalid)
	}
	now := time.Now()
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	sel := db.Rebind("SELECT id, state, resolved_us FROM incidents WHERE fingerprint = ?" + lock)
	var (
		id, state  string
		resolvedUS int64
		created    bool
	)
	err := tx.QueryRowContext(ctx, sel, g.Fingerprint).Scan(&id, &state, &resolvedUS)
	if errors.Is(err, sql.ErrNoRows) {
		id = g.ID
		if id == "" {
			id = triage.NewID("inc_")
		}
		k := g.Key
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO incidents (id, fingerprint, kind, service, route, endpoint, provider, "+
			"model, status_class, error_code, message, flag, finish_reason, score, severity, state, first_seen_us, last_seen_us, "+
			"state_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING"),
			id, g.Fingerprint, string(k.Kind), k.Service, k.Route, k.Endpoint, k.Provider, k.Model, k.StatusClass, k.ErrorCode,
			k.Message, k.Flag, k.FinishReason, k.Score, string(g.Severity), string(triage.StateOpen), micros(g.First),
			micros(g.Last), micros(now))
		if err != nil {
			return triage.Change{}, false, fmt.Errorf("inserting incident: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			created, state = true, string(triage.StateOpen)
		} else if err := tx.QueryRowContext(ctx, sel, g.Fingerprint).Scan(&id, &state, &resolvedUS); err != nil {
			// Another writer inserted it first (PostgreSQL waited for its
			// commit): take its row.
			return triage.Change{}, false, fmt.Errorf("reading incident: %w", err)
		}
	} else if err != nil {
		return triage.Change{}, false, fmt.Errorf("reading incident: %w", err)
	}

	addSubject := db.Rebind("INSERT INTO incident_subjects (incident_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
	if g.Once != "" {
		res, err := tx.ExecContext(ctx, addSubject, id, "once", g.Once)
		if err != nil {
			return triage.Change{}, false, fmt.Errorf("recording incident key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return triage.Change{}, false, nil
		}
	}
	count := func(kind string, values []string) (int64, error) {
		var added int64
		for _, v := range values {
			res, err := tx.ExecContext(ctx, addSubject, id, kind, v)
			if err != nil {
				return 0, fmt.Errorf("recording incident %s: %w", kind, err)
			}
			n, _ := res.RowsAffected()
			added += n
		}
		return added, nil
	}
	consumers, err := count("consumer", g.Consumers)
	if err != nil {
		return triage.Change{}, false, err
	}
	users, err := count("end_user", g.EndUsers)
	if err != nil {
		return triage.Change{}, false, err
	}
	hour := db.Rebind("INSERT INTO incident_hours (incident_id, hour_us, count) VALUES (?, ?, ?) " +
		"ON CONFLICT (incident_id, hour_us) DO UPDATE SET count = incident_hours.count + excluded.count")
	for _, h := range g.Hours {
		if _, err := tx.ExecContext(ctx, hour, id, micros(h.Hour.Truncate(time.Hour)), h.Count); err != nil {
			return triage.Change{}, false, fmt.Errorf("counting incident hour: %w", err)
		}
	}
	if len(g.Samples) > 0 {
		sample := db.Rebind("INSERT INTO incident_samples (incident_id, request_id, time_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
		for _, s := range g.Samples {
			if _, err := tx.ExecContext(ctx, sample, id, s.RequestID, micros(s.Time)); err != nil {
				return triage.Change{}, false, fmt.Errorf("recording incident sample: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM incident_samples WHERE incident_id = ? AND request_id NOT IN "+
			"(SELECT request_id FROM incident_samples WHERE incident_id = ? ORDER BY time_us DESC, request_id DESC LIMIT ?)"),
			id, id, triage.MaxSamples); err != nil {
			return triage.Change{}, false, fmt.Errorf("pruning incident samples: %w", err)
		}
	}

	// A call from before the resolution (a late record, a replayed spill
	// file) does not reopen it.
	regress := !created && triage.State(state) == triage.StateResolved && micros(g.Last) > resolvedUS
	upd := "UPDATE incidents SET count = count + ?, consumers = consumers + ?, end_users = end_users + ?, severity = ?, " +
		"first_seen_us = CASE WHEN first_seen_us > ? THEN ? ELSE first_seen_us END, " +
		"last_seen_us = CASE WHEN last_seen_us < ? THEN ? ELSE last_seen_us END"
	args := []any{g.Count, consumers, users, string(g.Severity), micros(g.First), micros(g.First), micros(g.Last), micros(g.Last)}
	if regress {
		upd += ", state = ?, regressed = TRUE, regressions = regressions + 1, state_us = ?, state_by = ?"
		args = append(args, string(triage.StateOpen), micros(now), "triage")
	}
	args = append(args, id)
	if _, err := tx.ExecContext(ctx, db.Rebind(upd+" WHERE id = ?"), args...); err != nil {
		return triage.Change{}, false, fmt.Errorf("updating incident: %w", err)
	}
	inc, err := scanIncident(tx.QueryRowContext(ctx, db.Rebind("SELECT "+incidentCols+" FROM incidents WHERE id = ?"), id))
	if err != nil {
		return triage.Change{}, false, fmt.Errorf("reading incident: %w", err)
	}
	return triage.Change{Incident: inc, New: created, Regressed: regress}, true, nil
}

// maxIncidentScan bounds how many incidents a listing ranks: the most
// recently seen. Ranking by priority needs the 24-hour counts, which
// change with the clock, so it happens here rather than in SQL.
const maxIncidentScan = 10000

// ListIncidents returns the incidents f selects, ranked by f.Sort
// (priority by default), with their 24-hour counts, trends, priorities
// and shares of their routes' traffic, at now.
func (db *DB) ListIncidents(ctx context.Context, f triage.Filter, now time.Time) ([]triage.Incident, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = triage.DefaultLimit
	case limit < 0 || limit > triage.MaxLimit:
		return nil, fmt.Errorf("limit must be 1 to %d: %w", triage.MaxLimit, ErrInvalid)
	}
	sortBy := cmp.Or(f.Sort, triage.SortPriority)
	switch sortBy {
	case triage.SortPriority, triage.SortLastSeen, triage.SortFirstSeen, triage.SortCount:
	default:
		return nil, fmt.Errorf("sort must be priority, last_seen, first_seen or count: %w", ErrInvalid)
	}
	q := "SELECT " + incidentCols + " FROM incidents WHERE 1 = 1"
	var args []any
	for _, c := range []struct{ col, v string }{{"state", string(f.State)}, {"service", f.Service}, {"model", f.Model},
		{"kind", string(f.Kind)}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Scoped {
		if len(f.Consumers) == 0 && len(f.Services) == 0 {
			return []triage.Incident{}, nil
		}
		var or []string
		if len(f.Services) > 0 {
			or = append(or, "service IN ("+placeholders(len(f.Services))+")")
			for _, s := range f.Services {
				args = append(args, s)
			}
		}
		if len(f.Consumers) > 0 {
			or = append(or, "id IN (SELECT incident_id FROM incident_subjects WHERE kind = 'consumer' AND value IN ("+
				placeholders(len(f.Consumers))+"))")
			for _, c := range f.Consumers {
				args = append(args, c)
			}
		}
		q += " AND (" + strings.Join(or, " OR ") + ")"
	}
	q += " ORDER BY last_seen_us DESC, id DESC LIMIT ?"
	args = append(args, maxIncidentScan)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	var out []triage.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing incidents: %w", err)
		}
		out = append(out, inc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	if err := db.rankIncidents(ctx, out, now); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b triage.Incident) int {
		switch sortBy {
		case triage.SortLastSeen:
			return b.LastSeen.Compare(a.LastSeen)
		case triage.SortFirstSeen:
			return b.FirstSeen.Compare(a.FirstSeen)
		case triage.SortCount:
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), b.LastSeen.Compare(a.LastSeen))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		if err := db.shareOf(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []triage.Incident{}
	}
	return out, nil
}

// rankIncidents fills in the 24-hour counts, trends and priorities from the
// hourly counts, in one query for all of them.
func (db *DB) rankIncidents(ctx context.Context, incs []triage.Incident, now time.Time) error {
	if len(incs) == 0 {
		return nil
	}
	cur := now.UTC().Truncate(time.Hour)
	prev, since := cur.Add(-time.Hour), cur.Add(-23*time.Hour)
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT incident_id, SUM(count), "+
		"SUM(CASE WHEN hour_us = ? THEN count ELSE 0 END), SUM(CASE WHEN hour_us = ? THEN count ELSE 0 END) "+
		"FROM incident_hours WHERE hour_us >= ? AND hour_us <= ? GROUP BY incident_id"),
		micros(cur), micros(prev), micros(since), micros(cur))
	if err != nil {
		return fmt.Errorf("reading incident hours: %w", err)
	}
	defer rows.Close()
	type counts struct{ recent, last, prev int64 }
	by := map[string]counts{}
	for rows.Next() {
		var id string
		var c counts
		if err := rows.Scan(&id, &c.recent, &c.last, &c.prev); err != nil {
			return fmt.Errorf("reading incident hours: %w", err)
		}
		by[id] = c
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading incident hours: %w", err)
	}
	for i := range incs {
		c := by[incs[i].ID]
		incs[i].Recent = c.recent
		incs[i].Trend = triage.NewTrend(c.last, c.prev)
		incs[i].Priority = triage.Priority(incs[i].Severity, incs[i].Consumers, incs[i].EndUsers, c.recent)
	}
	return nil
}

// shareOf sets the incident's share of its route's traffic: its count over
// the calls of the same service and route (and, for calls through the /v1
// endpoints, which have no service, of the same model) in the hourly
// rollups from the hour it was first seen to the hour it was last seen.
// Left nil when the rollups have no such calls (pruned, or rebuilt since).
func (db *DB) shareOf(ctx context.Context, inc *triage.Incident) error {
	q := "SELECT COALESCE(SUM(requests), 0) FROM rollups WHERE resolution = 3600 AND bucket >= ? AND bucket <= ? " +
		"AND service = ? AND route = ?"
	args := []any{inc.FirstSeen.Truncate(time.Hour).Unix(), inc.LastSeen.Truncate(time.Hour).Unix(), inc.Service, inc.Route}
	if inc.Service == "" {
		q += " AND model = ?"
		args = append(args, inc.Model)
	}
	var total int64
	if err := db.sql.QueryRowContext(ctx, db.Rebind(q), args...).Scan(&total); err != nil {
		return fmt.Errorf("reading the route's traffic: %w", err)
	}
	if total > 0 {
		s := min(float64(inc.Count)/float64(total), 1)
		inc.Share = &s
	}
	return nil
}

// maxIncidentHours bounds the hourly counts a detail shows: the last 30
// days.
const maxIncidentHours = 30 * 24

// GetIncident returns an incident with its samples, notes and hourly
// counts, ranked at now; ErrNotFound when there is none with that id.
func (db *DB) GetIncident(ctx context.Context, id string, now time.Time) (triage.Detail, error) {
	inc, err := scanIncident(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+incidentCols+" FROM incidents WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Detail{}, ErrNotFound
	}
	if err != nil {
		return triage.Detail{}, fmt.Errorf("reading incident: %w", err)
	}
	one := []triage.Incident{inc}
	if err := db.rankIncidents(ctx, one, now); err != nil {
		return triage.Detail{}, err
	}
	d := triage.Detail{Incident: one[0], Samples: []triage.Sample{}, Notes: []triage.Note{}, Hourly: []triage.HourCount{}}
	if err := db.shareOf(ctx, &d.Incident); err != nil {
		return triage.Detail{}, err
	}
	err = db.each(ctx, "SELECT request_id, time_us FROM incident_samples WHERE incident_id = ? ORDER BY time_us DESC, request_id DESC",
		[]any{id}, func(rows *sql.Rows) error {
			var s triage.Sample
			var us int64
			if err := rows.Scan(&s.RequestID, &us); err != nil {
				return err
			}
			s.Time = fromMicros(us)
			d.Samples = append(d.Samples, s)
			return nil
		})
	if err != nil {
		return triage.Detail{}, fmt.Errorf("reading incident samples: %w", err)
	}
	err = db.each(ctx, "SELECT id, author, text, time_us FROM incident_notes WHERE incident_id = ? ORDER BY time_us, id",
		[]any{id}, func(rows *sql.Rows) error {
			var n triage.Note
			var us int64
			if err := rows.Scan(&n.ID, &n.Author, &n.Text, &us); err != nil {
				return err
			}
			n.Time = fromMicros(us)
			d.Notes = append(d.Notes, n)
			return nil
		})
	if err != nil {
		return triage.Detail{}, fmt.Errorf("reading incident notes: %w", err)
	}
	err = db.each(ctx, "SELECT hour_us, count FROM incident_hours WHERE incident_id = ? ORDER BY hour_us DESC LIMIT ?",
		[]any{id, maxIncidentHours}, func(rows *sql.Rows) error {
			var h triage.HourCount
			var us int64
			if err := rows.Scan(&us, &h.Count); err != nil {
				return err
			}
			h.Hour = fromMicros(us)
			d.Hourly = append(d.Hourly, h)
			return nil
		})
	if err != nil {
		return triage.Detail{}, fmt.Errorf("reading incident hours: %w", err)
	}
	slices.Reverse(d.Hourly)
	return d, nil
}

// each runs a query and calls fn on every row.
func (db *DB) each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// IncidentInScope reports whether the incident is of one of services or
// affected one of consumers: what a principal scoped to a team or a
// consumer may see.
func (db *DB) IncidentInScope(ctx context.Context, id string, consumers, services []string) (bool, error) {
	if len(consumers) == 0 && len(services) == 0 {
		return false, nil
	}
	q := "SELECT COUNT(*) FROM incidents WHERE id = ? AND ("
	args := []any{id}
	var or []string
	if len(services) > 0 {
		or = append(or, "service IN ("+placeholders(len(services))+")")
		for _, s := range services {
			args = append(args, s)
		}
	}
	if len(consumers) > 0 {
		or = append(or, "id IN (SELECT incident_id FROM incident_subjects WHERE incident_id = ? AND kind = 'consumer' AND value IN ("+
			placeholders(len(consumers))+"))")
		args = append(args, id)
		for _, c := range consumers {
			args = append(args, c)
		}
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, db.Rebind(q+strings.Join(or, " OR ")+")"), args...).Scan(&n); err != nil {
		return false, fmt.Errorf("checking incident scope: %w", err)
	}
	return n > 0, nil
}

// SetIncidentState moves an incident to another state, by whom and when,
// as triage.CanMove allows; ErrNotFound for no such incident, ErrConflict
// for a move its current state does not allow. Resolving records the time
// after which a call reopens it.
func (db *DB) SetIncidentState(ctx context.Context, id string, to triage.State, by string, at time.Time) (triage.Incident, error) {
	at = nowOr(at)
	var inc triage.Incident
	err := db.write(ctx, func(tx *sql.Tx) error {
		lock := ""
		if db.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		var state string
		err := tx.QueryRowContext(ctx, db.Rebind("SELECT state FROM incidents WHERE id = ?"+lock), id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading incident: %w", err)
		}
		if !triage.CanMove(triage.State(state), to) {
			return fmt.Errorf("incident %s is %s and cannot be made %s: %w", id, state, to, ErrConflict)
		}
		q := "UPDATE incidents SET state = ?, state_us = ?, state_by = ?"
		args := []any{string(to), micros(at), by}
		if to == triage.StateResolved {
			q += ", resolved_us = ?"
			args = append(args, micros(at))
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(q+" WHERE id = ?"), append(args, id)...); err != nil {
			return fmt.Errorf("updating incident: %w", err)
		}
		inc, err = scanIncident(tx.QueryRowContext(ctx, db.Rebind("SELECT "+incidentCols+" FROM incidents WHERE id = ?"), id))
		if err != nil {
			return fmt.Errorf("reading incident: %w", err)
		}
		return nil
	})
	return inc, err
}

// AddIncidentNote adds a note to an incident; ErrNotFound when there is
// none with that id.
func (db *DB) AddIncidentNote(ctx context.Context, incidentID string, n triage.Note) (triage.Note, error) {
	if n.ID == "" {
		n.ID = triage.NewID("note_")
	}
	n.Time = nowOr(n.Time).UTC().Truncate(time.Microsecond)
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM incidents WHERE id = ?"), incidentID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading incident: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO incident_notes (id, incident_id, author, text, time_us) VALUES (?, ?, ?, ?, ?)"),
			n.ID, incidentID, n.Author, n.Text, micros(n.Time)); err != nil {
			return fmt.Errorf("inserting incident note: %w", err)
		}
		return nil
	})
	return n, err
}

// PruneIncidents implements triage.Pruner: it deletes the resolved and
// ignored incidents last seen before t, with their samples, subjects, notes
// and hourly counts, and the hourly counts before t of the incidents kept.
// Children are deleted explicitly rather than left to the foreign keys'
// cascade, so that a database without foreign keys enforced prunes alike.
func (db *DB) PruneIncidents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		over := "SELECT id FROM incidents WHERE state IN (?, ?) AND last_seen_us < ?"
		args := []any{string(triage.StateResolved), string(triage.StateIgnored), micros(before)}
		for _, child := range []string{"incident_samples", "incident_subjects", "incident_notes", "incident_hours"} {
			if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM "+child+" WHERE incident_id IN ("+over+")"), args...); err != nil {
				return fmt.Errorf("pruning %s: %w", child, err)
			}
		}
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM incidents WHERE state IN (?, ?) AND last_seen_us < ?"), args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.Rebind("DELETE FROM incident_hours WHERE hour_us < ?"), micros(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning incidents: %w", err)
	}
	return n, nil
}
