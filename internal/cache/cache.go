// Package cache is the exact response cache of the AI routes: answers to
// requests of the models that opt in, kept in memory and reused for a
// later request that is the same once normalised (same model, same
// consumer unless the model's cache is shared, same API format, streamed
// or not, and the same body up to key order, whitespace and the fields
// that do not change the answer — see Request.Key and Normalize).
//
// The store is bounded by bytes: entries leave when their time to live is
// over or, least recently used first, when a new one needs the room. It
// is safe for concurrent use and counts its hits, misses, evictions and
// expirations. It holds this node's answers only; nothing is written to
// disk.
package cache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// DefaultMaxBytes is the size of a cache whose Options leave it unset.
const DefaultMaxBytes = 64 << 20

// entryOverhead approximates what an entry costs beyond its body and
// content type: the entry, its list node and its slot in the map.
const entryOverhead = 256

// sweepEvery is how often Put also drops every expired entry, so that
// entries nobody asks for again give their bytes back before the least
// recently used ones would have to.
const sweepEvery = time.Minute

// Entry is one cached answer. Entries are shared between the requests they
// answer: once put, an entry must not be changed.
type Entry struct {
	// Body is the answer exactly as the client received it: a JSON body,
	// or, for a stream, its server-sent events in order.
	Body []byte
	// ContentType is the answer's Content-Type.
	ContentType string
	// Usage is the token usage of the call that produced the answer, kept
	// for reference: a hit uses no tokens.
	Usage llm.Usage
	// Stored is when the answer was put in the cache; Put sets it.
	Stored time.Time
}

// Size is the bytes the entry counts for against the cache's bound.
func (e *Entry) Size() int64 { return int64(len(e.Body)+len(e.ContentType)) + entryOverhead }

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the entries' total Size (default DefaultMaxBytes).
	// An entry larger than an eighth of it is not stored, so that one
	// answer cannot empty the cache.
	MaxBytes int64
	// Now is the clock (default time.Now); tests set a fake one.
	Now func() time.Time
}

// Cache is a byte-bounded in-memory store of answers with expiry and
// least-recently-used eviction. The zero value is not usable; call New.
type Cache struct {
	max, maxEntry int64
	now           func() time.Time

	mu    sync.Mutex
	items map[Key]*item
	// The list of entries, most recently used first: head.next is the
	// newest, head.prev the oldest (a ring around the sentinel head).
	head      item
	nextSweep time.Time

	// Read without the lock by Stats.
	bytes, entries                       atomic.Int64
	hits, misses, evictions, expirations atomic.Int64
}

type item struct {
	key        Key
	e          *Entry
	expires    time.Time
	size       int64
	prev, next *item
}

// New returns an empty cache.
func New(o Options) *Cache {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{max: o.MaxBytes, maxEntry: o.MaxBytes / 8, now: o.Now, items: map[Key]*item{}}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// MaxEntryBytes is the largest Entry.Size the cache stores.
func (c *Cache) MaxEntryBytes() int64 { return c.maxEntry }

// Get returns the entry under k if it has not expired and, when maxAge is
// positive, was stored less than maxAge ago — so that lowering a model's
// time to live applies to the answers already stored. An entry too old by
// either measure is dropped. Every Get counts as a hit or a miss.
func (c *Cache) Get(k Key, maxAge time.Duration) (*Entry, bool) {
	now := c.now()
	c.mu.Lock()
	it := c.items[k]
	if it == nil {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	if !now.Before(it.expires) || (maxAge > 0 && now.Sub(it.e.Stored) >= maxAge) {
		c.remove(it)
		c.mu.Unlock()
		c.expirations.Add(1)
		c.misses.Add(1)
		return nil, false
	}
	c.unlink(it)
	c.pushFront(it)
	e := it.e
	c.mu.Unlock()
	c.hits.Add(1)
	return e, true
}

// Put stores e under k for ttl, replacing what k held, and evicts the
// least recently used entries until the cache is back within its bound.
// It sets e.Stored. It stores nothing and returns false when ttl is not
// positive or e is larger than MaxEntryBytes.
func (c *Cache) Put(k Key, e *Entry, ttl time.Duration) bool {
	size := e.Size()
	if ttl <= 0 || size > c.maxEntry {
		return false
	}
	now := c.now()
	e.Stored = now
	it := &item{key: k, e: e, expires: now.Add(ttl), size: size}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.items[k]; old != nil {
		c.remove(old)
	}
	c.items[k] = it
	c.pushFront(it)
	c.bytes.Add(size)
	c.entries.Add(1)
	if !now.Before(c.nextSweep) {
		c.nextSweep = now.Add(sweepEvery)
		for x := c.head.prev; x != &c.head; {
			prev := x.prev
			if !now.Before(x.expires) {
				c.remove(x)
				c.expirations.Add(1)
			}
			x = prev
		}
	}
	for c.bytes.Load() > c.max {
		c.remove(c.head.prev) // never it: it alone fits, being at most an eighth
		c.evictions.Add(1)
	}
	return true
}

// Stats is a snapshot of a cache's counters.
type Stats struct {
	// Hits and Misses count Get's answers; a miss on an expired entry is
	// also an expiration.
	Hits, Misses int64
	// Evictions counts entries dropped to make room, Expirations those
	// dropped because their time to live was over.
	Evictions, Expirations int64
	// Entries and Bytes are what the cache holds now (Bytes by Entry.Size).
	Entries, Bytes int64
	// MaxBytes is the bound on Bytes.
	MaxBytes int64
}

// Stats returns the counters, without waiting on the cache's lock.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(),
		Evictions: c.evictions.Load(), Expirations: c.expirations.Load(),
		Entries: c.entries.Load(), Bytes: c.bytes.Load(), MaxBytes: c.max,
	}
}

// remove drops it from the map and the list; the caller holds c.mu.
func (c *Cache) remove(it *item) {
	delete(c.items, it.key)
	c.unlink(it)
	c.bytes.Add(-it.size)
	c.entries.Add(-1)
}

func (c *Cache) unlink(it *item) {
	it.prev.next, it.next.prev = it.next, it.prev
	it.prev, it.next = nil, nil
}

func (c *Cache) pushFront(it *item) {
	it.prev, it.next = &c.head, c.head.next
	c.head.next.prev = it
	c.head.next = it
}
