package telemetry

import (
	"fmt"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		wantErr  bool
	}{
		{"empty", "", map[string]string{}, false},
		{"two", "api-key=abc, x-team=a%20b", map[string]string{"api-key": "abc", "x-team": "a b"}, false},
		{"value with equals", "authorization=Basic%20dXNlcjpwYXNz==", map[string]string{"authorization": "Basic dXNlcjpwYXNz=="}, false},
		{"no value", "api-key", nil, true},
		{"bad escape", "k=%zz", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHeaders(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !tc.wantErr {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewTracerOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       TracingOptions
		off     bool
		wantErr bool
	}{
		{"no endpoint is off", TracingOptions{}, true, false},
		{"base URL", TracingOptions{Endpoint: "http://127.0.0.1:4318", SampleRatio: 1}, false, false},
		{"full URL", TracingOptions{Endpoint: "https://collector.example/otlp/v1/traces", SampleRatio: 0.1}, false, false},
		{"no scheme", TracingOptions{Endpoint: "collector:4318"}, false, true},
		{"ratio above one", TracingOptions{Endpoint: "http://127.0.0.1:4318", SampleRatio: 2}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := NewTracer(tc.o)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if (tr == nil) != (tc.off || tc.wantErr) {
				t.Fatalf("tracer = %v", tr)
			}
			if tr != nil {
				_ = tr.Shutdown(t.Context())
			}
		})
	}
}

func TestErrorTypeBounded(t *testing.T) {
	m := NewMetrics()
	for i := 0; i < ErrorTypeLimit; i++ {
		if got := m.ErrorType(fmt.Sprint("code_", i)); got != fmt.Sprint("code_", i) {
			t.Fatalf("value %d became %q", i, got)
		}
	}
	if got := m.ErrorType("one_too_many"); got != "other" {
		t.Errorf("past the limit: %q, want other", got)
	}
	if got := m.ErrorType("code_3"); got != "code_3" {
		t.Errorf("a known value: %q", got)
	}
	if got := m.ErrorType(""); got != "none" {
		t.Errorf("empty: %q", got)
	}
}

func TestNamesIncludesEmptyVectors(t *testing.T) {
	names := map[string]bool{}
	for _, n := range NewMetrics().Names() {
		names[n] = true
	}
	for _, want := range []string{"gen_ai_client_token_usage", "gen_ai_client_operation_duration_seconds", "hypergate_errors_total", "hypergate_upstream_attempts_total"} {
		if !names[want] {
			t.Errorf("Names lacks %s", want)
		}
	}
}
