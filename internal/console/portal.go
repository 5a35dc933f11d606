package console

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/feedback"
)

// The developer portal faces the API's consumers, so it is served on the
// data plane under a reserved prefix, apart from the console. It never sees
// the admin API whole: its JSON endpoints and its pages reach the admin API
// only through an allow-list of the routes a consumer needs, with the
// portal's own session cookie as the only credential.

//go:embed templates/portal/*.html
var portalFS embed.FS

// PortalCookie holds a portal session: the same session secret the admin
// API's sign-in issues, scoped to the portal's path.
const PortalCookie = "hypergate_portal_session"

// portalLoginCookie holds the anti-forgery token of the portal's sign-in
// form.
const portalLoginCookie = "hypergate_portal_login"

// DefaultPortalPath is where the portal is served on the data plane unless
// configured otherwise.
const DefaultPortalPath = "/portal"

// PageFeedback stores "was this page helpful?" answers (feedback.Service).
type PageFeedback interface {
	SubmitPage(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.PageFeedback, bool, error)
}

// Portal is the developer portal's HTTP handler.
type Portal struct {
	// API is the admin API's handler; only the routes in portalRoutes are
	// ever called on it.
	API http.Handler
	// Prefix is the path the portal is served under, e.g. /portal.
	Prefix string
	// Feedback stores the documentation pages' feedback; nil hides the
	// question.
	Feedback PageFeedback
	// Now is the clock of the usage charts; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger

	pages map[string]*template.Template
	api   *http.ServeMux
}

// portalRoutes are the admin API routes the portal reaches, as ServeMux
// patterns relative to /admin/v1 (and to <prefix>/api/v1). Nothing else of
// the admin API is reachable from the portal.
var portalRoutes = []string{
	"POST /login",
	"POST /logout",
	"GET /me",
	"GET /catalog",
	"GET /catalog/{service}",
	"GET /services/{name}/openapi",
	"GET /consumers",
	"POST /consumers",
	"GET /consumers/{name}",
	"POST /consumers/{name}/keys",
	"GET /keys",
	"DELETE /keys/{id}",
	"GET /subscriptions",
	"POST /subscriptions",
	"GET /subscriptions/{id}",
	"GET /analytics/timeseries",
}

// consumerOnly are the routes of portalRoutes that read across consumers
// unless told one: the portal asks for one application at a time.
var consumerOnly = map[string]bool{"GET /keys": true, "GET /analytics/timeseries": true}

// forwarded are the request headers passed on to the admin API; the
// Authorization header never is, so no token is accepted through the portal.
var forwarded = []string{"Content-Type", "Accept", "User-Agent", "X-Request-Id", "If-None-Match", admin.CSRFHeader}

// Handler returns the portal's handler. It expects every request under
// Prefix; the caller routes only those to it.
func (p *Portal) Handler() http.Handler {
	if err := p.parse(); err != nil {
		panic(err) // embedded templates: a build defect every test catches
	}
	p.Prefix = strings.TrimSuffix(p.Prefix, "/")
	p.api = http.NewServeMux()
	for _, pat := range portalRoutes {
		p.api.HandleFunc(pat, p.forward)
	}
	p.api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "not_found", "no portal endpoint "+r.Method+" "+r.URL.Path)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", http.HandlerFunc(p.serveAPI)))
	mux.HandleFunc("GET /signin", p.signinPage)
	mux.HandleFunc("POST /signin", p.signin)
	mux.HandleFunc("POST /signout", p.signout)
	mux.HandleFunc("GET /{$}", p.catalog)
	mux.HandleFunc("GET /services/{name}", p.service)
	mux.HandleFunc("POST /services/{name}/subscribe", p.subscribe)
	mux.HandleFunc("POST /services/{name}/feedback", p.pageFeedback)
	mux.HandleFunc("GET /apps", p.apps)
	mux.HandleFunc("POST /apps", p.createApp)
	mux.HandleFunc("GET /apps/{name}", p.app)
	mux.HandleFunc("POST /apps/{name}/keys", p.createKey)
	mux.HandleFunc("POST /apps/{name}/keys/{id}/revoke", p.revokeKey)
	mux.HandleFunc("/", p.notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setPageHeaders(h)
		rest, ok := strings.CutPrefix(r.URL.Path, p.Prefix)
		switch {
		case !ok || (rest != "" && rest[0] != '/'):
			http.NotFound(w, r)
			return
		case rest == "":
			http.Redirect(w, r, p.Prefix+"/", http.StatusMovedPermanently)
			return
		case path.Clean(rest) != rest && path.Clean(rest)+"/" != rest:
			// Not redirected to the cleaned path, as ServeMux would:
			// the portal's paths are matched as sent.
			http.NotFound(w, r)
			return
		}
		if !strings.HasPrefix(rest, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		r2.URL = &u
		mux.ServeHTTP(w, r2)
	})
}

