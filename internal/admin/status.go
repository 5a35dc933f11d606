package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/store"
)

// StatusManager is the operators' side of the public status page:
// incidents written for the public, their updates, status subscribers and
// the services' computed levels (status.Service with the store).
type StatusManager interface {
	CreateIncident(ctx context.Context, n status.NewIncident, author string) (status.Incident, error)
	AddUpdate(ctx context.Context, id string, n status.NewUpdate, author string) (status.Incident, error)
	GetIncident(ctx context.Context, id string) (status.Incident, error)
	ListIncidents(ctx context.Context, f status.IncidentFilter) ([]status.Incident, error)
	CreateSubscriber(ctx context.Context, n status.NewSubscriber, author string) (status.Subscriber, error)
	ListSubscribers(ctx context.Context) ([]status.Subscriber, error)
	DeleteSubscriber(ctx context.Context, id string) error
	// States returns the services' levels as last computed, with why.
	States(ctx context.Context) ([]status.ServiceState, error)
}

func (s *Server) statusManager() (StatusManager, error) {
	if s.Status == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "the status page is not enabled on this gateway"}
	}
	return s.Status, nil
}

// statusError turns the status package's input errors into 4xx answers.
func statusError(err error) error {
	switch {
	case errors.Is(err, status.ErrInvalid):
		return badRequest("", "%s", strings.TrimPrefix(err.Error(), status.ErrInvalid.Error()+": "))
	case errors.Is(err, status.ErrResolved), errors.Is(err, store.ErrConflict):
		return &Error{Status: 409, Code: "conflict", Msg: "the incident is resolved; open a new one", Err: err}
	}
	return err
}

// listStatusServices answers GET /admin/v1/status: each service's level
// as last computed, with the signals behind it (the public page shows
// the level only).
func (s *Server) listStatusServices(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	states, err := m.States(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": states})
	return nil
}

// listStatusIncidents answers GET /admin/v1/status/incidents
// (?open=true, ?limit=N).
func (s *Server) listStatusIncidents(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	var f status.IncidentFilter
	q := r.URL.Query()
	if v := q.Get("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("open", "open must be true or false")
		}
		f.Open = open
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > store.MaxStatusIncidentLimit {
			return badRequest("limit", "limit must be between 1 and %d", store.MaxStatusIncidentLimit)
		}
		f.Limit = n
	}
	list, err := m.ListIncidents(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": list})
	return nil
}

// createStatusIncident answers POST /admin/v1/status/incidents.
func (s *Server) createStatusIncident(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	var req status.NewIncident
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := m.CreateIncident(r.Context(), req, principal(r).Actor())
	if err != nil {
		return statusError(err)
	}
	writeJSON(w, 201, in)
	return nil
}

// getStatusIncident answers GET /admin/v1/status/incidents/{id}.
func (s *Server) getStatusIncident(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	in, err := m.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, in)
	return nil
}

// addStatusUpdate answers POST /admin/v1/status/incidents/{id}/updates;
// an update at status resolved ends the incident.
func (s *Server) addStatusUpdate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	var req status.NewUpdate
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := m.AddUpdate(r.Context(), r.PathValue("id"), req, principal(r).Actor())
	if err != nil {
		return statusError(err)
	}
	writeJSON(w, 201, in)
	return nil
}

// listStatusSubscribers answers GET /admin/v1/status/subscribers; no
// secret is ever listed.
func (s *Server) listStatusSubscribers(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	subs, err := m.ListSubscribers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": subs})
	return nil
}

// createStatusSubscriber answers POST /admin/v1/status/subscribers.
func (s *Server) createStatusSubscriber(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	var req status.NewSubscriber
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	sub, err := m.CreateSubscriber(r.Context(), req, principal(r).Actor())
	if err != nil {
		return statusError(err)
	}
	writeJSON(w, 201, sub)
	return nil
}

// deleteStatusSubscriber answers DELETE /admin/v1/status/subscribers/{id}.
func (s *Server) deleteStatusSubscriber(w http.ResponseWriter, r *http.Request) error {
	m, err := s.statusManager()
	if err != nil {
		return err
	}
	if err := m.DeleteSubscriber(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
