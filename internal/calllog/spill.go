package calllog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spill files are JSON lines of redacted Records. The live file takes appends;
// to replay it the writer renames it to a replay file and starts a new live
// one, so a file being read is never written.
const (
	spillName    = "calls-spill.jsonl"
	replayPrefix = "calls-spill-"
	replaySuffix = ".replay.jsonl"
)

// replayPause is how long replay waits after a file could not be rotated or
// opened, so that a persistent file-system error does not spin the writer.
const replayPause = time.Second

// spillFile is the live spill file and the buffer in front of it. The file is
// opened on the first write, so an idle recorder leaves no empty file behind.
//
// Record copies its encoded line into the buffer under mu, which is held for
// nothing else but swapping the buffer out: a request never waits on a write
// or an fsync while the file keeps up. The buffer is written under fileMu by
// the flusher goroutine once it passes spillBufMax, by the writer every
// FlushInterval, and by Record itself only once it passes spillBufWait, when
// the flusher cannot keep up: that back-pressure bounds memory without ever
// dropping a record for want of room. Lock order: fileMu, then mu.
type spillFile struct {
	dir string

	mu     sync.Mutex
	buf    []byte
	ids    []string      // ids of the records in buf, one per line, in order
	spare  spillBatch    // an emptied buffer to swap in, so a swap allocates nothing
	closed bool          // Close has stopped the flusher: appends are written at once
	kick   chan struct{} // wakes the flusher; closed, under mu, by spillClose

	fileMu   sync.Mutex
	f        *os.File
	size     int64 // bytes of complete lines in f
	recs     int   // records in f
	unsynced bool  // f was written since its last fsync
	openLine bool  // f ends in a partial line that could not be cut off
	// fileClosed: the writer has stopped, so every write is synced and the
	// file closed at once.
	fileClosed  bool
	flusherDone chan struct{}
}

// spillBatch is a buffer taken out of spillFile to be written.
type spillBatch struct {
	buf []byte
	ids []string
}

func (s *spillFile) path() string { return filepath.Join(s.dir, spillName) }

// startSpill prepares the buffer and starts the flusher goroutine.
func (r *Recorder) startSpill() {
	r.spill.kick = make(chan struct{}, 1)
	r.spill.flusherDone = make(chan struct{})
	go r.flushSpill()
}

// flushSpill is the flusher goroutine. It runs at normal priority, unlike
// the writer: at peak the writer is starved by design, and the buffer would
// then be written by requests.
func (r *Recorder) flushSpill() {
	defer close(r.spill.flusherDone)
	for range r.spill.kick {
		r.spillFlush()
	}
}

// spillAppend adds encoded lines to the buffer. Past spillBufMax it wakes
// the flusher; past spillBufWait, or after Close, it writes the buffer
// itself.
func (r *Recorder) spillAppend(lines []byte, ids []string) {
	if len(ids) == 0 {
		return
	}
	s := &r.spill
	s.mu.Lock()
	s.buf = append(s.buf, lines...)
	s.ids = append(s.ids, ids...)
	r.spillBytes.Add(int64(len(lines)))
	r.spillRecs.Add(int64(len(ids)))
	n, closed := len(s.buf), s.closed
	if n >= r.t.spillBufMax && !closed {
		select {
		case s.kick <- struct{}{}:
		default: // already woken
		}
	}
	s.mu.Unlock()
	if closed || n >= r.t.spillBufWait {
		r.spillFlush()
	}
}

// spillFlush writes the buffer out; after Close it also syncs and closes the
// file.
func (r *Recorder) spillFlush() {
	s := &r.spill
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	r.spillFlushLocked()
	if s.fileClosed && s.f != nil {
		_ = r.spillSyncLocked() // logged
		if err := s.f.Close(); err != nil {
			r.log.Error("closing call log spill file", "file", s.path(), "err", err)
		}
		s.f = nil
	}
}

// spillFlushLocked takes the buffer and writes it to the live file. fileMu
// must be held.
func (r *Recorder) spillFlushLocked() {
	s := &r.spill
	s.mu.Lock()
	if len(s.ids) == 0 {
		s.mu.Unlock()
		return
	}
	b := spillBatch{buf: s.buf, ids: s.ids}
	s.buf, s.ids, s.spare = s.spare.buf, s.spare.ids, spillBatch{}
	s.mu.Unlock()
	r.spillWriteLocked(b.buf, b.ids)

	clear(b.ids) // drop the ids while the slice waits
	if cap(b.buf) > 2*r.t.spillBufWait {
		return // do not keep a buffer sized by a rare burst
	}
	s.mu.Lock()
	if s.spare.buf == nil && s.spare.ids == nil {
		s.spare = spillBatch{buf: b.buf[:0], ids: b.ids[:0]}
	}
	s.mu.Unlock()
}

