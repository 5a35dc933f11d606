package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/feedback"
)

// feedbackBatcher commits concurrent feedback upserts together: one
// transaction and one rollup merge for every upsert waiting, instead of one
// each. Feedback arrives in bursts (a widget on a busy page), and on SQLite
// every transaction is a serialised commit; grouping them is what lets one
// node store thousands of posts a second.
//
// There is no background goroutine: the first caller to find no batch
// running runs batches until the queue is empty, and the others wait for
// their result. The zero value is ready to use.
type feedbackBatcher struct {
	mu      sync.Mutex
	queue   []*feedbackUpsert
	running bool
	// insert is feedbackInsert, prepared once: SQLite would otherwise
	// parse it again for every feedback, which is most of the cost of
	// storing one. Only the batch runner touches it.
	insert *sql.Stmt
}

// prepared returns the prepared insert, preparing it the first time. It
// must be called outside a transaction: with a single connection (an
// in-memory database) preparing inside one would wait for itself.
func (b *feedbackBatcher) prepared(ctx context.Context, db *DB) (*sql.Stmt, error) {
	if b.insert == nil {
		s, err := db.sql.PrepareContext(ctx, db.Rebind(feedbackInsert))
		if err != nil {
			return nil, fmt.Errorf("preparing the feedback insert: %w", err)
		}
		b.insert = s
	}
	return b.insert, nil
}

// maxFeedbackBatch bounds one transaction, so that a burst does not hold
// the write lock for long.
const maxFeedbackBatch = 256

// feedbackBatchTimeout bounds one batch's transaction: callers wait for
// their batch whatever their own deadline, so that nothing is acknowledged
// as failed and stored anyway.
const feedbackBatchTimeout = 30 * time.Second

type feedbackUpsert struct {
	f       feedback.Feedback
	done    chan struct{}
	stored  feedback.Feedback
	created bool
	err     error
}

// upsert queues f and returns once the transaction holding it has ended.
func (b *feedbackBatcher) upsert(ctx context.Context, db *DB, f feedback.Feedback) *feedbackUpsert {
	u := &feedbackUpsert{f: f, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, u)
	if b.running {
		b.mu.Unlock()
		<-u.done
		return u
	}
	b.running = true
	b.mu.Unlock()
	// This caller runs batches, its own first among them, until no one
	// is waiting.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), feedbackBatchTimeout)
	defer cancel()
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxFeedbackBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			break
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		db.upsertFeedbackBatch(bctx, batch)
		for _, x := range batch {
			close(x.done)
		}
	}
	<-u.done
	return u
}

// upsertFeedbackBatch stores a batch in one transaction. An id taken by
// another call, or an invalid item, fails that item alone; any other error
// fails the whole batch, of which nothing is then stored.
func (db *DB) upsertFeedbackBatch(ctx context.Context, batch []*feedbackUpsert) {
	ins, err := db.fbBatch.prepared(ctx, db)
	if err == nil {
		err = db.write(ctx, func(tx *sql.Tx) error {
			return db.upsertFeedbackBatchTx(ctx, tx, tx.StmtContext(ctx, ins), batch)
		})
	}
	if err != nil {
		for _, u := range batch {
			u.stored, u.created, u.err = feedback.Feedback{}, false, err
		}
	}
}

func (db *DB) upsertFeedbackBatchTx(ctx context.Context, tx *sql.Tx, ins *sql.Stmt, batch []*feedbackUpsert) error {
	agg := analytics.NewAggregator()
	for _, u := range batch {
		u.stored, u.created, u.err = db.upsertFeedbackTx(ctx, tx, ins, agg, u.f)
		if u.err != nil && !errors.Is(u.err, ErrConflict) && !errors.Is(u.err, ErrInvalid) {
			return u.err
		}
	}
	if err := db.mergeRollups(ctx, tx, agg.Rows()); err != nil {
		return fmt.Errorf("counting feedback in the rollups: %w", err)
	}
	return nil
}