// Owns reports whether path is the portal's: the caller serves it with
// Handler rather than the gateway.
func (p *Portal) Owns(path string) bool {
	pre := strings.TrimSuffix(p.Prefix, "/")
	return path == pre || strings.HasPrefix(path, pre+"/")
}

// serveAPI answers the portal's JSON endpoints: the allow-listed admin
// routes, nothing else.
func (p *Portal) serveAPI(w http.ResponseWriter, r *http.Request) {
	// A path ServeMux would clean (.., //) is refused rather than
	// redirected: the allow-list is matched on the path as sent.
	if r.URL.Path == "" || path.Clean(r.URL.Path) != r.URL.Path {
		writeAPIError(w, http.StatusNotFound, "not_found", "no portal endpoint "+r.URL.Path)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	p.api.ServeHTTP(w, r)
}

func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// forward calls the admin API in-process for an allow-listed route: the
// portal cookie becomes the admin session cookie, only the headers in
// forwarded pass, and the session cookies the API sets are rewritten to
// the portal's, so the admin cookie never reaches the browser.
func (p *Portal) forward(w http.ResponseWriter, r *http.Request) {
	if consumerOnly[r.Pattern] && r.URL.Query().Get("consumer") == "" {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "consumer is required: the portal reads one application at a time")
		return
	}
	target := "/admin/v1" + r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, r.Body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "malformed path")
		return
	}
	req.RemoteAddr, req.TLS, req.Host = r.RemoteAddr, r.TLS, r.Host
	for _, h := range forwarded {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if c, err := r.Cookie(PortalCookie); err == nil && c.Value != "" {
		req.AddCookie(&http.Cookie{Name: admin.SessionCookie, Value: c.Value})
	}
	rw := &recorder{header: http.Header{}}
	p.API.ServeHTTP(rw, req)
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	body := rw.body.Bytes()
	if r.Pattern == "POST /login" && rw.status == http.StatusOK {
		// The secret lives in an HttpOnly cookie; a page's script has no
		// business reading it from the answer.
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			delete(m, "session_token")
			if b, err := json.Marshal(m); err == nil {
				body = b
			}
		}
	}
	for k, vs := range rw.header {
		if k != "Set-Cookie" && k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	for _, c := range (&http.Response{Header: rw.header}).Cookies() {
		if c.Name == admin.SessionCookie {
			http.SetCookie(w, p.sessionCookie(r, c))
		}
	}
	w.WriteHeader(rw.status)
	_, _ = w.Write(body)
}

