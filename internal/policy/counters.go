package policy

import (
	"sync"
	"sync/atomic"
	"time"
)

// Counters hold the counts that policies are enforced against, by key. A
// key names a subject, what is counted and the window (see Set.Keys), never
// a pointer, so counts carry over configuration reloads.
//
// This is all a shared implementation (Redis, for several gateway nodes)
// has to provide: each method is one atomic read-modify-write of the two
// numbers of a Count, with Window.Advance and Window.Used giving the
// arithmetic. Memory is the implementation for one node.
type Counters interface {
	// Take counts n more in key's window if the window's Used, with them,
	// stays within limit. It returns the count afterwards (as it was, when
	// refused) and whether the n were taken.
	Take(key string, w Window, n, limit int64, now time.Time) (Count, bool)
	// Add counts n more in key's window, whatever the total; n may be
	// negative to give back what Take took (a count never goes below 0).
	// Add with n = 0 reads the count.
	Add(key string, w Window, n int64, now time.Time) Count
}

// Memory is an in-process Counters. It is safe for concurrent use; keys
// contend only with themselves. Counts whose periods are over are dropped
// now and then, so memory follows the keys in use.
type Memory struct {
	cells     sync.Map // key → *cell
	nextSweep atomic.Int64
	sweeping  sync.Mutex
}

var _ Counters = (*Memory)(nil)

// NewMemory returns an empty in-memory Counters.
func NewMemory() *Memory { return &Memory{} }

type cell struct {
	mu   sync.Mutex
	c    Count
	w    Window
	dead bool // swept: the next user must look the key up again
}

// sweepEvery is how often Memory drops counts that have run out.
const sweepEvery = time.Minute

// Take implements Counters.
func (m *Memory) Take(key string, w Window, n, limit int64, now time.Time) (Count, bool) {
	for {
		x := m.cell(key, now)
		x.mu.Lock()
		if x.dead {
			x.mu.Unlock()
			continue
		}
		x.w = w
		x.c = w.Advance(x.c, now)
		ok := w.Used(x.c, now)+n <= limit
		if ok {
			x.c.Cur += n
		}
		c := x.c
		x.mu.Unlock()
		return c, ok
	}
}

// Add implements Counters.
func (m *Memory) Add(key string, w Window, n int64, now time.Time) Count {
	for {
		x := m.cell(key, now)
		x.mu.Lock()
		if x.dead {
			x.mu.Unlock()
			continue
		}
		x.w = w
		x.c = w.Advance(x.c, now)
		x.c.Cur += n
		if x.c.Cur < 0 {
			x.c.Cur = 0
		}
		c := x.c
		x.mu.Unlock()
		return c
	}
}

func (m *Memory) cell(key string, now time.Time) *cell {
	if now.UnixNano() >= m.nextSweep.Load() && m.sweeping.TryLock() {
		// In the background: the caller is a call being admitted, and a
		// sweep takes time in proportion to the keys.
		m.nextSweep.Store(now.Add(sweepEvery).UnixNano())
		go func() {
			defer m.sweeping.Unlock()
			m.sweep(now)
		}()
	}
	if v, ok := m.cells.Load(key); ok {
		return v.(*cell)
	}
	v, _ := m.cells.LoadOrStore(key, &cell{})
	return v.(*cell)
}

// sweep drops counts that no longer weigh anything: a sliding window two
// periods on, a calendar period that has ended. A caller holding a dropped
// cell sees it marked dead and looks the key up again.
func (m *Memory) sweep(now time.Time) {
	m.cells.Range(func(k, v any) bool {
		x := v.(*cell)
		x.mu.Lock()
		if x.w.expired(x.c, now) {
			x.dead = true
			m.cells.CompareAndDelete(k, x)
		}
		x.mu.Unlock()
		return true
	})
}

// Len is how many keys hold counts, for tests and diagnostics.
func (m *Memory) Len() int {
	n := 0
	m.cells.Range(func(any, any) bool { n++; return true })
	return n
}
