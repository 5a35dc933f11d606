// Package store is Hypergate's database access: call records, feedback,
// consumer keys, configuration revisions and settings, on embedded SQLite (the
// default, zero setup) or PostgreSQL (production and several gateway nodes).
//
// Both databases share one implementation over database/sql; the differences
// (parameter markers, locking for revision numbers, connection setup) live in a
// small dialect layer. The schema is created by forward-only numbered
// migrations embedded in the binary and applied at Open.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
	// Registers the "sqlite" database/sql driver (pure Go).
	_ "modernc.org/sqlite"
)

// ErrNotFound is returned when the requested row does not exist. It becomes
// a 404 only at the HTTP edge.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with an existing row it may
// not change, e.g. a duplicate key hash or feedback ID owned by someone else.
var ErrConflict = errors.New("conflict")

// ErrInvalid is returned for malformed input to a query, such as a cursor
// that was not produced by this package.
var ErrInvalid = errors.New("invalid argument")

// The values returned by DB.Dialect.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is a handle on the Hypergate database. It is safe for concurrent use.
type DB struct {
	sql     *sql.DB
	dialect string
	// writeMu serialises write transactions on SQLite, which allows one writer
	// at a time anyway: queueing in Go is cheaper than SQLite's busy polling.
	// Other processes on the same file still wait through busy_timeout.
	writeMu sync.Mutex
	// insertStmts caches the prepared multi-row INSERTs by row count.
	insertStmts sync.Map // int → *sql.Stmt
	// fbBatch commits concurrent feedback upserts together (feedback_batch.go).
	fbBatch feedbackBatcher
}

// Open connects to the database named by dsn and applies pending migrations.
// A dsn starting with "postgres://" or "postgresql://" selects PostgreSQL;
// "sqlite:PATH" or a plain file path selects SQLite, creating the parent
// directory if needed. ":memory:" gives a private in-memory SQLite database
// on a single connection.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", db.dialect, err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres database: %w", err)
	}
	// Bounded so that several gateway nodes fit within the server's
	// max_connections (100 by default).
	conn.SetMaxOpenConns(20)
	conn.SetMaxIdleConns(10)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{sql: conn, dialect: Postgres}, nil
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("opening sqlite database: empty path")
	}
	// The driver splits its options off at the first '?'.
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("opening sqlite database %q: path must not contain '?'", path)
	}
	memory := path == ":memory:"
	if !memory {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("creating sqlite data directory: %w", err)
			}
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Write transactions take the write lock at BEGIN: a deferred transaction
	// that reads first and then writes can fail with SQLITE_BUSY at once,
	// without waiting, when another writer got in between.
	q.Set("_txlock", "immediate")
	conn, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database %q: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate, empty database.
		conn.SetMaxOpenConns(1)
	}
	// Keep connections: opening one re-runs the pragmas, which profiles of
	// concurrent feedback posts showed costing a third of the CPU with 4
	// idle ones. Open connections stay unbounded, so that a transaction
	// that needs a second connection never waits on others blocked behind
	// its own write lock.
	conn.SetMaxIdleConns(32)
	return &DB{sql: conn, dialect: SQLite}, nil
}

// Close closes the database; in-flight queries finish first.
func (db *DB) Close() error {
	db.insertStmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// Ping checks that the database is reachable (used by /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Dialect reports which database is in use: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the underlying connection pool for read-only queries that this
// package does not provide (analytics rollups, for instance). Writes must go
// through DB's methods so that SQLite writers stay serialised.
func (db *DB) SQL() *sql.DB { return db.sql }

// Rebind rewrites a query written with '?' placeholders into the dialect's
// form: unchanged for SQLite, $1, $2, ... for PostgreSQL. Queries must not
// contain '?' in literals or identifiers.
func (db *DB) Rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// write runs fn in a transaction, committing if it returns nil. On SQLite
// writers are queued in-process first (see writeMu).
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.dialect == SQLite {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// micros converts t to the stored representation. The zero time is stored as
// 0 rather than its (overflowing) Unix value, and reads back as the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back, in UTC; 0 is the zero time again.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// nowOr returns t, or the current time when t is zero.
func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