// spillWriteLocked writes buffered lines to the live file. On a failed or
// short write the complete lines that made it count as spilled, a trailing
// partial line is cut off again so the next append starts on a fresh line,
// and the records that did not make it are dropped and logged.
func (r *Recorder) spillWriteLocked(buf []byte, ids []string) {
	s := &r.spill
	if len(buf) == 0 {
		return
	}
	if s.f == nil {
		f, err := os.OpenFile(s.path(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			r.spillLost(ids, len(buf), fmt.Errorf("opening spill file: %w", err))
			return
		}
		size := int64(0)
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		s.f, s.size = f, size
	}
	if s.openLine {
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			r.spillLost(ids, len(buf), fmt.Errorf("writing spill file: %w", err))
			return
		}
		s.size++
		s.openLine = false
	}
	n, err := s.f.Write(buf)
	if err == nil {
		s.size += int64(n)
		s.recs += len(ids)
		s.unsynced = true
		r.spilled.Add(uint64(len(ids)))
		return
	}
	werr := fmt.Errorf("writing spill file: %w", err)
	good := bytes.LastIndexByte(buf[:n], '\n') + 1
	k := bytes.Count(buf[:good], []byte{'\n'})
	s.recs += k
	r.spilled.Add(uint64(k))
	if n > good {
		if terr := s.f.Truncate(s.size + int64(good)); terr != nil {
			// The partial line stays. It is ended before the next append, so
			// replay counts it as one undecodable line instead of it swallowing
			// the next record; it is counted then, not here, to count it once.
			r.log.Error("cutting partial line from spill file", "file", s.path(), "err", terr)
			s.size += int64(n)
			s.openLine = true
			r.pending.remove(ids[k])
			r.spillRecs.Add(-1)
			r.spillLost(ids[k+1:], len(buf)-n, werr)
			return
		}
	}
	s.size += int64(good)
	r.spillLost(ids[k:], len(buf)-good, werr)
}

// spillLost drops buffered records that could not be written.
func (r *Recorder) spillLost(ids []string, lostBytes int, err error) {
	r.spillBytes.Add(-int64(lostBytes))
	if len(ids) == 0 {
		return
	}
	r.dropped.Add(uint64(len(ids)))
	r.spillRecs.Add(-int64(len(ids)))
	for _, id := range ids {
		r.pending.remove(id)
	}
	r.log.Error("call records lost: could not write them to the spill file",
		"file", r.spill.path(), "records", len(ids), "err", err)
}

// spillSync writes the buffer out and fsyncs the live file; the writer calls
// it every FlushInterval. The fsync runs outside the locks, so that appends,
// and writes by the flusher, go on meanwhile: only the writer goroutine
// closes the file while the writer runs, so it cannot be closed under it.
func (r *Recorder) spillSync() {
	s := &r.spill
	s.fileMu.Lock()
	r.spillFlushLocked()
	f := s.f
	dirty := f != nil && s.unsynced
	s.unsynced = false
	s.fileMu.Unlock()
	if !dirty {
		return
	}
	if err := f.Sync(); err != nil {
		r.log.Error("syncing call log spill file", "file", s.path(), "err", err)
	}
}

func (r *Recorder) spillSyncLocked() error {
	s := &r.spill
	if s.f == nil || !s.unsynced {
		return nil
	}
	s.unsynced = false
	if err := s.f.Sync(); err != nil {
		r.log.Error("syncing call log spill file", "file", s.path(), "err", err)
		return fmt.Errorf("syncing spill file: %w", err)
	}
	return nil
}

// spillClose stops the flusher, then flushes, fsyncs and closes the live
// file; appends after it write through.
func (r *Recorder) spillClose() error {
	s := &r.spill
	s.mu.Lock()
	s.closed = true
	close(s.kick)
	s.mu.Unlock()
	<-s.flusherDone

	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	r.spillFlushLocked()
	err := r.spillSyncLocked()
	if s.f != nil {
		if cerr := s.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing spill file: %w", cerr)
		}
		s.f = nil
	}
	s.fileClosed = true
	return err
}

// rotateLocked renames the live file to a new replay file and returns its
// path, or "" when it holds no records. fileMu must be held.
func (r *Recorder) rotateLocked() (string, error) {
	s := &r.spill
	r.spillFlushLocked()
	if s.recs == 0 && s.size == 0 {
		return "", nil
	}
	if s.f != nil {
		_ = r.spillSyncLocked() // logged; the data is still readable through the page cache
		if err := s.f.Close(); err != nil {
			r.log.Error("closing call log spill file", "file", s.path(), "err", err)
		}
		s.f = nil
	}
	dst := r.newReplayPath()
	if err := os.Rename(s.path(), dst); err != nil {
		// The next append reopens the live file and continues it.
		return "", fmt.Errorf("rotating spill file: %w", err)
	}
	r.spillRecs.Add(-int64(s.recs))
	s.recs, s.size, s.openLine = 0, 0, false
	return dst, nil
}

