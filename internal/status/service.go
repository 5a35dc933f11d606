package status

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
)

// ErrResolved is returned for an update to an incident already resolved:
// a resolved incident is history, and a new problem is a new incident.
var ErrResolved = errors.New("the incident is resolved")

// Limits on operator-written text, so that one paste cannot bloat the
// public page.
const (
	MaxTitle   = 200
	MaxMessage = 5000
)

// IncidentFilter selects status incidents.
type IncidentFilter struct {
	// Open keeps the unresolved ones only.
	Open bool
	// Since keeps those still open at or updated after it (zero: all).
	Since time.Time
	// Limit bounds the answer (default 50, at most 500), newest first.
	Limit int
}

// Store keeps the status incidents, subscribers and service states, and
// reads the traffic counts the levels are computed from; the store
// implements it.
type Store interface {
	// CreateStatusIncident stores in with its first update, both given
	// their ids and times by the caller.
	CreateStatusIncident(ctx context.Context, in Incident) error
	// AddStatusUpdate stores u and moves its incident to u's stage,
	// resolving it when the stage is resolved.
	AddStatusUpdate(ctx context.Context, u Update) error
	// GetStatusIncident returns an incident with its updates.
	GetStatusIncident(ctx context.Context, id string) (Incident, error)
	// ListStatusIncidents returns the incidents f selects with their
	// updates, newest first.
	ListStatusIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error)

	CreateStatusSubscriber(ctx context.Context, s Subscriber) error
	ListStatusSubscribers(ctx context.Context) ([]Subscriber, error)
	DeleteStatusSubscriber(ctx context.Context, id string) error

	// StatusStates returns every stored service state.
	StatusStates(ctx context.Context) ([]ServiceState, error)
	// SwapStatusState stores s unless the stored level of its service is
	// already s.Level, and reports the previous state and whether it
	// changed: of several nodes computing at once, one sees the change.
	SwapStatusState(ctx context.Context, s ServiceState) (prev ServiceState, changed bool, err error)

	// StatusTraffic sums the services' calls per bucket of resolution res
	// (a rollup resolution) starting in [from, to).
	StatusTraffic(ctx context.Context, res time.Duration, from, to time.Time) ([]Traffic, error)
	// StatusProbeRuns counts the probe calls to each service in
	// [from, to) and the failed ones.
	StatusProbeRuns(ctx context.Context, from, to time.Time) ([]Traffic, error)
}

// Traffic is the calls of one service in one bucket.
type Traffic struct {
	Service  string
	Bucket   time.Time
	Requests int64
	// Failures failed on the server side: 5xx, or no HTTP answer.
	Failures int64
}

// Releases lists a service's releases, newest first; the store implements
// it.
type Releases interface {
	ListReleases(ctx context.Context, service string, limit, before int) ([]catalog.Release, error)
}

// TriageSource counts the open triage incidents of a service: the
// incidents the gateway found by itself (internal/triage).
type TriageSource interface {
	OpenIncidents(ctx context.Context, service string) (count int, worstSeverity string, err error)
}

