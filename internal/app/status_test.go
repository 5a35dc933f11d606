package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/webhook"
)

// subscriberHook is a status subscriber: it verifies each delivery's
// signature and keeps the events.
type subscriberHook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	events []status.Event
	bad    int
}

func newSubscriberHook(t *testing.T) *subscriberHook {
	h := &subscriberHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !webhook.Verify([]byte(h.secret), r.Header.Get(webhook.TimestampHeader), b, r.Header.Get(webhook.SignatureHeader)) {
			h.bad++
			w.WriteHeader(401)
			return
		}
		var ev status.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			h.bad++
			return
		}
		h.events = append(h.events, ev)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// changes lists the service changes heard, as "service:from->to".
func (h *subscriberHook) changes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		if e.Service != nil {
			out = append(out, fmt.Sprintf("%s:%s->%s", e.Service.Name, e.Service.Previous, e.Service.Status))
		}
	}
	return out
}

func (h *subscriberHook) incidentUpdates() []status.Stage {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []status.Stage
	for _, e := range h.events {
		if e.Update != nil {
			out = append(out, e.Update.Status)
		}
	}
	return out
}

// TestStatusPage is the status page end to end: a service's upstream
// starts failing, /status on the data plane turns to outage and a
// subscriber hears it once; an operator's incident shows on the page with
// its updates and reaches the subscriber; recovery is heard too.
func TestStatusPage(t *testing.T) {
	e := start(t, func(s *app.Settings) {
		s.StatusInterval = 100 * time.Millisecond
		s.StatusCacheTTL = time.Millisecond
	})
	up := newRESTTarget(t, "orders")
	// Failures stay in the window for minutes; these thresholds let the
	// test recover with a hundred calls rather than a thousand.
	e.apply(restConfig(e, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    description: Orders placed online
    upstream: { targets: [ { url: "%s" } ], health: { eject_after: -1 } }
    routes:
      - { name: list, path: /orders }
  - name: legacy
    state: retired
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - { name: old, path: /legacy }
  - name: internal-only
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - { name: x, path: /internal }
status:
  title: Acme status
  services: [orders]
  degraded_error_rate: 0.3
  outage_error_rate: 0.5
`, up.URL(), up.URL(), up.URL())))

	hook := newSubscriberHook(t)
	var sub struct {
		ID string `json:"id"`
	}
	const hookSecret = "status-hook-secret"
	t.Setenv("STATUS_TEST_HOOK_SECRET", hookSecret)
	if st := e.adminDo("POST", "/admin/v1/status/subscribers", fmt.Sprintf(`{"url":%q,"secret":"env:STATUS_TEST_HOOK_SECRET"}`, hook.srv.URL), &sub); st != 201 || sub.ID == "" {
		t.Fatalf("adding a subscriber: %d %+v", st, sub)
	}
	hook.mu.Lock()
	hook.secret = hookSecret
	hook.mu.Unlock()
	var listed struct{ Data []map[string]any }
	e.adminDo("GET", "/admin/v1/status/subscribers", "", &listed)
	if b, _ := json.Marshal(listed); strings.Contains(string(b), hookSecret) {
		t.Fatal("the subscriber list shows the secret")
	}

	page := func() status.Snapshot {
		t.Helper()
		resp, b := e.do("GET", "/status.json", "", "")
		if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("GET /status.json: %d %s (request id %q)", resp.StatusCode, b, resp.Header.Get("X-Request-Id"))
		}
		var s status.Snapshot
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor := func(what string, ok func(status.Snapshot) bool) status.Snapshot {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := page()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never happened; the page says %+v", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	level := func(s status.Snapshot, name string) status.Level {
		for _, sv := range s.Services {
			if sv.Name == name {
				return sv.Status
			}
		}
		return ""
	}

	s := waitFor("orders listed as operational", func(s status.Snapshot) bool { return level(s, "orders") == status.Operational })
	if len(s.Services) != 1 || s.Title != "Acme status" || s.Services[0].Description != "Orders placed online" {
		t.Fatalf("the page lists %+v; want orders only, as the status section says", s.Services)
	}
	for i := range 12 {
		e.restDo("GET", "/orders", shopKey, "", "X-Request-Id", fmt.Sprintf("ok-%d", i))
	}
	up.status.Store(503)
	for i := range 20 {
		resp, _ := e.restDo("GET", "/orders", shopKey, "", "X-Request-Id", fmt.Sprintf("down-%d", i))
		if resp.StatusCode < 500 {
			t.Fatalf("a failing upstream answered through the gateway with %d", resp.StatusCode)
		}
	}
	e.call("down-19")
	s = waitFor("orders in outage", func(s status.Snapshot) bool { return level(s, "orders") == status.Outage })
	if s.Status != status.Outage {
		t.Errorf("overall status %s, want outage", s.Status)
	}
	resp, html := e.do("GET", "/status", "", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
		!strings.Contains(string(html), "Outage") || strings.Contains(string(html), "shop") {
		t.Fatalf("GET /status: %d, CSP %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), html)
	}
	if resp, css := e.do("GET", "/status/style.css", "", ""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || len(css) == 0 {
		t.Fatalf("GET /status/style.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Operators tell the public; the subscriber hears each update.
	var in status.Incident
	if st := e.adminDo("POST", "/admin/v1/status/incidents",
		`{"title":"Orders failing","services":["orders"],"impact":"outage","message":"Our upstream is down."}`, &in); st != 201 {
		t.Fatalf("opening an incident: %d %+v", st, in)
	}
	if st := e.adminDo("POST", "/admin/v1/status/incidents/"+in.ID+"/updates", `{"status":"identified","message":"A bad deploy <b>x</b>."}`, nil); st != 201 {
		t.Fatalf("updating the incident: %d", st)
	}
	s = waitFor("the incident on the page", func(s status.Snapshot) bool { return len(s.Incidents) == 1 && len(s.Incidents[0].Updates) == 2 })
	if s.Incidents[0].Status != status.StageIdentified {
		t.Errorf("incident status %s, want identified", s.Incidents[0].Status)
	}
	if _, html := e.do("GET", "/status", "", ""); !strings.Contains(string(html), "A bad deploy &lt;b&gt;x&lt;/b&gt;.") {
		t.Errorf("the update is not on the HTML page, escaped:\n%s", html)
	}

	// Recovery: the upstream answers again, the incident is resolved.
	up.status.Store(0)
	if st := e.adminDo("POST", "/admin/v1/status/incidents/"+in.ID+"/updates", `{"status":"resolved","message":"Fixed."}`, nil); st != 201 {
		t.Fatalf("resolving the incident: %d", st)
	}
	if st := e.adminDo("POST", "/admin/v1/status/incidents/"+in.ID+"/updates", `{"status":"monitoring","message":"late"}`, nil); st != 409 {
		t.Fatalf("updating a resolved incident: %d, want 409", st)
	}
	// The failures grouped into triage incidents, which keep the service
	// degraded (status.Thresholds.IncidentSeverities) until someone
	// resolves them.
	var states struct{ Data []status.ServiceState }
	e.adminDo("GET", "/admin/v1/status", "", &states)
	if len(states.Data) != 1 || !hasSignal(states.Data[0].Reasons, "triage") || !hasSignal(states.Data[0].Reasons, "error_rate") {
		t.Errorf("GET /admin/v1/status = %+v; want orders with the error rate and the triage incidents", states.Data)
	}
	var triaged struct{ Data []struct{ ID string } }
	if st := e.adminDo("GET", "/admin/v1/incidents?service=orders&state=open", "", &triaged); st != 200 || len(triaged.Data) == 0 {
		t.Fatalf("triage incidents of orders: %d %+v", st, triaged)
	}
	for _, in := range triaged.Data {
		if st := e.adminDo("POST", "/admin/v1/incidents/"+in.ID+"/resolve", "", nil); st != 200 {
			t.Fatalf("resolving triage incident %s: %d", in.ID, st)
		}
	}
	// Calls go on until the page says the service is back: the failures
	// stay in the window, and are outweighed.
	n := 0
	s = waitFor("orders operational again", func(s status.Snapshot) bool {
		if level(s, "orders") == status.Operational {
			return true
		}
		for range 20 {
			n++
			e.restDo("GET", "/orders", shopKey, "", "X-Request-Id", fmt.Sprintf("back-%d", n))
		}
		e.call(fmt.Sprintf("back-%d", n))
		return false
	})
	if len(s.Incidents) != 0 || len(s.PastIncidents) != 1 {
		t.Errorf("incidents %d open, %d past; want 0 and 1", len(s.Incidents), len(s.PastIncidents))
	}

	// Every change is heard once: the changes form one chain from
	// operational through outage back to operational (via degraded while
	// the failures fade from the window), no link twice.
	chain := func() bool {
		ch := hook.changes()
		if len(ch) < 2 || ch[0] != "orders:operational->outage" || !strings.HasSuffix(ch[len(ch)-1], "->operational") {
			return false
		}
		for i := 1; i < len(ch); i++ {
			prevTo := ch[i-1][strings.Index(ch[i-1], "->")+2:]
			from := ch[i][len("orders:"):strings.Index(ch[i], "->")]
			if prevTo != from {
				t.Fatalf("changes %v: %s does not follow %s", ch, ch[i], ch[i-1])
			}
		}
		return len(hook.incidentUpdates()) >= 3
	}
	deadline := time.Now().Add(20 * time.Second)
	for !chain() {
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber heard %v and updates %v", hook.changes(), hook.incidentUpdates())
		}
		time.Sleep(50 * time.Millisecond)
	}
	heard := hook.changes()
	time.Sleep(300 * time.Millisecond) // a few more ticks: nothing is heard twice
	if got := hook.changes(); len(got) != len(heard) {
		t.Errorf("changes heard %v after %v; want no more", got, heard)
	}
	if got := hook.incidentUpdates(); fmt.Sprint(got) != "[investigating identified resolved]" {
		t.Errorf("incident updates heard %v", got)
	}
	hook.mu.Lock()
	if hook.bad != 0 {
		t.Errorf("%d deliveries failed the signature check", hook.bad)
	}
	hook.mu.Unlock()
}

func hasSignal(rs []status.Reason, signal string) bool {
	for _, r := range rs {
		if r.Signal == signal {
			return true
		}
	}
	return false
}
