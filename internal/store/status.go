package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/probe"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/triage"
)

var (
	_ status.Store        = (*DB)(nil)
	_ status.TriageSource = (*DB)(nil)
)

const statusIncidentColumns = "id, title, services, impact, status, author, created_us, updated_us, resolved_us"

// CreateStatusIncident stores in and its updates.
func (db *DB) CreateStatusIncident(ctx context.Context, in status.Incident) error {
	if in.ID == "" || in.Title == "" || in.Impact == "" || in.Status == "" {
		return fmt.Errorf("%w: a status incident needs an id, a title, an impact and a status", ErrInvalid)
	}
	services, err := json.Marshal(nonNilStrings(in.Services))
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var resolved any
		if in.ResolvedAt != nil {
			resolved = micros(*in.ResolvedAt)
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO status_incidents ("+statusIncidentColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			in.ID, in.Title, string(services), string(in.Impact), string(in.Status), in.Author,
			micros(nowOr(in.CreatedAt)), micros(nowOr(in.UpdatedAt)), resolved); err != nil {
			return err
		}
		for _, u := range in.Updates {
			u.IncidentID = in.ID
			if err := db.insertStatusUpdate(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing status incident: %w", err)
	}
	return nil
}

func (db *DB) insertStatusUpdate(ctx context.Context, tx *sql.Tx, u status.Update) error {
	if u.ID == "" || u.IncidentID == "" || u.Status == "" {
		return fmt.Errorf("%w: a status update needs an id, an incident and a status", ErrInvalid)
	}
	_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO status_incident_updates (id, incident_id, status, message, author, created_us) VALUES (?, ?, ?, ?, ?, ?)"),
		u.ID, u.IncidentID, string(u.Status), u.Message, u.Author, micros(nowOr(u.CreatedAt)))
	return err
}

// AddStatusUpdate stores u and moves its incident to u's stage; an update
// at stage resolved resolves it. An incident already resolved takes no
// update (ErrConflict), so that its end stays where it was.
func (db *DB) AddStatusUpdate(ctx context.Context, u status.Update) error {
	u.CreatedAt = nowOr(u.CreatedAt)
	err := db.write(ctx, func(tx *sql.Tx) error {
		var resolved any
		if u.Status == status.StageResolved {
			resolved = micros(u.CreatedAt)
		}
		res, err := tx.ExecContext(ctx, db.Rebind("UPDATE status_incidents SET status = ?, updated_us = ?, resolved_us = ? WHERE id = ? AND resolved_us IS NULL"),
			string(u.Status), micros(u.CreatedAt), resolved, u.IncidentID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, db.Rebind("SELECT 1 FROM status_incidents WHERE id = ?"), u.IncidentID).Scan(&one); err != nil {
				return errNoRows(err, fmt.Sprintf("status incident %q", u.IncidentID))
			}
			return fmt.Errorf("status incident %q is resolved: %w", u.IncidentID, ErrConflict)
		}
		return db.insertStatusUpdate(ctx, tx, u)
	})
	if err != nil {
		return fmt.Errorf("adding status update: %w", err)
	}
	return nil
}

func scanStatusIncident(s interface{ Scan(...any) error }) (status.Incident, error) {
	var (
		in               status.Incident
		services         string
		impact, stage    string
		created, updated int64
		resolved         sql.NullInt64
	)
	if err := s.Scan(&in.ID, &in.Title, &services, &impact, &stage, &in.Author, &created, &updated, &resolved); err != nil {
		return status.Incident{}, err
	}
	if err := json.Unmarshal([]byte(services), &in.Services); err != nil {
		return status.Incident{}, fmt.Errorf("decoding the services of status incident %s: %w", in.ID, err)
	}
	in.Impact, in.Status = status.Impact(impact), status.Stage(stage)
	in.CreatedAt, in.UpdatedAt = fromMicros(created), fromMicros(updated)
	if resolved.Valid {
		t := fromMicros(resolved.Int64)
		in.ResolvedAt = &t
	}
	in.Updates = []status.Update{}
	return in, nil
}

// GetStatusIncident returns an incident with its updates, or ErrNotFound.
func (db *DB) GetStatusIncident(ctx context.Context, id string) (status.Incident, error) {
	in, err := scanStatusIncident(db.sql.QueryRowContext(ctx,
		db.Rebind("SELECT "+statusIncidentColumns+" FROM status_incidents WHERE id = ?"), id))
	if err != nil {
		return status.Incident{}, errNoRows(err, fmt.Sprintf("status incident %q", id))
	}
	ins := []status.Incident{in}
	if err := db.loadStatusUpdates(ctx, ins); err != nil {
		return status.Incident{}, err
	}
	return ins[0], nil
}

// Page size limits of ListStatusIncidents.
const (
	DefaultStatusIncidentLimit = 50
	MaxStatusIncidentLimit     = 500
)

