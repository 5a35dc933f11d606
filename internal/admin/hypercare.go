package admin

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/hypercare"
)

// HypercareStore reads what hypercare reports are made of, and the stored
// daily reports: the store.
type HypercareStore interface {
	hypercare.Source
	ListHypercareReports(ctx context.Context, window string, limit int) ([]hypercare.StoredReport, error)
}

// hypercareWindow is a window in GET /admin/v1/hypercare: its definition's
// essentials and its state, ready-to-exit as the latest stored daily
// report found it.
type hypercareWindow struct {
	Name   string          `json:"name"`
	Target string          `json:"target"`
	Team   string          `json:"team,omitempty"`
	Start  time.Time       `json:"start"`
	End    time.Time       `json:"end"`
	State  hypercare.State `json:"state"`
	// ReadySince is when the exit criteria had held long enough, by the
	// latest stored report.
	ReadySince *time.Time `json:"ready_since,omitempty"`
	// LastReport is the time the latest stored report is as of, and
	// Summary its summary.
	LastReport *time.Time `json:"last_report,omitempty"`
	Summary    string     `json:"summary,omitempty"`
}

// MaxHypercareReports bounds GET /admin/v1/hypercare/{name}/reports.
const MaxHypercareReports = 400

func (s *Server) hypercareStore() (HypercareStore, error) {
	if s.Hypercare == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "hypercare is not enabled on this gateway"}
	}
	return s.Hypercare, nil
}

// hypercareTeam is the team owning a window: its service's or prompt's
// team; a window on a model belongs to no team, so only unscoped
// principals see it.
func hypercareTeam(cfg *config.Config, h config.Hypercare) string {
	t := h.Target
	service := t.Service
	if t.Release != nil {
		service = t.Release.Service
	}
	if service != "" {
		if i := slices.IndexFunc(cfg.Services, func(s config.Service) bool { return s.Name == service }); i >= 0 {
			return cfg.Services[i].Team
		}
	}
	if t.Prompt != nil {
		if i := slices.IndexFunc(cfg.Prompts, func(p config.Prompt) bool { return p.Name == t.Prompt.Name }); i >= 0 {
			return cfg.Prompts[i].Team
		}
	}
	return ""
}

func hypercareNotFound(name string) *Error {
	return &Error{Status: 404, Code: "not_found", Msg: "no hypercare window " + strconv.Quote(name)}
}

// hypercareTarget resolves the window named in the path and its team.
func (s *Server) hypercareTarget(r *http.Request) (auth.Target, *Error, error) {
	name := r.PathValue("name")
	nf := hypercareNotFound(name)
	cfg, _ := s.Configs.Current()
	i := slices.IndexFunc(cfg.Hypercare, func(h config.Hypercare) bool { return h.Name == name })
	if i < 0 {
		return auth.Target{}, nf, nf
	}
	return auth.Target{Team: hypercareTeam(cfg, cfg.Hypercare[i])}, nf, nil
}

func (s *Server) windowNamed(r *http.Request) config.Hypercare {
	cfg, _ := s.Configs.Current()
	i := slices.IndexFunc(cfg.Hypercare, func(h config.Hypercare) bool { return h.Name == r.PathValue("name") })
	return cfg.Hypercare[i] // hypercareTarget found it
}

// listHypercare answers GET /admin/v1/hypercare: the windows the caller
// reaches, each with its state.
func (s *Server) listHypercare(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hypercareStore()
	if err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	p, now := principal(r), s.now()
	out := []hypercareWindow{}
	for _, h := range cfg.Hypercare {
		team := hypercareTeam(cfg, h)
		if !p.Reaches(auth.Target{Team: team}) {
			continue
		}
		v := hypercareWindow{Name: h.Name, Target: hypercare.TargetOf(h.Target).String(), Team: team,
			Start: h.Start, End: h.End()}
		last, err := hs.ListHypercareReports(r.Context(), h.Name, 1)
		if err != nil {
			return err
		}
		ready := false
		if len(last) > 0 {
			at := last[0].At
			v.LastReport, v.Summary = &at, last[0].Summary
			ready, v.ReadySince = last[0].Ready, last[0].ReadySince
		}
		v.State = hypercare.StateAt(h, now, ready)
		if v.State != hypercare.StateReadyToExit {
			v.ReadySince = nil
		}
		out = append(out, v)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

// hypercareReport answers GET /admin/v1/hypercare/{name}/report: the
// report computed now (or as of at=) as JSON, Markdown or HTML.
func (s *Server) hypercareReport(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hypercareStore()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "", "json", "md", "html":
	default:
		return badRequest("format", "format: %q is not one of json, md, html", format)
	}
	at, err := parseTime("at", q.Get("at"))
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = s.now()
	}
	rep, err := hypercare.Build(r.Context(), hs, s.windowNamed(r), at, hypercare.Options{})
	if err != nil {
		return err
	}
	switch format {
	case "md":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		_, _ = w.Write(hypercare.Markdown(rep))
	case "html":
		b, err := hypercare.HTML(rep)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page is self-contained: nothing to load, nothing to run.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_, _ = w.Write(b)
	default:
		writeJSON(w, 200, rep)
	}
	return nil
}

// hypercareReports answers GET /admin/v1/hypercare/{name}/reports: the
// stored daily reports, the latest first.
func (s *Server) hypercareReports(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.hypercareStore()
	if err != nil {
		return err
	}
	limit := 30
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > MaxHypercareReports {
			return badRequest("limit", "limit: %q is not a number from 1 to %d", l, MaxHypercareReports)
		}
	}
	reps, err := hs.ListHypercareReports(r.Context(), r.PathValue("name"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": reps})
	return nil
}
