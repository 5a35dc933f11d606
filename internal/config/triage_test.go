package config

import "testing"

func TestTriageValidation(t *testing.T) {
	const hooks = `notifiers:
  - { name: ops, type: webhook, url: "https://hooks.example.com/x", secret: env:HOOK_SECRET }
  - { name: chat, type: slack, url: "https://chat.example.com/hooks/T0" }
  - { name: pd, type: pagerduty, url: "https://events.pagerduty.com/v2/enqueue", secret: env:PD_KEY }
`
	tests := []struct{ name, src, want string }{
		{name: "valid", src: hooks + `triage:
  notify: [ops, chat]
  severity: { "5xx": critical, refusal: LOW, negative_feedback: high }
`},
		{name: "empty", src: "triage: {}\n"},
		{name: "unknown notifier", src: "triage: { notify: [pager] }\n", want: `triage.notify[0]: unknown notifier "pager"`},
		{name: "notifier of another type", src: hooks + "triage: { notify: [pd] }\n",
			want: `triage.notify[0]: notifier "pd" is of type pagerduty; incidents go to webhook and slack notifiers`},
		{name: "notifier twice", src: hooks + "triage: { notify: [ops, ops] }\n", want: `triage.notify[1]: notifier "ops" is listed twice`},
		{name: "unknown severity", src: "triage: { severity: { refusal: urgent } }\n",
			want: `triage.severity.refusal: severity "urgent" is not one of low, medium, high, critical`},
		{name: "malformed key", src: "triage: { severity: { \"Bad Key\": low } }\n", want: `triage.severity.Bad Key: "Bad Key" is not a status class`},
		{name: "unknown field", src: "triage: { notfy: [ops] }\n", want: "notfy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParse(t, tt.src, tt.want)
		})
	}
}

// TestTriageEmptyIsAbsent checks that an empty section is no section, so
// that it makes no diff.
func TestTriageEmptyIsAbsent(t *testing.T) {
	c, err := Parse([]byte("triage: { notify: [], severity: {} }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Triage != nil {
		t.Fatalf("Triage = %+v, want nil", c.Triage)
	}
	if d := Diff(&Config{}, c); len(d) != 0 {
		t.Fatalf("Diff = %v, want none", d)
	}
}
