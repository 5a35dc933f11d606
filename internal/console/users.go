package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// userForm is the new-user and edit-user forms as filled, kept when they
// are refused.
type userForm struct {
	Email, Name    string
	Role           auth.Role
	Team, Consumer string
	Disabled       bool
	// Generate asks the console for a random first password, shown once.
	Generate bool
}

// bindingChoices are what the user and token forms offer: every role, and the
// teams and consumers a binding may name.
type bindingChoices struct {
	Roles     []auth.Role
	Teams     []string
	Consumers []string
}

type usersData struct {
	Users []auth.User
	// Team is the list's team filter.
	Team string
	Form userForm
	Err  fieldError
	bindingChoices
}

// bindingError checks a role binding with the permission model's rules
// before the admin API does, naming the field to correct.
func bindingError(role auth.Role, team, consumer string) fieldError {
	err := auth.CheckBinding(role, team, consumer)
	if err == nil {
		return fieldError{}
	}
	field := "role"
	switch {
	case role == auth.RoleNone || !role.Valid():
	case role == auth.RoleConsumer && consumer == "":
		field = "consumer"
	case role == auth.RoleTeamAdmin || team != "":
		field = "team"
	case consumer != "":
		field = "consumer"
	}
	return fieldError{Field: field, Msg: err.Error()}
}

