package app

import (
	"context"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// rollupWriter is the call log's store: every batch it stores is also
// counted in the analytics rollups, in the same transaction and only for
// the records that were new, so that a replayed spill file counts nothing
// twice and analytics never run on the request path.
type rollupWriter struct{ db *store.DB }

func (w rollupWriter) InsertCalls(ctx context.Context, recs []calllog.Record) error {
	return w.db.InsertCallsAndRollups(ctx, recs)
}
