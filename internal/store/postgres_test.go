package store_test

import (
	"net/url"
	"sync"
	"testing"

	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

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
	server := storetest.PostgresServer(t)
	storetest.Run(t, func(t *testing.T) *store.DB {
		return openPostgres(t, storetest.FreshPostgres(t, server))
	})
}

// TestPostgresOpen covers what is specific to PostgreSQL: both URL schemes,
// and several nodes opening (and so migrating) one database at once.
func TestPostgresOpen(t *testing.T) {
	server := storetest.PostgresServer(t)
	dsn := storetest.FreshPostgres(t, server)
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
