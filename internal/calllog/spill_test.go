package calllog

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpillRoundTrip spills a record with every field set, by each path
// that spills, replays it in a new run, and checks that the store gets the
// record as the live path would have stored it and that it encodes to the
// very line the spill file held.
func TestSpillRoundTrip(t *testing.T) {
	const configured = "my-provider-secret-123"
	secrets := func() []string { return []string{configured} }
	in := fullRecord()
	in.RequestBody += " key " + testOpenAIKey + " and " + configured + " nul\x00 bad\xff"
	in.ErrorMessage += " Bearer " + testJWT
	in.Attempts[1].KeyID = "bad\xffkey"
	want := in
	want.Attempts = append([]Attempt(nil), in.Attempts...)
	prepareRecord(&want, newSecretSet(secrets()))
	if in.Attempts[1].KeyID != "bad\xffkey" {
		t.Fatal("prepareRecord changed the caller's attempts")
	}

	tests := []struct {
		name  string
		spill func(t *testing.T, r *Recorder, st *fakeStore)
	}{
		{"by the writer while the store is down", func(t *testing.T, r *Recorder, st *fakeStore) {
			st.setFail(true)
			r.Record(in)
			closeRecorder(t, r)
		}},
		{"by Record after Close", func(t *testing.T, r *Recorder, st *fakeStore) {
			closeRecorder(t, r)
			r.Record(in)
		}},
		{"by Record on a full queue", func(t *testing.T, r *Recorder, st *fakeStore) {
			st.mu.Lock()
			st.gate, st.entered = make(chan struct{}), make(chan struct{}, 1)
			st.mu.Unlock()
			r.Record(rec("first"))
			<-st.entered // the writer is stuck in InsertCalls
			r.Record(rec("queued"))
			r.Record(in)
			st.mu.Lock()
			st.fail = true
			close(st.gate)
			st.mu.Unlock()
			closeRecorder(t, r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := newFakeStore()
			r := startRecorder(t, st, Options{QueueSize: 1, BatchSize: 1, FlushInterval: time.Hour, SpillDir: dir, Secrets: secrets})
			tt.spill(t, r, st)

			var line string
			for _, l := range spillLines(t, dir) {
				if strings.Contains(l, `"id":"`+in.ID+`"`) {
					line = l
				}
				for _, secret := range []string{configured, testOpenAIKey, testJWT} {
					if strings.Contains(l, secret) {
						t.Fatalf("spill file holds %q: %s", secret, l)
					}
				}
			}
			if line == "" {
				t.Fatalf("record not in the spill files: %q", spillLines(t, dir))
			}

			st.setFail(false)
			next := startRecorder(t, st, Options{SpillDir: dir, FlushInterval: 5 * time.Millisecond})
			eventually(t, "the spill is replayed", func() bool { _, ok := st.row(in.ID); return ok })
			closeRecorder(t, next)
			got, _ := st.row(in.ID)
			assertSameRecord(t, got, want)
			again, err := appendRecord(nil, &got)
			if err != nil || !bytes.Equal(again, []byte(line)) {
				t.Errorf("the replayed record encodes differently (%v):\n got %s\nwant %s", err, again, line)
			}
		})
	}
}

// TestSpillBackPressure records from several goroutines while the writer is
// stuck, with a spill buffer small enough that the flusher falls behind and
// Record writes the buffer itself. Nothing may be lost or written twice,
// and the file is written before Close: the writer cannot be what wrote it.
func TestSpillBackPressure(t *testing.T) {
	const goroutines, each = 8, 300
	st := newFakeStore()
	st.gate, st.entered = make(chan struct{}), make(chan struct{}, 1)
	dir := t.TempDir()
	tun := testTuning
	tun.spillBufMax, tun.spillBufWait = 2<<10, 8<<10
	secrets := func() []string { return []string{"configured-secret-value"} }
	r, err := newRecorder(st, Options{QueueSize: 1, BatchSize: 1, FlushInterval: time.Hour, SpillDir: dir, Secrets: secrets}, tun)
	if err != nil {
		t.Fatal(err)
	}
	r.Record(rec("first"))
	<-st.entered
	r.Record(rec("queued"))

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				x := rec(fmt.Sprintf("bp-%d-%d", g, i))
				x.RequestBody = `{"api_key":"abc","content":"configured-secret-value ` + strings.Repeat("x", i) + `"}`
				r.Record(x)
			}
		})
	}
	wg.Wait()
	total := uint64(goroutines * each)
	eventually(t, "the flusher writes the buffer out", func() bool { return r.Stats().Spilled >= total/2 })

	st.mu.Lock()
	st.fail = true
	close(st.gate)
	st.mu.Unlock()
	closeRecorder(t, r)

	s := r.Stats()
	if s.Dropped != 0 || s.Spilled != total+2 || s.Enqueued != 2 {
		t.Errorf("stats %+v, want %d spilled and none dropped", s, total+2)
	}
	seen := map[string]int{}
	for _, l := range spillLines(t, dir) {
		if strings.Contains(l, "configured-secret-value") || strings.Contains(l, `"abc"`) {
			t.Fatalf("spill line holds a secret: %s", l)
		}
		got, err := decodeLine([]byte(l))
		if err != nil {
			t.Fatalf("undecodable spill line %q: %v", l, err)
		}
		seen[got.ID]++
	}
	if len(seen) != int(total)+2 {
		t.Errorf("spill files hold %d records, want %d", len(seen), total+2)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s spilled %d times", id, n)
		}
	}
}

