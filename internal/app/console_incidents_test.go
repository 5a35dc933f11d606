package app_test

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/triage"
)

// failCalls makes n calls of model fail upstream with a 500 and returns
// their request ids once their records are stored.
func (e *env) failCalls(model, upstreamModel string, n int) []string {
	e.t.Helper()
	e.up.FailNext(upstreamModel, 500, n)
	var ids []string
	for range n {
		resp, b := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"`+model+`","messages":[{"role":"user","content":"fail me"}]}`)
		if resp.StatusCode < 500 {
			e.t.Fatalf("a call meant to fail answered %d: %s", resp.StatusCode, b)
		}
		id := resp.Header.Get("X-Request-Id")
		e.call(id)
		ids = append(ids, id)
	}
	return ids
}

// waitIncident waits until an incident of model with at least count calls
// is listed and returns it.
func (e *env) waitIncident(model string, count int64) triage.Incident {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var page struct {
			Data []triage.Incident `json:"data"`
		}
		if code := e.adminDo("GET", "/admin/v1/incidents?model="+url.QueryEscape(model), "", &page); code != 200 {
			e.t.Fatalf("GET /admin/v1/incidents: %d", code)
		}
		for _, inc := range page.Data {
			if inc.Count >= count {
				return inc
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no incident of %s with %d calls; incidents: %+v", model, count, page.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConsoleIncidents(t *testing.T) {
	e := start(t)
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"view@example.com","role":"viewer","password":"`+pw+`"}`)

	samples := e.failCalls("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 3)
	inc := e.waitIncident("gpt-4o-mini", 3)
	if resp, _ := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"error-429","messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != 429 {
		t.Fatalf("error-429 answered %d", resp.StatusCode)
	}
	limited := e.waitIncident("error-429", 1)
	page := "/incidents/" + inc.ID

	anon := e.browser()
	for _, p := range []string{"/incidents", page} {
		if resp, _ := anon.get(p); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
			t.Errorf("anonymous %s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	op := e.browser()
	if resp := op.signin("op@example.com", pw); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}

	t.Run("board", func(t *testing.T) {
		resp, body := op.get("/incidents")
		checkPage(t, "/incidents", resp, body)
		if resp.StatusCode != 200 {
			t.Fatalf("board: %d %s", resp.StatusCode, body)
		}
		for _, want := range []string{`href="/incidents/` + inc.ID + `"`, `href="/incidents/` + limited.ID + `"`, html.EscapeString(inc.Title),
			`<label for="state">`, `<label for="service">`, `<label for="model">`, `<label for="kind">`, "Priority", "End users", "Share",
			`<a href="/incidents" aria-current="page">Incidents</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("board lacks %q", want)
			}
		}
		// Ranked by priority: the 5xx before the rate limit.
		if i, j := strings.Index(body, "/incidents/"+inc.ID+`"`), strings.Index(body, "/incidents/"+limited.ID+`"`); i > j {
			t.Errorf("the 5xx incident is listed after the rate-limit one")
		}
		if _, home := op.get("/"); !strings.Contains(home, `<a href="/incidents">Incidents</a>`) {
			t.Errorf("the overview's navigation lacks the Incidents link")
		}
	})

	t.Run("filters", func(t *testing.T) {
		for name, c := range map[string]struct {
			query     string
			has, lack []string
		}{
			"model":        {"?model=error-429", []string{limited.ID}, []string{inc.ID}},
			"state open":   {"?state=open", []string{inc.ID, limited.ID}, nil},
			"state closed": {"?state=resolved", nil, []string{inc.ID, limited.ID}},
			"kind":         {"?kind=anomaly", nil, []string{inc.ID, limited.ID}},
			"service":      {"?service=nothing-here", nil, []string{inc.ID, limited.ID}},
		} {
			resp, body := op.get("/incidents" + c.query)
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", name, resp.StatusCode)
			}
			for _, id := range c.has {
				if !strings.Contains(body, "/incidents/"+id+`"`) {
					t.Errorf("%s: lacks %s", name, id)
				}
			}
			for _, id := range c.lack {
				if strings.Contains(body, "/incidents/"+id+`"`) {
					t.Errorf("%s: shows %s", name, id)
				}
			}
		}
		resp, body := op.get("/incidents?state=open")
		if !strings.Contains(body, `<option value="open" selected>`) {
			t.Errorf("the state filter is not kept in the form")
		}
		resp, body = op.get("/incidents?kind=nonsense")
		checkPage(t, "/incidents?kind=nonsense", resp, body)
		if resp.StatusCode != 400 || !strings.Contains(body, "kind must be one of") || !strings.Contains(body, `<form class="filters"`) {
			t.Errorf("bad filter: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("incident page", func(t *testing.T) {
		resp, body := op.get(page)
		checkPage(t, page, resp, body)
		if resp.StatusCode != 200 {
			t.Fatalf("incident page: %d", resp.StatusCode)
		}
		for _, id := range samples {
			if !strings.Contains(body, `href="/calls/`+id+`"`) {
				t.Errorf("incident page lacks sample %s", id)
			}
		}
		for _, want := range []string{html.EscapeString(inc.Title), `<rect class="bar"`, "No notes yet", `action="` + page + `/acknowledge"`,
			`action="` + page + `/resolve"`, `action="` + page + `/ignore"`, `action="` + page + `/notes"`} {
			if !strings.Contains(body, want) {
				t.Errorf("incident page lacks %q", want)
			}
		}
		if strings.Contains(body, page+"/reopen") {
			t.Errorf("an open incident offers to reopen")
		}
		if resp, _ := op.get("/incidents/nope"); resp.StatusCode != 404 {
			t.Errorf("unknown incident: %d", resp.StatusCode)
		}
	})

	state := func(want triage.State) {
		t.Helper()
		var d triage.Detail
		if code := e.adminDo("GET", "/admin/v1/incidents/"+inc.ID, "", &d); code != 200 || d.State != want {
			t.Errorf("incident state %q (%d), want %q", d.State, code, want)
		}
	}

	t.Run("anti-forgery", func(t *testing.T) {
		_, body := op.get(page)
		tok := formToken(t, body)
		for name, f := range map[string]url.Values{"no token": {}, "wrong token": {"csrf_token": {strings.Repeat("0", 64)}}} {
			if resp, _ := op.post(page+"/acknowledge", f); resp.StatusCode != 403 {
				t.Errorf("%s: %d", name, resp.StatusCode)
			}
		}
		if resp, _ := op.post(page+"/acknowledge", url.Values{"csrf_token": {tok}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
			t.Errorf("cross-site: %d", resp.StatusCode)
		}
		if resp, _ := op.post(page+"/delete", url.Values{"csrf_token": {tok}}); resp.StatusCode != 404 {
			t.Errorf("unknown action: %d", resp.StatusCode)
		}
		state(triage.StateOpen)
	})

	t.Run("a viewer sees no actions and may not act", func(t *testing.T) {
		v := e.browser()
		if resp := v.signin("view@example.com", pw); resp.StatusCode != 303 {
			t.Fatalf("viewer sign-in: %d", resp.StatusCode)
		}
		resp, body := v.get(page)
		if resp.StatusCode != 200 || strings.Contains(body, page+"/") {
			t.Errorf("viewer's incident page: %d, action forms shown", resp.StatusCode)
		}
		resp, body = v.post(page+"/acknowledge", url.Values{"csrf_token": {formToken(t, body)}})
		checkPage(t, "403", resp, body)
		if resp.StatusCode != 403 || !strings.Contains(body, "may not incidents.write") {
			t.Errorf("viewer acknowledge: %d %s", resp.StatusCode, body)
		}
		state(triage.StateOpen)
	})

	t.Run("acknowledge, note, resolve through the forms", func(t *testing.T) {
		_, body := op.get(page)
		tok := formToken(t, body)
		resp, _ := op.post(page+"/acknowledge", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != page {
			t.Fatalf("acknowledge: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		state(triage.StateAcknowledged)
		_, body = op.get(page)
		if strings.Contains(body, page+"/acknowledge") || !strings.Contains(body, page+"/resolve") || !strings.Contains(body, page+"/reopen") {
			t.Errorf("an acknowledged incident's actions are wrong")
		}
		// A second acknowledge (a stale page) is the API's 409, shown.
		resp, body = op.post(page+"/acknowledge", url.Values{"csrf_token": {tok}})
		checkPage(t, "409", resp, body)
		if resp.StatusCode != 409 || !strings.Contains(body, "cannot be acknowledged from its current state") {
			t.Errorf("acknowledging twice: %d %s", resp.StatusCode, body)
		}
		if resp, body := op.post(page+"/notes", url.Values{"csrf_token": {tok}, "text": {"  "}}); resp.StatusCode != 400 || !strings.Contains(body, "text is required") {
			t.Errorf("empty note: %d", resp.StatusCode)
		}
		if resp, _ := op.post(page+"/notes", url.Values{"csrf_token": {tok}, "text": {"paging the provider"}}); resp.StatusCode != 303 {
			t.Errorf("note: %d", resp.StatusCode)
		}
		if resp, _ := op.post(page+"/resolve", url.Values{"csrf_token": {tok}}); resp.StatusCode != 303 {
			t.Fatalf("resolve: %d", resp.StatusCode)
		}
		state(triage.StateResolved)
		_, body = op.get(page)
		if !strings.Contains(body, "paging the provider") || !strings.Contains(body, "op@example.com") ||
			!strings.Contains(body, page+"/reopen") || strings.Contains(body, page+"/resolve") {
			t.Errorf("resolved incident page: %s", body)
		}
		if _, body := op.get("/incidents?state=resolved"); !strings.Contains(body, "/incidents/"+inc.ID+`"`) {
			t.Errorf("the board filtered by resolved lacks the incident")
		}
	})
}
