// Package console is the operator console served at / on the admin port:
// server-rendered HTML pages (html/template, embedded with the binary) that
// read and change things only through the admin API's own handler, called
// in-process with the browser's session cookie. Every permission check,
// consumer or team scope, sign-in throttle and audit entry is therefore the
// admin API's, never a second copy of it. The console adds what a browser
// needs on top: forms with anti-forgery tokens, a strict
// Content-Security-Policy, redirects to the sign-in page and HTML errors.
package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is sent with every console response: no inline
// script or style anywhere, nothing loaded from another origin, forms only
// posted back to the console, and no framing (clickjacking).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// loginCookie holds the anti-forgery token of the sign-in form, which has
// no session yet to derive one from.
const loginCookie = "hypergate_console_login"

// Server is the console's HTTP handler.
type Server struct {
	// API is the admin API's handler (admin.Server.Handler). Requests the
	// console does not serve itself — /admin/v1/..., /healthz, /readyz,
	// /metrics, /debug/pprof/ — go to it unchanged.
	API http.Handler
	// Now is the clock of the overview's ranges; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger

	pages map[string]*template.Template
	mux   *http.ServeMux
}

// apiPrefixes are the paths of the admin port that belong to the admin API.
var apiPrefixes = []string{"/admin/", "/debug/"}

var apiPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/admin": true}