// Service is the operators' side of the status: incidents and their
// updates, subscribers. Every incident change is announced to the
// subscribers.
type Service struct {
	Store Store
	// Services lists the services an incident may name (those the page
	// shows).
	Services func() []PageService
	// Notify announces events to the subscribers; nil: none.
	Notify func(Event)
	// Changed is called after every incident change so that the page and
	// the levels do not wait for their next refresh; may be nil.
	Changed func()
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewIncident is what an operator gives to open an incident.
type NewIncident struct {
	Title    string   `json:"title"`
	Services []string `json:"services"`
	Impact   Impact   `json:"impact"`
	// Status is the stage it opens at (default investigating; a
	// maintenance announced ahead may open at identified).
	Status  Stage  `json:"status,omitempty"`
	Message string `json:"message"`
}

// NewUpdate is what an operator gives to update an incident.
type NewUpdate struct {
	Status  Stage  `json:"status"`
	Message string `json:"message"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func checkText(field, v string, limit int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", invalid("%s is required", field)
	case utf8.RuneCountInString(v) > limit:
		return "", invalid("%s is longer than %d characters", field, limit)
	case !utf8.ValidString(v):
		return "", invalid("%s is not valid UTF-8", field)
	}
	return v, nil
}

func newID(prefix string) string {
	id, err := uuid.NewV7()
	if err != nil {
		return prefix + uuid.NewString()
	}
	return prefix + id.String()
}

// CreateIncident opens an incident written by author.
func (s *Service) CreateIncident(ctx context.Context, n NewIncident, author string) (Incident, error) {
	title, err := checkText("title", n.Title, MaxTitle)
	if err != nil {
		return Incident{}, err
	}
	msg, err := checkText("message", n.Message, MaxMessage)
	if err != nil {
		return Incident{}, err
	}
	if !slices.Contains([]Impact{ImpactDegraded, ImpactOutage, ImpactMaintenance}, n.Impact) {
		return Incident{}, invalid("impact must be degraded, outage or maintenance, not %q", n.Impact)
	}
	stage := n.Status
	if stage == "" {
		stage = StageInvestigating
	}
	if stage == StageResolved || !slices.Contains(Stages, stage) {
		return Incident{}, invalid("status must be investigating, identified or monitoring, not %q", n.Status)
	}
	if len(n.Services) == 0 {
		return Incident{}, invalid("services: name at least one service")
	}
	known := map[string]bool{}
	if s.Services != nil {
		for _, ps := range s.Services() {
			known[ps.Name] = true
		}
	}
	services := slices.Clone(n.Services)
	slices.Sort(services)
	services = slices.Compact(services)
	for _, sv := range services {
		if !known[sv] {
			return Incident{}, invalid("services: %q is not a service on the status page", sv)
		}
	}
	now := s.now()
	in := Incident{ID: newID("sti_"), Title: title, Services: services, Impact: n.Impact, Status: stage,
		Author: author, CreatedAt: now, UpdatedAt: now}
	in.Updates = []Update{{ID: newID("stu_"), IncidentID: in.ID, Status: stage, Message: msg, Author: author, CreatedAt: now}}
	if err := s.Store.CreateStatusIncident(ctx, in); err != nil {
		return Incident{}, err
	}
	s.announce(in, in.Updates[0])
	return in, nil
}

// AddUpdate posts an update on incident id; one at stage resolved ends it.
func (s *Service) AddUpdate(ctx context.Context, id string, n NewUpdate, author string) (Incident, error) {
	msg, err := checkText("message", n.Message, MaxMessage)
	if err != nil {
		return Incident{}, err
	}
	if !slices.Contains(Stages, n.Status) {
		return Incident{}, invalid("status must be investigating, identified, monitoring or resolved, not %q", n.Status)
	}
	in, err := s.Store.GetStatusIncident(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if !in.Open() {
		return Incident{}, ErrResolved
	}
	u := Update{ID: newID("stu_"), IncidentID: id, Status: n.Status, Message: msg, Author: author, CreatedAt: s.now()}
	if err := s.Store.AddStatusUpdate(ctx, u); err != nil {
		return Incident{}, err
	}
	in, err = s.Store.GetStatusIncident(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	s.announce(in, u)
	return in, nil
}

func (s *Service) announce(in Incident, u Update) {
	if s.Changed != nil {
		s.Changed()
	}
	if s.Notify != nil {
		s.Notify(incidentEvent(in, u))
	}
}

// GetIncident returns one incident with its updates.
func (s *Service) GetIncident(ctx context.Context, id string) (Incident, error) {
	return s.Store.GetStatusIncident(ctx, id)
}

// ListIncidents returns the incidents f selects, newest first.
func (s *Service) ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error) {
	return s.Store.ListStatusIncidents(ctx, f)
}

// NewSubscriber is what an operator gives to add a subscriber.
type NewSubscriber struct {
	URL string `json:"url"`
	// Secret is an env:NAME reference; empty generates one, shown once.
	Secret string `json:"secret,omitempty"`
}

// CreateSubscriber registers a webhook. secret is the generated secret,
// empty when the operator gave a reference: the only time it is shown.
func (s *Service) CreateSubscriber(ctx context.Context, n NewSubscriber, author string) (Subscriber, error) {
	u, err := url.Parse(strings.TrimSpace(n.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return Subscriber{}, invalid("url must be an http or https URL without credentials")
	}
	sub := Subscriber{ID: newID("sts_"), URL: u.String(), Author: author, CreatedAt: s.now()}
	// Only a reference is stored: signing needs the key itself, and the
	// gateway keeps no secret in clear in its database.
	if !config.IsSecretRef(n.Secret) {
		return Subscriber{}, invalid("secret is required: an env:NAME reference to the signing key")
	}
	sub.SecretRef = n.Secret
	if err := s.Store.CreateStatusSubscriber(ctx, sub); err != nil {
		return Subscriber{}, err
	}
	return sub, nil
}

// ListSubscribers returns the subscribers, without their secrets.
func (s *Service) ListSubscribers(ctx context.Context) ([]Subscriber, error) {
	return s.Store.ListStatusSubscribers(ctx)
}

// DeleteSubscriber removes a subscriber.
func (s *Service) DeleteSubscriber(ctx context.Context, id string) error {
	return s.Store.DeleteStatusSubscriber(ctx, id)
}

// States returns the levels of the services on the page as last
// computed, with the signals behind them; a service removed since keeps
// its stored row but is not listed.
func (s *Service) States(ctx context.Context) ([]ServiceState, error) {
	states, err := s.Store.StatusStates(ctx)
	if err != nil || s.Services == nil {
		return states, err
	}
	shown := map[string]bool{}
	for _, ps := range s.Services() {
		shown[ps.Name] = true
	}
	return slices.DeleteFunc(states, func(st ServiceState) bool { return !shown[st.Service] }), nil
}
