package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hypergate/hypergate/internal/calllog"
)

func TestEncodeAttemptsIsJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []calllog.Attempt
	}{
		{"none", nil},
		{"one, all fields", []calllog.Attempt{{Provider: "p", UpstreamModel: "m", KeyID: "p#1", Status: 429, ErrorType: "rate_limit_exceeded", LatencyUS: 12}}},
		{"zero fields left out", []calllog.Attempt{{Provider: "p", UpstreamModel: "m"}}},
		{"quotes, backslashes, control characters and unicode", []calllog.Attempt{{Provider: "p", UpstreamModel: "m\"x\\y", ErrorType: "a\nb\tc\x01 ü ✓"}}},
		{"html characters", []calllog.Attempt{{Provider: "<p>", UpstreamModel: "a&b"}}},
		{"several", []calllog.Attempt{{Provider: "a", UpstreamModel: "x", Status: 500}, {Provider: "b", UpstreamModel: "y", Status: 200, LatencyUS: 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeAttempts(tc.in)
			if len(tc.in) == 0 {
				if got != "" {
					t.Fatalf("got %q for none", got)
				}
				return
			}
			var back []calllog.Attempt
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("not JSON: %v: %s", err, got)
			}
			if !reflect.DeepEqual(back, tc.in) {
				t.Errorf("round trip = %+v, want %+v", back, tc.in)
			}
			if want, _ := json.Marshal(tc.in); got != string(want) {
				t.Errorf("differs from encoding/json:\n got %s\nwant %s", got, want)
			}
		})
	}
}
