package alert_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestFormatsGolden holds each notifier type's body to a golden file,
// firing and resolved.
func TestFormatsGolden(t *testing.T) {
	n, resolved := sampleNotifications()
	tests := []struct {
		name string
		v    any
	}{
		{"webhook_firing", n},
		{"slack_firing", map[string]string{"text": alert.SlackText(n)}},
		{"slack_resolved", map[string]string{"text": alert.SlackText(resolved)}},
		{"alertmanager_firing", alert.Alertmanager(n)},
		{"alertmanager_resolved", alert.Alertmanager(resolved)},
		{"pagerduty_firing", alert.PagerDuty("routing-key", n)},
		{"pagerduty_resolved", alert.PagerDuty("routing-key", resolved)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name+".golden.json", append(got, '\n'))
		})
	}
}

// sampleNotifications returns a firing notification of two groups and the
// resolution of one of them, at a fixed time and with fixed ids.
func sampleNotifications() (firing, resolved alert.Notification) {
	at := time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC)
	n := alert.Notification{ID: "alnt_1", Status: alert.StatusFiring, Rule: "errors-high", Description: "Too many failed calls",
		Metric: "error_rate", Operator: ">", Threshold: config.AlertThreshold{Warning: ptr(0.05), Critical: ptr(0.2)},
		Window: "5m", Time: at,
		Alerts: []alert.Notice{
			{Labels: map[string]string{"consumer": "web-shop"}, State: alert.StateFiring, Severity: alert.SeverityCritical,
				Value: ptr(0.31), Since: at.Add(-time.Minute), CallsURL: "/admin/v1/calls?consumer=web-shop&model=gpt-4o-mini"},
			{Labels: map[string]string{"consumer": "mobile"}, State: alert.StateFiring, Severity: alert.SeverityWarning,
				Value: ptr(0.07), Since: at.Add(-2 * time.Minute), CallsURL: "/admin/v1/calls?consumer=mobile&model=gpt-4o-mini"},
		}}
	resolved = n
	resolved.Status, resolved.Alerts = alert.StatusResolved, []alert.Notice{n.Alerts[0]}
	resolved.Alerts[0].State = alert.StateResolved
	return n, resolved
}

// checkGolden compares got with testdata/name, rewriting it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n%s", path, got)
	}
}