// sessionCookie turns the admin API's session cookie into the portal's.
func (p *Portal) sessionCookie(r *http.Request, c *http.Cookie) *http.Cookie {
	return &http.Cookie{Name: PortalCookie, Value: c.Value, Path: p.Prefix, Expires: c.Expires, MaxAge: c.MaxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

// call is the pages' way to the admin API: through the same allow-list as
// the portal's JSON endpoints, so a page can do no more than they can.
// path is relative to /api/v1; csrf is the form's token for a change.
func (p *Portal) call(w http.ResponseWriter, r *http.Request, method, path string, q url.Values, body any, csrf string) (*apiResult, error) {
	return subRequest(w, r, http.HandlerFunc(p.serveAPI), method, path, q, body, func(req *http.Request) {
		if c, err := r.Cookie(PortalCookie); err == nil {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		if csrf != "" {
			req.Header.Set(admin.CSRFHeader, csrf)
		}
	})
}

// getJSON reads a portal API resource into out; ok is false when the
// answer was not 200.
func (p *Portal) getJSON(w http.ResponseWriter, r *http.Request, path string, q url.Values, out any) (*apiResult, bool, error) {
	res, err := p.call(w, r, http.MethodGet, path, q, nil, "")
	return decodeOK(res, err, path, out)
}

// portalView is what every portal page receives.
type portalView struct {
	view
	// Prefix is where the portal is served, for its links.
	Prefix string
}

// parse reads the portal's templates: each page with the portal's layout.
func (p *Portal) parse() (err error) {
	p.pages, err = parsePages(portalFS, "templates/portal")
	return err
}

func (p *Portal) render(w http.ResponseWriter, status int, page string, v view) {
	if err := writePage(w, p.pages[page], status, portalView{view: v, Prefix: p.Prefix}); err != nil {
		p.logError("rendering portal page", err, "page", page)
	}
}

func (p *Portal) logError(msg string, err error, args ...any) {
	if p.Logger != nil {
		p.Logger.Error(msg, append(args, "error", err)...)
	}
}

func (p *Portal) errorPage(w http.ResponseWriter, m *me, status int, msg string) {
	title := http.StatusText(status)
	if status == http.StatusForbidden {
		title = "Not allowed"
	}
	v := view{Title: title, Me: m, Error: msg, Data: status}
	if m != nil {
		v.CSRF = m.CSRFToken
	}
	p.render(w, status, "error", v)
}

// fail answers an admin API refusal: sign-in for a 401, else an error page.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, m *me, res *apiResult) {
	if res.Status == http.StatusUnauthorized {
		p.toSignin(w, r)
		return
	}
	p.errorPage(w, m, res.Status, res.message())
}

func (p *Portal) internal(w http.ResponseWriter, r *http.Request, m *me, err error) {
	p.logError("portal request failed", err, "path", r.URL.Path)
	p.errorPage(w, m, http.StatusInternalServerError, "internal error; see the gateway's log")
}

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok {
		return
	}
	p.errorPage(w, m, http.StatusNotFound, "there is no portal page at "+p.Prefix+r.URL.Path)
}

// toSignin sends the browser to the portal's sign-in page, to come back.
func (p *Portal) toSignin(w http.ResponseWriter, r *http.Request) {
	target := p.Prefix + "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// whoami resolves the signed-in user; without a live portal session it
// redirects to sign-in and returns false.
func (p *Portal) whoami(w http.ResponseWriter, r *http.Request) (*me, bool) {
	if c, err := r.Cookie(PortalCookie); err != nil || c.Value == "" {
		p.toSignin(w, r)
		return nil, false
	}
	var m me
	res, ok, err := p.getJSON(w, r, "/me", nil, &m)
	if err != nil {
		p.internal(w, r, nil, err)
		return nil, false
	}
	if !ok {
		if res.Status == http.StatusUnauthorized {
			http.SetCookie(w, &http.Cookie{Name: PortalCookie, Path: p.Prefix, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		}
		p.fail(w, r, nil, res)
		return nil, false
	}
	return &m, true
}

// checkPost is the anti-forgery check of every portal form that acts as
// the signed-in user; it answers 403 itself when the check fails.
func (p *Portal) checkPost(w http.ResponseWriter, r *http.Request, m *me) bool {
	c, err := r.Cookie(PortalCookie)
	if !sameOrigin(r) || err != nil || !auth.CheckCSRF(c.Value, r.PostFormValue("csrf_token")) {
		p.errorPage(w, m, http.StatusForbidden, "the form's anti-forgery token is missing or wrong, or it was posted from another site: reload the page and try again")
		return false
	}
	return true
}

// localNext keeps a post-sign-in destination inside the portal; it is
// relative to the prefix.
func localNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/api/") {
		return "/"
	}
	return next
}
