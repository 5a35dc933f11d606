package status

import (
	"reflect"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

func TestEvaluate(t *testing.T) {
	th := Thresholds{} // the defaults: 5 % degraded, 50 % outage, 10 calls at least
	tests := []struct {
		name    string
		s       Signals
		th      Thresholds
		want    Level
		signals []string
	}{
		{"no traffic", Signals{}, th, Operational, nil},
		{"healthy", Signals{Requests: 1000, Failures: 10}, th, Operational, nil},
		{"degraded at the threshold", Signals{Requests: 100, Failures: 5}, th, Degraded, []string{"error_rate"}},
		{"outage at the threshold", Signals{Requests: 100, Failures: 50}, th, Outage, []string{"error_rate"}},
		{"too few calls to judge", Signals{Requests: 9, Failures: 9}, th, Operational, nil},
		{"custom thresholds", Signals{Requests: 4, Failures: 1}, Thresholds{MinRequests: 4, DegradedErrorRate: 0.2, OutageErrorRate: 0.3}, Degraded, []string{"error_rate"}},
		{"one failed probe run of four", Signals{ProbeRuns: 4, ProbeFailures: 1}, th, Degraded, []string{"probes"}},
		{"every probe run failed", Signals{ProbeRuns: 3, ProbeFailures: 3}, th, Outage, []string{"probes"}},
		{"a single probe run is not enough", Signals{ProbeRuns: 1, ProbeFailures: 1}, th, Operational, nil},
		{"critical triage incident", Signals{TriageOpen: 2, TriageWorst: "Critical"}, th, Degraded, []string{"triage"}},
		{"low triage incident", Signals{TriageOpen: 5, TriageWorst: "low"}, th, Operational, nil},
		{"maintenance", Signals{Impacts: []Impact{ImpactMaintenance}}, th, Maintenance, []string{"incident"}},
		{"worst signal wins, worst first", Signals{Requests: 100, Failures: 10, ProbeRuns: 2, ProbeFailures: 2,
			Impacts: []Impact{ImpactMaintenance}}, th, Outage, []string{"probes", "error_rate", "incident"}},
		{"operator outage over healthy traffic", Signals{Requests: 100, Impacts: []Impact{ImpactOutage}}, th, Outage, []string{"incident"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reasons := Evaluate(tc.s, tc.th)
			if got != tc.want {
				t.Errorf("level = %s, want %s (reasons %+v)", got, tc.want, reasons)
			}
			var signals []string
			for _, r := range reasons {
				signals = append(signals, r.Signal)
			}
			if !reflect.DeepEqual(signals, tc.signals) {
				t.Errorf("signals = %v, want %v", signals, tc.signals)
			}
		})
	}
}

func TestThresholdsValidate(t *testing.T) {
	tests := []struct {
		name string
		th   Thresholds
		ok   bool
	}{
		{"defaults", Thresholds{}, true},
		{"rate above one", Thresholds{OutageErrorRate: 2}, false},
		{"outage below degraded", Thresholds{DegradedErrorRate: 0.4, OutageErrorRate: 0.3}, false},
		{"probe outage below degraded", Thresholds{ProbeDegradedRate: 0.9, ProbeOutageRate: 0.5}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.th.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestLevelWorse(t *testing.T) {
	if got := Operational.Worse(Degraded).Worse(Maintenance); got != Degraded {
		t.Fatalf("got %s", got)
	}
	if got := Level("").Worse(""); got != Operational {
		t.Fatalf("empty levels: %q, want operational", got)
	}
}

func TestThresholdsOf(t *testing.T) {
	if got := ThresholdsOf(nil); !reflect.DeepEqual(got, DefaultThresholds) {
		t.Fatalf("no section: %+v", got)
	}
	got := ThresholdsOf(&config.StatusPage{Window: config.Duration(10 * time.Minute), OutageErrorRate: 0.3, IncidentSeverities: []string{"critical"}})
	want := DefaultThresholds
	want.Window, want.OutageErrorRate, want.IncidentSeverities = 10*time.Minute, 0.3, []string{"critical"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ThresholdsOf = %+v, want %+v", got, want)
	}
}
