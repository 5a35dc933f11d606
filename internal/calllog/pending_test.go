package calllog

import (
	"fmt"
	"testing"
)

func TestPendingSetKeepsTheNewest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cap, adds int
		removed   int // the first `removed` ids are stored (removed) before the rest are added
	}{
		{"under the cap", 4 * pendingShards, 2 * pendingShards, 0},
		{"far over the cap", pendingShards, 50 * pendingShards, 0},
		{"over the cap after removals", 2 * pendingShards, 10 * pendingShards, 3 * pendingShards},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPendingSet(tc.cap)
			for i := 0; i < tc.adds; i++ {
				id := fmt.Sprintf("id-%d", i)
				p.add(id, CallSummary{Consumer: "c"})
				if i < tc.removed {
					p.remove(id)
				}
			}
			if n := p.len(); n > tc.cap {
				t.Errorf("holds %d entries, cap %d", n, tc.cap)
			}
			last := fmt.Sprintf("id-%d", tc.adds-1)
			if c, ok := p.get(last); !ok || c.Consumer != "c" {
				t.Errorf("newest id %s was evicted", last)
			}
			if tc.removed > 0 {
				if _, ok := p.get("id-0"); ok {
					t.Error("a removed id is still pending")
				}
			}
		})
	}
}
