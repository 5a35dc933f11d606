package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// validBase declares what the validation cases refer to; each case appends
// its own lines, so line numbers in the expectations start at 8.
const validBase = `providers:
  - name: p
    type: openai
models:
  - name: m
    targets: [{provider: p}]
consumers:
`

// modelBase declares one provider and one model m; the routing cases append
// fields of m, so their line numbers start at 5.
const modelBase = "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n"

// manyTargets declares a model with n targets.
func manyTargets(n int) string {
	var b strings.Builder
	b.WriteString("providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - {provider: p, model: m%d}\n", i)
	}
	return b.String()
}

// TestValidationErrors has one case per validation rule. Each expectation
// is the complete error text: line, path and message.
func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string // appended to validBase unless full is set
		full bool
		want string
	}{
		// Providers.
		{
			name: "provider name required",
			full: true,
			src:  "providers:\n  - type: openai\n",
			want: "line 2: providers[0].name: is required",
		},
		{
			name: "provider name format",
			full: true,
			src:  "providers:\n  - name: OpenAI Main\n    type: openai\n",
			want: `line 2: providers[0].name: invalid name "OpenAI Main": ` + nameRule,
		},
		{
			name: "provider name too long",
			full: true,
			src:  "providers:\n  - name: " + strings.Repeat("a", 64) + "\n    type: openai\n",
			want: `line 2: providers[0].name: invalid name "` + strings.Repeat("a", 64) + `": ` + nameRule,
		},
		{
			name: "provider name duplicate",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n  - name: p\n    type: openai\n",
			want: `line 4: providers[1].name: duplicate provider name "p"`,
		},
		{
			name: "provider type required",
			full: true,
			src:  "providers:\n  - name: p\n",
			want: "line 2: providers[0].type: is required (one of: openai, anthropic, gemini, azure-openai, bedrock, cohere, mistral, groq, deepseek, together, openrouter, xai, fireworks, ollama, vllm)",
		},
		{
			name: "provider type unknown",
			full: true,
			src:  "providers:\n  - name: p\n    type: acme\n",
			want: `line 3: providers[0].type: unknown provider type "acme" (one of: openai, anthropic, gemini, azure-openai, bedrock, cohere, mistral, groq, deepseek, together, openrouter, xai, fireworks, ollama, vllm)`,
		},
		{
			name: "base_url relative",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: api.example.com/v1\n",
			want: "line 4: providers[0].base_url: must be an absolute http or https URL",
		},
		{
			name: "base_url other scheme",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: ftp://example.com/\n",
			want: "line 4: providers[0].base_url: must be an absolute http or https URL",
		},
		{
			name: "base_url without host",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: https:///v1\n",
			want: "line 4: providers[0].base_url: must include a host",
		},
		{
			name: "base_url unparsable",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: \"http://[::1\"\n",
			want: `line 4: providers[0].base_url: invalid URL: "http://[::1": missing ']' in host`,
		},
		{
			name: "base_url with credentials",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: https://user:sk-123@example.com/v1\n",
			want: "line 4: providers[0].base_url: must not contain credentials: use api_key or headers with env:NAME references",
		},
		{
			name: "base_url with query",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    base_url: https://example.com/v1?key=x\n",
			want: "line 4: providers[0].base_url: must not contain a query or fragment",
		},
		{
			name: "literal api_key",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    api_key: sk-abc123\n",
			want: "line 4: providers[0].api_key: api_key must be a secret reference like env:OPENAI_API_KEY; secrets are never stored in clear",
		},
		{
			name: "malformed api_key reference",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    api_key: env:1KEY\n",
			want: "line 4: providers[0].api_key: " + apiKeyMsg,
		},
		{
			name: "api_key and api_keys",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    api_key: env:A\n    api_keys: [env:B]\n",
			want: "line 5: providers[0].api_keys: use either api_key or api_keys, not both",
		},
		{
			name: "literal in api_keys",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    api_keys:\n      - env:A\n      - sk-abc123\n",
			want: "line 6: providers[0].api_keys[1]: " + apiKeysMsg,
		},
		{
			name: "api_keys duplicate",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    api_keys: [env:A, env:A]\n",
			want: "line 4: providers[0].api_keys[1]: env:A is listed twice",
		},
		{
			name: "header credential in clear",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      Authorization: Bearer sk-abc\n",
			want: "line 5: providers[0].headers.Authorization: header Authorization carries a credential: its value must be a secret reference like env:UPSTREAM_TOKEN; secrets are never stored in clear",
		},
		{
			name: "header name invalid",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      \"X Team\": a\n",
			want: "line 5: providers[0].headers.X Team: invalid header name",
		},
		{
			name: "header managed by the gateway",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      Content-Length: \"10\"\n",
			want: "line 5: providers[0].headers.Content-Length: header Content-Length is managed by the gateway and cannot be set",
		},
		{
			name: "header value with newline",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      X-A: \"a\\r\\nX-B: b\"\n",
			want: "line 5: providers[0].headers.X-A: header value contains control characters",
		},
		{
			name: "header malformed reference",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      X-A: env:not-valid\n",
			want: "line 5: providers[0].headers.X-A: malformed secret reference: want env:NAME",
		},
		{
			name: "header set twice with different case",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    headers:\n      X-Team: a\n      x-team: b\n",
			want: "line 6: providers[0].headers.x-team: header x-team is also set as X-Team (header names are case-insensitive)",
		},
		{
			name: "provider timeout negative",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    timeout: -5s\n",
			want: "line 4: providers[0].timeout: must be greater than 0",
		},
		{
			name: "provider timeout zero",
			full: true,
			src:  "providers:\n  - name: p\n    type: openai\n    timeout: 0s\n",
			want: "line 4: providers[0].timeout: must be greater than 0",
		},

		// Models.
		{
			name: "model name required",
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - targets: [{provider: p}]\n",
			full: true,
			want: "line 3: models[0].name: is required",
		},
		{
			name: "model name format",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: gpt 4\n    targets: [{provider: p, model: gpt-4}]\n",
			want: `line 3: models[0].name: invalid model name "gpt 4": ` + modelNameRule,
		},
		{
			name: "model name duplicate",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n  - name: m\n    targets: [{provider: p}]\n",
			want: `line 5: models[1].name: duplicate model name "m"`,
		},
		{
			name: "strategy unknown",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    strategy: random\n    targets: [{provider: p}]\n",
			want: `line 4: models[0].strategy: unknown strategy "random" (one of: weighted, priority, latency)`,
		},
		{
			name: "targets missing",
			full: true,
			src:  "models:\n  - name: m\n",
			want: "line 2: models[0].targets: at least one target is required",
		},
		{
			name: "targets empty",
			full: true,
			src:  "models:\n  - name: m\n    targets: []\n",
			want: "line 3: models[0].targets: at least one target is required",
		},
		{
			name: "target provider required",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets:\n      - {provider: p}\n      - {model: x}\n",
			want: "line 6: models[0].targets[1].provider: is required",
		},
		{
			name: "target provider unknown",
			full: true,
			src: "providers:\n  - name: openai-main\n    type: openai\nmodels:\n  - name: m\n    targets:\n" +
				"      - provider: openai-main\n      - provider: openai-mian\n        model: gpt-4o\n",
			want: `line 8: models[0].targets[1].provider: unknown provider "openai-mian"`,
		},
		{
			name: "target upstream model with spaces",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p, model: \"gpt 4\"}]\n",
			want: `line 4: models[0].targets[0].model: invalid upstream model name "gpt 4": use up to 256 characters without spaces or control characters`,
		},
		{
			name: "target weight negative",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets:\n      - {provider: p, model: a, weight: -1}\n      - {provider: p, model: b}\n",
			want: "line 5: models[0].targets[0].weight: must be 0 or more",
		},
		{
			name: "all weights zero",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets:\n      - {provider: p, weight: 0}\n",
			want: "line 4: models[0].targets: at least one target needs a weight greater than 0",
		},
		{
			name: "target duplicate",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets:\n      - {provider: p}\n      - {provider: p, model: m}\n",
			want: "line 6: models[0].targets[1]: duplicate target p/m",
		},
		{
			name: "model timeout negative",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n    timeout: -1m\n",
			want: "line 5: models[0].timeout: must be greater than 0",
		},
		{
			name: "model timeout zero",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n    timeout: 0s\n",
			want: "line 5: models[0].timeout: must be greater than 0",
		},
		{
			name: "price negative",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n    price:\n      input_per_mtok: 1\n      output_per_mtok: -2\n",
			want: "line 7: models[0].price.output_per_mtok: must be a number, 0 or more",
		},
		{
			name: "price not a number",
			full: true,
			src:  "providers: [{name: p, type: openai}]\nmodels:\n  - name: m\n    targets: [{provider: p}]\n    price: {input_per_mtok: .nan, output_per_mtok: .inf}\n",
			want: "line 5: models[0].price.input_per_mtok: must be a number, 0 or more\nline 5: models[0].price.output_per_mtok: must be a number, 0 or more",
		},

		// Routing: fallbacks, retries, timeouts, breakers.
		{
			name: "strategy latency is known",
			full: true,
			src:  modelBase + "    strategy: latency\n    retry: {attempts: -1}\n",
			want: "line 6: models[0].retry.attempts: must be 0 to 10 (retries after one try per target)",
		},
		{
			name: "too many targets",
			full: true,
			src:  manyTargets(65),
			want: "line 4: models[0].targets: at most 64 targets are allowed, got 65",
		},
		{
			name: "fallback unknown",
			full: true,
			src:  modelBase + "    fallbacks: [gpt-5]\n",
			want: `line 5: models[0].fallbacks[0]: unknown model "gpt-5"`,
		},
		{
			name: "fallback to itself",
			full: true,
			src:  modelBase + "    fallbacks:\n      - m\n",
			want: "line 6: models[0].fallbacks[0]: a model cannot fall back to itself",
		},
		{
			name: "fallback listed twice",
			full: true,
			src:  modelBase + "    fallbacks: [n, n]\n  - name: n\n    targets: [{provider: p}]\n",
			want: `line 5: models[0].fallbacks[1]: model "n" is listed twice`,
		},
		{
			name: "fallbacks form a cycle",
			full: true,
			src: "providers: [{name: p, type: openai}]\nmodels:\n" +
				"  - name: a\n    targets: [{provider: p}]\n    fallbacks: [b]\n" +
				"  - name: b\n    targets: [{provider: p}]\n    fallbacks: [x, c]\n" +
				"  - name: c\n    targets: [{provider: p}]\n    fallbacks:\n      - a\n" +
				"  - name: x\n    targets: [{provider: p}]\n",
			want: "line 12: models[2].fallbacks[0]: fallbacks form a cycle: a -> b -> c -> a",
		},
		{
			name: "two models falling back on each other",
			full: true,
			src:  modelBase + "    fallbacks: [n]\n  - name: n\n    targets: [{provider: p}]\n    fallbacks: [m]\n",
			want: "line 8: models[1].fallbacks[0]: fallbacks form a cycle: m -> n -> m",
		},
		{
			name: "retry attempts above the limit",
			full: true,
			src:  modelBase + "    retry: {attempts: 11}\n",
			want: "line 5: models[0].retry.attempts: must be 0 to 10 (retries after one try per target)",
		},
		{
			name: "retry backoff negative",
			full: true,
			src:  modelBase + "    retry:\n      backoff: -1s\n",
			want: "line 6: models[0].retry.backoff: must be greater than 0",
		},
		{
			name: "retry max_backoff below backoff",
			full: true,
			src:  modelBase + "    retry: {backoff: 2s, max_backoff: 1s}\n",
			want: "line 5: models[0].retry.max_backoff: must be at least backoff (2s)",
		},
		{
			name: "retry max_backoff below the default backoff",
			full: true,
			src:  modelBase + "    retry: {max_backoff: 100ms}\n",
			want: "line 5: models[0].retry.max_backoff: must be at least backoff (200ms)",
		},
		{
			name: "retry_on unknown",
			full: true,
			src:  modelBase + "    retry:\n      retry_on: [server_error, client_error]\n",
			want: `line 6: models[0].retry.retry_on[1]: unknown condition "client_error" (one of: server_error, rate_limited, timeout, connection_error)`,
		},
		{
			name: "retry_on twice",
			full: true,
			src:  modelBase + "    retry:\n      retry_on:\n        - timeout\n        - timeout\n",
			want: "line 8: models[0].retry.retry_on[1]: timeout is listed twice",
		},
		{
			name: "attempt_timeout negative",
			full: true,
			src:  modelBase + "    attempt_timeout: -1s\n",
			want: "line 5: models[0].attempt_timeout: must be greater than 0",
		},
		{
			name: "attempt_timeout beyond the deadline",
			full: true,
			src:  modelBase + "    timeout: 10s\n    attempt_timeout: 30s\n",
			want: "line 6: models[0].attempt_timeout: must not exceed timeout (10s), which bounds the whole call",
		},
		{
			name: "breaker failures negative",
			full: true,
			src:  modelBase + "    breaker: {failures: -1}\n",
			want: "line 5: models[0].breaker.failures: must be 1 or more",
		},
		{
			name: "breaker error_ratio above 1",
			full: true,
			src:  modelBase + "    breaker:\n      error_ratio: 1.5\n",
			want: "line 6: models[0].breaker.error_ratio: must be a number above 0 and at most 1",
		},
		{
			name: "breaker error_ratio negative",
			full: true,
			src:  modelBase + "    breaker: {error_ratio: -0.1}\n",
			want: "line 5: models[0].breaker.error_ratio: must be a number above 0 and at most 1",
		},
		{
			name: "breaker error_ratio not a number",
			full: true,
			src:  modelBase + "    breaker: {error_ratio: .nan}\n",
			want: "line 5: models[0].breaker.error_ratio: must be a number above 0 and at most 1",
		},
		{
			name: "breaker min_requests negative",
			full: true,
			src:  modelBase + "    breaker: {min_requests: -5}\n",
			want: "line 5: models[0].breaker.min_requests: must be 1 or more",
		},
		{
			name: "breaker durations negative",
			full: true,
			src:  modelBase + "    breaker:\n      window: -30s\n      cooldown: -1m\n",
			want: "line 6: models[0].breaker.window: must be greater than 0\nline 7: models[0].breaker.cooldown: must be greater than 0",
		},

		// Consumers.
		{
			name: "consumer name required",
			src:  "  - models: []\n",
			want: "line 8: consumers[0].name: is required",
		},
		{
			name: "consumer name format",
			src:  "  - name: Web_Shop!\n",
			want: `line 8: consumers[0].name: invalid name "Web_Shop!": ` + nameRule,
		},
		{
			name: "consumer name duplicate",
			src:  "  - name: c\n  - name: c\n",
			want: `line 9: consumers[1].name: duplicate consumer name "c"`,
		},
		{
			name: "key name required",
			src:  "  - name: c\n    keys:\n      - key: env:C_KEY\n",
			want: "line 10: consumers[0].keys[0].name: is required",
		},
		{
			name: "key name format",
			src:  "  - name: c\n    keys:\n      - {name: Default Key, key: env:C_KEY}\n",
			want: `line 10: consumers[0].keys[0].name: invalid name "Default Key": ` + nameRule,
		},
		{
			name: "key name duplicate",
			src:  "  - name: c\n    keys:\n      - {name: k, key: env:A}\n      - {name: k, key: env:B}\n",
			want: `line 11: consumers[0].keys[1].name: duplicate key name "k"`,
		},
		{
			name: "key required",
			src:  "  - name: c\n    keys:\n      - name: k\n",
			want: "line 10: consumers[0].keys[0].key: is required",
		},
		{
			name: "literal key",
			src:  "  - name: c\n    keys:\n      - name: k\n        key: hg-abcdefgh\n",
			want: "line 11: consumers[0].keys[0].key: key must be a secret reference like env:WEB_SHOP_KEY; secrets are never stored in clear",
		},
		{
			name: "key shared between consumers",
			src:  "  - name: a\n    keys: [{name: k, key: env:SHARED}]\n  - name: b\n    keys: [{name: k, key: env:SHARED}]\n",
			want: "line 11: consumers[1].keys[0].key: env:SHARED is already used by consumers[0].keys[0]",
		},
		{
			name: "allowed model unknown",
			src:  "  - name: c\n    models:\n      - m\n      - gpt-5\n",
			want: `line 11: consumers[0].models[1]: unknown model "gpt-5"`,
		},
		{
			name: "allowed model twice",
			src:  "  - name: c\n    models: [m, m]\n",
			want: `line 9: consumers[0].models[1]: model "m" is listed twice`,
		},
		{
			name: "body_max_bytes negative",
			src:  "  - name: c\n    body_max_bytes: -1\n",
			want: "line 9: consumers[0].body_max_bytes: must be 0 or more",
		},

		// Several problems are reported together, in file order.
		{
			name: "all problems at once",
			full: true,
			src: `providers:
  - name: p
    type: openai
    api_key: sk-live-123
models:
  - name: m
    strategy: fastest
    targets: [{provider: q}]
consumers:
  - name: c
    models: [n]
`,
			want: "line 4: providers[0].api_key: " + apiKeyMsg + "\n" +
				`line 7: models[0].strategy: unknown strategy "fastest" (one of: weighted, priority, latency)` + "\n" +
				`line 8: models[0].targets[0].provider: unknown provider "q"` + "\n" +
				`line 11: consumers[0].models[0]: unknown model "n"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if !tc.full {
				src = validBase + src
			}
			if got := parseErr(t, src); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			if strings.Contains(parseErr(t, src), "sk-") {
				t.Errorf("the error quotes a secret")
			}
		})
	}
}

func TestValidBase(t *testing.T) {
	mustParse(t, validBase)
}

// TestValidateInGo covers configurations built in code: no lines, and no
// complaint about fields ApplyDefaults would fill.
func TestValidateInGo(t *testing.T) {
	c := &Config{
		Providers: []Provider{{Name: "p", Type: ProviderOpenAI}},
		Models:    []Model{{Name: "m", Targets: []Target{{Provider: "p", Weight: 1}}}},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate before defaults: %v", err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after defaults: %v", err)
	}

	c.Models[0].Targets[0].Weight = 0 // in Go, 0 means 0
	c.Consumers = []Consumer{{Name: "c", Keys: []ConsumerKey{{Name: "k", Key: "hg-literal"}}}}
	err := c.Validate()
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate: got %T (%v), want *Errors", err, err)
	}
	want := "models[0].targets: at least one target needs a weight greater than 0\n" +
		"consumers[0].keys[0].key: " + consumerKeyMsg
	if got := err.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, e := range *errs {
		if e.Line != 0 {
			t.Errorf("%v: Line %d, want 0 outside a file", e, e.Line)
		}
	}

	var empty Config
	if err := empty.Validate(); err != nil {
		t.Errorf("empty configuration: %v", err)
	}
}
