package calllog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Store is what the recorder needs from the database.
//
// InsertCalls must be idempotent by Record.ID: re-inserting an ID that is
// already stored is skipped, not an error, because a spill file interrupted by
// a crash or a shutdown is replayed from its start. It must not keep recs after
// it returns: the writer reuses the slice.
type Store interface {
	InsertCalls(ctx context.Context, recs []Record) error
}

// Options configures a Recorder. Zero values take the defaults noted.
type Options struct {
	QueueSize     int           // default 8192
	BatchSize     int           // default 500
	FlushInterval time.Duration // default 200ms: a partial batch is written at least this often
	SpillDir      string        // required: the data directory; spill files live here
	Logger        *slog.Logger  // default: discard
	// Secrets returns the secrets currently configured (provider keys, consumer
	// keys) so that they are redacted from captured bodies even when they match
	// no pattern; may be nil. It is called from the writer and, under overload,
	// from Record, so it must be safe for concurrent use and should be cheap.
	Secrets func() []string
}

// Stats are the recorder's counters, exported by the caller as metrics.
type Stats struct {
	Enqueued uint64 // records accepted into the queue
	Written  uint64 // rows inserted by live batches
	// Spilled counts records written to the spill file (queue full, store
	// down, or after Close), when they are written out: normally within
	// FlushInterval of Record.
	Spilled  uint64
	Replayed uint64 // records inserted from spill files
	// Dropped counts records that are lost: they could be neither stored nor
	// spilled (disk full), a spill line could not be decoded, or the store
	// rejected the record alone repeatedly while accepting others. Each is logged
	// as an error.
	Dropped      uint64
	QueueDepth   int   // records waiting in the queue now
	SpillBytes   int64 // bytes in spill files not yet replayed, buffered bytes included
	StoreHealthy bool  // false from a failed insert until an insert succeeds again
}

const (
	defaultQueueSize     = 8192
	defaultBatchSize     = 500
	defaultFlushInterval = 200 * time.Millisecond
)

// tuning holds the knobs that are constants in production and shortened in
// tests.
type tuning struct {
	insertTimeout time.Duration // bound on one InsertCalls
	minBackoff    time.Duration // wait after the first failure before trying the store again
	maxBackoff    time.Duration // cap of the doubling backoff
	maxPending    int           // cap of the pending map
	spillBufMax   int           // the flusher writes the spill buffer out past this many bytes
	spillBufWait  int           // Record writes the spill buffer itself past this many bytes
	poisonStrikes int           // failures, each after the store accepted other records, before one record is dropped
}

var defaultTuning = tuning{
	insertTimeout: 10 * time.Second,
	minBackoff:    time.Second,
	maxBackoff:    30 * time.Second,
	maxPending:    defaultMaxPending,
	spillBufMax:   256 << 10,
	spillBufWait:  1 << 20,
	poisonStrikes: 3,
}

// Recorder takes call records from the data plane and writes them to the store
// in batches from one writer goroutine. Record never waits on the database: a
// full queue or a failing store sends records to a spill file in SpillDir,
// which is replayed into the store once it accepts writes again.
type Recorder struct {
	st      Store
	o       Options
	t       tuning
	log     *slog.Logger
	secrets secretCache

	// mu orders sends on queue against Close: Record holds it shared while it
	// sends, Close takes it exclusively to set closed, so once Close has it no
	// send can still land in the queue after the writer's final drain.
	mu     sync.RWMutex
	closed bool
	queue  chan Record

	pending *pendingSet
	spill   spillFile

	enqueued, written, spilled, replayed, dropped atomic.Uint64
	healthy                                       atomic.Bool
	spillBytes                                    atomic.Int64 // see Stats.SpillBytes
	spillRecs                                     atomic.Int64 // records in the live spill file and its buffer

	// Writer goroutine state.
	backoff     time.Duration
	retryAt     time.Time
	lastSuccess time.Time
	replay      replayState

	runCtx    context.Context // parent of every insert; cancelled when Close runs out of time
	cancelRun context.CancelFunc
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error // set by the writer before done is closed
}

