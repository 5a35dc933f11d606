package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/store"
)

// Alerts is the conformance case of the alert history and silences:
// events read back newest first with their labels and values, filtered by
// rule and time; silences read back while they last and can be deleted
// once; pruning keeps what is recent.
func Alerts(t *testing.T, db *store.DB) {
	ctx := t.Context()
	v := 0.25
	evs := []alert.Event{
		{ID: "alev_1", Time: base, Rule: "errors-high", Labels: map[string]string{"consumer": "web-shop"},
			From: alert.StateOK, To: alert.StatePending, Severity: alert.SeverityWarning, Value: &v},
		{ID: "alev_2", Time: base.Add(time.Minute), Rule: "errors-high", Labels: map[string]string{"consumer": "web-shop"},
			From: alert.StatePending, To: alert.StateFiring, Severity: alert.SeverityCritical, Value: &v, Silenced: true},
		{ID: "alev_3", Time: base.Add(2 * time.Minute), Rule: "slow", Labels: map[string]string{},
			From: alert.StateFiring, To: alert.StateResolved},
	}
	if err := db.InsertAlertEvents(ctx, evs); err != nil {
		t.Fatalf("InsertAlertEvents: %v", err)
	}
	tests := []struct {
		name string
		q    alert.EventQuery
		want []string
	}{
		{name: "all, newest first", q: alert.EventQuery{}, want: []string{"alev_3", "alev_2", "alev_1"}},
		{name: "one rule", q: alert.EventQuery{Rule: "errors-high"}, want: []string{"alev_2", "alev_1"}},
		{name: "since", q: alert.EventQuery{Since: base.Add(time.Minute)}, want: []string{"alev_3", "alev_2"}},
		{name: "before", q: alert.EventQuery{Before: base.Add(time.Minute)}, want: []string{"alev_1"}},
		{name: "limit", q: alert.EventQuery{Limit: 1}, want: []string{"alev_3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.AlertEvents(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
		})
	}
	got, err := db.AlertEvents(ctx, alert.EventQuery{Rule: "errors-high"})
	if err != nil {
		t.Fatal(err)
	}
	want := evs[1]
	want.Time = stored(want.Time)
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("event read back as %+v, want %+v", got[0], want)
	}
	if got, _ := db.AlertEvents(ctx, alert.EventQuery{Rule: "slow"}); len(got) != 1 || got[0].Value != nil || got[0].Labels == nil {
		t.Errorf("event without value read back as %+v", got)
	}
	if _, err := db.AlertEvents(ctx, alert.EventQuery{Limit: alert.MaxEvents + 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit over the maximum: err = %v, want ErrInvalid", err)
	}

	s := alert.Silence{ID: "sil_1", Matchers: []alert.Matcher{{Name: alert.RuleLabel, Value: "errors-high"}, {Name: "consumer", Value: "web-.*", Regex: true}},
		Start: base, End: base.Add(time.Hour), Author: "user:ana@example.com", Comment: "deploy", CreatedAt: base}
	if err := db.InsertSilence(ctx, s); err != nil {
		t.Fatalf("InsertSilence: %v", err)
	}
	if err := db.InsertSilence(ctx, alert.Silence{ID: "sil_2", Start: base, End: base.Add(time.Hour), Author: "a"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("silence without matchers: err = %v, want ErrInvalid", err)
	}
	ss, err := db.Silences(ctx, base.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s.Start, s.End, s.CreatedAt = stored(s.Start), stored(s.End), stored(s.CreatedAt)
	if len(ss) != 1 || !reflect.DeepEqual(ss[0], s) {
		t.Errorf("Silences = %+v, want [%+v]", ss, s)
	}
	if ss, _ := db.Silences(ctx, base.Add(2*time.Hour)); len(ss) != 0 {
		t.Errorf("expired silence still listed: %+v", ss)
	}
	if err := db.PruneAlerts(ctx, base.Add(90*time.Second)); err != nil {
		t.Fatalf("PruneAlerts: %v", err)
	}
	if got, _ := db.AlertEvents(ctx, alert.EventQuery{}); len(got) != 1 || got[0].ID != "alev_3" {
		t.Errorf("after pruning: %+v, want alev_3 only", got)
	}
	if ss, _ := db.Silences(ctx, time.Time{}); len(ss) != 1 {
		t.Errorf("pruning removed a silence that had not ended: %+v", ss)
	}
	if err := db.DeleteSilence(ctx, "sil_1"); err != nil {
		t.Fatalf("DeleteSilence: %v", err)
	}
	if err := db.DeleteSilence(ctx, "sil_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
}
