package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hypergate/hypergate/internal/catalog"
)

// Page size limits of ListReleases.
const (
	DefaultReleaseLimit = 50
	MaxReleaseLimit     = 500
)

// releaseSummary are the columns of a release but its definition; lists
// leave the definition out, as revision lists leave out the configuration.
const releaseSummary = "service, number, team, state, published, revision, author, message, created_us, diff"

func scanRelease(s interface{ Scan(...any) error }, withDefinition bool) (catalog.Release, error) {
	var (
		r       catalog.Release
		created int64
		diff    string
		def     string
	)
	dest := []any{&r.Service, &r.Number, &r.Team, &r.State, &r.Published, &r.Revision, &r.Author, &r.Message, &created, &diff}
	if withDefinition {
		dest = append(dest, &def)
	}
	if err := s.Scan(dest...); err != nil {
		return catalog.Release{}, err
	}
	r.CreatedAt = fromMicros(created)
	r.Diff = splitLines(diff)
	if withDefinition {
		r.Definition = []byte(def)
	}
	return r, nil
}

// splitLines undoes the newline-joined storage of a diff; an empty diff
// reads back as an empty list, not nil, so it encodes as [].
func splitLines(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// AppendRevisionReleases stores r as the next configuration revision and,
// in the same transaction, rels as the next releases of their services, so
// that no revision is ever without the releases it made. Published
// releases get the revision's number. It returns both as stored.
func (db *DB) AppendRevisionReleases(ctx context.Context, r Revision, rels []catalog.Release) (Revision, []catalog.Release, error) {
	r.CreatedAt = nowOr(r.CreatedAt)
	if r.Config == nil {
		r.Config = []byte{}
	}
	out := make([]catalog.Release, len(rels))
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := db.insertRevision(ctx, tx, &r); err != nil {
			return err
		}
		copy(out, rels)
		for i := range out {
			if out[i].Published {
				out[i].Revision = r.Number
			}
		}
		return db.insertReleases(ctx, tx, out)
	})
	if err != nil {
		return Revision{}, nil, fmt.Errorf("appending revision: %w", err)
	}
	r.CreatedAt = fromMicros(micros(r.CreatedAt))
	return r, out, nil
}

// AppendReleases stores rels as the next releases of their services and
// returns them numbered. Numbers are per service, the previous highest
// plus one, assigned atomically even with concurrent callers on several
// nodes; Number is ignored and CreatedAt defaults to now.
func (db *DB) AppendReleases(ctx context.Context, rels []catalog.Release) ([]catalog.Release, error) {
	out := make([]catalog.Release, len(rels))
	copy(out, rels)
	if err := db.write(ctx, func(tx *sql.Tx) error { return db.insertReleases(ctx, tx, out) }); err != nil {
		return nil, fmt.Errorf("appending releases: %w", err)
	}
	return out, nil
}

// insertReleases numbers and inserts rels within tx, updating them in place.
func (db *DB) insertReleases(ctx context.Context, tx *sql.Tx, rels []catalog.Release) error {
	if len(rels) == 0 {
		return nil
	}
	if db.dialect == Postgres {
		// As for revisions: MAX()+1 needs a lock that conflicts with itself.
		if _, err := tx.ExecContext(ctx, "LOCK TABLE service_releases IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
	}
	next := db.Rebind("SELECT COALESCE(MAX(number), 0) + 1 FROM service_releases WHERE service = ?")
	insert := db.Rebind("INSERT INTO service_releases (" + releaseSummary + ", definition) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	for i := range rels {
		r := &rels[i]
		if r.Service == "" || len(r.Definition) == 0 {
			return fmt.Errorf("%w: a release needs a service and a definition", ErrInvalid)
		}
		r.CreatedAt = fromMicros(micros(nowOr(r.CreatedAt)))
		if r.Diff == nil {
			r.Diff = []string{}
		}
		if err := tx.QueryRowContext(ctx, next, r.Service).Scan(&r.Number); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, r.Service, r.Number, r.Team, r.State, r.Published, r.Revision,
			r.Author, r.Message, micros(r.CreatedAt), strings.Join(r.Diff, "\n"), string(r.Definition)); err != nil {
			return err
		}
	}
	return nil
}

