package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/hypercare"
	"github.com/hypergate/hypergate/internal/triage"
)

type signinData struct {
	Email, Next string
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(admin.SessionCookie); err == nil && c.Value != "" {
		var m me
		if _, ok, err := s.getJSON(w, r, "/admin/v1/me", nil, &m); err == nil && ok {
			http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	s.render(w, http.StatusOK, "signin", view{Title: "Sign in", CSRF: newLoginToken(w, r),
		Data: signinData{Next: localPath(r.URL.Query().Get("next"))}})
}

// signin signs in through POST /admin/v1/login itself, so the throttles,
// the audit entry and the session cookie are the admin API's.
func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	d := signinData{Email: strings.TrimSpace(r.PostFormValue("email")), Next: localPath(r.PostFormValue("next"))}
	if !sameOrigin(r) || !checkLoginToken(r) {
		s.render(w, http.StatusForbidden, "signin", view{Title: "Sign in", CSRF: newLoginToken(w, r), Data: d,
			Error: "the sign-in form expired or was posted from another site: try again"})
		return
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/login", nil,
		map[string]string{"email": d.Email, "password": r.PostFormValue("password")}, "")
	if err != nil {
		s.internal(w, r, nil, err)
		return
	}
	if res.Status != http.StatusOK {
		if ra := res.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		s.render(w, res.Status, "signin", view{Title: "Sign in", CSRF: newLoginToken(w, r), Data: d, Error: res.message()})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/signin", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/logout", nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status >= 300 && res.Status != http.StatusUnauthorized {
		s.fail(w, r, m, res)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// overviewData is the overview page: the last 24 hours.
type overviewData struct {
	From, To time.Time
	// Totals and Previous are the last 24 hours and the 24 before; nil
	// when the user may not read analytics (AnalyticsError says why).
	Totals, Previous map[string]*float64
	AnalyticsError   string
	Chart            *chart
	Feedback         *feedbackChart
	Incidents        []triage.Incident
	OpenIncidents    int
	IncidentsError   string
	Firing           []firingAlert
	AlertsError      string
	Hypercare        []hypercareWindow
	HypercareError   string
}

type firingAlert struct {
	Rule     string
	Metric   string
	Severity alert.Severity
	Labels   string
	Value    *float64
	Since    time.Time
	Silenced bool
}

type hypercareWindow struct {
	Name       string     `json:"name"`
	Target     string     `json:"target"`
	Team       string     `json:"team"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	State      string     `json:"state"`
	Summary    string     `json:"summary"`
	LastReport *time.Time `json:"last_report"`
	// Report is the window's latest report, for its verdict (hypercare.go).
	Report *hypercare.Report `json:"-"`
}

var overviewMetrics = "requests,errors,error_rate,latency_p95,tokens,cost"

// sectionError says why a section of the overview is empty: the role does
// not grant it, or it is not enabled on this gateway.
func sectionError(res *apiResult) string {
	switch res.Status {
	case http.StatusForbidden:
		return "your role does not include this"
	case http.StatusNotFound:
		return "not enabled on this gateway"
	}
	return res.message()
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	to := s.now().UTC()
	from := to.Add(-24 * time.Hour)
	d := overviewData{From: from, To: to}
	section := func(path string, q url.Values, out any, msg *string) bool {
		res, ok, err := s.getJSON(w, r, path, q, out)
		switch {
		case err != nil:
			s.logError("console overview", err, "path", path)
			*msg = "could not be read; see the gateway's log"
		case !ok:
			*msg = sectionError(res)
		}
		return ok && err == nil
	}

	var cmp analytics.Comparison
	if section("/admin/v1/analytics/compare", url.Values{
		"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)},
		"b_from": {from.Add(-24 * time.Hour).Format(time.RFC3339)}, "b_to": {from.Format(time.RFC3339)},
		"metric": {overviewMetrics}}, &cmp, &d.AnalyticsError) {
		d.Totals, d.Previous = byName(cmp.A.Values), byName(cmp.B.Values)
		var series analytics.Series
		if section("/admin/v1/analytics/timeseries", url.Values{
			"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "step": {"1h"},
			"metric": {"requests,errors"}}, &series, &d.AnalyticsError) {
			d.Chart = newChart(series, from, to)
		}
		var fb analytics.Series
		if section("/admin/v1/analytics/timeseries", url.Values{
			"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "step": {"1h"},
			"metric": {"feedback,negative_feedback_ratio"}}, &fb, &d.AnalyticsError) {
			d.Feedback = newFeedbackChart(fb, from, to)
		}
	}

	var inc struct {
		Data []triage.Incident `json:"data"`
	}
	if section("/admin/v1/incidents", url.Values{"state": {"open"}, "sort": {"priority"}, "limit": {strconv.Itoa(triage.MaxLimit)}}, &inc, &d.IncidentsError) {
		d.OpenIncidents = len(inc.Data)
		d.Incidents = inc.Data[:min(5, len(inc.Data))]
	}

	var al struct {
		Data []alert.RuleStatus `json:"data"`
	}
	if section("/admin/v1/alerts", url.Values{"state": {"firing"}}, &al, &d.AlertsError) {
		for _, rs := range al.Data {
			for _, g := range rs.Groups {
				d.Firing = append(d.Firing, firingAlert{Rule: rs.Rule.Name, Metric: rs.Rule.Metric, Severity: g.Severity,
					Labels: labelText(g.Labels), Value: g.Value, Since: g.Since, Silenced: g.Silenced})
			}
		}
	}

	var hc struct {
		Data []hypercareWindow `json:"data"`
	}
	if section("/admin/v1/hypercare", nil, &hc, &d.HypercareError) {
		for _, h := range hc.Data {
			if h.State == string(hypercare.StateActive) || h.State == string(hypercare.StateReadyToExit) {
				d.Hypercare = append(d.Hypercare, h)
			}
		}
		s.withReports(w, r, d.Hypercare, false)
	}
	s.render(w, http.StatusOK, "overview", view{Title: "Overview", Me: m, Nav: "overview", CSRF: m.CSRFToken, Data: d})
}

func labelText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ", ")
}

// callFilterParams are the query parameters of GET /admin/v1/calls the
// explorer's form offers, and the synthetic and probe filters of the
// alerts page's links; they are passed on as they are, so the admin API
// parses and validates them.
var callFilterParams = []string{"since", "until", "model", "service", "consumer", "status", "flag", "feedback", "has_feedback", "synthetic", "probe"}

type callsData struct {
	Filter url.Values
	Calls  []calllog.Record
	// Next is the URL of the next page, when there is one.
	Next string
}

// Get returns a filter value for the form.
func (d callsData) Get(k string) string { return d.Filter.Get(k) }

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	in := r.URL.Query()
	q := url.Values{}
	for _, k := range append(callFilterParams, "cursor") {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", "50")
	var page calllog.Page
	res, ok, err := s.getJSON(w, r, "/admin/v1/calls", q, &page)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	d := callsData{Filter: q}
	v := view{Title: "Calls", Me: m, Nav: "calls", CSRF: m.CSRFToken, Data: &d}
	if !ok {
		if res.Status != http.StatusBadRequest {
			s.fail(w, r, m, res)
			return
		}
		// A filter the API refuses is shown with the form to correct it.
		v.Error = res.message()
		s.render(w, http.StatusBadRequest, "calls", v)
		return
	}
	d.Calls = page.Calls
	if page.Next != "" {
		nq := url.Values{}
		for k, vs := range q {
			if k != "limit" {
				nq[k] = vs
			}
		}
		nq.Set("cursor", page.Next)
		d.Next = "/calls?" + nq.Encode()
	}
	s.render(w, http.StatusOK, "calls", v)
}

// callFeedback is feedback on a call as the admin API shows it; the value
// is kept as its JSON.
type callFeedback struct {
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
	Comment   string          `json:"comment"`
	Source    string          `json:"source"`
	Author    string          `json:"author"`
	Polarity  string          `json:"polarity"`
	UpdatedAt time.Time       `json:"updated_at"`
}

type callData struct {
	calllog.Record
	Feedback []callFeedback `json:"feedback"`
	// RequestBody and ResponseBody are the captured bodies, indented when
	// they are JSON.
	Request, Response string
	// Notice is a message after a form was posted.
	Notice string
	// ReviewQueues are the queues the call may be added to, for a user
	// who manages review queues; Queued is the one it was just added to.
	ReviewQueues []string
	Queued       string
}

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showCall(w, r, m, http.StatusOK, "", "")
}

func (s *Server) showCall(w http.ResponseWriter, r *http.Request, m *me, status int, notice, errMsg string) {
	s.showCallWith(w, r, m, status, notice, errMsg, "")
}

func (s *Server) showCallWith(w http.ResponseWriter, r *http.Request, m *me, status int, notice, errMsg, queued string) {
	var d callData
	if !s.load(w, r, m, "/admin/v1/calls/"+url.PathEscape(r.PathValue("id")), nil, &d) {
		return
	}
	d.Request, d.Response = pretty(d.RequestBody), pretty(d.ResponseBody)
	d.Notice, d.Queued = notice, queued
	if m.Can("review.manage") {
		d.ReviewQueues = s.reviewQueueNames(w, r)
	}
	s.render(w, status, "call", view{Title: "Call " + d.ID, Me: m, Nav: "calls", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// pretty indents a JSON body for reading; anything else is shown as is.
func pretty(body string) string {
	var v any
	if body == "" || json.Unmarshal([]byte(body), &v) != nil {
		return body
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return body
	}
	return string(b)
}

// callFeedback posts a reviewer's feedback on a call through
// POST /admin/v1/calls/{id}/feedback.
func (s *Server) callFeedback(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	body := map[string]any{"name": strings.TrimSpace(r.PostFormValue("name"))}
	switch v := r.PostFormValue("value"); v {
	case "true", "false":
		body["value"] = v == "true"
	case "":
	default:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			s.showCall(w, r, m, http.StatusBadRequest, "", "value: "+v+" is not true, false or a number")
			return
		}
		body["value"] = n
	}
	if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
		body["comment"] = c
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/calls/"+url.PathEscape(r.PathValue("id"))+"/feedback", nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		http.Redirect(w, r, "/calls/"+url.PathEscape(r.PathValue("id"))+"#feedback", http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity:
		s.showCall(w, r, m, res.Status, "", res.message())
	default:
		s.fail(w, r, m, res)
	}
}

// byName keys metric values by name, for templates.
func byName(v analytics.Values) map[string]*float64 {
	out := make(map[string]*float64, len(v))
	for m, x := range v {
		out[string(m)] = x
	}
	return out
}
