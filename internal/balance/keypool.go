package balance

import (
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"
)

// How long a key is set aside after the upstream refuses it.
const (
	// RateLimitPause applies to a 429 that names no Retry-After.
	RateLimitPause = 10 * time.Second
	// InvalidKeyPause applies to a 401 or 403: the key is revoked, mistyped
	// or not entitled, which only an operator fixes, but a key rotated in
	// place upstream comes back without a restart.
	InvalidKeyPause = 10 * time.Minute
	// QuotaPause applies to a 402, or to a 429 whose body says the quota or
	// credit is exhausted (the caller recognises it and calls SetAside):
	// such a key rarely recovers within the hour.
	QuotaPause = time.Hour
)

// Key is one key of a KeyPool. Its secret is reachable only through Secret,
// for the code that sends the request; printed, logged or encoded, a Key
// shows its ID.
type Key struct {
	// ID identifies the key in call records, logs and metrics:
	// "openai-main#2" is the second key of provider openai-main.
	ID     string
	secret string
	index  int
}

// Secret returns the key itself.
func (k Key) Secret() string { return k.secret }

// String returns the key's ID.
func (k Key) String() string { return k.ID }

// GoString returns the key's ID, so that %#v does not print the secret.
func (k Key) GoString() string { return "balance.Key{ID:" + strconv.Quote(k.ID) + "}" }

// LogValue logs the key's ID.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.ID) }

// MarshalText encodes the key's ID, for JSON and any other text encoding.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.ID), nil }

// KeyPool hands out a provider's keys in rotation, skipping the keys that
// the upstream refused until their time is up. It never fails: when every
// key is set aside it hands out the one that comes back soonest, since a
// call that might fail is better than one that certainly does.
//
// Next costs one atomic increment while no key is set aside.
type KeyPool struct {
	keys  []Key
	until []atomic.Int64 // elapsed nanoseconds until which each key rests; 0: available
	aside atomic.Int32   // keys with a non-zero until
	next  atomic.Uint64
	now   func() time.Time
	start time.Time
}

// NewKeyPool returns a pool of secrets for the named provider; the keys'
// IDs are provider#1, provider#2… in the order given, which is the order of
// the provider's api_keys. A pool with no secret hands out the empty Key.
// now is the clock; nil means time.Now.
func NewKeyPool(provider string, secrets []string, now func() time.Time) *KeyPool {
	if now == nil {
		now = time.Now
	}
	p := &KeyPool{
		keys:  make([]Key, len(secrets)),
		until: make([]atomic.Int64, len(secrets)),
		now:   now,
		start: now(),
	}
	for i, s := range secrets {
		p.keys[i] = Key{ID: provider + "#" + strconv.Itoa(i+1), secret: s, index: i}
	}
	return p
}

// Len returns the number of keys.
func (p *KeyPool) Len() int { return len(p.keys) }

// Next returns the next available key, round robin.
func (p *KeyPool) Next() Key {
	n := len(p.keys)
	switch n {
	case 0:
		return Key{}
	case 1:
		return p.keys[0]
	}
	first := int((p.next.Add(1) - 1) % uint64(n))
	if p.aside.Load() == 0 {
		return p.keys[first]
	}
	now := p.elapsed()
	soonest, soonestAt := first, int64(0)
	for k := range n {
		i := (first + k) % n
		u := p.until[i].Load()
		if u <= now { // available, or its time is up
			if u != 0 && p.until[i].CompareAndSwap(u, 0) {
				p.aside.Add(-1)
			}
			return p.keys[i]
		}
		if soonestAt == 0 || u < soonestAt {
			soonest, soonestAt = i, u
		}
	}
	return p.keys[soonest]
}

// Available returns how many keys are not set aside. A caller that got a
// 429 for one key can tell from it whether waiting for Retry-After is
// needed, or whether the next key can be used at once.
func (p *KeyPool) Available() int {
	if p.aside.Load() == 0 {
		return len(p.keys)
	}
	now, n := p.elapsed(), 0
	for i := range p.until {
		if u := p.until[i].Load(); u == 0 || u <= now {
			n++
		}
	}
	return n
}

// Report tells the pool how the upstream answered a call made with k: a
// 429 sets the key aside for retryAfter (RateLimitPause when 0), a 401 or
// 403 for InvalidKeyPause, a 402 for QuotaPause; a success makes it
// available again at once. Other statuses say nothing about the key.
func (p *KeyPool) Report(k Key, status int, retryAfter time.Duration) {
	switch {
	case status == 429:
		if retryAfter <= 0 {
			retryAfter = RateLimitPause
		}
		p.SetAside(k, retryAfter)
	case status == 401, status == 403:
		p.SetAside(k, InvalidKeyPause)
	case status == 402:
		p.SetAside(k, QuotaPause)
	case status >= 200 && status < 300:
		p.SetAside(k, 0)
	}
}

// SetAside keeps k out of rotation for d, or brings it back when d is 0. A
// key already set aside for longer stays aside for longer.
func (p *KeyPool) SetAside(k Key, d time.Duration) {
	if k.index < 0 || k.index >= len(p.keys) || p.keys[k.index].ID != k.ID {
		return // the empty Key, or a key of another pool
	}
	slot := &p.until[k.index]
	if d <= 0 {
		if u := slot.Load(); u != 0 && slot.CompareAndSwap(u, 0) {
			p.aside.Add(-1)
		}
		return
	}
	until := p.elapsed() + int64(d)
	for {
		u := slot.Load()
		if u >= until {
			return
		}
		if slot.CompareAndSwap(u, until) {
			if u == 0 {
				p.aside.Add(1)
			}
			return
		}
	}
}

// SetAsideUntil returns when k comes back into rotation; the zero time
// when it is available.
func (p *KeyPool) SetAsideUntil(k Key) time.Time {
	if k.index < 0 || k.index >= len(p.keys) || p.keys[k.index].ID != k.ID {
		return time.Time{}
	}
	u := p.until[k.index].Load()
	if u == 0 || u <= p.elapsed() {
		return time.Time{}
	}
	return p.start.Add(time.Duration(u - 1))
}

// elapsed counts from 1, so that 0 can mean "available" in until.
func (p *KeyPool) elapsed() int64 { return max(int64(p.now().Sub(p.start)), 0) + 1 }