// GetRelease returns release n of service, with its definition, or
// ErrNotFound.
func (db *DB) GetRelease(ctx context.Context, service string, n int) (catalog.Release, error) {
	r, err := scanRelease(db.sql.QueryRowContext(ctx,
		db.Rebind("SELECT "+releaseSummary+", definition FROM service_releases WHERE service = ? AND number = ?"), service, n), true)
	if err != nil {
		return catalog.Release{}, errNoRows(err, fmt.Sprintf("release %d of service %q", n, service))
	}
	return r, nil
}

// ListReleases returns up to limit releases of service (default 50, at
// most 500), newest first, numbered below before (0: from the newest),
// without their definitions. A service without releases has an empty list.
func (db *DB) ListReleases(ctx context.Context, service string, limit, before int) ([]catalog.Release, error) {
	if limit <= 0 {
		limit = DefaultReleaseLimit
	}
	limit = min(limit, MaxReleaseLimit)
	q := "SELECT " + releaseSummary + " FROM service_releases WHERE service = ?"
	args := []any{service}
	if before > 0 {
		q += " AND number < ?"
		args = append(args, before)
	}
	q += " ORDER BY number DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	defer rows.Close()
	out := []catalog.Release{}
	for rows.Next() {
		r, err := scanRelease(rows, false)
		if err != nil {
			return nil, fmt.Errorf("listing releases: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	return out, nil
}

// LatestReleases returns the newest published release of every service
// that has one, with its definition, by service name: the definitions in
// service as far as releases know.
func (db *DB) LatestReleases(ctx context.Context) (map[string]catalog.Release, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT `+prefixed("r.", releaseSummary)+`, r.definition
		FROM service_releases r
		JOIN (SELECT service, MAX(number) AS number FROM service_releases WHERE published = ? GROUP BY service) l
		  ON r.service = l.service AND r.number = l.number`), true)
	if err != nil {
		return nil, fmt.Errorf("reading latest releases: %w", err)
	}
	defer rows.Close()
	out := map[string]catalog.Release{}
	for rows.Next() {
		r, err := scanRelease(rows, true)
		if err != nil {
			return nil, fmt.Errorf("reading latest releases: %w", err)
		}
		out[r.Service] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading latest releases: %w", err)
	}
	return out, nil
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}

const draftColumns = "service, team, base, author, updated_us, definition"

func scanDraft(s interface{ Scan(...any) error }) (catalog.Draft, error) {
	var (
		d       catalog.Draft
		updated int64
		def     string
	)
	if err := s.Scan(&d.Service, &d.Team, &d.Base, &d.Author, &updated, &def); err != nil {
		return catalog.Draft{}, err
	}
	d.UpdatedAt, d.Definition = fromMicros(updated), []byte(def)
	return d, nil
}

// PutDraft stores d as the draft of its service, replacing any earlier one;
// UpdatedAt defaults to now. It returns the draft as stored.
func (db *DB) PutDraft(ctx context.Context, d catalog.Draft) (catalog.Draft, error) {
	if d.Service == "" || len(d.Definition) == 0 {
		return catalog.Draft{}, fmt.Errorf("%w: a draft needs a service and a definition", ErrInvalid)
	}
	d.UpdatedAt = fromMicros(micros(nowOr(d.UpdatedAt)))
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO service_drafts (`+draftColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (service) DO UPDATE SET team = excluded.team, base = excluded.base, author = excluded.author,
			updated_us = excluded.updated_us, definition = excluded.definition`),
			d.Service, d.Team, d.Base, d.Author, micros(d.UpdatedAt), string(d.Definition))
		return err
	})
	if err != nil {
		return catalog.Draft{}, fmt.Errorf("storing draft of service %q: %w", d.Service, err)
	}
	return d, nil
}

// GetDraft returns the draft of service, or ErrNotFound.
func (db *DB) GetDraft(ctx context.Context, service string) (catalog.Draft, error) {
	d, err := scanDraft(db.sql.QueryRowContext(ctx,
		db.Rebind("SELECT "+draftColumns+" FROM service_drafts WHERE service = ?"), service))
	if err != nil {
		return catalog.Draft{}, errNoRows(err, fmt.Sprintf("draft of service %q", service))
	}
	return d, nil
}

// DeleteDraft removes the draft of service, or returns ErrNotFound.
func (db *DB) DeleteDraft(ctx context.Context, service string) error {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM service_drafts WHERE service = ?"), service)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting draft of service %q: %w", service, err)
	}
	if n == 0 {
		return fmt.Errorf("draft of service %q: %w", service, ErrNotFound)
	}
	return nil
}
