package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/store"
)

// SessionCookie is the name of the cookie holding a console session.
const SessionCookie = "hypergate_session"

// CSRFHeader carries the session's anti-forgery token on requests that
// change something and authenticate with the session cookie.
const CSRFHeader = "X-CSRF-Token"

// Route is one endpoint of the admin port with the action it declares: the
// permission table in internal/auth says who may perform it.
type Route struct {
	Pattern string      // a ServeMux pattern, e.g. "GET /admin/v1/calls/{id}"
	Action  auth.Action // what the endpoint does
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// targetFunc finds what a request's path names and who owns it, for the
// permission check of team and consumer actions. notFound is the answer
// when the target does not exist (then also returned as err) or is out of
// the principal's reach; err is any other failure.
type targetFunc func(r *http.Request) (t auth.Target, notFound *Error, err error)

// router registers routes, each through guard: there is no other way onto
// the admin port's mux, so no endpoint can skip the permission check or
// leave its action undeclared.
type router struct {
	s      *Server
	mux    *http.ServeMux
	routes []Route
}

// handle registers pattern, performing action. target, for team and
// consumer actions on something named in the path, resolves its owners;
// endpoints without one (lists, creations) check what they read or write
// against the principal themselves.
func (rt *router) handle(pattern string, action auth.Action, target targetFunc, h handlerFunc) {
	spec, ok := action.Spec()
	if !ok {
		panic(fmt.Sprintf("admin: route %q declares action %q, which is not in the permission table", pattern, action))
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Action: action})
	rt.mux.Handle(pattern, rt.s.guard(action, spec, target, h))
}

// state is what guard learns about a request, shared with the handler
// through the context.
type state struct {
	principal *auth.Principal
	requestID string
	clientIP  string
	// sessionSecret is the cookie's value when the request authenticated
	// with the session cookie.
	sessionSecret string
	// notes are the audit entries the handler asks for; a write action
	// without any gets one entry naming the route.
	notes []auth.AuditEntry
	// quiet suppresses the default entry: the request changed nothing.
	quiet bool
}

type stateKey struct{}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{}
}

// principal returns who is making the request (nil on public routes).
func principal(r *http.Request) *auth.Principal { return stateOf(r).principal }

// audit asks for an entry in the audit log once the request succeeds. The
// actor, time, client IP and request ID are filled in.
func audit(r *http.Request, e auth.AuditEntry) {
	st := stateOf(r)
	st.notes = append(st.notes, e)
}

// unchanged says the request changed nothing, so no audit entry is due.
func unchanged(r *http.Request) { stateOf(r).quiet = true }

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (profiles) flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// guard authenticates the request, checks the permission table for its
// action (and its target, when the route names one), runs the handler,
// turns its error into an answer, and writes the audit entries of a write
// that succeeded.
func (s *Server) guard(action auth.Action, spec auth.ActionSpec, target targetFunc, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{requestID: requestID(r), clientIP: clientIP(r)}
		w.Header().Set("X-Request-Id", st.requestID)
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		if spec.Scope != auth.ScopePublic {
			p, err := s.authenticate(w, r, st)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			st.principal = p
			if !p.Can(action) {
				s.writeError(w, r, forbidden(p, action))
				return
			}
			if target != nil && (spec.Scope == auth.ScopeTeam || spec.Scope == auth.ScopeConsumer) {
				t, notFound, err := target(r)
				if err != nil {
					s.writeError(w, r, err)
					return
				}
				// Something outside the principal's reach is answered as
				// if it did not exist: names of other teams' things are
				// not for it to learn.
				if !p.Reaches(t) {
					s.writeError(w, r, notFound)
					return
				}
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		sw := &statusWriter{ResponseWriter: w}
		if err := h(sw, r); err != nil {
			s.writeError(sw, r, err)
		}
		if spec.Write && sw.status < 400 {
			if len(st.notes) == 0 && !st.quiet {
				st.notes = append(st.notes, auth.AuditEntry{Action: string(action), Target: r.URL.Path})
			}
			s.writeAudit(r, st)
		} else if len(st.notes) > 0 && sw.status >= 400 {
			// Entries a failed request still asks for: failed sign-ins.
			s.writeAudit(r, st)
		}
	})
}

// writeAudit stores the request's audit entries. A failure is logged, not
// answered: the change has been made and the caller told so.
func (s *Server) writeAudit(r *http.Request, st *state) {
	if s.Audit == nil {
		return
	}
	for _, e := range st.notes {
		if e.Actor == "" {
			e.Actor = st.principal.Actor()
		}
		e.ClientIP, e.RequestID = st.clientIP, st.requestID
		if _, err := s.Audit.AppendAudit(context.WithoutCancel(r.Context()), e); err != nil && s.Logger != nil {
			s.Logger.Error("writing audit entry", "action", e.Action, "target", e.Target, "actor", e.Actor, "error", err)
		}
	}
	st.notes = nil
}

func forbidden(p *auth.Principal, a auth.Action) *Error {
	role := string(p.Role)
	if role == "" {
		role = "no role"
	}
	scope := ""
	if spec, _ := a.Spec(); spec.Scope == auth.ScopeGlobal && p.Scoped() {
		scope = ", and it is global: a principal scoped to a team or consumer never may"
	}
	return &Error{Status: 403, Code: "forbidden", Msg: fmt.Sprintf("%s (%s) may not %s%s", p.Actor(), role, a, scope)}
}

