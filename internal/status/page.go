package status

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Page defaults.
const (
	// DefaultTTL is how long a built page is served before it is built
	// again: the public endpoint then reads the database at most this
	// often, whatever the traffic.
	DefaultTTL = 15 * time.Second
	// HistoryDays is the length of the per-day history.
	HistoryDays = 90
	// PastIncidentDays is how long a resolved incident stays on the page.
	PastIncidentDays = 14
	// MaxReleaseNotes is how many release notes the page lists.
	MaxReleaseNotes = 10
)

// ContentSecurityPolicy is sent with every page response: no script at
// all, styles from the page's own stylesheet only.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Snapshot is the public status: what /status.json answers and the HTML
// page shows.
type Snapshot struct {
	Title string `json:"title"`
	// Status is the worst level of the services.
	Status    Level           `json:"status"`
	UpdatedAt time.Time       `json:"updated_at"`
	Services  []ServiceStatus `json:"services"`
	// Incidents are the open ones; PastIncidents those resolved in the
	// last PastIncidentDays days.
	Incidents     []PublicIncident `json:"incidents"`
	PastIncidents []PublicIncident `json:"past_incidents"`
	Releases      []ReleaseNote    `json:"releases"`
}

// ServiceStatus is one service on the page.
type ServiceStatus struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Status      Level     `json:"status"`
	Since       time.Time `json:"since"`
	// Uptime is the share of the last HistoryDays days' calls that did not
	// fail on the server side; nil without calls.
	Uptime  *float64 `json:"uptime"`
	History []Day    `json:"history"`
}

// Day is one day of a service's history: its worst level that day, from
// the day's error rate and the status incidents open on it.
type Day struct {
	Date   string `json:"date"` // YYYY-MM-DD, UTC
	Status Level  `json:"status"`
}

// PublicIncident is an incident as the public sees it: no author.
type PublicIncident struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	Services   []string       `json:"services"`
	Impact     Impact         `json:"impact"`
	Status     Stage          `json:"status"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty"`
	Updates    []PublicUpdate `json:"updates"`
}

