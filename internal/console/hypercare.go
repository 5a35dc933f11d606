package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/hypercare"
)

// The verdict of a whole window, from its metrics' verdicts.
const (
	verdictHealthy      = "healthy"
	verdictRegressed    = "regressed"
	verdictInsufficient = "insufficient data"
	verdictNotStarted   = "not started"
)

// The hypercare and review pages' template functions join the shared map
// here, before Handler parses the templates.
func init() {
	funcs["metricValue"] = metricValue
	funcs["slug"] = func(s string) string { return strings.ReplaceAll(s, " ", "-") }
	funcs["change"] = func(v float64) string {
		if v > 0 {
			return "+" + fmtPct(v)
		}
		return fmtPct(v)
	}
	funcs["ptrOf"] = func(v float64) *float64 { return &v }
	funcs["verdictOf"] = func(rep *hypercare.Report) string {
		if rep == nil {
			return ""
		}
		return windowVerdict(rep)
	}
}

// metricValue writes a report metric's value in its unit; "–" when it has
// no data.
func metricValue(unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	switch unit {
	case "ms":
		return fmtMillis(*v)
	case "ratio":
		return fmtPct(*v)
	case "usd":
		return fmtUSD(*v)
	}
	return fmtNum(*v)
}

// windowVerdict sums a report up: regressed when any metric regressed,
// insufficient data when no metric had enough, else healthy.
func windowVerdict(rep *hypercare.Report) string {
	enough := false
	for _, m := range rep.Metrics {
		switch m.Verdict {
		case hypercare.Regressed:
			return verdictRegressed
		case hypercare.NotEnoughData:
		default:
			enough = true
		}
	}
	if !enough {
		return verdictInsufficient
	}
	return verdictHealthy
}

// Verdict is the window's verdict by its report; "not started" before it
// opens, "" when no report could be read.
func (h hypercareWindow) Verdict() string {
	switch {
	case h.State == string(hypercare.StateScheduled):
		return verdictNotStarted
	case h.Report == nil:
		return ""
	}
	return windowVerdict(h.Report)
}

// withReports attaches each open window's report: computed now when live,
// else the latest stored daily report (cheap, for the overview), computed
// now only when none is stored yet. A report that cannot be read leaves
// the window without one rather than failing the page.
func (s *Server) withReports(w http.ResponseWriter, r *http.Request, ws []hypercareWindow, live bool) {
	for i := range ws {
		if ws[i].State == string(hypercare.StateScheduled) {
			continue
		}
		path := "/admin/v1/hypercare/" + url.PathEscape(ws[i].Name)
		if !live && ws[i].LastReport != nil {
			var hist struct {
				Data []hypercare.StoredReport `json:"data"`
			}
			if _, ok, err := s.getJSON(w, r, path+"/reports", url.Values{"limit": {"1"}}, &hist); err == nil && ok && len(hist.Data) > 0 && hist.Data[0].Report != nil {
				ws[i].Report = hist.Data[0].Report
				continue
			}
		}
		var rep hypercare.Report
		if _, ok, err := s.getJSON(w, r, path+"/report", nil, &rep); err != nil {
			s.logError("console hypercare report", err, "window", ws[i].Name)
		} else if ok {
			ws[i].Report = &rep
		}
	}
}

// targetFilter turns a window's target, as hypercare.Target.String writes
// it, into the call explorer's and triage board's filters; a prompt has
// none.
func targetFilter(target string) url.Values {
	switch {
	case strings.HasPrefix(target, "release ") && strings.Contains(target, " of service "):
		_, svc, _ := strings.Cut(target, " of service ")
		return url.Values{"service": {svc}}
	case strings.HasPrefix(target, "service "):
		return url.Values{"service": {strings.TrimPrefix(target, "service ")}}
	case strings.HasPrefix(target, "model "):
		return url.Values{"model": {strings.TrimPrefix(target, "model ")}}
	}
	return nil
}

type hypercareListData struct {
	Windows []hypercareWindow
}

// hypercareList lists the windows the user reaches with their verdicts.
func (s *Server) hypercareList(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	var list struct {
		Data []hypercareWindow `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/hypercare", nil, &list) {
		return
	}
	s.withReports(w, r, list.Data, true)
	s.render(w, http.StatusOK, "hypercare", view{Title: "Hypercare", Me: m, Nav: "hypercare", CSRF: m.CSRFToken,
		Data: hypercareListData{Windows: list.Data}})
}

// explorerLink is a link to the call explorer or the triage board.
type explorerLink struct {
	Label, URL string
}

type hypercareWindowData struct {
	Report  *hypercare.Report
	Verdict string
	History []hypercare.StoredReport
	// HistoryError says why the stored reports are missing.
	HistoryError string
	Calls        []explorerLink
	Incidents    string
}

// hypercareWindowPage shows a window's report as of now, its gates, its
// stored daily reports and links to its calls and incidents.
func (s *Server) hypercareWindowPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	var d hypercareWindowData
	if !s.load(w, r, m, "/admin/v1/hypercare/"+url.PathEscape(name)+"/report", nil, &d.Report) {
		return
	}
	d.Verdict = windowVerdict(d.Report)
	var hist struct {
		Data []hypercare.StoredReport `json:"data"`
	}
	if res, ok, err := s.getJSON(w, r, "/admin/v1/hypercare/"+url.PathEscape(name)+"/reports", url.Values{"limit": {"30"}}, &hist); err != nil {
		s.logError("console hypercare history", err, "window", name)
		d.HistoryError = "could not be read; see the gateway's log"
	} else if !ok {
		d.HistoryError = sectionError(res)
	}
	d.History = hist.Data
	if f := targetFilter(d.Report.Target); f != nil {
		p := d.Report.Period
		link := func(label string, from, to time.Time, extra ...string) {
			q := url.Values{"since": {from.UTC().Format(time.RFC3339)}, "until": {untilParam(to)}}
			for k, v := range f {
				q[k] = v
			}
			for i := 0; i+1 < len(extra); i += 2 {
				q.Set(extra[i], extra[i+1])
			}
			d.Calls = append(d.Calls, explorerLink{label, "/calls?" + q.Encode()})
		}
		link("Failed calls in the window (status 500)", p.From, p.To, "status", "500")
		link("Failed calls in the window (status 502)", p.From, p.To, "status", "502")
		link("Calls with negative feedback in the window", p.From, p.To, "feedback", "negative")
		link("Every call in the window", p.From, p.To)
		link("Every call in the baseline", d.Report.Baseline.From, d.Report.Baseline.To)
		d.Incidents = "/incidents?" + f.Encode()
	}
	s.render(w, http.StatusOK, "hypercare_window", view{Title: "Hypercare: " + name, Me: m, Nav: "hypercare", CSRF: m.CSRFToken, Data: &d})
}
