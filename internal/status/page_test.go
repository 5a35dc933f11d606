package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed clock of these tests.
var now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "hg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// releases serves fixed release lists.
type releases map[string][]catalog.Release

func (r releases) ListReleases(_ context.Context, service string, limit, _ int) ([]catalog.Release, error) {
	out := r[service]
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func services(names ...string) func() []status.PageService {
	return func() []status.PageService {
		out := make([]status.PageService, len(names))
		for i, n := range names {
			out[i] = status.PageService{Name: n, Description: "The " + n + " service"}
		}
		return out
	}
}

// calls writes n calls of service at t answered with code.
func calls(t *testing.T, db *store.DB, service string, at time.Time, code, n int) {
	t.Helper()
	recs := make([]calllog.Record, n)
	for i := range recs {
		recs[i] = calllog.Record{ID: fmt.Sprintf("%s-%d-%d-%d", service, at.Unix(), code, i), Time: at, Endpoint: "/x",
			Service: service, Consumer: "secret-consumer-name", Status: code, ErrorMessage: "upstream said: password=hunter2"}
	}
	if err := db.InsertCallsAndRollups(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

// fixture fills a store with a known history: an outage day, a degraded
// day, an open incident with two updates, a resolved maintenance and a
// service currently degraded.
func fixture(t *testing.T) (*store.DB, *status.Page) {
	t.Helper()
	db := openStore(t)
	ctx := t.Context()
	calls(t, db, "orders-api", now.Add(-3*24*time.Hour), 200, 10)
	calls(t, db, "orders-api", now.Add(-3*24*time.Hour), 503, 10) // 50 %: outage that day
	calls(t, db, "orders-api", now.Add(-24*time.Hour), 200, 90)
	calls(t, db, "orders-api", now.Add(-24*time.Hour), 500, 10) // 10 %: degraded
	calls(t, db, "search", now.Add(-2*24*time.Hour), 200, 40)
	calls(t, db, "search", now.Add(-2*24*time.Hour), 404, 40) // clients' mistakes count for nothing
	open := status.Incident{ID: "sti_open", Title: "Orders <b>slow</b> & failing", Services: []string{"orders-api"},
		Impact: status.ImpactDegraded, Status: status.StageInvestigating, Author: "alice@corp.example",
		CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-2 * time.Hour),
		Updates: []status.Update{{ID: "stu_1", Status: status.StageInvestigating, Message: "We see errors.\n<script>alert(1)</script>",
			Author: "alice@corp.example", CreatedAt: now.Add(-2 * time.Hour)}}}
	maint := status.Incident{ID: "sti_maint", Title: "Search index rebuild", Services: []string{"search", "retired-svc"},
		Impact: status.ImpactMaintenance, Status: status.StageIdentified, Author: "bob@corp.example",
		CreatedAt: now.Add(-5 * 24 * time.Hour), UpdatedAt: now.Add(-5 * 24 * time.Hour),
		Updates: []status.Update{{ID: "stu_2", Status: status.StageIdentified, Message: "Planned work.", CreatedAt: now.Add(-5 * 24 * time.Hour)}}}
	for _, in := range []status.Incident{open, maint} {
		if err := db.CreateStatusIncident(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []status.Update{
		{ID: "stu_3", IncidentID: "sti_open", Status: status.StageIdentified, Message: "A bad deploy \"v2\".", CreatedAt: now.Add(-time.Hour)},
		{ID: "stu_4", IncidentID: "sti_maint", Status: status.StageResolved, Message: "Done.", CreatedAt: now.Add(-4*24*time.Hour - 20*time.Hour)},
	} {
		if err := db.AddStatusUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.SwapStatusState(ctx, status.ServiceState{Service: "orders-api", Level: status.Degraded,
		Reasons: []status.Reason{{Signal: "incident", Level: status.Degraded}}, Since: now.Add(-2 * time.Hour), UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rels := releases{
		"orders-api": {
			{Service: "orders-api", Number: 3, Published: false, Message: "a canary, not published", CreatedAt: now.Add(-time.Hour)},
			{Service: "orders-api", Number: 2, Published: true, Message: "Faster <search> & paging", Author: "carol@corp.example", CreatedAt: now.Add(-26 * time.Hour)},
			{Service: "orders-api", Number: 1, Published: true, Message: "", CreatedAt: now.Add(-40 * 24 * time.Hour)},
		},
	}
	p := &status.Page{Store: db, Releases: rels, Services: services("orders-api", "search"), Title: func() string { return "Acme <APIs>" },
		Now: func() time.Time { return now }}
	return db, p
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

func TestPageGolden(t *testing.T) {
	_, p := fixture(t)
	html := get(t, p, "/status")
	if html.Code != 200 {
		t.Fatalf("GET /status: %d %s", html.Code, html.Body)
	}
	golden(t, "page.html", html.Body.Bytes())
	js := get(t, p, "/status.json")
	if js.Code != 200 {
		t.Fatalf("GET /status.json: %d %s", js.Code, js.Body)
	}
	golden(t, "page.json", js.Body.Bytes())
	if alt := get(t, p, "/status?format=json"); !bytes.Equal(alt.Body.Bytes(), js.Body.Bytes()) {
		t.Error("/status?format=json differs from /status.json")
	}
}

// TestPageSafe checks what keeps the public page safe: every response
// carries a CSP that allows no script, operator text is escaped, and
// nothing private (consumers, error messages, authors, unpublished
// releases, services not on the page) leaks.
func TestPageSafe(t *testing.T) {
	_, p := fixture(t)
	for _, target := range []string{"/status", "/status.json", "/status/style.css", "/status?format=xml"} {
		w := get(t, p, target)
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: Content-Security-Policy = %q", target, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", target)
		}
	}
	if w := get(t, p, "/status?format=xml"); w.Code != 400 {
		t.Errorf("unknown format: %d, want 400", w.Code)
	}
	html := get(t, p, "/status").Body.String()
	for _, bad := range []string{"<script>", "<b>slow</b>", "<APIs>", "<search>"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q unescaped", bad)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;", "Orders &lt;b&gt;slow&lt;/b&gt; &amp; failing", "Acme &lt;APIs&gt;"} {
		if !strings.Contains(html, escaped) {
			t.Errorf("HTML lacks %q", escaped)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "style=") || strings.Contains(html, " on") && strings.Contains(html, "onclick") {
		t.Error("the page carries script or inline style")
	}
	js := get(t, p, "/status.json").Body.String()
	for _, page := range []string{html, js} {
		for _, secret := range []string{"secret-consumer-name", "hunter2", "upstream said", "alice@corp.example", "bob@", "carol@", "canary", "retired-svc"} {
			if strings.Contains(page, secret) {
				t.Errorf("the page reveals %q", secret)
			}
		}
	}
	if w := httptest.NewRecorder(); true {
		p.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/status", nil))
		if w.Code != 405 {
			t.Errorf("POST /status: %d, want 405", w.Code)
		}
	}
}

func TestPageJSONShape(t *testing.T) {
	_, p := fixture(t)
	var snap map[string]any
	if err := json.Unmarshal(get(t, p, "/status.json").Body.Bytes(), &snap); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if got, want := keys(snap), []string{"incidents", "past_incidents", "releases", "services", "status", "title", "updated_at"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("top-level keys = %v, want %v", got, want)
	}
	if snap["status"] != "degraded" {
		t.Errorf("status = %v, want degraded", snap["status"])
	}
	svcs := snap["services"].([]any)
	orders := svcs[0].(map[string]any)
	if got, want := keys(orders), []string{"description", "history", "name", "since", "status", "uptime"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("service keys = %v, want %v", got, want)
	}
	hist := orders["history"].([]any)
	if len(hist) != status.HistoryDays {
		t.Fatalf("history has %d days, want %d", len(hist), status.HistoryDays)
	}
	day := func(back int) string { return hist[len(hist)-1-back].(map[string]any)["status"].(string) }
	// Today: the open incident; yesterday: 10 % errors; three days ago: 50 %.
	if day(0) != "degraded" || day(1) != "degraded" || day(2) != "operational" || day(3) != "outage" {
		t.Errorf("orders-api history, newest last: %v %v %v %v", day(3), day(2), day(1), day(0))
	}
	search := svcs[1].(map[string]any)
	sh := search["history"].([]any)
	if got := sh[len(sh)-6].(map[string]any)["status"]; got != "maintenance" {
		t.Errorf("search five days ago = %v, want maintenance", got)
	}
	if got := sh[len(sh)-3].(map[string]any)["status"]; got != "operational" {
		t.Errorf("search with only 4xx = %v, want operational", got)
	}
	if u := search["uptime"].(float64); u != 1 {
		t.Errorf("search uptime = %v, want 1 (4xx are not failures)", u)
	}
	if n := len(snap["incidents"].([]any)); n != 1 {
		t.Errorf("%d open incidents, want 1", n)
	}
	past := snap["past_incidents"].([]any)
	if len(past) != 1 || !reflect.DeepEqual(past[0].(map[string]any)["services"], []any{"search"}) {
		t.Errorf("past incidents = %v, want the maintenance on search only", past)
	}
	rels := snap["releases"].([]any)
	if len(rels) != 2 || rels[0].(map[string]any)["number"].(float64) != 2 {
		t.Errorf("releases = %v, want the two published, newest first", rels)
	}
}

// TestPageCache checks that the page is built at most once per TTL, and
// at once after Invalidate.
func TestPageCache(t *testing.T) {
	db, p := fixture(t)
	clock := now
	p.Now = func() time.Time { return clock }
	p.TTL = 20 * time.Second
	first := get(t, p, "/status.json").Body.String()
	if err := db.CreateStatusIncident(t.Context(), status.Incident{ID: "sti_new", Title: "New one", Services: []string{"search"},
		Impact: status.ImpactOutage, Status: status.StageInvestigating, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(10 * time.Second)
	if got := get(t, p, "/status.json").Body.String(); got != first {
		t.Error("the page was rebuilt within its TTL")
	}
	if cc := get(t, p, "/status").Header().Get("Cache-Control"); cc != "public, max-age=20" {
		t.Errorf("Cache-Control = %q", cc)
	}
	clock = clock.Add(11 * time.Second)
	if got := get(t, p, "/status.json").Body.String(); !strings.Contains(got, "New one") {
		t.Error("the page was not rebuilt after its TTL")
	}
	if err := db.CreateStatusIncident(t.Context(), status.Incident{ID: "sti_newer", Title: "Newer one", Services: []string{"search"},
		Impact: status.ImpactOutage, Status: status.StageInvestigating, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p.Invalidate()
	if got := get(t, p, "/status.json").Body.String(); !strings.Contains(got, "Newer one") {
		t.Error("Invalidate did not drop the built page")
	}
}
