package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// tokenRequest is the body of POST /admin/v1/tokens. ExpiresAt and
// ExpiresIn ("720h", "90d") are exclusive; with neither, the token does
// not expire.
type tokenRequest struct {
	Name      string     `json:"name"`
	Role      auth.Role  `json:"role"`
	Team      string     `json:"team"`
	Consumer  string     `json:"consumer"`
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiresIn string     `json:"expires_in"`
}

// createdToken is a token as created: the secret, once.
type createdToken struct {
	auth.Token
	Secret  string `json:"token"`
	Warning string `json:"warning"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	tokens, err := s.Tokens.ListTokens(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": tokens})
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 64 || strings.ContainsAny(in.Name, "\x00\r\n\t") {
		return badRequest("name", "name is required: at most 64 printable characters")
	}
	if in.Role == auth.RoleNone {
		return badRequest("role", "role is required")
	}
	if err := s.checkBinding(in.Role, in.Team, in.Consumer); err != nil {
		return err
	}
	now := s.now()
	var expires *time.Time
	switch {
	case in.ExpiresAt != nil && in.ExpiresIn != "":
		return badRequest("expires_in", "give expires_at or expires_in, not both")
	case in.ExpiresAt != nil:
		t := in.ExpiresAt.UTC()
		expires = &t
	case in.ExpiresIn != "":
		d, err := config.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return badRequest("expires_in", "expires_in: %q is not a positive duration like 720h or 90d", in.ExpiresIn)
		}
		t := now.Add(d.Std()).UTC()
		expires = &t
	}
	if expires != nil && !expires.After(now) {
		return badRequest("expires_at", "the expiry is in the past")
	}
	secret := auth.NewSecret(auth.TokenPrefix)
	t := auth.Token{
		ID: "tok_" + auth.NewSecret("")[:20], Name: in.Name, Role: in.Role, Team: in.Team, Consumer: in.Consumer,
		Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret), CreatedBy: principal(r).Actor(),
		CreatedAt: now.UTC().Truncate(time.Microsecond), ExpiresAt: expires,
	}
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.Truncate(time.Microsecond)
		t.ExpiresAt = &e
	}
	if err := s.Tokens.CreateToken(r.Context(), t); err != nil {
		return err
	}
	summary := fmt.Sprintf("created token %q (%s…) as %s", t.Name, t.Prefix, describeBinding(t.Role, t.Team, t.Consumer))
	if t.ExpiresAt != nil {
		summary += ", expiring " + t.ExpiresAt.Format(time.RFC3339)
	}
	audit(r, auth.AuditEntry{Action: "token.create", Target: "token:" + t.ID, Team: t.Team, Summary: summary})
	writeJSON(w, 201, createdToken{Token: t, Secret: secret, Warning: "this is the only time the token is shown; store it now"})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	t, err := s.Tokens.GetToken(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no token %q", id)}
	}
	if err != nil {
		return err
	}
	if err := s.Tokens.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "token.revoke", Target: "token:" + id, Team: t.Team, Summary: fmt.Sprintf("revoked token %q", t.Name)})
	w.WriteHeader(204)
	return nil
}
