package calllog

import (
	"sync"
	"sync/atomic"
)

// pendingShards spreads the pending map over several locks so that 50
// goroutines recording at once do not all queue on one mutex.
const pendingShards = 64

// defaultMaxPending caps the pending map. During a long store outage every
// record stays pending until it is replayed; without a cap an outage under load
// would grow the map until the process runs out of memory. At roughly 100 bytes
// an entry, 100,000 entries is about 10 MB, which keeps the gateway inside its
// memory budget (docs/benchmarks.md). Past the cap the oldest entries are
// forgotten, not the newest: feedback usually comes right after a response,
// and the newest 100,000 calls cover four seconds at 25,000 calls a second.
// Forgotten records are still queued, spilled and replayed as usual; feedback
// on one of them gets 404 until its record is replayed.
const defaultMaxPending = 100_000

// CallSummary is what the pending index keeps of a call: who made it, and
// the dimensions feedback on it is counted under in the analytics rollups.
// The strings are the record's own, so keeping them costs no copies.
type CallSummary struct {
	Consumer string
	Service  string
	Route    string
	Model    string
	Provider string
	Status   int
}

// SummaryOf returns the summary of a record.
func SummaryOf(r *Record) CallSummary {
	return CallSummary{Consumer: r.Consumer, Service: r.Service, Route: r.Route, Model: r.Model,
		Provider: r.Provider, Status: r.Status}
}

// pendingSet maps the id of every accepted but not yet stored record to its
// summary, keeping the newest entries when it reaches its cap.
type pendingSet struct {
	perShard int
	full     atomic.Bool // set the first time the cap evicts an entry, so it is logged once
	shards   [pendingShards]pendingShard
}

type pendingShard struct {
	mu sync.Mutex
	m  map[string]CallSummary
	// ring holds the ids in the order they were added, so the oldest can be
	// evicted; ids already removed from m may linger in it harmlessly.
	ring []string
	next int
	_    [48]byte // keeps neighbouring shards off one cache line
}

func newPendingSet(max int) *pendingSet {
	p := &pendingSet{perShard: max / pendingShards}
	if p.perShard < 1 {
		p.perShard = 1
	}
	for i := range p.shards {
		p.shards[i].m = make(map[string]CallSummary)
	}
	return p
}

func (p *pendingSet) shard(id string) *pendingShard {
	// FNV-1a, inlined so the hot path does not allocate a hash.Hash.
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return &p.shards[h%pendingShards]
}

// add records id as pending. It reports false when, to make room, it had to
// forget the oldest entry of its shard that was still pending.
func (p *pendingSet) add(id string, c CallSummary) bool {
	s := p.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; ok {
		s.m[id] = c
		return true
	}
	s.m[id] = c
	if len(s.ring) < p.perShard {
		s.ring = append(s.ring, id)
		return true
	}
	old := s.ring[s.next]
	s.ring[s.next] = id
	s.next = (s.next + 1) % p.perShard
	if _, still := s.m[old]; still {
		delete(s.m, old)
		return false
	}
	return true
}

func (p *pendingSet) get(id string) (CallSummary, bool) {
	s := p.shard(id)
	s.mu.Lock()
	c, ok := s.m[id]
	s.mu.Unlock()
	return c, ok
}

func (p *pendingSet) remove(id string) {
	s := p.shard(id)
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (p *pendingSet) removeRecords(recs []Record) {
	for i := range recs {
		p.remove(recs[i].ID)
	}
}

func (p *pendingSet) len() int {
	n := 0
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
