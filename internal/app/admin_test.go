package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/cli"
)

func TestAdminAPI(t *testing.T) {
	e := start(t)
	for i := 0; i < 5; i++ {
		e.do("POST", "/v1/chat/completions", shopKey, chatBody, "X-Request-Id", fmt.Sprintf("adm-shop-%d", i))
	}
	e.do("POST", "/v1/chat/completions", otherKey, chatBody, "X-Request-Id", "adm-other")
	e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "gpt-9", 1), "X-Request-Id", "adm-404")
	e.call("adm-404")
	e.call("adm-other")
	for i := 0; i < 5; i++ {
		e.call(fmt.Sprintf("adm-shop-%d", i))
	}

	raw := func(method, path, token, body string) (int, []byte) {
		req, _ := http.NewRequest(method, e.admin+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		check  func(t *testing.T, b []byte)
	}{
		{"no token", "GET", "/admin/v1/calls", "", "", 401, nil},
		{"wrong token", "GET", "/admin/v1/calls", "hga-wrong-token-000000000", "", 401, nil},
		{"healthz needs no token", "GET", "/healthz", "", "", 200, nil},
		{"readyz", "GET", "/readyz", "", "", 200, nil},
		{"metrics", "GET", "/metrics", "", "", 200, func(t *testing.T, b []byte) {
			for _, m := range []string{"hypergate_requests_total", "gen_ai_server_request_duration_seconds", "gen_ai_client_token_usage", "hypergate_calllog_queue_depth", `hypergate_calllog_records_total{outcome="spilled"}`} {
				if !bytes.Contains(b, []byte(m)) {
					t.Errorf("metrics lack %s", m)
				}
			}
		}},
		{"openapi document", "GET", "/admin/v1/openapi.json", "", "", 200, func(t *testing.T, b []byte) {
			if !gjson.ValidBytes(b) || !gjson.GetBytes(b, `paths./admin/v1/calls`).Exists() {
				t.Errorf("openapi.json lacks /admin/v1/calls")
			}
		}},
		{"filter by consumer", "GET", "/admin/v1/calls?consumer=other", adminToken, "", 200, func(t *testing.T, b []byte) {
			if ids := gjson.GetBytes(b, "data.#.id").Array(); len(ids) != 1 || ids[0].Str != "adm-other" {
				t.Errorf("ids = %v", ids)
			}
		}},
		{"filter by status", "GET", "/admin/v1/calls?status=404", adminToken, "", 200, func(t *testing.T, b []byte) {
			if ids := gjson.GetBytes(b, "data.#.id").Array(); len(ids) != 1 || ids[0].Str != "adm-404" {
				t.Errorf("ids = %v", ids)
			}
		}},
		{"filter by model and time", "GET", "/admin/v1/calls?model=gpt-4o-mini&since=2000-01-01T00:00:00Z", adminToken, "", 200, func(t *testing.T, b []byte) {
			if n := len(gjson.GetBytes(b, "data").Array()); n != 6 {
				t.Errorf("%d calls, want 6", n)
			}
		}},
		{"bad status filter", "GET", "/admin/v1/calls?status=abc", adminToken, "", 400, nil},
		{"bad limit", "GET", "/admin/v1/calls?limit=9999", adminToken, "", 400, nil},
		{"bad time", "GET", "/admin/v1/calls?since=yesterday", adminToken, "", 400, nil},
		{"bad cursor", "GET", "/admin/v1/calls?cursor=bm90LWEtY3Vyc29y", adminToken, "", 400, nil},
		{"one call with bodies", "GET", "/admin/v1/calls/adm-shop-0", adminToken, "", 200, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "request_body").Str == "" || !gjson.GetBytes(b, "feedback").IsArray() {
				t.Errorf("call = %s", b)
			}
		}},
		{"unknown call", "GET", "/admin/v1/calls/nope", adminToken, "", 404, nil},
		{"consumers", "GET", "/admin/v1/consumers", adminToken, "", 200, func(t *testing.T, b []byte) {
			if n := len(gjson.GetBytes(b, "data").Array()); n != 2 {
				t.Errorf("%d consumers", n)
			}
			if bytes.Contains(b, []byte(shopKey)) {
				t.Error("a key's secret is shown")
			}
		}},
		{"one consumer", "GET", "/admin/v1/consumers/shop", adminToken, "", 200, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "keys.0.ref").Str != "env:TEST_SHOP_KEY" {
				t.Errorf("consumer = %s", b)
			}
		}},
		{"unknown consumer", "GET", "/admin/v1/consumers/nobody", adminToken, "", 404, nil},
		{"create consumer with a bad model", "POST", "/admin/v1/consumers", adminToken, `{"name":"bad","models":["nope"]}`, 422, func(t *testing.T, b []byte) {
			if !strings.Contains(gjson.GetBytes(b, "error.message").Str, "nope") {
				t.Errorf("error does not name the model: %s", b)
			}
		}},
		{"create consumer with unknown field", "POST", "/admin/v1/consumers", adminToken, `{"name":"x","colour":"red"}`, 400, nil},
		{"create existing consumer", "POST", "/admin/v1/consumers", adminToken, `{"name":"shop"}`, 409, nil},
		{"unknown endpoint", "GET", "/admin/v1/nothing", adminToken, "", 404, nil},
		{"dry_run must be a boolean", "PUT", "/admin/v1/config?dry_run=yes", adminToken, "providers: []\n", 400, nil},
		{"key without a body gets the default name", "POST", "/admin/v1/consumers/shop/keys", adminToken, "", 201, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "name").Str != "default" || !strings.HasPrefix(gjson.GetBytes(b, "key").Str, "hg-") {
				t.Errorf("key = %s", b)
			}
		}},
		{"revision list", "GET", "/admin/v1/config/revisions", adminToken, "", 200, func(t *testing.T, b []byte) {
			if gjson.GetBytes(b, "data.0.number").Int() != 1 || !strings.Contains(gjson.GetBytes(b, "data.0.diff").Str, "+ provider fake") {
				t.Errorf("revisions = %s", b)
			}
		}},
		{"unknown revision", "GET", "/admin/v1/config/revisions/99", adminToken, "", 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := raw(tc.method, tc.path, tc.token, tc.body)
			if st != tc.status {
				t.Fatalf("status = %d, want %d: %s", st, tc.status, b)
			}
			if st >= 400 && gjson.GetBytes(b, "error.message").Str == "" && tc.path != "/healthz" {
				t.Errorf("error without a message: %s", b)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}

	t.Run("cursor pagination walks every call once", func(t *testing.T) {
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			st, b := raw("GET", "/admin/v1/calls?limit=2&cursor="+cursor, adminToken, "")
			if st != 200 {
				t.Fatalf("status %d: %s", st, b)
			}
			pages++
			for _, id := range gjson.GetBytes(b, "data.#.id").Array() {
				if seen[id.Str] {
					t.Fatalf("%s seen twice", id.Str)
				}
				seen[id.Str] = true
			}
			if cursor = gjson.GetBytes(b, "next_cursor").Str; cursor == "" {
				break
			}
		}
		if len(seen) != 7 || pages != 4 {
			t.Errorf("%d calls over %d pages, want 7 over 4", len(seen), pages)
		}
	})

	t.Run("key lifecycle", func(t *testing.T) {
		st, b := raw("POST", "/admin/v1/consumers", adminToken, `{"name":"newapp","models":["gpt-4o-mini"]}`)
		if st != 201 {
			t.Fatalf("create consumer: %d %s", st, b)
		}
		st, b = raw("POST", "/admin/v1/consumers/newapp/keys", adminToken, `{"name":"ci"}`)
		if st != 201 {
			t.Fatalf("create key: %d %s", st, b)
		}
		secret, id := gjson.GetBytes(b, "key").Str, gjson.GetBytes(b, "id").Str
		if !strings.HasPrefix(secret, "hg-") || gjson.GetBytes(b, "hash").Exists() {
			t.Fatalf("key answer = %s", b)
		}
		if resp, body := e.do("POST", "/v1/chat/completions", secret, chatBody); resp.StatusCode != 200 {
			t.Fatalf("new key rejected: %d %s", resp.StatusCode, body)
		}
		if resp, _ := e.do("POST", "/v1/chat/completions", secret, strings.Replace(chatBody, "gpt-4o-mini", "embed", 1)); resp.StatusCode != 403 {
			t.Errorf("allow-list not applied to the new consumer: %d", resp.StatusCode)
		}
		st, b = raw("GET", "/admin/v1/keys?consumer=newapp", adminToken, "")
		if st != 200 || bytes.Contains(b, []byte(secret)) || gjson.GetBytes(b, "data.#").Int() != 1 {
			t.Errorf("list keys: %d %s", st, b)
		}
		if st, b = raw("DELETE", "/admin/v1/keys/"+id, adminToken, ""); st != 204 {
			t.Fatalf("revoke: %d %s", st, b)
		}
		if resp, _ := e.do("POST", "/v1/chat/completions", secret, chatBody); resp.StatusCode != 401 {
			t.Errorf("revoked key still works: %d", resp.StatusCode)
		}
		if st, _ := raw("DELETE", "/admin/v1/keys/"+id+"x", adminToken, ""); st != 404 {
			t.Errorf("revoking an unknown key: %d", st)
		}
		if st, _ := raw("DELETE", "/admin/v1/consumers/newapp", adminToken, ""); st != 204 {
			t.Errorf("delete consumer: %d", st)
		}
	})
}

