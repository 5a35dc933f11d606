// Package status is what the public learns about the services behind the
// gateway: each service's status (operational, degraded, outage or under
// maintenance) computed from its recent server error rate, its synthetic
// probes and its open incidents; the incidents and updates operators write
// for the public; the status page on the data plane (HTML and JSON); and
// the signed webhooks sent to status subscribers on every change.
//
// Nothing on the page names a consumer, an upstream error or a secret: it
// is built from counts, operator-written text and release notes only.
package status

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// ErrInvalid marks input the caller must correct (an HTTP 400).
var ErrInvalid = errors.New("invalid status input")

// Level is a service's status. Levels are ordered: a service is at the
// worst level any of its signals gives.
type Level string

// The levels, from best to worst.
const (
	Operational Level = "operational"
	Maintenance Level = "maintenance"
	Degraded    Level = "degraded"
	Outage      Level = "outage"
)

// Levels lists the levels from best to worst.
var Levels = []Level{Operational, Maintenance, Degraded, Outage}

// rank orders levels; an unknown level ranks as operational.
func (l Level) rank() int { return max(slices.Index(Levels, l), 0) }

// Worse returns the worse of l and o.
func (l Level) Worse(o Level) Level {
	if o.rank() > l.rank() {
		return o
	}
	if l == "" {
		return Operational
	}
	return l
}

// Label is the level as the page writes it.
func (l Level) Label() string {
	switch l {
	case Maintenance:
		return "Under maintenance"
	case Degraded:
		return "Degraded performance"
	case Outage:
		return "Outage"
	}
	return "Operational"
}

// Thresholds turn a service's signals into a level. The zero value of a
// field takes its default (DefaultThresholds).
type Thresholds struct {
	// Window is how far back the error rate and the probe runs are read.
	Window time.Duration `json:"window"`
	// MinRequests is the fewest calls in Window for the error rate to
	// count: a single failed call of an idle service is no outage.
	MinRequests int64 `json:"min_requests"`
	// DegradedErrorRate and OutageErrorRate are the shares of calls that
	// failed on the server side (5xx, or no answer) at or above which the
	// service is degraded or down.
	DegradedErrorRate float64 `json:"degraded_error_rate"`
	OutageErrorRate   float64 `json:"outage_error_rate"`
	// ProbeDegradedRate and ProbeOutageRate are the same for the share of
	// failed probe runs; MinProbeRuns is the fewest runs that count.
	ProbeDegradedRate float64 `json:"probe_degraded_rate"`
	ProbeOutageRate   float64 `json:"probe_outage_rate"`
	MinProbeRuns      int64   `json:"min_probe_runs"`
	// IncidentSeverities are the severities of open triage incidents that
	// make a service degraded; others leave it as it is.
	IncidentSeverities []string `json:"incident_severities"`
}

// DefaultThresholds are the thresholds in force where none are given:
// those the configuration documents.
var DefaultThresholds = Thresholds{
	Window:             time.Duration(config.DefaultStatusWindow),
	MinRequests:        config.DefaultStatusMinRequests,
	DegradedErrorRate:  config.DefaultStatusDegradedErrorRate,
	OutageErrorRate:    config.DefaultStatusOutageErrorRate,
	ProbeDegradedRate:  config.DefaultStatusProbeDegradedRate,
	ProbeOutageRate:    config.DefaultStatusProbeOutageRate,
	MinProbeRuns:       config.DefaultStatusMinProbeRuns,
	IncidentSeverities: config.DefaultStatusIncidentSeverities,
}

// ThresholdsOf returns the thresholds the configuration's status section
// sets, the defaults filled; nil gives the defaults.
func ThresholdsOf(c *config.StatusPage) Thresholds {
	if c == nil {
		return DefaultThresholds
	}
	return Thresholds{Window: time.Duration(c.Window), MinRequests: c.MinRequests,
		DegradedErrorRate: c.DegradedErrorRate, OutageErrorRate: c.OutageErrorRate,
		ProbeDegradedRate: c.ProbeDegradedRate, ProbeOutageRate: c.ProbeOutageRate, MinProbeRuns: c.MinProbeRuns,
		IncidentSeverities: c.IncidentSeverities}.WithDefaults()
}

// WithDefaults fills the unset fields of t from DefaultThresholds.
func (t Thresholds) WithDefaults() Thresholds {
	d := DefaultThresholds
	if t.Window <= 0 {
		t.Window = d.Window
	}
	if t.MinRequests <= 0 {
		t.MinRequests = d.MinRequests
	}
	if t.DegradedErrorRate <= 0 {
		t.DegradedErrorRate = d.DegradedErrorRate
	}
	if t.OutageErrorRate <= 0 {
		t.OutageErrorRate = d.OutageErrorRate
	}
	if t.ProbeDegradedRate <= 0 {
		t.ProbeDegradedRate = d.ProbeDegradedRate
	}
	if t.ProbeOutageRate <= 0 {
		t.ProbeOutageRate = d.ProbeOutageRate
	}
	if t.MinProbeRuns <= 0 {
		t.MinProbeRuns = d.MinProbeRuns
	}
	if t.IncidentSeverities == nil {
		t.IncidentSeverities = d.IncidentSeverities
	}
	return t
}

