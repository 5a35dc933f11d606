package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Policies on a REST service and on one of its routes: the service's limit
// counts every consumer's calls together, the route's applies on top, and
// refusals carry the headers and codes clients rely on, and are recorded.
func TestRESTPolicies(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	e.apply(restConfig(e, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - { name: list, path: /orders, methods: [GET] }
      - { name: admin, path: /orders/admin, policies: { ip: { deny: [127.0.0.1] } } }
      - { name: upload, path: /orders/upload, methods: [POST], policies: { max_body_bytes: 8 } }
    policies:
      rate_limit: { requests_per_minute: 3 }
`, a.URL())))

	// The IP rule is checked before anything is counted against the limit.
	resp, body := e.restDo("GET", "/orders/admin", shopKey, "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "ip_denied") {
		t.Fatalf("denied address: %d %s; want 403 ip_denied", resp.StatusCode, body)
	}
	resp, body = e.restDo("POST", "/orders/upload", shopKey, "123456789")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("9 bytes over an 8-byte route policy: %d %s; want 413", resp.StatusCode, body)
	}

	for i := range 3 {
		resp, body := e.restDo("GET", "/orders", shopKey, "")
		if resp.StatusCode != 200 {
			t.Fatalf("call %d within the limit: %d %s", i+1, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-RateLimit-Remaining"), fmt.Sprint(2-i); got != want {
			t.Errorf("call %d: X-RateLimit-Remaining %q, want %q", i+1, got, want)
		}
	}
	resp, body = e.restDo("GET", "/orders", shopKey, "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "rate_limit_exceeded") ||
		!strings.Contains(string(body), "service orders") {
		t.Fatalf("fourth call in the minute: %d %s; want 429 rate_limit_exceeded naming service orders", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Limit") != "3" {
		t.Errorf("429 headers: Retry-After %q, X-RateLimit-Limit %q", resp.Header.Get("Retry-After"), resp.Header.Get("X-RateLimit-Limit"))
	}
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.Status != 429 || rec.Service != "orders" || rec.ErrorType == "" {
		t.Errorf("record of the refusal: status %d, service %q, error %q", rec.Status, rec.Service, rec.ErrorType)
	}
	if hits := a.hits.Load(); hits != 3 {
		t.Errorf("upstream saw %d calls, want the 3 admitted", hits)
	}
}

// A subscription's own policies: one consumer's calls of one service are
// limited, other consumers of the same service are not.
func TestRESTSubscriptionPolicies(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	cfg := restConfig(e, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    public: true
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /orders } ]
`, a.URL()))
	line := "    subscriptions: [orders]\n"
	cfg = strings.Replace(cfg, line, line+"    subscription_policies: { orders: { rate_limit: { requests_per_minute: 2 } } }\n", 1)
	e.apply(cfg)
	for i := range 2 {
		if resp, body := e.restDo("GET", "/orders", shopKey, ""); resp.StatusCode != 200 {
			t.Fatalf("call %d within the subscription's limit: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.restDo("GET", "/orders", shopKey, "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "subscription") {
		t.Fatalf("third call: %d %s; want 429 naming the subscription", resp.StatusCode, body)
	}
	// Another consumer of the same (public) service is not limited by it.
	for i := range 3 {
		if resp, body := e.restDo("GET", "/orders", otherKey, ""); resp.StatusCode != 200 {
			t.Fatalf("other consumer's call %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
}
