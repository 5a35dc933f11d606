package auth

import (
	"sync"
	"time"
)

// Throttle slows down password guessing on one key (an account, a client
// IP): after Free failures in a row, each further failure locks the key for
// Base, then twice as long, and so on up to Max. A success resets the key;
// failures are forgotten Forget after the last one. It is local to one
// gateway node, which is what a guesser facing one node meets.
type Throttle struct {
	Free   int           // failures allowed before any lock (default 3)
	Base   time.Duration // first lock (default 1s)
	Max    time.Duration // longest lock (default 15m)
	Forget time.Duration // failures older than this are forgotten (default 1h)
	// MaxKeys bounds the memory used (default 100,000 keys); past it, the
	// keys whose last failure is oldest are dropped first.
	MaxKeys int
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	keys map[string]*throttleKey
}

type throttleKey struct {
	failures int
	last     time.Time
	until    time.Time
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Throttle) defaults() (free int, base, max, forget time.Duration, maxKeys int) {
	free, base, max, forget, maxKeys = t.Free, t.Base, t.Max, t.Forget, t.MaxKeys
	if free <= 0 {
		free = 3
	}
	if base <= 0 {
		base = time.Second
	}
	if max <= 0 {
		max = 15 * time.Minute
	}
	if forget <= 0 {
		forget = time.Hour
	}
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return
}

// Wait returns how long key is still locked; 0 means it may try now.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.keys[key]
	if k == nil {
		return 0
	}
	if d := k.until.Sub(t.now()); d > 0 {
		return d
	}
	return 0
}

// Fail records a failure of key and returns the lock it now has (0: none).
func (t *Throttle) Fail(key string) time.Duration {
	free, base, max, forget, maxKeys := t.defaults()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = map[string]*throttleKey{}
	}
	k := t.keys[key]
	if k == nil || now.Sub(k.last) > forget {
		if k == nil && len(t.keys) >= maxKeys {
			t.evict(now, forget, maxKeys)
		}
		k = &throttleKey{}
		t.keys[key] = k
	}
	k.failures++
	k.last = now
	if k.failures < free {
		return 0
	}
	lock := max
	if shift := k.failures - free; shift < 32 {
		if d := base << shift; d > 0 && d < max {
			lock = d
		}
	}
	k.until = now.Add(lock)
	return lock
}

// Succeed forgets key's failures.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// evict drops forgotten keys and, if that is not enough, the tenth of the
// keys with the oldest last failure. Called with mu held.
func (t *Throttle) evict(now time.Time, forget time.Duration, maxKeys int) {
	for key, k := range t.keys {
		if now.Sub(k.last) > forget {
			delete(t.keys, key)
		}
	}
	if len(t.keys) < maxKeys {
		return
	}
	cut := now
	for _, k := range t.keys {
		if k.last.Before(cut) {
			cut = k.last
		}
	}
	// Raise the cut until a tenth of the keys lie below it: a few passes
	// over the map instead of a sort of it.
	step := now.Sub(cut) / 16
	for dropped := 0; dropped < maxKeys/10 && step > 0; cut = cut.Add(step) {
		for key, k := range t.keys {
			if !k.last.After(cut) {
				delete(t.keys, key)
				dropped++
			}
		}
	}
	if len(t.keys) >= maxKeys { // every failure at the same instant
		for key := range t.keys {
			delete(t.keys, key)
			if len(t.keys) < maxKeys-maxKeys/10 {
				break
			}
		}
	}
}

// Len returns how many keys are tracked.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}
