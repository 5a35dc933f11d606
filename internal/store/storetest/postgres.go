package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql
)

// postgresEnv names the variable holding the DSN of a PostgreSQL server the
// tests may create and drop databases on; .ci/postgres.sh prints one.
const postgresEnv = "HYPERGATE_TEST_POSTGRES"

// PostgresServer returns the test server's DSN. Without one the tests skip,
// except in CI, where a silently skipped backend would hide regressions.
func PostgresServer(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn != "" {
		return dsn
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI requires PostgreSQL for the store conformance run (start one with .ci/postgres.sh)", postgresEnv)
	}
	t.Skipf("%s is not set: the PostgreSQL conformance run did not run (HYPERGATE_TEST_POSTGRES=$(bash .ci/postgres.sh) runs it)", postgresEnv)
	return ""
}

// FreshPostgres creates a uniquely named database on the server, drops it
// when t ends, and returns its DSN, so test runs never see each other's data.
func FreshPostgres(t *testing.T, server string) string {
	t.Helper()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("connecting to %s: %v", postgresEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [8]byte
	rand.Read(b[:])
	name := "hypergate_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends connections a failed test may have left open.
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", postgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}
