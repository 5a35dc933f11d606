package admin

import (
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// oasAlerts serves the alert routes of the OpenAPI fixture: a fixed rule
// status, and the history and silences of the fixture's store.
type oasAlerts struct {
	*store.DB
	status []alert.RuleStatus
}

func (a oasAlerts) Status() []alert.RuleStatus { return a.status }

// newOASAlerts stores one transition and one silence, and describes one
// firing group of a rule with every field set.
func newOASAlerts(t *testing.T, db *store.DB) oasAlerts {
	t.Helper()
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	v, w, c := 0.31, 0.05, 0.2
	rule := config.Alert{Name: "errors-high", Description: "Too many failed calls", Metric: "error_rate",
		Filter: map[string]string{"model": "gpt-4o-mini"}, GroupBy: []string{"consumer"}, Window: config.Duration(5 * time.Minute),
		Operator: ">", Threshold: config.AlertThreshold{Warning: &w, Critical: &c}, For: config.Duration(time.Minute),
		KeepFiringFor: config.Duration(2 * time.Minute), MinRequests: 20, NoData: config.NoDataKeep, Notify: []string{"ops"}}
	since := at.Add(-time.Minute)
	g := alert.GroupStatus{Labels: map[string]string{"consumer": "web-shop"}, State: alert.StateFiring,
		Severity: alert.SeverityCritical, Value: &v, Requests: 120, Since: at, ActiveSince: &since, Silenced: true, LastEval: at}
	requireAllFieldsSet(t, g)
	if err := db.InsertAlertEvents(t.Context(), []alert.Event{{ID: "alev_fixture", Time: at, Rule: "errors-high",
		Labels: g.Labels, From: alert.StatePending, To: alert.StateFiring, Severity: alert.SeverityCritical, Value: &v, Silenced: true}}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertSilence(t.Context(), alert.Silence{ID: "sil_fixture", Start: at, End: at.Add(100 * 365 * 24 * time.Hour),
		Matchers: []alert.Matcher{{Name: alert.RuleLabel, Value: "errors-high"}, {Name: "consumer", Value: "web-.*", Regex: true}},
		Author:   "user:ana@example.com", Comment: "deploying the fix", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return oasAlerts{DB: db, status: []alert.RuleStatus{{Rule: rule, Groups: []alert.GroupStatus{g}, LastEval: &at, Error: "reading rollups: database is locked"}}}
}
