package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// TestMemoryInsertCalls writes calls into an in-memory database, which has
// a single connection: a statement prepared on the pool while a write
// transaction holds that connection would wait for it forever. Each batch
// size needs statements of new row counts (and so new preparations), in
// both write paths; the deadline turns a hang into a failure.
func TestMemoryInsertCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	db, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	batch := func(size int) []calllog.Record {
		recs := make([]calllog.Record, size)
		for i := range recs {
			recs[i] = calllog.Record{ID: fmt.Sprint("mem-", n), Time: at.Add(time.Duration(n) * time.Second),
				Endpoint: "/v1/chat/completions", Service: "svc", Model: "m", Status: 200, LatencyUS: 1000}
			n++
		}
		return recs
	}
	for _, tc := range []struct {
		name   string
		size   int
		insert func(context.Context, []calllog.Record) error
	}{
		{"InsertCalls, one row", 1, db.InsertCalls},
		{"InsertCalls, several chunk sizes", 7, db.InsertCalls},
		{"InsertCallsAndRollups, one row", 1, db.InsertCallsAndRollups},
		{"InsertCallsAndRollups, new chunk sizes", 300, db.InsertCallsAndRollups},
	} {
		if err := tc.insert(ctx, batch(tc.size)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	page, err := db.ListCalls(ctx, calllog.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != n {
		t.Fatalf("stored %d calls, want %d", len(page.Calls), n)
	}
}
