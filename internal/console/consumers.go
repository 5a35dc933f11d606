package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
)

// consumerKey is a key of an application as the admin API lists it: a key
// declared in the configuration (Source "config", with its env:NAME
// reference) or one created through the API (Source "api", with its
// prefix). Never the secret.
type consumerKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Source    string     `json:"source"`
	Prefix    string     `json:"prefix"`
	Ref       string     `json:"ref"`
	CreatedAt *time.Time `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// application is GET /admin/v1/consumers/{name}.
type application struct {
	config.Consumer
	Keys []consumerKey `json:"keys"`
}

// appForm is what the new-application form was filled with.
type appForm struct {
	Name, Team string
}

type applicationsData struct {
	Apps   []application
	Form   appForm
	Errors []string
}

// applications lists the applications (consumers) the user may see, with
// the form that creates one.
func (s *Server) applications(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showApplications(w, r, m, http.StatusOK, appForm{Team: m.Team}, nil)
}

func (s *Server) showApplications(w http.ResponseWriter, r *http.Request, m *me, status int, form appForm, errs []string) {
	var list struct {
		Data []application `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/consumers", nil, &list) {
		return
	}
	d := &applicationsData{Apps: list.Data, Form: form, Errors: errs}
	s.render(w, status, "consumers", view{Title: "Applications", Me: m, Nav: "applications", CSRF: m.CSRFToken, Data: d})
}

// createApplication posts the new-application form. A team member's
// application belongs to its team: the admin API fills the team in and
// refuses another, and the refusal is shown with the form.
func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	form := appForm{Name: strings.TrimSpace(r.PostFormValue("name")), Team: strings.TrimSpace(r.PostFormValue("team"))}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/consumers", nil, config.Consumer{Name: form.Name, Team: form.Team}, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status == http.StatusCreated:
		http.Redirect(w, r, "/applications/"+url.PathEscape(form.Name), http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || res.Status == http.StatusUnprocessableEntity ||
		(res.Status == http.StatusForbidden && m.Can("consumers.write")):
		s.showApplications(w, r, m, res.Status, form, errorLines(res.message()))
	default:
		s.fail(w, r, m, res)
	}
}

// applicationData is one application's page.
type applicationData struct {
	App application
	// Publishable are its publishable (feedback widget) keys; nil with
	// NoPublishable set when the gateway has no feedback or the role may
	// not read keys.
	Publishable   []feedback.PublishableKey
	NoPublishable bool
	Subscriptions []catalog.Subscription
	NoSubs        bool
	Errors        []string
	Now           time.Time
}

// applicationPage shows one application: its keys (never their secrets),
// publishable keys and subscriptions, with the forms that create, rotate
// and revoke keys.
func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showApplication(w, r, m, http.StatusOK, nil)
}

func (s *Server) showApplication(w http.ResponseWriter, r *http.Request, m *me, status int, errs []string) {
	name := r.PathValue("name")
	d := &applicationData{Errors: errs, Now: s.now()}
	if !s.load(w, r, m, "/admin/v1/consumers/"+url.PathEscape(name), nil, &d.App) {
		return
	}
	// The optional sections are left out when the gateway has no
	// feedback or subscriptions (404) or the role may not read them.
	var pk struct {
		Data []feedback.PublishableKey `json:"data"`
	}
	d.NoPublishable = true
	if m.Can("keys.read") {
		_, ok, err := s.getJSON(w, r, "/admin/v1/consumers/"+url.PathEscape(name)+"/publishable-keys", nil, &pk)
		if err != nil {
			s.logError("console application page", err, "section", "publishable keys")
		}
		if ok {
			d.Publishable, d.NoPublishable = pk.Data, false
		}
	}
	var subs struct {
		Data []catalog.Subscription `json:"data"`
	}
	_, ok, err := s.getJSON(w, r, "/admin/v1/subscriptions", url.Values{"consumer": {name}}, &subs)
	if err != nil {
		s.logError("console application page", err, "section", "subscriptions")
	}
	d.Subscriptions, d.NoSubs = subs.Data, !ok
	s.render(w, status, "consumer", view{Title: "Application " + d.App.Name, Me: m, Nav: "applications", CSRF: m.CSRFToken, Data: d})
}

// newKey is the page that shows a key's secret, the one time it is shown.
type newKey struct {
	App, Kind, Name, Prefix, Secret, Warning string
	// Replaces says which key a rotation replaced and until when it works.
	Replaces string
}

// showSecret renders the one page a key's secret appears on.
func (s *Server) showSecret(w http.ResponseWriter, m *me, k newKey) {
	s.render(w, http.StatusCreated, "keycreated", view{Title: "Copy your " + k.Kind + " now", Me: m, Nav: "applications", CSRF: m.CSRFToken, Data: &k})
}

