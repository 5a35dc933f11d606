package config

import (
	"strings"
	"testing"
)

// servicesBase declares what the cases below refer to.
const servicesBase = `providers:
  - { name: p, type: openai, api_key: env:K }
models:
  - { name: m, targets: [{provider: p}] }
teams:
  - name: payments
`

func TestServiceValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		cfg  string // more models, when set
		want string // one expected error line; "" means valid
	}{
		{name: "minimal rest service", src: `services:
  - name: orders
    upstream: { targets: [{url: "http://127.0.0.1:9000"}] }
    routes: [{path: /orders}]
`},
		{name: "ai service", src: `services:
  - { name: bot, kind: ai, models: [m], routes: [{path: /bot}] }
`},
		{name: "unknown team", src: `services:
  - { name: orders, team: nobody, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o}] }
`, want: `line 8: services[0].team: unknown team "nobody": declare it under teams`},
		{name: "consumer team must be declared", src: `consumers:
  - { name: c, team: sales }
`, want: `line 8: consumers[0].team: unknown team "sales": declare it under teams`},
		{name: "rest without upstream", src: `services:
  - { name: orders, routes: [{path: /o}] }
`, want: "services[0].upstream: a rest service needs an upstream with at least one target"},
		{name: "ai with unknown model", src: `services:
  - { name: bot, kind: ai, models: [nope], routes: [{path: /bot}] }
`, want: `services[0].models[0]: unknown model "nope"`},
		{name: "no routes", src: `services:
  - { name: orders, upstream: { targets: [{url: "http://a"}] } }
`, want: "services[0].routes: a service needs at least one route"},
		{name: "reserved path", src: `services:
  - { name: orders, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /v1/orders}] }
`, want: "services[0].routes[0].path: /v1 is reserved for the gateway's own endpoints"},
		{name: "parameter not whole segment", src: `services:
  - { name: orders, upstream: { targets: [{url: "http://a"}] }, routes: [{path: "/o/x{id}"}] }
`, want: "a parameter takes a whole segment, like /orders/{id}"},
		{name: "rewrite with unknown parameter", src: `services:
  - { name: orders, upstream: { targets: [{url: "http://a"}] }, routes: [{path: "/o/{id}", rewrite: "/v2/{oid}"}] }
`, want: "services[0].routes[0].rewrite: {oid} is not a parameter of the route's path"},
		{name: "conflicting routes across services", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a"}] }, routes: [{path: "/o/{id}", methods: [GET]}] }
  - { name: b, upstream: { targets: [{url: "http://b"}] }, routes: [{path: "/o/{x}", methods: [get, post]}] }
`, want: "services[1].routes[0].path: route conflicts with services[0].routes[0]: same host, path and methods"},
		{name: "same path on other hosts is fine", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o, hosts: [a.example.com]}] }
  - { name: b, upstream: { targets: [{url: "http://b"}] }, routes: [{path: /o, hosts: [b.example.com]}] }
`},
		{name: "wildcard origin with credentials", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o, cors: {origins: ["*"], credentials: true}}] }
`, want: `services[0].routes[0].cors.origins[0]: "*" cannot be used with credentials`},
		{name: "hash_on without hash", src: `services:
  - { name: a, upstream: { hash_on: client_ip, targets: [{url: "http://a"}] }, routes: [{path: /o}] }
`, want: "services[0].upstream.hash_on: only balance: hash uses hash_on"},
		{name: "all weights zero", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a", weight: 0}] }, routes: [{path: /o}] }
`, want: "every target has weight 0"},
		{name: "literal credential header", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o, request_headers: {set: {Authorization: "Bearer x"}}}] }
`, want: "its value must be a secret reference"},
		{name: "bad ip rule", src: `services:
  - { name: a, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o}], policies: {ip: {deny: [10.0.0.300]}} }
`, want: `services[0].policies.ip.deny[0]: want an IP address or CIDR prefix like 10.0.0.0/8, got "10.0.0.300"`},
		{name: "empty rate limit", src: `consumers:
  - { name: c, policies: {rate_limit: {}} }
`, want: "consumers[0].policies.rate_limit: set at least one of"},
		{name: "negative budget", src: `consumers:
  - { name: c, policies: {budget: {usd_per_day: -1}} }
`, want: "consumers[0].policies.budget.usd_per_day: must be 0 (no limit) or more"},
		{name: "subscription policies", src: `services:
  - { name: orders, upstream: { targets: [{url: "http://a"}] }, routes: [{path: /o}] }
consumers:
  - { name: c, subscriptions: [orders], subscription_policies: { orders: { quota: { requests_per_day: 100 } } } }
`},
		{name: "subscription policies of an unknown service", src: `consumers:
  - { name: c, subscription_policies: { nope: { quota: { requests_per_day: 100 } } } }
`, want: `consumers[0].subscription_policies.nope: unknown service "nope"`},
		{name: "unknown subscription", src: `consumers:
  - { name: c, subscriptions: [nope] }
`, want: `consumers[0].subscriptions[0]: unknown service "nope"`},
		{name: "model cache", src: "", cfg: `  - { name: c, targets: [{provider: p}], cache: {ttl: 10m, shared: true} }
`},
		{name: "model cache without ttl", cfg: `  - { name: c, targets: [{provider: p}], cache: {shared: true} }
`, want: "models[1].cache.ttl: is required"},
		{name: "azure api_version", src: `  - { name: az, type: azure-openai, base_url: "https://r.openai.azure.com/openai", api_key: env:AZ, api_version: 2025-04-01-preview }
`},
		{name: "api_version on another type", src: `  - { name: o, type: openai, api_key: env:O, api_version: 2025-04-01-preview }
`, want: "providers[1].api_version: only azure-openai providers take an api_version"},
		{name: "malformed api_version", src: `  - { name: az, type: azure-openai, base_url: "https://r.openai.azure.com/openai", api_key: env:AZ, api_version: latest }
`, want: `providers[1].api_version: want an Azure api-version like 2024-10-21 or 2025-04-01-preview, got "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := servicesBase + tt.src
			if strings.HasPrefix(tt.src, "  - ") { // more providers
				src = strings.Replace(servicesBase, "models:\n", tt.src+"models:\n", 1)
			}
			if tt.cfg != "" {
				src = strings.Replace(src, "teams:\n", tt.cfg+"teams:\n", 1)
			}
			_, err := Parse([]byte(src))
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
