package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

// TestFeedbackPolarityMigration checks migration 0016's data step: feedback
// given before polarity was stored gets it from its boolean value, and
// other values stay neutral, on both dialects.
func TestFeedbackPolarityMigration(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			var db *store.DB
			if dialect == store.SQLite {
				db = openSQLite(t)
			} else {
				db = openPostgres(t, storetest.FreshPostgres(t, storetest.PostgresServer(t)))
			}
			ctx := t.Context()
			at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
			want := map[string]string{}
			for id, v := range map[string]feedback.Value{
				"yes": feedback.BoolValue(true), "no": feedback.BoolValue(false),
				"num": {Kind: feedback.Numeric, Num: 0}, "str": {Kind: feedback.String, Str: "bad"},
			} {
				// As stored before 0016: no polarity.
				if _, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: id, RequestID: "r-" + id, Name: "helpful", Value: v,
					CreatedAt: at, UpdatedAt: at, Call: calllog.CallSummary{}}); err != nil {
					t.Fatal(err)
				}
				want[id] = feedback.ScorePolarity(nil, v)
			}
			tail, err := store.MigrationTail(dialect, 16, "-- positive, false negative.")
			if err != nil {
				t.Fatal(err)
			}
			var step string
			for _, line := range strings.Split(tail, "\n") {
				if strings.HasPrefix(line, "UPDATE feedback SET polarity") {
					step = line
				}
			}
			if step == "" {
				t.Fatal("migration 0016 has no polarity step")
			}
			if _, err := db.SQL().ExecContext(ctx, step); err != nil {
				t.Fatal(err)
			}
			for id, pol := range want {
				got, err := db.ListFeedback(ctx, "r-"+id)
				if err != nil || len(got) != 1 || got[0].Polarity != pol || got[0].Source != "" {
					t.Errorf("%s after the migration: %+v, %v; want polarity %q", id, got, err, pol)
				}
			}
		})
	}
}
