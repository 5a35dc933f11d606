package admin

import (
	"crypto/tls"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// TestEveryRouteDeclaresAnAction reads the package's source: every route
// (a call whose first argument is "METHOD /path" or a "/prefix/") must be
// registered through router.handle with an action from the permission
// table, and nothing else in the package may register on a mux, so that
// no endpoint can skip the permission check.
func TestEveryRouteDeclaresAnAction(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") {
				if fn := enclosingFunc(f, call.Pos()); fn != "handle" {
					t.Errorf("%s: %s.%s in %s registers a route past the permission check; use router.handle",
						fset.Position(call.Pos()), exprString(sel.X), sel.Sel.Name, fn)
				}
			}
			if len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			if !routePattern.MatchString(s) && !(strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/")) {
				return true
			}
			if len(call.Args) != 4 {
				t.Errorf("%s: route %q is not registered as handle(pattern, action, target, handler)", fset.Position(lit.Pos()), s)
				return true
			}
			sel, ok := call.Args[1].(*ast.SelectorExpr)
			if !ok || exprString(sel.X) != "auth" || !strings.HasPrefix(sel.Sel.Name, "Action") {
				t.Errorf("%s: route %q does not declare an auth.Action constant", fset.Position(lit.Pos()), s)
				return true
			}
			declared++
			return true
		})
	}
	routes := (&Server{Metrics: http.NotFoundHandler()}).Routes()
	if declared != len(routes) {
		t.Errorf("%d routes declared in the source, %d registered", declared, len(routes))
	}
	for _, r := range routes {
		if _, ok := r.Action.Spec(); !ok {
			t.Errorf("route %q declares %q, not in the permission table", r.Pattern, r.Action)
		}
	}
}

// TestUndeclaredActionPanics checks the runtime half of the rule: an action
// the permission table does not know cannot be registered.
func TestUndeclaredActionPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering a route with an unknown action did not panic")
		}
	}()
	rt := &router{s: &Server{}, mux: http.NewServeMux()}
	rt.handle("GET /admin/v1/new", auth.Action("new.thing"), nil, func(http.ResponseWriter, *http.Request) error { return nil })
}

func enclosingFunc(f *ast.File, pos token.Pos) string {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos < fd.End() {
			return fd.Name.Name
		}
	}
	return ""
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return "?"
}

// TestOpenAPIActions checks that the document names, for every operation,
// the action the router declares for it.
func TestOpenAPIActions(t *testing.T) {
	d := loadOASDoc(t)
	declared := map[string]auth.Action{}
	for _, r := range (&Server{Metrics: http.NotFoundHandler()}).Routes() {
		declared[r.Pattern] = r.Action
	}
	for _, o := range d.operations(t) {
		got, _ := o.op["x-hypergate-action"].(string)
		if want, ok := declared[o.key()]; !ok {
			t.Errorf("%s is documented but not routed", o.key())
		} else if got != string(want) {
			t.Errorf("%s: x-hypergate-action %q, the route declares %q", o.key(), got, want)
		}
		spec, _ := auth.Action(got).Spec()
		if public := spec.Scope == auth.ScopePublic; public == o.security {
			t.Errorf("%s: security %v but action %q is %s", o.key(), o.security, got, spec.Scope)
		}
	}
}