// PublicUpdate is an update as the public sees it: no author.
type PublicUpdate struct {
	Status    Stage     `json:"status"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

func publicIncident(in Incident) PublicIncident {
	p := PublicIncident{ID: in.ID, Title: in.Title, Services: in.Services, Impact: in.Impact, Status: in.Status,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, ResolvedAt: in.ResolvedAt, Updates: []PublicUpdate{}}
	for _, u := range in.Updates {
		p.Updates = append(p.Updates, publicUpdate(u))
	}
	return p
}

func publicUpdate(u Update) PublicUpdate {
	return PublicUpdate{Status: u.Status, Message: u.Message, CreatedAt: u.CreatedAt}
}

// ReleaseNote is a published release of a service.
type ReleaseNote struct {
	Service string    `json:"service"`
	Number  int       `json:"number"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// Page builds and serves the public status page: GET /status (HTML, or
// JSON with ?format=json), /status.json and /status/style.css.
type Page struct {
	Store    Store
	Releases Releases // nil: no release notes
	Services func() []PageService
	// Thresholds judge each day of the history; nil: the defaults. A
	// func, as Services, so that a configuration change applies at the
	// next build.
	Thresholds func() Thresholds
	// Title heads the page (default "Service status"); nil: the default.
	Title func() string
	// TTL is how long a built page is kept (DefaultTTL when 0).
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger

	mu    sync.Mutex
	built time.Time
	cache *rendered
}

type rendered struct {
	snap       Snapshot
	html, json []byte
}

func (p *Page) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// Invalidate drops the built page: an operator's update shows at once.
func (p *Page) Invalidate() {
	p.mu.Lock()
	p.cache = nil
	p.mu.Unlock()
}

// get returns the page, built at most TTL ago. Requests that find it
// stale wait for one build rather than each building it.
func (p *Page) get(ctx context.Context) (*rendered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ttl := p.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	now := p.now()
	if p.cache != nil && now.Sub(p.built) < ttl {
		return p.cache, nil
	}
	snap, err := p.Build(ctx)
	if err != nil {
		if p.cache != nil {
			// Better a page a little old than none while the store is down.
			if p.Logger != nil {
				p.Logger.Warn("status page not rebuilt; serving the previous one", "error", err)
			}
			return p.cache, nil
		}
		return nil, err
	}
	r, err := render(snap)
	if err != nil {
		return nil, err
	}
	p.cache, p.built = r, now
	return r, nil
}

// Build reads the current status from the store.
func (p *Page) Build(ctx context.Context) (Snapshot, error) {
	now := p.now()
	th := thresholdsOf(p.Thresholds)
	snap := Snapshot{Status: Operational, UpdatedAt: now.Truncate(time.Second),
		Services: []ServiceStatus{}, Incidents: []PublicIncident{}, PastIncidents: []PublicIncident{}, Releases: []ReleaseNote{}}
	if p.Title != nil {
		snap.Title = p.Title()
	}
	if snap.Title == "" {
		snap.Title = "Service status"
	}
	var services []PageService
	if p.Services != nil {
		services = p.Services()
	}
	shown := map[string]bool{}
	for _, s := range services {
		shown[s.Name] = true
	}
	states, err := p.Store.StatusStates(ctx)
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading service states: %w", err)
	}
	byName := map[string]ServiceState{}
	for _, s := range states {
		byName[s.Service] = s
	}

	today := now.Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(HistoryDays - 1))
	traffic, err := p.Store.StatusTraffic(ctx, 24*time.Hour, first, today.AddDate(0, 0, 1))
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading daily traffic: %w", err)
	}
	type dayKey struct {
		service string
		day     int
	}
	// Sum each day's rows (one per key), then judge the day.
	days := map[dayKey]Level{}
	totals := map[string][2]int64{}
	perDay := map[dayKey][2]int64{}
	for _, t := range traffic {
		d := int(t.Bucket.Sub(first) / (24 * time.Hour))
		if !shown[t.Service] || d < 0 || d >= HistoryDays {
			continue
		}
		k := dayKey{t.Service, d}
		c := perDay[k]
		perDay[k] = [2]int64{c[0] + t.Requests, c[1] + t.Failures}
		c = totals[t.Service]
		totals[t.Service] = [2]int64{c[0] + t.Requests, c[1] + t.Failures}
	}
	for k, c := range perDay {
		lvl, _ := Evaluate(Signals{Requests: c[0], Failures: c[1]}, th)
		days[k] = lvl
	}

	incidents, err := p.Store.ListStatusIncidents(ctx, IncidentFilter{Since: first, Limit: 500})
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading incidents: %w", err)
	}
	for _, in := range incidents {
		in.Services = slices.DeleteFunc(slices.Clone(in.Services), func(s string) bool { return !shown[s] })
		if len(in.Services) == 0 {
			continue
		}
		end := now
		if in.ResolvedAt != nil {
			end = *in.ResolvedAt
		}
		for d := max(0, int(in.CreatedAt.Sub(first)/(24*time.Hour))); d < HistoryDays && !first.AddDate(0, 0, d).After(end); d++ {
			for _, s := range in.Services {
				k := dayKey{s, d}
				days[k] = days[k].Worse(in.Impact.Level())
			}
		}
		switch {
		case in.Open():
			snap.Incidents = append(snap.Incidents, publicIncident(in))
		case now.Sub(*in.ResolvedAt) <= PastIncidentDays*24*time.Hour:
			snap.PastIncidents = append(snap.PastIncidents, publicIncident(in))
		}
	}

	for _, s := range services {
		st := byName[s.Name]
		ss := ServiceStatus{Name: s.Name, Description: s.Description, Status: Operational.Worse(st.Level), Since: st.Since,
			History: make([]Day, HistoryDays)}
		for d := range HistoryDays {
			ss.History[d] = Day{Date: first.AddDate(0, 0, d).Format(time.DateOnly), Status: Operational.Worse(days[dayKey{s.Name, d}])}
		}
		if c := totals[s.Name]; c[0] > 0 {
			u := 1 - float64(c[1])/float64(c[0])
			ss.Uptime = &u
		}
		snap.Status = snap.Status.Worse(ss.Status)
		snap.Services = append(snap.Services, ss)
	}

	if p.Releases != nil {
		for _, s := range services {
			rels, err := p.Releases.ListReleases(ctx, s.Name, MaxReleaseNotes, 0)
			if err != nil {
				return Snapshot{}, fmt.Errorf("reading releases of %s: %w", s.Name, err)
			}
			for _, r := range rels {
				if !r.Published {
					continue
				}
				snap.Releases = append(snap.Releases, ReleaseNote{Service: s.Name, Number: r.Number,
					Message: strings.TrimSpace(r.Message), Time: r.CreatedAt.UTC()})
			}
		}
		slices.SortStableFunc(snap.Releases, func(a, b ReleaseNote) int { return b.Time.Compare(a.Time) })
		if len(snap.Releases) > MaxReleaseNotes {
			snap.Releases = snap.Releases[:MaxReleaseNotes]
		}
	}
	return snap, nil
}

//go:embed page.html.tmpl
var pageTemplate string

//go:embed style.css
var styleCSS []byte

var tmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"label": func(l Level) string { return l.Label() },
	"stage": func(s Stage) string {
		if s == "" {
			return ""
		}
		return strings.ToUpper(string(s[:1])) + string(s[1:])
	},
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"percent": func(f float64) string { return fmt.Sprintf("%.2f %%", f*100) },
	"join":    strings.Join,
	"days": func(h []Day) map[string]int {
		n := map[string]int{}
		for _, d := range h {
			n[string(d.Status)]++
		}
		return n
	},
	"newest": func(us []PublicUpdate) []PublicUpdate {
		out := slices.Clone(us)
		slices.Reverse(out)
		return out
	},
}).Parse(pageTemplate))

func render(s Snapshot) (*rendered, error) {
	var h bytes.Buffer
	if err := tmpl.Execute(&h, s); err != nil {
		return nil, fmt.Errorf("rendering status page: %w", err)
	}
	j, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding status page: %w", err)
	}
	return &rendered{snap: s, html: h.Bytes(), json: append(j, '\n')}, nil
}

// ServeHTTP answers /status, /status.json and /status/style.css.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/status/style.css" {
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(styleCSS)
		return
	}
	asJSON := r.URL.Path == "/status.json"
	if r.URL.Path == "/status" {
		switch f := r.URL.Query().Get("format"); f {
		case "", "html":
		case "json":
			asJSON = true
		default:
			http.Error(w, "format must be html or json", http.StatusBadRequest)
			return
		}
	} else if !asJSON {
		http.NotFound(w, r)
		return
	}
	page, err := p.get(r.Context())
	if err != nil {
		if p.Logger != nil {
			p.Logger.Error("building status page", "error", err)
		}
		// The cause stays in the log: the page is public.
		http.Error(w, "the status page is unavailable; try again shortly", http.StatusServiceUnavailable)
		return
	}
	ttl := p.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(ttl/time.Second)))
	if asJSON {
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(page.json)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page.html)
}
