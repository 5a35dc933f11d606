package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL server the
// tests may create and drop databases on; .ci/postgres.sh prints one.
const postgresEnv = "HYPERGATE_TEST_POSTGRES"

// postgresServer returns the test server's DSN. Without one the tests skip,
// except in CI, where a silently skipped backend would hide regressions.
func postgresServer(t *testing.T) string {
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

// freshDatabase creates a uniquely named database on the server, drops it
// when t ends, and returns its DSN, so test runs never see each other's data.
func freshDatabase(t *testing.T, server string) string {
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

func openPostgres(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Registered after freshDatabase's cleanup, so it runs before the drop.
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresConformance(t *testing.T) {
	server := postgresServer(t)
	storetest.Run(t, func(t *testing.T) *store.DB {
		return openPostgres(t, freshDatabase(t, server))
	})
}

// TestPostgresOpen covers what is specific to PostgreSQL: both URL schemes,
// and several nodes opening (and so migrating) one database at once.
func TestPostgresOpen(t *testing.T) {
	server := postgresServer(t)
	dsn := freshDatabase(t, server)
	u, _ := url.Parse(dsn)
	u.Scheme = "postgresql"

	const nodes = 4
	var wg sync.WaitGroup
	dbs := make([]*store.DB, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		target := dsn
		if i%2 == 1 {
			target = u.String()
		}
		wg.Go(func() { dbs[i], errs[i] = store.Open(t.Context(), target) })
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("concurrent Open #%d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		if dbs[i].Dialect() != store.Postgres {
			t.Fatalf("Dialect() = %q", dbs[i].Dialect())
		}
	}
	latest, err := store.LatestSchemaVersion(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	v, n, err := dbs[0].SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != latest || n != latest {
		t.Fatalf("after %d concurrent Opens: version %d with %d recorded, want %d", nodes, v, n, latest)
	}
}
