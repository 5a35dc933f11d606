package console

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/probe"
)

// historyLimit is how many transitions the alerts page shows: the latest.
const historyLimit = 50

// alertRow is one group of one rule on the alerts page.
type alertRow struct {
	Rule   config.Alert
	Group  alert.GroupStatus
	Labels string
	// NoData is set for a rule that has no group yet: it shows as one row.
	NoData bool
	// Calls links the calls the group is about, over the rule's window.
	Calls string
	// Silence is the matchers that silence this group, for the form.
	Silence string
}

// silenceForm is what the new-silence form was filled with, kept when the
// admin API refuses it.
type silenceForm struct {
	Matchers, Duration, Comment string
}

type alertsData struct {
	Rows []alertRow
	// RuleErrors are the rules whose last evaluation failed.
	RuleErrors []alert.RuleStatus
	History    []alert.Event
	Silences   []alert.Silence
	Form       silenceForm
	Probes     []probe.Status
	// ProbesError says why there are no probes to show.
	ProbesError string
	// ShowProbes is whether the role may read probes: the section is
	// hidden otherwise.
	ShowProbes bool
}

// stateRank orders groups on the page: firing first, then the ones about
// to fire, then the ones that just resolved.
func stateRank(s alert.State) int {
	switch s {
	case alert.StateFiring:
		return 0
	case alert.StatePending:
		return 1
	case alert.StateResolved:
		return 2
	}
	return 3
}

// alerts is the alerts page: the rules' groups with their states, the
// latest transitions, the silences and the synthetic probes.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	form := silenceForm{Matchers: r.URL.Query().Get("matchers"), Duration: "1h"}
	s.showAlerts(w, r, m, http.StatusOK, "", form)
}

