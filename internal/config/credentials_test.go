package config

import (
	"strings"
	"testing"
)

// credentialsBase declares a team and a service for the cases below.
const credentialsBase = `teams: [ { name: payments } ]
services:
  - name: orders
    team: payments
    upstream: { targets: [{url: "http://127.0.0.1:9000"}] }
    routes: [{path: /orders}]
`

func TestWebhookAndJWTValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // one expected error; "" means valid
	}{
		{name: "webhook", src: `    webhook: { url: "https://hooks.example.com/x?team=payments", secret: env:HOOK_SECRET }
`},
		{name: "webhook without a secret", src: `    webhook: { url: "https://hooks.example.com/x" }
`, want: "services[0].webhook.secret: is required"},
		{name: "webhook with a literal secret", src: `    webhook: { url: "https://hooks.example.com/x", secret: s3cr3t }
`, want: "services[0].webhook.secret: secret must be a secret reference"},
		{name: "webhook over ftp", src: `    webhook: { url: "ftp://hooks.example.com/x", secret: env:S }
`, want: "services[0].webhook.url: must be an absolute http or https URL"},
		{name: "webhook with credentials", src: `    webhook: { url: "https://u:p@hooks.example.com/x", secret: env:S }
`, want: "services[0].webhook.url: must not contain credentials"},
		{name: "webhook without a url", src: `    webhook: { secret: env:S }
`, want: "services[0].webhook.url: is required"},
		{name: "webhook with an unknown key", src: `    webhook: { url: "https://h.example.com", secret: env:S, retries: 3 }
`, want: `services[0].webhook.retries: unknown field "retries"`},
		{name: "jwt with a secret", src: `consumers:
  - name: shop
    jwt: { issuer: "https://id.example.com", audience: hypergate, secret: env:SHOP_JWT }
`},
		{name: "jwt with a jwks url", src: `consumers:
  - name: shop
    jwt: { issuer: "https://id.example.com", jwks_url: "https://id.example.com/.well-known/jwks.json" }
`},
		{name: "jwt with both", src: `consumers:
  - name: shop
    jwt: { issuer: i, secret: env:S, jwks_url: "https://id.example.com/jwks" }
`, want: "consumers[0].jwt: set exactly one of secret (HS256) or jwks_url (RS256), not both"},
		{name: "jwt with neither", src: `consumers:
  - name: shop
    jwt: { issuer: i }
`, want: "consumers[0].jwt: set exactly one of secret (HS256) or jwks_url (RS256)"},
		{name: "jwt without an issuer", src: `consumers:
  - name: shop
    jwt: { secret: env:S }
`, want: "consumers[0].jwt.issuer: is required"},
		{name: "jwt with a literal secret", src: `consumers:
  - name: shop
    jwt: { issuer: i, secret: hunter2 }
`, want: "consumers[0].jwt.secret: secret must be a secret reference"},
		{name: "jwt with a jwks url over ftp", src: `consumers:
  - name: shop
    jwt: { issuer: i, jwks_url: "ftp://id.example.com/jwks" }
`, want: "consumers[0].jwt.jwks_url: must be an absolute http or https URL"},
		{name: "two consumers with one issuer", src: `consumers:
  - { name: shop, jwt: { issuer: i, secret: env:A } }
  - { name: app, jwt: { issuer: i, secret: env:B } }
`, want: `consumers[1].jwt.issuer: issuer "i" is already used by consumers[0].jwt`},
		{name: "jwt with an unknown key", src: `consumers:
  - name: shop
    jwt: { issuer: i, secret: env:S, alg: none }
`, want: `consumers[0].jwt.alg: unknown field "alg"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Indented cases continue the service, the others add a section.
			_, err := Parse([]byte(credentialsBase + tt.src))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("no error, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCredentialsRoundTripAndDiff(t *testing.T) {
	src := credentialsBase + `    webhook: { url: "https://hooks.example.com/x", secret: env:HOOK_SECRET }
consumers:
  - name: shop
    jwt: { issuer: "https://id.example.com", audience: hypergate, secret: env:SHOP_JWT }
`
	cfg, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Consumers[0].JWT.Algorithm() != "HS256" || (&ConsumerJWT{JWKSURL: "https://x"}).Algorithm() != "RS256" {
		t.Fatal("Algorithm does not follow the key configured")
	}
	y, err := ToYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(y)
	if err != nil {
		t.Fatalf("the YAML form does not parse back: %v\n%s", err, y)
	}
	if d := Diff(cfg, back); len(d) != 0 {
		t.Fatalf("round trip changed %v", d)
	}
	// A secret pasted in clear never reaches a diff line.
	leaky, _ := Parse([]byte(src))
	leaky.Services[0].Webhook.Secret = "s3cr3t-in-clear"
	leaky.Consumers[0].JWT.Secret = "another-s3cr3t"
	for _, line := range Diff(cfg, leaky) {
		if strings.Contains(line, "s3cr3t") {
			t.Fatalf("diff line shows a secret: %s", line)
		}
	}
	if d := Diff(cfg, leaky); len(d) != 2 {
		t.Fatalf("diff %v, want the two secrets' changes, hidden", d)
	}
}
