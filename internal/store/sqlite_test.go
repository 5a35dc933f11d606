package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

// openSQLite opens a new database file in a fresh temporary directory.
func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "hypergate.db")
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return openSQLite(t) })
}

func TestSQLiteOpen(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		dsn  string
	}{
		{"sqlite prefix, parent dir created", "sqlite:" + filepath.Join(dir, "a", "b", "one.db")},
		{"plain path", filepath.Join(dir, "two.db")},
		{"in memory", ":memory:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			db, err := store.Open(ctx, tc.dsn)
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.dsn, err)
			}
			defer db.Close()
			if db.Dialect() != store.SQLite {
				t.Fatalf("Dialect() = %q", db.Dialect())
			}
			var mode string
			if err := db.SQL().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "memory", false: "wal"}[tc.dsn == ":memory:"]; mode != want {
				t.Fatalf("journal_mode = %q, want %q", mode, want)
			}
			pragmas := []struct {
				name string
				want int
			}{{"busy_timeout", 5000}, {"synchronous", 1}, {"foreign_keys", 1}}
			for _, p := range pragmas {
				var got int
				if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != p.want {
					t.Errorf("PRAGMA %s = %d, want %d", p.name, got, p.want)
				}
			}
		})
	}
	if _, err := store.Open(t.Context(), "sqlite:"+filepath.Join(dir, "what?.db")); err == nil {
		t.Error("Open accepted a path containing '?'")
	}
}

// TestSQLiteReopen opens the same file twice: the second Open finds every
// migration applied and keeps the data.
func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hypergate.db")
	for i := range 3 {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if _, err := db.AppendRevision(ctx, store.Revision{Author: "t", Config: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		latest, err := store.LatestSchemaVersion(store.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		v, n, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != latest || n != latest {
			t.Fatalf("Open #%d: schema version %d with %d recorded, want %d", i+1, v, n, latest)
		}
		r, err := db.LatestRevision(ctx)
		if err != nil || r.Number != int64(i+1) {
			t.Fatalf("Open #%d: latest revision %d, %v; data lost between opens", i+1, r.Number, err)
		}
		db.Close()
	}
}

// BenchmarkInsertCalls measures the batch writer's path: one InsertCalls of
// 500 records, with bodies, on a WAL SQLite file.
func BenchmarkInsertCalls(b *testing.B) {
	db := openSQLite(b)
	ctx := context.Background()
	const batch = 500
	recs := make([]calllog.Record, batch)
	at := time.Now()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			n++
			recs[i] = calllog.Record{
				ID: fmt.Sprintf("req-%012d", n), Time: at.Add(time.Duration(n) * time.Microsecond),
				Consumer: "web-shop", KeyID: "key-1", Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini",
				Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18", Status: 200,
				LatencyUS: 812000, UpstreamUS: 800000, TTFTUS: 210000, InputTokens: 420, OutputTokens: 180,
				CostUSD: 0.000171, RequestBytes: 900, ResponseBytes: 1400, ClientIP: "203.0.113.7",
				UserAgent: "openai-python/1.99", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
				RequestBody:  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the ticket in two sentences."}]}`,
				ResponseBody: `{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"The customer reports a late delivery and asks for a refund."}}]}`,
			}
		}
		if err := db.InsertCalls(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}
