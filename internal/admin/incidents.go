package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// Incidents reads and moves triage incidents: the store.
type Incidents interface {
	ListIncidents(ctx context.Context, f triage.Filter, now time.Time) ([]triage.Incident, error)
	GetIncident(ctx context.Context, id string, now time.Time) (triage.Detail, error)
	// IncidentInScope reports whether the incident is of one of services
	// or affected one of consumers.
	IncidentInScope(ctx context.Context, id string, consumers, services []string) (bool, error)
	SetIncidentState(ctx context.Context, id string, to triage.State, by string, at time.Time) (triage.Incident, error)
	AddIncidentNote(ctx context.Context, id string, n triage.Note) (triage.Note, error)
}

func (s *Server) incidents() (Incidents, error) {
	if s.Incidents == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "triage is not enabled on this gateway"}
	}
	return s.Incidents, nil
}

// listIncidents answers GET /admin/v1/incidents: the incidents ranked by
// priority (or ?sort=last_seen|first_seen|count), filtered by state,
// service, model and kind. A principal scoped to a team sees those of its
// team's services and those that affected its team's consumers.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	st, err := s.incidents()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := triage.Filter{State: triage.State(q.Get("state")), Service: q.Get("service"), Model: q.Get("model"),
		Kind: triage.Kind(q.Get("kind")), Sort: q.Get("sort")}
	if f.State != "" && !f.State.Valid() {
		return badRequest("state", "state must be one of open, acknowledged, resolved, ignored")
	}
	switch f.Kind {
	case "", triage.KindFailure, triage.KindAnomaly, triage.KindFeedback:
	default:
		return badRequest("kind", "kind must be one of failure, anomaly, feedback")
	}
	switch f.Sort {
	case "", triage.SortPriority, triage.SortLastSeen, triage.SortFirstSeen, triage.SortCount:
	default:
		return badRequest("sort", "sort must be one of priority, last_seen, first_seen, count")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > triage.MaxLimit {
			return badRequest("limit", "limit must be 1 to %d", triage.MaxLimit)
		}
		f.Limit = n
	}
	if p := principal(r); p.Scoped() {
		sc := s.callScope(p)
		f.Scoped, f.Consumers, f.Services = true, sc.Consumers, sc.Services
	}
	list, err := st.ListIncidents(r.Context(), f, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": list})
	return nil
}

// incidentFor checks the {id} of an incident route against the caller's
// reach: one out of it is answered as if it did not exist.
func (s *Server) incidentFor(r *http.Request, st Incidents) (string, error) {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no incident %q", id)}
	p := principal(r)
	if !p.Scoped() {
		return id, nil
	}
	sc := s.callScope(p)
	ok, err := st.IncidentInScope(r.Context(), id, sc.Consumers, sc.Services)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", notFound
	}
	return id, nil
}

// getIncident answers GET /admin/v1/incidents/{id}: the incident with its
// sample calls, notes and hourly counts.
func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	st, err := s.incidents()
	if err != nil {
		return err
	}
	id, err := s.incidentFor(r, st)
	if err != nil {
		return err
	}
	d, err := st.GetIncident(r.Context(), id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no incident %q", id)}
	}
	if err != nil {
		return err
	}
	writeJSON(w, 200, d)
	return nil
}

// incidentMove is the optional body of a state change: a note to add with
// it, such as why the incident was resolved.
type incidentMove struct {
	Note string `json:"note,omitempty"`
}

// moveIncident answers POST /admin/v1/incidents/{id}/acknowledge,
// /resolve, /ignore and /reopen: a 409 when the incident's state does not
// allow the move (triage.CanMove).
func (s *Server) moveIncident(to triage.State, verb string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.incidents()
		if err != nil {
			return err
		}
		id, err := s.incidentFor(r, st)
		if err != nil {
			return err
		}
		var req incidentMove
		if err := decodeOptional(r, &req); err != nil {
			return err
		}
		note := strings.TrimSpace(req.Note)
		if err := checkNote(note, "note", false); err != nil {
			return err
		}
		p := principal(r)
		inc, err := st.SetIncidentState(r.Context(), id, to, p.Actor(), s.now())
		switch {
		case errors.Is(err, store.ErrNotFound):
			return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no incident %q", id)}
		case errors.Is(err, store.ErrConflict):
			return &Error{Status: 409, Code: "conflict", Msg: fmt.Sprintf("incident %s cannot be %s from its current state", id, verb), Err: err}
		case err != nil:
			return err
		}
		if note != "" {
			if _, err := st.AddIncidentNote(r.Context(), id, triage.Note{Author: p.Actor(), Text: note, Time: s.now()}); err != nil {
				return err
			}
		}
		audit(r, auth.AuditEntry{Action: "incident." + string(to), Target: "incident:" + id, Team: p.Team,
			Summary: fmt.Sprintf("%s incident %s (%s)", verb, id, inc.Title)})
		writeJSON(w, 200, inc)
		return nil
	}
}

// noteRequest is the body of POST /admin/v1/incidents/{id}/notes.
type noteRequest struct {
	Text string `json:"text"`
}

func checkNote(text, param string, required bool) error {
	switch {
	case text == "" && required:
		return badRequest(param, "%s is required", param)
	case len(text) > triage.MaxNoteBytes:
		return badRequest(param, "%s is longer than %d bytes", param, triage.MaxNoteBytes)
	case !utf8.ValidString(text):
		return badRequest(param, "%s is not valid UTF-8", param)
	}
	return nil
}

// addIncidentNote answers POST /admin/v1/incidents/{id}/notes; the author
// is the caller.
func (s *Server) addIncidentNote(w http.ResponseWriter, r *http.Request) error {
	st, err := s.incidents()
	if err != nil {
		return err
	}
	id, err := s.incidentFor(r, st)
	if err != nil {
		return err
	}
	var req noteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	if err := checkNote(text, "text", true); err != nil {
		return err
	}
	p := principal(r)
	n, err := st.AddIncidentNote(r.Context(), id, triage.Note{Author: p.Actor(), Text: text, Time: s.now()})
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no incident %q", id)}
	}
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "incident.note", Target: "incident:" + id, Team: p.Team,
		Summary: fmt.Sprintf("added a note to incident %s", id)})
	writeJSON(w, 201, n)
	return nil
}

func (s *Server) acknowledgeIncident(w http.ResponseWriter, r *http.Request) error {
	return s.moveIncident(triage.StateAcknowledged, "acknowledged")(w, r)
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request) error {
	return s.moveIncident(triage.StateResolved, "resolved")(w, r)
}

func (s *Server) ignoreIncident(w http.ResponseWriter, r *http.Request) error {
	return s.moveIncident(triage.StateIgnored, "ignored")(w, r)
}

func (s *Server) reopenIncident(w http.ResponseWriter, r *http.Request) error {
	return s.moveIncident(triage.StateOpen, "reopened")(w, r)
}
