package admin

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// teamView is a team as the admin API shows it: its declaration and what
// it owns.
type teamView struct {
	config.Team
	Consumers []string `json:"consumers"`
	Services  []string `json:"services"`
	Members   int      `json:"members"`
}

func findTeam(cfg *config.Config, name string) (int, bool) {
	for i, t := range cfg.Teams {
		if t.Name == name {
			return i, true
		}
	}
	return -1, false
}

// owned lists the consumers and services of a team, by name.
func owned(cfg *config.Config, team string) (consumers, services []string) {
	consumers, services = []string{}, []string{}
	for _, c := range cfg.Consumers {
		if c.Team == team {
			consumers = append(consumers, c.Name)
		}
	}
	for _, sv := range cfg.Services {
		if sv.Team == team {
			services = append(services, sv.Name)
		}
	}
	sort.Strings(consumers)
	sort.Strings(services)
	return consumers, services
}

func teamViewOf(cfg *config.Config, t config.Team, members int) teamView {
	c, sv := owned(cfg, t.Name)
	return teamView{Team: t, Consumers: c, Services: sv, Members: members}
}

// teamTarget resolves the {name} of a team route.
func (s *Server) teamTarget(r *http.Request) (auth.Target, *Error, error) {
	name := r.PathValue("name")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no team %q", name)}
	cfg, _ := s.Configs.Current()
	if _, ok := findTeam(cfg, name); !ok {
		return auth.Target{}, notFound, notFound
	}
	return auth.Target{Team: name}, notFound, nil
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	users, err := s.Users.ListUsers(r.Context(), "")
	if err != nil {
		return err
	}
	members := map[string]int{}
	for _, u := range users {
		members[u.Team]++
	}
	out := []teamView{}
	p := principal(r)
	for _, t := range cfg.Teams {
		if p.Reaches(auth.Target{Team: t.Name}) {
			out = append(out, teamViewOf(cfg, t, members[t.Name]))
		}
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	i, ok := findTeam(cfg, r.PathValue("name"))
	if !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no team %q", r.PathValue("name"))}
	}
	members, err := s.Users.ListUsers(r.Context(), cfg.Teams[i].Name)
	if err != nil {
		return err
	}
	writeJSON(w, 200, teamViewOf(cfg, cfg.Teams[i], len(members)))
	return nil
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	var t config.Team
	if err := decodeJSON(r, &t); err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	if _, exists := findTeam(cfg, t.Name); exists {
		return &Error{Status: 409, Code: "conflict", Param: "name", Msg: fmt.Sprintf("team %q already exists", t.Name)}
	}
	next, err := cloneConfig(cfg)
	if err != nil {
		return err
	}
	next.Teams = append(next.Teams, t)
	res, err := s.Configs.Apply(r.Context(), next, author(r), "add team "+t.Name, false)
	if err != nil {
		return err
	}
	applied(r, res, "team.create", "team:"+t.Name, t.Name, "created team "+t.Name)
	writeJSON(w, 201, teamViewOf(next, t, 0))
	return nil
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var t config.Team
	if err := decodeJSON(r, &t); err != nil {
		return err
	}
	if t.Name != "" && t.Name != name {
		return badRequest("name", "a team cannot be renamed: its name is how consumers, services and members refer to it")
	}
	t.Name = name
	cfg, _ := s.Configs.Current()
	i, ok := findTeam(cfg, name)
	if !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no team %q", name)}
	}
	next, err := cloneConfig(cfg)
	if err != nil {
		return err
	}
	next.Teams[i] = t
	res, err := s.Configs.Apply(r.Context(), next, author(r), "update team "+name, false)
	if err != nil {
		return err
	}
	applied(r, res, "team.update", "team:"+name, name, "updated team "+name)
	members, err := s.Users.ListUsers(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, 200, teamViewOf(next, t, len(members)))
	return nil
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, _ := s.Configs.Current()
	i, ok := findTeam(cfg, name)
	if !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no team %q", name)}
	}
	if consumers, services := owned(cfg, name); len(consumers)+len(services) > 0 {
		var what []string
		if len(consumers) > 0 {
			what = append(what, "consumers "+strings.Join(consumers, ", "))
		}
		if len(services) > 0 {
			what = append(what, "services "+strings.Join(services, ", "))
		}
		return &Error{Status: 409, Code: "conflict",
			Msg:     fmt.Sprintf("team %q still owns %s: move or delete them first", name, strings.Join(what, " and ")),
			Details: map[string]any{"consumers": consumers, "services": services}}
	}
	next, err := cloneConfig(cfg)
	if err != nil {
		return err
	}
	next.Teams = append(next.Teams[:i], next.Teams[i+1:]...)
	res, err := s.Configs.Apply(r.Context(), next, author(r), "remove team "+name, false)
	if err != nil {
		return err
	}
	// Members of a team that is gone would hold a role over nothing;
	// they are left with no role instead, for an admin to place anew.
	removed, err := s.Users.RemoveTeamMembers(r.Context(), name)
	if err != nil {
		return err
	}
	summary := "deleted team " + name
	if len(removed) > 0 {
		summary += fmt.Sprintf("; its %d members (%s) now have no role", len(removed), strings.Join(removed, ", "))
	}
	applied(r, res, "team.delete", "team:"+name, name, summary)
	w.WriteHeader(204)
	return nil
}

// memberRequest is the body of POST /admin/v1/teams/{name}/members.
type memberRequest struct {
	// User is the user's ID or email.
	User string    `json:"user"`
	Role auth.Role `json:"role"`
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Users.ListUsers(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": users})
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	team := r.PathValue("name")
	var in memberRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.User == "" {
		return badRequest("user", "user (an id or an email) is required")
	}
	if !in.Role.TeamRole() {
		return badRequest("role", "a member's role is one of team_admin, developer, reviewer, viewer")
	}
	u, err := s.findUser(r, in.User)
	if err != nil {
		return err
	}
	status := 201
	if u.Team == team {
		status = 200
		if u.Role == in.Role {
			unchanged(r)
			writeJSON(w, 200, u)
			return nil
		}
	}
	before := describeBinding(u.Role, u.Team, u.Consumer)
	u, err = s.Users.AddTeamMember(r.Context(), team, u.ID, in.Role)
	if errors.Is(err, store.ErrConflict) {
		return &Error{Status: 409, Code: "conflict", Param: "user", Msg: fmt.Sprintf(
			"%s is %s: only a user with no role can join a team (an admin can change the user's role first)", in.User, before)}
	}
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "member.add", Target: "user:" + u.ID, Team: team,
		Summary: fmt.Sprintf("%s is now %s", u.Email, describeBinding(u.Role, u.Team, ""))})
	writeJSON(w, status, u)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	team := r.PathValue("name")
	u, err := s.findUser(r, r.PathValue("user"))
	var e *Error
	if errors.As(err, &e) && e.Status == 404 || err == nil && u.Team != team {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("%s is not a member of team %q", r.PathValue("user"), team)}
	}
	if err != nil {
		return err
	}
	if err := s.Users.RemoveTeamMember(r.Context(), team, u.ID); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "member.remove", Target: "user:" + u.ID, Team: team,
		Summary: fmt.Sprintf("%s left team %s (was %s); no role now", u.Email, team, u.Role)})
	w.WriteHeader(204)
	return nil
}
