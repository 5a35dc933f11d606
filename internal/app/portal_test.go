package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/app"
)

const portalPassword = "a long portal passphrase"

// portalDoc is the OpenAPI document of orders-api in the portal tests:
// tags, parameters, a request body and responses through $ref.
const portalDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "Orders API", "version": "2.1.0", "description": "Orders and their lines."},
  "tags": [{"name": "orders", "description": "Placing and reading orders"}],
  "paths": {
    "/orders": {
      "get": {"tags": ["orders"], "operationId": "listOrders", "summary": "List orders",
        "parameters": [{"name": "limit", "in": "query", "description": "How many", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The orders", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}}}}},
      "post": {"tags": ["orders"], "operationId": "createOrder", "summary": "Place an order",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
        "responses": {"201": {"description": "Placed"}}}
    },
    "/orders/{id}": {
      "get": {"tags": ["orders"], "summary": "Read an order",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"$ref": "#/components/responses/OneOrder"}, "404": {"description": "No such order"}}}
    }
  },
  "components": {
    "responses": {"OneOrder": {"description": "The order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}},
    "schemas": {
      "Order": {"type": "object", "required": ["sku"], "properties": {
        "sku": {"type": "string", "description": "Stock keeping unit"},
        "quantity": {"type": "integer", "format": "int32"},
        "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
        "parent": {"$ref": "#/components/schemas/Order"}}},
      "Line": {"type": "object", "properties": {"note": {"type": "string", "description": "Note on the line"}}}
    }
  }
}`

// portalConfig is the base configuration with two teams: payments owns
// orders-api (manual approval, documented) and search owns consumer shop;
// consumer other has no team.
func portalConfig(e *env, target string) string {
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
  - name: search-api
    team: search
    description: Full-text search
    tags: [search]
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /search } ]
`, target, target)
}

// portalEnv is a gateway with the portal configuration, the orders-api
// document and a user of every kind the portal serves.
func portalEnv(t *testing.T, opts ...func(*app.Settings)) *env {
	t.Helper()
	e := start(t, opts...)
	e.apply(portalConfig(e, newRESTTarget(t, "orders").URL()))
	if code, b := e.as(adminToken, "PUT", "/admin/v1/services/orders-api/openapi", portalDoc); code != 200 {
		t.Fatalf("uploading the document: %d %s", code, b)
	}
	for _, u := range []string{
		`{"email":"app@example.com","role":"consumer","consumer":"other"}`,
		`{"email":"dev@example.com","role":"developer","team":"search"}`,
		`{"email":"payadmin@example.com","role":"team_admin","team":"payments"}`,
		`{"email":"payview@example.com","role":"viewer","team":"payments"}`,
	} {
		e.mustDo(201, "POST", "/admin/v1/users", strings.TrimSuffix(u, "}")+`,"password":"`+portalPassword+`"}`)
	}
	return e
}

// portalBrowser is a browser on the data plane.
func (e *env) portalBrowser() *browser {
	b := e.browser()
	b.base = e.data
	return b
}

