package console

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/auth"
)

// me is who is signed in, as GET /admin/v1/me says.
type me struct {
	Kind      string        `json:"kind"`
	Name      string        `json:"name"`
	Role      auth.Role     `json:"role"`
	Team      string        `json:"team"`
	Consumer  string        `json:"consumer"`
	Actions   []auth.Action `json:"actions"`
	CSRFToken string        `json:"csrf_token"`
}

// Can reports whether the role grants a, for showing only what the user
// may use; the admin API still checks every request.
func (m *me) Can(a string) bool { return slices.Contains(m.Actions, auth.Action(a)) }

// view is what every page template receives.
type view struct {
	Title string
	Me    *me
	// Nav is the current section, for aria-current.
	Nav string
	// CSRF is the token every form posts back.
	CSRF string
	// Error is a message shown above the page's content.
	Error string
	Data  any
}

var funcs = template.FuncMap{
	"ms":       func(us int64) string { return fmtMillis(float64(us) / 1000) },
	"millis":   fmtMillis,
	"num":      fmtNum,
	"pct":      fmtPct,
	"usd":      fmtUSD,
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"statusOK": func(code int) bool { return code > 0 && code < 400 },
	"deref":    func(p *float64) float64 { return *p },
	"priority": fmtPriority,
	"f1":       func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"labels":   labelText,
	"asset":    assetURL,
}

func fmtMillis(ms float64) string {
	switch {
	case ms >= 10000:
		return fmt.Sprintf("%.1f s", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}

func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func fmtPct(v float64) string { return fmt.Sprintf("%.2f%%", v*100) }

func fmtUSD(v float64) string {
	if v != 0 && math.Abs(v) < 0.01 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

// parse reads the embedded templates: each page with the layout.
func (s *Server) parse() (err error) {
	s.pages, err = parsePages(templateFS, "templates")
	return err
}

// parsePages parses every template of dir but its layout.html as a page
// named for its file, each with the layout.
func parsePages(fsys fs.FS, dir string) (map[string]*template.Template, error) {
	files, err := fs.Glob(fsys, dir+"/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing the templates of %s: %w", dir, err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		n := strings.TrimSuffix(path.Base(f), ".html")
		if n == "layout" {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(fsys, dir+"/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("parsing the template %s: %w", f, err)
		}
		pages[n] = t
	}
	return pages, nil
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, status int, page string, v view) {
	if err := writePage(w, s.pages[page], status, v); err != nil {
		s.logError("rendering console page", err, "page", page)
	}
}

// writePage executes t's layout with data into a buffer first: a template
// failure is answered with a plain 500, since half a page is worse than
// none, and returned for the log.
func writePage(w http.ResponseWriter, t *template.Template, status int, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "internal error; see the gateway's log", http.StatusInternalServerError)
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (s *Server) logError(msg string, err error, args ...any) {
	if s.Logger != nil {
		s.Logger.Error(msg, append(args, "error", err)...)
	}
}

// fail answers an error page for an admin API answer that was not 200, or
// a redirect to sign-in for a 401.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, m *me, res *apiResult) {
	if res.Status == http.StatusUnauthorized {
		s.toSignin(w, r)
		return
	}
	s.errorPage(w, r, m, res.Status, res.message())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, m *me, status int, msg string) {
	title := http.StatusText(status)
	if status == http.StatusForbidden {
		title = "Not allowed"
	}
	v := view{Title: title, Me: m, Error: msg, Data: status}
	if m != nil {
		v.CSRF = m.CSRFToken
	}
	s.render(w, status, "error", v)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, m *me, err error) {
	s.logError("console request failed", err, "path", r.URL.Path)
	s.errorPage(w, r, m, http.StatusInternalServerError, "internal error; see the gateway's log")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.errorPage(w, r, m, http.StatusNotFound, "there is no console page at "+r.URL.Path)
}

// toSignin sends the browser to the sign-in page, to come back here.
func (s *Server) toSignin(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// whoami resolves the signed-in user as the admin API does. Without a live
// session it redirects to sign-in and returns false.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) (*me, bool) {
	if c, err := r.Cookie(admin.SessionCookie); err != nil || c.Value == "" {
		s.toSignin(w, r)
		return nil, false
	}
	var m me
	res, ok, err := s.getJSON(w, r, "/admin/v1/me", nil, &m)
	if err != nil {
		s.internal(w, r, nil, err)
		return nil, false
	}
	if !ok {
		s.fail(w, r, nil, res)
		return nil, false
	}
	return &m, true
}

// sameOrigin refuses cross-site posts: a browser says where a request
// comes from in Sec-Fetch-Site, older ones only in Origin.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// checkPost is the anti-forgery check of every console form that acts as
// the signed-in user: same origin, and the session's token in the form. It
// answers 403 itself when the check fails.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, m *me) bool {
	c, err := r.Cookie(admin.SessionCookie)
	if !sameOrigin(r) || err != nil || !auth.CheckCSRF(c.Value, r.PostFormValue("csrf_token")) {
		s.errorPage(w, r, m, http.StatusForbidden, "the form's anti-forgery token is missing or wrong, or it was posted from another site: reload the page and try again")
		return false
	}
	return true
}

// newLoginToken returns the sign-in form's anti-forgery token, set as a
// cookie the form must echo (double submit). A token the browser already
// holds is kept: a browser loads other things beside the form (its
// favicon, a second tab), and a fresh token for each would leave the form
// on screen with a token that no longer matches.
func newLoginToken(w http.ResponseWriter, r *http.Request) string {
	return setLoginToken(w, r, loginCookie, "/signin")
}

// setLoginToken is newLoginToken for the sign-in form whose token is in
// cookie name, sent back to cookiePath (the console's, the portal's).
func setLoginToken(w http.ResponseWriter, r *http.Request, name, cookiePath string) string {
	tok := ""
	if c, err := r.Cookie(name); err == nil && len(c.Value) == 48 {
		if _, err := hex.DecodeString(c.Value); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		tok = hex.EncodeToString(b)
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: tok, Path: cookiePath, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return tok
}

func checkLoginToken(r *http.Request) bool { return checkLoginCookie(r, loginCookie) }

func checkLoginCookie(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	form := r.PostFormValue("csrf_token")
	return err == nil && c.Value != "" && form != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// localPath keeps a post-sign-in destination on this console.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/admin/") {
		return "/"
	}
	return next
}
