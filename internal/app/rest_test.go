package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestRESTProxy(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	t.Setenv("TEST_ORDERS_TOKEN", "orders-upstream-token-0123456789")
	e.apply(restConfig(e, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    upstream: { targets: [ { url: "%s/base/" } ] }
    routes:
      - name: list
        path: /orders
        methods: [GET, POST, PUT]
        request_headers:
          set: { X-Api-Token: env:TEST_ORDERS_TOKEN, X-Static: yes }
          remove: [X-Drop-Me]
        response_headers:
          set: { X-Served-By: hypergate }
          remove: [X-Internal]
      - { name: strip, path: /strip, strip_prefix: true }
      - { name: item, path: "/v2/items/{id}/parts/{part}", rewrite: "/parts/{part}/of/{id}" }
      - { name: renamed, path: /renamed, rewrite: /new/place }
`, a.URL())))

	t.Run("forwarded request", func(t *testing.T) {
		resp, b := e.restDo("POST", "/orders/42?expand=lines&x=%2F", shopKey, `{"n":1}`,
			"Content-Type", "application/json", "X-Drop-Me", "1", "Connection", "X-Hop-Req", "X-Hop-Req", "1",
			"X-Forwarded-For", "203.0.113.9", "X-Request-Id", "client-id-123")
		got := echoOf(t, resp, b)
		want := map[string]string{
			"Method": got.Method, "URI": got.URI, "Body": got.Body,
			"X-Api-Token": got.Headers["X-Api-Token"], "X-Static": got.Headers["X-Static"],
			"X-Forwarded-For": got.Headers["X-Forwarded-For"], "X-Forwarded-Proto": got.Headers["X-Forwarded-Proto"],
			"X-Forwarded-Host": got.Headers["X-Forwarded-Host"], "X-Request-Id": got.Headers["X-Request-Id"],
			"Host": got.Host,
		}
		for k, v := range map[string]string{
			"Method": "POST", "URI": "/base/orders/42?expand=lines&x=%2F", "Body": `{"n":1}`,
			"X-Api-Token": "orders-upstream-token-0123456789", "X-Static": "yes",
			"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Forwarded-Proto": "http",
			"X-Forwarded-Host": strings.TrimPrefix(e.data, "http://"), "X-Request-Id": "client-id-123",
			"Host": strings.TrimPrefix(a.URL(), "http://"),
		} {
			if want[k] != v {
				t.Errorf("upstream saw %s = %q, want %q", k, want[k], v)
			}
		}
		for _, h := range []string{"Authorization", "X-Drop-Me", "X-Hop-Req", "Connection"} {
			if v, ok := got.Headers[h]; ok {
				t.Errorf("upstream saw %s: %q; the gateway must not pass it on", h, v)
			}
		}
		if v := resp.Header.Get("X-Request-Id"); v != "client-id-123" {
			t.Errorf("X-Request-Id = %q, want the client's", v)
		}
		rec := e.call("client-id-123")
		if rec.Service != "orders" || rec.Route != "list" || rec.Consumer != "shop" || rec.Status != 200 ||
			rec.Provider != a.URL()+"/base/" || len(rec.Attempts) != 1 || rec.ResponseBytes != int64(len(b)) {
			t.Errorf("record: service %q route %q consumer %q status %d provider %q attempts %+v response bytes %d",
				rec.Service, rec.Route, rec.Consumer, rec.Status, rec.Provider, rec.Attempts, rec.ResponseBytes)
		}
		if strings.Contains(rec.RequestBody+rec.ResponseBody, "orders-upstream-token") {
			t.Errorf("the resolved header secret reached the record: %s %s", rec.RequestBody, rec.ResponseBody)
		}
		if v := resp.Header.Values("X-Request-Id"); len(v) != 1 {
			t.Errorf("X-Request-Id sent %d times: %q", len(v), v)
		}
		for h, want := range map[string]string{"X-Served-By": "hypergate", "X-Internal": "", "X-Hop": "", "X-Upstream": "a", "Content-Type": "application/json"} {
			if v := resp.Header.Get(h); v != want {
				t.Errorf("response %s = %q, want %q", h, v, want)
			}
		}
	})

	t.Run("paths", func(t *testing.T) {
		tests := []struct{ name, path, uri string }{
			{"prefix kept", "/orders", "/base/orders"},
			{"strip prefix", "/strip/a/b?q=1", "/base/a/b?q=1"},
			{"strip to root", "/strip", "/base/"},
			{"rewrite parameters", "/v2/items/7/parts/x%20y", "/base/parts/x%20y/of/7"},
			{"rewrite keeps what is under the prefix", "/renamed/sub/path", "/base/new/place/sub/path"},
			{"rewrite exact", "/renamed", "/base/new/place"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := e.echo("GET", tc.path, shopKey, "").URI; got != tc.uri {
					t.Fatalf("GET %s reached the upstream as %s, want %s", tc.path, got, tc.uri)
				}
			})
		}
	})

	t.Run("upstream errors pass through", func(t *testing.T) {
		resp, b := e.restDo("GET", "/orders/missing", shopKey, "")
		if resp.StatusCode != 404 || !strings.Contains(string(b), `"target":"a"`) {
			t.Fatalf("status %d body %s; want the upstream's own 404", resp.StatusCode, b)
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		// The echo of a HEAD differs from a GET's: only its framing is
		// compared with what the upstream itself announced.
		head, hb := e.restDo("HEAD", "/strip", shopKey, "")
		if head.StatusCode != 200 || len(hb) != 0 || head.ContentLength <= 0 {
			t.Fatalf("HEAD: status %d, Content-Length %d, %d body bytes; want 200, the upstream's length, no body",
				head.StatusCode, head.ContentLength, len(hb))
		}
	})

	t.Run("405 and 404", func(t *testing.T) {
		resp, b := e.restDo("DELETE", "/orders/1", shopKey, "")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, POST, PUT" || !strings.Contains(string(b), "method_not_allowed") {
			t.Fatalf("DELETE /orders/1: %d Allow %q %s; want 405 with Allow: GET, POST, PUT", resp.StatusCode, resp.Header.Get("Allow"), b)
		}
		resp, b = e.restDo("GET", "/ordersx", shopKey, "")
		if resp.StatusCode != 404 || !strings.Contains(string(b), "unknown_url") {
			t.Fatalf("GET /ordersx: %d %s; want 404 unknown_url", resp.StatusCode, b)
		}
	})

	t.Run("calls listed by service", func(t *testing.T) {
		resp, _ := e.restDo("GET", "/strip/listed", shopKey, "")
		e.call(resp.Header.Get("X-Request-Id")) // in the store
		e.restDo("POST", "/v1/chat/completions", shopKey, chatBody)
		var page struct {
			Data []struct{ Service, Route, Endpoint string } `json:"data"`
		}
		if st := e.adminDo("GET", "/admin/v1/calls?service=orders&limit=500", "", &page); st != 200 || len(page.Data) == 0 {
			t.Fatalf("GET /admin/v1/calls?service=orders: %d, %d calls", st, len(page.Data))
		}
		seen := false
		for _, c := range page.Data {
			if c.Service != "orders" {
				t.Fatalf("the service filter let through %+v", c)
			}
			seen = seen || c.Endpoint == "/strip/listed" && c.Route == "strip"
		}
		if !seen {
			t.Fatalf("GET /strip/listed is not among the service's calls: %+v", page.Data)
		}
	})
}

func TestRESTSubscriptions(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	e.apply(restConfig(e, []string{"private"}, fmt.Sprintf(`
  - name: private
    upstream: { targets: [ { url: "%[1]s" } ] }
    routes: [ { path: /private } ]
  - name: open
    public: true
    upstream: { targets: [ { url: "%[1]s" } ] }
    routes: [ { path: /open } ]
`, a.URL())))
	tests := []struct {
		name, path, key string
		status          int
		code            string
	}{
		{"subscribed", "/private/x", shopKey, 200, ""},
		{"not subscribed", "/private/x", otherKey, 403, "subscription_required"},
		{"public without subscription", "/open/x", otherKey, 200, ""},
		{"public still needs a key", "/open/x", "", 401, "missing_api_key"},
		{"wrong key", "/private/x", "hg-nope-0123456789", 401, "invalid_api_key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.restDo("GET", tc.path, tc.key, "")
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.code) {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if tc.code == "subscription_required" && !strings.Contains(string(b), `not subscribed to service \"private\"`) {
				t.Fatalf("message %s does not say which service", b)
			}
		})
	}
}