// portalSignin signs in through the portal's form under prefix.
func (b *browser) portalSignin(prefix, email string) *http.Response {
	b.t.Helper()
	_, page := b.get(prefix + "/signin")
	resp, _ := b.post(prefix+"/signin", url.Values{"csrf_token": {formToken(b.t, page)}, "email": {email}, "password": {portalPassword}})
	return resp
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base + "/portal/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// apiCall sends a JSON request to the portal API with the browser's
// cookies and the given headers.
func (b *browser) apiCall(method, path, body string, hdr ...string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, out := b.do(req)
	return resp.StatusCode, out
}

var portalSecretField = regexp.MustCompile(`id="secret" class="secret" readonly value="([^"]+)"`)

func TestPortal(t *testing.T) {
	e := portalEnv(t)
	anon := e.portalBrowser()
	app := e.portalBrowser() // consumer user of application other
	dev := e.portalBrowser() // developer of team search, which owns shop

	t.Run("not signed in: pages redirect to the portal's sign-in", func(t *testing.T) {
		for _, p := range []string{"/portal/", "/portal/apps", "/portal/apps/shop", "/portal/services/orders-api"} {
			resp, _ := anon.get(p)
			if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/portal/signin") {
				t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
			}
			checkPage(t, p, resp, "")
		}
		resp, body := anon.get("/portal/signin")
		checkPage(t, "/portal/signin", resp, body)
		if resp.StatusCode != 200 || !strings.Contains(body, "ask the API's owners") || resp.Header.Get("X-Request-Id") == "" ||
			resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("sign-in page: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if resp, _ := anon.get("/portal"); resp.StatusCode != 301 || resp.Header.Get("Location") != "/portal/" {
			t.Errorf("/portal: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("sign-in sets only the portal cookie", func(t *testing.T) {
		_, page := app.get("/portal/signin")
		if resp, _ := app.post("/portal/signin", url.Values{"email": {"app@example.com"}, "password": {portalPassword}}); resp.StatusCode != 403 {
			t.Errorf("sign-in without the form token: %d", resp.StatusCode)
		}
		resp, _ := app.post("/portal/signin", url.Values{"csrf_token": {formToken(t, page)}, "email": {"app@example.com"}, "password": {portalPassword}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/portal/" {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		sc := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
		if !strings.Contains(sc, "hypergate_portal_session=hgs") || !strings.Contains(sc, "Path=/portal") || !strings.Contains(sc, "HttpOnly") ||
			!strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, "hypergate_session=") {
			t.Errorf("cookies after sign-in: %s", sc)
		}
		if resp := dev.portalSignin("/portal", "dev@example.com"); resp.StatusCode != 303 {
			t.Fatalf("developer sign-in: %d", resp.StatusCode)
		}
		code, body := app.apiCall("POST", "/portal/api/v1/login", `{"email":"app@example.com","password":"`+portalPassword+`"}`)
		if code != 200 || strings.Contains(body, "session_token") || !gjson.Get(body, "csrf_token").Exists() {
			t.Errorf("portal API sign-in: %d %s", code, body)
		}
	})

	t.Run("pages render", func(t *testing.T) {
		for _, c := range []struct {
			name string
			b    *browser
			path string
			want []string
			not  []string
		}{
			{"catalog for a consumer", app, "/portal/", []string{"Orders API", "search-api", `href="?tag=commerce"`, "Not subscribed"}, nil},
			{"catalog search", app, "/portal/?q=lines", []string{"Orders API", "1 of 2 services"}, []string{"Full-text search"}},
			{"catalog tag", dev, "/portal/?tag=search", []string{"search-api", "1 of 2 services"}, []string{"Orders API"}},
			{"catalog kind", dev, "/portal/?kind=ai", []string{"0 of 2 services", "No service matches"}, nil},
			{"service docs", app, "/portal/services/orders-api", []string{"Orders API", "List orders", "Place an order",
				"<code>/orders/{id}</code>", "Stock keeping unit", "Note on the line", "array of Line", "int32", `class="depth-1"`,
				"Was this page helpful?", "Try it", `data-path="/orders/{id}"`, "portal-try.js", "Subscribe", "approved by the owners"}, nil},
			{"service docs for a developer", dev, "/portal/services/orders-api", []string{"Orders API", `<option value="shop">shop</option>`}, nil},
			{"applications of a consumer", app, "/portal/apps", []string{`href="/portal/apps/other"`, "made by the API's owners"}, []string{"shop"}},
			{"applications of a developer", dev, "/portal/apps", []string{`href="/portal/apps/shop"`, "New application", "team search"}, []string{"/apps/other"}},
			{"application of a consumer", app, "/portal/apps/other", []string{"Subscriptions", "Keys", "Usage, last 7 days", "<svg", "Create key"}, nil},
			{"application of a developer", dev, "/portal/apps/shop", []string{"Create key", "declared in the configuration", "<svg"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := c.b.get(c.path)
				checkPage(t, c.path, resp, body)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
				}
				for _, w := range c.want {
					if !strings.Contains(body, w) {
						t.Errorf("%s lacks %q", c.path, w)
					}
				}
				for _, w := range c.not {
					if strings.Contains(body, w) {
						t.Errorf("%s has %q", c.path, w)
					}
				}
			})
		}
	})

	t.Run("portal API allow-list", func(t *testing.T) {
		csrf := gjson.Get(func() string { _, b := app.apiCall("GET", "/portal/api/v1/me", ""); return b }(), "csrf_token").Str
		for _, c := range []struct {
			name         string
			b            *browser
			method, path string
			hdr          []string
			want         int
		}{
			{"catalog", app, "GET", "/portal/api/v1/catalog", nil, 200},
			{"me", app, "GET", "/portal/api/v1/me", nil, 200},
			{"document", app, "GET", "/portal/api/v1/services/orders-api/openapi", nil, 200},
			{"users is an admin route", app, "GET", "/portal/api/v1/users", nil, 404},
			{"configuration is an admin route", app, "GET", "/portal/api/v1/config", nil, 404},
			{"calls are not for the portal", app, "GET", "/portal/api/v1/calls", nil, 404},
			{"deleting a consumer is not for the portal", dev, "DELETE", "/portal/api/v1/consumers/shop", nil, 404},
			{"a path with dots", app, "GET", "/portal/api/v1/catalog/../users", nil, 404},
			{"keys need a consumer", app, "GET", "/portal/api/v1/keys", nil, 400},
			{"analytics need a consumer", app, "GET", "/portal/api/v1/analytics/timeseries", nil, 400},
			{"the admin token is never accepted", anon, "GET", "/portal/api/v1/catalog", []string{"Authorization", "Bearer " + adminToken}, 401},
			{"nor on an admin route", anon, "GET", "/portal/api/v1/users", []string{"Authorization", "Bearer " + adminToken}, 404},
			{"a change without the CSRF header", app, "POST", "/portal/api/v1/subscriptions", nil, 403},
			{"a change with it", app, "POST", "/portal/api/v1/subscriptions", []string{"X-CSRF-Token", csrf}, 201},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := ""
				if c.method == "POST" {
					body = `{"consumer":"other","service":"search-api"}`
				}
				if code, out := c.b.apiCall(c.method, c.path, body, c.hdr...); code != c.want {
					t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, out, c.want)
				}
			})
		}
	})

	t.Run("forms without the anti-forgery token are refused", func(t *testing.T) {
		for _, p := range []string{"/portal/services/orders-api/subscribe", "/portal/services/orders-api/feedback", "/portal/apps", "/portal/apps/shop/keys", "/portal/signout"} {
			resp, _ := dev.post(p, url.Values{"consumer": {"shop"}, "helpful": {"yes"}, "name": {"x"}})
			if resp.StatusCode != 403 {
				t.Errorf("%s without csrf_token: %d", p, resp.StatusCode)
			}
		}
	})

	t.Run("a consumer sees only its own application", func(t *testing.T) {
		if resp, body := app.get("/portal/apps/shop"); resp.StatusCode != 404 || strings.Contains(body, "Create key") {
			t.Errorf("another application's page: %d", resp.StatusCode)
		}
		if code, _ := app.apiCall("GET", "/portal/api/v1/consumers/shop", ""); code != 404 {
			t.Errorf("another application through the API: %d", code)
		}
		if code, body := app.apiCall("GET", "/portal/api/v1/keys?consumer=shop", ""); code != 200 || gjson.Get(body, "data.#").Int() != 0 {
			t.Errorf("another application's keys: %d %s", code, body)
		}
		_, page := app.get("/portal/apps/other")
		if resp, _ := app.post("/portal/apps/shop/keys", url.Values{"csrf_token": {formToken(t, page)}}); resp.StatusCode != 404 {
			t.Errorf("a consumer creating a key of another application: %d, want 404", resp.StatusCode)
		}
		if resp, body := app.post("/portal/apps/other/keys", url.Values{"csrf_token": {formToken(t, page)}}); resp.StatusCode != 201 && resp.StatusCode != 200 || !portalSecretField.MatchString(body) {
			t.Errorf("a consumer creating a key of its own application: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("subscribe: pending for a manual-approval service", func(t *testing.T) {
		_, page := dev.get("/portal/services/orders-api")
		resp, _ := dev.post("/portal/services/orders-api/subscribe", url.Values{"csrf_token": {formToken(t, page)}, "consumer": {"shop"}})
		if resp.StatusCode != 303 {
			t.Fatalf("subscribe: %d", resp.StatusCode)
		}
		_, body := dev.get(resp.Header.Get("Location"))
		if !strings.Contains(body, `<span class="sub-state state-pending">pending</span>`) || !strings.Contains(body, "Subscription requested") {
			t.Errorf("service page after subscribing: %s", body)
		}
		b := e.mustDo(200, "GET", "/admin/v1/subscriptions?consumer=shop&service=orders-api", "")
		if gjson.GetBytes(b, "data.0.state").Str != "pending" || gjson.GetBytes(b, "data.0.requested_by").Str != "user:dev@example.com" {
			t.Errorf("stored subscription: %s", b)
		}
		if _, apps := dev.get("/portal/apps"); !strings.Contains(apps, "orders-api: pending") {
			t.Errorf("applications page lacks the pending subscription: %s", apps)
		}
	})

	t.Run("a key is shown once", func(t *testing.T) {
		_, page := dev.get("/portal/apps/shop")
		resp, body := dev.post("/portal/apps/shop/keys", url.Values{"csrf_token": {formToken(t, page)}, "key_name": {"portal-key"}})
		m := portalSecretField.FindStringSubmatch(body)
		if resp.StatusCode != 201 || m == nil || !strings.Contains(body, "only time") {
			t.Fatalf("creating a key: %d %s", resp.StatusCode, body)
		}
		checkPage(t, "new key", resp, body)
		secret := m[1]
		for _, p := range []string{"/portal/apps/shop", "/portal/apps", "/portal/services/orders-api"} {
			if _, later := dev.get(p); strings.Contains(later, secret) {
				t.Errorf("%s shows the secret again", p)
			}
		}
		if _, later := dev.get("/portal/apps/shop"); !strings.Contains(later, "portal-key") {
			t.Errorf("the new key is not listed")
		}
		// The key is the application's: it calls the data plane.
		if resp, _ := e.do("GET", "/v1/models", secret, ""); resp.StatusCode != 200 {
			t.Errorf("the new key on the data plane: %d", resp.StatusCode)
		}
		// And it can be revoked from the page.
		keys := e.mustDo(200, "GET", "/admin/v1/keys?consumer=shop", "")
		id := gjson.GetBytes(keys, `data.#(name=="portal-key").id`).Str
		_, page = dev.get("/portal/apps/shop")
		if resp, _ := dev.post("/portal/apps/shop/keys/"+id+"/revoke", url.Values{"csrf_token": {formToken(t, page)}}); resp.StatusCode != 303 {
			t.Errorf("revoking: %d", resp.StatusCode)
		}
		if resp, _ := e.do("GET", "/v1/models", secret, ""); resp.StatusCode != 401 {
			t.Errorf("the revoked key on the data plane: %d", resp.StatusCode)
		}
	})

	t.Run("page feedback is stored", func(t *testing.T) {
		_, page := app.get("/portal/services/orders-api")
		resp, _ := app.post("/portal/services/orders-api/feedback", url.Values{"csrf_token": {formToken(t, page)}, "helpful": {"no"}, "comment": {"the errors are not described"}})
		if resp.StatusCode != 303 {
			t.Fatalf("feedback: %d", resp.StatusCode)
		}
		if _, body := app.get(resp.Header.Get("Location")); !strings.Contains(body, "Thank you for your feedback") {
			t.Errorf("no thanks after feedback")
		}
		b := e.mustDo(200, "GET", "/admin/v1/page-feedback?page=/portal/services/orders-api", "")
		if !strings.Contains(string(b), "the errors are not described") || !strings.Contains(string(b), "user:app@example.com") || !strings.Contains(string(b), `"other"`) {
			t.Errorf("page feedback: %s", b)
		}
	})

	t.Run("the portal is not the console", func(t *testing.T) {
		for _, c := range []struct {
			name, url string
		}{
			{"no portal on the admin port", e.admin + "/portal/signin"},
			{"no admin API under the portal", e.data + "/portal/admin/v1/me"},
			{"no console page under the portal", e.data + "/portal/calls"},
		} {
			t.Run(c.name, func(t *testing.T) {
				req, _ := http.NewRequest("GET", c.url, nil)
				resp, body := app.do(req)
				if resp.StatusCode == 200 || strings.Contains(body, "developer portal") && strings.HasPrefix(c.url, e.admin) ||
					strings.Contains(body, `"csrf_token":`) || strings.Contains(body, `"kind":`) {
					t.Errorf("%s: %d %s", c.url, resp.StatusCode, body)
				}
			})
		}
	})

	t.Run("sign-out ends the session", func(t *testing.T) {
		_, page := app.get("/portal/apps")
		resp, _ := app.post("/portal/signout", url.Values{"csrf_token": {formToken(t, page)}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/portal/signin" {
			t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := app.get("/portal/apps"); resp.StatusCode != 303 {
			t.Errorf("after sign-out: %d", resp.StatusCode)
		}
	})
}

func TestPortalPathSetting(t *testing.T) {
	for _, c := range []struct {
		name, path string
		ok         bool
	}{
		{"default", "", true},
		{"another path", "/developers", true},
		{"nested", "/docs/portal", true},
		{"relative", "portal", false},
		{"root", "/", false},
		{"trailing slash", "/portal/", false},
		{"under /v1", "/v1/portal", false},
		{"the status page", "/status", false},
		{"the widget", "/widget.js", false},
		{"odd characters", "/port al", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := app.Settings{PortalPath: c.path}
			if err := s.FromEnv(); (err == nil) != c.ok {
				t.Errorf("PortalPath %q: %v", c.path, err)
			}
		})
	}

	e := portalEnv(t, func(s *app.Settings) { s.PortalPath = "/developers" })
	b := e.portalBrowser()
	if resp, body := b.get("/developers/signin"); resp.StatusCode != 200 || !strings.Contains(body, `action="/developers/signin"`) {
		t.Fatalf("/developers/signin: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/portal/signin"); resp.StatusCode == 200 {
		t.Errorf("/portal/signin still served after the portal moved")
	}
	if resp := b.portalSignin("/developers", "app@example.com"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/developers/" {
		t.Fatalf("sign-in at /developers: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := b.get("/developers/services/orders-api"); resp.StatusCode != 200 || !strings.Contains(body, `href="/developers/static/portal.css?v=`) {
		t.Errorf("service page at /developers: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/developers/static/portal-try.js"); resp.StatusCode != 200 {
		t.Errorf("static files at /developers: %d", resp.StatusCode)
	}
}