func unauthorized(msg string) *Error {
	return &Error{Status: 401, Code: "unauthorized", Msg: msg}
}

// authenticate finds the principal of a request: a bearer admin token, API
// token or session secret, else the session cookie. A cookie-authenticated
// request that changes something must carry the session's CSRF token.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, st *state) (*auth.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
			return nil, unauthorized("unsupported credentials: send 'Authorization: Bearer <token>'")
		}
		secret := strings.TrimSpace(h[7:])
		p, err := s.bearer(r, secret)
		if err == nil && p.Session != "" {
			st.sessionSecret = secret
		}
		return p, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, unauthorized("missing credentials: send 'Authorization: Bearer <token>' (the admin token, an API token or a session) or sign in")
	}
	p, err := s.session(r, c.Value)
	if err != nil {
		http.SetCookie(w, s.clearCookie(r))
		return nil, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !auth.CheckCSRF(c.Value, r.Header.Get(CSRFHeader)) {
			return nil, &Error{Status: 403, Code: "csrf", Msg: "missing or wrong " + CSRFHeader + " header: send the csrf_token given at sign-in (GET /admin/v1/me repeats it)"}
		}
	}
	st.sessionSecret = c.Value
	return p, nil
}

// Authenticate finds the principal of a request as the admin API does: a
// bearer admin token, API token or session secret, else the session cookie
// (with the CSRF check on requests that change something). Other handlers
// on the admin port, such as the console's, use it to check the same
// permissions with Principal.Can and CanOn. Failures are *Error answers
// (401, or 403 for a missing CSRF token).
func (s *Server) Authenticate(w http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	s.init()
	return s.authenticate(w, r, &state{})
}

// bearer authenticates a bearer secret.
func (s *Server) bearer(r *http.Request, secret string) (*auth.Principal, error) {
	sum := sha256.Sum256([]byte(secret))
	if s.TokenHash != "" && subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(s.TokenHash)) == 1 {
		return auth.AdminTokenPrincipal(), nil
	}
	switch {
	case strings.HasPrefix(secret, auth.TokenPrefix) && s.Tokens != nil:
		t, err := s.Tokens.GetTokenByHash(r.Context(), auth.HashKey(secret))
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauthorized("invalid token")
		}
		if err != nil {
			return nil, err
		}
		now := s.now()
		switch {
		case t.RevokedAt != nil:
			return nil, unauthorized(fmt.Sprintf("token %s was revoked", t.ID))
		case !t.Usable(now):
			return nil, unauthorized(fmt.Sprintf("token %s expired at %s", t.ID, t.ExpiresAt.Format(time.RFC3339)))
		}
		// Last use is kept to the minute: a write per request would make
		// every read of the API a write to the store.
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
			if err := s.Tokens.TouchToken(r.Context(), t.ID, now); err != nil && s.Logger != nil {
				s.Logger.Warn("recording token use", "token", t.ID, "error", err)
			}
		}
		return auth.TokenPrincipal(t), nil
	case strings.HasPrefix(secret, auth.SessionPrefix):
		return s.session(r, secret)
	}
	return nil, unauthorized("invalid token")
}

// session authenticates a session secret, sliding its idle timeout.
func (s *Server) session(r *http.Request, secret string) (*auth.Principal, error) {
	if s.Sessions == nil || s.Users == nil {
		return nil, unauthorized("sessions are not available on this gateway")
	}
	sess, err := s.Sessions.GetSession(r.Context(), auth.HashKey(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthorized("session ended: sign in again")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !sess.Live(now, s.sessionIdle()) {
		if err := s.Sessions.DeleteSession(r.Context(), sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) && s.Logger != nil {
			s.Logger.Warn("deleting expired session", "error", err)
		}
		return nil, unauthorized("session expired: sign in again")
	}
	u, err := s.Users.GetUser(r.Context(), sess.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, unauthorized("session ended: the account is disabled or deleted")
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > min(time.Minute, s.sessionIdle()/10) {
		if err := s.Sessions.TouchSession(r.Context(), sess.ID, now); err != nil && s.Logger != nil {
			s.Logger.Warn("sliding session", "error", err)
		}
	}
	return auth.UserPrincipal(u, sess.ID), nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Session lifetimes when the Server leaves them unset.
const (
	DefaultSessionIdle = 2 * time.Hour
	DefaultSessionMax  = 24 * time.Hour
)

func (s *Server) sessionIdle() time.Duration {
	if s.SessionIdle > 0 {
		return s.SessionIdle
	}
	return DefaultSessionIdle
}

func (s *Server) sessionMax() time.Duration {
	if s.SessionMax > 0 {
		return s.SessionMax
	}
	return DefaultSessionMax
}

// sessionCookie is the cookie carrying a session secret. It is Secure when
// the request came over TLS; behind a proxy that terminates TLS the admin
// port sees plain HTTP and the proxy must add the attribute.
func (s *Server) sessionCookie(r *http.Request, secret string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", Expires: expires,
		MaxAge: max(1, int(time.Until(expires).Seconds())), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	}
}

func (s *Server) clearCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

// requestID keeps a client's X-Request-Id when it is safe in headers, logs
// and URLs (as the data plane does), else makes a time-ordered one.
func requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); validRequestID(v) {
		return v
	}
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':':
		default:
			return false
		}
	}
	return true
}

// clientIP is the peer's address. Forwarding headers are not trusted: the
// admin port is meant to be reached directly or through a proxy the
// operator runs, and a spoofed header must not dodge the sign-in throttle.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