func TestRESTBodyLimitAndHosts(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")
	e.apply(restConfig(e, []string{"small", "hosted"}, fmt.Sprintf(`
  - name: small
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /upload, max_body_bytes: 16 } ]
  - name: hosted
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - { path: /upload, hosts: [api.example.test] }
      - { path: /, hosts: ["*.example.test"], methods: [GET] }
`, a.URL(), b.URL())))
	resp, body := e.restDo("POST", "/upload", shopKey, strings.Repeat("x", 16))
	if echoOf(t, resp, body).Target != "a" {
		t.Fatal("16 bytes should pass a 16-byte limit")
	}
	resp, body = e.restDo("POST", "/upload", shopKey, strings.Repeat("x", 17))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "request_too_large") {
		t.Fatalf("17 bytes: %d %s; want 413", resp.StatusCode, body)
	}
	if got := e.echo("POST", "/upload", shopKey, strings.Repeat("x", 17), "Host", "API.example.test:8080").Target; got != "b" {
		t.Fatalf("exact host went to %s, want b", got)
	}
	if got := e.echo("GET", "/anything", shopKey, "", "Host", "www.example.test").Target; got != "b" {
		t.Fatalf("wildcard host went to %s, want b", got)
	}
	resp, _ = e.restDo("POST", "/anything", shopKey, "", "Host", "www.example.test")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
		t.Fatalf("POST on the wildcard host: %d Allow %q; want 405 Allow GET", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestRESTCORS(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	e.apply(restConfig(e, []string{"web"}, fmt.Sprintf(`
  - name: web
    upstream: { targets: [ { url: "%s" } ] }
    routes:
      - path: /web
        methods: [GET, POST]
        cors: { origins: ["https://app.example.com"], headers: [Authorization, Content-Type], expose: [X-Upstream], credentials: true, max_age: 10m }
`, a.URL())))
	preflight := func(origin, method, headers string) (*http.Response, []byte) {
		return e.restDo("OPTIONS", "/web/x", "", "", "Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers)
	}
	resp, b := preflight("https://app.example.com", "POST", "authorization, content-type")
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Methods":     "GET, POST",
		"Access-Control-Allow-Headers":     "Authorization, Content-Type",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age":           "600",
	}
	if resp.StatusCode != 204 {
		t.Fatalf("preflight: %d %s; want 204", resp.StatusCode, b)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	if a.hits.Load() != 0 {
		t.Errorf("the preflight reached the upstream")
	}
	for _, tc := range []struct{ name, origin, method, headers, code string }{
		{"other origin", "https://evil.example", "POST", "", "cors_origin_not_allowed"},
		{"method", "https://app.example.com", "DELETE", "", "method_not_allowed"},
		{"header", "https://app.example.com", "GET", "x-secret", "cors_header_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := preflight(tc.origin, tc.method, tc.headers)
			if resp.StatusCode < 400 || !strings.Contains(string(b), tc.code) || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("%d %s (ACAO %q); want a refusal %s without CORS headers", resp.StatusCode, b, resp.Header.Get("Access-Control-Allow-Origin"), tc.code)
			}
		})
	}
	resp, b = e.restDo("GET", "/web/x", shopKey, "", "Origin", "https://app.example.com")
	echoOf(t, resp, b)
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example.com" {
		t.Fatalf("Access-Control-Allow-Origin = %q; want only the allowed origin, not the upstream's", got)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "X-Upstream" {
		t.Errorf("Access-Control-Expose-Headers = %q", got)
	}
	resp, _ = e.restDo("GET", "/web/x", shopKey, "", "Origin", "https://evil.example")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("a disallowed origin got Access-Control-Allow-Origin %q", got)
	}
}
