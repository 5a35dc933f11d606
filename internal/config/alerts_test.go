package config

import (
	"strings"
	"testing"
)

func TestAlertValidation(t *testing.T) {
	const hooks = `notifiers:
  - { name: ops, type: webhook, url: "https://hooks.example.com/x", secret: env:HOOK_SECRET }
`
	tests := []struct{ name, src, want string }{
		{name: "valid", src: hooks + `alerts:
  - { name: e, metric: error_rate, filter: { model: m }, group_by: [consumer], threshold: { warning: 0.05, critical: 0.2 }, notify: [ops] }
`},
		{name: "unknown metric", src: `alerts:
  - { name: e, metric: vibes, threshold: { critical: 1 } }
`, want: `alerts[0].metric: unknown metric "vibes"`},
		{name: "no threshold", src: `alerts:
  - { name: e, metric: cost }
`, want: "alerts[0].threshold: is required"},
		{name: "critical below warning", src: `alerts:
  - { name: e, metric: cost, threshold: { warning: 5, critical: 1 } }
`, want: "alerts[0].threshold.critical: must not be below warning"},
		{name: "critical above warning with <", src: `alerts:
  - { name: e, metric: requests, operator: "<", threshold: { warning: 5, critical: 10 } }
`, want: "alerts[0].threshold.critical: must not be above warning"},
		{name: "unknown operator", src: `alerts:
  - { name: e, metric: cost, operator: "==", threshold: { critical: 1 } }
`, want: `alerts[0].operator: unknown operator "=="`},
		{name: "unknown notifier", src: `alerts:
  - { name: e, metric: cost, threshold: { critical: 1 }, notify: [pager] }
`, want: `alerts[0].notify[0]: unknown notifier "pager"`},
		{name: "unknown filter dimension", src: `alerts:
  - { name: e, metric: cost, filter: { colour: red }, threshold: { critical: 1 } }
`, want: `alerts[0].filter.colour: unknown dimension "colour"`},
		{name: "group by the filter", src: `alerts:
  - { name: e, metric: cost, filter: { model: m }, group_by: [model], threshold: { critical: 1 } }
`, want: `alerts[0].group_by[0]: dimension "model" is fixed by the filter`},
		{name: "call log counter with dimensions", src: `alerts:
  - { name: e, metric: calllog_dropped, group_by: [model], threshold: { critical: 0 } }
`, want: "has no dimensions to group by"},
		{name: "window under a minute", src: `alerts:
  - { name: e, metric: cost, window: 30s, threshold: { critical: 1 } }
`, want: "alerts[0].window: must be at least 1m"},
		{name: "no-data policy", src: `alerts:
  - { name: e, metric: cost, no_data: panic, threshold: { critical: 1 } }
`, want: `alerts[0].no_data: unknown policy "panic"`},
		{name: "duplicate alert", src: `alerts:
  - { name: e, metric: cost, threshold: { critical: 1 } }
  - { name: e, metric: cost, threshold: { critical: 1 } }
`, want: `alerts[1].name: duplicate alert name "e"`},
		{name: "webhook without secret", src: `notifiers:
  - { name: ops, type: webhook, url: "https://hooks.example.com/x" }
`, want: "notifiers[0].secret: is required"},
		{name: "secret in clear", src: `notifiers:
  - { name: ops, type: webhook, url: "https://hooks.example.com/x", secret: hunter2 }
`, want: "notifiers[0].secret: secret must be a secret reference"},
		{name: "unknown notifier type", src: `notifiers:
  - { name: ops, type: pigeon, url: "https://hooks.example.com/x" }
`, want: `notifiers[0].type: unknown notifier type "pigeon"`},
		{name: "relative url", src: `notifiers:
  - { name: ops, type: slack, url: "/hooks" }
`, want: "notifiers[0].url: must be an absolute http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(servicesBase + tt.src))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("no error, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got:\n%v\nwant a line containing %q", err, tt.want)
			}
		})
	}
}
