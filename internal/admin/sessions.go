package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/store"
)

// loginRequest is the body of POST /admin/v1/login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// loginResult answers a sign-in. SessionToken is the same secret as the
// cookie, for clients that send it as a bearer token instead.
type loginResult struct {
	User               auth.User `json:"user"`
	SessionToken       string    `json:"session_token"`
	CSRFToken          string    `json:"csrf_token"`
	ExpiresAt          time.Time `json:"expires_at"`
	IdleTimeoutSeconds int64     `json:"idle_timeout_seconds"`
}

// wrongLogin is the one answer to every failed sign-in, so that it does not
// tell a wrong password from an unknown or disabled account.
var wrongLogin = &Error{Status: 401, Code: "unauthorized", Msg: "wrong email or password"}

func throttled(wait time.Duration) *Error {
	return &Error{Status: 429, Code: "too_many_attempts", RetryAfter: wait,
		Msg: fmt.Sprintf("too many failed sign-ins: try again in %s", wait.Round(time.Second))}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return badRequest("", "email and password are required")
	}
	email, err := auth.NormalizeEmail(in.Email)
	if err != nil {
		return badRequest("email", "%v", err)
	}
	if s.Users == nil || s.Sessions == nil {
		return &Error{Status: 501, Code: "not_implemented", Msg: "sign-in is not available on this gateway"}
	}
	ip := stateOf(r).clientIP
	if wait := max(s.AccountThrottle.Wait(email), s.IPThrottle.Wait(ip)); wait > 0 {
		return throttled(wait)
	}
	fail := func(reason string) error {
		s.AccountThrottle.Fail(email)
		s.IPThrottle.Fail(ip)
		audit(r, auth.AuditEntry{Actor: auth.ActorAnonymous, Action: "login.failed", Target: "user:" + email, Summary: reason})
		return wrongLogin
	}
	u, err := s.Users.GetUserByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.Passwords.VerifyNone(r.Context(), in.Password); err != nil {
			return err
		}
		return fail("no such account")
	}
	if err != nil {
		return err
	}
	ok, err := s.Passwords.Verify(r.Context(), u.PasswordHash, in.Password)
	if err != nil {
		return fmt.Errorf("checking the password of %s: %w", u.ID, err)
	}
	switch {
	case !ok:
		return fail("wrong password")
	case u.Disabled:
		return fail("account disabled")
	}
	s.AccountThrottle.Succeed(email)

	now := s.now()
	secret, id := auth.NewSession()
	sess := auth.Session{ID: id, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.sessionMax()),
		ClientIP: ip, UserAgent: truncate(r.UserAgent(), 256)}
	if err := s.Sessions.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	if err := s.Users.RecordLogin(r.Context(), u.ID, now); err != nil {
		return err
	}
	at := now.UTC().Truncate(time.Microsecond)
	u.LastLoginAt = &at
	// Sessions that ended are deleted here rather than by a timer: sign-ins
	// are rare, and this keeps the table to the live ones.
	if _, err := s.Sessions.DeleteSessionsIdleSince(r.Context(), now.Add(-s.sessionIdle()), now); err != nil && s.Logger != nil {
		s.Logger.Warn("deleting ended sessions", "error", err)
	}
	http.SetCookie(w, s.sessionCookie(r, secret, sess.ExpiresAt))
	audit(r, auth.AuditEntry{Actor: "user:" + u.Email, Action: "login", Target: "user:" + u.ID, Summary: "signed in"})
	writeJSON(w, 200, loginResult{User: u, SessionToken: secret, CSRFToken: auth.CSRFToken(secret),
		ExpiresAt: sess.ExpiresAt.UTC(), IdleTimeoutSeconds: int64(s.sessionIdle() / time.Second)})
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	http.SetCookie(w, s.clearCookie(r))
	if p.Session == "" {
		unchanged(r) // a token has no session to end
		w.WriteHeader(204)
		return nil
	}
	if err := s.Sessions.DeleteSession(r.Context(), p.Session); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	audit(r, auth.AuditEntry{Action: "logout", Target: "user:" + p.ID, Summary: "signed out"})
	w.WriteHeader(204)
	return nil
}

// meView says who the caller is and what it may do, for the console to
// show only what it can use.
type meView struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id,omitempty"`
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Team     string    `json:"team,omitempty"`
	Consumer string    `json:"consumer,omitempty"`
	// Actions are those the role is granted; team and consumer actions
	// still apply only to what the principal reaches.
	Actions []auth.Action `json:"actions"`
	User    *auth.User    `json:"user,omitempty"`
	// Session fields are set for a signed-in user.
	CSRFToken     string     `json:"csrf_token,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	IdleExpiresAt *time.Time `json:"idle_expires_at,omitempty"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	v := meView{Kind: p.Kind, ID: p.ID, Name: p.Name, Role: p.Role, Team: p.Team, Consumer: p.Consumer, Actions: []auth.Action{}}
	for _, a := range auth.Grants(p.Role) {
		if p.Can(a) {
			v.Actions = append(v.Actions, a)
		}
	}
	if p.Kind == auth.KindUser {
		u, err := s.Users.GetUser(r.Context(), p.ID)
		if err != nil {
			return err
		}
		v.User = &u
	}
	if p.Session != "" {
		sess, err := s.Sessions.GetSession(r.Context(), p.Session)
		if err != nil {
			return err
		}
		exp, idle := sess.ExpiresAt.UTC(), sess.IdleExpiry(s.sessionIdle()).UTC()
		v.ExpiresAt, v.IdleExpiresAt = &exp, &idle
		if secret := stateOf(r).sessionSecret; secret != "" {
			v.CSRFToken = auth.CSRFToken(secret)
		}
	}
	writeJSON(w, 200, v)
	return nil
}

// passwordChange is the body of POST /admin/v1/me/password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.Kind != auth.KindUser {
		return &Error{Status: 400, Code: "invalid_request", Msg: "only a signed-in user has a password to change"}
	}
	var in passwordChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := auth.CheckPassword(in.NewPassword); err != nil {
		return badRequest("new_password", "%v", err)
	}
	u, err := s.Users.GetUser(r.Context(), p.ID)
	if err != nil {
		return err
	}
	// The current password is guessed against like a sign-in.
	if wait := s.AccountThrottle.Wait(u.Email); wait > 0 {
		return throttled(wait)
	}
	ok, err := s.Passwords.Verify(r.Context(), u.PasswordHash, in.CurrentPassword)
	if err != nil {
		return err
	}
	if !ok {
		s.AccountThrottle.Fail(u.Email)
		return &Error{Status: 403, Code: "forbidden", Param: "current_password", Msg: "the current password is wrong"}
	}
	hash, err := s.Passwords.Hash(r.Context(), in.NewPassword)
	if err != nil {
		return err
	}
	if err := s.Users.SetPasswordHash(r.Context(), u.ID, hash); err != nil {
		return err
	}
	// Every session ends, this one too: whoever knew the old password
	// may hold one.
	if _, err := s.Sessions.DeleteUserSessions(r.Context(), u.ID); err != nil {
		return err
	}
	http.SetCookie(w, s.clearCookie(r))
	audit(r, auth.AuditEntry{Action: "user.password", Target: "user:" + u.ID, Team: u.Team, Summary: "changed own password; sessions ended"})
	w.WriteHeader(204)
	return nil
}