// keyAction posts a form that acts on an application's keys to the admin
// API. A created or rotated key's secret is shown once on its own page;
// anything else goes back to the application page.
func (s *Server) keyAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.actOnKey(w, r, action) }
}

func (s *Server) actOnKey(w http.ResponseWriter, r *http.Request, action string) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	app, id, tok := r.PathValue("name"), r.PathValue("id"), r.PostFormValue("csrf_token")
	base := "/admin/v1/consumers/" + url.PathEscape(app)
	var (
		method, path string
		body         any
		kind         = "key"
	)
	switch action {
	case "create":
		method, path = http.MethodPost, base+"/keys"
		in := map[string]any{"name": strings.TrimSpace(r.PostFormValue("key_name"))}
		if v := strings.TrimSpace(r.PostFormValue("expires")); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				s.showApplication(w, r, m, http.StatusBadRequest, []string{fmt.Sprintf("expiry: %q is not a date (YYYY-MM-DD)", v)})
				return
			}
			in["expires_at"] = t.UTC()
		}
		body = in
	case "rotate":
		method, path = http.MethodPost, base+"/keys/"+url.PathEscape(id)+"/rotate"
		in := map[string]any{}
		if v := strings.TrimSpace(r.PostFormValue("grace")); v != "" {
			in["grace"] = v
		}
		body = in
	case "revoke":
		// Keys are revoked by id alone: make sure this one is the
		// application's, as the page the button was on says.
		var keys struct {
			Data []auth.Key `json:"data"`
		}
		if !s.load(w, r, m, "/admin/v1/keys", url.Values{"consumer": {app}}, &keys) {
			return
		}
		if !slices.ContainsFunc(keys.Data, func(k auth.Key) bool { return k.ID == id }) {
			s.showApplication(w, r, m, http.StatusNotFound, []string{fmt.Sprintf("%s has no key %q", app, id)})
			return
		}
		method, path = http.MethodDelete, "/admin/v1/keys/"+url.PathEscape(id)
	case "create-publishable":
		method, path, kind = http.MethodPost, base+"/publishable-keys", "publishable key"
		body = map[string]any{"name": strings.TrimSpace(r.PostFormValue("key_name")), "origins": strings.Fields(r.PostFormValue("origins"))}
	case "revoke-publishable":
		method, path = http.MethodDelete, base+"/publishable-keys/"+url.PathEscape(id)
	default:
		s.notFound(w, r)
		return
	}
	res, err := s.api(w, r, method, path, nil, body, tok)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status == http.StatusCreated:
		var k struct {
			Name     string `json:"name"`
			Prefix   string `json:"prefix"`
			Secret   string `json:"key"`
			Warning  string `json:"warning"`
			Replaces *struct {
				ID        string     `json:"id"`
				Prefix    string     `json:"prefix"`
				ExpiresAt *time.Time `json:"expires_at"`
			} `json:"replaces"`
		}
		if err := json.Unmarshal(res.Body, &k); err != nil {
			s.internal(w, r, m, fmt.Errorf("decoding the new key: %w", err))
			return
		}
		nk := newKey{App: app, Kind: kind, Name: k.Name, Prefix: k.Prefix, Secret: k.Secret, Warning: k.Warning}
		if k.Replaces != nil && k.Replaces.ExpiresAt != nil {
			nk.Replaces = fmt.Sprintf("The old key %s… keeps working until %s.", k.Replaces.Prefix, k.Replaces.ExpiresAt.UTC().Format("2006-01-02 15:04:05Z"))
		}
		s.showSecret(w, m, nk)
	case res.Status < 300:
		http.Redirect(w, r, "/applications/"+url.PathEscape(app)+"#keys", http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || res.Status == http.StatusUnprocessableEntity ||
		(res.Status == http.StatusNotFound && id != ""):
		s.showApplication(w, r, m, res.Status, errorLines(res.message()))
	default:
		s.fail(w, r, m, res)
	}
}

// deleteApplication removes an application; the admin API revokes its keys
// and withdraws its subscriptions with it.
func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.showApplication(w, r, m, http.StatusBadRequest, []string{"tick the box to confirm the deletion"})
		return
	}
	res, err := s.api(w, r, http.MethodDelete, "/admin/v1/consumers/"+url.PathEscape(r.PathValue("name")), nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status >= 300 {
		s.fail(w, r, m, res)
		return
	}
	http.Redirect(w, r, "/applications", http.StatusSeeOther)
}
