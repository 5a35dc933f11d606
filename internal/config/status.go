package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The status page's defaults (internal/status reads them from here).
const (
	DefaultStatusWindow            = Duration(5 * time.Minute)
	DefaultStatusMinRequests       = 10
	DefaultStatusDegradedErrorRate = 0.05
	DefaultStatusOutageErrorRate   = 0.5
	DefaultStatusProbeDegradedRate = 0.25
	DefaultStatusProbeOutageRate   = 1.0
	DefaultStatusMinProbeRuns      = 2
)

// DefaultStatusIncidentSeverities are the severities of open triage
// incidents that make a service degraded by default.
var DefaultStatusIncidentSeverities = []string{"critical", "high"}

// StatusPage configures the public status page at /status on the data
// plane: which services it shows and how their status is judged. One
// object, not a list; absent, every service that is not retired is shown
// with the default thresholds.
type StatusPage struct {
	// Title heads the page (default "Service status").
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
	// Services are the services shown, in this order; absent, every
	// service that is not retired, in the order of the services section.
	Services []string `yaml:"services,omitempty" json:"services,omitempty"`
	// Window is how far back the error rate and the probe runs are read
	// (DefaultStatusWindow; read to the minute).
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// MinRequests is the fewest calls in Window for the error rate to
	// count (DefaultStatusMinRequests).
	MinRequests int64 `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	// DegradedErrorRate and OutageErrorRate are the shares of calls that
	// failed on the server side (5xx, or no answer) at or above which a
	// service is degraded or down.
	DegradedErrorRate float64 `yaml:"degraded_error_rate,omitempty" json:"degraded_error_rate,omitempty"`
	OutageErrorRate   float64 `yaml:"outage_error_rate,omitempty" json:"outage_error_rate,omitempty"`
	// ProbeDegradedRate and ProbeOutageRate are the same for the share of
	// failed probe runs to the service; MinProbeRuns the fewest that count.
	ProbeDegradedRate float64 `yaml:"probe_degraded_rate,omitempty" json:"probe_degraded_rate,omitempty"`
	ProbeOutageRate   float64 `yaml:"probe_outage_rate,omitempty" json:"probe_outage_rate,omitempty"`
	MinProbeRuns      int64   `yaml:"min_probe_runs,omitempty" json:"min_probe_runs,omitempty"`
	// IncidentSeverities are the severities of open triage incidents that
	// make a service degraded (DefaultStatusIncidentSeverities when
	// absent).
	IncidentSeverities []string `yaml:"incident_severities,omitempty" json:"incident_severities,omitempty"`
}

// normalize makes an empty section nil, so that "status: {}" and an
// absent section compare equal.
func (s *StatusPage) normalize() *StatusPage {
	if s == nil {
		return nil
	}
	s.Services = nilIfEmpty(s.Services)
	s.IncidentSeverities = nilIfEmpty(s.IncidentSeverities)
	if s.Title == "" && s.Services == nil && s.Window == 0 && s.MinRequests == 0 && s.DegradedErrorRate == 0 &&
		s.OutageErrorRate == 0 && s.ProbeDegradedRate == 0 && s.ProbeOutageRate == 0 && s.MinProbeRuns == 0 &&
		s.IncidentSeverities == nil {
		return nil
	}
	return s
}

// orDefault returns v, or d when v is zero.
func orDefault[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// statusPage checks the status section against the services.
func (v *validator) statusPage(s *StatusPage, services []Service) {
	if s == nil {
		return
	}
	const path = "status"
	if len(s.Title) > 200 {
		v.fail(path+".title", "must be at most 200 bytes")
	}
	state := map[string]string{}
	for _, sv := range services {
		state[sv.Name] = sv.State
	}
	seen := map[string]bool{}
	for i, name := range s.Services {
		p := fmt.Sprintf("%s.services[%d]", path, i)
		st, ok := state[name]
		switch {
		case !ok:
			v.fail(p, "unknown service %q", name)
		case st == StateRetired:
			v.fail(p, "service %q is retired; a retired service is not shown", name)
		case seen[name]:
			v.fail(p, "service %q is listed twice", name)
		}
		seen[name] = true
	}
	if s.Window < 0 || (s.Window > 0 && time.Duration(s.Window) < time.Minute) || time.Duration(s.Window) > 24*time.Hour {
		v.fail(path+".window", "must be between 1m and 24h")
	}
	if s.MinRequests < 0 {
		v.fail(path+".min_requests", "must not be negative")
	}
	if s.MinProbeRuns < 0 {
		v.fail(path+".min_probe_runs", "must not be negative")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"degraded_error_rate", s.DegradedErrorRate}, {"outage_error_rate", s.OutageErrorRate},
		{"probe_degraded_rate", s.ProbeDegradedRate}, {"probe_outage_rate", s.ProbeOutageRate}} {
		if r.v < 0 || r.v > 1 {
			v.fail(path+"."+r.name, "must be a fraction above 0 and at most 1")
		}
	}
	if d, o := orDefault(s.DegradedErrorRate, DefaultStatusDegradedErrorRate), orDefault(s.OutageErrorRate, DefaultStatusOutageErrorRate); o < d {
		v.fail(path+".outage_error_rate", "%g is below the degraded error rate %g", o, d)
	}
	if d, o := orDefault(s.ProbeDegradedRate, DefaultStatusProbeDegradedRate), orDefault(s.ProbeOutageRate, DefaultStatusProbeOutageRate); o < d {
		v.fail(path+".probe_outage_rate", "%g is below the probe degraded rate %g", o, d)
	}
	for i, sev := range s.IncidentSeverities {
		if !slices.Contains(TriageSeverities, sev) {
			v.fail(fmt.Sprintf("%s.incident_severities[%d]", path, i), "unknown severity %q; one of %s", sev, strings.Join(TriageSeverities, ", "))
		}
	}
}
