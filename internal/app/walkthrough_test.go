package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// The README's "From zero to a governed API", run through the command line
// in-process against a running gateway: what the section shows is what
// this test does, step by step.

// walkthroughFile is the declarative file of the walkthrough: a REST
// service that needs approval and limits order creation per minute, a
// prompt API and an application, all of team payments.
const walkthroughFile = `
providers:
  - { name: openai, type: openai, base_url: %s, api_key: env:TEST_UPSTREAM_KEY }
models:
  - { name: gpt-4o-mini, targets: [ { provider: openai } ] }
teams:
  - { name: payments, description: Checkout and orders }
consumers:
  - { name: web-shop, team: payments }
services:
  - name: orders-api
    team: payments
    description: Orders of the shop
    tags: [orders]
    approval: manual
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - { name: read, path: /orders, methods: [GET] }
      - { name: create, path: /orders, methods: [POST],
          policies: { rate_limit: { requests_per_minute: 3 } } }
prompts:
  - name: summarize
    team: payments
    model: gpt-4o-mini
    template: "Summarise for a {{audience}}: {{text}}"
    variables: [ { name: audience, default: engineer }, { name: text, required: true } ]
`

// cli runs the command line with the admin token and fails the test on an
// unexpected exit code; it returns stdout and stderr together.
func (e *env) cli(want int, args ...string) string {
	e.t.Helper()
	code, out, errs := runCLIAs(e.t, e, adminToken, "", args...)
	if code != want {
		e.t.Fatalf("hypergate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
	}
	return out + errs
}

// writeFile writes a file in the test's directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWalkthrough: create a team; apply a file with a REST service, a
// prompt API and a consumer; give the consumer a key; subscribe it and
// approve the subscription; watch its calls get limited; publish a new
// release and roll it back; call the prompt API; and find every step in
// the audit log.
func TestWalkthrough(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")

	// 1. A team.
	if out := e.cli(0, "teams", "create", "payments", "--description", "Checkout and orders"); !strings.Contains(out, "team payments created") {
		t.Errorf("teams create: %q", out)
	}

	// 2. The service, the prompt API and the application, from a file.
	file := writeFile(t, "gateway.yaml", fmt.Sprintf(walkthroughFile, e.up.BaseURL(), a.URL()))
	if out := e.cli(1, "diff", "-f", file); !strings.Contains(out, "+ service orders-api") {
		t.Errorf("diff before apply: %q", out)
	}
	if out := e.cli(0, "apply", "-f", file, "-m", "orders-api, summarize and web-shop"); !strings.Contains(out, "applied as revision") {
		t.Errorf("apply: %q", out)
	}
	if out := e.cli(0, "services", "releases", "orders-api"); !strings.Contains(out, "all calls") {
		t.Errorf("releases after apply: %q", out)
	}
	if out := e.cli(0, "catalog", "--tag", "orders"); !strings.Contains(out, "orders-api") || !strings.Contains(out, "manual") {
		t.Errorf("catalog: %q", out)
	}

	// 3. A key for the application, shown once.
	code, key, errs := runCLIAs(t, e, adminToken, "", "keys", "create", "--consumer", "web-shop")
	key = strings.TrimSpace(key)
	if code != 0 || !strings.HasPrefix(key, "hg-") {
		t.Fatalf("keys create: %d %q %q", code, key, errs)
	}
	if resp, body := e.restDo("GET", "/orders", key, ""); resp.StatusCode != 403 || gjson.GetBytes(body, "error.code").Str != "subscription_required" {
		t.Fatalf("before subscribing: %d %s, want 403 subscription_required", resp.StatusCode, body)
	}

	// 4. A subscription: asked for, pending, then approved.
	req := e.cli(0, "subscriptions", "request", "--consumer", "web-shop", "--service", "orders-api", "--json")
	id := gjson.Get(req, "id").Str
	if id == "" || gjson.Get(req, "state").Str != "pending" {
		t.Fatalf("subscriptions request: %s", req)
	}
	if out := e.cli(0, "subscriptions", "list", "--state", "pending"); !strings.Contains(out, id) || !strings.Contains(out, "web-shop") {
		t.Errorf("pending subscriptions: %q", out)
	}
	if resp, body := e.restDo("GET", "/orders", key, ""); resp.StatusCode != 403 || gjson.GetBytes(body, "error.code").Str != "subscription_pending" {
		t.Fatalf("pending: %d %s, want 403 subscription_pending", resp.StatusCode, body)
	}
	if out := e.cli(0, "subscriptions", "approve", id, "--reason", "welcome"); !strings.Contains(out, "approved: consumer web-shop may call service orders-api") {
		t.Errorf("approve: %q", out)
	}
	e.servedBy(key, "a", 1)

	// 5. Creating orders is limited to 3 a minute.
	for i := range 3 {
		if resp, body := e.restDo("POST", "/orders", key, `{"item":"book"}`); resp.StatusCode != 200 {
			t.Fatalf("order %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.restDo("POST", "/orders", key, `{"item":"book"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("fourth order: %d, Retry-After %q, X-RateLimit-Limit %q: %s", resp.StatusCode,
			resp.Header.Get("Retry-After"), resp.Header.Get("X-RateLimit-Limit"), body)
	}

	// 6. Release 2 moves the service to upstream b: the published
	// definition, edited, is the draft.
	def := e.cli(0, "services", "get", "orders-api")
	draft := writeFile(t, "orders-api.yaml", strings.Replace(def, a.URL(), b.URL(), 1))
	out := e.cli(0, "services", "publish", "orders-api", "-f", draft, "-m", "move to the new cluster")
	if !strings.Contains(out, "~ service orders-api: upstream") || !strings.Contains(out, "published release 2 of service orders-api") {
		t.Errorf("publish: %q", out)
	}
	e.servedBy(key, "b", 2)

	// 7. Rolled back: release 1 again, as release 3.
	if out := e.cli(0, "services", "rollback", "orders-api", "1", "-m", "b is not ready"); !strings.Contains(out, "rolled back to release 1, published again as release 3") {
		t.Errorf("rollback: %q", out)
	}
	e.servedBy(key, "a", 3)
	out = e.cli(0, "services", "releases", "orders-api")
	for _, want := range []string{"3        published  all calls", "2        published  -", "1        published  -"} {
		if !strings.Contains(out, want) {
			t.Errorf("releases lack %q:\n%s", want, out)
		}
	}

	// 8. The prompt API, with the same key.
	resp, body = e.do("POST", "/v1/prompts/summarize", key, `{"variables":{"text":"Gateways route calls."}}`, "X-Request-Id", "walkthrough-prompt")
	if resp.StatusCode != 200 || gjson.GetBytes(body, "choices.0.message.content").Str == "" {
		t.Fatalf("prompt API: %d %s", resp.StatusCode, body)
	}
	if rec := e.call("walkthrough-prompt"); rec.Prompt != "summarize" || rec.Consumer != "web-shop" {
		t.Errorf("prompt call record: prompt %q, consumer %q", rec.Prompt, rec.Consumer)
	}

	// 9. Every step is in the audit log.
	audit := e.cli(0, "audit", "--limit", "100")
	for _, want := range []struct{ action, target string }{
		{"team.create", "team:payments"},
		{"config.apply", "config"},
		{"key.create", "key:"},
		{"subscription.request", "subscription:" + id},
		{"subscription.approve", "subscription:" + id},
		{"service.publish", "service:orders-api"},
		{"service.rollback", "service:orders-api"},
	} {
		if !auditHas(audit, want.action, want.target) {
			t.Errorf("the audit log has no %s of %s:\n%s", want.action, want.target, audit)
		}
	}
}

// servedBy calls GET /orders with key and checks that target answered
// and that the call record names the release that served it.
func (e *env) servedBy(key, target string, release int) {
	e.t.Helper()
	id := fresh("walkthrough-")
	if got := e.echo("GET", "/orders", key, "", "X-Request-Id", id).Target; got != target {
		e.t.Fatalf("release %d: served by %q, want %s", release, got, target)
	}
	if rec := e.call(id); rec.Release != release || rec.Service != "orders-api" {
		e.t.Errorf("the call record says service %q release %d, want orders-api release %d", rec.Service, rec.Release, release)
	}
}

// auditHas reports whether the output of 'hypergate audit' has an entry
// with the action and a target starting with target.
func auditHas(out, action, target string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == action && strings.HasPrefix(f[3], target) {
			return true
		}
	}
	return false
}

// TestGovernanceCLI runs the rest of the services, subscriptions and keys
// commands against a running gateway: a definition printed by services get
// publishes back unchanged, a canary and its promotion, deprecation and
// retirement as callers see them, rejection and revocation, key rotation,
// and a consumer-role token asking for its own application only.
func TestGovernanceCLI(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")
	cfg := strings.Replace(fmt.Sprintf(walkthroughFile, e.up.BaseURL(), a.URL()), "prompts:\n",
		"  - { name: audit-api, team: payments, public: true, upstream: { targets: [ { url: \""+a.URL()+"\" } ] }, routes: [ { path: /audit-trail } ] }\nprompts:\n", 1)
	cfg = strings.Replace(cfg, "  - { name: web-shop, team: payments }\n",
		"  - { name: web-shop, team: payments }\n  - { name: back-office, team: payments }\n", 1)
	e.cli(0, "apply", "-f", writeFile(t, "gateway.yaml", cfg))
	code, key, _ := runCLIAs(t, e, adminToken, "", "keys", "create", "--consumer", "web-shop")
	key = strings.TrimSpace(key)
	if code != 0 {
		t.Fatalf("keys create: %d", code)
	}

	// A consumer-role token asks for its own application's access, not for
	// another's, and cannot decide.
	code, consumerToken, _ := runCLIAs(t, e, adminToken, "", "tokens", "create", "--name", "web-shop-bot", "--role", "consumer", "--consumer", "web-shop")
	consumerToken = strings.TrimSpace(consumerToken)
	if code != 0 {
		t.Fatalf("tokens create: %d", code)
	}
	asConsumer := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCLIAs(t, e, consumerToken, "", args...)
		if code != want {
			t.Fatalf("hypergate %s as the consumer: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out + errs
	}
	out := asConsumer(0, "subscriptions", "request", "--consumer", "web-shop", "--service", "orders-api", "--json")
	id := gjson.Get(out, "id").Str
	if gjson.Get(out, "requested_by").Str != "token:web-shop-bot" {
		t.Errorf("asked by the consumer: %s", out)
	}
	if out := asConsumer(1, "subscriptions", "request", "--consumer", "back-office", "--service", "orders-api"); !strings.Contains(out, `no consumer "back-office" (HTTP 404)`) {
		t.Errorf("asking for another application: %q", out)
	}
	if out := asConsumer(1, "subscriptions", "approve", id); !strings.Contains(out, "(HTTP 403)") {
		t.Errorf("approving its own request: %q", out)
	}
	if out := asConsumer(0, "subscriptions", "list"); !strings.Contains(out, id) {
		t.Errorf("the consumer's subscriptions: %q", out)
	}

	// Rejected, asked again, approved, revoked: each refusal tells why.
	e.cli(2, "subscriptions", "reject", id)
	e.cli(0, "subscriptions", "reject", id, "--reason", "fill in the form first")
	if resp, body := e.restDo("GET", "/orders", key, ""); resp.StatusCode != 403 || !strings.Contains(string(body), "fill in the form first") {
		t.Fatalf("rejected: %d %s", resp.StatusCode, body)
	}
	e.cli(1, "subscriptions", "approve", id) // only a pending one can be approved
	asConsumer(0, "subscriptions", "request", "--consumer", "web-shop", "--service", "orders-api")
	e.cli(0, "subscriptions", "approve", id)
	e.servedBy(key, "a", 1)
	if out := e.cli(0, "catalog"); !strings.Contains(out, "web-shop:approved") {
		t.Errorf("catalog after approval: %q", out)
	}

	// The rotated key and the old one both work until the grace ends.
	var keys struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/keys?consumer=web-shop", "", &keys)
	code, newKey, errs := runCLIAs(t, e, adminToken, "", "keys", "rotate", "--consumer", "web-shop", keys.Data[0].ID, "--grace", "1h")
	newKey = strings.TrimSpace(newKey)
	if code != 0 || !strings.HasPrefix(newKey, "hg-") || !strings.Contains(errs, "which works until") {
		t.Fatalf("keys rotate: %d %q %q", code, newKey, errs)
	}
	e.servedBy(newKey, "a", 1)
	e.servedBy(key, "a", 1)
	if out := e.cli(0, "audit", "--action", "key.rotate"); !auditHas(out, "key.rotate", "key:"+keys.Data[0].ID) {
		t.Errorf("audit of the rotation: %q", out)
	}

	// What services get prints is a draft that publishes back unchanged.
	def := e.cli(0, "services", "get", "orders-api")
	if !strings.HasPrefix(def, "# service orders-api: release 1, published\n") {
		t.Errorf("services get: %q", def)
	}
	if out := e.cli(0, "services", "publish", "orders-api", "-f", writeFile(t, "same.yaml", def)); !strings.Contains(out, "no changes") {
		t.Errorf("publishing what get printed: %q", out)
	}
	if out := e.cli(0, "services", "list"); !strings.Contains(out, "orders-api  payments  rest  published  manual    1        no") {
		t.Errorf("services list: %q", out)
	}

	// A canary takes a share of the calls until promoted by rollback.
	draft := writeFile(t, "orders-api.yaml", strings.Replace(def, a.URL(), b.URL(), 1))
	out = e.cli(0, "services", "publish", "orders-api", "-f", draft, "--canary", "50")
	if !strings.Contains(out, "release 2 of service orders-api takes 50% of the calls as a canary") {
		t.Errorf("canary: %q", out)
	}
	if out := e.cli(0, "services", "releases", "orders-api"); !strings.Contains(out, "50% (canary)") || !strings.Contains(out, "50% of calls") {
		t.Errorf("releases with a canary: %q", out)
	}
	seen := map[string]int{}
	for range 20 {
		seen[e.echo("GET", "/orders", key, "").Target]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("a 50%% canary over 20 calls went %v", seen)
	}
	if out := e.cli(0, "services", "rollback", "orders-api", "2"); !strings.Contains(out, "rolled back to release 2") {
		t.Errorf("promoting the canary: %q", out)
	}
	if got := e.echo("GET", "/orders", key, "").Target; got != "b" {
		t.Errorf("after the promotion: served by %s, want b", got)
	}

	// Deprecated with a sunset, then retired.
	e.cli(2, "services", "deprecate", "audit-api", "--sunset", "soon")
	if out := e.cli(0, "services", "deprecate", "audit-api", "--sunset", "2030-01-31T00:00:00Z"); !strings.Contains(out, "deprecated, sunset 2030-01-31T00:00:00Z") {
		t.Errorf("deprecate: %q", out)
	}
	resp, _ := e.restDo("GET", "/audit-trail", key, "")
	if resp.StatusCode != 200 || resp.Header.Get("Deprecation") == "" || !strings.Contains(resp.Header.Get("Sunset"), "2030") {
		t.Errorf("a deprecated service: %d, Deprecation %q, Sunset %q", resp.StatusCode, resp.Header.Get("Deprecation"), resp.Header.Get("Sunset"))
	}
	e.cli(0, "services", "retire", "audit-api", "-m", "replaced by orders-api")
	if resp, _ := e.restDo("GET", "/audit-trail", key, ""); resp.StatusCode != 410 {
		t.Errorf("a retired service: %d, want 410", resp.StatusCode)
	}

	// Revoked: refused with the reason.
	e.cli(0, "subscriptions", "revoke", id, "--reason", "contract ended")
	if resp, body := e.restDo("GET", "/orders", key, ""); resp.StatusCode != 403 || gjson.GetBytes(body, "error.code").Str != "subscription_revoked" {
		t.Errorf("revoked: %d %s", resp.StatusCode, body)
	}
	if out := e.cli(0, "subscriptions", "list", "--consumer", "web-shop", "--json"); gjson.Get(out, "data.0.state").Str != "revoked" {
		t.Errorf("subscriptions list --json: %s", out)
	}
}