// NewRecorder validates o, takes over spill files left by a previous run and
// starts the writer goroutine, which replays those files once the store
// accepts writes.
func NewRecorder(st Store, o Options) (*Recorder, error) {
	return newRecorder(st, o, defaultTuning)
}

func newRecorder(st Store, o Options, t tuning) (*Recorder, error) {
	if st == nil {
		return nil, errors.New("call log recorder: store is nil")
	}
	if o.SpillDir == "" {
		return nil, errors.New("call log recorder: spill directory is required")
	}
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = defaultFlushInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	t.spillBufWait = max(t.spillBufWait, t.spillBufMax)
	r := &Recorder{
		st:      st,
		o:       o,
		t:       t,
		log:     o.Logger,
		secrets: secretCache{fn: o.Secrets},
		queue:   make(chan Record, o.QueueSize),
		pending: newPendingSet(t.maxPending),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	r.spill.dir = o.SpillDir
	r.healthy.Store(true)
	if err := r.takeOverLeftovers(); err != nil {
		return nil, err
	}
	r.runCtx, r.cancelRun = context.WithCancel(context.Background())
	r.startSpill()
	go r.run()
	return r, nil
}

// Record hands a record over. In the normal case it only puts the record on a
// bounded channel; when the channel is full, or after Close, the record is
// redacted and appended to the spill file buffer instead. Safe for concurrent
// use.
func (r *Recorder) Record(rec Record) {
	if rec.ID == "" {
		// The store keys records by ID and rejects one without; queueing it would
		// fail a whole batch.
		r.dropped.Add(1)
		r.log.Error("dropping call record without id", "endpoint", rec.Endpoint, "time", rec.Time)
		return
	}
	if !r.pending.add(rec.ID, SummaryOf(&rec)) && r.pending.full.CompareAndSwap(false, true) {
		r.log.Warn("call log pending index is full: the oldest calls not yet stored are forgotten, and feedback on them is refused until their records are replayed",
			"cap", r.t.maxPending)
	}
	r.mu.RLock()
	if !r.closed {
		select {
		case r.queue <- rec:
			r.mu.RUnlock()
			r.enqueued.Add(1)
			return
		default:
		}
	}
	r.mu.RUnlock()
	r.spillOne(rec)
}

// Pending returns the summary of a call whose record is accepted but not yet
// in the store: queued, in a batch being written, or spilled and not yet
// replayed. Feedback posted the instant a response ends, before its record is
// flushed, uses it to learn whom the call belongs to.
func (r *Recorder) Pending(id string) (CallSummary, bool) {
	return r.pending.get(id)
}

// Stats returns the current counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Enqueued:     r.enqueued.Load(),
		Written:      r.written.Load(),
		Spilled:      r.spilled.Load(),
		Replayed:     r.replayed.Load(),
		Dropped:      r.dropped.Load(),
		QueueDepth:   len(r.queue),
		SpillBytes:   r.spillBytes.Load(),
		StoreHealthy: r.healthy.Load(),
	}
}

// Close stops accepting into the queue, drains it, writes what it can to the
// store and spills the rest, then flushes, fsyncs and closes the spill file.
// Records handed over afterwards go straight to the spill file. When ctx has a
// deadline, store writes stop a little before it so that spilling the rest
// still fits. Spill files not yet replayed stay for the next start.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.stop)

		storeCtx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			reserve := min(time.Until(dl)/4, 2*time.Second)
			storeCtx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		}
		go func() {
			defer cancel()
			select {
			case <-storeCtx.Done():
				r.cancelRun()
			case <-r.done:
			}
		}()
	})
	select {
	case <-r.done:
		return r.closeErr
	case <-ctx.Done():
		return fmt.Errorf("closing call log: %w", ctx.Err())
	}
}