// runCLI runs the hypergate command line in-process against e.
func runCLI(t *testing.T, e *env, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HYPERGATE_ADMIN_URL", e.admin)
	t.Setenv("HYPERGATE_ADMIN_TOKEN", adminToken)
	var out, errb bytes.Buffer
	code := cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestApplyDiffAndRevisions(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	live := fmt.Sprintf(baseConfig, e.up.BaseURL())
	same := write("same.yaml", live)
	changed := write("changed.yaml", strings.Replace(live, "  - { name: slow, targets: [ { provider: fake } ], timeout: 1s }\n",
		"  - name: fresh\n    targets: [ { provider: fake, model: gpt-4o } ]\n", 1))
	bad := write("bad.yaml", strings.Replace(live, "consumers:\n", "  - name: broken\n    targets: [ { provider: missing } ]\nconsumers:\n", 1))
	unknown := write("unknown.yaml", "providers:\n  - name: x\n    type: openai\n    colour: red\n")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		outHas string
		errHas string
	}{
		{"diff without drift", []string{"diff", "-f", same}, 0, "no drift", ""},
		{"diff with drift", []string{"diff", "-f", changed}, 1, "+ model fresh", ""},
		{"diff names the removed model", []string{"diff", "-f", changed}, 1, "- model slow", ""},
		{"diff of an invalid file names the line", []string{"diff", "-f", bad}, 2, "", "line"},
		{"diff of an unknown key names it", []string{"diff", "-f", unknown}, 2, "", "colour"},
		{"diff without -f", []string{"diff"}, 2, "", "-f"},
		{"apply", []string{"apply", "-f", changed, "-m", "add fresh"}, 0, "applied as revision 2", ""},
		{"apply again changes nothing", []string{"apply", "-f", changed}, 0, "no changes", ""},
		{"diff after apply", []string{"diff", "-f", changed}, 0, "no drift", ""},
		{"apply an invalid file", []string{"apply", "-f", bad}, 1, "", "unknown provider"},
		{"version", []string{"version"}, 0, "hypergate", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, e, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.outHas) || !strings.Contains(errOut, tc.errHas) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	if resp, body := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "fresh", 1)); resp.StatusCode != 200 {
		t.Errorf("applied model not in service: %d %s", resp.StatusCode, body)
	}
	var rev struct {
		Number  int64  `json:"number"`
		Message string `json:"message"`
		Author  string `json:"author"`
		Diff    string `json:"diff"`
		Config  json.RawMessage
	}
	e.adminDo("GET", "/admin/v1/config/revisions/2", "", &rev)
	if rev.Message != "add fresh" || !strings.HasPrefix(rev.Author, "admin-api:cli:") || !strings.Contains(rev.Diff, "+ model fresh") || len(rev.Config) == 0 {
		t.Errorf("revision 2 = %+v", rev)
	}
	if bytes.Contains(rev.Config, []byte(upstreamKey)) {
		t.Error("a revision holds a secret in clear")
	}
	// Restoring revision 1 is itself a new revision.
	var res struct {
		Revision struct{ Number int64 } `json:"revision"`
	}
	if st := e.adminDo("POST", "/admin/v1/config/revisions/1/restore", "", &res); st != 200 || res.Revision.Number != 3 {
		t.Errorf("restore: %d %+v", st, res)
	}
	if code, out, _ := runCLI(t, e, "diff", "-f", same); code != 0 {
		t.Errorf("after restoring revision 1 the original file should match: %s", out)
	}
	// The restored configuration survives a restart without --config.
	e.stop()
	e.settings.ConfigFile = ""
	e.boot()
	if resp, _ := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "fresh", 1)); resp.StatusCode != 404 {
		t.Errorf("model from a superseded revision still served after restart: %d", resp.StatusCode)
	}
}

func TestKeysCLI(t *testing.T) {
	e := start(t)
	code, out, errOut := runCLI(t, e, "keys", "create", "--consumer", "shop", "--name", "laptop")
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	secret := strings.TrimSpace(out)
	if resp, _ := e.do("POST", "/v1/chat/completions", secret, chatBody); resp.StatusCode != 200 {
		t.Fatalf("created key rejected: %d", resp.StatusCode)
	}
	code, out, _ = runCLI(t, e, "keys", "list", "--consumer", "shop")
	if code != 0 || !strings.Contains(out, "laptop") || strings.Contains(out, secret) {
		t.Errorf("keys list: %d %s", code, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, _, errOut := runCLI(t, e, "keys", "revoke", id); code != 0 {
		t.Fatalf("keys revoke: %s", errOut)
	}
	if resp, _ := e.do("POST", "/v1/chat/completions", secret, chatBody); resp.StatusCode != 401 {
		t.Errorf("revoked key still works: %d", resp.StatusCode)
	}
	if code, _, errOut := runCLI(t, e, "keys", "create", "--consumer", "nobody"); code != 1 || !strings.Contains(errOut, "nobody") {
		t.Errorf("key for unknown consumer: %d %s", code, errOut)
	}
}
