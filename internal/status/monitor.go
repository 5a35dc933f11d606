package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultInterval is how often the Monitor computes the levels.
const DefaultInterval = 30 * time.Second

// PageService is a service the status page shows.
type PageService struct {
	Name        string
	Description string
}

// Monitor computes each service's level on a timer, stores it, and
// announces every change once: the store's swap lets one node of several,
// and not a restarted one again, see a given change.
type Monitor struct {
	Store Store
	// Triage counts open triage incidents; nil leaves them out.
	Triage   TriageSource
	Services func() []PageService
	// Thresholds are read at each computation; nil: the defaults.
	Thresholds func() Thresholds
	// Notify announces the changes; nil: none.
	Notify func(Event)
	Now    func() time.Time
	Logger *slog.Logger
}

func (m *Monitor) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Run computes the levels every interval until ctx is done.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := m.Tick(ctx); err != nil && ctx.Err() == nil && m.Logger != nil {
			m.Logger.Error("computing service status", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Signals gathers the signals of every service at now.
func (m *Monitor) Signals(ctx context.Context, services []PageService, now time.Time) (map[string]*Signals, error) {
	th := thresholdsOf(m.Thresholds)
	from := now.Add(-th.Window)
	out := make(map[string]*Signals, len(services))
	for _, s := range services {
		out[s.Name] = &Signals{}
	}
	// Minute buckets that started in the window, the current one included:
	// the window is read to the minute.
	traffic, err := m.Store.StatusTraffic(ctx, time.Minute, from.Truncate(time.Minute), now.Add(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("reading traffic: %w", err)
	}
	for _, t := range traffic {
		if s := out[t.Service]; s != nil {
			s.Requests += t.Requests
			s.Failures += t.Failures
		}
	}
	probes, err := m.Store.StatusProbeRuns(ctx, from, now.Add(time.Nanosecond))
	if err != nil {
		return nil, fmt.Errorf("reading probe runs: %w", err)
	}
	for _, p := range probes {
		if s := out[p.Service]; s != nil {
			s.ProbeRuns += p.Requests
			s.ProbeFailures += p.Failures
		}
	}
	open, err := m.Store.ListStatusIncidents(ctx, IncidentFilter{Open: true, Limit: 500})
	if err != nil {
		return nil, fmt.Errorf("reading incidents: %w", err)
	}
	for _, in := range open {
		for _, sv := range in.Services {
			if s := out[sv]; s != nil {
				s.Impacts = append(s.Impacts, in.Impact)
			}
		}
	}
	if m.Triage != nil {
		for name, s := range out {
			n, worst, err := m.Triage.OpenIncidents(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("counting triage incidents of %s: %w", name, err)
			}
			s.TriageOpen, s.TriageWorst = n, worst
		}
	}
	return out, nil
}

// Tick computes every service's level once, stores it and announces the
// changes. It returns the states computed.
func (m *Monitor) Tick(ctx context.Context) ([]ServiceState, error) {
	now := m.now()
	var services []PageService
	if m.Services != nil {
		services = m.Services()
	}
	sigs, err := m.Signals(ctx, services, now)
	if err != nil {
		return nil, err
	}
	th := thresholdsOf(m.Thresholds)
	var (
		out  []ServiceState
		errs []error
	)
	for _, sv := range services {
		lvl, reasons := Evaluate(*sigs[sv.Name], th)
		st := ServiceState{Service: sv.Name, Level: lvl, Reasons: reasons, Since: now, UpdatedAt: now}
		prev, changed, err := m.Store.SwapStatusState(ctx, st)
		if err != nil {
			errs = append(errs, fmt.Errorf("storing the status of %s: %w", sv.Name, err))
			continue
		}
		if !changed {
			st.Since = prev.Since
		}
		out = append(out, st)
		// A service seen for the first time was, as far as anyone knew,
		// operational: saying so again would be noise.
		from := prev.Level
		if from == "" {
			from = Operational
		}
		if changed && from != lvl && m.Notify != nil {
			m.Notify(ChangeEvent(sv.Name, from, lvl, now))
		}
	}
	return out, errors.Join(errs...)
}

// thresholdsOf reads f, with the defaults filled; nil gives the defaults.
func thresholdsOf(f func() Thresholds) Thresholds {
	if f == nil {
		return DefaultThresholds
	}
	return f().WithDefaults()
}