// run is the writer goroutine.
func (r *Recorder) run() {
	backgroundPriority()
	defer close(r.done)
	defer r.cancelRun()
	r.indexLeftovers()

	tick := time.NewTicker(r.o.FlushInterval)
	defer tick.Stop()
	batch := make([]Record, 0, r.o.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			r.writeLive(batch)
			clear(batch) // drop references to bodies while the slice waits
			batch = batch[:0]
		}
	}
	for {
		if r.replayDue() {
			// Replay runs when the queue is momentarily empty and after every
			// full live batch, so it neither starves live records nor is starved
			// by them.
			select {
			case rec := <-r.queue:
				batch = append(batch, rec)
				if len(batch) >= r.o.BatchSize {
					flush()
					r.replayStep()
				}
			case <-tick.C:
				flush()
				r.spillSync()
			case <-r.stop:
				r.shutdown(batch)
				return
			default:
				r.replayStep()
			}
			continue
		}
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
			if len(batch) >= r.o.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
			r.spillSync()
		case <-r.stop:
			r.shutdown(batch)
			return
		}
	}
}

// writeLive redacts a batch from the queue and inserts it, or spills it when
// the store is failing.
func (r *Recorder) writeLive(batch []Record) {
	r.prepare(batch)
	if !r.tryable(time.Now()) {
		r.spillRecords(batch)
		return
	}
	if err := r.insert(batch); err != nil {
		r.spillRecords(batch)
		return
	}
	r.written.Add(uint64(len(batch)))
	r.pending.removeRecords(batch)
}

// shutdown drains the queue after Close: it inserts until the first failure or
// until Close runs out of time, and spills everything else.
func (r *Recorder) shutdown(batch []Record) {
drain:
	for {
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
		default:
			break drain
		}
	}
	r.prepare(batch)
	failed := false
	for len(batch) > 0 {
		n := min(len(batch), r.o.BatchSize)
		chunk := batch[:n]
		batch = batch[n:]
		if !failed && r.runCtx.Err() == nil {
			if err := r.insert(chunk); err == nil {
				r.written.Add(uint64(n))
				r.pending.removeRecords(chunk)
				continue
			}
			failed = true
		}
		r.spillRecords(chunk)
	}
	r.abandonReplay()
	r.closeErr = r.spillClose()
}

// insert writes recs with a timeout and updates the store's health.
func (r *Recorder) insert(recs []Record) error {
	ctx, cancel := context.WithTimeout(r.runCtx, r.t.insertTimeout)
	var err error
	if r.behind() {
		// The writer's thread runs at the lowest priority (backgroundPriority),
		// which keeps request latency low while it keeps up. Once it falls
		// behind, a busy CPU would starve it and the backlog would only grow,
		// so the insert runs on an ordinary thread until it has caught up.
		done := make(chan error, 1)
		go func() { done <- r.st.InsertCalls(ctx, recs) }()
		err = <-done
	} else {
		err = r.st.InsertCalls(ctx, recs)
	}
	cancel()
	now := time.Now()
	if err != nil {
		r.markFailure(now, err)
		return err
	}
	r.markSuccess(now)
	return nil
}

// behind reports whether records are piling up: a quarter of the queue is
// full, or spilled records wait to be replayed.
func (r *Recorder) behind() bool {
	return len(r.queue) >= cap(r.queue)/4 || r.spillBytes.Load() > 0
}

// tryable reports whether the store may be written to now: it is healthy, or
// the backoff after its last failure has elapsed.
func (r *Recorder) tryable(now time.Time) bool {
	return r.healthy.Load() || !now.Before(r.retryAt)
}

func (r *Recorder) markFailure(now time.Time, err error) {
	if r.healthy.Load() {
		r.backoff = r.t.minBackoff
		r.log.Warn("call log store write failed; spilling records to disk until it recovers",
			"err", err, "retry_in", r.backoff)
	} else {
		r.backoff = min(2*r.backoff, r.t.maxBackoff)
		r.log.Warn("call log store write failed again", "err", err, "retry_in", r.backoff)
	}
	r.healthy.Store(false)
	r.retryAt = now.Add(r.backoff)
}