// Handler returns the admin port's handler: the admin API under its paths,
// the console everywhere else.
func (s *Server) Handler() http.Handler {
	if err := s.parse(); err != nil {
		// The templates are embedded: a parse error is a build defect
		// that every test catches.
		panic(err)
	}
	s.mux = http.NewServeMux()
	s.mux.Handle("GET /static/", staticHandler())
	s.mux.HandleFunc("GET /signin", s.signinPage)
	s.mux.HandleFunc("POST /signin", s.signin)
	s.mux.HandleFunc("POST /signout", s.signout)
	s.mux.HandleFunc("GET /signin/setup", s.setupPage)
	s.mux.HandleFunc("POST /signin/setup", s.setup)
	s.mux.HandleFunc("GET /{$}", s.overview)
	s.mux.HandleFunc("GET /calls", s.calls)
	s.mux.HandleFunc("GET /calls/{id}", s.call)
	s.mux.HandleFunc("POST /calls/{id}/feedback", s.callFeedback)
	s.mux.HandleFunc("GET /incidents", s.incidents)
	s.mux.HandleFunc("GET /incidents/{id}", s.incident)
	s.mux.HandleFunc("POST /incidents/{id}/{action}", s.incidentAction)
	s.mux.HandleFunc("GET /alerts", s.alerts)
	s.mux.HandleFunc("POST /alerts/silences", s.createSilence)
	s.mux.HandleFunc("POST /alerts/silences/{id}/expire", s.expireSilence)
	s.mux.HandleFunc("GET /services", s.services)
	s.mux.HandleFunc("GET /services/new", s.newService)
	s.mux.HandleFunc("POST /services", s.createService)
	s.mux.HandleFunc("GET /services/{name}", s.service)
	s.mux.HandleFunc("POST /services/{name}/draft", s.saveDraft)
	s.mux.HandleFunc("POST /services/{name}/draft/discard", s.discardDraft)
	s.mux.HandleFunc("POST /services/{name}/publish", s.publish)
	s.mux.HandleFunc("POST /services/{name}/canary/{op}", s.canary)
	s.mux.HandleFunc("POST /services/{name}/{action}", s.lifecycle)
	s.mux.HandleFunc("GET /services/{name}/releases/{n}", s.release)
	s.mux.HandleFunc("POST /services/{name}/releases/{n}/rollback", s.rollback)
	s.mux.HandleFunc("GET /teams", s.teams)
	s.mux.HandleFunc("POST /teams", s.createTeam)
	s.mux.HandleFunc("GET /teams/{name}", s.teamPage)
	s.mux.HandleFunc("POST /teams/{name}", s.updateTeam)
	s.mux.HandleFunc("POST /teams/{name}/delete", s.deleteTeam)
	s.mux.HandleFunc("POST /teams/{name}/members", s.addMember)
	s.mux.HandleFunc("POST /teams/{name}/members/{user}/remove", s.removeMember)
	s.mux.HandleFunc("GET /users", s.users)
	s.mux.HandleFunc("POST /users", s.createUser)
	s.mux.HandleFunc("GET /users/{user}", s.userPage)
	s.mux.HandleFunc("POST /users/{user}", s.updateUser)
	s.mux.HandleFunc("POST /users/{user}/password", s.resetPassword)
	s.mux.HandleFunc("POST /users/{user}/delete", s.deleteUser)
	s.mux.HandleFunc("GET /roles", s.rolesPage)
	s.mux.HandleFunc("GET /tokens", s.tokens)
	s.mux.HandleFunc("POST /tokens", s.createToken)
	s.mux.HandleFunc("POST /tokens/{id}/revoke", s.revokeToken)
	s.mux.HandleFunc("GET /account", s.account)
	s.mux.HandleFunc("POST /account/password", s.changePassword)
	s.mux.HandleFunc("GET /audit", s.audit)
	s.mux.HandleFunc("GET /hypercare", s.hypercareList)
	s.mux.HandleFunc("GET /hypercare/{name}", s.hypercareWindowPage)
	s.mux.HandleFunc("GET /review", s.reviewList)
	s.mux.HandleFunc("POST /review", s.createReviewQueue)
	s.mux.HandleFunc("GET /review/{queue}", s.reviewQueuePage)
	s.mux.HandleFunc("POST /review/{queue}/next", s.reviewNext)
	s.mux.HandleFunc("GET /review/{queue}/items/{id}", s.reviewItemPage)
	s.mux.HandleFunc("POST /review/{queue}/items/{id}/{action}", s.reviewAction)
	s.mux.HandleFunc("POST /calls/{id}/review", s.addToReview)
	s.mux.HandleFunc("GET /models", s.models)
	s.mux.HandleFunc("POST /models", s.createModel)
	s.mux.HandleFunc("GET /models/{name}", s.model)
	s.mux.HandleFunc("POST /models/{name}", s.updateModel)
	s.mux.HandleFunc("POST /models/{name}/delete", s.deleteModel)
	s.mux.HandleFunc("GET /providers", s.providers)
	s.mux.HandleFunc("POST /providers", s.createProvider)
	s.mux.HandleFunc("POST /providers/{name}/delete", s.deleteProvider)
	s.mux.HandleFunc("GET /applications", s.applications)
	s.mux.HandleFunc("POST /applications", s.createApplication)
	s.mux.HandleFunc("GET /applications/{name}", s.applicationPage)
	s.mux.HandleFunc("POST /applications/{name}/delete", s.deleteApplication)
	s.mux.HandleFunc("POST /applications/{name}/keys", s.keyAction("create"))
	s.mux.HandleFunc("POST /applications/{name}/keys/{id}/rotate", s.keyAction("rotate"))
	s.mux.HandleFunc("POST /applications/{name}/keys/{id}/revoke", s.keyAction("revoke"))
	s.mux.HandleFunc("POST /applications/{name}/publishable-keys", s.keyAction("create-publishable"))
	s.mux.HandleFunc("POST /applications/{name}/publishable-keys/{id}/revoke", s.keyAction("revoke-publishable"))
	s.mux.HandleFunc("GET /config", s.configPage)
	s.mux.HandleFunc("POST /config", s.applyConfig)
	s.mux.HandleFunc("GET /config/revisions/{n}", s.revisionPage)
	s.mux.HandleFunc("POST /config/revisions/{n}/restore", s.restoreRevision)
	s.mux.HandleFunc("GET /subscriptions", s.subscriptions)
	s.mux.HandleFunc("POST /subscriptions/{id}/{action}", s.decideSubscription)
	// Pages name their icon; a browser that asks for /favicon.ico anyway
	// gets the same one, never a trip through sign-in.
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, assetURL("favicon.svg"), http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("/", s.notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiPaths[r.URL.Path] || hasAnyPrefix(r.URL.Path, apiPrefixes) {
			s.API.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		setPageHeaders(h)
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Pages show call bodies and who is signed in: never cached.
			h.Set("Cache-Control", "no-store")
		}
		s.mux.ServeHTTP(w, r)
	})
}

