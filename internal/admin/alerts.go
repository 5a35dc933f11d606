package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/store"
)

// Alerts serves the alert routes: the rules' current states, the history
// of their transitions and the silences.
type Alerts interface {
	Status() []alert.RuleStatus
	alert.Store
}

// MaxSilence bounds how long one silence may last.
const MaxSilence = 90 * 24 * time.Hour

func (s *Server) alerts() (Alerts, error) {
	if s.Alerts == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "alerts are not enabled on this gateway"}
	}
	return s.Alerts, nil
}

// alertScope is what a scoped principal may see of alerts: the groups
// whose consumer or service (a label, or fixed by the rule's filter) is
// one of theirs. nil for an unscoped principal.
func (s *Server) alertScope(r *http.Request) func(filter, labels map[string]string) bool {
	p := principal(r)
	if !p.Scoped() {
		return nil
	}
	sc := s.callScope(p)
	return func(filter, labels map[string]string) bool {
		get := func(k string) string {
			if v := labels[k]; v != "" {
				return v
			}
			return filter[k]
		}
		c, sv := get("consumer"), get("service")
		return (c != "" && slices.Contains(sc.Consumers, c)) || (sv != "" && slices.Contains(sc.Services, sv))
	}
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts()
	if err != nil {
		return err
	}
	want := r.URL.Query().Get("state")
	switch alert.State(want) {
	case "", alert.StateOK, alert.StatePending, alert.StateFiring, alert.StateResolved:
	default:
		return badRequest("state", "state: %q is not one of ok, pending, firing, resolved", want)
	}
	allowed := s.alertScope(r)
	out := []alert.RuleStatus{}
	for _, rs := range a.Status() {
		groups := []alert.GroupStatus{}
		for _, g := range rs.Groups {
			if (allowed == nil || allowed(rs.Rule.Filter, g.Labels)) && (want == "" || string(g.State) == want) {
				groups = append(groups, g)
			}
		}
		if allowed != nil && len(groups) == 0 && !allowed(rs.Rule.Filter, nil) {
			continue
		}
		if want != "" && len(groups) == 0 {
			continue
		}
		rs.Groups = groups
		out = append(out, rs)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := alert.EventQuery{Rule: v.Get("rule")}
	if q.Since, err = parseTime("since", v.Get("since")); err != nil {
		return err
	}
	if q.Before, err = parseTime("until", v.Get("until")); err != nil {
		return err
	}
	if l := v.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 || q.Limit > alert.MaxEvents {
			return badRequest("limit", "limit: %q is not a number from 1 to %d", l, alert.MaxEvents)
		}
	}
	evs, err := a.AlertEvents(r.Context(), q)
	if err != nil {
		return err
	}
	if allowed := s.alertScope(r); allowed != nil {
		filters := s.alertFilters()
		evs = slices.DeleteFunc(evs, func(e alert.Event) bool { return !allowed(filters[e.Rule], e.Labels) })
	}
	writeJSON(w, 200, map[string]any{"data": evs})
	return nil
}

// alertFilters maps each configured rule to its filter.
func (s *Server) alertFilters() map[string]map[string]string {
	cfg, _ := s.Configs.Current()
	out := map[string]map[string]string{}
	for _, a := range cfg.Alerts {
		out[a.Name] = a.Filter
	}
	return out
}

// silenceRequest is the body of POST /admin/v1/silences.
type silenceRequest struct {
	Matchers []alert.Matcher `json:"matchers"`
	// Start defaults to now; End or Duration (a Go duration) is required.
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Duration string     `json:"duration,omitempty"`
	Comment  string     `json:"comment"`
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts()
	if err != nil {
		return err
	}
	var req silenceRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	now := s.now()
	sil := alert.Silence{ID: alert.NewID("sil_"), Matchers: req.Matchers, Start: now, Author: principal(r).Actor(),
		Comment: strings.TrimSpace(req.Comment), CreatedAt: now}
	if req.Start != nil {
		sil.Start = *req.Start
	}
	switch {
	case req.End != nil && req.Duration != "":
		return badRequest("duration", "give end or duration, not both")
	case req.End != nil:
		sil.End = *req.End
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return badRequest("duration", "duration: %q is not a positive duration like 2h", req.Duration)
		}
		sil.End = sil.Start.Add(d)
	default:
		return badRequest("end", "end or duration is required")
	}
	if sil.Comment == "" {
		return badRequest("comment", "comment is required: say why the alerts are silenced")
	}
	if sil.End.Sub(sil.Start) > MaxSilence {
		return badRequest("end", "a silence lasts at most %s", MaxSilence)
	}
	if err := sil.Validate(); err != nil {
		return badRequest("matchers", "%s", strings.TrimPrefix(err.Error(), alert.ErrInvalid.Error()+": "))
	}
	if err := s.silenceInScope(r, sil); err != nil {
		return err
	}
	if err := a.InsertSilence(r.Context(), sil); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "silence.create", Target: "silence:" + sil.ID, Team: principal(r).Team,
		Summary: "silenced alerts: " + sil.Comment})
	writeJSON(w, 201, sil)
	return nil
}

// silenceInScope refuses a scoped principal's silence unless it is pinned
// to one of their consumers or services by an exact matcher, so that a
// team cannot silence another team's alerts.
func (s *Server) silenceInScope(r *http.Request, sil alert.Silence) error {
	allowed := s.alertScope(r)
	if allowed == nil {
		return nil
	}
	for _, m := range sil.Matchers {
		if !m.Regex && (m.Name == "consumer" || m.Name == "service") && allowed(nil, map[string]string{m.Name: m.Value}) {
			return nil
		}
	}
	return &Error{Status: 403, Code: "forbidden",
		Msg: "a team's silence needs an exact consumer or service matcher naming one of its own"}
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts()
	if err != nil {
		return err
	}
	since := s.now()
	if v := r.URL.Query().Get("expired"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("expired", "expired: %q is not true or false", v)
		}
		if b {
			since = time.Time{}
		}
	}
	ss, err := a.Silences(r.Context(), since)
	if err != nil {
		return err
	}
	if principal(r).Scoped() {
		ss = slices.DeleteFunc(ss, func(x alert.Silence) bool { return s.silenceInScope(r, x) != nil })
	}
	writeJSON(w, 200, map[string]any{"data": ss})
	return nil
}

func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: "no silence " + strconv.Quote(id)}
	if principal(r).Scoped() {
		ss, err := a.Silences(r.Context(), time.Time{})
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ss, func(x alert.Silence) bool { return x.ID == id })
		if i < 0 || s.silenceInScope(r, ss[i]) != nil {
			return notFound
		}
	}
	if err := a.DeleteSilence(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		return err
	}
	audit(r, auth.AuditEntry{Action: "silence.delete", Target: "silence:" + id, Team: principal(r).Team,
		Summary: "deleted silence " + id})
	w.WriteHeader(204)
	return nil
}