func (r *Recorder) markSuccess(now time.Time) {
	if !r.healthy.Load() {
		r.log.Info("call log store accepts writes again")
	}
	r.healthy.Store(true)
	r.backoff = 0
	r.lastSuccess = now
}

// prepare makes records safe to persist, in place: bodies and error messages
// are redacted, and every string is made valid UTF-8 without NUL bytes
// (PostgreSQL text rejects both, and one such record would fail its whole
// batch).
func (r *Recorder) prepare(recs []Record) {
	set := r.secrets.get()
	for i := range recs {
		prepareRecord(&recs[i], set)
	}
}

func prepareRecord(rec *Record, set *secretSet) {
	for _, p := range []*string{
		&rec.ID, &rec.Consumer, &rec.KeyID, &rec.Endpoint, &rec.Model, &rec.Provider,
		&rec.UpstreamModel, &rec.ErrorType, &rec.ClientIP, &rec.UserAgent, &rec.TraceID,
	} {
		*p = storable(*p)
	}
	// Attempts and Dropped share their arrays with the caller's record, so
	// they are copied before anything in them changes, which is rare.
	copied := false
	for i := range rec.Attempts {
		a := rec.Attempts[i]
		b := a
		b.Provider, b.UpstreamModel, b.KeyID, b.ErrorType = storable(a.Provider), storable(a.UpstreamModel), storable(a.KeyID), storable(a.ErrorType)
		if b == a {
			continue
		}
		if !copied {
			rec.Attempts, copied = slices.Clone(rec.Attempts), true
		}
		rec.Attempts[i] = b
	}
	copied = false
	for i, d := range rec.Dropped { // field names a client chose: may be anything
		if s := storable(d); s != d {
			if !copied {
				rec.Dropped, copied = slices.Clone(rec.Dropped), true
			}
			rec.Dropped[i] = s
		}
	}
	rec.ErrorMessage = set.redact(storable(rec.ErrorMessage))
	rec.RequestBody = set.redact(storable(rec.RequestBody))
	rec.ResponseBody = set.redact(storable(rec.ResponseBody))
	if math.IsNaN(rec.CostUSD) || math.IsInf(rec.CostUSD, 0) {
		// JSON cannot encode NaN, so the record could not be spilled.
		rec.CostUSD = 0
	}
}

// storable returns s as valid UTF-8 without NUL bytes.
func storable(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// spillOne is Record's overload path: the record is redacted here because the
// spill file must never hold secrets, and encoded into a pooled buffer, so
// that the spill lock is held only to copy the line in.
func (r *Recorder) spillOne(rec Record) {
	prepareRecord(&rec, r.secrets.get())
	bp := lineBufs.Get().(*[]byte)
	line, err := appendRecord((*bp)[:0], &rec)
	if err != nil {
		lineBufs.Put(bp)
		r.dropRecord(rec.ID, fmt.Errorf("encoding call record: %w", err))
		return
	}
	line = append(line, '\n')
	r.spillAppend(line, []string{rec.ID})
	if cap(line) <= maxPooledLine {
		*bp = line[:0]
		lineBufs.Put(bp)
	}
}

// spillRecords appends prepared records to the spill file and writes them out.
func (r *Recorder) spillRecords(recs []Record) {
	var buf []byte
	ids := make([]string, 0, len(recs))
	for i := range recs {
		n := len(buf)
		var err error
		if buf, err = appendRecord(buf, &recs[i]); err != nil {
			buf = buf[:n]
			r.dropRecord(recs[i].ID, fmt.Errorf("encoding call record: %w", err))
			continue
		}
		buf = append(buf, '\n')
		ids = append(ids, recs[i].ID)
	}
	r.spillAppend(buf, ids)
	r.spillFlush()
}

// dropRecord counts and logs one lost record.
func (r *Recorder) dropRecord(id string, err error) {
	r.dropped.Add(1)
	r.pending.remove(id)
	r.log.Error("call record lost", "id", id, "err", err)
}
