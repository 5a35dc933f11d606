package config

import "testing"

func TestStatusPageValidation(t *testing.T) {
	const services = `services:
  - { name: orders-api, upstream: { targets: [ { url: "http://127.0.0.1:9000" } ] }, routes: [ { path: /orders } ] }
  - { name: old-api, state: retired, upstream: { targets: [ { url: "http://127.0.0.1:9000" } ] }, routes: [ { path: /old } ] }
`
	tests := []struct{ name, src, want string }{
		{name: "valid", src: services + `status:
  title: Acme APIs
  services: [orders-api]
  window: 10m
  min_requests: 50
  degraded_error_rate: 0.02
  outage_error_rate: 0.2
  incident_severities: [critical]
`},
		{name: "empty", src: "status: {}\n"},
		{name: "unknown service", src: services + "status: { services: [nope] }\n", want: `status.services[0]: unknown service "nope"`},
		{name: "retired service", src: services + "status: { services: [old-api] }\n",
			want: `status.services[0]: service "old-api" is retired; a retired service is not shown`},
		{name: "service twice", src: services + "status: { services: [orders-api, orders-api] }\n",
			want: `status.services[1]: service "orders-api" is listed twice`},
		{name: "rate above one", src: "status: { degraded_error_rate: 5 }\n", want: "status.degraded_error_rate: must be a fraction above 0 and at most 1"},
		{name: "outage below degraded", src: "status: { degraded_error_rate: 0.6 }\n",
			want: "status.outage_error_rate: 0.5 is below the degraded error rate 0.6"},
		{name: "probe outage below degraded", src: "status: { probe_degraded_rate: 0.5, probe_outage_rate: 0.4 }\n",
			want: "status.probe_outage_rate: 0.4 is below the probe degraded rate 0.5"},
		{name: "window under a minute", src: "status: { window: 30s }\n", want: "status.window: must be between 1m and 24h"},
		{name: "unknown severity", src: "status: { incident_severities: [urgent] }\n",
			want: `status.incident_severities[0]: unknown severity "urgent"; one of low, medium, high, critical`},
		{name: "unknown field", src: "status: { titel: x }\n", want: "titel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParse(t, tt.src, tt.want)
		})
	}
}

// TestStatusPageEmptyIsAbsent checks that an empty section is no section,
// so that it makes no diff.
func TestStatusPageEmptyIsAbsent(t *testing.T) {
	c, err := Parse([]byte("status: { services: [], incident_severities: [] }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != nil {
		t.Fatalf("Status = %+v, want nil", c.Status)
	}
}
