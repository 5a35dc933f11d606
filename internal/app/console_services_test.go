package app_test

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

// consoleServicesEnv is a gateway with service orders of team payments
// published (release 1) in front of target a, target b for the changes,
// and console users of every kind the services pages tell apart.
type consoleServicesEnv struct {
	*env
	a, b                 *restTarget
	op, viewer, dev, out *browser
}

const servicesPassword = "a long console passphrase"

func startConsoleServices(t *testing.T) *consoleServicesEnv {
	t.Helper()
	e := start(t)
	ce := &consoleServicesEnv{env: e, a: newRESTTarget(t, "a"), b: newRESTTarget(t, "b")}
	cfg := restConfig(e, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    team: payments
    approval: manual
    description: Orders of the shop
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { name: list, path: /orders, methods: [GET, POST], policies: { rate_limit: { requests_per_second: 50 } } } ]
`, ce.a.URL()))
	e.apply(strings.Replace(cfg, "services:\n", "teams: [ { name: payments }, { name: billing } ]\nservices:\n", 1))
	users := []struct {
		email, role, team string
		b                 **browser
	}{
		{"op@example.com", "admin", "", &ce.op},
		{"view@example.com", "viewer", "", &ce.viewer},
		{"dev@example.com", "developer", "payments", &ce.dev},
		{"billing@example.com", "developer", "billing", &ce.out},
	}
	for _, u := range users {
		e.mustDo(201, "POST", "/admin/v1/users", fmt.Sprintf(`{"email":%q,"role":%q,"team":%q,"password":%q}`, u.email, u.role, u.team, servicesPassword))
		b := e.browser()
		if resp := b.signin(u.email, servicesPassword); resp.StatusCode != 303 {
			t.Fatalf("sign-in of %s: %d", u.email, resp.StatusCode)
		}
		*u.b = b
	}
	return ce
}

// service reads service orders from the admin API.
func (ce *consoleServicesEnv) service() (sv config.Service, release int, hasDraft bool) {
	ce.t.Helper()
	var v struct {
		Service  config.Service `json:"service"`
		Release  int            `json:"release"`
		HasDraft bool           `json:"has_draft"`
	}
	if code := ce.adminDo("GET", "/admin/v1/services/orders", "", &v); code != 200 {
		ce.t.Fatalf("GET service orders: %d", code)
	}
	return v.Service, v.Release, v.HasDraft
}

// page gets a console page as b, checks it, and returns its body.
func page(t *testing.T, b *browser, path string, want int) string {
	t.Helper()
	resp, body := b.get(path)
	checkPage(t, path, resp, body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	return body
}

// submit posts a form of the page at from to path as b, with the page's
// anti-forgery token, and checks the answer's status.
func submit(t *testing.T, b *browser, from, path string, form url.Values, want int) (location, body string) {
	t.Helper()
	_, p := b.get(from)
	form.Set("csrf_token", formToken(t, p))
	resp, body := b.post(path, form)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	if want != 303 {
		checkPage(t, "POST "+path, resp, body)
	}
	return resp.Header.Get("Location"), body
}

func contains(t *testing.T, name, body string, has, lacks []string) {
	t.Helper()
	for _, s := range has {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", name, s)
		}
	}
	for _, s := range lacks {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q", name, s)
		}
	}
}

// editor returns the text of the draft editor of a service page.
func editor(body string) string {
	_, text, _ := strings.Cut(body, `<textarea id="definition"`)
	text, _, _ = strings.Cut(text, "</textarea>")
	return html.UnescapeString(text)
}

func draftYAML(target string) string {
	return fmt.Sprintf(`name: orders
team: payments
approval: manual
description: Orders of the shop
upstream: { targets: [ { url: "%s" } ] }
routes: [ { name: list, path: /orders, methods: [GET, POST] } ]
`, target)
}

func TestConsoleServices(t *testing.T) {
	ce := startConsoleServices(t)
	op := ce.op
	const svc = "/services/orders"

	t.Run("list", func(t *testing.T) {
		body := page(t, op, "/services", 200)
		contains(t, "/services", body, []string{`<a href="/services/orders">orders</a>`, "<td>payments</td>", "<td>rest</td>",
			"manual approval", `<a href="/services" aria-current="page">Services</a>`, `href="/services/new"`,
			`<label for="team">`, `<label for="kind">`, `<label for="state">`}, nil)
		for name, c := range map[string]struct {
			query string
			shown bool
		}{
			"team payments":    {"?team=payments", true},
			"team billing":     {"?team=billing", false},
			"kind rest":        {"?kind=rest", true},
			"kind ai":          {"?kind=ai", false},
			"state published":  {"?state=published", true},
			"state deprecated": {"?state=deprecated", false},
		} {
			body := page(t, op, "/services"+c.query, 200)
			if got := strings.Contains(body, `href="/services/orders"`); got != c.shown {
				t.Errorf("%s: orders shown %v, want %v", name, got, c.shown)
			}
		}
	})

	t.Run("service page", func(t *testing.T) {
		body := page(t, op, svc, 200)
		contains(t, svc, body, []string{"Orders of the shop", ce.a.URL(), "<code>/orders</code>", "GET, POST", "rate 50/s",
			`href="/services/orders/releases/1"`, "current", "No canary", "No draft", `<textarea id="definition"`,
			`action="/services/orders/draft"`, `action="/services/orders/deprecate"`,
			`action="/services/orders/retire"`, "approved by the team"}, []string{"Start canary", `action="/services/orders/publish"`})
		if !strings.Contains(editor(body), "team: payments\n") || !strings.Contains(editor(body), ce.a.URL()) {
			t.Errorf("the editor does not hold the published definition: %s", editor(body))
		}
		page(t, op, "/services/nothing", 404)
	})

	t.Run("draft edit", func(t *testing.T) {
		for name, c := range map[string]struct {
			text   string
			status int
			has    []string
		}{
			"invalid definition": {strings.Replace(draftYAML(ce.b.URL()), "path: /orders", "path: orders", 1), 422,
				[]string{"<code>routes[0].path</code>", "the draft was not saved"}},
			"unknown key":   {draftYAML(ce.b.URL()) + "colour: blue\n", 400, []string{"colour", "not valid YAML"}},
			"invalid JSON":  {`{"upstream": `, 400, []string{"not valid JSON"}},
			"another team":  {strings.Replace(draftYAML(ce.b.URL()), "team: payments", "team: nope", 1), 422, []string{"<code>team</code>", "unknown team"}},
			"empty":         {"  ", 400, []string{"the definition is empty"}},
			"renaming JSON": {`{"name":"other"}`, 400, []string{"cannot be renamed"}},
		} {
			_, body := submit(t, op, svc, svc+"/draft", url.Values{"definition": {c.text}}, c.status)
			contains(t, name, body, append(c.has, `aria-invalid="true"`, ">"+html.EscapeString(c.text)+"</textarea>"), nil)
		}
		if _, _, has := ce.service(); has {
			t.Fatalf("a refused draft was saved")
		}
		loc, _ := submit(t, op, svc, svc+"/draft", url.Values{"definition": {draftYAML(ce.b.URL())}}, 303)
		if loc != svc+"#draft" {
			t.Errorf("after saving a draft: Location %q", loc)
		}
		body := page(t, op, svc, 200)
		contains(t, "the page with a draft", body, []string{"<code>upstream.targets</code>", `class="diff-changed"`, "changed",
			`<span aria-hidden="true">− </span>[{url: ` + ce.a.URL(), `<span aria-hidden="true">+ </span>[{url: ` + ce.b.URL(),
			`action="/services/orders/publish"`, `action="/services/orders/draft/discard"`, "Start canary", `<option value="draft">`}, nil)
		if !strings.Contains(editor(body), ce.b.URL()) {
			t.Errorf("the editor does not hold the draft: %s", editor(body))
		}
		submit(t, op, svc, svc+"/draft/discard", url.Values{}, 303)
		if _, _, has := ce.service(); has {
			t.Fatalf("the draft outlived its discarding")
		}
	})

	t.Run("publish", func(t *testing.T) {
		submit(t, op, svc, svc+"/draft", url.Values{"definition": {draftYAML(ce.b.URL())}}, 303)
		loc, _ := submit(t, op, svc, svc+"/publish", url.Values{"message": {"move to b"}}, 303)
		if loc != svc {
			t.Errorf("after publishing: Location %q", loc)
		}
		if sv, rel, has := ce.service(); rel != 2 || has || sv.Upstream.Targets[0].URL != ce.b.URL() {
			t.Fatalf("after publishing: release %d, draft %v, %+v", rel, has, sv.Upstream)
		}
		body := page(t, op, svc, 200)
		contains(t, "the page after publishing", body, []string{"move to b", `href="/services/orders/releases/1#rollback"`}, nil)
	})

	t.Run("release page", func(t *testing.T) {
		body := page(t, op, svc+"/releases/2", 200)
		contains(t, "release 2", body, []string{"Release 2 of orders", "move to b", "<code>upstream.targets</code>",
			ce.b.URL(), "Changes from the release published before it", "yes"}, []string{`id="rollback"`})
		body = page(t, op, svc+"/releases/1", 200)
		contains(t, "release 1", body, []string{"the whole service", "added", `action="/services/orders/releases/1/rollback"`,
			`name="confirm" type="checkbox" value="yes" required`, "no (release 2 is)"}, nil)
		body = page(t, op, svc+"/releases/2?against=1", 200)
		contains(t, "release 2 against 1", body, []string{"Changes from release 1", "<code>upstream.targets</code>"}, nil)
		page(t, op, svc+"/releases/99", 404)
		page(t, op, svc+"/releases/2?against=x", 400)
	})

	t.Run("rollback", func(t *testing.T) {
		rel := svc + "/releases/1"
		_, body := submit(t, op, rel, rel+"/rollback", url.Values{"message": {"b misbehaves"}}, 400)
		contains(t, "rollback unconfirmed", body, []string{"tick the box"}, nil)
		if _, n, _ := ce.service(); n != 2 {
			t.Fatalf("an unconfirmed rollback published release %d", n)
		}
		submit(t, op, rel, rel+"/rollback", url.Values{"message": {"b misbehaves"}, "confirm": {"yes"}}, 303)
		if sv, n, _ := ce.service(); n != 3 || sv.Upstream.Targets[0].URL != ce.a.URL() {
			t.Fatalf("after the rollback: release %d, %+v", n, sv.Upstream)
		}
	})

	canary := func() *config.ServiceCanary {
		sv, _, _ := ce.service()
		return sv.Canary
	}
	t.Run("canary", func(t *testing.T) {
		submit(t, op, svc, svc+"/draft", url.Values{"definition": {draftYAML(ce.b.URL())}}, 303)
		for name, p := range map[string]string{"zero": "0", "hundred": "100", "words": "ten"} {
			_, body := submit(t, op, svc, svc+"/canary/start", url.Values{"source": {"draft"}, "percent": {p}}, 400)
			contains(t, name, body, []string{"from 1 to 99"}, nil)
		}
		submit(t, op, svc, svc+"/canary/start", url.Values{"source": {"draft"}, "percent": {"20"}, "message": {"try b"}}, 303)
		c := canary()
		if c == nil || c.Percent != 20 {
			t.Fatalf("after starting a canary of the draft: %+v", c)
		}
		body := page(t, op, svc, 200)
		contains(t, "the page with a canary", body, []string{fmt.Sprintf(`href="/services/orders/releases/%d">%d</a> serves <strong>20%%</strong>`, c.Release, c.Release),
			`action="/services/orders/canary/percent"`, `action="/services/orders/canary/promote"`, `action="/services/orders/canary/abort"`}, []string{"Start canary"})

		submit(t, op, svc, svc+"/canary/percent", url.Values{"percent": {"35"}}, 303)
		if got := canary(); got == nil || got.Percent != 35 || got.Release != c.Release {
			t.Fatalf("after changing the share: %+v", got)
		}
		// A change through a draft never overwrites someone's draft.
		submit(t, op, svc, svc+"/draft", url.Values{"definition": {draftYAML(ce.a.URL())}}, 303)
		_, body = submit(t, op, svc, svc+"/canary/percent", url.Values{"percent": {"50"}}, 409)
		contains(t, "a share change over a draft", body, []string{"publish or discard it first"}, nil)
		submit(t, op, svc, svc+"/draft/discard", url.Values{}, 303)

		submit(t, op, svc, svc+"/canary/promote", url.Values{}, 303)
		if sv, _, _ := ce.service(); sv.Canary != nil || sv.Upstream.Targets[0].URL != ce.b.URL() {
			t.Fatalf("after promoting: %+v %+v", sv.Canary, sv.Upstream)
		}
		if got := ce.echo("GET", "/orders/1", shopKey, "").Target; got != "b" {
			t.Errorf("after promoting, calls go to %q", got)
		}

		submit(t, op, svc, svc+"/canary/start", url.Values{"source": {"1"}, "percent": {"10"}}, 303)
		if got := canary(); got == nil || got.Release != 1 || got.Percent != 10 {
			t.Fatalf("after starting a canary of release 1: %+v", got)
		}
		submit(t, op, svc, svc+"/canary/abort", url.Values{}, 303)
		if got := canary(); got != nil {
			t.Fatalf("after aborting: %+v", got)
		}
		_, body = submit(t, op, svc, svc+"/canary/abort", url.Values{}, 409)
		contains(t, "aborting no canary", body, []string{"has no canary"}, nil)
		_, body = submit(t, op, svc, svc+"/canary/start", url.Values{"source": {"999"}, "percent": {"10"}}, 422)
		contains(t, "a canary of no release", body, []string{"release 999 does not exist"}, nil)
		if _, _, has := ce.service(); has {
			t.Errorf("a failed canary left the console's draft behind")
		}
	})

	t.Run("new service", func(t *testing.T) {
		body := page(t, op, "/services/new", 200)
		contains(t, "/services/new", body, []string{`<label for="name">`, `<label for="upstream_url">`, `<label for="path">`,
			`<option value="payments">payments</option>`}, nil)
		form := url.Values{"name": {"fresh"}, "team": {"payments"}, "kind": {"rest"}, "path": {"/fresh"}, "methods": {"get"}, "approval": {"auto"}}
		_, body = submit(t, op, "/services/new", "/services", form, 422)
		contains(t, "a service without upstream", body, []string{"<code>upstream</code>", `value="/fresh"`, `value="fresh"`}, nil)
		form.Set("upstream_url", ce.b.URL())
		if loc, _ := submit(t, op, "/services/new", "/services", form, 303); loc != "/services/fresh" {
			t.Errorf("after creating: Location %q", loc)
		}
		body = page(t, op, "/services/fresh", 200)
		contains(t, "the new service", body, []string{ce.b.URL(), "<code>/fresh</code>", "<td>GET</td>"}, nil)
		_, body = submit(t, op, "/services/new", "/services", form, 409)
		contains(t, "a service that exists", body, []string{"already exists"}, nil)
	})

	t.Run("anti-forgery", func(t *testing.T) {
		_, p := op.get(svc)
		tok := formToken(t, p)
		for name, c := range map[string]struct {
			form url.Values
			hdr  []string
		}{
			"no token":    {url.Values{"message": {"x"}}, nil},
			"wrong token": {url.Values{"csrf_token": {strings.Repeat("0", 64)}}, nil},
			"cross-site":  {url.Values{"csrf_token": {tok}}, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		} {
			for _, path := range []string{svc + "/publish", svc + "/draft", svc + "/canary/abort", svc + "/releases/1/rollback", svc + "/deprecate", "/services"} {
				if resp, _ := op.post(path, c.form, c.hdr...); resp.StatusCode != 403 {
					t.Errorf("%s, %s: %d", name, path, resp.StatusCode)
				}
			}
		}
		if sv, _, _ := ce.service(); sv.State != "" {
			t.Errorf("a forged form changed the service: %q", sv.State)
		}
	})

	t.Run("a viewer sees no buttons and may not act", func(t *testing.T) {
		body := page(t, ce.viewer, svc, 200)
		contains(t, "viewer's service page", body, []string{"Orders of the shop", `href="/services/orders/releases/1"`, "<pre class=\"body\">"},
			[]string{`action="/services/`, "Roll back to", "<textarea"})
		body = page(t, ce.viewer, "/services", 200)
		contains(t, "viewer's list", body, []string{`href="/services/orders"`, `<a href="/services" aria-current="page">Services</a>`}, []string{"/services/new"})
		page(t, ce.viewer, "/services/new", 403)
		contains(t, "viewer's release page", page(t, ce.viewer, svc+"/releases/1", 200), nil, []string{"rollback"})
		for path, form := range map[string]url.Values{
			svc + "/draft":               {"definition": {draftYAML(ce.b.URL())}},
			svc + "/publish":             {},
			svc + "/canary/start":        {"source": {"1"}, "percent": {"10"}},
			svc + "/releases/1/rollback": {"confirm": {"yes"}},
			svc + "/deprecate":           {},
			"/services":                  {"name": {"viewer-made"}},
		} {
			submit(t, ce.viewer, svc, path, form, 403)
		}
	})

	t.Run("a developer of another team may not change the service", func(t *testing.T) {
		body := page(t, ce.out, "/services", 200)
		contains(t, "billing's list", body, nil, []string{`href="/services/orders"`})
		page(t, ce.out, svc, 404)
		for path, form := range map[string]url.Values{
			svc + "/draft":               {"definition": {draftYAML(ce.b.URL())}},
			svc + "/canary/start":        {"source": {"1"}, "percent": {"10"}},
			svc + "/releases/1/rollback": {"confirm": {"yes"}},
			svc + "/deprecate":           {},
			svc + "/retire":              {"confirm": {"yes"}},
		} {
			submit(t, ce.out, "/services", path, form, 404)
		}
		if sv, _, has := ce.service(); has || sv.Canary != nil || sv.State != "" {
			t.Fatalf("billing's developer changed the service: draft %v, %+v", has, sv)
		}
		// The owning team's developer may.
		submit(t, ce.dev, svc, svc+"/draft", url.Values{"definition": {draftYAML(ce.a.URL())}}, 303)
		submit(t, ce.dev, svc, svc+"/draft/discard", url.Values{}, 303)
	})

	t.Run("deprecate and retire", func(t *testing.T) {
		_, body := submit(t, op, svc, svc+"/deprecate", url.Values{"sunset": {"31/01/2027"}}, 400)
		contains(t, "a bad sunset", body, []string{"is not a date"}, nil)
		submit(t, op, svc, svc+"/deprecate", url.Values{"sunset": {"2027-01-31"}, "message": {"v2 is out"}}, 303)
		sv, _, _ := ce.service()
		if sv.State != config.StateDeprecated || sv.Sunset == nil || sv.Sunset.Format("2006-01-02") != "2027-01-31" {
			t.Fatalf("after deprecating: %q %v", sv.State, sv.Sunset)
		}
		contains(t, "deprecated page", page(t, op, svc, 200), []string{"svc-deprecated", "sunset 2027-01-31"}, nil)
		contains(t, "deprecated list", page(t, op, "/services?state=deprecated", 200), []string{`href="/services/orders"`}, nil)
		_, body = submit(t, op, svc, svc+"/retire", url.Values{}, 400)
		contains(t, "retire unconfirmed", body, []string{"tick the box"}, nil)
		submit(t, op, svc, svc+"/retire", url.Values{"confirm": {"yes"}}, 303)
		if sv, _, _ := ce.service(); sv.State != config.StateRetired {
			t.Fatalf("after retiring: %q", sv.State)
		}
		body = page(t, op, svc, 200)
		contains(t, "retired page", body, []string{"The service is retired"}, []string{`action="/services/orders/retire"`})
		page(t, op, svc+"/nonsense", 404)
		submit(t, op, svc, svc+"/nonsense", url.Values{}, 404)
	})
}
