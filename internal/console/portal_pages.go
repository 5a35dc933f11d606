package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/feedback"
)

func (p *Portal) signinPage(w http.ResponseWriter, r *http.Request) {
	next := localNext(r.URL.Query().Get("next"))
	if c, err := r.Cookie(PortalCookie); err == nil && c.Value != "" {
		var m me
		if _, ok, err := p.getJSON(w, r, "/me", nil, &m); err == nil && ok {
			http.Redirect(w, r, p.Prefix+next, http.StatusSeeOther)
			return
		}
	}
	p.render(w, http.StatusOK, "signin", view{Title: "Sign in", CSRF: setLoginToken(w, r, portalLoginCookie, p.Prefix+"/signin"),
		Data: signinData{Next: next}})
}

// signin signs in through the admin API's POST /login (its throttles and
// audit apply); the session comes back as the portal's cookie.
func (p *Portal) signin(w http.ResponseWriter, r *http.Request) {
	d := signinData{Email: strings.TrimSpace(r.PostFormValue("email")), Next: localNext(r.PostFormValue("next"))}
	again := func(status int, msg string) {
		p.render(w, status, "signin", view{Title: "Sign in", CSRF: setLoginToken(w, r, portalLoginCookie, p.Prefix+"/signin"), Data: d, Error: msg})
	}
	if !sameOrigin(r) || !checkLoginCookie(r, portalLoginCookie) {
		again(http.StatusForbidden, "the sign-in form expired or was posted from another site: try again")
		return
	}
	res, err := p.call(w, r, http.MethodPost, "/login", nil, map[string]string{"email": d.Email, "password": r.PostFormValue("password")}, "")
	if err != nil {
		p.internal(w, r, nil, err)
		return
	}
	if res.Status != http.StatusOK {
		if ra := res.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		again(res.Status, res.message())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: portalLoginCookie, Path: p.Prefix + "/signin", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, p.Prefix+d.Next, http.StatusSeeOther)
}

func (p *Portal) signout(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	res, err := p.call(w, r, http.MethodPost, "/logout", nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if res.Status >= 300 && res.Status != http.StatusUnauthorized {
		p.fail(w, r, m, res)
		return
	}
	http.Redirect(w, r, p.Prefix+"/signin", http.StatusSeeOther)
}

// catalogData is the catalog page: the entries that match the search.
type catalogData struct {
	Q, Tag, Kind string
	// Tags are every tag of the catalog, for the filter links.
	Tags    []string
	Entries []catalog.Entry
	Total   int
}

// TagURL is the catalog filtered by tag t, keeping the other filters.
func (d catalogData) TagURL(t string) string {
	q := url.Values{}
	for k, v := range map[string]string{"q": d.Q, "kind": d.Kind, "tag": t} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "?"
	}
	return "?" + q.Encode()
}

