package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
)

// teamsConfig turns the base configuration into one with two teams:
// payments owns consumer shop and service pay-api, search owns consumer
// other and service search-api.
func teamsConfig(e *env) string {
	cfg := fmt.Sprintf(baseConfig, e.up.BaseURL())
	cfg = strings.Replace(cfg, "  - name: shop\n", "  - name: shop\n    team: payments\n", 1)
	cfg = strings.Replace(cfg, "  - name: other\n", "  - name: other\n    team: search\n", 1)
	return cfg + `
teams:
  - name: payments
    description: Checkout and billing
  - name: search
services:
  - name: pay-api
    team: payments
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /pay } ]
  - name: search-api
    team: search
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /search } ]
review_queues:
  - name: pay-review
    team: payments
    dimensions: [helpful]
hypercare:
  - { name: pay-launch, target: { service: pay-api }, start: 2026-01-05T00:00:00Z, duration: 14d }
`
}

// authEnv is a gateway with two teams and an API token for every role.
type authEnv struct {
	*env
	tokens map[string]string // by role; team roles are of team payments
}

func startTeams(t *testing.T, opts ...func(*app.Settings)) *authEnv {
	t.Helper()
	e := start(t, opts...)
	if code := e.adminDo("PUT", "/admin/v1/config?message=teams", teamsConfig(e), nil); code != 200 {
		t.Fatalf("applying the teams configuration: %d", code)
	}
	ae := &authEnv{env: e, tokens: map[string]string{"admin-token": adminToken}}
	for _, b := range []struct{ role, team, consumer string }{
		{"admin", "", ""}, {"team_admin", "payments", ""}, {"developer", "payments", ""},
		{"reviewer", "payments", ""}, {"viewer", "payments", ""}, {"consumer", "", "shop"},
	} {
		var out struct {
			Token string `json:"token"`
		}
		body := fmt.Sprintf(`{"name":"%s-bot","role":%q,"team":%q,"consumer":%q}`, b.role, b.role, b.team, b.consumer)
		if code := e.adminDo("POST", "/admin/v1/tokens", body, &out); code != 201 || !strings.HasPrefix(out.Token, auth.TokenPrefix) {
			t.Fatalf("creating the %s token: %d", b.role, code)
		}
		ae.tokens[b.role] = out.Token
	}
	return ae
}

