package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// Incidents is the conformance case of triage: concurrent batches upsert
// exactly one incident per fingerprint with exact counts and distinct
// consumers and end users; a resolved incident seen again regresses (but
// not for a call from before the resolution); samples stay bounded;
// once-only keys count once; listings filter, scope and rank; the states
// move only as triage.CanMove allows; notes and hourly counts come back
// with the detail; the share of the route's traffic comes from the rollups.
func Incidents(t *testing.T, db *store.DB) {
	ctx := t.Context()
	at := time.Date(2026, 7, 1, 10, 5, 0, 0, time.UTC)
	fail := triage.Key{Kind: triage.KindFailure, Service: "orders", Route: "0", Provider: "up", Model: "m",
		StatusClass: triage.ClassServerError, ErrorCode: "upstream_503", Message: "overloaded <num>"}
	slow := triage.Key{Kind: triage.KindAnomaly, Service: "orders", Route: "0", Model: "m", Flag: "latency_outlier"}

	// Eight writers, five batches each, every batch hitting both
	// fingerprints from overlapping consumers and end users.
	const writers, batches, perBatch = 8, 5, 6
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		news   = map[string]int{}
		errs   []error
		reqSeq int
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var occs []triage.Occurrence
				for i := range perBatch {
					mu.Lock()
					reqSeq++
					id := fmt.Sprintf("req-%04d", reqSeq)
					mu.Unlock()
					k := fail
					if i%3 == 2 {
						k = slow
					}
					occs = append(occs, triage.Occurrence{Key: k, RequestID: id, Time: at.Add(time.Duration(b*perBatch+i) * time.Second),
						Consumer: fmt.Sprintf("c%d", (w+i)%4), EndUser: fmt.Sprintf("u%d", (w*batches+b+i)%10)})
				}
				changes, err := db.RecordIncidents(ctx, triage.Aggregate(occs, nil))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, c := range changes {
					if c.New {
						news[c.Incident.Fingerprint]++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("RecordIncidents: %v", errors.Join(errs...))
	}
	all, err := db.ListIncidents(ctx, triage.Filter{Sort: triage.SortCount}, at)
	if err != nil {
		t.Fatalf("ListIncidents: %v", err)
	}
	if len(all) != 2 {
		t.Fatalf("ListIncidents = %d incidents, want exactly 2 (one per fingerprint): %+v", len(all), all)
	}
	total := int64(writers * batches * perBatch)
	want := map[string]int64{fail.Fingerprint(): total * 2 / 3, slow.Fingerprint(): total / 3}
	for _, inc := range all {
		if inc.Count != want[inc.Fingerprint] {
			t.Errorf("incident %s count = %d, want %d", inc.Title, inc.Count, want[inc.Fingerprint])
		}
		if news[inc.Fingerprint] != 1 {
			t.Errorf("incident %s reported new %d times, want once", inc.Title, news[inc.Fingerprint])
		}
		if inc.Consumers != 4 || inc.EndUsers != 10 {
			t.Errorf("incident %s affected %d consumers and %d end users, want 4 and 10", inc.Title, inc.Consumers, inc.EndUsers)
		}
		if inc.State != triage.StateOpen || inc.Regressed {
			t.Errorf("incident %s state %s regressed %v, want open and not regressed", inc.Title, inc.State, inc.Regressed)
		}
		first := at
		if inc.Fingerprint == slow.Fingerprint() {
			first = at.Add(2 * time.Second) // the first batch's third call
		}
		if !inc.FirstSeen.Equal(first) {
			t.Errorf("incident %s first seen %v, want %v", inc.Title, inc.FirstSeen, first)
		}
		if inc.Recent != inc.Count || inc.Trend.LastHour != inc.Count || inc.Trend.Direction != "up" {
			t.Errorf("incident %s recent %d trend %+v, want all %d calls in the current hour", inc.Title, inc.Recent, inc.Trend, inc.Count)
		}
	}
	if all[0].Fingerprint != fail.Fingerprint() {
		t.Fatalf("sorted by count, first = %s; want the failure", all[0].Title)
	}
	id := all[0].ID

	// The detail: samples bounded and newest first, hourly counts.
	d, err := db.GetIncident(ctx, id, at)
	if err != nil {
		t.Fatalf("GetIncident: %v", err)
	}
	if len(d.Samples) != triage.MaxSamples {
		t.Fatalf("samples = %d, want %d", len(d.Samples), triage.MaxSamples)
	}
	for i := 1; i < len(d.Samples); i++ {
		if d.Samples[i].Time.After(d.Samples[i-1].Time) {
			t.Fatalf("samples not newest first: %v", d.Samples)
		}
	}
	if len(d.Hourly) != 1 || d.Hourly[0].Count != d.Count || !d.Hourly[0].Hour.Equal(at.Truncate(time.Hour)) {
		t.Fatalf("hourly = %+v, want one hour of %d", d.Hourly, d.Count)
	}
	if _, err := db.GetIncident(ctx, "inc_missing", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetIncident(missing) = %v, want ErrNotFound", err)
	}

	// Notes.
	n, err := db.AddIncidentNote(ctx, id, triage.Note{Author: "ops@example.com", Text: "upstream says fixed", Time: at})
	if err != nil || n.ID == "" {
		t.Fatalf("AddIncidentNote = %+v, %v", n, err)
	}
	if _, err := db.AddIncidentNote(ctx, "inc_missing", triage.Note{Author: "a", Text: "b"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddIncidentNote(missing) = %v, want ErrNotFound", err)
	}

	// The workflow: acknowledge, then an invalid move, then resolve.
	if _, err := db.SetIncidentState(ctx, id, triage.StateAcknowledged, "ops", at.Add(time.Minute)); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := db.SetIncidentState(ctx, id, triage.StateAcknowledged, "ops", at.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("acknowledge twice = %v, want ErrConflict", err)
	}
	if _, err := db.SetIncidentState(ctx, "inc_missing", triage.StateResolved, "ops", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resolve(missing) = %v, want ErrNotFound", err)
	}
	resolvedAt := at.Add(2 * time.Hour)
	inc, err := db.SetIncidentState(ctx, id, triage.StateResolved, "ops", resolvedAt)
	if err != nil || inc.State != triage.StateResolved || inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(resolvedAt) {
		t.Fatalf("resolve = %+v, %v", inc, err)
	}

	// A late call from before the resolution does not reopen it.
	late := triage.Aggregate([]triage.Occurrence{{Key: fail, RequestID: "late", Time: at.Add(time.Hour), Consumer: "c0"}}, nil)
	changes, err := db.RecordIncidents(ctx, late)
	if err != nil || len(changes) != 1 || changes[0].Regressed || changes[0].Incident.State != triage.StateResolved {
		t.Fatalf("late call: %+v, %v; want counted, still resolved", changes, err)
	}
	// Seen again after: a regression, once.
	again := triage.Aggregate([]triage.Occurrence{
		{Key: fail, RequestID: "again-1", Time: resolvedAt.Add(time.Minute), Consumer: "c9"},
		{Key: fail, RequestID: "again-2", Time: resolvedAt.Add(2 * time.Minute), Consumer: "c9"},
	}, nil)
	changes, err = db.RecordIncidents(ctx, again)
	if err != nil || len(changes) != 1 || !changes[0].Regressed || changes[0].New {
		t.Fatalf("seen again: %+v, %v; want one regression", changes, err)
	}
	inc = changes[0].Incident
	if inc.State != triage.StateOpen || !inc.Regressed || inc.Regressions != 1 || inc.Consumers != 5 || inc.Count != want[fail.Fingerprint()]+3 {
		t.Fatalf("regressed incident = %+v; want open, regressed once, 5 consumers, %d calls", inc, want[fail.Fingerprint()]+3)
	}
	changes, err = db.RecordIncidents(ctx, triage.Aggregate([]triage.Occurrence{{Key: fail, RequestID: "again-3",
		Time: resolvedAt.Add(3 * time.Minute)}}, nil))
	if err != nil || len(changes) != 1 || changes[0].Regressed || changes[0].Incident.Regressions != 1 {
		t.Fatalf("seen a third time: %+v, %v; want no second regression while open", changes, err)
	}
	// Reopen from ignored; ignore keeps counting without a regression.
	if _, err := db.SetIncidentState(ctx, id, triage.StateIgnored, "ops", resolvedAt.Add(time.Hour)); err != nil {
		t.Fatalf("ignore: %v", err)
	}
	changes, err = db.RecordIncidents(ctx, triage.Aggregate([]triage.Occurrence{{Key: fail, RequestID: "again-4",
		Time: resolvedAt.Add(2 * time.Hour)}}, nil))
	if err != nil || changes[0].Regressed || changes[0].Incident.State != triage.StateIgnored {
		t.Fatalf("ignored incident seen again: %+v, %v; want still ignored", changes, err)
	}
	if inc, err := db.SetIncidentState(ctx, id, triage.StateOpen, "ops", resolvedAt.Add(3*time.Hour)); err != nil || inc.State != triage.StateOpen {
		t.Fatalf("reopen = %+v, %v", inc, err)
	}

	// Once-only keys: a piece of feedback toggled back to negative.
	neg := triage.Key{Kind: triage.KindFeedback, Service: "orders", Route: "0", Model: "m", Score: "helpful"}
	fb := triage.Occurrence{Key: neg, RequestID: "req-0001", Time: at, Consumer: "c1", Once: "feedback:fb1"}
	for i := range 2 {
		if _, err := db.RecordIncidents(ctx, triage.Aggregate([]triage.Occurrence{fb}, nil)); err != nil {
			t.Fatalf("feedback %d: %v", i, err)
		}
	}
	fb.Once = "feedback:fb2"
	if _, err := db.RecordIncidents(ctx, triage.Aggregate([]triage.Occurrence{fb}, nil)); err != nil {
		t.Fatalf("feedback fb2: %v", err)
	}
	list, err := db.ListIncidents(ctx, triage.Filter{Kind: triage.KindFeedback}, at)
	if err != nil || len(list) != 1 || list[0].Count != 2 {
		t.Fatalf("feedback incidents = %+v, %v; want one of 2 (fb1 once, fb2)", list, err)
	}

	// Filters and scope.
	for _, tc := range []struct {
		name string
		f    triage.Filter
		want int
	}{
		{"state", triage.Filter{State: triage.StateOpen}, 3},
		{"kind", triage.Filter{Kind: triage.KindAnomaly}, 1},
		{"service", triage.Filter{Service: "orders"}, 3},
		{"other service", triage.Filter{Service: "billing"}, 0},
		{"model", triage.Filter{Model: "m"}, 3},
		{"scoped by service", triage.Filter{Scoped: true, Services: []string{"orders"}}, 3},
		{"scoped by consumer", triage.Filter{Scoped: true, Consumers: []string{"c9"}}, 1},
		{"scoped to nothing", triage.Filter{Scoped: true}, 0},
		{"limit", triage.Filter{Limit: 1}, 1},
	} {
		got, err := db.ListIncidents(ctx, tc.f, at)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: ListIncidents = %d, %v; want %d", tc.name, len(got), err, tc.want)
		}
	}
	if _, err := db.ListIncidents(ctx, triage.Filter{Sort: "random"}, at); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad sort = %v, want ErrInvalid", err)
	}
	if ok, err := db.IncidentInScope(ctx, id, []string{"c9"}, nil); err != nil || !ok {
		t.Errorf("IncidentInScope(c9) = %v, %v; want true", ok, err)
	}
	if ok, err := db.IncidentInScope(ctx, id, []string{"nobody"}, []string{"billing"}); err != nil || ok {
		t.Errorf("IncidentInScope(other) = %v, %v; want false", ok, err)
	}

	// Share of the route's traffic, from the rollups: 10 calls of the
	// route in the hour of the anomaly incident's 80 calls... so a second
	// route with known traffic is used instead.
	shareAt := time.Date(2026, 7, 2, 8, 10, 0, 0, time.UTC)
	var recs []calllog.Record
	for i := range 10 {
		recs = append(recs, calllog.Record{ID: fmt.Sprint("share-", i), Time: shareAt.Add(time.Duration(i) * time.Second),
			Endpoint: "/v1/chat/completions", Service: "search", Route: "1", Model: "m", Status: 200, LatencyUS: 100})
	}
	if _, err := db.StoreCalls(ctx, recs); err != nil {
		t.Fatalf("StoreCalls: %v", err)
	}
	sk := triage.Key{Kind: triage.KindAnomaly, Service: "search", Route: "1", Model: "m", Flag: "refusal"}
	if _, err := db.RecordIncidents(ctx, triage.Aggregate([]triage.Occurrence{
		{Key: sk, RequestID: "share-1", Time: shareAt.Add(time.Second)}, {Key: sk, RequestID: "share-2", Time: shareAt.Add(2 * time.Second)},
	}, nil)); err != nil {
		t.Fatalf("RecordIncidents(share): %v", err)
	}
	got, err := db.ListIncidents(ctx, triage.Filter{Service: "search"}, shareAt)
	if err != nil || len(got) != 1 || got[0].Share == nil || *got[0].Share != 0.2 {
		t.Fatalf("share = %+v, %v; want 2 of 10 calls = 0.2", got, err)
	}
}