// newReplayPath names a replay file after the current time, stepping past any
// existing name: a rename would silently replace it.
func (r *Recorder) newReplayPath() string {
	for n := time.Now().UnixNano(); ; n++ {
		p := filepath.Join(r.spill.dir, replayPrefix+strconv.FormatInt(n, 10)+replaySuffix)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
	}
}

// takeOverLeftovers queues the spill files of a previous run for replay. The
// old live file is renamed first: it may end in a partial line, and appending
// to it would merge that line with the next record.
func (r *Recorder) takeOverLeftovers() error {
	dir := r.spill.dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating spill directory: %w", err)
	}
	live := r.spill.path()
	if fi, err := os.Stat(live); err == nil {
		if fi.Size() == 0 {
			if err := os.Remove(live); err != nil {
				return fmt.Errorf("removing empty spill file: %w", err)
			}
		} else if err := os.Rename(live, r.newReplayPath()); err != nil {
			return fmt.Errorf("taking over spill file of a previous run: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checking spill file: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading spill directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, replayPrefix) || !strings.HasSuffix(name, replaySuffix) {
			continue
		}
		if fi, err := e.Info(); err == nil {
			r.spillBytes.Add(fi.Size())
		}
		files = append(files, filepath.Join(dir, name))
	}
	// Names carry the rotation time; oldest first.
	slices.SortFunc(files, func(a, b string) int {
		na, nb := replayNano(a), replayNano(b)
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	r.replay.files = files
	if len(files) > 0 {
		r.log.Info("replaying call log spill files left by a previous run", "files", len(files))
	}
	return nil
}

func replayNano(path string) int64 {
	s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), replayPrefix), replaySuffix)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// indexLeftovers adds the records of a previous run's spill files to the
// pending map, so that feedback on them is accepted before they are replayed.
// Bad lines are skipped here; replay counts them.
func (r *Recorder) indexLeftovers() {
	for _, path := range r.replay.files {
		f, err := os.Open(path)
		if err != nil {
			continue // replay reports it
		}
		br := bufio.NewReaderSize(f, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				break
			}
			var head struct {
				ID       string `json:"id"`
				Consumer string `json:"consumer"`
				Service  string `json:"service"`
				Route    string `json:"route"`
				Model    string `json:"model"`
				Provider string `json:"provider"`
				Status   int    `json:"status"`
			}
			if json.Unmarshal(line, &head) == nil && head.ID != "" {
				r.pending.add(head.ID, CallSummary{Consumer: head.Consumer, Service: head.Service, Route: head.Route,
					Model: head.Model, Provider: head.Provider, Status: head.Status})
			}
		}
		f.Close()
	}
}

// replayState is the writer's progress through the replay files.
type replayState struct {
	files      []string // waiting, oldest first
	cur        *replayFile
	pauseUntil time.Time
}

// replayFile is the replay file being read.
type replayFile struct {
	path    string
	f       *os.File
	br      *bufio.Reader
	size    int64
	line    int
	eof     bool
	readErr bool // reading failed: leave the file for the next start rather than delete it
	n       int  // records replayed from this file
	work    []*replayChunk
}

// replayChunk is a run of records read but not yet stored.
type replayChunk struct {
	recs []Record
	// since is when the chunk last failed (or was read): an insert that
	// succeeds after it shows the store is up, so the chunk's next failure is
	// held against its records.
	since   time.Time
	strikes int
}

// replayDue reports whether the writer has replay work it may do now.
func (r *Recorder) replayDue() bool {
	rp := &r.replay
	if rp.cur == nil && len(rp.files) == 0 && r.spillRecs.Load() == 0 {
		return false
	}
	now := time.Now()
	return r.tryable(now) && !now.Before(rp.pauseUntil)
}