// ListStatusIncidents returns the incidents f selects with their updates,
// newest first.
func (db *DB) ListStatusIncidents(ctx context.Context, f status.IncidentFilter) ([]status.Incident, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultStatusIncidentLimit
	}
	limit = min(limit, MaxStatusIncidentLimit)
	q := "SELECT " + statusIncidentColumns + " FROM status_incidents WHERE 1 = 1"
	var args []any
	if f.Open {
		q += " AND resolved_us IS NULL"
	}
	if !f.Since.IsZero() {
		q += " AND (resolved_us IS NULL OR resolved_us >= ?)"
		args = append(args, micros(f.Since))
	}
	q += " ORDER BY created_us DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing status incidents: %w", err)
	}
	defer rows.Close()
	out := []status.Incident{}
	for rows.Next() {
		in, err := scanStatusIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("listing status incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing status incidents: %w", err)
	}
	rows.Close()
	if err := db.loadStatusUpdates(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadStatusUpdates fills the updates of ins, oldest first.
func (db *DB) loadStatusUpdates(ctx context.Context, ins []status.Incident) error {
	if len(ins) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ins))
	args := make([]any, len(ins))
	for i, in := range ins {
		idx[in.ID] = i
		args[i] = in.ID
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT id, incident_id, status, message, author, created_us FROM status_incident_updates WHERE incident_id IN (?"+
		strings.Repeat(", ?", len(ins)-1)+") ORDER BY created_us, id"), args...)
	if err != nil {
		return fmt.Errorf("reading status updates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u       status.Update
			stage   string
			created int64
		)
		if err := rows.Scan(&u.ID, &u.IncidentID, &stage, &u.Message, &u.Author, &created); err != nil {
			return fmt.Errorf("reading status updates: %w", err)
		}
		u.Status, u.CreatedAt = status.Stage(stage), fromMicros(created)
		in := &ins[idx[u.IncidentID]]
		in.Updates = append(in.Updates, u)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading status updates: %w", err)
	}
	return nil
}

// CreateStatusSubscriber stores s.
func (db *DB) CreateStatusSubscriber(ctx context.Context, s status.Subscriber) error {
	if s.ID == "" || s.URL == "" || s.SecretRef == "" {
		return fmt.Errorf("%w: a status subscriber needs an id, a URL and a secret reference", ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO status_subscribers (id, url, secret_ref, author, created_us) VALUES (?, ?, ?, ?, ?)"),
			s.ID, s.URL, s.SecretRef, s.Author, micros(nowOr(s.CreatedAt)))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing status subscriber: %w", err)
	}
	return nil
}

// ListStatusSubscribers returns every subscriber, oldest first.
func (db *DB) ListStatusSubscribers(ctx context.Context) ([]status.Subscriber, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, url, secret_ref, author, created_us FROM status_subscribers ORDER BY created_us, id")
	if err != nil {
		return nil, fmt.Errorf("listing status subscribers: %w", err)
	}
	defer rows.Close()
	out := []status.Subscriber{}
	for rows.Next() {
		var (
			s       status.Subscriber
			created int64
		)
		if err := rows.Scan(&s.ID, &s.URL, &s.SecretRef, &s.Author, &created); err != nil {
			return nil, fmt.Errorf("listing status subscribers: %w", err)
		}
		s.CreatedAt = fromMicros(created)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing status subscribers: %w", err)
	}
	return out, nil
}

// DeleteStatusSubscriber removes a subscriber, or returns ErrNotFound.
func (db *DB) DeleteStatusSubscriber(ctx context.Context, id string) error {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM status_subscribers WHERE id = ?"), id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting status subscriber: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("status subscriber %q: %w", id, ErrNotFound)
	}
	return nil
}

