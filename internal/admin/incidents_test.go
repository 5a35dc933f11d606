package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// newOASIncidents stores the incidents the scenarios use: inc_fixture, an
// open failure of web-shop's calls through /v1 (every field set); inc_resolved,
// a resolved anomaly of the support-bot service; and inc_other, a failure of
// a service and consumer of no team.
func newOASIncidents(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour)
	occ := func(k triage.Key, id, consumer, user string) triage.Occurrence {
		return triage.Occurrence{Key: k, RequestID: id, Time: at, Consumer: consumer, EndUser: user}
	}
	fail := triage.Key{Kind: triage.KindFailure, Endpoint: "/v1/chat/completions", Provider: "openai-main", Model: "gpt-4o-mini",
		StatusClass: triage.ClassServerError, ErrorCode: "server_error", Message: "overloaded, retry in <num>ms"}
	flag := triage.Key{Kind: triage.KindAnomaly, Service: "support-bot", Route: "chat", Model: "gpt-4o-mini", Flag: "truncated",
		FinishReason: "length"}
	other := triage.Key{Kind: triage.KindFailure, Service: "ledger", Route: "0", StatusClass: triage.ClassTimeout, ErrorCode: "upstream_timeout"}
	for id, occs := range map[string][]triage.Occurrence{
		"inc_fixture":  {occ(fail, "req_full", "web-shop", "u-1"), occ(fail, "req_minimal", "web-shop", "u-2")},
		"inc_resolved": {occ(flag, "req_full", "web-shop", "")},
		"inc_other":    {occ(other, "req_x", "ledger-app", "")},
	} {
		groups := triage.Aggregate(occs, nil)
		groups[0].ID = id
		if _, err := db.RecordIncidents(ctx, groups); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SetIncidentState(ctx, "inc_fixture", triage.StateAcknowledged, "user:ana@example.com", at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetIncidentState(ctx, "inc_fixture", triage.StateOpen, "user:ana@example.com", at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetIncidentState(ctx, "inc_resolved", triage.StateResolved, "user:ana@example.com", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddIncidentNote(ctx, "inc_fixture", triage.Note{Author: "user:ana@example.com", Text: "provider paged", Time: at}); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestIncidentsScope checks who reaches which incident: a developer of
// team payments sees and moves the incidents that hit its consumer
// web-shop, and no other (answered 404, as if absent); a global viewer sees
// every one but may move none.
func TestIncidentsScope(t *testing.T) {
	f := newOASFixture(t) // with newOASIncidents
	const devToken = "hgt-fixture-dev-token-0123456789abcdefghijklmnop"
	if err := f.db.CreateToken(t.Context(), auth.Token{ID: "tok_dev", Name: "dev", Role: auth.RoleDeveloper, Team: "payments",
		Prefix: auth.DisplayPrefix(devToken), Hash: auth.HashKey(devToken), CreatedBy: "admin-token", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h := f.server.Handler()
	do := func(token, method, target, body string) (int, string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	ids := func(body string) []string {
		var page struct {
			Data []triage.Incident `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var out []string
		for _, inc := range page.Data {
			out = append(out, inc.ID)
		}
		return out
	}
	tests := []struct {
		name, token, method, target, body string
		want                              int
		list                              []string
	}{
		{"developer lists its team's", devToken, "GET", "/admin/v1/incidents?sort=first_seen", "", 200, nil},
		{"developer reads its own", devToken, "GET", "/admin/v1/incidents/inc_fixture", "", 200, nil},
		{"developer cannot read another team's", devToken, "GET", "/admin/v1/incidents/inc_other", "", 404, nil},
		{"developer cannot move another team's", devToken, "POST", "/admin/v1/incidents/inc_other/acknowledge", "", 404, nil},
		{"developer cannot note another team's", devToken, "POST", "/admin/v1/incidents/inc_other/notes", `{"text":"x"}`, 404, nil},
		{"developer acknowledges its own", devToken, "POST", "/admin/v1/incidents/inc_fixture/acknowledge", `{"note":"on it"}`, 200, nil},
		{"viewer reads another team's", oasViewerToken, "GET", "/admin/v1/incidents/inc_other", "", 200, nil},
		{"viewer may not move", oasViewerToken, "POST", "/admin/v1/incidents/inc_other/ignore", "", 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(tt.token, tt.method, tt.target, tt.body)
			if code != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.target, code, body, tt.want)
			}
		})
	}
	_, body := do(devToken, "GET", "/admin/v1/incidents?sort=first_seen", "")
	if got := ids(body); len(got) != 2 || !slices.Contains(got, "inc_fixture") || !slices.Contains(got, "inc_resolved") {
		t.Errorf("developer lists %v; want inc_fixture and inc_resolved (web-shop's), not inc_other", got)
	}
	_, body = do(oasViewerToken, "GET", "/admin/v1/incidents", "")
	if got := ids(body); len(got) != 3 {
		t.Errorf("viewer lists %v; want all three", got)
	}
	_, body = do(oasViewerToken, "GET", "/admin/v1/incidents/inc_fixture", "")
	var d triage.Detail
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.State != triage.StateAcknowledged || len(d.Notes) != 2 || d.Notes[1].Text != "on it" || d.Notes[1].Author != "token:dev" ||
		len(d.Samples) != 2 || d.EndUsers != 2 || d.Consumers != 1 {
		t.Errorf("detail after the developer acknowledged = %+v", d)
	}
}

// TestIncidentsDisabled checks the routes answer 404 without triage.
func TestIncidentsDisabled(t *testing.T) {
	f := newOASFixture(t)
	f.server.Incidents = nil
	req := httptest.NewRequest(http.MethodGet, "/admin/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer "+oasToken)
	w := httptest.NewRecorder()
	f.server.Handler().ServeHTTP(w, req)
	if w.Code != 404 {
		t.Fatalf("GET /admin/v1/incidents without triage = %d, want 404", w.Code)
	}
}
