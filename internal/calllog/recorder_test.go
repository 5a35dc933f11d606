package calllog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStore is an in-memory Store with a failure switch. It is idempotent by
// ID like the real stores, and counts how often each ID was inserted while it
// was new and while it was already stored.
type fakeStore struct {
	mu      sync.Mutex
	rows    map[string]Record
	dups    map[string]int // inserts of an ID already stored
	batches []int
	fail    bool
	reject  map[string]bool // IDs refused on every attempt
	gate    chan struct{}   // when set, InsertCalls waits for it to close
	entered chan struct{}   // when set, InsertCalls signals it on entry
}

func newFakeStore() *fakeStore {
	return &fakeStore{rows: map[string]Record{}, dups: map[string]int{}, reject: map[string]bool{}}
}

func (s *fakeStore) InsertCalls(ctx context.Context, recs []Record) error {
	s.mu.Lock()
	gate, entered := s.gate, s.entered
	s.mu.Unlock()
	if entered != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("database is down")
	}
	for _, r := range recs {
		if s.reject[r.ID] {
			return fmt.Errorf("record %s violates a constraint", r.ID)
		}
	}
	s.batches = append(s.batches, len(recs))
	for _, r := range recs {
		if _, ok := s.rows[r.ID]; ok {
			s.dups[r.ID]++
			continue
		}
		s.rows[r.ID] = r
	}
	return nil
}

func (s *fakeStore) setFail(v bool) {
	s.mu.Lock()
	s.fail = v
	s.mu.Unlock()
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

func (s *fakeStore) row(id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[id]
	return r, ok
}

func (s *fakeStore) batchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

// assertExactlyOnce checks that every id is stored and none was inserted
// twice.
func (s *fakeStore) assertExactlyOnce(t *testing.T, ids []string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.rows[id]; !ok {
			t.Errorf("record %s is not stored", id)
		}
	}
	for id, n := range s.dups {
		t.Errorf("record %s inserted %d extra times", id, n)
	}
	if len(s.rows) != len(ids) {
		t.Errorf("store holds %d rows, want %d", len(s.rows), len(ids))
	}
}

// testTuning shortens the backoff so that outage tests take milliseconds.
var testTuning = tuning{
	insertTimeout: 5 * time.Second,
	minBackoff:    5 * time.Millisecond,
	maxBackoff:    20 * time.Millisecond,
	maxPending:    defaultMaxPending,
	spillBufMax:   256 << 10,
	spillBufWait:  1 << 20,
	poisonStrikes: 3,
}

