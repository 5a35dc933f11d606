package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// ProbeRuns is one synthetic probe's runs over a window.
type ProbeRuns struct {
	Probe    string
	Runs     int64
	Failures int64
}

// ProbeReader counts the probes' runs from their recorded calls; the store
// implements it. Probe calls are kept out of the rollups, so the probe
// metrics are read here instead.
type ProbeReader interface {
	ProbeRuns(ctx context.Context, since, until time.Time) ([]ProbeRuns, error)
}

// measureProbes computes a probe metric per group: failed runs, or their
// share of the runs, over the window. The only dimension is the probe's
// name; a group's request count is its number of runs, which min_requests
// applies to.
func (e *Evaluator) measureProbes(ctx context.Context, a config.Alert, now time.Time) (map[string]measurement, error) {
	out := map[string]measurement{}
	if e.o.Probes == nil {
		return out, nil
	}
	runs, err := e.o.Probes.ProbeRuns(ctx, now.Add(-a.EffectiveWindow()), now.Add(time.Nanosecond))
	if err != nil {
		return nil, fmt.Errorf("reading probe runs: %w", err)
	}
	type sum struct{ runs, failures int64 }
	groups := map[string]*sum{}
	labels := map[string]map[string]string{}
	for _, r := range runs {
		if want, ok := a.Filter[config.AlertDimensionProbe]; ok && want != r.Probe {
			continue
		}
		l := map[string]string{}
		for _, d := range a.GroupBy {
			if d == config.AlertDimensionProbe {
				l[d] = r.Probe
			}
		}
		k := labelsKey(l)
		if groups[k] == nil {
			groups[k], labels[k] = &sum{}, l
		}
		groups[k].runs += r.Runs
		groups[k].failures += r.Failures
	}
	for k, g := range groups {
		m := measurement{labels: labels[k], requests: g.runs}
		v := float64(g.failures)
		if a.Metric == config.MetricProbeFailureRate {
			v = v / float64(g.runs)
		}
		m.value = &v
		out[k] = m
	}
	return out, nil
}