// setPageHeaders sets the security headers of every console and portal
// response: the Content-Security-Policy, no sniffing, no framing, no
// referrer beyond the origin and no opener across origins.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

func hasAnyPrefix(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// apiResult is the admin API's answer to a sub-request.
type apiResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// apiError is the admin API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// message is the admin API's error message, for showing on a page.
func (res *apiResult) message() string {
	var e apiError
	if json.Unmarshal(res.Body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return http.StatusText(res.Status)
}

// recorder is the ResponseWriter of a sub-request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rw *recorder) Header() http.Header { return rw.header }
func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 {
		rw.status = code
	}
}
func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	return rw.body.Write(b)
}

// api calls the admin API in-process as the browser's session: only the
// session cookie is passed on, with the peer's address (for the sign-in
// throttle), TLS state (for the cookie's Secure attribute) and request ID.
// csrf, for a request that changes something, is the form's anti-forgery
// token, which the admin API checks again. Cookies the API sets or clears
// are passed back to the browser.
func (s *Server) api(w http.ResponseWriter, r *http.Request, method, path string, q url.Values, body any, csrf string) (*apiResult, error) {
	return s.send(w, r, method, path, q, body, func(req *http.Request) {
		if c, err := r.Cookie(admin.SessionCookie); err == nil {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		if csrf != "" {
			req.Header.Set(admin.CSRFHeader, csrf)
		}
	})
}

// send makes the in-process sub-request of api; credential sets what the
// request authenticates with.
func (s *Server) send(w http.ResponseWriter, r *http.Request, method, path string, q url.Values, body any, credential func(*http.Request)) (*apiResult, error) {
	return subRequest(w, r, s.API, method, path, q, body, credential)
}

// subRequest calls h in-process on behalf of the browser's request r: only
// what credential sets authenticates it, with r's peer address (for the
// sign-in throttle), TLS state (for the cookie's Secure attribute), user
// agent and request ID. Cookies h sets or clears are passed back to the
// browser through w.
func subRequest(w http.ResponseWriter, r *http.Request, h http.Handler, method, path string, q url.Values, body any, credential func(*http.Request)) (*apiResult, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding the body of %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(r.Context(), method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("making the request %s %s: %w", method, path, err)
	}
	req.RemoteAddr, req.TLS, req.Host = r.RemoteAddr, r.TLS, r.Host
	req.Header.Set("User-Agent", r.UserAgent())
	if id := r.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	credential(req)
	rw := &recorder{header: http.Header{}}
	h.ServeHTTP(rw, req)
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	for _, c := range rw.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
	return &apiResult{Status: rw.status, Header: rw.header, Body: rw.body.Bytes()}, nil
}

// getJSON reads an admin API resource into out. ok is false when the
// answer was not 200; res says what it was.
func (s *Server) getJSON(w http.ResponseWriter, r *http.Request, path string, q url.Values, out any) (res *apiResult, ok bool, err error) {
	res, err = s.api(w, r, http.MethodGet, path, q, nil, "")
	return decodeOK(res, err, path, out)
}

// load reads an admin API resource into out for a page. When it cannot,
// it answers the error page (or the redirect to sign-in) itself and
// returns false.
func (s *Server) load(w http.ResponseWriter, r *http.Request, m *me, path string, q url.Values, out any) bool {
	res, ok, err := s.getJSON(w, r, path, q, out)
	switch {
	case err != nil:
		s.internal(w, r, m, err)
	case !ok:
		s.fail(w, r, m, res)
	}
	return err == nil && ok
}

// decodeOK decodes a sub-request's 200 answer into out; ok is false for
// any other answer, which res then holds.
func decodeOK(res *apiResult, err error, path string, out any) (*apiResult, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if res.Status != http.StatusOK {
		return res, false, nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return res, false, fmt.Errorf("decoding %s: %w", path, err)
	}
	return res, true, nil
}