// as calls the admin API with a bearer secret ("" for none).
func (e *env) as(secret, method, path, body string, hdr ...string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.admin+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// mustDo is adminDo that fails the test on an unexpected status.
func (e *env) mustDo(want int, method, path, body string) []byte {
	e.t.Helper()
	code, b := e.as(adminToken, method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

var seq int

func fresh(prefix string) string {
	seq++
	return fmt.Sprintf("%s%d", prefix, seq)
}

// TestRoleMatrix sends a request to every registered admin route with no
// credentials and with a token of every role, and checks the answer
// against the permission table: 401 without credentials (public routes
// aside), 403 when the role may not, success when it may. Targets named in
// paths belong to the tokens' team, so a refusal there is the role's.
func TestRoleMatrix(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { roleMatrix(t, startTeams(t, b.opt(t))) })
	}
}

func roleMatrix(t *testing.T, e *authEnv) {
	e.do("POST", "/v1/chat/completions", shopKey, chatBody, "X-Request-Id", "matrix-call")
	e.call("matrix-call")
	user := func() string { // a user with no role, to be added or changed
		b := e.mustDo(201, "POST", "/admin/v1/users", fmt.Sprintf(`{"email":"%s@example.com","password":"matrix password 1"}`, fresh("u")))
		return gjson.GetBytes(b, "id").Str
	}
	key := func() string {
		return gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/consumers/shop/keys", `{"name":"m"}`), "id").Str
	}
	// service creates a service of team payments; draft saves a draft of one.
	service := func() string {
		name := fresh("s")
		e.mustDo(201, "POST", "/admin/v1/services", fmt.Sprintf(
			`{"name":%q,"team":"payments","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]},"routes":[{"path":"/%s"}]}`, name, name))
		return name
	}
	draft := func(name string) string {
		e.mustDo(200, "PUT", "/admin/v1/services/"+name+"/draft", fmt.Sprintf(
			`{"team":"payments","description":%q,"upstream":{"targets":[{"url":"http://127.0.0.1:1"}]},"routes":[{"path":"/%s"}]}`, fresh("d"), name))
		return name
	}
	currentConfig := func() string {
		code, b := e.as(adminToken, "GET", "/admin/v1/config?format=yaml", "")
		if code != 200 {
			t.Fatalf("reading the configuration: %d", code)
		}
		return string(b)
	}
	// pending asks for shop's subscription to a new service of payments with
	// manual approval; approved also approves it. Both return its id.
	pending := func() string {
		name := fresh("m")
		e.mustDo(201, "POST", "/admin/v1/services", fmt.Sprintf(
			`{"name":%q,"team":"payments","approval":"manual","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]},"routes":[{"path":"/%s"}]}`, name, name))
		b := e.mustDo(201, "POST", "/admin/v1/subscriptions", fmt.Sprintf(`{"consumer":"shop","service":%q}`, name))
		return gjson.GetBytes(b, "id").Str
	}
	approved := func() string {
		id := pending()
		e.mustDo(200, "POST", "/admin/v1/subscriptions/"+id+"/approve", "")
		return id
	}
	// A silence of shop's alerts, which team payments owns.
	const matrixSilence = `{"matchers":[{"name":"consumer","value":"shop"}],"duration":"1h","comment":"matrix"}`
	const matrixDoc = `{"openapi":"3.1.0","info":{"title":"Pay","version":"1"},"paths":{}}`
	// A status incident on pay-api, and a status subscriber (status.go).
	const matrixStatusIncident = `{"title":"Matrix","services":["pay-api"],"impact":"degraded","message":"m"}`
	statusIncident := func() string {
		return gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/status/incidents", matrixStatusIncident), "id").Str
	}
	statusSubscriber := func() string {
		return gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/status/subscribers", `{"url":"http://127.0.0.1:1/hook","secret":"env:STATUS_MATRIX_SECRET"}`), "id").Str
	}
	// reviewItem puts the matrix call in review queue pay-review of team
	// payments (once: a call is never twice in a queue) and returns the id
	// of its item.
	reviewItem := func() string {
		e.mustDo(200, "POST", "/admin/v1/review-queues/pay-review/items", `{"call_ids":["matrix-call"]}`)
		b := e.mustDo(200, "GET", "/admin/v1/review-queues/pay-review/items", "")
		return gjson.GetBytes(b, `data.#(call_id=="matrix-call").id`).Str
	}
	type req struct{ path, body string }
	// One request per route; prepare may create what the request acts on,
	// so that every role's request finds it fresh.
	cases := map[string]func() req{
		"GET /healthz":               func() req { return req{"/healthz", ""} },
		"GET /readyz":                func() req { return req{"/readyz", ""} },
		"GET /metrics":               func() req { return req{"/metrics", ""} },
		"GET /admin/v1/openapi.json": func() req { return req{"/admin/v1/openapi.json", ""} },
		"POST /admin/v1/login": func() req {
			return req{"/admin/v1/login", `{}`}
		},
		"POST /admin/v1/logout": func() req { return req{"/admin/v1/logout", ""} },
		"GET /admin/v1/me":      func() req { return req{"/admin/v1/me", ""} },
		"POST /admin/v1/me/password": func() req {
			return req{"/admin/v1/me/password", `{"current_password":"x","new_password":"long enough password"}`}
		},
		"GET /admin/v1/calls":      func() req { return req{"/admin/v1/calls", ""} },
		"GET /admin/v1/calls/{id}": func() req { return req{"/admin/v1/calls/matrix-call", ""} },
		"POST /admin/v1/calls/{id}/feedback": func() req {
			return req{"/admin/v1/calls/matrix-call/feedback", `{"name":"helpful","value":false,"comment":"matrix"}`}
		},
		"GET /admin/v1/page-feedback": func() req { return req{"/admin/v1/page-feedback?page=/portal", ""} },
		"POST /admin/v1/consumers/{name}/publishable-keys": func() req {
			return req{"/admin/v1/consumers/shop/publishable-keys", `{"name":"m","origins":["https://shop.example.com"]}`}
		},
		"GET /admin/v1/consumers/{name}/publishable-keys": func() req { return req{"/admin/v1/consumers/shop/publishable-keys", ""} },
		"DELETE /admin/v1/consumers/{name}/publishable-keys/{id}": func() req {
			id := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/consumers/shop/publishable-keys", `{"name":"m"}`), "id").Str
			return req{"/admin/v1/consumers/shop/publishable-keys/" + id, ""}
		},
		"GET /admin/v1/analytics/timeseries": func() req { return req{"/admin/v1/analytics/timeseries", ""} },
		"GET /admin/v1/analytics/breakdown":  func() req { return req{"/admin/v1/analytics/breakdown?by=model", ""} },
		"GET /admin/v1/analytics/top":        func() req { return req{"/admin/v1/analytics/top?by=route&metric=errors", ""} },
		"GET /admin/v1/analytics/compare": func() req {
			return req{"/admin/v1/analytics/compare?from=1700000000&to=1700003600&b_from=1700003600&b_to=1700007200", ""}
		},
		"POST /admin/v1/analytics/rebuild": func() req {
			return req{"/admin/v1/analytics/rebuild", `{"from":"2023-11-14T00:00:00Z","to":"2023-11-15T00:00:00Z"}`}
		},
		"GET /admin/v1/consumers": func() req { return req{"/admin/v1/consumers", ""} },
		"POST /admin/v1/consumers": func() req {
			return req{"/admin/v1/consumers", fmt.Sprintf(`{"name":%q,"team":"payments"}`, fresh("c"))}
		},
		"GET /admin/v1/consumers/{name}": func() req { return req{"/admin/v1/consumers/shop", ""} },
		"DELETE /admin/v1/consumers/{name}": func() req {
			name := fresh("d")
			e.mustDo(201, "POST", "/admin/v1/consumers", fmt.Sprintf(`{"name":%q,"team":"payments"}`, name))
			return req{"/admin/v1/consumers/" + name, ""}
		},
		"POST /admin/v1/consumers/{name}/keys": func() req { return req{"/admin/v1/consumers/shop/keys", `{"name":"matrix"}`} },
		"GET /admin/v1/keys":                   func() req { return req{"/admin/v1/keys", ""} },
		"DELETE /admin/v1/keys/{id}":           func() req { return req{"/admin/v1/keys/" + key(), ""} },
		"GET /admin/v1/teams":                  func() req { return req{"/admin/v1/teams", ""} },
		"POST /admin/v1/teams":                 func() req { return req{"/admin/v1/teams", fmt.Sprintf(`{"name":%q}`, fresh("t"))} },
		"GET /admin/v1/teams/{name}":           func() req { return req{"/admin/v1/teams/payments", ""} },
		"PUT /admin/v1/teams/{name}":           func() req { return req{"/admin/v1/teams/payments", fmt.Sprintf(`{"description":%q}`, fresh("d"))} },
		"DELETE /admin/v1/teams/{name}": func() req {
			name := fresh("x")
			e.mustDo(201, "POST", "/admin/v1/teams", fmt.Sprintf(`{"name":%q}`, name))
			return req{"/admin/v1/teams/" + name, ""}
		},
		"GET /admin/v1/teams/{name}/members": func() req { return req{"/admin/v1/teams/payments/members", ""} },
		"POST /admin/v1/teams/{name}/members": func() req {
			return req{"/admin/v1/teams/payments/members", fmt.Sprintf(`{"user":%q,"role":"viewer"}`, user())}
		},
		"DELETE /admin/v1/teams/{name}/members/{user}": func() req {
			id := user()
			e.mustDo(201, "POST", "/admin/v1/teams/payments/members", fmt.Sprintf(`{"user":%q,"role":"viewer"}`, id))
			return req{"/admin/v1/teams/payments/members/" + id, ""}
		},
		"GET /admin/v1/users": func() req { return req{"/admin/v1/users", ""} },
		"POST /admin/v1/users": func() req {
			return req{"/admin/v1/users", fmt.Sprintf(`{"email":"%s@example.com","password":"matrix password 1"}`, fresh("n"))}
		},
		"GET /admin/v1/users/{user}":    func() req { return req{"/admin/v1/users/" + user(), ""} },
		"PUT /admin/v1/users/{user}":    func() req { return req{"/admin/v1/users/" + user(), `{"name":"Changed"}`} },
		"DELETE /admin/v1/users/{user}": func() req { return req{"/admin/v1/users/" + user(), ""} },
		"GET /admin/v1/tokens":          func() req { return req{"/admin/v1/tokens", ""} },
		"POST /admin/v1/tokens":         func() req { return req{"/admin/v1/tokens", `{"name":"matrix","role":"viewer"}`} },
		"DELETE /admin/v1/tokens/{id}": func() req {
			b := e.mustDo(201, "POST", "/admin/v1/tokens", `{"name":"doomed","role":"viewer"}`)
			return req{"/admin/v1/tokens/" + gjson.GetBytes(b, "id").Str, ""}
		},
		"GET /admin/v1/audit":    func() req { return req{"/admin/v1/audit", ""} },
		"GET /admin/v1/services": func() req { return req{"/admin/v1/services", ""} },
		"POST /admin/v1/services": func() req {
			name := fresh("n")
			return req{"/admin/v1/services", fmt.Sprintf(`{"name":%q,"team":"payments","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]},"routes":[{"path":"/%s"}]}`, name, name)}
		},
		"GET /admin/v1/services/{name}":    func() req { return req{"/admin/v1/services/pay-api", ""} },
		"DELETE /admin/v1/services/{name}": func() req { return req{"/admin/v1/services/" + service(), ""} },
		"PUT /admin/v1/services/{name}/draft": func() req {
			return req{"/admin/v1/services/pay-api/draft", `{"team":"payments","upstream":{"targets":[{"url":"http://127.0.0.1:2"}]},"routes":[{"path":"/pay"}]}`}
		},
		"GET /admin/v1/services/{name}/draft":      func() req { return req{"/admin/v1/services/" + draft(service()) + "/draft", ""} },
		"DELETE /admin/v1/services/{name}/draft":   func() req { return req{"/admin/v1/services/" + draft(service()) + "/draft", ""} },
		"GET /admin/v1/services/{name}/draft/diff": func() req { return req{"/admin/v1/services/" + draft(service()) + "/draft/diff", ""} },
		"POST /admin/v1/services/{name}/publish": func() req {
			return req{"/admin/v1/services/" + draft(service()) + "/publish", `{"message":"matrix"}`}
		},
		"GET /admin/v1/services/{name}/releases":     func() req { return req{"/admin/v1/services/pay-api/releases", ""} },
		"GET /admin/v1/services/{name}/releases/{n}": func() req { return req{"/admin/v1/services/pay-api/releases/1", ""} },
		"POST /admin/v1/services/{name}/releases/{n}/rollback": func() req {
			return req{"/admin/v1/services/" + service() + "/releases/1/rollback", ""}
		},
		"POST /admin/v1/services/{name}/deprecate": func() req {
			return req{"/admin/v1/services/" + service() + "/deprecate", `{"sunset":"2027-01-31T00:00:00Z"}`}
		},
		"POST /admin/v1/services/{name}/retire": func() req { return req{"/admin/v1/services/" + service() + "/retire", ""} },
		"GET /admin/v1/config":                  func() req { return req{"/admin/v1/config", ""} },
		"PUT /admin/v1/config":                  func() req { return req{"/admin/v1/config", currentConfig()} },
		"POST /admin/v1/config/diff":            func() req { return req{"/admin/v1/config/diff", currentConfig()} },
		"GET /admin/v1/config/revisions":        func() req { return req{"/admin/v1/config/revisions", ""} },
		"GET /admin/v1/config/revisions/{n}":    func() req { return req{"/admin/v1/config/revisions/1", ""} },
		"POST /admin/v1/config/revisions/{n}/restore": func() req {
			// Restoring the revision in service changes nothing, so the
			// matrix leaves the configuration as it is.
			var rev struct {
				Revision int64 `json:"revision"`
			}
			e.adminDo("GET", "/admin/v1/config", "", &rev)
			return req{fmt.Sprintf("/admin/v1/config/revisions/%d/restore", rev.Revision), ""}
		},
		"POST /admin/v1/consumers/{name}/keys/{id}/rotate": func() req {
			return req{"/admin/v1/consumers/shop/keys/" + key() + "/rotate", `{"grace":"1h"}`}
		},
		"GET /admin/v1/catalog":           func() req { return req{"/admin/v1/catalog", ""} },
		"GET /admin/v1/catalog/{service}": func() req { return req{"/admin/v1/catalog/pay-api", ""} },
		"GET /admin/v1/services/{name}/openapi": func() req {
			e.mustDo(200, "PUT", "/admin/v1/services/pay-api/openapi", matrixDoc)
			return req{"/admin/v1/services/pay-api/openapi", ""}
		},
		"PUT /admin/v1/services/{name}/openapi": func() req { return req{"/admin/v1/services/pay-api/openapi", matrixDoc} },
		"POST /admin/v1/services/{name}/openapi/import": func() req {
			// The admin API's own document is an OpenAPI 3.1 document.
			return req{"/admin/v1/services/pay-api/openapi/import", fmt.Sprintf(`{"url":%q}`, e.admin+"/admin/v1/openapi.json")}
		},
		"GET /admin/v1/subscriptions":      func() req { return req{"/admin/v1/subscriptions", ""} },
		"POST /admin/v1/subscriptions":     func() req { return req{"/admin/v1/subscriptions", `{"consumer":"shop","service":"pay-api"}`} },
		"GET /admin/v1/subscriptions/{id}": func() req { return req{"/admin/v1/subscriptions/" + pending(), ""} },
		"POST /admin/v1/subscriptions/{id}/approve": func() req {
			return req{"/admin/v1/subscriptions/" + pending() + "/approve", `{"reason":"matrix"}`}
		},
		"POST /admin/v1/subscriptions/{id}/reject": func() req {
			return req{"/admin/v1/subscriptions/" + pending() + "/reject", `{"reason":"matrix"}`}
		},
		"POST /admin/v1/subscriptions/{id}/revoke": func() req {
			return req{"/admin/v1/subscriptions/" + approved() + "/revoke", `{"reason":"matrix"}`}
		},
		"GET /admin/v1/alerts":         func() req { return req{"/admin/v1/alerts", ""} },
		"GET /admin/v1/alerts/history": func() req { return req{"/admin/v1/alerts/history", ""} },
		"GET /admin/v1/silences":       func() req { return req{"/admin/v1/silences", ""} },
		"POST /admin/v1/silences":      func() req { return req{"/admin/v1/silences", matrixSilence} },
		"DELETE /admin/v1/silences/{id}": func() req {
			return req{"/admin/v1/silences/" + gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/silences", matrixSilence), "id").Str, ""}
		},
		"GET /admin/v1/probes":           func() req { return req{"/admin/v1/probes", ""} },
		"GET /admin/v1/status":           func() req { return req{"/admin/v1/status", ""} },
		"GET /admin/v1/status/incidents": func() req { return req{"/admin/v1/status/incidents", ""} },
		"POST /admin/v1/status/incidents": func() req {
			return req{"/admin/v1/status/incidents", matrixStatusIncident}
		},
		"GET /admin/v1/status/incidents/{id}": func() req { return req{"/admin/v1/status/incidents/" + statusIncident(), ""} },
		"POST /admin/v1/status/incidents/{id}/updates": func() req {
			return req{"/admin/v1/status/incidents/" + statusIncident() + "/updates", `{"status":"resolved","message":"done"}`}
		},
		// Incidents of shop's calls, which team payments reaches
		// (triage_test.go); each case gets a fresh one.
		"GET /admin/v1/incidents":      func() req { return req{"/admin/v1/incidents", ""} },
		"GET /admin/v1/incidents/{id}": func() req { return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, false), ""} },
		"POST /admin/v1/incidents/{id}/acknowledge": func() req {
			return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, false) + "/acknowledge", ""}
		},
		"POST /admin/v1/incidents/{id}/resolve": func() req {
			return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, false) + "/resolve", `{"note":"matrix"}`}
		},
		"POST /admin/v1/incidents/{id}/ignore": func() req {
			return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, false) + "/ignore", ""}
		},
		"POST /admin/v1/incidents/{id}/reopen": func() req {
			return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, true) + "/reopen", ""}
		},
		"POST /admin/v1/incidents/{id}/notes": func() req {
			return req{"/admin/v1/incidents/" + matrixIncident(t, e.env, false) + "/notes", `{"text":"matrix"}`}
		},
		"GET /admin/v1/status/subscribers": func() req { return req{"/admin/v1/status/subscribers", ""} },
		"POST /admin/v1/status/subscribers": func() req {
			return req{"/admin/v1/status/subscribers", `{"url":"http://127.0.0.1:1/hook","secret":"env:STATUS_MATRIX_SECRET"}`}
		},
		"DELETE /admin/v1/status/subscribers/{id}": func() req {
			return req{"/admin/v1/status/subscribers/" + statusSubscriber(), ""}
		},
		// A hypercare window on pay-api, which team payments owns.
		"GET /admin/v1/hypercare":                func() req { return req{"/admin/v1/hypercare", ""} },
		"GET /admin/v1/hypercare/{name}/report":  func() req { return req{"/admin/v1/hypercare/pay-launch/report?format=md", ""} },
		"GET /admin/v1/hypercare/{name}/reports": func() req { return req{"/admin/v1/hypercare/pay-launch/reports", ""} },

		"GET /admin/v1/review-queues":        func() req { return req{"/admin/v1/review-queues", ""} },
		"GET /admin/v1/review-queues/{name}": func() req { return req{"/admin/v1/review-queues/pay-review", ""} },
		"GET /admin/v1/review-queues/{name}/items": func() req {
			return req{"/admin/v1/review-queues/pay-review/items", ""}
		},
		"POST /admin/v1/review-queues/{name}/items": func() req {
			return req{"/admin/v1/review-queues/pay-review/items", `{"call_ids":["matrix-call"]}`}
		},
		"POST /admin/v1/review-queues/{name}/items/bulk": func() req {
			return req{"/admin/v1/review-queues/pay-review/items/bulk?consumer=shop", ""}
		},
		"POST /admin/v1/review-queues/{name}/next": func() req {
			reviewItem()
			return req{"/admin/v1/review-queues/pay-review/next", ""}
		},
		"POST /admin/v1/review-queues/{name}/items/{id}/complete": func() req {
			return req{"/admin/v1/review-queues/pay-review/items/" + reviewItem() + "/complete", `{"scores":{"helpful":true}}`}
		},
		"POST /admin/v1/review-queues/{name}/items/{id}/skip": func() req {
			return req{"/admin/v1/review-queues/pay-review/items/" + reviewItem() + "/skip", `{"comment":"matrix"}`}
		},
		"POST /admin/v1/review-queues/{name}/items/{id}/assign": func() req {
			return req{"/admin/v1/review-queues/pay-review/items/" + reviewItem() + "/assign", `{"assignee":""}`}
		},
		"GET /debug/pprof/":        func() req { return req{"/debug/pprof/", ""} },
		"GET /debug/pprof/profile": func() req { return req{"/debug/pprof/profile?seconds=1", ""} },
		"GET /debug/pprof/trace":   func() req { return req{"/debug/pprof/trace?seconds=1", ""} },
		"GET /debug/pprof/symbol":  func() req { return req{"/debug/pprof/symbol", ""} },
		"/admin/v1/":               func() req { return req{"/admin/v1/nothing-here", ""} },
	}
	// What a permitted request answers when it is not a success.
	permitted := map[string]int{
		"POST /admin/v1/login":       400, // no credentials in the body: the route ran
		"POST /admin/v1/me/password": 400, // a token has no password
		"/admin/v1/":                 404,
		// Only the reviewer who fetched an item may complete or skip it;
		// one who did not is refused by the route, not by the role.
		"POST /admin/v1/review-queues/{name}/items/{id}/complete": 409,
		"POST /admin/v1/review-queues/{name}/items/{id}/skip":     409,
	}
	principals := map[string]*auth.Principal{
		"admin-token": auth.AdminTokenPrincipal(),
		"admin":       {Kind: auth.KindToken, Role: auth.RoleAdmin},
		"team_admin":  {Kind: auth.KindToken, Role: auth.RoleTeamAdmin, Team: "payments"},
		"developer":   {Kind: auth.KindToken, Role: auth.RoleDeveloper, Team: "payments"},
		"reviewer":    {Kind: auth.KindToken, Role: auth.RoleReviewer, Team: "payments"},
		"viewer":      {Kind: auth.KindToken, Role: auth.RoleViewer, Team: "payments"},
		"consumer":    {Kind: auth.KindToken, Role: auth.RoleConsumer, Consumer: "shop"},
	}
	routes := (&admin.Server{Metrics: http.NotFoundHandler()}).Routes()
	if len(routes) != len(cases) {
		t.Errorf("%d routes registered, %d in the matrix: every route needs a case", len(routes), len(cases))
	}
	for _, r := range routes {
		prepare, ok := cases[r.Pattern]
		if !ok {
			t.Errorf("route %q has no case in the matrix", r.Pattern)
			continue
		}
		method, _, found := strings.Cut(r.Pattern, " ")
		if !found {
			method = "GET"
		}
		spec, _ := r.Action.Spec()
		t.Run(r.Pattern+"/no credentials", func(t *testing.T) {
			q := prepare()
			code, b := e.as("", method, q.path, q.body)
			if public := spec.Scope == auth.ScopePublic; public == (code == 401) {
				t.Fatalf("status %d (public: %v): %.300s", code, public, b)
			}
		})
		for _, role := range []string{"admin-token", "admin", "team_admin", "developer", "reviewer", "viewer", "consumer"} {
			t.Run(r.Pattern+"/"+role, func(t *testing.T) {
				q := prepare()
				code, b := e.as(e.tokens[role], method, q.path, q.body, "Content-Type", "application/json")
				allowed := principals[role].Can(r.Action)
				switch {
				case !allowed && code != 403:
					t.Fatalf("%s may not %s, but got %d: %.300s", role, r.Action, code, b)
				case allowed && code >= 300 && code != permitted[r.Pattern]:
					t.Fatalf("%s may %s, but got %d: %.300s", role, r.Action, code, b)
				}
			})
		}
	}
	t.Run("a consumer asks for its own subscriptions only", func(t *testing.T) { consumerAsks(t, e, pending) })
}