func startRecorder(t testing.TB, st Store, o Options) *Recorder {
	t.Helper()
	if o.SpillDir == "" {
		o.SpillDir = t.TempDir()
	}
	r, err := newRecorder(st, o, testTuning)
	if err != nil {
		t.Fatalf("newRecorder: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

func closeRecorder(t *testing.T, r *Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func rec(id string) Record {
	return Record{
		ID:       id,
		Time:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Consumer: "consumer-" + id,
		Endpoint: "/v1/chat/completions",
		Model:    "gpt-4o-mini",
		Status:   200,
	}
}

func recordN(r *Recorder, prefix string, n int) []string {
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		r.Record(rec(ids[i]))
	}
	return ids
}

// spillFiles returns the spill files in dir.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spillLines returns every line of every spill file in dir.
func spillLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, p := range spillFiles(t, dir) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	return lines
}

func TestBatching(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		records   int
		wantSizes func(t *testing.T, sizes []int)
	}{
		{
			name:    "by size",
			opts:    Options{BatchSize: 10, FlushInterval: time.Hour},
			records: 30,
			wantSizes: func(t *testing.T, sizes []int) {
				if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 10 {
					t.Errorf("batch sizes %v, want [10 10 10]", sizes)
				}
			},
		},
		{
			name:    "by interval",
			opts:    Options{BatchSize: 1000, FlushInterval: 20 * time.Millisecond},
			records: 7,
			wantSizes: func(t *testing.T, sizes []int) {
				sum := 0
				for _, s := range sizes {
					sum += s
				}
				if sum != 7 || len(sizes) > 7 {
					t.Errorf("batch sizes %v, want partial batches adding up to 7", sizes)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			r := startRecorder(t, st, tt.opts)
			ids := recordN(r, "b", tt.records)
			// Neither case reaches the store through Close: batches form on their own.
			eventually(t, "all records are stored", func() bool { return st.count() == tt.records })
			tt.wantSizes(t, st.batchSizes())
			st.assertExactlyOnce(t, ids)
			if s := r.Stats(); s.Written != uint64(tt.records) || s.Enqueued != uint64(tt.records) || s.Spilled != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestQueueFullSpills(t *testing.T) {
	st := newFakeStore()
	st.gate = make(chan struct{})
	st.entered = make(chan struct{}, 1)
	dir := t.TempDir()
	r := startRecorder(t, st, Options{QueueSize: 4, BatchSize: 1, FlushInterval: 5 * time.Millisecond, SpillDir: dir})

	ids := recordN(r, "first", 1)
	<-st.entered // the writer is now stuck in InsertCalls
	ids = append(ids, recordN(r, "q", 50)...)
	if s := r.Stats(); s.Enqueued != 5 || s.QueueDepth != 4 {
		t.Fatalf("after overflow: stats %+v, want 5 enqueued and 4 queued", s)
	}
	for _, id := range ids {
		if _, ok := r.Pending(id); !ok {
			t.Fatalf("record %s is not pending", id)
		}
	}

	st.mu.Lock()
	st.entered = nil
	close(st.gate)
	st.mu.Unlock()
	eventually(t, "every record is stored", func() bool { return st.count() == len(ids) })
	eventually(t, "the spill file is replayed and removed", func() bool {
		return len(spillFiles(t, dir)) == 0 && r.Stats().SpillBytes == 0
	})
	st.assertExactlyOnce(t, ids)
	s := r.Stats()
	if s.Spilled != 46 || s.Replayed != 46 || s.Written != 5 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 46 spilled and replayed, 5 written", s)
	}
}

func TestStoreOutageReplaysExactlyOnce(t *testing.T) {
	st := newFakeStore()
	st.setFail(true)
	dir := t.TempDir()
	r := startRecorder(t, st, Options{BatchSize: 10, FlushInterval: 5 * time.Millisecond, SpillDir: dir})

	ids := recordN(r, "o", 95)
	eventually(t, "every record is spilled", func() bool { return r.Stats().Spilled == 95 })
	if s := r.Stats(); s.StoreHealthy || s.SpillBytes == 0 || s.Written != 0 {
		t.Errorf("during the outage: stats %+v", s)
	}
	if len(spillFiles(t, dir)) == 0 {
		t.Error("no spill file during the outage")
	}
	for _, id := range ids {
		if c, ok := r.Pending(id); !ok || c.Consumer != "consumer-"+id {
			t.Fatalf("Pending(%s) = %+v, %v during the outage", id, c, ok)
		}
	}

	st.setFail(false)
	eventually(t, "every record is replayed", func() bool { return r.Stats().Replayed == 95 })
	eventually(t, "the spill files are removed", func() bool { return len(spillFiles(t, dir)) == 0 })
	st.assertExactlyOnce(t, ids)
	s := r.Stats()
	if !s.StoreHealthy || s.SpillBytes != 0 || s.Dropped != 0 || s.Written != 0 {
		t.Errorf("after recovery: stats %+v", s)
	}
	for _, id := range ids {
		if _, ok := r.Pending(id); ok {
			t.Fatalf("record %s still pending after replay", id)
		}
	}
}

// writeSpill writes lines to name in dir, each followed by a newline unless
// it is the last and partial is set.
func writeSpill(t *testing.T, dir, name string, partial bool, lines ...string) {
	t.Helper()
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if !partial || i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func jsonLine(t *testing.T, r Record) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLeftoverSpillFilesReplayedAtStart(t *testing.T) {
	dir := t.TempDir()
	writeSpill(t, dir, "calls-spill-100.replay.jsonl", false,
		jsonLine(t, rec("a1")), jsonLine(t, rec("a2")), "this is not json", "", jsonLine(t, rec("a3")))
	writeSpill(t, dir, "calls-spill.jsonl", true,
		jsonLine(t, rec("b1")), jsonLine(t, rec("b2")), `{"id":"b3","time":"2026-01-0`)
	writeSpill(t, dir, "unrelated.txt", false, "keep me")

	st := newFakeStore()
	st.setFail(true)
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	r := startRecorder(t, st, Options{BatchSize: 2, FlushInterval: 5 * time.Millisecond, SpillDir: dir, Logger: logger})
	eventually(t, "leftover records are pending", func() bool {
		c, ok := r.Pending("b2")
		return ok && c.Consumer == "consumer-b2"
	})
	if _, ok := r.Pending("a1"); !ok {
		t.Error("a1 from a leftover replay file is not pending")
	}
	if _, err := os.Stat(filepath.Join(dir, "calls-spill.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the previous run's live spill file was not taken over: %v", err)
	}

	st.setFail(false)
	want := []string{"a1", "a2", "a3", "b1", "b2"}
	eventually(t, "leftovers are replayed", func() bool { return st.count() == len(want) })
	eventually(t, "replayed files are removed", func() bool { return len(spillFiles(t, dir)) == 0 })
	st.assertExactlyOnce(t, want)
	s := r.Stats()
	if s.Replayed != 5 || s.Dropped != 2 || s.SpillBytes != 0 {
		t.Errorf("stats %+v, want 5 replayed, 2 dropped (a bad line and a partial trailing line)", s)
	}
	if _, ok := r.Pending("a1"); ok {
		t.Error("a1 still pending after replay")
	}
	for _, want := range []string{"calls-spill-100.replay.jsonl line=3", "line=3 err=\"partial trailing line\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "unrelated.txt")); err != nil {
		t.Errorf("unrelated file touched: %v", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger writing from the writer
// goroutine while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSpillWriteFailureCountsDropped(t *testing.T) {
	st := newFakeStore()
	st.setFail(true)
	dir := t.TempDir()
	var logs lockedBuffer
	r := startRecorder(t, st, Options{BatchSize: 5, FlushInterval: 5 * time.Millisecond, SpillDir: dir,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// A directory where the spill file should be makes every open fail, as a
	// full or read-only disk would.
	if err := os.Mkdir(filepath.Join(dir, "calls-spill.jsonl"), 0o700); err != nil {
		t.Fatal(err)
	}
	ids := recordN(r, "d", 10)
	eventually(t, "the records are counted as dropped", func() bool { return r.Stats().Dropped == 10 })
	s := r.Stats()
	if s.Spilled != 0 || s.SpillBytes != 0 {
		t.Errorf("stats %+v", s)
	}
	for _, id := range ids {
		if _, ok := r.Pending(id); ok {
			t.Fatalf("dropped record %s still pending", id)
		}
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "could not write them to the spill file") {
		t.Errorf("loss not logged as an error:\n%s", logs.String())
	}
}

func TestPending(t *testing.T) {
	st := newFakeStore()
	st.gate = make(chan struct{})
	r := startRecorder(t, st, Options{BatchSize: 1, FlushInterval: 5 * time.Millisecond})
	r.Record(rec("p1"))
	if c, ok := r.Pending("p1"); !ok || c.Consumer != "consumer-p1" {
		t.Fatalf("Pending(p1) = %+v, %v, want consumer-p1, true", c, ok)
	}
	if _, ok := r.Pending("unknown"); ok {
		t.Error("Pending(unknown) = true")
	}
	time.Sleep(20 * time.Millisecond) // the batch is now being written
	if _, ok := r.Pending("p1"); !ok {
		t.Fatal("p1 not pending while its batch is being written")
	}
	close(st.gate)
	eventually(t, "p1 is stored and no longer pending", func() bool {
		_, ok := r.Pending("p1")
		return !ok
	})
	if _, ok := st.row("p1"); !ok {
		t.Error("p1 is not pending but not stored either")
	}
}

func TestPendingCap(t *testing.T) {
	st := newFakeStore()
	st.setFail(true)
	tun := testTuning
	tun.maxPending = pendingShards // one entry a shard
	r, err := newRecorder(st, Options{SpillDir: t.TempDir(), FlushInterval: 5 * time.Millisecond}, tun)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRecorder(t, r)
	recordN(r, "cap", 10*pendingShards)
	if n := r.pending.len(); n > pendingShards {
		t.Errorf("pending holds %d entries, cap %d", n, pendingShards)
	}
	// The newest call is the one feedback is most likely to name: it must be kept.
	r.Record(Record{ID: "newest", Consumer: "c", Time: time.Now()})
	if c, ok := r.Pending("newest"); !ok || c.Consumer != "c" {
		t.Errorf("the newest record was not kept in a full pending index")
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name       string
		fail       bool
		wantStored int
		wantLines  int
	}{
		{"healthy store gets everything", false, 1000, 0},
		{"failing store: everything spilled", true, 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			st.setFail(tt.fail)
			dir := t.TempDir()
			r := startRecorder(t, st, Options{QueueSize: 2000, BatchSize: 100, FlushInterval: time.Hour, SpillDir: dir})
			ids := recordN(r, "c", 1000)
			closeRecorder(t, r)

			if n := st.count(); n != tt.wantStored {
				t.Errorf("stored %d, want %d", n, tt.wantStored)
			}
			if lines := spillLines(t, dir); len(lines) != tt.wantLines {
				t.Errorf("spill files hold %d lines, want %d", len(lines), tt.wantLines)
			}
			if s := r.Stats(); s.Written+s.Spilled != 1000 || s.QueueDepth != 0 || s.Dropped != 0 {
				t.Errorf("stats %+v", s)
			}

			// A record after Close goes to the spill file at once.
			r.Record(rec("late"))
			if lines := spillLines(t, dir); len(lines) != tt.wantLines+1 || !strings.Contains(lines[len(lines)-1], `"late"`) {
				t.Errorf("record after Close not in the spill file (%d lines)", len(lines))
			}

			// The next run stores what this one spilled.
			st.setFail(false)
			next := startRecorder(t, st, Options{SpillDir: dir, FlushInterval: 5 * time.Millisecond})
			all := append(ids, "late")
			eventually(t, "the next run replays the spill", func() bool { return st.count() == len(all) })
			eventually(t, "spill files are removed", func() bool { return len(spillFiles(t, dir)) == 0 })
			st.assertExactlyOnce(t, all)
			closeRecorder(t, next)
		})
	}
}

func TestCloseBoundedByContext(t *testing.T) {
	st := newFakeStore()
	st.gate = make(chan struct{}) // never opens: the store hangs
	dir := t.TempDir()
	r := startRecorder(t, st, Options{BatchSize: 10, FlushInterval: time.Hour, SpillDir: dir})
	recordN(r, "h", 25)
	const limit = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > limit {
		t.Errorf("Close took %s, longer than its context", d)
	}
	if lines := spillLines(t, dir); len(lines) != 25 {
		t.Errorf("spill files hold %d lines, want all 25", len(lines))
	}
}

func TestConcurrentRecordLosesNothing(t *testing.T) {
	const goroutines, each = 50, 1000
	st := newFakeStore()
	dir := t.TempDir()
	// A small queue forces part of the load through the spill file.
	r := startRecorder(t, st, Options{QueueSize: 256, BatchSize: 100, FlushInterval: 5 * time.Millisecond, SpillDir: dir})
	var wg sync.WaitGroup
	ids := make([][]string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("g%d-%d", g, i)
				ids[g] = append(ids[g], id)
				r.Record(rec(id))
			}
		})
	}
	wg.Wait()
	eventually(t, "every record is stored", func() bool {
		s := r.Stats()
		return s.Written+s.Replayed == goroutines*each
	})
	closeRecorder(t, r)
	var all []string
	for _, g := range ids {
		all = append(all, g...)
	}
	st.assertExactlyOnce(t, all)
	s := r.Stats()
	if s.Dropped != 0 || s.Enqueued+s.Spilled != goroutines*each {
		t.Errorf("stats %+v", s)
	}
	t.Logf("stats: %+v", s)
}

func TestPoisonRecordIsDropped(t *testing.T) {
	st := newFakeStore()
	st.reject["bad"] = true
	dir := t.TempDir()
	r := startRecorder(t, st, Options{BatchSize: 20, FlushInterval: 5 * time.Millisecond, SpillDir: dir})
	ids := recordN(r, "ok", 10)
	r.Record(rec("bad"))
	ids = append(ids, recordN(r, "ok2", 9)...)
	// Live traffic keeps showing the store healthy while the bad record fails.
	n := 0
	eventually(t, "the bad record is dropped", func() bool {
		ids = append(ids, recordN(r, fmt.Sprintf("live%d", n), 1)...)
		n++
		time.Sleep(5 * time.Millisecond)
		return r.Stats().Dropped == 1
	})
	eventually(t, "everything else is stored", func() bool {
		return st.count() == len(ids) && len(spillFiles(t, dir)) == 0
	})
	st.assertExactlyOnce(t, ids)
	if _, ok := r.Pending("bad"); ok {
		t.Error("dropped record still pending")
	}
}

func TestRecordWithoutIDIsDropped(t *testing.T) {
	st := newFakeStore()
	r := startRecorder(t, st, Options{})
	r.Record(Record{Endpoint: "/v1/chat/completions"})
	if s := r.Stats(); s.Dropped != 1 || s.Enqueued != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestNothingSecretReachesDiskOrStore(t *testing.T) {
	const configured = "my-provider-secret-123"
	body := `{"api_key":"abc","messages":[{"content":"` + testOpenAIKey + ` and ` + configured + `"}]}`
	secrets := func() []string { return []string{configured} }
	tests := []struct {
		name  string
		fail  bool
		queue int
	}{
		{"stored", false, 8192},
		{"spilled by the writer", true, 8192},
		{"spilled by Record on overflow", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			st.setFail(tt.fail)
			dir := t.TempDir()
			r := startRecorder(t, st, Options{QueueSize: tt.queue, BatchSize: 10, FlushInterval: time.Hour, SpillDir: dir, Secrets: secrets})
			for i := range 200 {
				x := rec(fmt.Sprint("s", i))
				x.RequestBody = body
				x.ResponseBody = "Authorization: Bearer " + testJWT
				x.ErrorMessage = "invalid key " + testOpenAIKey
				x.UserAgent = "bad\xffutf8\x00"
				r.Record(x)
			}
			closeRecorder(t, r)
			var persisted []string
			persisted = append(persisted, spillLines(t, dir)...)
			st.mu.Lock()
			for _, x := range st.rows {
				b, _ := json.Marshal(x)
				persisted = append(persisted, string(b))
				if x.UserAgent != "bad\uFFFDutf8\uFFFD" {
					t.Errorf("user agent %q not made storable", x.UserAgent)
				}
			}
			st.mu.Unlock()
			if len(persisted) != 200 {
				t.Fatalf("%d records persisted, want 200", len(persisted))
			}
			for _, p := range persisted {
				for _, secret := range []string{configured, testOpenAIKey, testJWT, `"abc"`} {
					if strings.Contains(p, secret) {
						t.Fatalf("persisted record holds %q: %s", secret, p)
					}
				}
			}
		})
	}
}

func TestSpillFileMode(t *testing.T) {
	st := newFakeStore()
	st.setFail(true)
	dir := t.TempDir()
	r := startRecorder(t, st, Options{BatchSize: 1, FlushInterval: 5 * time.Millisecond, SpillDir: dir})
	recordN(r, "m", 1)
	closeRecorder(t, r)
	files := spillFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("no spill file")
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

func TestNewRecorderErrors(t *testing.T) {
	tests := []struct {
		name string
		st   Store
		o    Options
	}{
		{"no store", nil, Options{SpillDir: t.TempDir()}},
		{"no spill dir", newFakeStore(), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := NewRecorder(tt.st, tt.o); err == nil {
				_ = r.Close(context.Background())
				t.Fatal("NewRecorder succeeded")
			}
		})
	}
}

// nopStore accepts everything at once.
type nopStore struct{ n atomic.Int64 }

func (s *nopStore) InsertCalls(_ context.Context, recs []Record) error {
	s.n.Add(int64(len(recs)))
	return nil
}

// BenchmarkRecord measures Record on the hot path, goroutines in parallel.
// "queue" gives the queue room for every record, so it measures the normal
// path (pending map and channel send) while the writer drains concurrently;
// "spill" has a one-slot queue, so it measures the overload path.
func BenchmarkRecord(b *testing.B) {
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprintf("0193a5b2-7c1d-7e4f-8a9b-%012d", i)
	}
	for _, bc := range []struct {
		name  string
		queue func(n int) int
	}{
		{"queue", func(n int) int { return n + 1 }},
		{"spill", func(int) int { return 1 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := NewRecorder(&nopStore{}, Options{QueueSize: bc.queue(b.N), SpillDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				x := rec("")
				x.RequestBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`
				for pb.Next() {
					x.ID = ids[next.Add(1)&(1<<16-1)]
					r.Record(x)
				}
			})
			b.StopTimer()
			if err := r.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Stats().Spilled)/float64(b.N), "spilled/op")
		})
	}
}