// loadChoices reads the teams and consumers a binding may name. They only
// fill the forms' suggestions: a failure leaves them empty, and the admin
// API checks the names anyway.
func (s *Server) loadChoices(w http.ResponseWriter, r *http.Request) bindingChoices {
	c := bindingChoices{Roles: auth.Roles()}
	var list struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if _, ok, err := s.getJSON(w, r, "/admin/v1/teams", nil, &list); err == nil && ok {
		for _, t := range list.Data {
			c.Teams = append(c.Teams, t.Name)
		}
	}
	list.Data = nil
	if _, ok, err := s.getJSON(w, r, "/admin/v1/consumers", nil, &list); err == nil && ok {
		for _, t := range list.Data {
			c.Consumers = append(c.Consumers, t.Name)
		}
	}
	return c
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showUsers(w, r, m, http.StatusOK, userForm{Role: auth.RoleViewer}, fieldError{})
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, m *me, status int, form userForm, fe fieldError) {
	d := &usersData{Team: strings.TrimSpace(r.URL.Query().Get("team")), Form: form, Err: fe}
	var q url.Values
	if d.Team != "" {
		q = url.Values{"team": {d.Team}}
	}
	var list struct {
		Data []auth.User `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/users", q, &list) {
		return
	}
	d.Users = list.Data
	d.bindingChoices = s.loadChoices(w, r)
	s.render(w, status, "users", view{Title: "Users", Me: m, Nav: "users", CSRF: m.CSRFToken, Error: fe.Msg, Data: d})
}

// readUserForm reads the user forms' fields.
func readUserForm(r *http.Request) userForm {
	return userForm{
		Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: auth.Role(r.PostFormValue("role")), Team: strings.TrimSpace(r.PostFormValue("team")),
		Consumer: strings.TrimSpace(r.PostFormValue("consumer")), Disabled: r.PostFormValue("disabled") != "",
		Generate: r.PostFormValue("generate") != "",
	}
}

// newPassword is a random first or reset password, for the console to
// show once: 24 letters and digits, well above the minimum length.
func newPassword() string { return auth.NewSecret("")[:24] }

// createUser is the new-user form: POST /admin/v1/users. A generated
// password is shown once, on the new user's page; a typed one is not shown
// again at all.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	f := readUserForm(r)
	if fe := bindingError(f.Role, f.Team, f.Consumer); fe.Msg != "" {
		s.showUsers(w, r, m, http.StatusBadRequest, f, fe)
		return
	}
	password := r.PostFormValue("password")
	if f.Generate {
		password = newPassword()
	}
	body := map[string]any{"email": f.Email, "name": f.Name, "role": f.Role, "team": f.Team, "consumer": f.Consumer,
		"disabled": f.Disabled, "password": password}
	res := s.apiChange(w, r, m, http.MethodPost, "/admin/v1/users", body)
	switch {
	case res == nil:
	case res.Status >= 300:
		s.showUsers(w, r, m, res.Status, f, refusal(res))
	case f.Generate:
		var u auth.User
		if err := decodeBody(res, &u); err != nil {
			s.internal(w, r, m, err)
			return
		}
		s.showUser(w, r, m, http.StatusCreated, u.ID, &userData{Password: password})
	default:
		var u auth.User
		if err := decodeBody(res, &u); err != nil {
			s.internal(w, r, m, err)
			return
		}
		http.Redirect(w, r, "/users/"+url.PathEscape(u.ID), http.StatusSeeOther)
	}
}

type userData struct {
	User auth.User
	Form userForm
	Err  fieldError
	// Section is the form Err is about: "edit" or "password".
	Section string
	// Password is a generated password, shown this once.
	Password string
	bindingChoices
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showUser(w, r, m, http.StatusOK, r.PathValue("user"), &userData{})
}

// showUser renders a user's page; d holds the forms as filled, or is
// empty to fill them from the stored user.
func (s *Server) showUser(w http.ResponseWriter, r *http.Request, m *me, status int, id string, d *userData) {
	if !s.load(w, r, m, "/admin/v1/users/"+url.PathEscape(id), nil, &d.User) {
		return
	}
	if d.Section != "edit" {
		u := d.User
		d.Form = userForm{Email: u.Email, Name: u.Name, Role: u.Role, Team: u.Team, Consumer: u.Consumer, Disabled: u.Disabled}
	}
	d.bindingChoices = s.loadChoices(w, r)
	s.render(w, status, "user", view{Title: "User " + d.User.Email, Me: m, Nav: "users", CSRF: m.CSRFToken, Error: d.Err.Msg, Data: d})
}

// updateUser is the edit form: PUT /admin/v1/users/{user} with the name,
// the role binding (replaced whole) and whether the account is disabled.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	id := r.PathValue("user")
	f := readUserForm(r)
	d := &userData{Form: f, Section: "edit"}
	if d.Err = bindingError(f.Role, f.Team, f.Consumer); d.Err.Msg != "" {
		s.showUser(w, r, m, http.StatusBadRequest, id, d)
		return
	}
	body := map[string]any{"name": f.Name, "role": f.Role, "team": f.Team, "consumer": f.Consumer, "disabled": f.Disabled}
	res := s.apiChange(w, r, m, http.MethodPut, "/admin/v1/users/"+url.PathEscape(id), body)
	switch {
	case res == nil:
	case res.Status < 300:
		http.Redirect(w, r, "/users/"+url.PathEscape(id), http.StatusSeeOther)
	default:
		d.Err = refusal(res)
		s.showUser(w, r, m, res.Status, id, d)
	}
}

// resetPassword sets a user's password: PUT /admin/v1/users/{user} with a
// typed or generated one; the user's sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	id := r.PathValue("user")
	password, generated := r.PostFormValue("password"), r.PostFormValue("generate") != ""
	if generated {
		password = newPassword()
	}
	res := s.apiChange(w, r, m, http.MethodPut, "/admin/v1/users/"+url.PathEscape(id), map[string]string{"password": password})
	switch {
	case res == nil:
	case res.Status >= 300:
		s.showUser(w, r, m, res.Status, id, &userData{Section: "password", Err: refusal(res)})
	case generated:
		s.showUser(w, r, m, http.StatusOK, id, &userData{Password: password})
	default:
		http.Redirect(w, r, "/users/"+url.PathEscape(id), http.StatusSeeOther)
	}
}

// deleteUser is the confirmed delete button: DELETE /admin/v1/users/{user}.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	if res := s.apiChange(w, r, m, http.MethodDelete, "/admin/v1/users/"+url.PathEscape(r.PathValue("user")), nil); res != nil {
		if res.Status >= 300 {
			s.showUser(w, r, m, res.Status, r.PathValue("user"), &userData{Err: refusal(res)})
			return
		}
		http.Redirect(w, r, "/users", http.StatusSeeOther)
	}
}

// tokenForm is the new-token form as filled.
type tokenForm struct {
	Name           string
	Role           auth.Role
	Team, Consumer string
	ExpiresIn      string
}

// createdToken is POST /admin/v1/tokens's answer: the token, and its
// secret this once.
type createdToken struct {
	auth.Token
	Secret  string `json:"token"`
	Warning string `json:"warning"`
}

type tokensData struct {
	Tokens  []auth.Token
	Form    tokenForm
	Err     fieldError
	Created *createdToken
	Now     time.Time
	bindingChoices
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showTokens(w, r, m, http.StatusOK, &tokensData{Form: tokenForm{Role: auth.RoleViewer, ExpiresIn: "90d"}})
}

func (s *Server) showTokens(w http.ResponseWriter, r *http.Request, m *me, status int, d *tokensData) {
	var list struct {
		Data []auth.Token `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/tokens", nil, &list) {
		return
	}
	d.Tokens, d.Now = list.Data, s.now()
	d.bindingChoices = s.loadChoices(w, r)
	s.render(w, status, "tokens", view{Title: "API tokens", Me: m, Nav: "users", CSRF: m.CSRFToken, Error: d.Err.Msg, Data: d})
}

