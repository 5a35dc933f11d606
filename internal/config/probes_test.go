package config

import (
	"strings"
	"testing"
)

const probesBase = `providers:
  - { name: p, type: openai, api_key: env:K }
models:
  - { name: m, targets: [{provider: p}] }
consumers:
  - { name: shop, keys: [{name: k, key: env:SHOP_KEY}] }
  - { name: keyless }
`

func TestProbeValidation(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{name: "model probe", src: `probes:
  - { name: canary, model: m, consumer: shop, interval: 10s, assert: { status: [200, 2xx, 500-503], json: [{path: id, exists: true}] } }
`},
		{name: "route probe", src: `probes:
  - { name: health, path: /orders/health, method: head, headers: { X-Token: env:T } }
`},
		{name: "both targets", src: `probes:
  - { name: x, model: m, path: /a }
`, want: "probes[0]: set either model or path, not both"},
		{name: "no target", src: `probes:
  - { name: x }
`, want: "probes[0]: set model (a chat completion) or path"},
		{name: "unknown model", src: `probes:
  - { name: x, model: nope }
`, want: `probes[0].model: unknown model "nope"`},
		{name: "absolute url", src: `probes:
  - { name: x, path: "http://example.com/a" }
`, want: "probes[0].path: must be a path on the gateway"},
		{name: "method on a model probe", src: `probes:
  - { name: x, model: m, method: GET }
`, want: "probes[0].method: a model probe always posts"},
		{name: "interval too short", src: `probes:
  - { name: x, path: /a, interval: 1s }
`, want: "probes[0].interval: must be at least 5s"},
		{name: "timeout above interval", src: `probes:
  - { name: x, path: /a, interval: 10s, timeout: 20s }
`, want: "probes[0].timeout: must not exceed the interval"},
		{name: "unknown consumer", src: `probes:
  - { name: x, path: /a, consumer: ghost }
`, want: `probes[0].consumer: unknown consumer "ghost"`},
		{name: "consumer without key", src: `probes:
  - { name: x, path: /a, consumer: keyless }
`, want: `consumer "keyless" declares no key`},
		{name: "bad status", src: `probes:
  - { name: x, path: /a, assert: { status: [2x] } }
`, want: "probes[0].assert.status[0]"},
		{name: "reversed range", src: `probes:
  - { name: x, path: /a, assert: { status: [299-200] } }
`, want: "is not a range of statuses"},
		{name: "json without check", src: `probes:
  - { name: x, path: /a, assert: { json: [{path: a}] } }
`, want: "probes[0].assert.json[0]: set equals or exists"},
		{name: "duplicate", src: `probes:
  - { name: x, path: /a }
  - { name: x, path: /b }
`, want: `duplicate probe name "x"`},
		{name: "malformed secret header", src: `probes:
  - { name: x, path: /a, headers: { X-T: "env:" } }
`, want: "malformed secret reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(probesBase + tt.src))
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

func TestProbeDefaults(t *testing.T) {
	c, err := Parse([]byte(probesBase + `probes:
  - { name: a, path: /a }
  - { name: b, model: m, interval: 6s }
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Probes[0], c.Probes[1]
	if a.Interval.Std() != DefaultProbeInterval || a.Timeout.Std() != DefaultProbeTimeout || a.ProbeMethod() != "GET" {
		t.Errorf("path probe defaults: interval %s, timeout %s, method %s", a.Interval, a.Timeout, a.ProbeMethod())
	}
	if b.Timeout.Std() != b.Interval.Std() || b.ProbeMethod() != "POST" {
		t.Errorf("model probe defaults: timeout %s (interval %s), method %s", b.Timeout, b.Interval, b.ProbeMethod())
	}
	rs, err := a.Assert.StatusRanges()
	if err != nil || len(rs) != 1 || !rs[0].Contains(204) || rs[0].Contains(301) {
		t.Errorf("default statuses = %v, %v; want 2xx", rs, err)
	}
}