// matches is the catalog's search: every word of q in the name, the
// document's title or the description.
func matches(e catalog.Entry, q string) bool {
	text := strings.ToLower(e.Name + " " + e.Description)
	if e.OpenAPI != nil {
		text += " " + strings.ToLower(e.OpenAPI.Title)
	}
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func (p *Portal) catalog(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok {
		return
	}
	in := r.URL.Query()
	d := catalogData{Q: strings.TrimSpace(in.Get("q")), Tag: in.Get("tag"), Kind: in.Get("kind")}
	var list struct {
		Data []catalog.Entry `json:"data"`
	}
	res, ok, err := p.getJSON(w, r, "/catalog", nil, &list)
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if !ok {
		p.fail(w, r, m, res)
		return
	}
	d.Total = len(list.Data)
	for _, e := range list.Data {
		for _, t := range e.Tags {
			if !slices.Contains(d.Tags, t) {
				d.Tags = append(d.Tags, t)
			}
		}
		if (d.Tag == "" || slices.Contains(e.Tags, d.Tag)) && (d.Kind == "" || e.Kind == d.Kind) && matches(e, d.Q) {
			d.Entries = append(d.Entries, e)
		}
	}
	slices.Sort(d.Tags)
	p.render(w, http.StatusOK, "catalog", view{Title: "API catalog", Me: m, Nav: "catalog", CSRF: m.CSRFToken, Data: d})
}

// portalApp is an application (consumer) as the portal shows it.
type portalApp struct {
	Name string                 `json:"name"`
	Team string                 `json:"team"`
	Keys []appKey               `json:"keys"`
	Subs []catalog.Subscription `json:"-"`
}

type appKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Source    string     `json:"source"`
	Prefix    string     `json:"prefix"`
	CreatedAt *time.Time `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// myApps lists the applications the user reaches.
func (p *Portal) myApps(w http.ResponseWriter, r *http.Request) ([]portalApp, *apiResult, error) {
	var list struct {
		Data []portalApp `json:"data"`
	}
	res, ok, err := p.getJSON(w, r, "/consumers", nil, &list)
	if err != nil || !ok {
		return nil, res, err
	}
	return list.Data, nil, nil
}

// portalService is a service's page: its entry, its documentation, and the
// user's way to access it.
type portalService struct {
	Entry    catalog.Entry
	Doc      *apiDoc
	DocError string
	Apps     []portalApp
	// Feedback is whether the page asks "was this page helpful?"; Thanks
	// that it was just answered.
	Feedback, Thanks bool
	Notice           string
}

func (p *Portal) service(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok {
		return
	}
	notice := ""
	switch r.URL.Query().Get("done") {
	case "subscribed":
		notice = "Subscription requested: its state is below."
	}
	p.showService(w, r, m, http.StatusOK, notice, "")
}

func (p *Portal) showService(w http.ResponseWriter, r *http.Request, m *me, status int, notice, errMsg string) {
	name := r.PathValue("name")
	d := portalService{Feedback: p.Feedback != nil, Thanks: r.URL.Query().Get("done") == "feedback", Notice: notice}
	res, ok, err := p.getJSON(w, r, "/catalog/"+url.PathEscape(name), nil, &d.Entry)
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if !ok {
		p.fail(w, r, m, res)
		return
	}
	doc, err := p.call(w, r, http.MethodGet, "/services/"+url.PathEscape(name)+"/openapi", nil, nil, "")
	switch {
	case err != nil:
		p.internal(w, r, m, err)
		return
	case doc.Status == http.StatusOK:
		if d.Doc, err = parseAPIDoc(doc.Body); err != nil {
			p.logError("reading an OpenAPI document", err, "service", name)
			d.DocError = "the service's OpenAPI document could not be read"
		}
	case doc.Status == http.StatusNotFound:
		d.DocError = "the service's owners have not published its documentation yet"
	default:
		d.DocError = doc.message()
	}
	if d.Apps, res, err = p.myApps(w, r); err != nil {
		p.internal(w, r, m, err)
		return
	} else if res != nil && res.Status == http.StatusUnauthorized {
		p.toSignin(w, r)
		return
	}
	title := d.Entry.Name
	if d.Entry.OpenAPI != nil && d.Entry.OpenAPI.Title != "" {
		title = d.Entry.OpenAPI.Title
	}
	p.render(w, status, "service", view{Title: title, Me: m, Nav: "catalog", CSRF: m.CSRFToken, Error: errMsg, Data: d})
}

// subscribe asks for an application's subscription to the service; the
// service's approval setting decides whether it is pending.
func (p *Portal) subscribe(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	name := r.PathValue("name")
	res, err := p.call(w, r, http.MethodPost, "/subscriptions", nil,
		map[string]string{"consumer": r.PostFormValue("consumer"), "service": name}, r.PostFormValue("csrf_token"))
	switch {
	case err != nil:
		p.internal(w, r, m, err)
	case res.Status < 300:
		http.Redirect(w, r, p.Prefix+"/services/"+url.PathEscape(name)+"?done=subscribed#access", http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusNotFound || res.Status == http.StatusConflict:
		p.showService(w, r, m, res.Status, "", res.message())
	default:
		p.fail(w, r, m, res)
	}
}

// feedbackPage is the page documentation feedback is stored under: the
// service page's path.
func (p *Portal) feedbackPage(service string) string { return p.Prefix + "/services/" + service }

// pageFeedback records "was this page helpful?" for a service's page, as
// the signed-in user (and its application, for a consumer's account).
func (p *Portal) pageFeedback(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	if p.Feedback == nil {
		p.errorPage(w, m, http.StatusNotFound, "page feedback is not enabled on this gateway")
		return
	}
	name := r.PathValue("name")
	// The page must be one the user may read.
	var e catalog.Entry
	res, ok, err := p.getJSON(w, r, "/catalog/"+url.PathEscape(name), nil, &e)
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if !ok {
		p.fail(w, r, m, res)
		return
	}
	var v feedback.Value
	switch r.PostFormValue("helpful") {
	case "yes":
		v = feedback.BoolValue(true)
	case "no":
		v = feedback.BoolValue(false)
	default:
		p.showService(w, r, m, http.StatusBadRequest, "", "answer yes or no")
		return
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	_, _, err = p.Feedback.SubmitPage(r.Context(), feedback.Submitter{Consumer: m.Consumer, Source: feedback.SourceUser, Author: "user:" + m.Name},
		feedback.Input{Page: p.feedbackPage(name), Name: "helpful", Value: &v, Comment: comment})
	var invalid *feedback.InvalidError
	switch {
	case errors.As(err, &invalid):
		p.showService(w, r, m, http.StatusBadRequest, "", invalid.Error())
	case err != nil:
		p.internal(w, r, m, err)
	default:
		http.Redirect(w, r, p.Prefix+"/services/"+url.PathEscape(name)+"?done=feedback#feedback", http.StatusSeeOther)
	}
}

// appsData is the applications page.
type appsData struct {
	Apps []portalApp
	Name string
}

func (p *Portal) apps(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok {
		return
	}
	p.showApps(w, r, m, http.StatusOK, "", "")
}

func (p *Portal) showApps(w http.ResponseWriter, r *http.Request, m *me, status int, name, errMsg string) {
	apps, res, err := p.myApps(w, r)
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if res != nil {
		p.fail(w, r, m, res)
		return
	}
	for i := range apps {
		var subs struct {
			Data []catalog.Subscription `json:"data"`
		}
		if _, ok, err := p.getJSON(w, r, "/subscriptions", url.Values{"consumer": {apps[i].Name}}, &subs); err == nil && ok {
			apps[i].Subs = subs.Data
		}
	}
	p.render(w, status, "apps", view{Title: "My applications", Me: m, Nav: "apps", CSRF: m.CSRFToken, Error: errMsg,
		Data: appsData{Apps: apps, Name: name}})
}

func (p *Portal) createApp(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	body := map[string]string{"name": name}
	if m.Team != "" {
		body["team"] = m.Team
	}
	res, err := p.call(w, r, http.MethodPost, "/consumers", nil, body, r.PostFormValue("csrf_token"))
	switch {
	case err != nil:
		p.internal(w, r, m, err)
	case res.Status < 300:
		http.Redirect(w, r, p.Prefix+"/apps/"+url.PathEscape(name), http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || res.Status == http.StatusUnprocessableEntity:
		p.showApps(w, r, m, res.Status, name, res.message())
	default:
		p.fail(w, r, m, res)
	}
}

// appData is one application's page.
type appData struct {
	App portalApp
	// NewKey is the key just created, shown this once.
	NewKey     *portalKey
	Usage      *usage
	UsageError string
}

type portalKey struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Prefix  string `json:"prefix"`
	Secret  string `json:"key"`
	Warning string `json:"warning"`
}

// usage is an application's last 7 days.
type usage struct {
	Chart                          *chart
	Requests, Errors, Tokens, Cost float64
}

const usageDays = 7

func (p *Portal) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Portal) app(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok {
		return
	}
	p.showApp(w, r, m, http.StatusOK, nil, "")
}

func (p *Portal) showApp(w http.ResponseWriter, r *http.Request, m *me, status int, key *portalKey, errMsg string) {
	name := r.PathValue("name")
	d := appData{NewKey: key}
	res, ok, err := p.getJSON(w, r, "/consumers/"+url.PathEscape(name), nil, &d.App)
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	if !ok {
		p.fail(w, r, m, res)
		return
	}
	var subs struct {
		Data []catalog.Subscription `json:"data"`
	}
	if res, ok, err := p.getJSON(w, r, "/subscriptions", url.Values{"consumer": {name}}, &subs); err != nil {
		p.internal(w, r, m, err)
		return
	} else if !ok {
		p.fail(w, r, m, res)
		return
	}
	d.App.Subs = subs.Data
	to := p.now().UTC()
	from := to.Add(-usageDays * 24 * time.Hour)
	var series analytics.Series
	res, ok, err = p.getJSON(w, r, "/analytics/timeseries", url.Values{"consumer": {name}, "step": {"1h"},
		"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "metric": {"requests,errors,tokens,cost"}}, &series)
	switch {
	case err != nil:
		p.logError("portal usage", err, "consumer", name)
		d.UsageError = "could not be read; see the gateway's log"
	case !ok:
		d.UsageError = sectionError(res)
	default:
		u := &usage{Chart: dayTicks(newChart(series, from, to))}
		for _, pt := range series.Points {
			for metric, dst := range map[analytics.Metric]*float64{analytics.Requests: &u.Requests, analytics.Errors: &u.Errors,
				analytics.Tokens: &u.Tokens, analytics.Cost: &u.Cost} {
				if v := pt.Values[metric]; v != nil {
					*dst += *v
				}
			}
		}
		d.Usage = u
	}
	p.render(w, status, "app", view{Title: "Application " + name, Me: m, Nav: "apps", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// createKey creates a key and shows its secret on the page it answers with,
// never on a later one.
func (p *Portal) createKey(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	body := map[string]string{}
	if n := strings.TrimSpace(r.PostFormValue("key_name")); n != "" {
		body["name"] = n
	}
	res, err := p.call(w, r, http.MethodPost, "/consumers/"+url.PathEscape(r.PathValue("name"))+"/keys", nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		p.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status == http.StatusCreated:
		var k portalKey
		if err := json.Unmarshal(res.Body, &k); err != nil {
			p.internal(w, r, m, err)
			return
		}
		p.showApp(w, r, m, http.StatusCreated, &k, "")
	case res.Status == http.StatusBadRequest:
		p.showApp(w, r, m, res.Status, nil, res.message())
	default:
		p.fail(w, r, m, res)
	}
}

func (p *Portal) revokeKey(w http.ResponseWriter, r *http.Request) {
	m, ok := p.whoami(w, r)
	if !ok || !p.checkPost(w, r, m) {
		return
	}
	res, err := p.call(w, r, http.MethodDelete, "/keys/"+url.PathEscape(r.PathValue("id")), nil, nil, r.PostFormValue("csrf_token"))
	switch {
	case err != nil:
		p.internal(w, r, m, err)
	case res.Status < 300:
		http.Redirect(w, r, p.Prefix+"/apps/"+url.PathEscape(r.PathValue("name"))+"#keys", http.StatusSeeOther)
	default:
		p.fail(w, r, m, res)
	}
}

// dayTicks labels a chart of several days by day rather than every six
// hours, which would crowd its axis.
func dayTicks(c *chart) *chart {
	c.Ticks = nil
	n := len(c.Rows)
	for i, row := range c.Rows {
		if row.Time.Hour() != 0 || n < 2 {
			continue
		}
		x := padLeft + float64(i)*float64(chartW-padLeft-padRight)/float64(n-1)
		c.Ticks = append(c.Ticks, tick{X: int(x), Label: row.Time.Format("Jan 2")})
	}
	return c
}
