package app_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/probe"
)

// callsHref finds the link to the matching calls of the alert group whose
// row shows labels.
var callsHref = regexp.MustCompile(`<a href="(/calls\?[^"]+)">Matching calls</a>`)

func TestConsoleAlerts(t *testing.T) {
	e := start(t, func(s *app.Settings) { s.AlertInterval = 100 * time.Millisecond })
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"view@example.com","role":"viewer","password":"`+pw+`"}`)

	// The calls fail before the probe is configured, so that none of its
	// runs takes one of the upstream's failures; the rule reads them
	// from the store.
	failed := e.failCalls("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 4)
	e.apply(fmt.Sprintf(baseConfig, e.up.BaseURL()) + `
probes:
  - name: chat
    model: gpt-4o-mini
    consumer: shop
    interval: 5s
    assert: { json: [ { path: choices.0.message.role, equals: robot } ] }
alerts:
  - name: errors-high
    metric: error_rate
    filter: { model: gpt-4o-mini }
    group_by: [consumer]
    window: 1m
    threshold: { critical: 0.5 }
    min_requests: 3
  - name: latency-quiet
    metric: latency_p95
    filter: { model: no-such-model }
    window: 5m
    threshold: { warning: 10000 }
`)
	waitFor(t, "errors-high to fire", func() bool {
		var states struct {
			Data []alert.RuleStatus `json:"data"`
		}
		e.adminDo("GET", "/admin/v1/alerts?state=firing", "", &states)
		return len(states.Data) == 1 && len(states.Data[0].Groups) == 1
	})
	// The probe's assertion cannot hold: every run fails, with its reason.
	probes := waitProbe(t, e, func(st []probe.Status) bool { return lastPass(st, "chat", false) })
	run := probes[indexOf(probes, "chat")].Results[0]

	anon := e.browser()
	if resp, _ := anon.get("/alerts"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("anonymous /alerts: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := anon.post("/alerts/silences", url.Values{"matchers": {"rule=errors-high"}}); resp.StatusCode != 303 {
		t.Errorf("anonymous silence: %d", resp.StatusCode)
	}

	op := e.browser()
	if resp := op.signin("op@example.com", pw); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}

	t.Run("rules, history and probes", func(t *testing.T) {
		resp, body := op.get("/alerts")
		checkPage(t, "/alerts", resp, body)
		if resp.StatusCode != 200 {
			t.Fatalf("/alerts: %d %s", resp.StatusCode, body)
		}
		for _, want := range []string{`<a href="/alerts" aria-current="page">Alerts</a>`, "errors-high", "latency-quiet", "consumer=shop",
			`<span class="state state-firing">firing</span>`, `<span class="sev sev-critical">critical</span>`,
			"Recent transitions", `ok → <span class="state state-firing">firing</span>`, `action="/alerts/silences"`, `<label for="matchers">`, "No silences.",
			`<h3 class="probe">chat</h3>`, "model gpt-4o-mini"} {
			if !strings.Contains(body, want) {
				t.Errorf("/alerts lacks %q", want)
			}
		}
		if i, j := strings.Index(body, "state-firing"), strings.Index(body, "latency-quiet"); i < 0 || i > j {
			t.Errorf("the firing group is not listed first")
		}
		if !strings.Contains(body, `<span class="status bad">fail</span>`) || run.Failure == nil ||
			!strings.Contains(body, html.EscapeString(run.Failure.Message)) {
			t.Errorf("the probe's failure %+v is not shown", run.Failure)
		}
		if !strings.Contains(body, `<a href="/calls/`+run.RequestID+`">`) {
			t.Errorf("the probe's call %s is not linked", run.RequestID)
		}
		if _, home := op.get("/"); !strings.Contains(home, `<a href="/alerts">Alerts</a>`) {
			t.Errorf("the overview's navigation lacks the Alerts link")
		}

		// Two clicks from the alert to its failing calls.
		m := callsHref.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no calls link on /alerts")
		}
		link := html.UnescapeString(m[1])
		u, _ := url.Parse(link)
		if q := u.Query(); q.Get("model") != "gpt-4o-mini" || q.Get("consumer") != "shop" || q.Get("since") == "" || q.Get("until") == "" {
			t.Errorf("calls link %s", link)
		}
		resp, calls := op.get(link)
		checkPage(t, link, resp, calls)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", link, resp.StatusCode)
		}
		for _, id := range failed {
			if !strings.Contains(calls, `href="/calls/`+id+`"`) {
				t.Errorf("the alert's calls lack the failed call %s", id)
			}
		}
		if !strings.Contains(body, `/alerts?matchers=rule%3derrors-high%0aconsumer%3dshop#new-silence`) {
			t.Errorf("no link prefilling a silence of the group")
		}
		if resp, body := op.get("/alerts?matchers=" + url.QueryEscape("rule=errors-high\nconsumer=shop")); resp.StatusCode != 200 ||
			!strings.Contains(body, ">rule=errors-high\nconsumer=shop</textarea>") {
			t.Errorf("the silence form is not prefilled: %d", resp.StatusCode)
		}
	})

	silences := func() []alert.Silence {
		t.Helper()
		var out struct {
			Data []alert.Silence `json:"data"`
		}
		if code := e.adminDo("GET", "/admin/v1/silences", "", &out); code != 200 {
			t.Fatalf("GET /admin/v1/silences: %d", code)
		}
		return out.Data
	}
	form := func(tok string) url.Values {
		return url.Values{"csrf_token": {tok}, "matchers": {"rule=errors-high\r\nconsumer=shop"}, "duration": {"2h"}, "comment": {"upstream fix deploying"}}
	}

	t.Run("anti-forgery", func(t *testing.T) {
		_, body := op.get("/alerts")
		tok := formToken(t, body)
		for name, f := range map[string]url.Values{"no token": form(""), "wrong token": form(strings.Repeat("0", 64))} {
			if resp, body := op.post("/alerts/silences", f); resp.StatusCode != 403 {
				t.Errorf("%s: %d", name, resp.StatusCode)
			} else {
				checkPage(t, name, resp, body)
			}
		}
		if resp, _ := op.post("/alerts/silences", form(tok), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
			t.Errorf("cross-site: %d", resp.StatusCode)
		}
		if resp, _ := op.post("/alerts/silences/sil_nope/expire", url.Values{}); resp.StatusCode != 403 {
			t.Errorf("expire without a token: %d", resp.StatusCode)
		}
		if n := len(silences()); n != 0 {
			t.Errorf("%d silences after forged posts", n)
		}
	})

	t.Run("refused silences are shown with the form", func(t *testing.T) {
		_, body := op.get("/alerts")
		tok := formToken(t, body)
		for name, c := range map[string]struct {
			change func(url.Values)
			msg    string
		}{
			"bad duration":   {func(f url.Values) { f.Set("duration", "soon") }, "is not a positive duration"},
			"no comment":     {func(f url.Values) { f.Set("comment", " ") }, "comment is required"},
			"no matchers":    {func(f url.Values) { f.Set("matchers", "\n") }, "a silence needs 1 to"},
			"not name=value": {func(f url.Values) { f.Set("matchers", "rule errors-high") }, "is not name=value"},
		} {
			f := form(tok)
			c.change(f)
			resp, body := op.post("/alerts/silences", f)
			checkPage(t, name, resp, body)
			if resp.StatusCode != 400 || !strings.Contains(body, html.EscapeString(c.msg)) || !strings.Contains(body, `action="/alerts/silences"`) {
				t.Errorf("%s: %d, lacks %q", name, resp.StatusCode, c.msg)
			}
		}
		if n := len(silences()); n != 0 {
			t.Errorf("%d silences after refused posts", n)
		}
	})

	t.Run("a viewer sees no forms and may not act", func(t *testing.T) {
		v := e.browser()
		if resp := v.signin("view@example.com", pw); resp.StatusCode != 303 {
			t.Fatalf("viewer sign-in: %d", resp.StatusCode)
		}
		resp, body := v.get("/alerts")
		checkPage(t, "viewer /alerts", resp, body)
		if resp.StatusCode != 200 || !strings.Contains(body, "state-firing") || strings.Contains(body, `action="/alerts/`) ||
			strings.Contains(body, "Silence…") {
			t.Errorf("viewer's /alerts: %d, forms shown", resp.StatusCode)
		}
		tok := formToken(t, body)
		resp, body = v.post("/alerts/silences", form(tok))
		checkPage(t, "403", resp, body)
		if resp.StatusCode != 403 || !strings.Contains(body, "may not alerts.write") {
			t.Errorf("viewer silence: %d %s", resp.StatusCode, body)
		}
		id := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/silences", `{"matchers":[{"name":"rule","value":"latency-quiet"}],"duration":"1h","comment":"by the API"}`), "id").Str
		if resp, _ := v.post("/alerts/silences/"+id+"/expire", url.Values{"csrf_token": {tok}}); resp.StatusCode != 403 {
			t.Errorf("viewer expire: %d", resp.StatusCode)
		}
		e.mustDo(204, "DELETE", "/admin/v1/silences/"+id, "")
	})

	t.Run("create and expire a silence through the forms", func(t *testing.T) {
		_, body := op.get("/alerts")
		tok := formToken(t, body)
		resp, _ := op.post("/alerts/silences", form(tok))
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts#silences" {
			t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		ss := silences()
		if len(ss) != 1 || len(ss[0].Matchers) != 2 || ss[0].Matchers[1] != (alert.Matcher{Name: "consumer", Value: "shop"}) ||
			ss[0].Author != "user:op@example.com" || ss[0].End.Sub(ss[0].Start) != 2*time.Hour {
			t.Fatalf("silences after the form: %+v", ss)
		}
		id := ss[0].ID
		resp, body = op.get("/alerts")
		checkPage(t, "/alerts with a silence", resp, body)
		for _, want := range []string{"upstream fix deploying", "<code>consumer=shop</code>", `action="/alerts/silences/` + id + `/expire"`} {
			if !strings.Contains(body, want) {
				t.Errorf("/alerts lacks %q", want)
			}
		}
		waitFor(t, "the group to show silenced", func() bool {
			_, body := op.get("/alerts")
			return strings.Contains(body, `firing</span> <span class="flag">silenced</span>`)
		})
		resp, _ = op.post("/alerts/silences/"+id+"/expire", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts#silences" {
			t.Fatalf("expire: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n := len(silences()); n != 0 {
			t.Errorf("%d silences after expiring", n)
		}
		resp, body = op.post("/alerts/silences/"+id+"/expire", url.Values{"csrf_token": {tok}})
		checkPage(t, "expire twice", resp, body)
		if resp.StatusCode != 404 || !strings.Contains(body, "no silence") || !strings.Contains(body, "No silences.") {
			t.Errorf("expiring twice: %d", resp.StatusCode)
		}
	})
}
