package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// adminRecorder is an admin API stand-in that records each request and
// answers from a table keyed by "METHOD PATH" with the shapes of the real
// handlers.
type adminRecorder struct {
	requests []string
	bodies   []string
}

func (a *adminRecorder) serve(t *testing.T, answers map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.requests = append(a.requests, r.Method+" "+r.URL.RequestURI())
		a.bodies = append(a.bodies, string(b))
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer hga-cli-test-token-000" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"missing credentials"}}`)
			return
		}
		ans, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no service \"ghost\""}}`)
			return
		}
		status, body, _ := strings.Cut(ans, " ")
		switch status {
		case "200":
		case "201":
			w.WriteHeader(201)
		default:
			w.WriteHeader(409)
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("HYPERGATE_ADMIN_URL", srv.URL)
	t.Setenv("HYPERGATE_ADMIN_TOKEN", "hga-cli-test-token-000")
	return srv.URL
}

const (
	applied2 = `{"changed":true,"diff":["~ service orders-api: upstream.targets: [a] → [b]"],"revision":{"number":7},` +
		`"releases":[{"service":"orders-api","number":2,"state":"published","published":true,"revision":7,"author":"cli","created_at":"2026-05-01T10:00:00Z","diff":[]}]}`
	applied3 = `{"changed":true,"diff":["~ service orders-api: upstream.targets: [b] → [a]"],"revision":{"number":8},` +
		`"releases":[{"service":"orders-api","number":3,"state":"published","published":true,"revision":8,"author":"cli","created_at":"2026-05-01T10:01:00Z","diff":[]}]}`
	canaryMade = `{"changed":true,"diff":["~ service orders-api: canary: → release 4 at 10%"],"revision":{"number":9},` +
		`"releases":[{"service":"orders-api","number":4,"state":"published","published":false,"author":"cli","created_at":"2026-05-01T10:02:00Z","diff":[]},` +
		`{"service":"orders-api","number":5,"state":"published","published":true,"revision":9,"author":"cli","created_at":"2026-05-01T10:02:00Z","diff":[]}]}`
	unchangedResult = `{"changed":false,"diff":[]}`
	orders          = `{"service":{"name":"orders-api","team":"payments","approval":"manual","upstream":{"targets":[{"url":"http://127.0.0.1:9001","weight":1}],"timeout":"30s"},` +
		`"routes":[{"name":"list","path":"/orders"}],"policies":{"rate_limit":{"requests_per_minute":3}},"canary":{"release":4,"percent":10}},"release":3,"has_draft":true}`
	releaseList = `{"data":[{"service":"orders-api","number":4,"state":"published","published":false,"author":"cli","message":"try b","created_at":"2026-05-01T10:02:00Z","diff":["~ b"]},` +
		`{"service":"orders-api","number":3,"state":"published","published":true,"revision":8,"author":"cli","message":"back","created_at":"2026-05-01T10:01:00Z","diff":["~ a"]},` +
		`{"service":"orders-api","number":1,"state":"published","published":true,"revision":5,"author":"config-file","created_at":"2026-05-01T09:00:00Z","diff":["+ service orders-api"]}]}`
	pendingSub     = `{"id":"sub_1","consumer":"web-shop","service":"orders-api","state":"pending","source":"api","requested_by":"admin-token","created_at":"2026-05-01T10:00:00Z","updated_at":"2026-05-01T10:00:00Z"}`
	approvedSub    = `{"id":"sub_1","consumer":"web-shop","service":"orders-api","state":"approved","source":"api","requested_by":"admin-token","decided_by":"token:ci","reason":"welcome","created_at":"2026-05-01T10:00:00Z","updated_at":"2026-05-01T10:05:00Z"}`
	revokedSub     = `{"id":"sub_1","consumer":"web-shop","service":"orders-api","state":"revoked","source":"api","reason":"contract ended","created_at":"2026-05-01T10:00:00Z","updated_at":"2026-05-01T10:09:00Z"}`
	catalogEntries = `{"data":[{"name":"orders-api","team":"payments","kind":"rest","description":"Orders of the shop","tags":["orders"],"state":"published","approval":"manual","public":false,"subscribed":false,` +
		`"subscriptions":[` + pendingSub + `]},{"name":"status","kind":"rest","tags":[],"state":"deprecated","approval":"auto","public":true,"subscribed":true,"subscriptions":[]}]}`
	rotated = `{"id":"key_2","consumer":"web-shop","name":"default","prefix":"hg-abcdef","created_at":"2026-05-01T10:00:00Z","key":"hg-new-secret",` +
		`"warning":"this is the only time the key is shown","replaces":{"id":"key_1","consumer":"web-shop","name":"default","prefix":"hg-012345","created_at":"2026-04-01T10:00:00Z","expires_at":"2026-05-02T10:00:00Z"}}`
)

// TestGovernanceCommands runs the services, subscriptions, catalog and
// keys rotate commands against a recording admin API: the requests and
// bodies each sends, its exit code and what it prints.
func TestGovernanceCommands(t *testing.T) {
	var rec adminRecorder
	rec.serve(t, map[string]string{
		"GET /admin/v1/services":                                 `200 {"data":[` + orders + `]}`,
		"GET /admin/v1/services/orders-api":                      "200 " + orders,
		"PUT /admin/v1/services/orders-api/draft":                `200 {"service":"orders-api","team":"payments","base":1,"author":"cli","updated_at":"2026-05-01T10:00:00Z","definition":{}}`,
		"POST /admin/v1/services/orders-api/publish":             "200 " + applied2,
		"POST /admin/v1/services/canaried/publish":               "200 " + strings.ReplaceAll(canaryMade, "orders-api", "canaried"),
		"POST /admin/v1/services/same/publish":                   "200 " + unchangedResult,
		"GET /admin/v1/services/orders-api/releases":             "200 " + releaseList,
		"POST /admin/v1/services/orders-api/releases/1/rollback": "200 " + applied3,
		"POST /admin/v1/services/orders-api/deprecate":           "200 " + applied2,
		"POST /admin/v1/services/orders-api/retire":              "200 " + applied3,
		"POST /admin/v1/services/taken/publish":                  `409 {"error":{"code":"conflict","message":"service \"taken\" is not published yet: a canary needs a published definition"}}`,
		"GET /admin/v1/subscriptions":                            `200 {"data":[` + approvedSub + `]}`,
		"POST /admin/v1/subscriptions":                           "201 " + pendingSub,
		"POST /admin/v1/subscriptions/sub_1/approve":             "200 " + approvedSub,
		"POST /admin/v1/subscriptions/sub_1/reject":              "200 " + strings.Replace(revokedSub, "revoked", "rejected", 1),
		"POST /admin/v1/subscriptions/sub_1/revoke":              "200 " + revokedSub,
		"GET /admin/v1/catalog":                                  "200 " + catalogEntries,
		"POST /admin/v1/consumers/web-shop/keys/key_1/rotate":    "201 " + rotated,
	})
	dir := t.TempDir()
	draftYAML := filepath.Join(dir, "orders.yaml")
	os.WriteFile(draftYAML, []byte("team: payments\napproval: manual\nupstream:\n  targets: [ { url: \"http://127.0.0.1:9002\" } ]\n  timeout: 10s\nroutes: [ { name: list, path: /orders } ]\npolicies: { rate_limit: { requests_per_minute: 3 } }\n"), 0o600)
	draftJSONFile := filepath.Join(dir, "orders.json")
	os.WriteFile(draftJSONFile, []byte("{\n\t\"upstream\": {\"targets\": [{\"url\": \"http://127.0.0.1:9002\"}]},\n\t\"routes\": [{\"path\": \"/orders\"}]\n}\n"), 0o600)
	misspelt := filepath.Join(dir, "bad.yaml")
	os.WriteFile(misspelt, []byte("team: payments\nupstreams:\n  targets: []\n"), 0o600)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		reqs   []string // the requests sent, in order
		body   string   // a substring of the last request's body
		out    string   // a substring of stdout
		errOut string   // a substring of stderr
	}{
		{name: "services list", args: []string{"services", "list"}, reqs: []string{"GET /admin/v1/services"},
			out: "orders-api  payments  rest  published  manual    3        yes    /orders"},
		{name: "services list --json", args: []string{"services", "list", "--json"}, reqs: []string{"GET /admin/v1/services"},
			out: `"has_draft": true`},
		{name: "services get", args: []string{"services", "get", "orders-api"}, reqs: []string{"GET /admin/v1/services/orders-api"},
			out: "# service orders-api: release 3, published, release 4 takes 10% of the calls as a canary\n# a draft is saved"},
		{name: "services get prints the definition", args: []string{"services", "get", "orders-api"}, reqs: []string{"GET /admin/v1/services/orders-api"},
			out: "\n  timeout: 30s\nroutes:\n  - name: list\n    path: /orders\n"},
		{name: "services get without a name", args: []string{"services", "get"}, code: 2, errOut: "usage: hypergate services get NAME"},
		{name: "services get of an unknown service", args: []string{"services", "get", "ghost"}, code: 1,
			reqs: []string{"GET /admin/v1/services/ghost"}, errOut: `hypergate services get: no service "ghost" (HTTP 404)`},
		{name: "services publish a YAML draft", args: []string{"services", "publish", "orders-api", "-f", draftYAML, "-m", "move to b"},
			reqs: []string{"PUT /admin/v1/services/orders-api/draft", "POST /admin/v1/services/orders-api/publish"},
			body: `{"message":"move to b"}`, out: "~ service orders-api: upstream.targets: [a] → [b]\npublished release 2 of service orders-api (configuration revision 7)"},
		{name: "services publish a JSON draft, flags first", args: []string{"services", "publish", "-f", draftJSONFile, "orders-api"},
			reqs: []string{"PUT /admin/v1/services/orders-api/draft", "POST /admin/v1/services/orders-api/publish"}, body: `{}`, out: "published release 2"},
		{name: "services publish the saved draft", args: []string{"services", "publish", "orders-api"},
			reqs: []string{"POST /admin/v1/services/orders-api/publish"}, out: "published release 2"},
		{name: "services publish as a canary", args: []string{"services", "publish", "canaried", "--canary", "10"},
			reqs: []string{"POST /admin/v1/services/canaried/publish"}, body: `{"canary_percent":10}`,
			out: "release 4 of service canaried takes 10% of the calls as a canary (configuration revision 9); promote it with 'hypergate services rollback canaried 4'"},
		{name: "services publish changes nothing", args: []string{"services", "publish", "same"},
			reqs: []string{"POST /admin/v1/services/same/publish"}, out: "no changes"},
		{name: "services publish refused", args: []string{"services", "publish", "taken", "--canary", "5"}, code: 1,
			reqs: []string{"POST /admin/v1/services/taken/publish"}, errOut: "a canary needs a published definition (HTTP 409)"},
		{name: "services publish a misspelt draft", args: []string{"services", "publish", "orders-api", "-f", misspelt}, code: 2,
			errOut: "line 2: field upstreams not found"},
		{name: "services publish a missing file", args: []string{"services", "publish", "orders-api", "-f", filepath.Join(dir, "nope.yaml")}, code: 2,
			errOut: "no such file"},
		{name: "services releases", args: []string{"services", "releases", "orders-api", "--diff"},
			reqs: []string{"GET /admin/v1/services/orders-api/releases?limit=20", "GET /admin/v1/services/orders-api"},
			out:  "  ~ b\n3 "},
		{name: "services releases marks the published one", args: []string{"services", "releases", "orders-api"},
			reqs: []string{"GET /admin/v1/services/orders-api/releases?limit=20", "GET /admin/v1/services/orders-api"},
			out:  "3        published  90% of calls  8         2026-05-01T10:01:00Z  cli          back\n1        published  -"},
		{name: "services rollback", args: []string{"services", "rollback", "orders-api", "1", "-m", "b is slow"},
			reqs: []string{"POST /admin/v1/services/orders-api/releases/1/rollback"}, body: `{"message":"b is slow"}`,
			out: "service orders-api rolled back to release 1, published again as release 3 (configuration revision 8)"},
		{name: "services rollback to a word", args: []string{"services", "rollback", "orders-api", "latest"}, code: 2, errOut: `"latest" is not a release number`},
		{name: "services rollback without a release", args: []string{"services", "rollback", "orders-api"}, code: 2, errOut: "usage: hypergate services rollback NAME RELEASE"},
		{name: "services deprecate", args: []string{"services", "deprecate", "orders-api", "--sunset", "2027-01-31T00:00:00Z"},
			reqs: []string{"POST /admin/v1/services/orders-api/deprecate"}, body: `{"sunset":"2027-01-31T00:00:00Z"}`,
			out: "service orders-api is deprecated, sunset 2027-01-31T00:00:00Z"},
		{name: "services deprecate with a bad sunset", args: []string{"services", "deprecate", "orders-api", "--sunset", "next year"}, code: 2, errOut: "not an RFC 3339 time"},
		{name: "services retire", args: []string{"services", "retire", "orders-api"},
			reqs: []string{"POST /admin/v1/services/orders-api/retire"}, body: `{}`, out: "service orders-api is retired: its routes answer 410 Gone"},
		{name: "services retire takes no sunset", args: []string{"services", "retire", "orders-api", "--sunset", "2027-01-31T00:00:00Z"}, code: 2},
		{name: "services unknown subcommand", args: []string{"services", "delete", "x"}, code: 2, errOut: "unknown subcommand"},
		{name: "services alone", args: []string{"services"}, code: 2, errOut: "usage: hypergate services list"},
		{name: "services help", args: []string{"services", "list", "-h"}, code: 0, errOut: "-json"},

		{name: "catalog", args: []string{"catalog", "--tag", "orders"}, reqs: []string{"GET /admin/v1/catalog?tag=orders"},
			out: "orders-api  payments  rest  published   manual    web-shop:pending  orders  Orders of the shop"},
		{name: "catalog shows public services", args: []string{"catalog"}, reqs: []string{"GET /admin/v1/catalog"}, out: "status      -         rest  deprecated  auto      public"},

		{name: "subscriptions list", args: []string{"subscriptions", "list", "--state", "approved", "--service", "orders-api"},
			reqs: []string{"GET /admin/v1/subscriptions?service=orders-api&state=approved"},
			out:  "sub_1  web-shop  orders-api  approved  api     2026-05-01T10:05:00Z  token:ci  welcome"},
		{name: "subscriptions request", args: []string{"subscriptions", "request", "--consumer", "web-shop", "--service", "orders-api"},
			reqs: []string{"POST /admin/v1/subscriptions"}, body: `{"consumer":"web-shop","service":"orders-api"}`,
			out: "subscription sub_1 of consumer web-shop to service orders-api is pending"},
		{name: "subscriptions request --json", args: []string{"subscriptions", "request", "--consumer", "web-shop", "--service", "orders-api", "--json"},
			reqs: []string{"POST /admin/v1/subscriptions"}, out: `"state": "pending"`},
		{name: "subscriptions request without a service", args: []string{"subscriptions", "request", "--consumer", "web-shop"}, code: 2, errOut: "--consumer and --service are required"},
		{name: "subscriptions approve", args: []string{"subscriptions", "approve", "sub_1"},
			reqs: []string{"POST /admin/v1/subscriptions/sub_1/approve"}, body: "", out: "subscription sub_1 approved: consumer web-shop may call service orders-api"},
		{name: "subscriptions approve with a reason", args: []string{"subscriptions", "approve", "sub_1", "--reason", "welcome"},
			reqs: []string{"POST /admin/v1/subscriptions/sub_1/approve"}, body: `{"reason":"welcome"}`, out: "approved"},
		{name: "subscriptions reject", args: []string{"subscriptions", "reject", "sub_1", "--reason", "internal only"},
			reqs: []string{"POST /admin/v1/subscriptions/sub_1/reject"}, body: `{"reason":"internal only"}`, out: "subscription sub_1 rejected"},
		{name: "subscriptions reject without a reason", args: []string{"subscriptions", "reject", "sub_1"}, code: 2, errOut: "--reason is required"},
		{name: "subscriptions revoke", args: []string{"subscriptions", "revoke", "--reason", "contract ended", "sub_1"},
			reqs: []string{"POST /admin/v1/subscriptions/sub_1/revoke"}, out: "subscription sub_1 revoked: consumer web-shop may not call service orders-api (contract ended)"},
		{name: "subscriptions unknown subcommand", args: []string{"subscriptions", "cancel", "sub_1"}, code: 2, errOut: "unknown subcommand"},

		{name: "keys rotate", args: []string{"keys", "rotate", "--consumer", "web-shop", "key_1", "--grace", "1d"},
			reqs: []string{"POST /admin/v1/consumers/web-shop/keys/key_1/rotate"}, body: `{"grace":"1d"}`,
			out: "hg-new-secret\n", errOut: "key key_2 replaces key key_1 of consumer \"web-shop\", which works until 2026-05-02T10:00:00Z"},
		{name: "keys rotate with the default grace", args: []string{"keys", "rotate", "--consumer", "web-shop", "key_1"},
			reqs: []string{"POST /admin/v1/consumers/web-shop/keys/key_1/rotate"}, body: `{}`, out: "hg-new-secret"},
		{name: "keys rotate with a bad grace", args: []string{"keys", "rotate", "--consumer", "web-shop", "key_1", "--grace", "a while"}, code: 2, errOut: "--grace: invalid duration"},
		{name: "keys rotate without a consumer", args: []string{"keys", "rotate", "key_1"}, code: 2, errOut: "--consumer is required"},
		{name: "keys rotate of an unknown key", args: []string{"keys", "rotate", "--consumer", "web-shop", "key_9"}, code: 1,
			reqs: []string{"POST /admin/v1/consumers/web-shop/keys/key_9/rotate"}, errOut: "(HTTP 404)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.requests, rec.bodies = nil, nil
			var out, errb bytes.Buffer
			code := Main(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !reflect.DeepEqual(rec.requests, tc.reqs) {
				t.Fatalf("requests %q, want %q", rec.requests, tc.reqs)
			}
			if tc.body != "" && rec.bodies[len(rec.bodies)-1] != tc.body {
				t.Errorf("body %s, want %s", rec.bodies[len(rec.bodies)-1], tc.body)
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout lacks %q:\n%s", tc.out, out.String())
			}
			if !strings.Contains(errb.String(), tc.errOut) {
				t.Errorf("stderr lacks %q:\n%s", tc.errOut, errb.String())
			}
		})
	}

	// The draft went as JSON: YAML converted, JSON as written.
	rec.requests, rec.bodies = nil, nil
	Main([]string{"services", "publish", "orders-api", "-f", draftYAML}, io.Discard, io.Discard)
	var sent map[string]any
	if err := json.Unmarshal([]byte(rec.bodies[0]), &sent); err != nil {
		t.Fatalf("the draft went as %s: %v", rec.bodies[0], err)
	}
	if up := sent["upstream"].(map[string]any); up["timeout"] != "10s" || sent["approval"] != "manual" {
		t.Errorf("the draft went as %s", rec.bodies[0])
	}
	rec.requests, rec.bodies = nil, nil
	Main([]string{"services", "publish", "orders-api", "-f", draftJSONFile}, io.Discard, io.Discard)
	if want, _ := os.ReadFile(draftJSONFile); rec.bodies[0] != strings.TrimSpace(string(want)) {
		t.Errorf("the JSON draft went as %s", rec.bodies[0])
	}
}

func TestDraftJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "yaml", in: "description: Orders\nupstream: { targets: [ { url: \"http://a\" } ] }\nroutes: [ { path: /orders } ]\n",
			want: `{"name":"","description":"Orders","upstream":{"targets":[{"url":"http://a"}]},"routes":[{"path":"/orders"}]}`},
		{name: "json as it is", in: "  {\"routes\": [{\"path\": \"/x\"}], \"extra\": 1}\n", want: `{"routes": [{"path": "/x"}], "extra": 1}`},
		{name: "broken json", in: `{"routes": [`, err: "reading the JSON definition"},
		{name: "unknown key", in: "name: x\nroutse: []\n", err: "line 2: field routse not found"},
		{name: "wrong type", in: "tags: orders\n", err: "reading the YAML definition"},
		{name: "a whole declarative file", in: "teams: [ { name: payments } ]\nservices:\n  - name: x\n", err: "this is a declarative file"},
		{name: "empty", in: "\n\n", err: "the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := draftJSON([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("draftJSON = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		pos  []string
		m    string
	}{
		{"flags last", []string{"orders-api", "1", "-m", "why"}, []string{"orders-api", "1"}, "why"},
		{"flags first", []string{"-m", "why", "orders-api", "1"}, []string{"orders-api", "1"}, "why"},
		{"flags between", []string{"orders-api", "-m", "why", "1"}, []string{"orders-api", "1"}, "why"},
		{"no flags", []string{"orders-api"}, []string{"orders-api"}, ""},
		{"after --", []string{"-m", "why", "--", "-odd-name", "-m"}, []string{"-odd-name", "-m"}, "why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			m := fs.String("m", "", "")
			pos, err := parseInterspersed(fs, tc.args)
			if err != nil || !reflect.DeepEqual(pos, tc.pos) || *m != tc.m {
				t.Fatalf("got %q, -m %q, %v; want %q, -m %q", pos, *m, err, tc.pos, tc.m)
			}
		})
	}
}
