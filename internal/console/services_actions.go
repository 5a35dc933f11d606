package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// serviceWriter resolves the user of a form that changes a service: signed
// in, the form's anti-forgery token right, and a role that may write
// services (the admin API checks again, and checks the team).
func (s *Server) serviceWriter(w http.ResponseWriter, r *http.Request) (*me, bool) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return nil, false
	}
	if !m.Can("services.write") {
		s.errorPage(w, r, m, http.StatusForbidden, "your role may not change services")
		return nil, false
	}
	return m, true
}

func serviceAPI(name string) string { return "/admin/v1/services/" + url.PathEscape(name) }

func servicePage(name string) string { return "/services/" + url.PathEscape(name) }

// refused reports whether an admin API answer is one the user can fix on
// the page: a bad or conflicting request, or a team out of reach for a
// role that may write services otherwise.
func refused(m *me, res *apiResult) bool {
	switch res.Status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
		return true
	case http.StatusForbidden:
		return m.Can("services.write")
	}
	return false
}

// afterServiceChange redirects to the service's page after a change the
// admin API made, shows what it refused on that page, and fails otherwise.
func (s *Server) afterServiceChange(w http.ResponseWriter, r *http.Request, m *me, res *apiResult, anchor string) {
	name := r.PathValue("name")
	switch {
	case res.Status < 300:
		http.Redirect(w, r, servicePage(name)+anchor, http.StatusSeeOther)
	case refused(m, res) || res.Status == http.StatusNotFound && anchor == "#draft":
		s.showService(w, r, m, res.Status, res.message(), nil)
	default:
		s.fail(w, r, m, res)
	}
}

// saveDraft saves the editor's definition as the service's draft. What
// the admin API refuses is shown next to the editor, the text kept.
func (s *Server) saveDraft(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	form := editorForm{Text: r.PostFormValue("definition")}
	body, err := parseDefinition(form.Text)
	if err != nil {
		form.Problems = []problem{{Msg: err.Error()}}
		s.showService(w, r, m, http.StatusBadRequest, "the draft was not saved", &form)
		return
	}
	name := r.PathValue("name")
	res, err := s.api(w, r, http.MethodPut, serviceAPI(name)+"/draft", nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		http.Redirect(w, r, servicePage(name)+"#draft", http.StatusSeeOther)
	case refused(m, res):
		form.Problems = problems(res)
		s.showService(w, r, m, res.Status, "the draft was not saved", &form)
	default:
		s.fail(w, r, m, res)
	}
}

// discardDraft deletes the service's draft.
func (s *Server) discardDraft(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	res, err := s.api(w, r, http.MethodDelete, serviceAPI(r.PathValue("name"))+"/draft", nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.afterServiceChange(w, r, m, res, "#draft")
}

// canaryPercent reads a canary share from a form: 1 to 99.
func canaryPercent(v string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%")), 64)
	if err != nil || p < 1 || p > 99 {
		return 0, fmt.Errorf("the canary's share must be a percentage from 1 to 99, not %q", v)
	}
	return p, nil
}

// publish publishes the draft, for every call or, with canary_percent, as
// a canary taking that share of the calls.
func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	s.publishDraft(w, r, m, r.PostFormValue("canary_percent"))
}

// publishDraft publishes the draft; percent, when not empty, is the share
// of the calls it takes as a canary.
func (s *Server) publishDraft(w http.ResponseWriter, r *http.Request, m *me, percent string) {
	body := map[string]any{"message": strings.TrimSpace(r.PostFormValue("message"))}
	if v := percent; v != "" {
		p, err := canaryPercent(v)
		if err != nil {
			s.showService(w, r, m, http.StatusBadRequest, err.Error(), nil)
			return
		}
		body["canary_percent"] = p
	}
	res, err := s.api(w, r, http.MethodPost, serviceAPI(r.PathValue("name"))+"/publish", nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.afterServiceChange(w, r, m, res, "")
}

// publishDefinition publishes sv as the service's definition through a
// draft the console writes and publishes at once: the admin API's only
// way to change one field (the canary) of a published definition. A draft
// someone is working on is never overwritten: the change is refused while
// one exists.
func (s *Server) publishDefinition(w http.ResponseWriter, r *http.Request, sv config.Service, message string) (*apiResult, error) {
	base, csrf := serviceAPI(sv.Name), r.PostFormValue("csrf_token")
	res, err := s.api(w, r, http.MethodGet, base+"/draft", nil, nil, "")
	if err != nil {
		return nil, err
	}
	if res.Status == http.StatusOK {
		msg, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "conflict",
			"message": "the service has a draft: publish or discard it first, so that this change does not overwrite it"}})
		return &apiResult{Status: http.StatusConflict, Body: msg}, nil
	}
	if res, err = s.api(w, r, http.MethodPut, base+"/draft", nil, sv, csrf); err != nil || res.Status >= 300 {
		return res, err
	}
	res, err = s.api(w, r, http.MethodPost, base+"/publish", nil, map[string]any{"message": message}, csrf)
	if err == nil && res.Status >= 300 {
		// The draft was the console's own: it goes with the failure.
		if del, derr := s.api(w, r, http.MethodDelete, base+"/draft", nil, nil, csrf); derr != nil || del.Status >= 300 {
			s.logError("discarding the console's draft after a failed publish", derr, "service", sv.Name)
		}
	}
	return res, err
}

