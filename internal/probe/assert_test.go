package probe

import (
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

func ptr[T any](v T) *T { return &v }

func TestEvaluate(t *testing.T) {
	chat := []byte(`{"id":"c1","choices":[{"message":{"role":"assistant","content":"ok"}}],"usage":{"total_tokens":12}}`)
	tests := []struct {
		name      string
		a         config.ProbeAssertions
		status    int
		latency   time.Duration
		body      []byte
		assertion string // "" when the run passes
		message   string
	}{
		{name: "default accepts 2xx", status: 204},
		{name: "default refuses 5xx", status: 502, assertion: "status", message: "502 is not one of 2xx"},
		{name: "listed code", a: config.ProbeAssertions{Status: []string{"200", "304"}}, status: 304},
		{name: "range", a: config.ProbeAssertions{Status: []string{"400-404"}}, status: 403},
		{name: "outside range", a: config.ProbeAssertions{Status: []string{"400-404"}}, status: 405, assertion: "status"},
		{name: "class", a: config.ProbeAssertions{Status: []string{"4xx"}}, status: 429},
		{name: "within max latency", a: config.ProbeAssertions{MaxLatency: config.Duration(time.Second)}, status: 200, latency: time.Second},
		{name: "too slow", a: config.ProbeAssertions{MaxLatency: config.Duration(time.Second)}, status: 200, latency: 1500 * time.Millisecond,
			assertion: "max_latency", message: "took 1.5s, more than 1s"},
		{name: "json equals", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{
			{Path: "choices.0.message.role", Equals: ptr("assistant")}, {Path: "usage.total_tokens", Equals: ptr("12")}}}},
		{name: "json differs", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{
			{Path: "choices.0.message.content", Equals: ptr("pong")}}}, assertion: "json", message: `choices.0.message.content is "ok", want "pong"`},
		{name: "json exists", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{{Path: "id", Exists: ptr(true)}}}},
		{name: "json missing", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{{Path: "error", Exists: ptr(true)}}},
			assertion: "json", message: "error does not exist"},
		{name: "json must not exist", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{{Path: "id", Exists: ptr(false)}}},
			assertion: "json", message: "id exists"},
		{name: "equals on a missing path", status: 200, body: chat, a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{{Path: "x.y", Equals: ptr("")}}},
			assertion: "json", message: `x.y does not exist, want ""`},
		{name: "not json", status: 200, body: []byte("<html>"), a: config.ProbeAssertions{JSON: []config.ProbeJSONAssertion{{Path: "id", Exists: ptr(true)}}},
			assertion: "json", message: "the response body is not JSON"},
		{name: "body contains", status: 200, body: []byte("status: ok"), a: config.ProbeAssertions{BodyContains: "ok"}},
		{name: "body lacks", status: 200, body: []byte("status: degraded"), a: config.ProbeAssertions{BodyContains: "ok"},
			assertion: "body_contains", message: `the response body does not contain "ok"`},
		{name: "status checked first", a: config.ProbeAssertions{BodyContains: "ok", Status: []string{"200"}}, status: 500, body: []byte("ok"),
			assertion: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Evaluate(tt.a, tt.status, tt.latency, tt.body)
			switch {
			case tt.assertion == "" && f != nil:
				t.Fatalf("failed %s, want a pass", f)
			case tt.assertion != "" && f == nil:
				t.Fatalf("passed, want %s to fail", tt.assertion)
			case f != nil && (f.Assertion != tt.assertion || tt.message != "" && f.Message != tt.message):
				t.Fatalf("failed %s; want %s: %s", f, tt.assertion, tt.message)
			}
		})
	}
}