func (s *Server) showAlerts(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string, form silenceForm) {
	d := alertsData{Form: form, ShowProbes: m.Can("probes.read")}
	var rules struct {
		Data []alert.RuleStatus `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/alerts", nil, &rules) {
		return
	}
	now := s.now()
	for _, rs := range rules.Data {
		if rs.Error != "" {
			d.RuleErrors = append(d.RuleErrors, rs)
		}
		if len(rs.Groups) == 0 {
			d.Rows = append(d.Rows, alertRow{Rule: rs.Rule, NoData: true, Calls: callsLink(rs.Rule, nil, now),
				Silence: silenceText(rs.Rule.Name, nil)})
			continue
		}
		for _, g := range rs.Groups {
			d.Rows = append(d.Rows, alertRow{Rule: rs.Rule, Group: g, Labels: labelText(g.Labels),
				Calls: callsLink(rs.Rule, g.Labels, now), Silence: silenceText(rs.Rule.Name, g.Labels)})
		}
	}
	slices.SortStableFunc(d.Rows, func(a, b alertRow) int {
		ra, rb := stateRank(a.Group.State), stateRank(b.Group.State)
		if a.NoData {
			ra = 4
		}
		if b.NoData {
			rb = 4
		}
		return cmp.Compare(ra, rb)
	})

	var hist struct {
		Data []alert.Event `json:"data"`
	}
	if res, ok, err := s.getJSON(w, r, "/admin/v1/alerts/history", url.Values{"limit": {strconv.Itoa(historyLimit)}}, &hist); err != nil || !ok {
		s.sectionFailed(w, r, m, res, err)
		return
	}
	d.History = hist.Data

	var sil struct {
		Data []alert.Silence `json:"data"`
	}
	if res, ok, err := s.getJSON(w, r, "/admin/v1/silences", nil, &sil); err != nil || !ok {
		s.sectionFailed(w, r, m, res, err)
		return
	}
	d.Silences = sil.Data

	if d.ShowProbes {
		var pr struct {
			Data []probe.Status `json:"data"`
		}
		res, ok, err := s.getJSON(w, r, "/admin/v1/probes", nil, &pr)
		switch {
		case err != nil:
			s.logError("console alerts page", err, "path", "/admin/v1/probes")
			d.ProbesError = "could not be read; see the gateway's log"
		case !ok && res.Status == http.StatusUnauthorized:
			s.toSignin(w, r)
			return
		case !ok:
			d.ProbesError = sectionError(res)
		default:
			d.Probes = pr.Data
		}
	}
	s.render(w, status, "alerts", view{Title: "Alerts", Me: m, Nav: "alerts", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// sectionFailed answers a failed read of one of the alerts page's
// sections, which the alerts' own permission also covers.
func (s *Server) sectionFailed(w http.ResponseWriter, r *http.Request, m *me, res *apiResult, err error) {
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	s.fail(w, r, m, res)
}

// callsLink is the console's call list filtered as the alert evaluator's
// own calls link is: the rule's filter and the group's labels that the call
// list can filter on, over the rule's window up to now.
func callsLink(a config.Alert, labels map[string]string, now time.Time) string {
	if config.IsCallLogMetric(a.Metric) {
		// The call log's own counters are about no calls in particular.
		return ""
	}
	q := url.Values{}
	if config.IsProbeMetric(a.Metric) {
		q.Set("synthetic", "true")
	}
	q.Set("since", now.Add(-a.EffectiveWindow()).UTC().Truncate(time.Minute).Format(time.RFC3339))
	q.Set("until", untilParam(now))
	for _, src := range []map[string]string{a.Filter, labels} {
		for k, v := range src {
			if k == "service" || k == "model" || k == "consumer" || k == config.AlertDimensionProbe {
				q.Set(k, v)
			}
		}
	}
	return "/calls?" + q.Encode()
}

// silenceText is the matchers, as the form takes them, that silence a
// rule's group: its rule name and its labels.
func silenceText(rule string, labels map[string]string) string {
	lines := []string{alert.RuleLabel + "=" + rule}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		lines = append(lines, k+"="+labels[k])
	}
	return strings.Join(lines, "\n")
}

// parseMatchers reads the form's matchers: one a line, name=value for an
// exact match or name=~pattern for an anchored regular expression. Blank
// lines are skipped; the admin API checks the rest.
func parseMatchers(text string) ([]alert.Matcher, error) {
	out := []alert.Matcher{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("matchers: line %d, %q, is not name=value", i+1, line)
		}
		m := alert.Matcher{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)}
		if rest, ok := strings.CutPrefix(m.Value, "~"); ok {
			m.Value, m.Regex = strings.TrimSpace(rest), true
		}
		out = append(out, m)
	}
	return out, nil
}

// createSilence posts the new-silence form to POST /admin/v1/silences. A
// silence the API refuses (400, or 403 for a team's silence outside its
// scope) is shown on the alerts page with the form as it was filled.
func (s *Server) createSilence(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	form := silenceForm{Matchers: r.PostFormValue("matchers"), Duration: strings.TrimSpace(r.PostFormValue("duration")),
		Comment: r.PostFormValue("comment")}
	matchers, err := parseMatchers(form.Matchers)
	if err != nil {
		s.showAlerts(w, r, m, http.StatusBadRequest, err.Error(), form)
		return
	}
	body := map[string]any{"matchers": matchers, "duration": form.Duration, "comment": form.Comment}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/silences", nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		http.Redirect(w, r, "/alerts#silences", http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || (res.Status == http.StatusForbidden && m.Can("alerts.write")):
		s.showAlerts(w, r, m, res.Status, res.message(), form)
	default:
		s.fail(w, r, m, res)
	}
}

// expireSilence ends a silence now: DELETE /admin/v1/silences/{id}, from
// the button of a form, which cannot send DELETE.
func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	res, err := s.api(w, r, http.MethodDelete, "/admin/v1/silences/"+url.PathEscape(r.PathValue("id")), nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		http.Redirect(w, r, "/alerts#silences", http.StatusSeeOther)
	case res.Status == http.StatusNotFound:
		// Expired already, from another tab or by someone else.
		s.showAlerts(w, r, m, res.Status, res.message(), silenceForm{Duration: "1h"})
	default:
		s.fail(w, r, m, res)
	}
}

// untilParam is the explorer's until for a range ending at t: RFC 3339 in
// whole seconds, rounded up, so that the calls of t's last second — often
// the very ones a page links to — are in.
func untilParam(t time.Time) string {
	if u := t.UTC().Truncate(time.Second); !u.Equal(t) {
		t = u.Add(time.Second)
	}
	return t.UTC().Format(time.RFC3339)
}