// TestSpillWaitsOnlyOnAFullBuffer holds the file as a long write or an
// fsync would: Record must go on appending while the buffer has room, and
// wait, not drop, once it passes spillBufWait.
func TestSpillWaitsOnlyOnAFullBuffer(t *testing.T) {
	st := newFakeStore()
	st.gate, st.entered = make(chan struct{}), make(chan struct{}, 1)
	tun := testTuning
	tun.spillBufMax, tun.spillBufWait = 1<<10, 8<<10
	r, err := newRecorder(st, Options{QueueSize: 1, BatchSize: 1, FlushInterval: time.Hour, SpillDir: t.TempDir()}, tun)
	if err != nil {
		t.Fatal(err)
	}
	r.Record(rec("first"))
	<-st.entered
	r.Record(rec("queued"))

	r.spill.fileMu.Lock()
	var recorded atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r.Record(rec(fmt.Sprint("busy-", i)))
			recorded.Add(1)
		}
	}()
	eventually(t, "Record waits on the full buffer", func() bool {
		r.spill.mu.Lock()
		n := len(r.spill.buf)
		r.spill.mu.Unlock()
		return n >= tun.spillBufWait
	})
	before := recorded.Load()
	time.Sleep(50 * time.Millisecond)
	if after := recorded.Load(); after != before || before >= 200 {
		t.Fatalf("Record went on past a full buffer: %d, then %d records", before, after)
	}
	if s := r.Stats(); s.Spilled != 0 || s.Dropped != 0 {
		t.Fatalf("stats %+v while the file is held", s)
	}
	r.spill.fileMu.Unlock()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record still waits after the file was released")
	}

	st.mu.Lock()
	st.fail = true
	close(st.gate)
	st.mu.Unlock()
	closeRecorder(t, r)
	if s := r.Stats(); s.Spilled != 202 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 202 spilled", s)
	}
}

// TestSpillAfterCloseClosesFile checks that a write-through after Close leaves no
// file open and the file private.
func TestSpillAfterCloseClosesFile(t *testing.T) {
	dir := t.TempDir()
	r := startRecorder(t, newFakeStore(), Options{SpillDir: dir})
	closeRecorder(t, r)
	r.Record(rec("late"))
	if r.spill.f != nil {
		t.Error("the spill file stays open after a write-through")
	}
	fi, err := os.Stat(r.spill.path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}
