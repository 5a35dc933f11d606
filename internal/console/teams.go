package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
)

// fieldError is why a form was refused, with the field it is about when
// the console or the admin API names one, to show next to that field.
type fieldError struct{ Field, Msg string }

// On is the message when it is about field, else "".
func (e fieldError) On(field string) string {
	if e.Field == field {
		return e.Msg
	}
	return ""
}

// refusal reads the admin API's refusal of a form: its message and the
// parameter it is about.
func refusal(res *apiResult) fieldError {
	var e apiError
	_ = json.Unmarshal(res.Body, &e)
	return fieldError{Field: e.Error.Param, Msg: res.message()}
}

// decodeBody reads the admin API's answer to a change.
func decodeBody(res *apiResult, out any) error {
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("decoding the admin API's answer: %w", err)
	}
	return nil
}

// apiChange makes a form's change through the admin API as the signed-in user,
// with the form's anti-forgery token. It returns the answer when the
// change was made (2xx) or refused for a reason the form can fix (400,
// 409, or one of fixable); any other answer — not signed in, not allowed,
// gone, broken — it answers itself with the error page, returning nil.
func (s *Server) apiChange(w http.ResponseWriter, r *http.Request, m *me, method, path string, body any, fixable ...int) *apiResult {
	res, err := s.api(w, r, method, path, nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return nil
	}
	if res.Status < 300 || res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || slices.Contains(fixable, res.Status) {
		return res
	}
	s.fail(w, r, m, res)
	return nil
}

// formPost is the start of every console form handler: the signed-in user,
// and the anti-forgery check passed.
func (s *Server) formPost(w http.ResponseWriter, r *http.Request) (*me, bool) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return nil, false
	}
	return m, true
}

// teamView is a team as GET /admin/v1/teams shows it.
type teamView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Consumers   []string `json:"consumers"`
	Services    []string `json:"services"`
	Members     int      `json:"members"`
}

type teamForm struct{ Name, Description string }

type teamsData struct {
	Teams []teamView
	Form  teamForm
	Err   fieldError
}

func (s *Server) teams(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showTeams(w, r, m, http.StatusOK, teamForm{}, fieldError{})
}

