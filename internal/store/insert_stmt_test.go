package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
)

// TestInsertCallChunkUncached inserts a chunk whose statement was not
// prepared beforehand, inside a transaction on an in-memory database's
// only connection: the statement is then prepared on the transaction, not
// on the pool, which would wait for the connection the transaction holds.
func TestInsertCallChunkUncached(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs := []calllog.Record{
		{ID: "u-1", Time: time.Unix(1_780_000_000, 0), Endpoint: "/v1/models", Status: 200},
		{ID: "u-2", Time: time.Unix(1_780_000_001, 0), Endpoint: "/v1/models", Status: 200},
	}
	var added int64
	if err := db.write(ctx, func(tx *sql.Tx) error {
		added, err = db.insertCallChunk(ctx, tx, recs)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if added <= 0 {
		t.Fatalf("insertCallChunk added %d bytes, want the rows' size", added)
	}
	if _, cached := db.insertStmts.Load(len(recs)); cached {
		t.Error("a statement prepared on a transaction was cached; it ends with the transaction")
	}
	// The cached path, prepared before the transaction, is the usual one.
	if err := db.prepareInserts(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 1} {
		if _, ok := db.insertStmts.Load(n); !ok {
			t.Errorf("prepareInserts(3) did not prepare the %d-row insert", n)
		}
	}
}
