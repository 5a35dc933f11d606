package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// annotator sets anomaly flags on call records before they are stored
// (internal/anomaly). It runs in the call log's writer, off the request
// path.
type annotator interface {
	Annotate(recs []calllog.Record)
}

// callObserver sees every newly stored call exactly once, after it is
// stored: triage groups failures into incidents, review queues sample calls.
type callObserver interface {
	ObserveCalls(ctx context.Context, recs []calllog.Record) error
}

// callPipeline is the call log's store. Each batch is annotated by the
// anomaly detectors, then stored and counted in the analytics rollups in one
// transaction — only the records that were new, so that a replayed spill
// file counts nothing twice — and the new records are handed to the
// observers. All of it runs in the writer, never on the request path.
type callPipeline struct {
	db        *store.DB
	annotate  annotator // nil: no detectors
	observers []namedObserver
	log       *slog.Logger
}

type namedObserver struct {
	name string
	o    callObserver
}

// observerAttempts is how many times an observer is given a batch it
// failed to take (its store was briefly unavailable) before the failure is
// logged and the batch left out of it.
const observerAttempts = 3

func (p *callPipeline) InsertCalls(ctx context.Context, recs []calllog.Record) error {
	if p.annotate != nil {
		p.annotate.Annotate(recs)
	}
	fresh, err := p.db.StoreCalls(ctx, recs)
	if err != nil || len(fresh) == 0 || len(p.observers) == 0 {
		return err
	}
	batch := make([]calllog.Record, len(fresh))
	for i, j := range fresh {
		batch[i] = recs[j]
	}
	// The calls are stored: an observer's failure must not fail the batch,
	// which the recorder would then write again.
	for _, ob := range p.observers {
		var err error
		for attempt := range observerAttempts {
			if err = ob.o.ObserveCalls(ctx, batch); err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		if err != nil && p.log != nil {
			p.log.Error("a call observer failed on a batch; its calls are stored but not seen by it",
				"observer", ob.name, "calls", len(batch), "err", err)
		}
	}
	return nil
}