// consumerAsks checks the scope of a consumer-bound principal in the
// approval flow: it may ask for its own application's subscriptions (shop)
// and keys, not for another application's, and it may not decide on any. pending
// makes a pending subscription of shop and returns its id.
func consumerAsks(t *testing.T, e *authEnv, pending func() string) {
	secret := e.tokens["consumer"]
	service := fresh("m")
	e.mustDo(201, "POST", "/admin/v1/services", fmt.Sprintf(
		`{"name":%q,"team":"payments","approval":"manual","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]},"routes":[{"path":"/%s"}]}`, service, service))
	ask := func(consumer string) string { return fmt.Sprintf(`{"consumer":%q,"service":%q}`, consumer, service) }
	var own string
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"for itself", "POST", "/admin/v1/subscriptions", ask("shop"), 201},
		{"for itself again", "POST", "/admin/v1/subscriptions", ask("shop"), 200},
		{"for another team's application", "POST", "/admin/v1/subscriptions", ask("other"), 404},
		{"for an application that does not exist", "POST", "/admin/v1/subscriptions", ask("ghost"), 404},
		{"a key for itself", "POST", "/admin/v1/consumers/shop/keys", `{"name":"portal"}`, 201},
		{"a key for another application", "POST", "/admin/v1/consumers/other/keys", `{"name":"portal"}`, 404},
		{"approve its own request", "POST", "/admin/v1/subscriptions/{own}/approve", "", 403},
		{"reject its own request", "POST", "/admin/v1/subscriptions/{own}/reject", `{"reason":"changed my mind"}`, 403},
		{"approve another pending request of its own", "POST", "/admin/v1/subscriptions/{pending}/approve", "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := strings.Replace(tc.path, "{own}", own, 1)
			if strings.Contains(path, "{pending}") {
				path = strings.Replace(path, "{pending}", pending(), 1)
			}
			code, b := e.as(secret, tc.method, path, tc.body, "Content-Type", "application/json")
			if code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, path, code, b, tc.want)
			}
			if tc.name == "for itself" {
				own = gjson.GetBytes(b, "id").Str
				if st, by := gjson.GetBytes(b, "state").Str, gjson.GetBytes(b, "requested_by").Str; st != "pending" || by != "token:consumer-bot" {
					t.Errorf("state %q requested by %q, want pending by token:consumer-bot", st, by)
				}
			}
		})
	}
	// Nothing was asked for the other application, and the request stays
	// pending until the service's team decides.
	var subs struct {
		Data []struct {
			Consumer, State string
		} `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/subscriptions?service="+service, "", &subs)
	if len(subs.Data) != 1 || subs.Data[0].Consumer != "shop" || subs.Data[0].State != "pending" {
		t.Errorf("subscriptions to %s: %+v, want shop's, pending", service, subs.Data)
	}
}

// TestAuthTeamIsolation checks that a team_admin of payments can neither
// read nor change what team search owns: consumers, keys, services' and
// consumers' calls, the team itself, its members and its audit entries.
func TestAuthTeamIsolation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { teamIsolation(t, startTeams(t, b.opt(t))) })
	}
}

func teamIsolation(t *testing.T, e *authEnv) {
	ta := e.tokens["team_admin"]
	otherKeyID := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/consumers/other/keys", `{"name":"k"}`), "id").Str
	shopKeyID := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/consumers/shop/keys", `{"name":"k"}`), "id").Str
	now := time.Now()
	// Calls: by consumer, and by service (a consumer of one team calling
	// a service of the other is seen by both teams).
	recs := []calllog.Record{
		{ID: "iso-shop", Time: now, Consumer: "shop", Endpoint: "/v1/chat/completions", Status: 200},
		{ID: "iso-other", Time: now, Consumer: "other", Endpoint: "/v1/chat/completions", Status: 200},
		{ID: "iso-other-pays", Time: now, Consumer: "other", Service: "pay-api", Endpoint: "/pay", Status: 200},
		{ID: "iso-shop-searches", Time: now, Consumer: "shop", Service: "search-api", Endpoint: "/search", Status: 200},
		{ID: "iso-anon-searches", Time: now, Service: "search-api", Endpoint: "/search", Status: 401},
	}
	if err := e.app.Store().InsertCalls(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	ids := func(b []byte, path string) []string {
		var out []string
		for _, v := range gjson.GetBytes(b, path).Array() {
			out = append(out, v.Str)
		}
		return out
	}
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		check                    func(t *testing.T, b []byte)
	}{
		{"list consumers", "GET", "/admin/v1/consumers", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.name"); len(got) != 1 || got[0] != "shop" {
				t.Errorf("consumers %v", got)
			}
		}},
		{"read another team's consumer", "GET", "/admin/v1/consumers/other", "", 404, nil},
		{"delete another team's consumer", "DELETE", "/admin/v1/consumers/other", "", 404, nil},
		{"create a key for another team's consumer", "POST", "/admin/v1/consumers/other/keys", "", 404, nil},
		{"create a consumer in another team", "POST", "/admin/v1/consumers", `{"name":"sneaky","team":"search"}`, 403, nil},
		{"create a consumer without a team lands in its own", "POST", "/admin/v1/consumers", `{"name":"mine"}`, 201, func(t *testing.T, b []byte) {
			if team := gjson.GetBytes(b, "team").Str; team != "payments" {
				t.Errorf("team %q", team)
			}
		}},
		{"list keys", "GET", "/admin/v1/keys", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.id"); len(got) != 1 || got[0] != shopKeyID {
				t.Errorf("keys %v", got)
			}
		}},
		{"list another team's keys", "GET", "/admin/v1/keys?consumer=other", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.id"); len(got) != 0 {
				t.Errorf("keys %v", got)
			}
		}},
		{"revoke another team's key", "DELETE", "/admin/v1/keys/" + otherKeyID, "", 404, nil},
		{"list calls", "GET", "/admin/v1/calls", "", 200, func(t *testing.T, b []byte) {
			got := strings.Join(ids(b, "data.#.id"), ",")
			if got != "iso-shop-searches,iso-shop,iso-other-pays" {
				t.Errorf("calls %s, want the team's consumer's calls and the calls to its service", got)
			}
		}},
		{"filter on another team's consumer", "GET", "/admin/v1/calls?consumer=other", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.id"); len(got) != 1 || got[0] != "iso-other-pays" {
				t.Errorf("calls %v, want only the one to its service", got)
			}
		}},
		{"filter on another team's service", "GET", "/admin/v1/calls?service=search-api", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.id"); len(got) != 1 || got[0] != "iso-shop-searches" {
				t.Errorf("calls %v, want only its consumer's", got)
			}
		}},
		{"read another team's call", "GET", "/admin/v1/calls/iso-other", "", 404, nil},
		{"read a call to another team's service", "GET", "/admin/v1/calls/iso-anon-searches", "", 404, nil},
		{"read a call to its service", "GET", "/admin/v1/calls/iso-other-pays", "", 200, nil},
		{"list teams", "GET", "/admin/v1/teams", "", 200, func(t *testing.T, b []byte) {
			if got := ids(b, "data.#.name"); len(got) != 1 || got[0] != "payments" {
				t.Errorf("teams %v", got)
			}
		}},
		{"read another team", "GET", "/admin/v1/teams/search", "", 404, nil},
		{"change another team", "PUT", "/admin/v1/teams/search", `{"description":"mine now"}`, 404, nil},
		{"list another team's members", "GET", "/admin/v1/teams/search/members", "", 404, nil},
		{"add a member to another team", "POST", "/admin/v1/teams/search/members", `{"user":"x@example.com","role":"viewer"}`, 404, nil},
		{"read the configuration", "GET", "/admin/v1/config", "", 403, nil},
		{"create a team", "POST", "/admin/v1/teams", `{"name":"mine"}`, 403, nil},
		{"read another team's audit entries", "GET", "/admin/v1/audit?team=search", "", 200, func(t *testing.T, b []byte) {
			if n := len(gjson.GetBytes(b, "data").Array()); n != 0 {
				t.Errorf("%d entries", n)
			}
		}},
		{"read the audit log", "GET", "/admin/v1/audit", "", 200, func(t *testing.T, b []byte) {
			for _, team := range ids(b, "data.#.team") {
				if team != "payments" {
					t.Errorf("an entry of team %q", team)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := e.as(ta, tc.method, tc.path, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, b)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
	// Nothing of team search changed.
	e.mustDo(200, "GET", "/admin/v1/consumers/other", "")
	if b := e.mustDo(200, "GET", "/admin/v1/teams/search", ""); gjson.GetBytes(b, "description").Str != "" {
		t.Errorf("team search changed: %s", b)
	}
	// A consumer token sees its own application only.
	code, b := e.as(e.tokens["consumer"], "GET", "/admin/v1/calls", "")
	if got := strings.Join(ids(b, "data.#.id"), ","); code != 200 || got != "iso-shop-searches,iso-shop" {
		t.Errorf("consumer token's calls: %d %s", code, got)
	}
}

// login signs in and returns the session cookie and CSRF token.
func (e *env) login(email, password string) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := http.Post(e.admin+"/admin/v1/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestLoginSessionAndThrottle(t *testing.T) {
	e := start(t, func(s *app.Settings) { s.SessionIdle = 2 * time.Second })
	const pw = "a long and secret passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"ana@example.com","role":"viewer","password":"`+pw+`"}`)

	resp, b := e.login("ANA@example.com", pw)
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == admin.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", cookie)
	}
	if !regexp.MustCompile(`(?i)Set-Cookie: hypergate_session=hgs-[A-Za-z0-9]+; Path=/; Expires=[^;]+; Max-Age=\d+; HttpOnly; SameSite=Lax`).
		MatchString("Set-Cookie: " + resp.Header.Get("Set-Cookie")) {
		t.Errorf("Set-Cookie %q", resp.Header.Get("Set-Cookie"))
	}
	session := gjson.GetBytes(b, "session_token").Str
	csrf := gjson.GetBytes(b, "csrf_token").Str
	withCookie := func(method, path, body string, hdr ...string) int {
		req, _ := http.NewRequest(method, e.admin+path, strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: admin.SessionCookie, Value: cookie.Value})
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := withCookie("GET", "/admin/v1/calls", ""); code != 200 {
		t.Fatalf("cookie read: %d", code)
	}
	if code, b := e.as(session, "GET", "/admin/v1/me", ""); code != 200 || gjson.GetBytes(b, "role").Str != "viewer" || gjson.GetBytes(b, "csrf_token").Str != csrf {
		t.Fatalf("bearer session /me: %d %s", code, b)
	}
	if code := withCookie("POST", "/admin/v1/consumers", `{"name":"x"}`, admin.CSRFHeader, csrf); code != 403 {
		t.Fatalf("a viewer's change: %d, want 403", code)
	}
	if code := withCookie("POST", "/admin/v1/logout", ""); code != 403 {
		t.Fatalf("cookie sign-out without the CSRF token: %d, want 403", code)
	}
	// Sliding idle timeout: used every second, the session lives on; left
	// alone for longer than two, it ends.
	for range 3 {
		time.Sleep(time.Second)
		if code, _ := e.as(session, "GET", "/admin/v1/me", ""); code != 200 {
			t.Fatalf("a session in use expired: %d", code)
		}
	}
	time.Sleep(2500 * time.Millisecond)
	if code, _ := e.as(session, "GET", "/admin/v1/me", ""); code != 401 {
		t.Fatalf("an idle session still works: %d", code)
	}
	// Sign-out ends the session.
	resp, b = e.login("ana@example.com", pw)
	session, csrf = gjson.GetBytes(b, "session_token").Str, gjson.GetBytes(b, "csrf_token").Str
	cookie.Value = session
	if code := withCookie("POST", "/admin/v1/logout", "", admin.CSRFHeader, csrf); code != 204 {
		t.Fatalf("sign-out: %d", code)
	}
	if code, _ := e.as(session, "GET", "/admin/v1/me", ""); code != 401 {
		t.Fatalf("a signed-out session still works: %d", code)
	}

	// Throttling per account: three failures lock it, even for the right
	// password, with a Retry-After.
	for i := range 3 {
		if resp, _ := e.login("ana@example.com", "wrong guess number"); resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, _ = e.login("ana@example.com", pw)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after three failures: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Per client address: failures over many accounts lock the address.
	locked := false
	for i := range 12 {
		if resp, _ := e.login(fmt.Sprintf("guess%d@example.com", i), "wrong guess number"); resp.StatusCode == 429 {
			locked = true
			break
		}
	}
	if !locked {
		t.Fatal("twelve failures from one address on twelve accounts were never throttled")
	}
	if strings.Contains(e.logs.String(), pw) || strings.Contains(e.logs.String(), "wrong guess number") {
		t.Fatal("a password reached the log")
	}
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	e := start(t)
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	e.adminDo("POST", "/admin/v1/tokens", `{"name":"short","role":"viewer","expires_in":"1s"}`, &tok)
	if code, _ := e.as(tok.Token, "GET", "/admin/v1/calls", ""); code != 200 {
		t.Fatalf("a fresh token: %d", code)
	}
	time.Sleep(1100 * time.Millisecond)
	if code, b := e.as(tok.Token, "GET", "/admin/v1/calls", ""); code != 401 || !strings.Contains(string(b), "expired") {
		t.Fatalf("an expired token: %d %s", code, b)
	}
	e.adminDo("POST", "/admin/v1/tokens", `{"name":"long","role":"viewer"}`, &tok)
	if code, _ := e.as(tok.Token, "GET", "/admin/v1/calls", ""); code != 200 {
		t.Fatalf("a token: %d", code)
	}
	e.mustDo(204, "DELETE", "/admin/v1/tokens/"+tok.ID, "")
	if code, b := e.as(tok.Token, "GET", "/admin/v1/calls", ""); code != 401 || !strings.Contains(string(b), "revoked") {
		t.Fatalf("a revoked token: %d %s", code, b)
	}
	var list struct {
		Data []auth.Token `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/tokens", "", &list)
	if len(list.Data) != 2 || list.Data[0].LastUsedAt == nil || list.Data[1].RevokedAt == nil {
		t.Fatalf("tokens %+v", list.Data)
	}
}

// TestAuditEveryChange makes every kind of change and finds each in the
// audit log, with no secret anywhere in it.
func TestAuditEveryChange(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { auditEveryChange(t, startTeams(t, b.opt(t))) })
	}
}

func auditEveryChange(t *testing.T, e *authEnv) {
	const pw = "audit trail passphrase"
	user := e.mustDo(201, "POST", "/admin/v1/users", `{"email":"rita@example.com","password":"`+pw+`"}`)
	uid := gjson.GetBytes(user, "id").Str
	e.mustDo(201, "POST", "/admin/v1/teams/payments/members", `{"user":"rita@example.com","role":"reviewer"}`)
	e.mustDo(204, "DELETE", "/admin/v1/teams/payments/members/"+uid, "")
	e.mustDo(200, "PUT", "/admin/v1/users/"+uid, `{"role":"viewer"}`)
	e.login("rita@example.com", pw)
	e.login("rita@example.com", "not the password")
	tok := e.mustDo(201, "POST", "/admin/v1/tokens", `{"name":"ci","role":"developer","team":"payments"}`)
	tokSecret := gjson.GetBytes(tok, "token").Str
	_, created := e.as(tokSecret, "POST", "/admin/v1/consumers", `{"name":"web"}`)
	if gjson.GetBytes(created, "name").Str != "web" {
		t.Fatalf("consumer created by the token: %s", created)
	}
	key := e.mustDo(201, "POST", "/admin/v1/consumers/web/keys", `{"name":"k"}`)
	keySecret := gjson.GetBytes(key, "key").Str
	e.mustDo(204, "DELETE", "/admin/v1/keys/"+gjson.GetBytes(key, "id").Str, "")
	e.mustDo(204, "DELETE", "/admin/v1/consumers/web", "")
	e.mustDo(201, "POST", "/admin/v1/teams", `{"name":"growth"}`)
	e.mustDo(200, "PUT", "/admin/v1/teams/growth", `{"description":"Experiments"}`)
	e.mustDo(204, "DELETE", "/admin/v1/teams/growth", "")
	e.mustDo(204, "DELETE", "/admin/v1/tokens/"+gjson.GetBytes(tok, "id").Str, "")
	e.mustDo(204, "DELETE", "/admin/v1/users/"+uid, "")
	e.mustDo(200, "POST", "/admin/v1/config/revisions/1/restore", "")
	// The CLI applies a file through the admin API.
	file := filepath.Join(t.TempDir(), "teams.yaml")
	if err := os.WriteFile(file, []byte(teamsConfig(e.env)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, e.env, "apply", "-f", file, "-m", "back to teams"); code != 0 {
		t.Fatalf("hypergate apply: %d %s %s", code, out, errs)
	}

	var page auth.AuditPage
	e.adminDo("GET", "/admin/v1/audit?limit=500", "", &page)
	type seen struct{ actor, action, target string }
	got := map[seen]auth.AuditEntry{}
	for _, en := range page.Entries {
		got[seen{en.Actor, en.Action, en.Target}] = en
	}
	want := []seen{
		{"config-file", "config.apply", "config"},
		{"admin-token", "config.apply", "config"}, // the teams configuration, and the CLI's apply
		{"admin-token", "token.create", ""},
		{"admin-token", "user.create", "user:" + uid},
		{"admin-token", "member.add", "user:" + uid},
		{"admin-token", "member.remove", "user:" + uid},
		{"admin-token", "user.update", "user:" + uid},
		{"user:rita@example.com", "login", "user:" + uid},
		{"anonymous", "login.failed", "user:rita@example.com"},
		{"token:ci", "consumer.create", "consumer:web"},
		{"admin-token", "key.create", ""},
		{"admin-token", "key.revoke", ""},
		{"admin-token", "consumer.delete", "consumer:web"},
		{"admin-token", "team.create", "team:growth"},
		{"admin-token", "team.update", "team:growth"},
		{"admin-token", "team.delete", "team:growth"},
		{"admin-token", "token.revoke", ""},
		{"admin-token", "user.delete", "user:" + uid},
		{"admin-token", "config.restore", "config"},
	}
	for _, w := range want {
		found := false
		for k := range got {
			if k.actor == w.actor && k.action == w.action && (w.target == "" || k.target == w.target) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry %+v", w)
		}
	}
	if en := got[seen{"config-file", "config.apply", "config"}]; !strings.Contains(en.Diff, "+ model gpt-4o-mini") {
		t.Errorf("the start-up entry lacks the diff: %+v", en)
	}
	for _, en := range page.Entries {
		if en.Actor != "config-file" && (en.RequestID == "" || en.ClientIP == "") {
			t.Errorf("entry without request id or client IP: %+v", en)
		}
	}
	raw, _ := json.Marshal(page)
	for _, secret := range []string{pw, "not the password", tokSecret, keySecret, adminToken, shopKey, upstreamKey, "argon2"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds a secret: %.12s…", secret)
		}
	}
	// Filters and a cursor.
	var filtered auth.AuditPage
	e.adminDo("GET", "/admin/v1/audit?action=team.&target=team:growth", "", &filtered)
	if len(filtered.Entries) != 3 || filtered.Entries[0].Action != "team.delete" {
		t.Errorf("team entries %+v", filtered.Entries)
	}
	var first, second auth.AuditPage
	e.adminDo("GET", "/admin/v1/audit?actor=admin-token&limit=2", "", &first)
	e.adminDo("GET", "/admin/v1/audit?actor=admin-token&limit=2&cursor="+url.QueryEscape(first.Next), "", &second)
	if len(first.Entries) != 2 || len(second.Entries) != 2 || first.Entries[1].ID == second.Entries[0].ID ||
		second.Entries[0].Time.After(first.Entries[1].Time) {
		t.Errorf("pages %+v then %+v", first.Entries, second.Entries)
	}
}
