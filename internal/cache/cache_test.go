package cache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func k(i int) Key { return Key{byte(i), byte(i >> 8), byte(i >> 16)} }

// entry is an entry whose Size is exactly size.
func entry(size int) *Entry {
	return &Entry{Body: []byte(strings.Repeat("x", size-entryOverhead)), ContentType: ""}
}

func TestGetPut(t *testing.T) {
	clk := newClock()
	c := New(Options{MaxBytes: 1 << 20, Now: clk.Now})
	if _, ok := c.Get(k(1), 0); ok {
		t.Fatal("hit in an empty cache")
	}
	e := &Entry{Body: []byte(`{"ok":true}`), ContentType: "application/json"}
	if !c.Put(k(1), e, time.Minute) {
		t.Fatal("Put refused a small entry")
	}
	got, ok := c.Get(k(1), 0)
	if !ok || got != e || !got.Stored.Equal(clk.Now()) {
		t.Fatalf("Get = %v, %v", got, ok)
	}
	st := c.Stats()
	want := Stats{Hits: 1, Misses: 1, Entries: 1, Bytes: e.Size(), MaxBytes: 1 << 20}
	if st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	// Putting again replaces, and the bytes follow.
	e2 := &Entry{Body: []byte(`{"ok":false,"longer":1}`)}
	c.Put(k(1), e2, time.Minute)
	if got, _ := c.Get(k(1), 0); got != e2 {
		t.Fatal("Put did not replace the entry")
	}
	if st := c.Stats(); st.Entries != 1 || st.Bytes != e2.Size() {
		t.Fatalf("after replacing: %+v", st)
	}
}

func TestTTL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		maxAge  time.Duration
		advance time.Duration
		hit     bool
	}{
		{"fresh", time.Minute, 0, 59 * time.Second, true},
		{"expires at the ttl", time.Minute, 0, time.Minute, false},
		{"long expired", time.Minute, 0, time.Hour, false},
		{"max age lower than the ttl", time.Hour, time.Minute, 2 * time.Minute, false},
		{"within a lower max age", time.Hour, time.Minute, 30 * time.Second, true},
		{"max age higher than the ttl", time.Minute, time.Hour, 2 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := New(Options{MaxBytes: 1 << 20, Now: clk.Now})
			c.Put(k(1), entry(1000), tc.ttl)
			clk.Advance(tc.advance)
			_, hit := c.Get(k(1), tc.maxAge)
			if hit != tc.hit {
				t.Fatalf("hit = %v, want %v", hit, tc.hit)
			}
			st := c.Stats()
			if !tc.hit && (st.Expirations != 1 || st.Entries != 0 || st.Bytes != 0) {
				t.Fatalf("an expired entry was not dropped: %+v", st)
			}
		})
	}
}

func TestPutRefuses(t *testing.T) {
	c := New(Options{MaxBytes: 8000})
	for _, tc := range []struct {
		name string
		e    *Entry
		ttl  time.Duration
	}{
		{"zero ttl", entry(500), 0},
		{"negative ttl", entry(500), -time.Second},
		{"larger than an eighth", entry(1001), time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c.Put(k(1), tc.e, tc.ttl) {
				t.Fatal("Put stored it")
			}
			if st := c.Stats(); st.Entries != 0 {
				t.Fatalf("Stats = %+v", st)
			}
		})
	}
	if !c.Put(k(1), entry(1000), time.Minute) {
		t.Fatal("an entry of exactly an eighth was refused")
	}
}

func TestLRUEviction(t *testing.T) {
	clk := newClock()
	c := New(Options{MaxBytes: 8 * 1000, Now: clk.Now}) // eight entries of 1000
	for i := range 8 {
		c.Put(k(i), entry(1000), time.Hour)
	}
	// Use 0 and 1: 2 becomes the least recently used.
	c.Get(k(0), 0)
	c.Get(k(1), 0)
	c.Put(k(8), entry(1000), time.Hour)
	c.Put(k(9), entry(1000), time.Hour)
	present := func(i int) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.items[k(i)] != nil
	}
	for i, want := range []bool{true, true, false, false, true, true, true, true, true, true} {
		if present(i) != want {
			t.Errorf("entry %d present = %v, want %v", i, !want, want)
		}
	}
	st := c.Stats()
	if st.Evictions != 2 || st.Entries != 8 || st.Bytes != 8000 {
		t.Fatalf("Stats = %+v", st)
	}
	// The next one goes too: 4 is now the least recently used.
	c.Put(k(10), entry(1000), time.Hour)
	if present(4) {
		t.Error("the least recently used entry survived")
	}
}

func TestSweepDropsExpired(t *testing.T) {
	clk := newClock()
	c := New(Options{MaxBytes: 1 << 20, Now: clk.Now})
	for i := range 10 {
		c.Put(k(i), entry(1000), time.Second)
	}
	clk.Advance(sweepEvery)
	c.Put(k(100), entry(1000), time.Hour)
	st := c.Stats()
	if st.Entries != 1 || st.Expirations != 10 || st.Bytes != 1000 {
		t.Fatalf("after the sweep: %+v", st)
	}
}

// TestConcurrent runs readers and writers on a small cache; with -race it
// checks the locking, and the bound must hold throughout.
func TestConcurrent(t *testing.T) {
	c := New(Options{MaxBytes: 64 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				key := k((g*7 + i) % 300)
				if e, ok := c.Get(key, time.Hour); ok && len(e.Body) == 0 {
					t.Error("empty body")
				}
				if i%3 == 0 {
					c.Put(key, &Entry{Body: []byte(fmt.Sprintf("answer %d %s", i, strings.Repeat("y", i%4000)))}, time.Minute)
				}
				if st := c.Stats(); st.Bytes > st.MaxBytes+8<<10 {
					t.Errorf("bytes %d over the bound", st.Bytes)
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.Bytes > st.MaxBytes {
		t.Fatalf("bytes %d over the bound %d", st.Bytes, st.MaxBytes)
	}
	if st.Hits+st.Misses != 8*2000 {
		t.Fatalf("hits %d + misses %d != %d lookups", st.Hits, st.Misses, 8*2000)
	}
	// The list and the map agree.
	c.mu.Lock()
	defer c.mu.Unlock()
	n, bytes := 0, int64(0)
	for x := c.head.next; x != &c.head; x = x.next {
		n++
		bytes += x.size
	}
	if n != len(c.items) || int64(n) != st.Entries || bytes != st.Bytes {
		t.Fatalf("list %d entries %d bytes; map %d; stats %+v", n, bytes, len(c.items), st)
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New(Options{})
	for i := range 1000 {
		c.Put(k(i), entry(2000), time.Hour)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(k(i%1000), 0); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}
