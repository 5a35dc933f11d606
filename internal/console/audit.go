package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// auditFilters are the audit log's filters, as GET /admin/v1/audit names
// them.
var auditFilters = []string{"actor", "action", "target", "team", "since", "until"}

// trailSep joins the cursors of the pages before the current one, for the
// "newer" link: a cursor is base64url, which has no dot.
const trailSep = "."

type auditData struct {
	Entries []auth.AuditEntry
	// Filter is the form as filled.
	Filter url.Values
	// Newer and Older link the neighbouring pages, when there are.
	Newer, Older string
	// ShowTeam is whether the team filter applies: a team-scoped reader
	// sees its team's entries only, whatever it asks for.
	ShowTeam bool
}

// localLayout is the value of a datetime-local input, read as UTC.
const localLayout = "2006-01-02T15:04:05"

// filterTime reads a time filter: a datetime-local value (read as UTC) or
// RFC 3339. It returns the time for the admin API and for the form; what
// it cannot read goes to the API as typed, to be refused there.
func filterTime(v string) (api, form string) {
	for _, layout := range []string{time.RFC3339, localLayout, "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339), t.UTC().Format(localLayout)
		}
	}
	return v, v
}

// audit is the audit log, newest first, filtered and paged by the admin
// API. The "older" link carries the API's cursor, and the trail of the
// cursors before it so that "newer" can walk back.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	in := r.URL.Query()
	d := &auditData{Filter: url.Values{}, ShowTeam: m.Team == "" && m.Consumer == ""}
	q := url.Values{"limit": {strconv.Itoa(auditPageSize)}}
	for _, k := range auditFilters {
		v := strings.TrimSpace(in.Get(k))
		if v == "" {
			continue
		}
		shown := v
		if k == "since" || k == "until" {
			v, shown = filterTime(v)
		}
		d.Filter.Set(k, shown)
		q.Set(k, v)
	}
	cursor := in.Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page auth.AuditPage
	res, ok, err := s.getJSON(w, r, "/admin/v1/audit", q, &page)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if !ok && res.Status == http.StatusBadRequest {
		// A filter the API refuses (a malformed time, a stale cursor)
		// is shown with the form to correct it.
		s.render(w, res.Status, "audit", view{Title: "Audit log", Me: m, Nav: "audit", CSRF: m.CSRFToken, Error: res.message(), Data: d})
		return
	}
	if !ok {
		s.fail(w, r, m, res)
		return
	}
	d.Entries = page.Entries
	var trail []string
	if t := in.Get("trail"); t != "" {
		trail = strings.Split(t, trailSep)
	}
	link := func(cur string, tr []string) string {
		v := url.Values{}
		for k := range d.Filter {
			v.Set(k, d.Filter.Get(k))
		}
		if cur != "" {
			v.Set("cursor", cur)
		}
		if len(tr) > 0 {
			v.Set("trail", strings.Join(tr, trailSep))
		}
		return "/audit?" + v.Encode()
	}
	if page.Next != "" {
		next := trail
		if cursor != "" {
			next = append(trail[:len(trail):len(trail)], cursor)
		}
		d.Older = link(page.Next, next)
	}
	if cursor != "" {
		if len(trail) == 0 {
			d.Newer = link("", nil)
		} else {
			d.Newer = link(trail[len(trail)-1], trail[:len(trail)-1])
		}
	}
	s.render(w, http.StatusOK, "audit", view{Title: "Audit log", Me: m, Nav: "audit", CSRF: m.CSRFToken, Data: d})
}
