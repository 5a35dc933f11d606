package app_test

import (
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

// revisionField is the hidden field naming the revision a form was
// rendered from.
var revisionField = regexp.MustCompile(`name="revision" value="(\d+)"`)

func formRevisionOf(t *testing.T, page string) string {
	t.Helper()
	m := revisionField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no revision field in %s", page)
	}
	return m[1]
}

// secretField is the read-only field that shows a new key once.
var secretField = regexp.MustCompile(`<input id="secret" class="secret" value="([^"]+)"`)

// liveConfig reads the configuration in service through the admin API.
func (e *env) liveConfig() (int64, *config.Config) {
	e.t.Helper()
	var cur struct {
		Revision int64           `json:"revision"`
		Config   json.RawMessage `json:"config"`
	}
	if code := e.adminDo("GET", "/admin/v1/config", "", &cur); code != 200 {
		e.t.Fatalf("GET /admin/v1/config: %d", code)
	}
	cfg, err := config.ParseJSON(cur.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	return cur.Revision, cfg
}

func findModel(c *config.Config, name string) *config.Model {
	for i := range c.Models {
		if c.Models[i].Name == name {
			return &c.Models[i]
		}
	}
	return nil
}

func hasProvider(c *config.Config, name string) bool {
	return slices.ContainsFunc(c.Providers, func(p config.Provider) bool { return p.Name == name })
}

// consoleUsers makes the users of the console tests and signs each in.
func consoleUsers(t *testing.T, e *env) (op, viewer, app *browser) {
	t.Helper()
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"view@example.com","role":"viewer","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"app@example.com","role":"consumer","consumer":"other","password":"`+pw+`"}`)
	op, viewer, app = e.browser(), e.browser(), e.browser()
	for email, b := range map[string]*browser{"op@example.com": op, "view@example.com": viewer, "app@example.com": app} {
		if resp := b.signin(email, pw); resp.StatusCode != 303 {
			t.Fatalf("sign-in of %s: %d", email, resp.StatusCode)
		}
	}
	return op, viewer, app
}

func TestConsoleModels(t *testing.T) {
	e := start(t)
	op, viewer, app := consoleUsers(t, e)
	_, page := op.get("/models")
	tok := formToken(t, page)

	t.Run("pages", func(t *testing.T) {
		for _, c := range []struct {
			name, path string
			b          *browser
			status     int
			want, not  []string
		}{
			{"models as admin", "/models", op, 200,
				[]string{`<a href="/models" aria-current="page">Models</a>`, "gpt-4o-mini", "fake / gpt-4o-mini-2024-07-18 × 1",
					`action="/models"`, `<label for="mname">`, `action="/models/gpt-4o-mini/delete"`, `<a href="/calls?model=gpt-4o-mini">`},
				nil},
			{"providers as admin", "/providers", op, 200,
				[]string{`<code class="envvar">$TEST_UPSTREAM_KEY</code>`, `action="/providers"`, `<label for="key_env">`,
					"never stored in clear", "<code>https://api.anthropic.com/v1</code>", e.up.BaseURL(), `<span class="muted">in use</span>`},
				[]string{upstreamKey, `action="/providers/fake/delete"`}},
			{"model edit page", "/models/gpt-4o-mini", op, 200,
				[]string{`action="/models/gpt-4o-mini"`, `value="gpt-4o-mini-2024-07-18"`, `<option value="fake" selected>`}, nil},
			{"unknown model", "/models/no-such", op, 404, []string{"there is no model"}, nil},
			{"models as viewer: no forms", "/models", viewer, 200, []string{"gpt-4o-mini"},
				[]string{`action="/models`, "Create a model"}},
			{"providers as viewer: no forms", "/providers", viewer, 200, []string{"$TEST_UPSTREAM_KEY"},
				[]string{`action="/providers`, "Connect a provider"}},
			{"models as consumer: not allowed", "/models", app, 403, nil, []string{"gpt-4o-mini-2024"}},
			{"providers as consumer: not allowed", "/providers", app, 403, nil, []string{"TEST_UPSTREAM_KEY"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := c.b.get(c.path)
				checkPage(t, c.path, resp, body)
				if resp.StatusCode != c.status {
					t.Fatalf("%s: %d, want %d", c.path, resp.StatusCode, c.status)
				}
				for _, w := range c.want {
					if !strings.Contains(body, html.EscapeString(w)) && !strings.Contains(body, w) {
						t.Errorf("%s lacks %q", c.path, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s shows %q", c.path, n)
					}
				}
			})
		}
		if _, home := app.get("/"); strings.Contains(home, `href="/models"`) || strings.Contains(home, `href="/config"`) {
			t.Errorf("a consumer's navigation links models or configuration")
		}
	})

	form := func(rev string, kv ...string) url.Values {
		v := url.Values{"csrf_token": {tok}, "revision": {rev}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	rev := func() string {
		_, page := op.get("/providers")
		return formRevisionOf(t, page)
	}

	t.Run("connect a provider", func(t *testing.T) {
		resp, body := op.post("/providers", form(rev(), "name", "second", "type", "openai", "base_url", e.up.BaseURL(),
			"key_env", "TEST_UPSTREAM_KEY", "headers", "X-Team: console"))
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/providers" {
			t.Fatalf("connect: %d %s", resp.StatusCode, body)
		}
		_, cfg := e.liveConfig()
		i := slices.IndexFunc(cfg.Providers, func(p config.Provider) bool { return p.Name == "second" })
		if i < 0 || cfg.Providers[i].APIKey != "env:TEST_UPSTREAM_KEY" || cfg.Providers[i].Headers["X-Team"] != "console" {
			t.Fatalf("providers after connect: %+v", cfg.Providers)
		}
		var revs struct {
			Data []struct{ Message, Author string }
		}
		e.adminDo("GET", "/admin/v1/config/revisions?limit=1", "", &revs)
		if len(revs.Data) != 1 || revs.Data[0].Message != "console: connect provider second" || revs.Data[0].Author != "user:op@example.com" {
			t.Errorf("revision of the connect: %+v", revs.Data)
		}
		_, page := op.get("/providers")
		if !strings.Contains(page, "$TEST_UPSTREAM_KEY") || strings.Contains(page, upstreamKey) || !strings.Contains(page, "<code>X-Team</code>") {
			t.Errorf("the providers page shows a key value or lacks the reference")
		}
	})

	t.Run("refused edits keep the input and say why", func(t *testing.T) {
		for _, c := range []struct {
			name, path string
			form       url.Values
			status     int
			msg        string
			kept       []string
		}{
			{"provider key variable not set", "/providers",
				form(rev(), "name", "third", "type", "openai", "key_env", "HG_CONSOLE_UNSET_VAR"), 422,
				"environment variable HG_CONSOLE_UNSET_VAR is not set", []string{`value="third"`, `value="HG_CONSOLE_UNSET_VAR"`}},
			{"provider name taken", "/providers", form(rev(), "name", "fake", "type", "openai"), 409,
				`a provider named "fake" already exists`, []string{`value="fake"`}},
			{"bad headers", "/providers", form(rev(), "name", "fourth", "type", "openai", "headers", "no colon"), 409,
				"headers: line 1 is not Name: value", []string{">no colon</textarea>"}},
			{"model with an unknown fallback", "/models",
				form(rev(), "name", "console-bad", "strategy", "weighted", "provider", "second", "upstream", "up-model", "fallbacks", "no-such-model"), 422,
				`fallbacks[0]`, []string{`value="console-bad"`, `value="up-model"`, `value="no-such-model"`}},
			{"model with a bad name", "/models",
				form(rev(), "name", "Bad Name", "strategy", "weighted", "provider", "second"), 422,
				".name", []string{`value="Bad Name"`}},
			{"model weight not a number", "/models",
				form(rev(), "name", "console-w", "strategy", "weighted", "provider", "second", "weight", "lots"), 409,
				`weight: "lots" is not a whole number`, []string{`value="lots"`}},
			{"delete a provider in use", "/providers/fake/delete", form(rev()), 422, "fake", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				before, _ := e.liveConfig()
				resp, body := op.post(c.path, c.form)
				checkPage(t, c.name, resp, body)
				if resp.StatusCode != c.status || !strings.Contains(body, `class="form-errors"`) || !strings.Contains(body, html.EscapeString(c.msg)) {
					t.Errorf("%s: %d, want %d with %q in %s", c.name, resp.StatusCode, c.status, c.msg, body)
				}
				for _, k := range c.kept {
					if !strings.Contains(body, html.EscapeString(k)) && !strings.Contains(body, k) {
						t.Errorf("%s: the form lost %q", c.name, k)
					}
				}
				if after, _ := e.liveConfig(); after != before {
					t.Errorf("%s: revision %d → %d after a refused edit", c.name, before, after)
				}
				if strings.Contains(body, upstreamKey) {
					t.Errorf("%s: the page shows the upstream key", c.name)
				}
			})
		}
	})

	t.Run("create, edit and delete a model", func(t *testing.T) {
		resp, body := op.post("/models", form(rev(), "name", "console-model", "strategy", "priority", "provider", "second",
			"upstream", "gpt-4o-mini-2024-07-18", "provider2", "fake", "upstream2", "backup-model", "weight2", "0", "fallbacks", "gpt-4o-mini"))
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/models" {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		_, cfg := e.liveConfig()
		md := findModel(cfg, "console-model")
		if md == nil || md.Strategy != "priority" || len(md.Targets) != 2 || md.Targets[0] != (config.Target{Provider: "second", Model: "gpt-4o-mini-2024-07-18", Weight: 1}) ||
			md.Targets[1] != (config.Target{Provider: "fake", Model: "backup-model", Weight: 0}) || !slices.Equal(md.Fallbacks, []string{"gpt-4o-mini"}) {
			t.Fatalf("model after create: %+v", md)
		}
		if r, b := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"console-model","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
			t.Errorf("a call to the new model: %d %s", r.StatusCode, b)
		}
		_, page := op.get("/models")
		if !strings.Contains(page, "second / gpt-4o-mini-2024-07-18 × 1<br>fake / backup-model × 0") {
			t.Errorf("/models does not list the new model's targets")
		}

		resp, body = op.post("/models/console-model", form(rev(), "name", "console-model", "strategy", "weighted", "provider", "fake",
			"upstream", "renamed-upstream", "weight", "3", "fallbacks", ""))
		if resp.StatusCode != 303 {
			t.Fatalf("edit: %d %s", resp.StatusCode, body)
		}
		_, cfg = e.liveConfig()
		if md := findModel(cfg, "console-model"); md == nil || md.Strategy != "weighted" || len(md.Targets) != 1 ||
			md.Targets[0] != (config.Target{Provider: "fake", Model: "renamed-upstream", Weight: 3}) || md.Fallbacks != nil {
			t.Fatalf("model after edit: %+v", md)
		}

		resp, body = op.post("/models/console-model/delete", form(rev()))
		if resp.StatusCode != 303 {
			t.Fatalf("delete: %d %s", resp.StatusCode, body)
		}
		if _, cfg = e.liveConfig(); findModel(cfg, "console-model") != nil {
			t.Errorf("the model is still there after delete")
		}
		resp, body = op.post("/providers/second/delete", form(rev()))
		if resp.StatusCode != 303 {
			t.Fatalf("delete provider: %d %s", resp.StatusCode, body)
		}
		if _, cfg = e.liveConfig(); hasProvider(cfg, "second") {
			t.Errorf("the provider is still there after delete")
		}
	})

	t.Run("an edit on a stale revision is refused", func(t *testing.T) {
		_, page := op.get("/models")
		stale := formRevisionOf(t, page)
		// Someone else changes the configuration meanwhile.
		e.apply(strings.Replace(fmtBase(e), "timeout: 20s", "timeout: 21s", 1))
		now, _ := e.liveConfig()
		for name, c := range map[string]struct {
			path string
			f    url.Values
		}{
			"create a model":    {"/models", form(stale, "name", "late-model", "strategy", "weighted", "provider", "fake")},
			"edit a model":      {"/models/gpt-4o-mini", form(stale, "name", "gpt-4o-mini", "strategy", "weighted", "provider", "nowhere")},
			"delete a model":    {"/models/embed/delete", form(stale)},
			"connect provider":  {"/providers", form(stale, "name", "late", "type", "openai")},
			"delete a provider": {"/providers/nowhere/delete", form(stale)},
		} {
			resp, body := op.post(c.path, c.f)
			if resp.StatusCode != 409 || !strings.Contains(body, "the configuration changed while you were editing") {
				t.Errorf("%s: %d, want 409 with the stale message", name, resp.StatusCode)
			}
		}
		if after, cfg := e.liveConfig(); after != now || findModel(cfg, "late-model") != nil || findModel(cfg, "embed") == nil {
			t.Errorf("a stale edit changed the configuration: revision %d → %d", now, after)
		}
	})

	t.Run("who may not edit", func(t *testing.T) {
		_, vpage := viewer.get("/models")
		vtok := formToken(t, vpage)
		r := rev()
		for _, c := range []struct {
			name string
			b    *browser
			path string
			f    url.Values
			want int
		}{
			{"viewer creates a model", viewer, "/models", url.Values{"csrf_token": {vtok}, "revision": {r}, "name": {"v-model"}, "provider": {"fake"}}, 403},
			{"viewer connects a provider", viewer, "/providers", url.Values{"csrf_token": {vtok}, "revision": {r}, "name": {"v-prov"}, "type": {"openai"}}, 403},
			{"viewer deletes a model", viewer, "/models/embed/delete", url.Values{"csrf_token": {vtok}, "revision": {r}}, 403},
			{"no anti-forgery token", op, "/models", url.Values{"revision": {r}, "name": {"x-model"}, "provider": {"fake"}}, 403},
			{"wrong anti-forgery token", op, "/providers/nowhere/delete", url.Values{"csrf_token": {strings.Repeat("0", 64)}, "revision": {r}}, 403},
		} {
			resp, body := c.b.post(c.path, c.f)
			checkPage(t, c.name, resp, body)
			if resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
			}
		}
		if resp, _ := op.post("/models", form(r, "name", "x-model", "provider", "fake"), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
			t.Errorf("cross-site post: %d", resp.StatusCode)
		}
		if after, _ := e.liveConfig(); strconv.FormatInt(after, 10) != r {
			t.Errorf("a refused post changed the configuration")
		}
	})
}

