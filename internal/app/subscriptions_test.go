package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/webhook"
)

const hookSecret = "whsec-e2e-0123456789abcdefghij"

// hookReceiver collects the webhook events a gateway sends, checking each
// signature.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []catalog.WebhookEvent
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !webhook.Verify([]byte(hookSecret), r.Header.Get(catalog.TimestampHeader), body, r.Header.Get(catalog.SignatureHeader)) {
			h.bad++
			w.WriteHeader(401)
			return
		}
		var ev catalog.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad++
			return
		}
		h.events = append(h.events, ev)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// waitEvents waits for n events and returns them as "event reason" lines.
func (h *hookReceiver) waitEvents(t *testing.T, n int) []catalog.WebhookEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		got, bad := append([]catalog.WebhookEvent(nil), h.events...), h.bad
		h.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d webhook requests had a bad signature or body", bad)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook events arrived, want %d: %+v", len(got), n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscriptionConfig is the base configuration with two teams and a
// service of payments that needs approval and announces its decisions.
func subscriptionConfig(e *env, target, hook string) string {
	cfg := fmt.Sprintf(baseConfig, e.up.BaseURL())
	cfg = strings.Replace(cfg, "  - name: shop\n", "  - name: shop\n    team: search\n", 1)
	return cfg + fmt.Sprintf(`
teams: [ { name: payments }, { name: search } ]
services:
  - name: orders-api
    team: payments
    approval: manual
    description: Orders and their lines
    tags: [orders, commerce]
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /orders } ]
    webhook: { url: "%s", secret: env:TEST_HOOK_SECRET }
  - name: open-api
    team: payments
    public: true
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /open } ]
`, target, hook, target)
}

// token creates an API token and returns its secret.
func (e *env) token(role, team string) string {
	e.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	body := fmt.Sprintf(`{"name":"%s-%s","role":%q,"team":%q}`, role, team, role, team)
	if code := e.adminDo("POST", "/admin/v1/tokens", body, &out); code != 201 {
		e.t.Fatalf("creating a %s token of %s: %d", role, team, code)
	}
	return out.Token
}

// refusal sends GET /orders as shop and returns the status and error code.
func (e *env) refusal(path string) (int, string, string) {
	e.t.Helper()
	resp, b := e.restDo("GET", path, shopKey, "")
	return resp.StatusCode, gjson.GetBytes(b, "error.code").Str, gjson.GetBytes(b, "error.message").Str
}