// replayStep does one insert's worth of replay: it rotates the live file when
// nothing else is waiting, opens the next file, reads a batch, and inserts one
// chunk.
func (r *Recorder) replayStep() {
	rp := &r.replay
	if rp.cur == nil {
		if len(rp.files) == 0 {
			r.spill.fileMu.Lock()
			path, err := r.rotateLocked()
			r.spill.fileMu.Unlock()
			if err != nil {
				r.log.Error("rotating call log spill file for replay", "err", err)
				rp.pauseUntil = time.Now().Add(replayPause)
				return
			}
			if path == "" {
				// Nothing to rotate after all (the buffered records were
				// lost); wait rather than spin on the counter.
				rp.pauseUntil = time.Now().Add(r.o.FlushInterval)
				return
			}
			rp.files = append(rp.files, path)
		}
		path := rp.files[0]
		rp.files = rp.files[1:]
		f, err := os.Open(path)
		if err != nil {
			r.log.Error("opening call log spill file for replay; it is left in place", "file", path, "err", err)
			rp.pauseUntil = time.Now().Add(replayPause)
			return
		}
		var size int64
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		rp.cur = &replayFile{path: path, f: f, br: bufio.NewReaderSize(f, 64<<10), size: size}
	}
	cur := rp.cur
	if len(cur.work) == 0 && !cur.eof {
		if recs := r.readReplay(cur); len(recs) > 0 {
			cur.work = append(cur.work, &replayChunk{recs: recs, since: time.Now()})
		}
	}
	if len(cur.work) > 0 {
		r.replayChunk(cur)
	}
	if len(cur.work) == 0 && cur.eof {
		r.finishReplay(cur)
	}
}

// readReplay reads up to BatchSize records. A trailing line without a newline
// (the process stopped mid-write) and lines that do not decode are counted as
// dropped and logged with file and line.
func (r *Recorder) readReplay(cur *replayFile) []Record {
	var recs []Record
	for len(recs) < r.o.BatchSize {
		line, err := cur.br.ReadBytes('\n')
		if len(line) > 0 {
			cur.line++
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				cur.readErr = true
				r.log.Error("reading call log spill file; it is left for the next start",
					"file", cur.path, "line", cur.line, "err", err)
			} else if len(line) > 0 {
				r.dropLine(cur, errors.New("partial trailing line"))
			}
			cur.eof = true
			break
		}
		line = line[:len(line)-1]
		if len(bytes.TrimSpace(line)) == 0 {
			continue // holds no record
		}
		rec, err := decodeLine(line)
		if err != nil {
			r.dropLine(cur, err)
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

func (r *Recorder) dropLine(cur *replayFile, err error) {
	r.dropped.Add(1)
	r.log.Error("call record lost: undecodable line in spill file", "file", cur.path, "line", cur.line, "err", err)
}

// replayChunk inserts the first chunk of work. The store cannot tell us
// whether a failure is an outage or a record it will never accept, so a failed
// chunk is halved until the bad record stands alone; a lone record is dropped
// once it has failed poisonStrikes times, each time after the store had
// accepted other records since its previous failure.
func (r *Recorder) replayChunk(cur *replayFile) {
	c := cur.work[0]
	err := r.insert(c.recs)
	if err == nil {
		n := len(c.recs)
		r.replayed.Add(uint64(n))
		r.pending.removeRecords(c.recs)
		cur.n += n
		cur.work[0] = nil
		cur.work = cur.work[1:]
		return
	}
	now := time.Now()
	if len(c.recs) > 1 {
		h := len(c.recs) / 2
		a := &replayChunk{recs: c.recs[:h:h], since: now}
		b := &replayChunk{recs: c.recs[h:], since: now}
		cur.work = append([]*replayChunk{a, b}, cur.work[1:]...)
		return
	}
	if r.lastSuccess.After(c.since) {
		c.strikes++
	}
	c.since = now
	cur.work = cur.work[1:]
	if c.strikes >= r.t.poisonStrikes {
		r.dropped.Add(1)
		r.pending.remove(c.recs[0].ID)
		r.log.Error("call record lost: the store keeps rejecting it while accepting others",
			"id", c.recs[0].ID, "file", cur.path, "err", err)
		return
	}
	// Retry it last so that the records behind it can show whether the store is up.
	cur.work = append(cur.work, c)
}

// finishReplay deletes a replay file once every record in it is stored.
func (r *Recorder) finishReplay(cur *replayFile) {
	r.replay.cur = nil
	if err := cur.f.Close(); err != nil {
		r.log.Warn("closing call log replay file", "file", cur.path, "err", err)
	}
	if cur.readErr {
		return // still on disk and not replayed, so still counted in SpillBytes
	}
	r.spillBytes.Add(-cur.size)
	if err := os.Remove(cur.path); err != nil {
		r.log.Error("removing replayed call log spill file; it will be replayed again at the next start (records are skipped by id)",
			"file", cur.path, "err", err)
		return
	}
	r.log.Info("replayed call log spill file", "file", cur.path, "records", cur.n)
}

// abandonReplay stops replay at shutdown. The current file stays on disk and
// is replayed from its start at the next start; records already stored are
// skipped by id.
func (r *Recorder) abandonReplay() {
	if cur := r.replay.cur; cur != nil {
		_ = cur.f.Close()
		r.replay.cur = nil
	}
}
