package admin

import (
	"net/http"
	"strconv"

	"github.com/hypergate/hypergate/internal/auth"
)

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := auth.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Team: q.Get("team"), Cursor: q.Get("cursor")}
	var err error
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return err
	}
	if f.Until, err = parseTime("until", q.Get("until")); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return badRequest("limit", "limit: %q must be a whole number from 1 to 500", v)
		}
	}
	// A team-scoped reader sees its team's entries, whatever it asks for.
	if p := principal(r); p.Team != "" {
		if f.Team != "" && f.Team != p.Team {
			writeJSON(w, 200, auth.AuditPage{Entries: []auth.AuditEntry{}})
			return nil
		}
		f.Team = p.Team
	}
	page, err := s.Audit.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	if page.Entries == nil {
		page.Entries = []auth.AuditEntry{}
	}
	writeJSON(w, 200, page)
	return nil
}
