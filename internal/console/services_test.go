package console

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

func TestDiffLines(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		want fieldChange
	}{
		"added":   {"+ service orders", fieldChange{Op: "+"}},
		"removed": {"- service orders", fieldChange{Op: "-"}},
		"changed": {"~ service orders: upstream.timeout: 30s -> 1m0s", fieldChange{Op: "~", Field: "upstream.timeout", Old: "30s", New: "1m0s"}},
		"set":     {"~ service orders: policies: none -> {max_body_bytes: 1024}", fieldChange{Op: "~", Field: "policies", Old: "none", New: "{max_body_bytes: 1024}"}},
	} {
		got := fieldChanges([]string{c.in})
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
	if names := []string{fieldChange{Op: "+"}.OpName(), fieldChange{Op: "-"}.OpName(), fieldChange{Op: "~"}.OpName()}; strings.Join(names, " ") != "added removed changed" {
		t.Errorf("op names %v", names)
	}
}

// TestServiceYAMLRoundTrip checks that the editor's text of a definition
// reads back to the same definition.
func TestServiceYAMLRoundTrip(t *testing.T) {
	w := 3
	for name, sv := range map[string]config.Service{
		"rest": {Name: "orders", Team: "payments", Description: "Orders",
			Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://127.0.0.1:9000", Weight: &w}}, Timeout: config.Duration(30e9)},
			Routes:   []config.Route{{Name: "list", Path: "/orders", Methods: []string{"GET"}, Policies: &config.Policies{MaxBodyBytes: 10}}},
			Canary:   &config.ServiceCanary{Release: 2, Percent: 12.5}},
		"ai":              {Name: "assist", Kind: config.KindAI, Models: []string{"gpt-4o-mini"}, Routes: []config.Route{{Path: "/assist"}}},
		"multi-line text": {Name: "docs", Description: "one\n\nthree", Routes: []config.Route{{Path: "/docs"}}},
	} {
		text, err := serviceYAML(sv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasPrefix(text, "services:") {
			t.Errorf("%s: the file's list is left around the service:\n%s", name, text)
		}
		body, err := parseDefinition(text)
		if err != nil {
			t.Fatalf("%s: reading back\n%s: %v", name, text, err)
		}
		var got config.Service
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sv) {
			t.Errorf("%s: read back as %+v, want %+v\n%s", name, got, sv, text)
		}
	}
}

func TestParseDefinition(t *testing.T) {
	for name, c := range map[string]struct {
		text, err string
	}{
		"empty":        {" \n", "empty"},
		"unknown key":  {"name: x\ncolour: blue\n", "line 2: field colour not found"},
		"bad JSON":     {`{"name": `, "not valid JSON"},
		"JSON kept":    {`{"name":"x","colour":"blue"}`, ""},
		"wrong type":   {"routes: 3\n", "not valid YAML"},
		"valid YAML":   {"name: x\nroutes: [ { path: /x } ]\n", ""},
		"list of them": {"- name: x\n", "not valid YAML"},
	} {
		_, err := parseDefinition(c.text)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", name, err, c.err)
		}
	}
}

func TestProblems(t *testing.T) {
	res := &apiResult{Status: 422, Body: []byte(`{"error":{"code":"invalid_config","message":"services[3].routes[0].path: must start with \"/\"\nservices[3]: something\nconsumers[0].subscriptions[0]: unknown service \"x\""}}`)}
	want := []problem{{"routes[0].path", `must start with "/"`}, {"(service)", "something"}, {"", `consumers[0].subscriptions[0]: unknown service "x"`}}
	if got := problems(res); !reflect.DeepEqual(got, want) {
		t.Errorf("problems: %+v, want %+v", got, want)
	}
	res = &apiResult{Status: 400, Body: []byte(`{"error":{"code":"invalid_request","message":"a service cannot be renamed","param":"name"}}`)}
	if got := problems(res); len(got) != 1 || got[0].Field != "name" {
		t.Errorf("a refusal with a param: %+v", got)
	}
}

func TestPolicySummary(t *testing.T) {
	p := &config.Policies{RateLimit: &config.RateLimit{RequestsPerSecond: 50, TokensPerMinute: 1000},
		Quota: &config.Quota{RequestsPerDay: 10}, Budget: &config.Budget{USDPerMonth: 5}, IP: &config.IPRules{Allow: []string{"10.0.0.0/8"}}, MaxBodyBytes: 1024}
	want := "rate 50/s, 1000 tokens/min; quota 10 requests/day; budget $5.00/month; IP allow 1, deny 0; body ≤ 1024 B"
	if got := policySummary(p); got != want {
		t.Errorf("policySummary = %q, want %q", got, want)
	}
	if got := policySummary(nil); got != "" {
		t.Errorf("no policies: %q", got)
	}
}

func TestCanaryPercent(t *testing.T) {
	for in, ok := range map[string]bool{"1": true, "99": true, "12.5": true, " 10% ": true, "0": false, "100": false, "": false, "x": false, "0.5": false} {
		if _, err := canaryPercent(in); (err == nil) != ok {
			t.Errorf("canaryPercent(%q): %v", in, err)
		}
	}
}
