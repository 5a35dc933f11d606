package policy

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemory(t *testing.T) {
	now := at("2026-03-14T09:00:00Z")
	minute := Sliding(time.Minute)
	cases := []struct {
		name string
		run  func(m *Memory) (Count, bool)
		want Count
		ok   bool
	}{
		{"take within the limit", func(m *Memory) (Count, bool) {
			m.Take("k", minute, 3, 5, now)
			return m.Take("k", minute, 2, 5, now)
		}, Count{Start: now, Cur: 5}, true},
		{"take over the limit changes nothing", func(m *Memory) (Count, bool) {
			m.Take("k", minute, 4, 5, now)
			return m.Take("k", minute, 2, 5, now)
		}, Count{Start: now, Cur: 4}, false},
		{"add ignores the limit", func(m *Memory) (Count, bool) {
			m.Take("k", minute, 4, 5, now)
			return m.Add("k", minute, 10, now), true
		}, Count{Start: now, Cur: 14}, true},
		{"give back never goes below zero", func(m *Memory) (Count, bool) {
			m.Take("k", minute, 1, 5, now)
			return m.Add("k", minute, -3, now), true
		}, Count{Start: now, Cur: 0}, true},
		{"next period keeps the previous count", func(m *Memory) (Count, bool) {
			m.Add("k", minute, 7, now)
			return m.Add("k", minute, 1, now.Add(time.Minute)), true
		}, Count{Start: now.Add(time.Minute), Cur: 1, Prev: 7}, true},
		{"keys are apart", func(m *Memory) (Count, bool) {
			m.Add("a", minute, 7, now)
			return m.Add("b", minute, 0, now), true
		}, Count{Start: now}, true},
		{"calendar periods", func(m *Memory) (Count, bool) {
			m.Add("d", Day, 7, now)
			return m.Add("d", Day, 1, now.Add(24*time.Hour)), true
		}, Count{Start: at("2026-03-15T00:00:00Z"), Cur: 1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.run(NewMemory())
			if !got.Start.Equal(tc.want.Start) || got.Cur != tc.want.Cur || got.Prev != tc.want.Prev || ok != tc.ok {
				t.Fatalf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMemorySweep(t *testing.T) {
	now := at("2026-03-14T09:00:00Z")
	m := NewMemory()
	m.Add("rate", Sliding(time.Second), 5, now)
	m.Add("quota", Day, 5, now)
	if m.Len() != 2 {
		t.Fatalf("Len = %d", m.Len())
	}
	// Two minutes on, the rate window weighs nothing and is dropped; the
	// day's count stays.
	later := now.Add(2 * time.Minute)
	m.Add("other", Sliding(time.Second), 1, later)
	m.sweep(later)
	if m.Len() != 2 {
		t.Fatalf("after a sweep Len = %d, want 2 (quota and other)", m.Len())
	}
	if c := m.Add("quota", Day, 0, later); c.Cur != 5 {
		t.Fatalf("quota lost in a sweep: %+v", c)
	}
}

// TestMemoryConcurrentTakes runs takers against one key from many
// goroutines: the limit holds exactly (run with -race).
func TestMemoryConcurrentTakes(t *testing.T) {
	now := at("2026-03-14T09:00:00Z")
	m := NewMemory()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				// Sweeps run alongside: a later clock makes them due.
				if _, ok := m.Take("k", Day, 1, 1000, now.Add(time.Duration(i)*time.Second)); ok {
					admitted.Add(1)
				}
				m.Add("gone", Sliding(time.Millisecond), 1, now.Add(time.Duration(i)*time.Second))
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 1000 {
		t.Fatalf("%d admitted under a limit of 1000", admitted.Load())
	}
}
