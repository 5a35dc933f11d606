package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/probe"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// Status is the conformance case of the public status: incidents with
// their updates round-trip and resolve once; subscribers keep their
// secrets; a service state swap reports a change exactly once, even to
// concurrent callers; traffic and probe runs are counted per service.
func Status(t *testing.T, db *store.DB) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

	t.Run("incidents", func(t *testing.T) {
		in := status.Incident{ID: "sti_1", Title: "Slow <orders>", Services: []string{"orders-api", "search"},
			Impact: status.ImpactDegraded, Status: status.StageInvestigating, Author: "ops@example.com",
			CreatedAt: t0, UpdatedAt: t0,
			Updates: []status.Update{{ID: "stu_1", Status: status.StageInvestigating, Message: "Looking into it", Author: "ops@example.com", CreatedAt: t0}}}
		if err := db.CreateStatusIncident(ctx, in); err != nil {
			t.Fatal(err)
		}
		other := status.Incident{ID: "sti_2", Title: "Maintenance", Services: []string{"search"}, Impact: status.ImpactMaintenance,
			Status: status.StageIdentified, CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour),
			Updates: []status.Update{{ID: "stu_2", Status: status.StageIdentified, Message: "Upgrading", CreatedAt: t0.Add(time.Hour)}}}
		if err := db.CreateStatusIncident(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetStatusIncident(ctx, "sti_1")
		if err != nil {
			t.Fatal(err)
		}
		in.Updates[0].IncidentID = "sti_1"
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("GetStatusIncident = %+v, want %+v", got, in)
		}
		if _, err := db.GetStatusIncident(ctx, "sti_none"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing incident: %v, want ErrNotFound", err)
		}

		resolveAt := t0.Add(2 * time.Hour)
		for i, u := range []status.Update{
			{ID: "stu_3", IncidentID: "sti_1", Status: status.StageIdentified, Message: "A bad index", CreatedAt: t0.Add(time.Hour)},
			{ID: "stu_4", IncidentID: "sti_1", Status: status.StageResolved, Message: "Fixed", CreatedAt: resolveAt},
		} {
			if err := db.AddStatusUpdate(ctx, u); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
		err = db.AddStatusUpdate(ctx, status.Update{ID: "stu_5", IncidentID: "sti_1", Status: status.StageMonitoring, Message: "late", CreatedAt: resolveAt.Add(time.Minute)})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("update after resolution: %v, want ErrConflict", err)
		}
		if err := db.AddStatusUpdate(ctx, status.Update{ID: "stu_6", IncidentID: "sti_none", Status: status.StageMonitoring, Message: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a missing incident: %v, want ErrNotFound", err)
		}
		got, err = db.GetStatusIncident(ctx, "sti_1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Open() || !got.ResolvedAt.Equal(resolveAt) || got.Status != status.StageResolved || !got.UpdatedAt.Equal(resolveAt) {
			t.Fatalf("resolved incident = %+v", got)
		}
		if n := len(got.Updates); n != 3 || got.Updates[2].Message != "Fixed" {
			t.Fatalf("updates = %+v, want 3, the last Fixed", got.Updates)
		}

		for _, tc := range []struct {
			name string
			f    status.IncidentFilter
			want []string
		}{
			{"all newest first", status.IncidentFilter{}, []string{"sti_2", "sti_1"}},
			{"open", status.IncidentFilter{Open: true}, []string{"sti_2"}},
			{"resolved after since", status.IncidentFilter{Since: resolveAt.Add(-time.Minute)}, []string{"sti_2", "sti_1"}},
			{"resolved before since", status.IncidentFilter{Since: resolveAt.Add(time.Minute)}, []string{"sti_2"}},
			{"limit", status.IncidentFilter{Limit: 1}, []string{"sti_2"}},
		} {
			list, err := db.ListStatusIncidents(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, in := range list {
				ids = append(ids, in.ID)
				if len(in.Updates) == 0 {
					t.Errorf("%s: incident %s listed without its updates", tc.name, in.ID)
				}
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: ids = %v, want %v", tc.name, ids, tc.want)
			}
		}
	})

	t.Run("subscribers", func(t *testing.T) {
		a := status.Subscriber{ID: "sts_a", URL: "https://hooks.example.com/a", SecretRef: "env:HOOK_A", Author: "ops", CreatedAt: t0}
		b := status.Subscriber{ID: "sts_b", URL: "https://hooks.example.com/b", SecretRef: "env:HOOK", CreatedAt: t0.Add(time.Second)}
		for _, s := range []status.Subscriber{a, b} {
			if err := db.CreateStatusSubscriber(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.ListStatusSubscribers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []status.Subscriber{a, b}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ListStatusSubscribers = %+v, want %+v", got, want)
		}
		if err := db.DeleteStatusSubscriber(ctx, "sts_a"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteStatusSubscriber(ctx, "sts_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v, want ErrNotFound", err)
		}
		if got, _ := db.ListStatusSubscribers(ctx); len(got) != 1 || got[0].ID != "sts_b" {
			t.Fatalf("after delete: %+v", got)
		}
	})

	t.Run("state swap", func(t *testing.T) {
		swap := func(lvl status.Level, at time.Time) (status.ServiceState, bool) {
			t.Helper()
			prev, changed, err := db.SwapStatusState(ctx, status.ServiceState{Service: "orders-api", Level: lvl,
				Reasons: []status.Reason{{Signal: "error_rate", Level: lvl, Value: 0.5}}, Since: at, UpdatedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return prev, changed
		}
		if _, changed := swap(status.Operational, t0); !changed {
			t.Fatal("first state: not reported as a change")
		}
		if prev, changed := swap(status.Operational, t0.Add(time.Minute)); changed || prev.Level != status.Operational {
			t.Fatalf("same level: changed %v, prev %+v", changed, prev)
		}
		if prev, changed := swap(status.Outage, t0.Add(2*time.Minute)); !changed || prev.Level != status.Operational || !prev.Since.Equal(t0) {
			t.Fatalf("new level: changed %v, prev %+v (the since of the first state is kept)", changed, prev)
		}
		states, err := db.StatusStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 1 || states[0].Level != status.Outage || !states[0].Since.Equal(t0.Add(2*time.Minute)) || len(states[0].Reasons) != 1 {
			t.Fatalf("StatusStates = %+v", states)
		}

		// Several nodes computing the same change at once: one hears it.
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			changes int
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, changed, err := db.SwapStatusState(ctx, status.ServiceState{Service: "orders-api", Level: status.Degraded,
					Since: t0.Add(time.Hour + time.Duration(i)), UpdatedAt: t0.Add(time.Hour)})
				if err != nil {
					t.Error(err)
				}
				if changed {
					mu.Lock()
					changes++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if changes != 1 {
			t.Fatalf("concurrent swaps to one level: %d changes, want 1", changes)
		}
	})

	t.Run("traffic", func(t *testing.T) {
		base := t0.Add(24 * time.Hour).Truncate(time.Minute)
		var recs []calllog.Record
		add := func(service string, at time.Time, statusCode int, n int) {
			for range n {
				recs = append(recs, calllog.Record{ID: fmt.Sprintf("st-%d", len(recs)), Time: at, Endpoint: "/orders",
					Service: service, Consumer: "web-shop", Status: statusCode})
			}
		}
		add("orders-api", base, 200, 6)
		add("orders-api", base, 502, 3)
		add("orders-api", base, 0, 1)   // no answer: a server-side failure
		add("orders-api", base, 404, 2) // the client's mistake, not the service's
		add("orders-api", base.Add(time.Minute), 500, 1)
		add("search", base.Add(time.Minute), 200, 4)
		add("", base, 500, 5) // not a service's call
		probes := []calllog.Record{
			{ID: "pr-1", Time: base, Service: "orders-api", Status: 200, Synthetic: true, Probe: "p"},
			{ID: "pr-2", Time: base, Service: "orders-api", Status: 502, Synthetic: true, Probe: "p", ErrorType: probe.ErrorAssertion},
			{ID: "pr-3", Time: base.Add(10 * time.Minute), Service: "orders-api", Status: 0, Synthetic: true, Probe: "p", ErrorType: probe.ErrorRequest},
		}
		if err := db.InsertCallsAndRollups(ctx, append(recs, probes...)); err != nil {
			t.Fatal(err)
		}
		got, err := db.StatusTraffic(ctx, time.Minute, base, base.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		sum := map[string][2]int64{}
		for _, tr := range got {
			c := sum[tr.Service]
			sum[tr.Service] = [2]int64{c[0] + tr.Requests, c[1] + tr.Failures}
		}
		if want := map[string][2]int64{"orders-api": {13, 5}, "search": {4, 0}}; !reflect.DeepEqual(sum, want) {
			t.Fatalf("StatusTraffic per service = %v, want %v", sum, want)
		}
		day, err := db.StatusTraffic(ctx, 24*time.Hour, base.Truncate(24*time.Hour), base.Truncate(24*time.Hour).Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range day {
			if tr.Service == "orders-api" && (tr.Requests != 13 || tr.Failures != 5 || !tr.Bucket.Equal(base.Truncate(24*time.Hour))) {
				t.Fatalf("daily traffic = %+v", tr)
			}
		}
		runs, err := db.StatusProbeRuns(ctx, base, base.Add(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if want := []status.Traffic{{Service: "orders-api", Requests: 2, Failures: 1}}; !reflect.DeepEqual(runs, want) {
			t.Fatalf("StatusProbeRuns = %+v, want %+v", runs, want)
		}
	})

	t.Run("triage incidents", func(t *testing.T) {
		occ := func(k triage.Key, id string) triage.Occurrence {
			return triage.Occurrence{Key: k, RequestID: id, Time: t0, Consumer: "web-shop"}
		}
		failing := triage.Key{Kind: triage.KindFailure, Service: "orders-api", StatusClass: "5xx", Message: "upstream down"}
		flagged := triage.Key{Kind: triage.KindAnomaly, Service: "orders-api", Flag: "empty_output"}
		elsewhere := triage.Key{Kind: triage.KindFailure, Service: "search", StatusClass: "5xx", Message: "x"}
		groups := triage.Aggregate([]triage.Occurrence{occ(failing, "t1"), occ(flagged, "t2"), occ(elsewhere, "t3")}, nil)
		for i := range groups {
			groups[i].Severity = triage.SeverityLow
			if groups[i].Key == failing {
				groups[i].Severity = triage.SeverityCritical
			}
		}
		changes, err := db.RecordIncidents(ctx, groups)
		if err != nil {
			t.Fatal(err)
		}
		n, worst, err := db.OpenIncidents(ctx, "orders-api")
		if err != nil || n != 2 || worst != string(triage.SeverityCritical) {
			t.Fatalf("OpenIncidents = %d, %q, %v; want 2, critical", n, worst, err)
		}
		for _, c := range changes {
			if c.Incident.Key == failing {
				if _, err := db.SetIncidentState(ctx, c.Incident.ID, triage.StateResolved, "ops", t0.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n, worst, err := db.OpenIncidents(ctx, "orders-api"); err != nil || n != 1 || worst != string(triage.SeverityLow) {
			t.Fatalf("after resolving the critical one: %d, %q, %v; want 1, low", n, worst, err)
		}
		if n, _, err := db.OpenIncidents(ctx, "quiet"); err != nil || n != 0 {
			t.Fatalf("a service without incidents: %d, %v", n, err)
		}
	})
}