// Validate reports thresholds that contradict each other.
func (t Thresholds) Validate() error {
	t = t.WithDefaults()
	for _, r := range []float64{t.DegradedErrorRate, t.OutageErrorRate, t.ProbeDegradedRate, t.ProbeOutageRate} {
		if r > 1 {
			return fmt.Errorf("%w: a rate threshold is a fraction between 0 and 1, not %g", ErrInvalid, r)
		}
	}
	if t.OutageErrorRate < t.DegradedErrorRate {
		return fmt.Errorf("%w: the outage error rate %g is below the degraded one %g", ErrInvalid, t.OutageErrorRate, t.DegradedErrorRate)
	}
	if t.ProbeOutageRate < t.ProbeDegradedRate {
		return fmt.Errorf("%w: the outage probe failure rate %g is below the degraded one %g", ErrInvalid, t.ProbeOutageRate, t.ProbeDegradedRate)
	}
	return nil
}

// Signals are what is known of one service at one moment.
type Signals struct {
	// Requests are the service's calls in the window (probe calls
	// excluded); Failures those that failed on the server side.
	Requests, Failures int64
	// ProbeRuns and ProbeFailures count the probe calls to the service in
	// the window.
	ProbeRuns, ProbeFailures int64
	// TriageOpen is how many triage incidents are open on the service;
	// TriageWorst the worst severity among them.
	TriageOpen  int
	TriageWorst string
	// Impacts are those of the open status incidents naming the service.
	Impacts []Impact
}

// Reason says why a service is at its level: which signal, and its value.
type Reason struct {
	Signal string  `json:"signal"` // error_rate, probes, triage or incident
	Level  Level   `json:"level"`
	Value  float64 `json:"value,omitempty"`
}

// Evaluate returns the level of a service with signals s under thresholds
// t (defaults filled), and the signals that put it there, worst first.
func Evaluate(s Signals, t Thresholds) (Level, []Reason) {
	t = t.WithDefaults()
	var rs []Reason
	if s.Requests >= t.MinRequests && s.Requests > 0 {
		rate := float64(s.Failures) / float64(s.Requests)
		switch {
		case rate >= t.OutageErrorRate:
			rs = append(rs, Reason{Signal: "error_rate", Level: Outage, Value: rate})
		case rate >= t.DegradedErrorRate:
			rs = append(rs, Reason{Signal: "error_rate", Level: Degraded, Value: rate})
		}
	}
	if s.ProbeRuns >= t.MinProbeRuns && s.ProbeRuns > 0 {
		rate := float64(s.ProbeFailures) / float64(s.ProbeRuns)
		switch {
		case rate >= t.ProbeOutageRate:
			rs = append(rs, Reason{Signal: "probes", Level: Outage, Value: rate})
		case rate >= t.ProbeDegradedRate:
			rs = append(rs, Reason{Signal: "probes", Level: Degraded, Value: rate})
		}
	}
	if s.TriageOpen > 0 && slices.Contains(t.IncidentSeverities, strings.ToLower(s.TriageWorst)) {
		rs = append(rs, Reason{Signal: "triage", Level: Degraded, Value: float64(s.TriageOpen)})
	}
	for _, im := range s.Impacts {
		rs = append(rs, Reason{Signal: "incident", Level: im.Level()})
	}
	slices.SortStableFunc(rs, func(a, b Reason) int { return b.Level.rank() - a.Level.rank() })
	lvl := Operational
	for _, r := range rs {
		lvl = lvl.Worse(r.Level)
	}
	if rs == nil {
		rs = []Reason{}
	}
	return lvl, rs
}

// Impact is what an operator says a status incident does to its services.
type Impact string

// The impacts.
const (
	ImpactDegraded    Impact = "degraded"
	ImpactOutage      Impact = "outage"
	ImpactMaintenance Impact = "maintenance"
)

// Level is the service level the impact sets while the incident is open.
func (i Impact) Level() Level {
	switch i {
	case ImpactOutage:
		return Outage
	case ImpactMaintenance:
		return Maintenance
	}
	return Degraded
}

// Stage is where an incident's handling is; an update sets it.
type Stage string

// The stages; StageResolved ends the incident.
const (
	StageInvestigating Stage = "investigating"
	StageIdentified    Stage = "identified"
	StageMonitoring    Stage = "monitoring"
	StageResolved      Stage = "resolved"
)

// Stages lists the stages in their usual order.
var Stages = []Stage{StageInvestigating, StageIdentified, StageMonitoring, StageResolved}

// Incident is a status incident: what operators tell the public about a
// problem or a maintenance, apart from the triage incidents the gateway
// finds by itself.
type Incident struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Services []string `json:"services"`
	Impact   Impact   `json:"impact"`
	// Status is the stage of the latest update.
	Status    Stage     `json:"status"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ResolvedAt is set by the update that resolved the incident.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Updates are oldest first; the first is the message the incident
	// was opened with.
	Updates []Update `json:"updates"`
}

// Open reports whether the incident is not resolved yet.
func (in Incident) Open() bool { return in.ResolvedAt == nil }

// Update is one message on an incident.
type Update struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Status     Stage     `json:"status"`
	Message    string    `json:"message"`
	Author     string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
}

// Subscriber is a webhook that hears of every status change and every
// incident update. Its secret is never shown again after creation.
type Subscriber struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// SecretRef is the env:NAME reference of the signing key: only the
	// reference is stored, resolved at each delivery.
	SecretRef string    `json:"secret_ref"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// ServiceState is a service's last computed level, as stored so that
// every node and a restarted one agree on what changed.
type ServiceState struct {
	Service   string    `json:"service"`
	Level     Level     `json:"status"`
	Reasons   []Reason  `json:"reasons"`
	Since     time.Time `json:"since"`
	UpdatedAt time.Time `json:"updated_at"`
}
