package config

import (
	"testing"
	"time"
)

func TestHypercareValidation(t *testing.T) {
	const named = `services:
  - { name: bot, team: payments, kind: ai, models: [m], routes: [{path: /bot}] }
prompts:
  - { name: s, model: m, template: "Hi" }
notifiers:
  - { name: ops, type: webhook, url: "https://hooks.example.com/x", secret: env:HOOK_SECRET }
  - { name: chat, type: slack, url: "https://chat.example.com/hooks/T0" }
  - { name: pd, type: pagerduty, url: "https://events.pagerduty.com/v2/enqueue", secret: env:PD_KEY }
hypercare:
`
	// window is a valid window on the service bot with the extra fields.
	window := func(extra string) string {
		return named + "  - { name: w, target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 14d" + extra + " }\n"
	}
	tests := []struct{ name, src, want string }{
		{name: "service", src: window("")},
		{name: "every field", src: window(`, baseline: { from: 2026-11-01T00:00:00Z, to: 2026-11-15T00:00:00Z },
      exit: { error_rate: 0.01, latency_p95: 2s, negative_feedback_ratio: 0.1, anomaly_rate: 0.05, days: 7 },
      verdict: { alpha: 0.01, min_effect: 0.1, min_calls: 500, min_feedback: 50 }, report_hour: 0, notify: [ops, chat]`)},
		{name: "release", src: named + "  - { name: w, target: { release: { service: bot, number: 3 } }, start: 2026-12-01T09:00:00Z, duration: 1d }\n"},
		{name: "model", src: named + "  - { name: w, target: { model: m }, start: 2026-12-01T09:00:00Z, duration: 7d }\n"},
		{name: "prompt, every version", src: named + "  - { name: w, target: { prompt: { name: s } }, start: 2026-12-01T09:00:00Z, duration: 7d }\n"},
		{name: "prompt version", src: named + "  - { name: w, target: { prompt: { name: s, version: 2 } }, start: 2026-12-01T09:00:00Z, duration: 7d }\n"},
		{name: "baseline ending at the start", src: window(", baseline: { from: 2026-11-01T00:00:00Z, to: 2026-12-01T09:00:00Z }")},
		{name: "exit on the last day", src: window(", exit: { error_rate: 0, days: 14 }")},
		{name: "longest window", src: named + "  - { name: w, target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 366d }\n"},

		{name: "no name", src: named + "  - { target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 1d }\n", want: "hypercare[0].name: is required"},
		{name: "bad name", src: named + "  - { name: Big Launch, target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[0].name: invalid name "Big Launch"`},
		{name: "duplicate name", src: window("") + "  - { name: w, target: { model: m }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[1].name: duplicate hypercare window name "w"`},
		{name: "no target", src: named + "  - { name: w, target: {}, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: "hypercare[0].target: set exactly one of service, release, model, prompt"},
		{name: "two targets", src: named + "  - { name: w, target: { service: bot, model: m }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: "hypercare[0].target: set exactly one of service, release, model, prompt"},
		{name: "unknown service", src: named + "  - { name: w, target: { service: nope }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[0].target.service: unknown service "nope"`},
		{name: "release of an unknown service", src: named + "  - { name: w, target: { release: { service: nope, number: 1 } }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[0].target.release.service: unknown service "nope"`},
		{name: "release without a number", src: named + "  - { name: w, target: { release: { service: bot } }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: "hypercare[0].target.release.number: must be a release number, 1 or more"},
		{name: "unknown model", src: named + "  - { name: w, target: { model: nope }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[0].target.model: unknown model "nope"`},
		{name: "unknown prompt", src: named + "  - { name: w, target: { prompt: { name: nope } }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: `hypercare[0].target.prompt.name: unknown prompt "nope"`},
		{name: "negative prompt version", src: named + "  - { name: w, target: { prompt: { name: s, version: -1 } }, start: 2026-12-01T09:00:00Z, duration: 1d }\n",
			want: "hypercare[0].target.prompt.version: must be a version number, or left out for every version"},
		{name: "no start", src: named + "  - { name: w, target: { service: bot }, duration: 1d }\n",
			want: "hypercare[0].start: is required: an RFC 3339 time"},
		{name: "start not a time", src: named + "  - { name: w, target: { service: bot }, start: next monday, duration: 1d }\n",
			want: "hypercare[0].start"},
		{name: "no duration", src: named + "  - { name: w, target: { service: bot }, start: 2026-12-01T09:00:00Z }\n",
			want: "hypercare[0].duration: must be at least 1d: reports count full days"},
		{name: "shorter than a day", src: named + "  - { name: w, target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 23h }\n",
			want: "hypercare[0].duration: must be at least 1d"},
		{name: "longer than a year", src: named + "  - { name: w, target: { service: bot }, start: 2026-12-01T09:00:00Z, duration: 367d }\n",
			want: "hypercare[0].duration: must be at most"},
		{name: "baseline without its end", src: window(", baseline: { from: 2026-11-01T00:00:00Z }"),
			want: "hypercare[0].baseline: set both from and to"},
		{name: "baseline backwards", src: window(", baseline: { from: 2026-11-15T00:00:00Z, to: 2026-11-01T00:00:00Z }"),
			want: "hypercare[0].baseline.to: must be after from"},
		{name: "baseline of no length", src: window(", baseline: { from: 2026-11-15T00:00:00Z, to: 2026-11-15T00:00:00Z }"),
			want: "hypercare[0].baseline.to: must be after from"},
		{name: "baseline inside the window", src: window(", baseline: { from: 2026-11-15T00:00:00Z, to: 2026-12-02T00:00:00Z }"),
			want: "hypercare[0].baseline.to: must not be after the window's start"},
		{name: "exit without days", src: window(", exit: { error_rate: 0.01 }"), want: "hypercare[0].exit.days: must be at least 1"},
		{name: "exit longer than the window", src: window(", exit: { error_rate: 0.01, days: 15 }"),
			want: "hypercare[0].exit.days: must not exceed the window's 14 full days"},
		{name: "exit without criteria", src: window(", exit: { days: 3 }"),
			want: "hypercare[0].exit: set at least one of error_rate, latency_p95, negative_feedback_ratio, anomaly_rate"},
		{name: "error rate above 1", src: window(", exit: { error_rate: 1.5, days: 3 }"), want: "hypercare[0].exit.error_rate: must be a share from 0 to 1"},
		{name: "negative feedback ratio below 0", src: window(", exit: { negative_feedback_ratio: -0.1, days: 3 }"),
			want: "hypercare[0].exit.negative_feedback_ratio: must be a share from 0 to 1"},
		{name: "anomaly rate not a number", src: window(", exit: { anomaly_rate: .nan, days: 3 }"),
			want: "hypercare[0].exit.anomaly_rate: must be a share from 0 to 1"},
		{name: "negative latency", src: window(", exit: { latency_p95: -2s, days: 3 }"), want: "hypercare[0].exit.latency_p95: must not be negative"},
		{name: "alpha of one half", src: window(", verdict: { alpha: 0.5 }"), want: "hypercare[0].verdict.alpha: must be above 0 and below 0.5"},
		{name: "negative alpha", src: window(", verdict: { alpha: -0.05 }"), want: "hypercare[0].verdict.alpha: must be above 0 and below 0.5"},
		{name: "negative min effect", src: window(", verdict: { min_effect: -0.1 }"), want: "hypercare[0].verdict.min_effect: must be 0 or more"},
		{name: "infinite min effect", src: window(", verdict: { min_effect: .inf }"), want: "hypercare[0].verdict.min_effect: must be 0 or more"},
		{name: "negative min calls", src: window(", verdict: { min_calls: -1 }"), want: "hypercare[0].verdict.min_calls: must be 0 or more"},
		{name: "negative min feedback", src: window(", verdict: { min_feedback: -1 }"), want: "hypercare[0].verdict.min_feedback: must be 0 or more"},
		{name: "report hour 24", src: window(", report_hour: 24"), want: "hypercare[0].report_hour: must be an hour from 0 to 23 (UTC)"},
		{name: "negative report hour", src: window(", report_hour: -1"), want: "hypercare[0].report_hour: must be an hour from 0 to 23 (UTC)"},
		{name: "unknown notifier", src: window(", notify: [pager]"), want: `hypercare[0].notify[0]: unknown notifier "pager": declare it under notifiers`},
		{name: "notifier of another type", src: window(", notify: [pd]"),
			want: `hypercare[0].notify[0]: notifier "pd" is of type pagerduty; hypercare reports go to webhook and slack notifiers`},
		{name: "notifier twice", src: window(", notify: [ops, chat, ops]"), want: `hypercare[0].notify[2]: notifier "ops" is listed twice`},
		{name: "unknown field", src: window(", exit_criteria: { days: 1 }"), want: "exit_criteria"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParse(t, tt.src, tt.want)
		})
	}
}

// TestHypercareDefaults checks the derived figures of a window: its end,
// its baseline (the same length before the start, unless chosen), its
// verdict settings and report hour with the defaults filled in, and times
// kept in UTC whatever zone they were written in.
func TestHypercareDefaults(t *testing.T) {
	c, err := Parse([]byte(servicesBase + `services:
  - { name: bot, kind: ai, models: [m], routes: [{path: /bot}] }
hypercare:
  - { name: plain, target: { service: bot }, start: "2026-12-01T10:00:00+01:00", duration: 2d }
  - name: tuned
    target: { model: m }
    start: 2026-12-01T09:00:00Z
    duration: 7d
    baseline: { from: "2026-11-01T01:00:00+01:00", to: 2026-11-08T00:00:00Z }
    verdict: { alpha: 0.01, min_calls: 20 }
    report_hour: 0
`))
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	plain, tuned := c.Hypercare[0], c.Hypercare[1]
	tests := []struct {
		name      string
		got, want any
	}{
		{"start in UTC", plain.Start, utc("2026-12-01T09:00:00Z")},
		{"end", plain.End(), utc("2026-12-03T09:00:00Z")},
		{"baseline before the start", plain.BaselinePeriod(), HypercarePeriod{From: utc("2026-11-29T09:00:00Z"), To: utc("2026-12-01T09:00:00Z")}},
		{"default verdict", plain.EffectiveVerdict(), HypercareVerdict{Alpha: DefaultHypercareAlpha, MinEffect: DefaultHypercareMinEffect,
			MinCalls: DefaultHypercareMinCalls, MinFeedback: DefaultHypercareMinFeedback}},
		{"default report hour", plain.EffectiveReportHour(), DefaultHypercareReportHour},
		{"chosen baseline in UTC", tuned.BaselinePeriod(), HypercarePeriod{From: utc("2026-11-01T00:00:00Z"), To: utc("2026-11-08T00:00:00Z")}},
		{"partial verdict", tuned.EffectiveVerdict(), HypercareVerdict{Alpha: 0.01, MinEffect: DefaultHypercareMinEffect,
			MinCalls: 20, MinFeedback: DefaultHypercareMinFeedback}},
		{"report hour 0 is midnight", tuned.EffectiveReportHour(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g, w := tt.got, tt.want; g != w {
				if gt, ok := g.(time.Time); !ok || !gt.Equal(w.(time.Time)) || gt.Location() != time.UTC {
					t.Errorf("got %v, want %v", g, w)
				}
			}
		})
	}
	for i, h := range c.Hypercare {
		if h.Start.Location() != time.UTC {
			t.Errorf("hypercare[%d].start is in %v, want UTC", i, h.Start.Location())
		}
	}
}

// TestHypercareEmptyIsAbsent checks that an empty list is no list, so that
// it makes no diff.
func TestHypercareEmptyIsAbsent(t *testing.T) {
	c, err := Parse([]byte("hypercare: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hypercare != nil {
		t.Fatalf("Hypercare = %+v, want nil", c.Hypercare)
	}
	if d := Diff(&Config{}, c); len(d) != 0 {
		t.Fatalf("Diff = %v, want none", d)
	}
}
