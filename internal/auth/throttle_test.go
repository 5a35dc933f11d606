package auth

import (
	"fmt"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestThrottleBacksOffExponentially(t *testing.T) {
	c := newClock()
	th := &Throttle{Free: 3, Base: time.Second, Max: 10 * time.Second, Now: c.now}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if d := th.Wait("ana"); d != 0 {
			t.Fatalf("failure %d: still locked for %v before trying", i+1, d)
		}
		if got := th.Fail("ana"); got != w {
			t.Fatalf("failure %d: lock %v, want %v", i+1, got, w)
		}
		if got := th.Wait("ana"); got != w {
			t.Fatalf("failure %d: Wait = %v, want %v", i+1, got, w)
		}
		if th.Wait("bob") != 0 {
			t.Fatal("another key is locked too")
		}
		c.add(w)
	}
	th.Succeed("ana")
	if got := th.Fail("ana"); got != 0 {
		t.Fatalf("after a success the first failure locks for %v", got)
	}
}

func TestThrottleForgets(t *testing.T) {
	c := newClock()
	th := &Throttle{Free: 1, Forget: time.Hour, Now: c.now}
	th.Fail("ana")
	th.Fail("ana")
	c.add(time.Hour + time.Second)
	if got := th.Fail("ana"); got != time.Second {
		t.Fatalf("an hour after the last failure, the next locks for %v, want the first lock", got)
	}
}

func TestThrottleBoundsMemory(t *testing.T) {
	c := newClock()
	th := &Throttle{MaxKeys: 100, Now: c.now}
	for i := range 1000 {
		c.add(time.Millisecond)
		th.Fail(fmt.Sprintf("ip-%d", i))
	}
	if n := th.Len(); n > 100 {
		t.Fatalf("%d keys tracked, more than MaxKeys", n)
	}
	// The newest keys are the ones kept.
	th.Fail("ip-999")
	th.Fail("ip-999")
	if th.Wait("ip-999") == 0 {
		t.Fatal("the newest key was evicted")
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := &Throttle{Free: 1000000}
	done := make(chan bool)
	for g := range 8 {
		go func() {
			for i := range 200 {
				th.Fail(fmt.Sprint(g, i%10))
				th.Wait(fmt.Sprint(g, i%10))
			}
			th.Succeed(fmt.Sprint(g, 0))
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}
