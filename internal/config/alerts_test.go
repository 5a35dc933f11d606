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
		{name: "probe failures per probe", src: `alerts:
  - { name: e, metric: probe_failures, group_by: [probe], threshold: { critical: 2 } }
  - { name: f, metric: probe_failure_rate, filter: { probe: canary }, threshold: { critical: 0.5 } }
`},
		{name: "probe metric by model", src: `alerts:
  - { name: e, metric: probe_failures, filter: { model: m }, threshold: { critical: 2 } }
`, want: `alerts[0].filter.model: unknown dimension "model" for probe_failures (one of: probe)`},
		{name: "rollup metric by probe", src: `alerts:
  - { name: e, metric: error_rate, group_by: [probe], threshold: { critical: 0.1 } }
`, want: `alerts[0].group_by[0]: unknown dimension "probe" for error_rate`},
		{name: "feedback metrics", src: `alerts:
  - { name: e, metric: negative_feedback_ratio, group_by: [model], min_requests: 10, threshold: { warning: 0.2, critical: 0.4 } }
  - { name: f, metric: rate_limited, filter: { consumer: shop }, threshold: { critical: 100 } }
`},
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
			checkParse(t, tt.src, tt.want)
		})
	}
}

func checkParse(t *testing.T, src, want string) {
	t.Helper()
	_, err := Parse([]byte(servicesBase + src))
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("got:\n%v\nwant a line containing %q", err, want)
	}
}

func TestEmailNotifierValidation(t *testing.T) {
	const mail = `notifiers:
  - name: mail
    type: email
`
	tests := []struct{ name, src, want string }{
		{name: "starttls with auth", src: mail + `    url: smtp://mail.example.com:587
    from: "Hypergate <alerts@example.com>"
    to: [oncall@example.com, "Ops Team <ops@example.com>"]
    username: alerts
    secret: env:SMTP_PASSWORD
`},
		{name: "implicit tls, default port", src: mail + `    url: smtps://mail.example.com
    from: alerts@example.com
    to: [oncall@example.com]
    username: alerts
    secret: env:SMTP_PASSWORD
`},
		{name: "loopback relay without auth", src: mail + `    url: smtp://127.0.0.1:25
    from: alerts@example.com
    to: [oncall@example.com]
`},
		{name: "no url", src: mail + `    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: is required: the mail server"},
		{name: "http url", src: mail + `    url: https://mail.example.com
    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: must be an smtp:// (STARTTLS) or smtps:// (TLS) URL"},
		{name: "credentials in url", src: mail + `    url: smtp://alerts:hunter2@mail.example.com:587
    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: must not contain credentials"},
		{name: "no host", src: mail + `    url: "smtp://:587"
    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: must include a host"},
		{name: "port out of range", src: mail + `    url: smtp://mail.example.com:70000
    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: port must be 1 to 65535"},
		{name: "path", src: mail + `    url: smtp://mail.example.com:587/inbox
    from: alerts@example.com
    to: [oncall@example.com]
`, want: "notifiers[0].url: must be only a scheme, a host and a port"},
		{name: "no from", src: mail + `    url: smtp://mail.example.com:587
    to: [oncall@example.com]
`, want: "notifiers[0].from: is required"},
		{name: "bad from", src: mail + `    url: smtp://mail.example.com:587
    from: "Hypergate alerts"
    to: [oncall@example.com]
`, want: "notifiers[0].from: invalid address"},
		{name: "no recipients", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
`, want: "notifiers[0].to: is required: list at least one recipient"},
		{name: "two addresses in one entry", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: ["a@example.com, b@example.com"]
`, want: "notifiers[0].to[0]: invalid address"},
		{name: "header injection", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: ["a@example.com\r\nBcc: eve@example.net"]
`, want: "notifiers[0].to[0]: invalid address"},
		{name: "duplicate recipient", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: [oncall@example.com, "On Call <OnCall@example.com>"]
`, want: `notifiers[0].to[1]: recipient "OnCall@example.com" is listed twice`},
		{name: "username without password", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: [oncall@example.com]
    username: alerts
`, want: "notifiers[0].secret: is required with username"},
		{name: "password without username", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: [oncall@example.com]
    secret: env:SMTP_PASSWORD
`, want: "notifiers[0].username: is required with secret"},
		{name: "password in clear", src: mail + `    url: smtp://mail.example.com:587
    from: alerts@example.com
    to: [oncall@example.com]
    username: alerts
    secret: hunter2
`, want: "notifiers[0].secret: secret must be a secret reference"},
		{name: "email fields on a webhook", src: `notifiers:
  - { name: ops, type: slack, url: "https://chat.example.com/x", to: [oncall@example.com] }
`, want: "notifiers[0]: from, to and username are for email notifiers only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParse(t, tt.src, tt.want)
			if tt.want != "" {
				_, err := Parse([]byte(servicesBase + tt.src))
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error quotes the password: %v", err)
				}
			}
		})
	}
}