// StatusStates returns every stored service state, by service.
func (db *DB) StatusStates(ctx context.Context) ([]status.ServiceState, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT service, level, reasons, since_us, updated_us FROM status_services ORDER BY service")
	if err != nil {
		return nil, fmt.Errorf("reading service states: %w", err)
	}
	defer rows.Close()
	out := []status.ServiceState{}
	for rows.Next() {
		s, err := scanServiceState(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading service states: %w", err)
	}
	return out, nil
}

func scanServiceState(s interface{ Scan(...any) error }) (status.ServiceState, error) {
	var (
		st             status.ServiceState
		level, reasons string
		since, updated int64
	)
	if err := s.Scan(&st.Service, &level, &reasons, &since, &updated); err != nil {
		return status.ServiceState{}, err
	}
	if err := json.Unmarshal([]byte(reasons), &st.Reasons); err != nil {
		return status.ServiceState{}, fmt.Errorf("decoding the status reasons of %s: %w", st.Service, err)
	}
	st.Level, st.Since, st.UpdatedAt = status.Level(level), fromMicros(since), fromMicros(updated)
	return st, nil
}

// SwapStatusState stores s as its service's state. When the stored level
// is already s.Level only the reasons and the time are refreshed (the
// level's start stays); otherwise the level changes and changed is true.
// The stored row is locked while compared, so of several nodes storing
// the same change at once exactly one sees changed.
func (db *DB) SwapStatusState(ctx context.Context, s status.ServiceState) (prev status.ServiceState, changed bool, err error) {
	if s.Service == "" || s.Level == "" {
		return prev, false, fmt.Errorf("%w: a service state needs a service and a level", ErrInvalid)
	}
	reasons, err := json.Marshal(nonNilReasons(s.Reasons))
	if err != nil {
		return prev, false, err
	}
	s.UpdatedAt = nowOr(s.UpdatedAt)
	if s.Since.IsZero() {
		s.Since = s.UpdatedAt
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO status_services (service, level, reasons, since_us, updated_us) VALUES (?, ?, ?, ?, ?) ON CONFLICT (service) DO NOTHING"),
			s.Service, string(s.Level), string(reasons), micros(s.Since), micros(s.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			changed = true
			return nil
		}
		lock := ""
		if db.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		prev, err = scanServiceState(tx.QueryRowContext(ctx, db.Rebind("SELECT service, level, reasons, since_us, updated_us FROM status_services WHERE service = ?"+lock), s.Service))
		if err != nil {
			return err
		}
		if prev.Level == s.Level {
			_, err = tx.ExecContext(ctx, db.Rebind("UPDATE status_services SET reasons = ?, updated_us = ? WHERE service = ?"),
				string(reasons), micros(s.UpdatedAt), s.Service)
			return err
		}
		changed = true
		_, err = tx.ExecContext(ctx, db.Rebind("UPDATE status_services SET level = ?, reasons = ?, since_us = ?, updated_us = ? WHERE service = ?"),
			string(s.Level), string(reasons), micros(s.Since), micros(s.UpdatedAt), s.Service)
		return err
	})
	if err != nil {
		return status.ServiceState{}, false, fmt.Errorf("storing the status of %s: %w", s.Service, err)
	}
	return prev, changed, nil
}

// StatusTraffic sums the rollups of resolution res per service and bucket
// in [from, to): the calls, and those that failed on the server side (5xx,
// or no HTTP answer). Probe calls are not in the rollups.
func (db *DB) StatusTraffic(ctx context.Context, res time.Duration, from, to time.Time) ([]status.Traffic, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT service, bucket, SUM(requests),
		SUM(CASE WHEN status_class IN ('5xx', 'none') THEN requests ELSE 0 END)
		FROM rollups WHERE resolution = ? AND bucket >= ? AND bucket < ? AND service <> ''
		GROUP BY service, bucket`), int64(res/time.Second), from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading status traffic: %w", err)
	}
	defer rows.Close()
	out := []status.Traffic{}
	for rows.Next() {
		var (
			t      status.Traffic
			bucket int64
		)
		if err := rows.Scan(&t.Service, &bucket, &t.Requests, &t.Failures); err != nil {
			return nil, fmt.Errorf("reading status traffic: %w", err)
		}
		t.Bucket = time.Unix(bucket, 0).UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading status traffic: %w", err)
	}
	return out, nil
}

// StatusProbeRuns counts the probe calls to each service recorded in
// [from, to), and the failed runs among them.
func (db *DB) StatusProbeRuns(ctx context.Context, from, to time.Time) ([]status.Traffic, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(
		"SELECT service, COUNT(*), SUM(CASE WHEN error_type IN (?, ?) THEN 1 ELSE 0 END) FROM calls "+
			"WHERE probe <> '' AND service <> '' AND time_us >= ? AND time_us < ? GROUP BY service"),
		probe.ErrorAssertion, probe.ErrorRequest, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("counting probe runs by service: %w", err)
	}
	defer rows.Close()
	out := []status.Traffic{}
	for rows.Next() {
		var t status.Traffic
		if err := rows.Scan(&t.Service, &t.Requests, &t.Failures); err != nil {
			return nil, fmt.Errorf("counting probe runs by service: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting probe runs by service: %w", err)
	}
	return out, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilReasons(r []status.Reason) []status.Reason {
	if r == nil {
		return []status.Reason{}
	}
	return r
}

// OpenIncidents counts the triage incidents of service still open or
// acknowledged, and returns the worst severity among them: what the
// status computation needs of triage (status.TriageSource).
func (db *DB) OpenIncidents(ctx context.Context, service string) (count int, worstSeverity string, err error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT severity, COUNT(*) FROM incidents WHERE service = ? AND state IN (?, ?) GROUP BY severity"),
		service, string(triage.StateOpen), string(triage.StateAcknowledged))
	if err != nil {
		return 0, "", fmt.Errorf("counting open incidents of %s: %w", service, err)
	}
	defer rows.Close()
	worst := triage.Severity("")
	for rows.Next() {
		var (
			sev string
			n   int
		)
		if err := rows.Scan(&sev, &n); err != nil {
			return 0, "", fmt.Errorf("counting open incidents of %s: %w", service, err)
		}
		count += n
		if s := triage.Severity(sev); s.Weight() > worst.Weight() {
			worst = s
		}
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("counting open incidents of %s: %w", service, err)
	}
	return count, string(worst), nil
}
