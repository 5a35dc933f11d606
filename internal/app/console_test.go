package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/app"
)

// browser is a console user agent: it keeps cookies and does not follow
// redirects, so that tests see them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.admin, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post submits a form as a same-origin browser does.
func (b *browser) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

func formToken(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token field in %s", page)
	}
	return m[1]
}

// signin signs in through the console's form and returns the answer.
func (b *browser) signin(email, password string) *http.Response {
	b.t.Helper()
	_, page := b.get("/signin")
	resp, _ := b.post("/signin", url.Values{"csrf_token": {formToken(b.t, page)}, "email": {email}, "password": {password}})
	return resp
}

// checkPage checks what every console page must have: the security
// headers and no inline script or style.
func checkPage(t *testing.T, name string, resp *http.Response, body string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", name, csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Errorf("%s: headers %v", name, resp.Header)
	}
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("%s: inline script %s", name, tag)
		}
	}
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`(?i)\sstyle=`), regexp.MustCompile(`(?i)<style`), regexp.MustCompile(`(?i)\son[a-z]+=`)} {
		if bad.MatchString(body) {
			t.Errorf("%s: inline script or style (%s) in %s", name, bad, body)
		}
	}
}

func TestConsolePages(t *testing.T) {
	e := start(t)
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"view@example.com","role":"viewer","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"app@example.com","role":"consumer","consumer":"other","password":"`+pw+`"}`)

	send := func(key, model string) string {
		resp, b := e.do("POST", "/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hello console"}]}`)
		id := resp.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatalf("no request id: %d %s", resp.StatusCode, b)
		}
		e.call(id)
		return id
	}
	shopCall := send(shopKey, "gpt-4o-mini")
	failed := send(shopKey, "error-500")
	otherCall := send(otherKey, "gpt-4o-mini")

	anon := e.browser()
	t.Run("unauthenticated pages redirect to sign-in", func(t *testing.T) {
		for _, p := range []string{"/", "/calls", "/calls/" + shopCall} {
			resp, _ := anon.get(p)
			if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
				t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
			}
			checkPage(t, p, resp, "")
		}
		resp, body := anon.get("/signin")
		checkPage(t, "/signin", resp, body)
		if resp.StatusCode != 200 || !strings.Contains(body, `<label for="email">`) || !strings.Contains(body, `<main`) {
			t.Errorf("sign-in page: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("the admin API is unchanged on the same port", func(t *testing.T) {
		resp, body := anon.get("/admin/v1/me")
		if resp.StatusCode != 401 || !strings.Contains(body, `"unauthorized"`) {
			t.Errorf("admin API: %d %s", resp.StatusCode, body)
		}
		if resp, _ := anon.get("/healthz"); resp.StatusCode != 200 {
			t.Errorf("/healthz: %d", resp.StatusCode)
		}
	})

	op := e.browser()
	t.Run("sign-in form", func(t *testing.T) {
		_, page := op.get("/signin")
		resp, body := op.post("/signin", url.Values{"email": {"op@example.com"}, "password": {pw}})
		if resp.StatusCode != 403 || strings.Contains(resp.Header.Get("Set-Cookie"), "hypergate_session=hgs") {
			t.Errorf("sign-in without the form token: %d %s", resp.StatusCode, body)
		}
		resp, _ = op.post("/signin", url.Values{"csrf_token": {formToken(t, page)}, "email": {"op@example.com"}, "password": {pw}},
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if resp.StatusCode != 403 {
			t.Errorf("cross-site sign-in: %d", resp.StatusCode)
		}
		// A browser fetches its icon, and may open a second sign-in page,
		// while the first form is on screen: that form must still work.
		_, first := op.get("/signin")
		if resp, _ := op.get("/favicon.ico"); resp.StatusCode != 301 || !strings.HasPrefix(resp.Header.Get("Location"), "/static/favicon.svg?v=") {
			t.Errorf("/favicon.ico: %d %s, want the console's icon", resp.StatusCode, resp.Header.Get("Location"))
		}
		op.get("/signin?next=%2Fcalls")
		resp, _ = op.post("/signin", url.Values{"csrf_token": {formToken(t, first)}, "email": {"op@example.com"}, "password": {pw}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
			t.Fatalf("sign-in from the first form after other pages loaded: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, home := op.get("/")
		op.post("/signout", url.Values{"csrf_token": {formToken(t, home)}})
		if resp := op.signin("op@example.com", pw); resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		var session *http.Cookie
		u, _ := url.Parse(e.admin)
		for _, c := range op.c.Jar.Cookies(u) {
			if c.Name == "hypergate_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatal("no session cookie after sign-in")
		}
	})

	t.Run("overview", func(t *testing.T) {
		resp, body := op.get("/")
		checkPage(t, "/", resp, body)
		for _, want := range []string{"Requests", "Error rate", "p95 latency", "Tokens", "Cost", "<svg", "<polyline class=\"line-requests\"",
			"Open incidents", "Firing alerts", "Active hypercare windows", "op@example.com"} {
			if !strings.Contains(body, want) {
				t.Errorf("overview lacks %q: %s", want, body)
			}
		}
		if resp.StatusCode != 200 {
			t.Errorf("overview: %d", resp.StatusCode)
		}
	})

	t.Run("call explorer and call page", func(t *testing.T) {
		resp, body := op.get("/calls")
		checkPage(t, "/calls", resp, body)
		for _, id := range []string{shopCall, failed, otherCall} {
			if !strings.Contains(body, "/calls/"+id) {
				t.Errorf("explorer lacks %s", id)
			}
		}
		resp, body = op.get("/calls?status=500")
		if resp.StatusCode != 200 || !strings.Contains(body, failed) || strings.Contains(body, shopCall) {
			t.Errorf("status filter: %d", resp.StatusCode)
		}
		resp, body = op.get("/calls?status=abc")
		checkPage(t, "/calls?status=abc", resp, body)
		if resp.StatusCode != 400 || !strings.Contains(body, "is not an HTTP status code") {
			t.Errorf("bad filter: %d %s", resp.StatusCode, body)
		}
		resp, body = op.get("/calls/" + shopCall)
		checkPage(t, "/calls/{id}", resp, body)
		for _, want := range []string{"Attempts", "gpt-4o-mini", "hello console", "No feedback yet", `action="/calls/` + shopCall + `/feedback"`} {
			if !strings.Contains(body, want) {
				t.Errorf("call page lacks %q: %s", want, body)
			}
		}
		if resp, _ := op.get("/calls/nope"); resp.StatusCode != 404 {
			t.Errorf("unknown call: %d", resp.StatusCode)
		}
	})

	t.Run("feedback form and CSRF", func(t *testing.T) {
		_, page := op.get("/calls/" + shopCall)
		tok := formToken(t, page)
		form := url.Values{"name": {"helpful"}, "value": {"false"}, "comment": {"wrong answer"}}
		for name, f := range map[string]url.Values{"no token": form, "wrong token": with(form, "csrf_token", strings.Repeat("0", 64))} {
			if resp, _ := op.post("/calls/"+shopCall+"/feedback", f); resp.StatusCode != 403 {
				t.Errorf("%s: %d", name, resp.StatusCode)
			}
		}
		if resp, _ := op.post("/calls/"+shopCall+"/feedback", with(form, "csrf_token", tok), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
			t.Errorf("cross-site: %d", resp.StatusCode)
		}
		resp, _ := op.post("/calls/"+shopCall+"/feedback", with(form, "csrf_token", tok))
		if resp.StatusCode != 303 {
			t.Fatalf("feedback: %d", resp.StatusCode)
		}
		_, body := op.get("/calls/" + shopCall)
		if !strings.Contains(body, "wrong answer") || !strings.Contains(body, "op@example.com") {
			t.Errorf("feedback not shown: %s", body)
		}
	})

	t.Run("a viewer may not post feedback", func(t *testing.T) {
		v := e.browser()
		if resp := v.signin("view@example.com", pw); resp.StatusCode != 303 {
			t.Fatalf("viewer sign-in: %d", resp.StatusCode)
		}
		resp, page := v.get("/calls/" + shopCall)
		if resp.StatusCode != 200 || strings.Contains(page, "/feedback\"") {
			t.Errorf("viewer's call page: %d, feedback form shown", resp.StatusCode)
		}
		resp, body := v.post("/calls/"+shopCall+"/feedback", url.Values{"csrf_token": {formToken(t, page)}, "name": {"helpful"}, "value": {"true"}})
		checkPage(t, "403", resp, body)
		if resp.StatusCode != 403 || !strings.Contains(body, "may not feedback.write") {
			t.Errorf("viewer feedback: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("a consumer-role user sees only its consumer's calls", func(t *testing.T) {
		c := e.browser()
		if resp := c.signin("app@example.com", pw); resp.StatusCode != 303 {
			t.Fatalf("consumer sign-in: %d", resp.StatusCode)
		}
		_, body := c.get("/calls")
		if !strings.Contains(body, otherCall) || strings.Contains(body, shopCall) || strings.Contains(body, failed) {
			t.Errorf("consumer's explorer: %s", body)
		}
		if resp, _ := c.get("/calls/" + shopCall); resp.StatusCode != 404 {
			t.Errorf("another consumer's call: %d", resp.StatusCode)
		}
		if resp, _ := c.get("/calls/" + otherCall); resp.StatusCode != 200 {
			t.Errorf("own call: %d", resp.StatusCode)
		}
	})

	t.Run("sign-out needs the token and ends the session", func(t *testing.T) {
		_, page := op.get("/")
		if resp, _ := op.post("/signout", url.Values{"csrf_token": {"x"}}); resp.StatusCode != 403 {
			t.Errorf("sign-out with a wrong token: %d", resp.StatusCode)
		}
		resp, _ := op.post("/signout", url.Values{"csrf_token": {formToken(t, page)}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/signin" {
			t.Errorf("sign-out: %d", resp.StatusCode)
		}
		if resp, _ := op.get("/"); resp.StatusCode != 303 {
			t.Errorf("after sign-out: %d", resp.StatusCode)
		}
	})
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = vv
	}
	out.Set(k, val)
	return out
}

func TestConsoleSigninThrottle(t *testing.T) {
	e := start(t, func(*app.Settings) {})
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"ana@example.com","role":"viewer","password":"a long console passphrase"}`)
	b := e.browser()
	var last *http.Response
	for range 5 {
		last = b.signin("ana@example.com", "not the password")
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Errorf("after failed sign-ins: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// The throttle is the admin API's own: its sign-in is refused too.
	if resp, _ := e.login("ana@example.com", "a long console passphrase"); resp.StatusCode != 429 {
		t.Errorf("admin API sign-in after the console's failures: %d", resp.StatusCode)
	}
}