// TestSubscriptionApprovalFlow walks the approval flow end to end:
// unsubscribed → 403; pending → 403 saying so; approved → 200; revoked →
// 403; asked again and rejected → 403 with the reason. Each step is
// audited and announced to the service's signed webhook, and another
// gateway node on the same store follows within its sync interval.
func TestSubscriptionApprovalFlow(t *testing.T) {
	e := start(t)
	target := newRESTTarget(t, "orders")
	hooks := newHookReceiver(t)
	t.Setenv("TEST_HOOK_SECRET", hookSecret)
	e.apply(subscriptionConfig(e, target.URL(), hooks.srv.URL))
	payAdmin, searchAdmin, searchDev := e.token("team_admin", "payments"), e.token("team_admin", "search"), e.token("developer", "search")

	// A second node on the same database, syncing quickly.
	node2 := e.secondNode(200 * time.Millisecond)

	if st, code, msg := e.refusal("/orders"); st != 403 || code != "subscription_required" || !strings.Contains(msg, "not subscribed") {
		t.Fatalf("unsubscribed: %d %s %q", st, code, msg)
	}
	if resp, _ := e.restDo("GET", "/open", shopKey, ""); resp.StatusCode != 200 {
		t.Fatalf("a public service: %d, want 200 without a subscription", resp.StatusCode)
	}

	// The consumer's team asks.
	code, b := e.as(searchDev, "POST", "/admin/v1/subscriptions", `{"consumer":"shop","service":"orders-api"}`)
	id := gjson.GetBytes(b, "id").Str
	if code != 201 || gjson.GetBytes(b, "state").Str != "pending" || id == "" {
		t.Fatalf("asking: %d %s", code, b)
	}
	if st, code, msg := e.refusal("/orders"); st != 403 || code != "subscription_pending" || !strings.Contains(msg, "awaits approval") {
		t.Fatalf("pending: %d %s %q", st, code, msg)
	}

	// Neither the consumer's team nor another team's admin may decide.
	for _, secret := range []string{searchAdmin, searchDev} {
		if code, b := e.as(secret, "POST", "/admin/v1/subscriptions/"+id+"/approve", ""); code != 403 {
			t.Fatalf("approval by the consumer's team: %d %s, want 403", code, b)
		}
	}
	if st, _, _ := e.refusal("/orders"); st != 403 {
		t.Fatalf("a refused approval let the call through: %d", st)
	}

	// The service's team approves: the call goes through at once.
	if code, b := e.as(payAdmin, "POST", "/admin/v1/subscriptions/"+id+"/approve", `{"reason":"welcome"}`); code != 200 {
		t.Fatalf("approval: %d %s", code, b)
	}
	resp, body := e.restDo("GET", "/orders", shopKey, "")
	echoOf(t, resp, body)
	node2.waitStatus(t, "/orders", 200)

	// Revoked: refused again, with the reason.
	if code, b := e.as(payAdmin, "POST", "/admin/v1/subscriptions/"+id+"/revoke", `{"reason":"the contract ended"}`); code != 200 {
		t.Fatalf("revocation: %d %s", code, b)
	}
	if st, code, msg := e.refusal("/orders"); st != 403 || code != "subscription_revoked" || !strings.Contains(msg, "the contract ended") {
		t.Fatalf("revoked: %d %s %q", st, code, msg)
	}
	node2.waitStatus(t, "/orders", 403)

	// Asked again and rejected.
	if code, b := e.as(searchDev, "POST", "/admin/v1/subscriptions", `{"consumer":"shop","service":"orders-api"}`); code != 201 || gjson.GetBytes(b, "id").Str != id {
		t.Fatalf("asking again: %d %s", code, b)
	}
	if code, b := e.as(payAdmin, "POST", "/admin/v1/subscriptions/"+id+"/reject", `{"reason":"internal tools only"}`); code != 200 {
		t.Fatalf("rejection: %d %s", code, b)
	}
	if st, code, msg := e.refusal("/orders"); st != 403 || code != "subscription_rejected" || !strings.Contains(msg, "internal tools only") {
		t.Fatalf("rejected: %d %s %q", st, code, msg)
	}

	// The webhook heard every step, signed, in order.
	var got []string
	for _, ev := range hooks.waitEvents(t, 5) {
		got = append(got, string(ev.Event))
		if ev.Subscription.ID != id || ev.Consumer != "shop" || ev.Service != "orders-api" || ev.Actor == "" {
			t.Errorf("event %+v", ev)
		}
	}
	want := "subscription.requested subscription.approved subscription.revoked subscription.requested subscription.rejected"
	if strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}

	// And the audit log has each step, within the service's team.
	var page auth.AuditPage
	e.adminDo("GET", "/admin/v1/audit?action=subscription.&limit=50", "", &page)
	var actions []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		en := page.Entries[i]
		actions = append(actions, en.Action)
		if en.Target != "subscription:"+id || en.Team != "payments" || en.RequestID == "" {
			t.Errorf("audit entry %+v", en)
		}
	}
	if want := "subscription.request subscription.approve subscription.revoke subscription.request subscription.reject"; strings.Join(actions, " ") != want {
		t.Errorf("audit actions %v, want %s", actions, want)
	}

	// Declared in the configuration: approved, whatever the store says.
	cfg := strings.Replace(subscriptionConfig(e, target.URL(), hooks.srv.URL), "    team: search\n", "    team: search\n    subscriptions: [orders-api]\n", 1)
	e.apply(cfg)
	resp, body = e.restDo("GET", "/orders", shopKey, "")
	echoOf(t, resp, body)
}

