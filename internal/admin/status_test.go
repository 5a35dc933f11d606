package admin

import (
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/store"
)

// newOASStatus is the status page's side of the OpenAPI fixture: an open
// incident (sti_fixture), a resolved one (sti_resolved), a subscriber
// (sts_fixture) and a computed service state, every optional field set.
func newOASStatus(t *testing.T, db *store.DB) *status.Service {
	t.Helper()
	ctx := t.Context()
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	resolved := at.Add(time.Hour)
	for _, in := range []status.Incident{
		{ID: "sti_fixture", Title: "Slow orders", Services: []string{"orders-api"}, Impact: status.ImpactDegraded,
			Status: status.StageInvestigating, Author: "user:ana@example.com", CreatedAt: at, UpdatedAt: at,
			Updates: []status.Update{{ID: "stu_fixture", Status: status.StageInvestigating, Message: "Looking into it",
				Author: "user:ana@example.com", CreatedAt: at}}},
		{ID: "sti_resolved", Title: "Maintenance", Services: []string{"orders-api"}, Impact: status.ImpactMaintenance,
			Status: status.StageResolved, Author: "admin", CreatedAt: at, UpdatedAt: resolved, ResolvedAt: &resolved,
			Updates: []status.Update{{ID: "stu_resolved", Status: status.StageResolved, Message: "Done", Author: "admin", CreatedAt: resolved}}},
	} {
		if err := db.CreateStatusIncident(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateStatusSubscriber(ctx, status.Subscriber{ID: "sts_fixture", URL: "https://hooks.example.com/status",
		SecretRef: "env:STATUS_HOOK_SECRET", Author: "admin", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SwapStatusState(ctx, status.ServiceState{Service: "orders-api", Level: status.Degraded,
		Reasons: []status.Reason{{Signal: "error_rate", Level: status.Degraded, Value: 0.12}}, Since: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return &status.Service{Store: db, Now: func() time.Time { return at.Add(2 * time.Hour) },
		Services: func() []status.PageService { return []status.PageService{{Name: "orders-api"}, {Name: "support-bot"}} }}
}
