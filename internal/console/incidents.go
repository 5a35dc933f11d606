package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/triage"
)

// incidentFilterParams are the query parameters of GET /admin/v1/incidents
// the triage board's form offers; they are passed on as they are, so the
// admin API validates them.
var incidentFilterParams = []string{"state", "service", "model", "kind"}

// boardLimit is how many incidents the board shows: the highest ranked.
const boardLimit = 200

type boardData struct {
	Filter    url.Values
	States    []triage.State
	Kinds     []triage.Kind
	Incidents []triage.Incident
}

// Get returns a filter value for the form.
func (d boardData) Get(k string) string { return d.Filter.Get(k) }

// incidents is the triage board: GET /admin/v1/incidents, ranked by
// priority, filtered as the form says.
func (s *Server) incidents(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	in := r.URL.Query()
	q := url.Values{}
	for _, k := range incidentFilterParams {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	d := boardData{Filter: q, States: triage.States(), Kinds: triage.Kinds()}
	api := url.Values{"sort": {triage.SortPriority}, "limit": {strconv.Itoa(boardLimit)}}
	for k, vs := range q {
		api[k] = vs
	}
	var list struct {
		Data []triage.Incident `json:"data"`
	}
	res, ok, err := s.getJSON(w, r, "/admin/v1/incidents", api, &list)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	v := view{Title: "Incidents", Me: m, Nav: "incidents", CSRF: m.CSRFToken, Data: &d}
	if !ok {
		if res.Status != http.StatusBadRequest {
			s.fail(w, r, m, res)
			return
		}
		// A filter the API refuses is shown with the form to correct it.
		v.Error = res.message()
		s.render(w, http.StatusBadRequest, "incidents", v)
		return
	}
	d.Incidents = list.Data
	s.render(w, http.StatusOK, "incidents", v)
}

// incidentMoves are the state changes an operator may make, in the order
// the page offers them, with the admin API route of each.
var incidentMoves = []struct {
	To     triage.State
	Action string
	Label  string
}{
	{triage.StateAcknowledged, "acknowledge", "Acknowledge"},
	{triage.StateResolved, "resolve", "Resolve"},
	{triage.StateIgnored, "ignore", "Ignore"},
	{triage.StateOpen, "reopen", "Reopen"},
}

// incidentMove is one button of the incident page.
type incidentMove struct {
	Action, Label string
}

type incidentData struct {
	triage.Detail
	// Moves are the state changes the incident's state allows.
	Moves []incidentMove
	Chart *barChart
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showIncident(w, r, m, http.StatusOK, "")
}

func (s *Server) showIncident(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string) {
	var d incidentData
	if !s.load(w, r, m, "/admin/v1/incidents/"+url.PathEscape(r.PathValue("id")), nil, &d.Detail) {
		return
	}
	for _, mv := range incidentMoves {
		if triage.CanMove(d.State, mv.To) {
			d.Moves = append(d.Moves, incidentMove{Action: mv.Action, Label: mv.Label})
		}
	}
	d.Chart = newBarChart(d.Hourly, s.now())
	s.render(w, status, "incident", view{Title: d.Title, Me: m, Nav: "incidents", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// incidentAction posts a state change (POST /incidents/{id}/{action}) or a
// note (action "notes") to the admin API's route of the same name. A
// refusal the operator can act on — a state that no longer allows the
// move (409), a note the API rejects (400) — is shown on the incident page.
func (s *Server) incidentAction(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	action := r.PathValue("action")
	known := action == "notes"
	for _, mv := range incidentMoves {
		known = known || mv.Action == action
	}
	if !known {
		s.errorPage(w, r, m, http.StatusNotFound, "there is no console page at "+r.URL.Path)
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	var body any
	if action == "notes" {
		body = map[string]string{"text": r.PostFormValue("text")}
	}
	id := url.PathEscape(r.PathValue("id"))
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/incidents/"+id+"/"+action, nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		target := "/incidents/" + id
		if action == "notes" {
			target += "#notes"
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	case res.Status == http.StatusConflict || res.Status == http.StatusBadRequest:
		s.showIncident(w, r, m, res.Status, res.message())
	default:
		s.fail(w, r, m, res)
	}
}

// barChart is an incident's count per hour as SVG bars, drawn on the
// server like the overview's chart.
type barChart struct {
	Width, Height int
	Bars          []bar
	Max           int64
	Ticks         []tick
	// Rows are the hours that had occurrences, for the table under the
	// chart.
	Rows []triage.HourCount
}

type bar struct {
	X, Y, W, H float64
	Hour       time.Time
	Count      int64
}

// barHours is how many hours the chart spans, up to the current one.
const barHours = 48

// newBarChart draws the last barHours hours of hourly counts up to now's
// hour; hours without a count are zero. Nil when there are no counts.
func newBarChart(hourly []triage.HourCount, now time.Time) *barChart {
	if len(hourly) == 0 {
		return nil
	}
	end := now.UTC().Truncate(time.Hour)
	if last := hourly[len(hourly)-1].Hour.UTC().Truncate(time.Hour); last.After(end) {
		end = last
	}
	start := end.Add(-(barHours - 1) * time.Hour)
	counts := make([]int64, barHours)
	c := &barChart{Width: chartW, Height: chartH, Max: 1}
	for _, h := range hourly {
		if h.Count > 0 {
			c.Rows = append(c.Rows, h)
		}
		i := int(h.Hour.UTC().Truncate(time.Hour).Sub(start) / time.Hour)
		if i < 0 || i >= barHours {
			continue
		}
		counts[i] += h.Count
		c.Max = max(c.Max, counts[i])
	}
	slot := float64(chartW-padLeft-padRight) / barHours
	plot := float64(chartH - 2*padTB)
	for i, n := range counts {
		hour := start.Add(time.Duration(i) * time.Hour)
		h := float64(n) / float64(c.Max) * plot
		c.Bars = append(c.Bars, bar{X: padLeft + float64(i)*slot + 1, Y: chartH - padTB - h, W: slot - 2, H: h, Hour: hour, Count: n})
		if i%12 == 0 {
			c.Ticks = append(c.Ticks, tick{X: int(padLeft + float64(i)*slot + slot/2), Label: hour.Format("01-02 15h")})
		}
	}
	return c
}

// fmtPriority shows a priority score with the precision that ranks.
func fmtPriority(p float64) string { return fmt.Sprintf("%.1f", p) }
