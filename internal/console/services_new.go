package console

import (
	"net/http"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// newServiceForm is the new-service form: the least a service needs to be
// valid (a name, a route, and an upstream or models), the rest being
// edited as a draft afterwards.
type newServiceForm struct {
	Name, Team, Kind, Approval, Description string
	UpstreamURL, Models, Path, Methods      string
	// Teams are the teams the user may choose from; empty when the role
	// cannot list them (the field is then free text).
	Teams    []string
	Problems []problem
}

// Service is the definition the form describes.
func (f *newServiceForm) Service() config.Service {
	sv := config.Service{Name: f.Name, Team: f.Team, Kind: f.Kind, Approval: f.Approval, Description: f.Description}
	if f.Kind == config.KindAI {
		sv.Models = fields(f.Models)
	} else if f.UpstreamURL != "" {
		sv.Upstream = &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: f.UpstreamURL}}}
	}
	if f.Path != "" {
		route := config.Route{Path: f.Path, Methods: fields(strings.ToUpper(f.Methods))}
		sv.Routes = []config.Route{route}
	}
	return sv
}

// fields splits a list written with commas or spaces.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// newService is the new-service form.
func (s *Server) newService(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !m.Can("services.write") {
		s.errorPage(w, r, m, http.StatusForbidden, "your role may not create services")
		return
	}
	s.showNewService(w, r, m, http.StatusOK, "", &newServiceForm{Kind: config.KindREST, Approval: config.ApprovalAuto, Team: m.Team})
}

func (s *Server) showNewService(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string, f *newServiceForm) {
	if m.Team != "" {
		f.Teams = []string{m.Team}
	} else if m.Can("teams.read") {
		var teams struct {
			Data []config.Team `json:"data"`
		}
		if res, ok, err := s.getJSON(w, r, "/admin/v1/teams", nil, &teams); err == nil && ok {
			for _, t := range teams.Data {
				f.Teams = append(f.Teams, t.Name)
			}
		} else if err != nil {
			s.logError("console new-service form: listing teams", err)
		} else if res.Status == http.StatusUnauthorized {
			s.toSignin(w, r)
			return
		}
	}
	s.render(w, status, "service_new", view{Title: "New service", Me: m, Nav: "services", CSRF: m.CSRFToken, Error: errMsg, Data: f})
}

// createService creates the service the form describes: POST
// /admin/v1/services. What the admin API refuses is shown by field, the
// form kept.
func (s *Server) createService(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := &newServiceForm{Name: v("name"), Team: v("team"), Kind: v("kind"), Approval: v("approval"), Description: v("description"),
		UpstreamURL: v("upstream_url"), Models: v("models"), Path: v("path"), Methods: v("methods")}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/services", nil, f.Service(), r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		http.Redirect(w, r, servicePage(f.Name), http.StatusSeeOther)
	case refused(m, res):
		f.Problems = problems(res)
		s.showNewService(w, r, m, res.Status, "the service was not created", f)
	default:
		s.fail(w, r, m, res)
	}
}
