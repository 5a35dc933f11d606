package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
)

// The services pages show and change services only through the admin API's
// services, drafts and releases routes. A canary has no route of its own:
// it is the published definition's canary field, so starting, changing or
// ending one publishes a changed definition — from the draft (publish with
// canary_percent), or, for a release or a new share, through a draft the
// console writes and publishes at once. Promoting a canary publishes its
// release for every call: a rollback to it.

// serviceView is a service as GET /admin/v1/services answers it.
type serviceView struct {
	Service  config.Service `json:"service"`
	Release  int            `json:"release"`
	HasDraft bool           `json:"has_draft"`
}

// State is the service's lifecycle state, "published" when unset.
func (v serviceView) State() string { return catalog.StateOf(v.Service) }

// serviceFilter is the list's filter form.
type serviceFilter struct{ Team, Kind, State string }

func (f serviceFilter) keeps(v serviceView) bool {
	return (f.Team == "" || v.Service.Team == f.Team) && (f.Kind == "" || kindOf(v.Service) == f.Kind) &&
		(f.State == "" || v.State() == f.State)
}

type servicesData struct {
	Filter   serviceFilter
	Teams    []string
	Kinds    []string
	States   []string
	Services []serviceView
	// Total is how many services there are before filtering.
	Total int
}

func kindOf(s config.Service) string {
	if s.Kind == "" {
		return config.KindREST
	}
	return s.Kind
}

