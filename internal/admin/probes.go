package admin

import (
	"net/http"

	"github.com/hypergate/hypergate/internal/probe"
)

// ProbeLister lists the synthetic probes in service with their latest
// results: the probe scheduler.
type ProbeLister interface {
	Status() []probe.Status
}

// listProbes answers GET /admin/v1/probes. A probe's calls, with their
// bodies, are in GET /admin/v1/calls?probe=NAME.
func (s *Server) listProbes(w http.ResponseWriter, r *http.Request) error {
	if s.Probes == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "probes are not enabled on this gateway"}
	}
	writeJSON(w, 200, map[string]any{"data": s.Probes.Status()})
	return nil
}
