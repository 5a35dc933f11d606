package config

import (
	"strings"
	"testing"
	"time"
)

// lifecycleBase is a valid configuration with one REST service, to which
// the cases below add lifecycle fields.
const lifecycleBase = `teams:
  - name: payments
services:
  - name: orders
    team: payments
    upstream: { targets: [{url: "http://127.0.0.1:9000"}] }
    routes: [{path: /orders}]
`

func TestServiceLifecycleValidation(t *testing.T) {
	tests := []struct {
		name string
		add  string // lines appended to the service
		want string // one expected error line; "" means valid
	}{
		{name: "published", add: "    state: published\n"},
		{name: "deprecated with a sunset", add: "    state: deprecated\n    sunset: 2027-01-31T00:00:00Z\n"},
		{name: "deprecated with a quoted sunset", add: "    state: deprecated\n    sunset: \"2027-01-31T09:30:00+02:00\"\n"},
		{name: "deprecated with a date", add: "    state: deprecated\n    sunset: 2027-01-31\n"},
		{name: "retired", add: "    state: retired\n"},
		{name: "canary", add: "    canary: { release: 3, percent: 12.5 }\n"},
		{name: "unknown state", add: "    state: gone\n",
			want: `line 8: services[0].state: unknown state "gone" (one of: published, deprecated, retired)`},
		{name: "sunset without deprecation", add: "    sunset: 2027-01-31T00:00:00Z\n",
			want: "services[0].sunset: only a deprecated or retired service has a sunset; set state: deprecated"},
		{name: "sunset that is no time", add: "    state: deprecated\n    sunset: soon\n",
			want: "services[0].sunset"},
		{name: "canary of release 0", add: "    canary: { release: 0, percent: 10 }\n",
			want: "services[0].canary.release: must be a release number (1 or more)"},
		{name: "canary of all the calls", add: "    canary: { release: 2, percent: 100 }\n",
			want: "services[0].canary.percent: must be above 0 and below 100"},
		{name: "canary of none", add: "    canary: { release: 2, percent: 0 }\n",
			want: "services[0].canary.percent: must be above 0 and below 100"},
		{name: "canary of a retired service", add: "    state: retired\n    canary: { release: 2, percent: 5 }\n",
			want: "services[0].canary: a retired service answers no calls, so it takes no canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(lifecycleBase + tt.add))
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

// TestLifecycleRoundTrip checks that the sunset survives YAML and JSON, and
// that Diff shows a changed sunset as one value.
func TestLifecycleRoundTrip(t *testing.T) {
	c := mustParse(t, lifecycleBase+"    state: deprecated\n    sunset: 2027-01-31T09:30:00+02:00\n    canary: { release: 2, percent: 10 }\n")
	want := time.Date(2027, 1, 31, 7, 30, 0, 0, time.UTC)
	if s := c.Services[0].Sunset; s == nil || !s.Equal(want) {
		t.Fatalf("sunset = %v, want %v", s, want)
	}
	y, err := ToYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, string(y))
	if d := Diff(c, back); d != nil {
		t.Fatalf("YAML round trip differs: %q\n%s", d, y)
	}
	later := mustParse(t, lifecycleBase+"    state: deprecated\n    sunset: 2027-03-01T00:00:00Z\n")
	got := Diff(c, later)
	wantDiff := []string{
		"~ service orders: sunset: 2027-01-31T07:30:00Z -> 2027-03-01T00:00:00Z",
		"~ service orders: canary: {release: 2, percent: 10} -> none",
	}
	if strings.Join(got, "\n") != strings.Join(wantDiff, "\n") {
		t.Fatalf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantDiff, "\n"))
	}
}