// node is another gateway sharing a store.
type node struct {
	a    *app.App
	data string
}

// secondNode starts another gateway on e's SQLite database, with its own
// data directory and the given sync interval.
func (e *env) secondNode(sync time.Duration) *node {
	e.t.Helper()
	s := app.Settings{
		DataDir:       filepath.Join(e.t.TempDir(), "node2"),
		DatabaseURL:   "sqlite:" + filepath.Join(e.dataDir, "hypergate.db"),
		Listen:        "127.0.0.1:0",
		AdminListen:   "127.0.0.1:0",
		AdminToken:    adminToken,
		SyncInterval:  sync,
		ShutdownGrace: 5 * time.Second,
	}
	a, err := app.New(context.Background(), s, io.Discard, io.Discard)
	if err != nil {
		e.t.Fatalf("second node: %v", err)
	}
	if err := a.Start(); err != nil {
		e.t.Fatalf("second node: %v", err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return &node{a: a, data: "http://" + a.DataAddr()}
}

// waitStatus waits until GET path as shop answers status on the node.
func (n *node) waitStatus(t *testing.T, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", n.data+path, nil)
		req.Header.Set("Authorization", "Bearer "+shopKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second node never answered %s with %d", path, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCatalogAndOpenAPI publishes a service's OpenAPI document by upload
// and by import, and browses the catalog as the consumer's team.
func TestCatalogAndOpenAPI(t *testing.T) {
	e := start(t)
	target := newRESTTarget(t, "orders")
	hooks := newHookReceiver(t)
	t.Setenv("TEST_HOOK_SECRET", hookSecret)
	e.apply(subscriptionConfig(e, target.URL(), hooks.srv.URL))
	searchDev := e.token("developer", "search")

	doc := "openapi: 3.1.0\ninfo:\n  title: Orders\n  version: 1.0.0\npaths: {}\n"
	if code, b := e.as(adminToken, "PUT", "/admin/v1/services/orders-api/openapi", doc, "Content-Type", "application/yaml"); code != 200 ||
		gjson.GetBytes(b, "media_type").Str != "application/yaml" || gjson.GetBytes(b, "title").Str != "Orders" {
		t.Fatalf("upload: %d %s", code, b)
	}
	if code, b := e.as(searchDev, "PUT", "/admin/v1/services/orders-api/openapi", doc); code != 404 {
		t.Fatalf("another team's upload: %d %s, want 404", code, b)
	}
	code, b := e.as(searchDev, "GET", "/admin/v1/services/orders-api/openapi", "")
	if code != 200 || string(b) != doc {
		t.Fatalf("reading the document as another team: %d %q", code, b)
	}

	// Import: the gateway's own admin document stands in for a service's.
	if code, b := e.as(adminToken, "POST", "/admin/v1/services/open-api/openapi/import",
		fmt.Sprintf(`{"url":%q}`, e.admin+"/admin/v1/openapi.json")); code != 200 ||
		gjson.GetBytes(b, "title").Str != "Hypergate admin API" || gjson.GetBytes(b, "source_url").Str == "" {
		t.Fatalf("import: %d %s", code, b)
	}
	if code, b := e.as(adminToken, "POST", "/admin/v1/services/open-api/openapi/import", `{"url":"file:///etc/passwd"}`); code != 400 {
		t.Fatalf("importing a file URL: %d %s, want 400", code, b)
	}

	// The catalog as the consumer's team: every service, with shop's
	// subscriptions.
	if code, b := e.as(searchDev, "POST", "/admin/v1/subscriptions", `{"consumer":"shop","service":"orders-api"}`); code != 201 {
		t.Fatalf("asking: %d %s", code, b)
	}
	hooks.waitEvents(t, 1)
	code, b = e.as(searchDev, "GET", "/admin/v1/catalog", "")
	if code != 200 {
		t.Fatalf("catalog: %d %s", code, b)
	}
	orders := gjson.GetBytes(b, `data.#(name=="orders-api")`)
	open := gjson.GetBytes(b, `data.#(name=="open-api")`)
	if orders.Get("approval").Str != "manual" || orders.Get("subscribed").Bool() || orders.Get("subscriptions.0.state").Str != "pending" ||
		orders.Get("openapi.title").Str != "Orders" || orders.Get("description").Str != "Orders and their lines" ||
		orders.Get("upstream").Exists() || orders.Get("webhook").Exists() {
		t.Errorf("orders-api entry: %s", orders.Raw)
	}
	if !open.Get("subscribed").Bool() || !open.Get("public").Bool() || open.Get("openapi.source_url").Str == "" {
		t.Errorf("open-api entry: %s", open.Raw)
	}
	if code, b := e.as(searchDev, "GET", "/admin/v1/catalog?tag=commerce", ""); code != 200 || gjson.GetBytes(b, "data.#").Int() != 1 {
		t.Errorf("catalog by tag: %d %s", code, b)
	}
	if code, b := e.as(searchDev, "GET", "/admin/v1/catalog/orders-api", ""); code != 200 || gjson.GetBytes(b, "name").Str != "orders-api" {
		t.Errorf("catalog entry: %d %s", code, b)
	}
}

// TestSubscriptionsOfDeletedConsumer deletes a consumer: its stored
// subscriptions end with it, so that a consumer created later under the
// same name starts without any.
func TestSubscriptionsOfDeletedConsumer(t *testing.T) {
	e := start(t)
	target := newRESTTarget(t, "orders")
	hooks := newHookReceiver(t)
	t.Setenv("TEST_HOOK_SECRET", hookSecret)
	e.apply(subscriptionConfig(e, target.URL(), hooks.srv.URL))
	e.mustDo(201, "POST", "/admin/v1/consumers", `{"name":"temp","team":"search"}`)
	e.mustDo(201, "POST", "/admin/v1/subscriptions", `{"consumer":"temp","service":"orders-api"}`)
	e.mustDo(201, "POST", "/admin/v1/subscriptions", `{"consumer":"temp","service":"open-api"}`)
	e.mustDo(204, "DELETE", "/admin/v1/consumers/temp", "")

	b := e.mustDo(200, "GET", "/admin/v1/subscriptions?consumer=temp", "")
	states := map[string]string{}
	for _, s := range gjson.GetBytes(b, "data").Array() {
		states[s.Get("service").Str] = s.Get("state").Str + "/" + s.Get("reason").Str
	}
	if states["orders-api"] != "rejected/the consumer was deleted" || states["open-api"] != "revoked/the consumer was deleted" {
		t.Fatalf("subscriptions after the deletion: %v", states)
	}
	var page auth.AuditPage
	e.adminDo("GET", "/admin/v1/audit?action=consumer.delete", "", &page)
	if len(page.Entries) != 1 || !strings.Contains(page.Entries[0].Summary, "withdrew its 2 subscriptions") {
		t.Fatalf("audit %+v", page.Entries)
	}
	// The service's webhook heard of the pending one, then of its end.
	evs := hooks.waitEvents(t, 2)
	if evs[0].Event != catalog.EventRequested || evs[1].Event != catalog.EventRejected {
		t.Fatalf("events %+v", evs)
	}
	e.mustDo(201, "POST", "/admin/v1/consumers", `{"name":"temp","team":"search"}`)
	entry := e.mustDo(200, "GET", "/admin/v1/catalog/orders-api", "")
	if gjson.GetBytes(entry, `subscriptions.#(consumer=="temp").state`).Str != "rejected" {
		t.Fatalf("the new consumer's view: %s", entry)
	}
}