// createToken is the new-token form: POST /admin/v1/tokens. The secret is
// in this answer only; the page it renders is never stored (no-store).
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	f := tokenForm{Name: strings.TrimSpace(r.PostFormValue("name")), Role: auth.Role(r.PostFormValue("role")),
		Team: strings.TrimSpace(r.PostFormValue("team")), Consumer: strings.TrimSpace(r.PostFormValue("consumer")),
		ExpiresIn: strings.TrimSpace(r.PostFormValue("expires_in"))}
	d := &tokensData{Form: f}
	if f.Role == auth.RoleNone {
		d.Err = fieldError{Field: "role", Msg: "a token needs a role"}
	} else {
		d.Err = bindingError(f.Role, f.Team, f.Consumer)
	}
	if d.Err.Msg != "" {
		s.showTokens(w, r, m, http.StatusBadRequest, d)
		return
	}
	res := s.apiChange(w, r, m, http.MethodPost, "/admin/v1/tokens", map[string]any{"name": f.Name, "role": f.Role, "team": f.Team,
		"consumer": f.Consumer, "expires_in": f.ExpiresIn})
	switch {
	case res == nil:
	case res.Status >= 300:
		d.Err = refusal(res)
		s.showTokens(w, r, m, res.Status, d)
	default:
		d.Created = &createdToken{}
		if err := decodeBody(res, d.Created); err != nil {
			s.internal(w, r, m, err)
			return
		}
		d.Form = tokenForm{Role: auth.RoleViewer, ExpiresIn: "90d"}
		s.showTokens(w, r, m, http.StatusCreated, d)
	}
}

// revokeToken is a token's confirmed revoke button:
// DELETE /admin/v1/tokens/{id}.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	if res := s.apiChange(w, r, m, http.MethodDelete, "/admin/v1/tokens/"+url.PathEscape(r.PathValue("id")), nil); res != nil {
		if res.Status >= 300 {
			s.showTokens(w, r, m, res.Status, &tokensData{Err: refusal(res), Form: tokenForm{Role: auth.RoleViewer}})
			return
		}
		http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	}
}

// accountView is GET /admin/v1/me in full, for the account page.
type accountView struct {
	Kind          string        `json:"kind"`
	Name          string        `json:"name"`
	Role          auth.Role     `json:"role"`
	Team          string        `json:"team"`
	Consumer      string        `json:"consumer"`
	Actions       []auth.Action `json:"actions"`
	User          *auth.User    `json:"user"`
	ExpiresAt     *time.Time    `json:"expires_at"`
	IdleExpiresAt *time.Time    `json:"idle_expires_at"`
}

type accountData struct {
	Account  accountView
	RoleText string
	Areas    []areaActions
	Err      fieldError
	// Changed is set once the password is changed: every session has
	// ended, this one too.
	Changed bool
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showAccount(w, r, m, http.StatusOK, fieldError{})
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, m *me, status int, fe fieldError) {
	d := &accountData{Err: fe}
	if !s.load(w, r, m, "/admin/v1/me", nil, &d.Account) {
		return
	}
	d.RoleText, d.Areas = describeRole(d.Account.Role), byArea(d.Account.Actions)
	s.render(w, status, "account", view{Title: "Your account", Me: m, Nav: "account", CSRF: m.CSRFToken, Error: fe.Msg, Data: d})
}

// changePassword is the change-password form: POST /admin/v1/me/password
// with the current password. A wrong one (403) or too many (429) is shown
// on the form. On success every session ends, this one too.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("new_password") != r.PostFormValue("confirm_password") {
		s.showAccount(w, r, m, http.StatusBadRequest, fieldError{Field: "confirm_password", Msg: "the new password and its confirmation differ"})
		return
	}
	res := s.apiChange(w, r, m, http.MethodPost, "/admin/v1/me/password", map[string]string{
		"current_password": r.PostFormValue("current_password"), "new_password": r.PostFormValue("new_password")},
		http.StatusForbidden, http.StatusTooManyRequests)
	switch {
	case res == nil:
	case res.Status >= 300:
		if ra := res.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		s.showAccount(w, r, m, res.Status, refusal(res))
	default:
		s.render(w, http.StatusOK, "account", view{Title: "Password changed", Data: &accountData{Changed: true}})
	}
}
