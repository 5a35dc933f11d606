package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

// TestFeedbackBackfill checks migration 0014's data step: feedback stored
// before rollups counted it is counted exactly as a rebuild from the raw
// feedback counts it, on both dialects.
func TestFeedbackBackfill(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			var db *store.DB
			if dialect == store.SQLite {
				db = openSQLite(t)
			} else {
				db = openPostgres(t, storetest.FreshPostgres(t, storetest.PostgresServer(t)))
			}
			ctx := t.Context()
			base := time.Date(2026, 4, 30, 23, 58, 0, 0, time.UTC)
			// A call of the same key and minute as some feedback: its rollup
			// rows exist, and the backfill must add to them.
			call := calllog.Record{ID: "r0", Time: base, Consumer: "shop", Service: "orders", Model: "gpt-4o", Provider: "openai",
				Status: 200, LatencyUS: 1500, Endpoint: "/v1/chat/completions"}
			if err := db.InsertCallsAndRollups(ctx, []calllog.Record{call}); err != nil {
				t.Fatal(err)
			}
			for i, v := range []feedback.Value{feedback.BoolValue(true), feedback.BoolValue(false), {Kind: feedback.Numeric, Num: 3},
				{Kind: feedback.String, Str: "meh"}, feedback.BoolValue(false)} {
				at := base.Add(time.Duration(i) * 90 * time.Second) // crosses a minute, an hour and a day
				f := feedback.Feedback{ID: fmt.Sprint("f", i), RequestID: fmt.Sprint("r", i%2), Consumer: "shop", Name: "helpful",
					// Before 0016 only booleans had a polarity, which 0016 gives them.
					Value: v, Polarity: feedback.ScorePolarity(nil, v), CreatedAt: at, UpdatedAt: at,
					Call: calllog.CallSummary{Consumer: "shop", Service: "orders", Model: "gpt-4o", Provider: "openai", Status: 200 + 300*(i%2)}}
				if _, _, err := db.UpsertFeedback(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			read := func() map[string]analytics.Feedback {
				out := map[string]analytics.Feedback{}
				for _, res := range analytics.Resolutions {
					rows, err := db.ReadRollups(ctx, analytics.Selection{Resolution: res, From: base.Add(-48 * time.Hour), To: base.Add(48 * time.Hour)})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rows {
						out[fmt.Sprint(res, r.Bucket.Unix(), r.Key, " requests ", r.Requests)] = r.Feedback
					}
				}
				return out
			}
			counted := read()
			if len(counted) == 0 {
				t.Fatal("feedback was not counted in the rollups")
			}
			// As before the migration: feedback stored, rollups without it.
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM rollups WHERE requests = 0"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, "UPDATE rollups SET feedback_count = 0, feedback_scored = 0, feedback_sum = 0, "+
				"feedback_positive = 0, feedback_negative = 0"); err != nil {
				t.Fatal(err)
			}
			step, err := store.MigrationTail(dialect, 14, "-- Feedback given before this migration")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, step); err != nil {
				t.Fatalf("running the backfill: %v", err)
			}
			if got := read(); fmt.Sprint(got) != fmt.Sprint(counted) {
				t.Errorf("backfilled rollups:\n%v\nwant (as counted when given):\n%v", got, counted)
			}
			if err := db.RebuildRollups(ctx, base.Add(-24*time.Hour), base.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := read(); fmt.Sprint(got) != fmt.Sprint(counted) {
				t.Errorf("rebuilt rollups:\n%v\nwant:\n%v", got, counted)
			}
		})
	}
}