// fmtBase is the harness's base configuration for e.
func fmtBase(e *env) string {
	return strings.Replace(baseConfig, "%s", e.up.BaseURL(), 1)
}

func TestConsoleModelsApplications(t *testing.T) {
	e := start(t)
	op, viewer, app := consoleUsers(t, e)
	_, page := op.get("/applications")
	tok := formToken(t, page)

	t.Run("pages", func(t *testing.T) {
		for _, c := range []struct {
			name, path string
			b          *browser
			status     int
			want, not  []string
		}{
			{"list as admin", "/applications", op, 200,
				[]string{`<a href="/applications" aria-current="page">Applications</a>`, `<a href="/applications/shop">shop</a>`,
					`<a href="/applications/other">other</a>`, `action="/applications"`, `<label for="aname">`}, nil},
			{"application as admin", "/applications/shop", op, 200,
				[]string{"env:TEST_SHOP_KEY", `action="/applications/shop/keys"`, `<a href="/calls?consumer=shop">`, `action="/applications/shop/delete"`},
				[]string{shopKey}},
			{"list as viewer: no form", "/applications", viewer, 200, []string{"shop", "other"}, []string{`action="/applications"`}},
			{"application as viewer: no buttons", "/applications/shop", viewer, 200, []string{"env:TEST_SHOP_KEY"},
				[]string{`action="/applications/`, shopKey}},
			{"list as the consumer: only its own", "/applications", app, 200, []string{`<a href="/applications/other">other</a>`},
				[]string{`href="/applications/shop"`, `action="/applications"`}},
			{"its own application as the consumer", "/applications/other", app, 200, []string{"env:TEST_OTHER_KEY", `action="/applications/other/keys"`},
				[]string{`action="/applications/other/delete"`, otherKey}},
			{"another application as the consumer: as if none", "/applications/shop", app, 404, nil, []string{"TEST_SHOP_KEY"}},
			{"no such application", "/applications/nobody", op, 404, nil, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := c.b.get(c.path)
				checkPage(t, c.path, resp, body)
				if resp.StatusCode != c.status {
					t.Fatalf("%s: %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
				}
				for _, w := range c.want {
					if !strings.Contains(body, w) {
						t.Errorf("%s lacks %q", c.path, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s shows %q", c.path, n)
					}
				}
			})
		}
	})

	t.Run("create an application and a key, shown once", func(t *testing.T) {
		resp, body := op.post("/applications", url.Values{"csrf_token": {tok}, "name": {"web-app"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/applications/web-app" {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		resp, body = op.post("/applications", url.Values{"csrf_token": {tok}, "name": {"web-app"}})
		if resp.StatusCode != 409 || !strings.Contains(body, "already exists") || !strings.Contains(body, `value="web-app"`) {
			t.Errorf("a second web-app: %d", resp.StatusCode)
		}
		resp, body = op.post("/applications/web-app/keys", url.Values{"csrf_token": {tok}, "key_name": {"ci"}})
		checkPage(t, "new key", resp, body)
		m := secretField.FindStringSubmatch(body)
		if resp.StatusCode != 201 || m == nil || !strings.Contains(body, "This is the only time this key is shown") || !strings.Contains(body, `src="/static/copy.js?v=`) {
			t.Fatalf("new key page: %d %s", resp.StatusCode, body)
		}
		secret := m[1]
		if r, b := e.do("POST", "/v1/chat/completions", secret, chatBody); r.StatusCode != 200 {
			t.Errorf("a call with the new key: %d %s", r.StatusCode, b)
		}
		_, page := op.get("/applications/web-app")
		if strings.Contains(page, secret) || !strings.Contains(page, "<code>"+secret[:8]) {
			t.Errorf("the application page shows the secret, or not its prefix")
		}
		if _, list := op.get("/applications"); strings.Contains(list, secret) {
			t.Errorf("the application list shows the secret")
		}

		var keys struct{ Data []struct{ ID, Name string } }
		e.adminDo("GET", "/admin/v1/keys?consumer=web-app", "", &keys)
		if len(keys.Data) != 1 {
			t.Fatalf("keys of web-app: %+v", keys.Data)
		}
		id := keys.Data[0].ID

		resp, body = op.post("/applications/web-app/keys/"+id+"/rotate", url.Values{"csrf_token": {tok}, "grace": {"1h"}})
		m = secretField.FindStringSubmatch(body)
		if resp.StatusCode != 201 || m == nil || m[1] == secret || !strings.Contains(body, "keeps working until") {
			t.Fatalf("rotate: %d %s", resp.StatusCode, body)
		}
		rotated := m[1]
		if r, b := e.do("POST", "/v1/chat/completions", rotated, chatBody); r.StatusCode != 200 {
			t.Errorf("a call with the rotated key: %d %s", r.StatusCode, b)
		}
		e.adminDo("GET", "/admin/v1/keys?consumer=web-app", "", &keys)
		for _, k := range keys.Data {
			if k.ID == id {
				continue
			}
			resp, _ = op.post("/applications/web-app/keys/"+k.ID+"/revoke", url.Values{"csrf_token": {tok}})
			if resp.StatusCode != 303 {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
		}
		if r, _ := e.do("POST", "/v1/chat/completions", rotated, chatBody); r.StatusCode != 401 {
			t.Errorf("a call with the revoked key: %d", r.StatusCode)
		}
		_, page = op.get("/applications/web-app")
		if strings.Contains(page, rotated) || strings.Contains(page, secret) || !strings.Contains(page, `<span class="status bad">revoked</span>`) {
			t.Errorf("the application page after rotate and revoke")
		}
		resp, _ = op.post("/applications/web-app/keys/key_nope/revoke", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 404 {
			t.Errorf("revoke of an unknown key: %d", resp.StatusCode)
		}
		// A key of another application is not revoked from this one's page.
		var otherK struct{ ID string }
		if code := e.adminDo("POST", "/admin/v1/consumers/other/keys", `{"name":"x"}`, &otherK); code != 201 {
			t.Fatalf("a key of other: %d", code)
		}
		resp, body = op.post("/applications/web-app/keys/"+otherK.ID+"/revoke", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 404 || !strings.Contains(body, "web-app has no key") {
			t.Errorf("revoke of another application's key: %d", resp.StatusCode)
		}
		var otherKeys struct {
			Data []struct {
				RevokedAt *string `json:"revoked_at"`
			}
		}
		if e.adminDo("GET", "/admin/v1/keys?consumer=other", "", &otherKeys); len(otherKeys.Data) != 1 || otherKeys.Data[0].RevokedAt != nil {
			t.Errorf("the other application's key was revoked: %+v", otherKeys.Data)
		}
	})

	t.Run("publishable keys", func(t *testing.T) {
		_, page := op.get("/applications/web-app")
		if !strings.Contains(page, `action="/applications/web-app/publishable-keys"`) {
			t.Skip("this gateway has no feedback, so no publishable keys")
		}
		resp, body := op.post("/applications/web-app/publishable-keys", url.Values{"csrf_token": {tok}, "key_name": {"widget"}, "origins": {"https://shop.example.com"}})
		m := secretField.FindStringSubmatch(body)
		if resp.StatusCode != 201 || m == nil || !strings.Contains(body, "only time this publishable key is shown") {
			t.Fatalf("publishable key: %d %s", resp.StatusCode, body)
		}
		_, page = op.get("/applications/web-app")
		if strings.Contains(page, m[1]) || !strings.Contains(page, "<code>https://shop.example.com</code>") {
			t.Errorf("the application page shows the publishable secret, or not its origin")
		}
		id := regexp.MustCompile(`/publishable-keys/([^/"]+)/revoke`).FindStringSubmatch(page)
		if id == nil {
			t.Fatalf("no revoke button for the publishable key")
		}
		if resp, _ := op.post("/applications/web-app/publishable-keys/"+id[1]+"/revoke", url.Values{"csrf_token": {tok}}); resp.StatusCode != 303 {
			t.Errorf("revoke publishable: %d", resp.StatusCode)
		}
	})

	t.Run("who may not act", func(t *testing.T) {
		_, vp := viewer.get("/applications")
		vtok := formToken(t, vp)
		_, ap := app.get("/applications")
		atok := formToken(t, ap)
		for _, c := range []struct {
			name string
			b    *browser
			path string
			f    url.Values
			want int
		}{
			{"viewer creates an application", viewer, "/applications", url.Values{"csrf_token": {vtok}, "name": {"v-app"}}, 403},
			{"viewer creates a key", viewer, "/applications/shop/keys", url.Values{"csrf_token": {vtok}}, 403},
			{"consumer creates a key of another", app, "/applications/shop/keys", url.Values{"csrf_token": {atok}}, 404},
			{"consumer deletes its application", app, "/applications/other/delete", url.Values{"csrf_token": {atok}, "confirm": {"yes"}}, 403},
			{"no anti-forgery token", op, "/applications/shop/keys", url.Values{}, 403},
			{"no anti-forgery token, create", op, "/applications", url.Values{"name": {"forged"}}, 403},
		} {
			resp, body := c.b.post(c.path, c.f)
			checkPage(t, c.name, resp, body)
			if resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
			}
			if secretField.MatchString(body) {
				t.Errorf("%s: a key was shown", c.name)
			}
		}
		var keys struct{ Data []any }
		e.adminDo("GET", "/admin/v1/keys?consumer=shop", "", &keys)
		if len(keys.Data) != 0 {
			t.Errorf("refused posts made keys: %+v", keys.Data)
		}
	})

	t.Run("delete an application", func(t *testing.T) {
		resp, _ := op.post("/applications/web-app/delete", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 400 {
			t.Errorf("delete without confirmation: %d", resp.StatusCode)
		}
		resp, _ = op.post("/applications/web-app/delete", url.Values{"csrf_token": {tok}, "confirm": {"yes"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/applications" {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		if resp, _ := op.get("/applications/web-app"); resp.StatusCode != 404 {
			t.Errorf("the deleted application: %d", resp.StatusCode)
		}
	})
}

// TestConsoleModelsTeams covers a team member's applications: only its
// team's, new ones its team's, and their subscriptions.
func TestConsoleModelsTeams(t *testing.T) {
	e := start(t)
	cfg := strings.Replace(teamsConfig(e), "    team: payments\n    keys:", "    team: payments\n    subscriptions: [pay-api]\n    keys:", 1)
	e.apply(cfg)
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"lead@example.com","role":"team_admin","team":"payments","password":"`+pw+`"}`)
	lead := e.browser()
	if resp := lead.signin("lead@example.com", pw); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	resp, page := lead.get("/applications")
	checkPage(t, "team /applications", resp, page)
	if resp.StatusCode != 200 || !strings.Contains(page, `href="/applications/shop"`) || strings.Contains(page, `href="/applications/other"`) ||
		!strings.Contains(page, `<input id="team" name="team" value="payments" readonly`) {
		t.Fatalf("a team admin's applications: %d %s", resp.StatusCode, page)
	}
	if _, home := lead.get("/"); strings.Contains(home, `href="/models"`) || !strings.Contains(home, `href="/applications"`) {
		t.Errorf("a team admin's navigation: models shown or applications missing")
	}
	tok := formToken(t, page)
	for _, c := range []struct {
		name, team string
		status     int
	}{
		{"its team's", "payments", 303},
		{"another team's", "search", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := lead.post("/applications", url.Values{"csrf_token": {tok}, "name": {"pay-app-" + c.team}, "team": {c.team}})
			if resp.StatusCode != c.status {
				t.Fatalf("create: %d %s", resp.StatusCode, body)
			}
			if c.status == 403 && (!strings.Contains(body, `class="form-errors"`) || !strings.Contains(body, `value="pay-app-search"`)) {
				t.Errorf("the refusal is not shown with the form")
			}
		})
	}
	_, live := e.liveConfig()
	for _, c := range live.Consumers {
		if c.Name == "pay-app-payments" && c.Team != "payments" || c.Name == "pay-app-search" {
			t.Errorf("consumer %s of team %q", c.Name, c.Team)
		}
	}
	resp, page = lead.get("/applications/shop")
	checkPage(t, "team /applications/shop", resp, page)
	if !strings.Contains(page, "<tr><td>pay-api</td><td><span class=\"state state-approved\">approved</span></td><td>config</td>") {
		t.Errorf("the subscription of shop is not listed: %s", page)
	}
	if resp, _ := lead.get("/applications/other"); resp.StatusCode != 404 {
		t.Errorf("another team's application: %d", resp.StatusCode)
	}
}