// services lists every service the user's role reaches, filtered by team,
// kind and state in the console: the admin API lists them all at once.
func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	var list struct {
		Data []serviceView `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/services", nil, &list) {
		return
	}
	q := r.URL.Query()
	d := servicesData{Filter: serviceFilter{Team: q.Get("team"), Kind: q.Get("kind"), State: q.Get("state")},
		Kinds:  []string{config.KindREST, config.KindAI},
		States: []string{config.StatePublished, config.StateDeprecated, config.StateRetired}, Total: len(list.Data)}
	for _, v := range list.Data {
		if v.Service.Team != "" && !slices.Contains(d.Teams, v.Service.Team) {
			d.Teams = append(d.Teams, v.Service.Team)
		}
		if d.Filter.keeps(v) {
			d.Services = append(d.Services, v)
		}
	}
	slices.Sort(d.Teams)
	slices.SortFunc(d.Services, func(a, b serviceView) int { return cmp.Compare(a.Service.Name, b.Service.Name) })
	s.render(w, http.StatusOK, "services", view{Title: "Services", Me: m, Nav: "services", CSRF: m.CSRFToken, Data: &d})
}

// editorForm is the draft editor as filled in, kept when the admin API
// refuses it.
type editorForm struct {
	Text string
	// Problems are the API's validation errors, by field.
	Problems []problem
}

// canaryView is the canary panel's state.
type canaryView struct {
	Release int
	Percent float64
}

type serviceData struct {
	Name string
	// View is the published service; nil for a service only drafted.
	View     *serviceView
	Releases []catalog.Release
	Draft    *catalog.Draft
	// DraftDiff is the draft against the published definition.
	DraftDiff []fieldChange
	// DraftStale is set when a release was published after the draft was
	// saved over an earlier one.
	DraftStale bool
	Editor     editorForm
	Canary     *canaryView
	// Percent is the canary form's share as filled in.
	Percent string
}

// Published is the published definition, or nil.
func (d *serviceData) Published() *config.Service {
	if d.View == nil {
		return nil
	}
	return &d.View.Service
}

// Earlier are the releases a rollback can go to: all but the current one.
func (d *serviceData) Earlier() []catalog.Release {
	var out []catalog.Release
	for _, r := range d.Releases {
		if d.View == nil || r.Number != d.View.Release {
			out = append(out, r)
		}
	}
	return out
}

// service is a service's page: its definition, releases, draft, canary and
// lifecycle.
func (s *Server) service(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showService(w, r, m, http.StatusOK, "", nil)
}

// showService renders a service's page; editor, when not nil, is the draft
// editor as the user filled it in.
func (s *Server) showService(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string, editor *editorForm) {
	name := r.PathValue("name")
	base := "/admin/v1/services/" + url.PathEscape(name)
	d := serviceData{Name: name, Percent: "10"}
	var sv serviceView
	res, ok, err := s.getJSON(w, r, base, nil, &sv)
	switch {
	case err != nil:
		s.internal(w, r, m, err)
		return
	case ok:
		d.View = &sv
		if c := sv.Service.Canary; c != nil {
			d.Canary = &canaryView{Release: c.Release, Percent: c.Percent}
			d.Percent = strconv.FormatFloat(c.Percent, 'f', -1, 64)
		}
	case res.Status != http.StatusNotFound:
		s.fail(w, r, m, res)
		return
	}
	// A service not published may still have a draft or a history.
	var draft catalog.Draft
	res, ok, err = s.getJSON(w, r, base+"/draft", nil, &draft)
	switch {
	case err != nil:
		s.internal(w, r, m, err)
		return
	case ok:
		d.Draft = &draft
	case res.Status != http.StatusNotFound:
		s.fail(w, r, m, res)
		return
	}
	var rels struct {
		Data []catalog.Release `json:"data"`
	}
	if res, ok, err = s.getJSON(w, r, base+"/releases", url.Values{"limit": {"100"}}, &rels); err != nil || !ok {
		s.sectionFailed(w, r, m, res, err)
		return
	}
	d.Releases = rels.Data
	if d.View == nil && d.Draft == nil && len(d.Releases) == 0 {
		s.errorPage(w, r, m, http.StatusNotFound, "there is no service "+strconv.Quote(name))
		return
	}
	if d.Draft != nil {
		var dd struct {
			Base      int      `json:"base"`
			DraftBase int      `json:"draft_base"`
			Diff      []string `json:"diff"`
		}
		if res, ok, err = s.getJSON(w, r, base+"/draft/diff", nil, &dd); err != nil || !ok {
			s.sectionFailed(w, r, m, res, err)
			return
		}
		d.DraftDiff = fieldChanges(dd.Diff)
		d.DraftStale = dd.Base != dd.DraftBase
	}
	switch {
	case editor != nil:
		d.Editor = *editor
	case d.Draft != nil:
		d.Editor.Text, err = definitionYAML(d.Draft.Definition)
	case d.View != nil:
		d.Editor.Text, err = serviceYAML(sv.Service)
	}
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.render(w, status, "service", view{Title: "Service " + name, Me: m, Nav: "services", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

type releaseData struct {
	Name    string
	Release catalog.Release
	// Definition is the release's definition as YAML.
	Definition string
	// Diff is against Against when set, else the stored diff against the
	// release published when this one was made.
	Diff    []fieldChange
	Against int
	// Current is the release published now (0: none).
	Current int
	// HasCanary is set when the release's definition has a canary of its
	// own, which a rollback to it brings back.
	HasCanary bool
}

// release is one release's page: its definition, its diff, and the
// rollback form that is the second step of a rollback.
func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showRelease(w, r, m, http.StatusOK, "")
}

func (s *Server) showRelease(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string) {
	name := r.PathValue("name")
	base := "/admin/v1/services/" + url.PathEscape(name)
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		s.errorPage(w, r, m, http.StatusNotFound, "there is no release "+strconv.Quote(r.PathValue("n"))+" of service "+strconv.Quote(name))
		return
	}
	d := releaseData{Name: name}
	res, ok, err := s.getJSON(w, r, base+"/releases/"+strconv.Itoa(n), nil, &d.Release)
	if err != nil || !ok {
		s.sectionFailed(w, r, m, res, err)
		return
	}
	cur, err := d.Release.Decode()
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	d.HasCanary = cur.Canary != nil
	if d.Definition, err = serviceYAML(cur); err != nil {
		s.internal(w, r, m, err)
		return
	}
	d.Diff = fieldChanges(d.Release.Diff)
	if v := strings.TrimSpace(r.URL.Query().Get("against")); v != "" {
		a, err := strconv.Atoi(v)
		if err != nil || a < 1 {
			s.errorPage(w, r, m, http.StatusBadRequest, "against: "+strconv.Quote(v)+" is not a release number")
			return
		}
		var other catalog.Release
		res, ok, err := s.getJSON(w, r, base+"/releases/"+strconv.Itoa(a), nil, &other)
		if err != nil || !ok {
			s.sectionFailed(w, r, m, res, err)
			return
		}
		old, err := other.Decode()
		if err != nil {
			s.internal(w, r, m, err)
			return
		}
		d.Against, d.Diff = a, fieldChanges(catalog.ServiceDiff(&old, &cur))
	}
	var sv serviceView
	res, ok, err = s.getJSON(w, r, base, nil, &sv)
	switch {
	case err != nil:
		s.internal(w, r, m, err)
		return
	case ok:
		d.Current = sv.Release
	case res.Status != http.StatusNotFound:
		s.fail(w, r, m, res)
		return
	}
	title := "Release " + strconv.Itoa(n) + " of " + name
	s.render(w, status, "release", view{Title: title, Me: m, Nav: "services", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}
