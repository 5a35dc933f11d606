package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// userRequest is the body of POST /admin/v1/users, and (every field
// optional) of PUT /admin/v1/users/{user}.
type userRequest struct {
	Email    *string    `json:"email"`
	Name     *string    `json:"name"`
	Role     *auth.Role `json:"role"`
	Team     *string    `json:"team"`
	Consumer *string    `json:"consumer"`
	Disabled *bool      `json:"disabled"`
	// Password is set, never shown: no answer carries it.
	Password *string `json:"password"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// checkBinding validates a role binding against the configuration: the
// team and consumer must exist.
func (s *Server) checkBinding(role auth.Role, team, consumer string) error {
	if err := auth.CheckBinding(role, team, consumer); err != nil {
		return badRequest("role", "%v", err)
	}
	cfg, _ := s.Configs.Current()
	if team != "" && !slices.ContainsFunc(cfg.Teams, func(t config.Team) bool { return t.Name == team }) {
		return badRequest("team", "unknown team %q: create it first", team)
	}
	if _, ok := findConsumer(cfg, consumer); consumer != "" && !ok {
		return badRequest("consumer", "unknown consumer %q", consumer)
	}
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Users.ListUsers(r.Context(), r.URL.Query().Get("team"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": users})
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	email, err := auth.NormalizeEmail(str(in.Email))
	if err != nil {
		return badRequest("email", "%v", err)
	}
	u := auth.User{ID: "usr_" + auth.NewSecret("")[:20], Email: email, Name: strings.TrimSpace(str(in.Name)),
		Team: str(in.Team), Consumer: str(in.Consumer), Disabled: in.Disabled != nil && *in.Disabled}
	if in.Role != nil {
		u.Role = *in.Role
	}
	if len(u.Name) > 128 {
		return badRequest("name", "name must be at most 128 characters")
	}
	if err := s.checkBinding(u.Role, u.Team, u.Consumer); err != nil {
		return err
	}
	if in.Password == nil {
		return badRequest("password", "password is required")
	}
	if err := auth.CheckPassword(*in.Password); err != nil {
		return badRequest("password", "%v", err)
	}
	if u.PasswordHash, err = s.Passwords.Hash(r.Context(), *in.Password); err != nil {
		return err
	}
	u.CreatedAt = s.now()
	u.UpdatedAt = u.CreatedAt
	if err := s.Users.CreateUser(r.Context(), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &Error{Status: 409, Code: "conflict", Param: "email", Msg: fmt.Sprintf("a user with email %q already exists", email)}
		}
		return err
	}
	stored, err := s.Users.GetUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "user.create", Target: "user:" + u.ID, Team: u.Team,
		Summary: fmt.Sprintf("created user %s as %s", u.Email, describeBinding(u.Role, u.Team, u.Consumer))})
	writeJSON(w, 201, stored)
	return nil
}

func describeBinding(role auth.Role, team, consumer string) string {
	out := string(role)
	if role == auth.RoleNone {
		out = "no role"
	}
	switch {
	case team != "":
		out += " of team " + team
	case consumer != "":
		out += " of consumer " + consumer
	}
	return out
}

// findUser looks a user up by ID, or by email when the path holds an '@'.
func (s *Server) findUser(r *http.Request, ref string) (auth.User, error) {
	var (
		u   auth.User
		err error
	)
	if strings.Contains(ref, "@") {
		email, nerr := auth.NormalizeEmail(ref)
		if nerr != nil {
			return auth.User{}, badRequest("user", "%v", nerr)
		}
		u, err = s.Users.GetUserByEmail(r.Context(), email)
	} else {
		u, err = s.Users.GetUser(r.Context(), ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return auth.User{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no user %q", ref)}
	}
	return u, err
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.findUser(r, r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.findUser(r, r.PathValue("user"))
	if err != nil {
		return err
	}
	var in userRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	before := u
	var changes []string
	if in.Email != nil {
		if u.Email, err = auth.NormalizeEmail(*in.Email); err != nil {
			return badRequest("email", "%v", err)
		}
	}
	if in.Name != nil {
		if u.Name = strings.TrimSpace(*in.Name); len(u.Name) > 128 {
			return badRequest("name", "name must be at most 128 characters")
		}
	}
	if in.Role != nil || in.Team != nil || in.Consumer != nil {
		// A binding is replaced whole: a role without a team is global.
		if in.Role != nil {
			u.Role = *in.Role
		}
		u.Team, u.Consumer = str(in.Team), str(in.Consumer)
		if err := s.checkBinding(u.Role, u.Team, u.Consumer); err != nil {
			return err
		}
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	newPassword := false
	if in.Password != nil {
		if err := auth.CheckPassword(*in.Password); err != nil {
			return badRequest("password", "%v", err)
		}
		if u.PasswordHash, err = s.Passwords.Hash(r.Context(), *in.Password); err != nil {
			return err
		}
		newPassword = true
	}
	field := func(name, from, to string) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s: %q -> %q", name, from, to))
		}
	}
	field("email", before.Email, u.Email)
	field("name", before.Name, u.Name)
	field("role", describeBinding(before.Role, before.Team, before.Consumer), describeBinding(u.Role, u.Team, u.Consumer))
	field("disabled", fmt.Sprint(before.Disabled), fmt.Sprint(u.Disabled))
	if newPassword {
		changes = append(changes, "password: changed")
	}
	if len(changes) == 0 {
		unchanged(r)
		writeJSON(w, 200, u)
		return nil
	}
	u.UpdatedAt = s.now()
	if err := s.Users.UpdateUser(r.Context(), u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &Error{Status: 409, Code: "conflict", Param: "email", Msg: fmt.Sprintf("a user with email %q already exists", u.Email)}
		}
		return err
	}
	// Whoever held a session of a disabled account, or of one whose
	// password was reset, must sign in again (if they still can).
	if u.Disabled || newPassword {
		if _, err := s.Sessions.DeleteUserSessions(r.Context(), u.ID); err != nil {
			return err
		}
	}
	stored, err := s.Users.GetUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "user.update", Target: "user:" + u.ID, Team: u.Team,
		Summary: "updated user " + u.Email, Diff: strings.Join(changes, "\n")})
	writeJSON(w, 200, stored)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.findUser(r, r.PathValue("user"))
	if err != nil {
		return err
	}
	if err := s.Users.DeleteUser(r.Context(), u.ID); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "user.delete", Target: "user:" + u.ID, Team: u.Team, Summary: "deleted user " + u.Email})
	w.WriteHeader(204)
	return nil
}
