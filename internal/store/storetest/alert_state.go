package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/store"
)

// AlertState is the conformance case of the alert groups' stored states
// and of leases: states read back as written and change as an evaluation
// says; a lease has one holder at a time, even among concurrent callers,
// and passes on when it expires or is released.
func AlertState(t *testing.T, db *store.DB) {
	t.Run("States", func(t *testing.T) { testAlertStates(t, db) })
	t.Run("Lease", func(t *testing.T) { testLease(t, db) })
	t.Run("LeaseRace", func(t *testing.T) { testLeaseRace(t, db) })
}

func testAlertStates(t *testing.T, db *store.DB) {
	ctx := t.Context()
	v := 0.8
	firing := alert.GroupState{Rule: "errors-high", RuleHash: "h1", Key: "k-shop", Labels: map[string]string{"consumer": "web-shop"},
		State: alert.StateFiring, Severity: alert.SeverityCritical, Value: &v, Requests: 10,
		Since: base, ActiveSince: base.Add(-time.Minute), LastActive: base, LastEval: base}
	ok := alert.GroupState{Rule: "slow", RuleHash: "h2", Key: "k-all", Labels: map[string]string{},
		State: alert.StateOK, Since: base, LastEval: base}
	if got, err := db.AlertStates(ctx); err != nil || len(got) != 0 {
		t.Fatalf("AlertStates on an empty store = %+v, %v; want none", got, err)
	}
	if err := db.SaveAlertStates(ctx, alert.StateChange{Put: []alert.GroupState{ok, firing}}); err != nil {
		t.Fatalf("SaveAlertStates: %v", err)
	}
	read := func() []alert.GroupState {
		t.Helper()
		got, err := db.AlertStates(ctx)
		if err != nil {
			t.Fatalf("AlertStates: %v", err)
		}
		return got
	}
	at := func(s alert.GroupState) alert.GroupState {
		s.Since, s.ActiveSince, s.LastActive, s.LastEval = stored(s.Since), stored(s.ActiveSince), stored(s.LastActive), stored(s.LastEval)
		return s
	}
	if got, want := read(), []alert.GroupState{at(firing), at(ok)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read back:\n%+v\nwant\n%+v", got, want)
	}

	// An evaluation: the firing group resolves, both rules were evaluated
	// a minute later, and slow's group is forgotten.
	later := base.Add(time.Minute)
	resolved := firing
	resolved.State, resolved.Severity, resolved.Value, resolved.Since, resolved.LastEval = alert.StateResolved, alert.SeverityNone, nil, later, later
	if err := db.SaveAlertStates(ctx, alert.StateChange{Put: []alert.GroupState{resolved}, Delete: []alert.GroupState{{Rule: "slow", Key: "k-all"}},
		Evaluated: []string{"errors-high", "slow"}, EvaluatedAt: later}); err != nil {
		t.Fatalf("SaveAlertStates: %v", err)
	}
	if got := read(); len(got) != 1 || !reflect.DeepEqual(got[0], at(resolved)) {
		t.Fatalf("after the second evaluation: %+v, want [%+v]", got, at(resolved))
	}

	// Evaluated alone moves the last evaluation of every group of the rule.
	last := later.Add(time.Minute)
	if err := db.SaveAlertStates(ctx, alert.StateChange{Evaluated: []string{"errors-high"}, EvaluatedAt: last}); err != nil {
		t.Fatalf("SaveAlertStates: %v", err)
	}
	if got := read(); len(got) != 1 || !got[0].LastEval.Equal(stored(last)) || got[0].State != alert.StateResolved {
		t.Errorf("after an evaluation that changed nothing: %+v, want last_eval %v", got, stored(last))
	}

	bad := alert.StateChange{Put: []alert.GroupState{{Rule: "x", Key: "k"}, firing}}
	if err := db.SaveAlertStates(ctx, bad); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a state without a state: err = %v, want ErrInvalid", err)
	}
	if got := read(); len(got) != 1 || got[0].State != alert.StateResolved {
		t.Errorf("an invalid change was partly applied: %+v", got)
	}
}

func testLease(t *testing.T, db *store.DB) {
	ctx := t.Context()
	const ttl = 45 * time.Second
	acquire := func(holder string, now time.Time) bool {
		t.Helper()
		ok, err := db.AcquireLease(ctx, "alerts", holder, ttl, now)
		if err != nil {
			t.Fatalf("AcquireLease(%s): %v", holder, err)
		}
		return ok
	}
	steps := []struct {
		name   string
		holder string
		at     time.Duration // after base
		want   bool
	}{
		{"free lease taken", "a", 0, true},
		{"held by another", "b", time.Second, false},
		{"renewed by its holder", "a", 30 * time.Second, true},
		{"still held thanks to the renewal", "b", 60 * time.Second, false},
		{"expired lease taken over", "b", 75 * time.Second, true},
		{"former holder refused", "a", 76 * time.Second, false},
	}
	for _, s := range steps {
		if got := acquire(s.holder, base.Add(s.at)); got != s.want {
			t.Fatalf("%s: AcquireLease(%s) = %v, want %v", s.name, s.holder, got, s.want)
		}
	}
	if ok, err := db.AcquireLease(ctx, "other", "a", ttl, base.Add(76*time.Second)); err != nil || !ok {
		t.Errorf("a second lease name: %v, %v; want taken, leases are independent", ok, err)
	}
	if err := db.ReleaseLease(ctx, "alerts", "a"); err != nil {
		t.Fatalf("ReleaseLease by a non-holder: %v", err)
	}
	if acquire("a", base.Add(77*time.Second)) {
		t.Fatal("a non-holder's release freed the lease")
	}
	if err := db.ReleaseLease(ctx, "alerts", "b"); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if !acquire("a", base.Add(78*time.Second)) {
		t.Fatal("a released lease was not free at once")
	}
	if _, err := db.AcquireLease(ctx, "alerts", "", ttl, base); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no holder: err = %v, want ErrInvalid", err)
	}
}

// testLeaseRace has holders race for a free lease, then for the same lease
// once expired: each time exactly one wins.
func testLeaseRace(t *testing.T, db *store.DB) {
	const (
		holders = 8
		ttl     = 10 * time.Second
	)
	for round := range 3 {
		now := base.Add(time.Duration(round) * 2 * ttl) // the previous round's lease has expired
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
		)
		for i := range holders {
			holder := fmt.Sprintf("node-%d", i)
			wg.Go(func() {
				ok, err := db.AcquireLease(t.Context(), "race", holder, ttl, now)
				if err != nil {
					t.Errorf("AcquireLease(%s): %v", holder, err)
					return
				}
				if ok {
					mu.Lock()
					winners = append(winners, holder)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: winners %v, want exactly one", round, winners)
		}
		for i := range holders {
			holder := fmt.Sprintf("node-%d", i)
			ok, err := db.AcquireLease(t.Context(), "race", holder, ttl, now.Add(time.Second))
			if err != nil || ok != (holder == winners[0]) {
				t.Errorf("round %d: after the race AcquireLease(%s) = %v, %v; only %s holds it", round, holder, ok, err, winners[0])
			}
		}
	}
}