// TestSessionCookie signs in over plain HTTP and over TLS and checks the
// cookie's attributes, then uses it: reads need only the cookie, changes
// also the CSRF token.
func TestSessionCookie(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run("tls="+strconv.FormatBool(overTLS), func(t *testing.T) {
			f := newOASFixture(t)
			h := f.server.Handler()
			req := httptest.NewRequest("POST", "/admin/v1/login", strings.NewReader(`{"email":"ana@example.com","password":"`+oasPassword+`"}`))
			if overTLS {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
			}
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("%d cookies set", len(cookies))
			}
			c := cookies[0]
			if c.Name != SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != overTLS || c.Path != "/" || c.MaxAge <= 0 {
				t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Secure=%v", c, overTLS)
			}
			var res loginResult
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.SessionToken != c.Value || res.CSRFToken != auth.CSRFToken(c.Value) {
				t.Fatal("the answer's session or CSRF token does not match the cookie")
			}
			if strings.Contains(rec.Body.String(), oasPassword) || strings.Contains(rec.Body.String(), "argon2") {
				t.Fatal("the sign-in answer shows the password or its hash")
			}
			send := func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.Value})
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			if rec := send("GET", "/admin/v1/me", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), res.CSRFToken) {
				t.Fatalf("GET /me with the cookie: %d %s", rec.Code, rec.Body)
			}
			body := `{"name":"search"}`
			if rec := send("POST", "/admin/v1/teams", body); rec.Code != 403 || !strings.Contains(rec.Body.String(), `"csrf"`) {
				t.Fatalf("a change without the CSRF token: %d %s", rec.Code, rec.Body)
			}
			if rec := send("POST", "/admin/v1/teams", body, CSRFHeader, auth.CSRFToken("hgs-another-session")); rec.Code != 403 {
				t.Fatalf("a change with another session's CSRF token: %d %s", rec.Code, rec.Body)
			}
			if rec := send("POST", "/admin/v1/teams", body, CSRFHeader, res.CSRFToken); rec.Code != 201 {
				t.Fatalf("a change with the CSRF token: %d %s", rec.Code, rec.Body)
			}
			if rec := send("POST", "/admin/v1/logout", "", CSRFHeader, res.CSRFToken); rec.Code != 204 {
				t.Fatalf("sign-out: %d %s", rec.Code, rec.Body)
			}
			rec = send("GET", "/admin/v1/me", "")
			if rec.Code != 401 {
				t.Fatalf("GET /me after sign-out: %d", rec.Code)
			}
			if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Fatalf("a dead session's cookie is not cleared: %+v", cs)
			}
		})
	}
}

// TestSessionExpiry moves a fake clock over a session's idle timeout and
// its absolute end.
func TestSessionExpiry(t *testing.T) {
	f := newOASFixture(t)
	now := time.Now()
	f.server.Now = func() time.Time { return now }
	f.server.SessionIdle, f.server.SessionMax = 10*time.Minute, time.Hour
	h := f.server.Handler()
	signIn := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/admin/v1/login", strings.NewReader(`{"email":"ana@example.com","password":"`+oasPassword+`"}`)))
		var res loginResult
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
			t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
		}
		return res.SessionToken
	}
	me := func(secret string) int {
		req := httptest.NewRequest("GET", "/admin/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	s := signIn()
	// Used every 9 minutes, it outlives the idle timeout...
	for i := range 6 {
		now = now.Add(9 * time.Minute)
		if code := me(s); code != 200 {
			t.Fatalf("use %d, %v after sign-in: %d", i+1, time.Duration(i+1)*9*time.Minute, code)
		}
	}
	// ...but not its absolute end.
	now = now.Add(7 * time.Minute)
	if code := me(s); code != 401 {
		t.Fatalf("past the absolute end: %d", code)
	}
	s = signIn()
	now = now.Add(11 * time.Minute)
	if code := me(s); code != 401 {
		t.Fatalf("idle past the timeout: %d", code)
	}
}

// TestGuardAudit checks the entries the guard writes: the actor, client IP
// and request ID filled in, the client's X-Request-Id kept, and none for
// reads, failures or changes that changed nothing.
func TestGuardAudit(t *testing.T) {
	f := newOASFixture(t)
	h := f.server.Handler()
	send := func(method, path, body, rid string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+oasToken)
		if rid != "" {
			req.Header.Set("X-Request-Id", rid)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rid != "" && rec.Header().Get("X-Request-Id") != rid {
			t.Errorf("X-Request-Id %q, want %q", rec.Header().Get("X-Request-Id"), rid)
		}
		return rec.Code
	}
	before, _ := f.db.ListAudit(t.Context(), auth.AuditFilter{Limit: 500})
	send("GET", "/admin/v1/consumers", "", "")
	send("POST", "/admin/v1/teams", `{"name":"Bad Name"}`, "")
	send("PUT", "/admin/v1/teams/apps", `{}`, "") // unchanged
	if code := send("POST", "/admin/v1/teams", `{"name":"search"}`, "rid-create-team"); code != 201 {
		t.Fatalf("create team: %d", code)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-Id", "bad request id\r\nX-Evil: 1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \r\n") {
		t.Errorf("an unsafe X-Request-Id came back as %q", got)
	}
	after, _ := f.db.ListAudit(t.Context(), auth.AuditFilter{Limit: 500})
	if n := len(after.Entries) - len(before.Entries); n != 1 {
		t.Fatalf("%d entries written, want 1: %+v", n, after.Entries)
	}
	e := after.Entries[0]
	if e.Actor != "admin-token" || e.Action != "team.create" || e.Target != "team:search" || e.Team != "search" ||
		e.RequestID != "rid-create-team" || e.ClientIP != "192.0.2.1" || !strings.Contains(e.Diff, "+ team search") {
		t.Fatalf("entry %+v", e)
	}
}
