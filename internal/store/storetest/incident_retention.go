package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// IncidentRetention is the conformance case of incident retention: incidents
// over (resolved or ignored) and not seen since the cut are deleted with
// their children; open and acknowledged ones are kept however old, and so
// are recent ones, which lose only their hourly counts before the cut.
func IncidentRetention(t *testing.T, db *store.DB) {
	ctx := t.Context()
	old := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	recent := old.Add(100 * 24 * time.Hour)
	cut := old.Add(90 * 24 * time.Hour)
	record := func(msg string, at ...time.Time) string {
		t.Helper()
		var occs []triage.Occurrence
		for i, when := range at {
			occs = append(occs, triage.Occurrence{Key: triage.Key{Kind: triage.KindFailure, Service: "orders", Model: "m",
				StatusClass: triage.ClassServerError, Message: msg}, RequestID: fmt.Sprintf("%s-%d", msg, i), Time: when, Consumer: "shop"})
		}
		changes, err := db.RecordIncidents(ctx, triage.Aggregate(occs, nil))
		if err != nil || len(changes) != 1 {
			t.Fatalf("RecordIncidents(%s) = %v, %v", msg, changes, err)
		}
		return changes[0].Incident.ID
	}
	resolvedOld := record("resolved long ago", old)
	ignoredOld := record("ignored long ago", old)
	openOld := record("open long ago", old)
	ackOld := record("acknowledged long ago", old)
	resolvedRecent := record("resolved lately", old, recent) // seen long ago and again lately
	for id, to := range map[string]triage.State{resolvedOld: triage.StateResolved, ignoredOld: triage.StateIgnored,
		ackOld: triage.StateAcknowledged, resolvedRecent: triage.StateResolved} {
		if to == triage.StateResolved {
			if _, err := db.SetIncidentState(ctx, id, triage.StateAcknowledged, "ops", recent); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SetIncidentState(ctx, id, to, "ops", recent); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AddIncidentNote(ctx, resolvedOld, triage.Note{ID: "note-old", Author: "ops", Text: "fixed", Time: recent}); err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneIncidents(ctx, cut)
	if err != nil || n != 2 {
		t.Fatalf("PruneIncidents = %d, %v; want the 2 incidents over and not seen since the cut", n, err)
	}
	for _, id := range []string{resolvedOld, ignoredOld} {
		if _, err := db.GetIncident(ctx, id, recent); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("incident %s after pruning: %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range []string{openOld, ackOld, resolvedRecent} {
		d, err := db.GetIncident(ctx, id, recent)
		if err != nil {
			t.Fatalf("incident %s kept: %v", id, err)
		}
		for _, h := range d.Hourly {
			if h.Hour.Before(cut) {
				t.Errorf("incident %s keeps the hour %v, before the cut", id, h.Hour)
			}
		}
	}
	var orphans int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM incident_notes WHERE incident_id NOT IN (SELECT id FROM incidents)").Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("notes of deleted incidents left: %d, %v", orphans, err)
	}
}