// published reads the service's published definition; ok is false when
// the page was answered.
func (s *Server) published(w http.ResponseWriter, r *http.Request, m *me) (config.Service, bool) {
	var sv serviceView
	res, ok, err := s.getJSON(w, r, serviceAPI(r.PathValue("name")), nil, &sv)
	if err != nil {
		s.internal(w, r, m, err)
		return config.Service{}, false
	}
	if !ok {
		s.fail(w, r, m, res)
		return config.Service{}, false
	}
	return sv.Service, true
}

// canary starts, changes, promotes or ends a service's canary:
// POST /services/{name}/canary/{op}, op one of start, percent, promote,
// abort.
func (s *Server) canary(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	op, name := r.PathValue("op"), r.PathValue("name")
	message := strings.TrimSpace(r.PostFormValue("message"))
	if op == "start" && r.PostFormValue("source") == "draft" {
		if _, err := canaryPercent(r.PostFormValue("percent")); err != nil {
			s.showService(w, r, m, http.StatusBadRequest, err.Error(), nil)
			return
		}
		s.publishDraft(w, r, m, r.PostFormValue("percent"))
		return
	}
	switch op {
	case "start", "percent", "promote", "abort":
	default:
		s.errorPage(w, r, m, http.StatusNotFound, "there is no canary action "+strconv.Quote(op))
		return
	}
	sv, ok := s.published(w, r, m)
	if !ok {
		return
	}
	if op != "start" && sv.Canary == nil {
		s.showService(w, r, m, http.StatusConflict, "service "+name+" has no canary", nil)
		return
	}
	var res *apiResult
	var err error
	switch op {
	case "promote":
		// Publishing the canary's release for every call ends the canary.
		if message == "" {
			message = fmt.Sprintf("promote canary release %d of service %s", sv.Canary.Release, name)
		}
		res, err = s.api(w, r, http.MethodPost, fmt.Sprintf("%s/releases/%d/rollback", serviceAPI(name), sv.Canary.Release), nil,
			map[string]string{"message": message}, r.PostFormValue("csrf_token"))
	case "abort":
		if message == "" {
			message = fmt.Sprintf("abort canary release %d of service %s", sv.Canary.Release, name)
		}
		sv.Canary = nil
		res, err = s.publishDefinition(w, r, sv, message)
	default:
		p, perr := canaryPercent(r.PostFormValue("percent"))
		if perr != nil {
			s.showService(w, r, m, http.StatusBadRequest, perr.Error(), nil)
			return
		}
		rel := 0
		if op == "percent" {
			rel = sv.Canary.Release
		} else if rel, err = strconv.Atoi(r.PostFormValue("source")); err != nil || rel < 1 {
			s.showService(w, r, m, http.StatusBadRequest, "choose the draft or a release to serve the canary", nil)
			return
		}
		if message == "" {
			message = fmt.Sprintf("canary release %d of service %s takes %s%% of the calls", rel, name, strconv.FormatFloat(p, 'f', -1, 64))
		}
		sv.Canary = &config.ServiceCanary{Release: rel, Percent: p}
		res, err = s.publishDefinition(w, r, sv, message)
	}
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.afterServiceChange(w, r, m, res, "#canary")
}

// rollback publishes an earlier release again, once the form's
// confirmation box is ticked.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.showRelease(w, r, m, http.StatusBadRequest, "tick the box to confirm the rollback")
		return
	}
	body := map[string]string{"message": strings.TrimSpace(r.PostFormValue("message"))}
	path := serviceAPI(r.PathValue("name")) + "/releases/" + url.PathEscape(r.PathValue("n")) + "/rollback"
	res, err := s.api(w, r, http.MethodPost, path, nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status >= 300 && refused(m, res) {
		s.showRelease(w, r, m, res.Status, res.message())
		return
	}
	s.afterServiceChange(w, r, m, res, "")
}

// lifecycle deprecates (with an optional sunset date) or retires a
// service: POST /services/{name}/deprecate or …/retire.
func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request) {
	m, ok := s.serviceWriter(w, r)
	if !ok {
		return
	}
	action := r.PathValue("action")
	body := map[string]any{"message": strings.TrimSpace(r.PostFormValue("message"))}
	switch action {
	case "deprecate":
		if v := strings.TrimSpace(r.PostFormValue("sunset")); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				s.showService(w, r, m, http.StatusBadRequest, "sunset: "+strconv.Quote(v)+" is not a date (YYYY-MM-DD)", nil)
				return
			}
			body["sunset"] = t
		}
	case "retire":
		if r.PostFormValue("confirm") != "yes" {
			s.showService(w, r, m, http.StatusBadRequest, "tick the box to confirm retiring the service: its routes will answer 410 Gone", nil)
			return
		}
	default:
		s.errorPage(w, r, m, http.StatusNotFound, "there is no service action "+strconv.Quote(action))
		return
	}
	res, err := s.api(w, r, http.MethodPost, serviceAPI(r.PathValue("name"))+"/"+action, nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.afterServiceChange(w, r, m, res, "#lifecycle")
}