func (s *Server) showTeams(w http.ResponseWriter, r *http.Request, m *me, status int, form teamForm, fe fieldError) {
	var list struct {
		Data []teamView `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/teams", nil, &list) {
		return
	}
	s.render(w, status, "teams", view{Title: "Teams", Me: m, Nav: "teams", CSRF: m.CSRFToken, Error: fe.Msg,
		Data: &teamsData{Teams: list.Data, Form: form, Err: fe}})
}

// createTeam is the new-team form: POST /admin/v1/teams.
func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	f := teamForm{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	res := s.apiChange(w, r, m, http.MethodPost, "/admin/v1/teams", map[string]string{"name": f.Name, "description": f.Description})
	switch {
	case res == nil:
	case res.Status < 300:
		http.Redirect(w, r, "/teams/"+url.PathEscape(f.Name), http.StatusSeeOther)
	default:
		s.showTeams(w, r, m, res.Status, f, refusal(res))
	}
}

// teamMember is a team's member, as GET /admin/v1/teams/{name}/members lists.
type teamMember struct {
	ID    string    `json:"id"`
	Email string    `json:"email"`
	Name  string    `json:"name"`
	Role  auth.Role `json:"role"`
}

type memberForm struct {
	User string
	Role auth.Role
}

type teamData struct {
	Team    teamView
	Members []teamMember
	// TeamRoles are the roles a member may hold.
	TeamRoles []auth.Role
	// Description is the details form as filled.
	Description string
	Member      memberForm
	Err         fieldError
	// Section is the form Err is about: "details" or "members".
	Section string
}

func teamRoles() []auth.Role {
	var out []auth.Role
	for _, r := range auth.Roles() {
		if r.TeamRole() {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showTeam(w, r, m, http.StatusOK, &teamData{Member: memberForm{Role: auth.RoleViewer}})
}

// showTeam renders a team's page; d holds the forms as filled.
func (s *Server) showTeam(w http.ResponseWriter, r *http.Request, m *me, status int, d *teamData) {
	base := "/admin/v1/teams/" + url.PathEscape(r.PathValue("name"))
	if !s.load(w, r, m, base, nil, &d.Team) {
		return
	}
	if m.Can("members.read") {
		var list struct {
			Data []teamMember `json:"data"`
		}
		if res, ok, err := s.getJSON(w, r, base+"/members", nil, &list); err != nil {
			s.internal(w, r, m, err)
			return
		} else if !ok {
			s.fail(w, r, m, res)
			return
		}
		d.Members = list.Data
	}
	if d.Section != "details" {
		d.Description = d.Team.Description
	}
	d.TeamRoles = teamRoles()
	s.render(w, status, "team", view{Title: "Team " + d.Team.Name, Me: m, Nav: "teams", CSRF: m.CSRFToken, Error: d.Err.Msg, Data: d})
}

// updateTeam is the details form: PUT /admin/v1/teams/{name}.
func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	desc := strings.TrimSpace(r.PostFormValue("description"))
	res := s.apiChange(w, r, m, http.MethodPut, "/admin/v1/teams/"+url.PathEscape(name), map[string]string{"description": desc})
	switch {
	case res == nil:
	case res.Status < 300:
		http.Redirect(w, r, "/teams/"+url.PathEscape(name), http.StatusSeeOther)
	default:
		s.showTeam(w, r, m, res.Status, &teamData{Description: desc, Section: "details", Err: refusal(res),
			Member: memberForm{Role: auth.RoleViewer}})
	}
}

// deleteTeam is the confirmed delete button: DELETE /admin/v1/teams/{name}.
// A team that still owns consumers or services is refused, and says so.
func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	res := s.apiChange(w, r, m, http.MethodDelete, "/admin/v1/teams/"+url.PathEscape(name), nil)
	switch {
	case res == nil:
	case res.Status < 300:
		http.Redirect(w, r, "/teams", http.StatusSeeOther)
	default:
		s.showTeam(w, r, m, res.Status, &teamData{Section: "details", Err: refusal(res), Member: memberForm{Role: auth.RoleViewer}})
	}
}

// addMember adds a user to the team, or changes a member's role: both are
// POST /admin/v1/teams/{name}/members.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	f := memberForm{User: strings.TrimSpace(r.PostFormValue("user")), Role: auth.Role(r.PostFormValue("role"))}
	d := &teamData{Member: f, Section: "members"}
	if f.User == "" {
		d.Err = fieldError{Field: "user", Msg: "give the email of the user to add"}
		s.showTeam(w, r, m, http.StatusBadRequest, d)
		return
	}
	if !f.Role.TeamRole() {
		d.Err = fieldError{Field: "role", Msg: "a member's role is one of team_admin, developer, reviewer, viewer"}
		s.showTeam(w, r, m, http.StatusBadRequest, d)
		return
	}
	res := s.apiChange(w, r, m, http.MethodPost, "/admin/v1/teams/"+url.PathEscape(name)+"/members", map[string]string{"user": f.User, "role": string(f.Role)})
	switch {
	case res == nil:
	case res.Status < 300:
		http.Redirect(w, r, "/teams/"+url.PathEscape(name)+"#members", http.StatusSeeOther)
	default:
		d.Err = refusal(res)
		s.showTeam(w, r, m, res.Status, d)
	}
}

// removeMember is a member's confirmed remove button:
// DELETE /admin/v1/teams/{name}/members/{user}.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	m, ok := s.formPost(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	res := s.apiChange(w, r, m, http.MethodDelete, "/admin/v1/teams/"+url.PathEscape(name)+"/members/"+url.PathEscape(r.PathValue("user")), nil)
	if res == nil {
		return
	}
	if res.Status < 300 {
		http.Redirect(w, r, "/teams/"+url.PathEscape(name)+"#members", http.StatusSeeOther)
		return
	}
	s.showTeam(w, r, m, res.Status, &teamData{Section: "members", Err: refusal(res), Member: memberForm{Role: auth.RoleViewer}})
}
