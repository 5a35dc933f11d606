package config

import (
	"reflect"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	base := func() *Config {
		return &Config{
			Providers: []Provider{
				{Name: "openai-main", Type: ProviderOpenAI, BaseURL: "https://api.openai.com/v1", APIKey: "env:OPENAI_API_KEY", Timeout: DefaultTimeout},
			},
			Models: []Model{
				{Name: "gpt-4o-mini", Strategy: StrategyWeighted, Timeout: Duration(30 * time.Second),
					Targets: []Target{{Provider: "openai-main", Model: "gpt-4o-mini", Weight: 1}},
					Price:   &Price{InputPerMTok: 0.15, OutputPerMTok: 0.6}},
				{Name: "gpt-4", Strategy: StrategyWeighted,
					Targets: []Target{{Provider: "openai-main", Model: "gpt-4", Weight: 1}}},
			},
			Consumers: []Consumer{
				{Name: "web-shop", Team: "payments", Models: []string{"a"}},
			},
		}
	}
	boolp := func(b bool) *bool { return &b }
	intp := func(i int) *int { return &i }
	cases := []struct {
		name     string
		defaults bool // apply the defaults to both sides first
		change   func(c *Config)
		want     []string
	}{
		{
			name:   "equal",
			change: func(*Config) {},
			want:   nil,
		},
		{
			name:   "reordered entities are equal",
			change: func(c *Config) { c.Models[0], c.Models[1] = c.Models[1], c.Models[0] },
			want:   nil,
		},
		{
			name:   "empty and absent lists are equal",
			change: func(c *Config) { c.Consumers[0].Keys = []ConsumerKey{} },
			want:   nil,
		},
		{
			name: "provider added",
			change: func(c *Config) {
				c.Providers = append(c.Providers, Provider{Name: "local", Type: ProviderOpenAI})
			},
			want: []string{"+ provider local"},
		},
		{
			name:   "model removed",
			change: func(c *Config) { c.Models = c.Models[:1] },
			want:   []string{"- model gpt-4"},
		},
		{
			name:   "model timeout changed",
			change: func(c *Config) { c.Models[0].Timeout = Duration(time.Minute) },
			want:   []string{"~ model gpt-4o-mini: timeout: 30s -> 1m"},
		},
		{
			name:   "consumer models changed",
			change: func(c *Config) { c.Consumers[0].Models = []string{"a", "b"} },
			want:   []string{"~ consumer web-shop: models: [a] -> [a b]"},
		},
		{
			name:   "secret reference changed",
			change: func(c *Config) { c.Providers[0].APIKey = "env:OPENAI_KEY_2" },
			want:   []string{"~ provider openai-main: api_key: env:OPENAI_API_KEY -> env:OPENAI_KEY_2"},
		},
		{
			name: "target weight changed",
			change: func(c *Config) {
				c.Models[1].Targets[0].Weight = 3
			},
			want: []string{"~ model gpt-4: targets: [{provider: openai-main, model: gpt-4, weight: 1}] -> [{provider: openai-main, model: gpt-4, weight: 3}]"},
		},
		{
			name: "optional values set",
			change: func(c *Config) {
				c.Models[1].Price = &Price{InputPerMTok: 30, OutputPerMTok: 60}
				c.Models[1].LogBodies = boolp(false)
				c.Consumers[0].BodyMaxBytes = intp(1024)
			},
			want: []string{
				"~ model gpt-4: price: none -> {input_per_mtok: 30, output_per_mtok: 60}",
				"~ model gpt-4: log_bodies: none -> false",
				"~ consumer web-shop: body_max_bytes: none -> 1024",
			},
		},
		{
			name: "routing set",
			change: func(c *Config) {
				c.Models[0].Fallbacks = []string{"gpt-4"}
				c.Models[0].AttemptTimeout = Duration(10 * time.Second)
				c.Models[0].Strategy = StrategyLatency
				c.Models[1].Retry = &Retry{Attempts: 2, Backoff: Duration(time.Second)}
			},
			want: []string{
				"~ model gpt-4: retry: none -> {attempts: 2, backoff: 1s}",
				"~ model gpt-4o-mini: strategy: weighted -> latency",
				"~ model gpt-4o-mini: fallbacks: [] -> [gpt-4]",
				"~ model gpt-4o-mini: attempt_timeout: 0s -> 10s",
			},
		},
		{
			name:     "nested structures compared field by field",
			defaults: true,
			change: func(c *Config) {
				c.Models[0].Retry.Attempts = 3
				c.Models[0].Retry.RetryOn = []string{RetryOnServerError}
				c.Models[0].Breaker.Cooldown = Duration(time.Minute)
				c.Models[0].Breaker.Disabled = true
				c.Models[0].Price.OutputPerMTok = 0.8
			},
			want: []string{
				"~ model gpt-4o-mini: retry.attempts: 0 -> 3",
				"~ model gpt-4o-mini: retry.retry_on: [server_error rate_limited timeout connection_error] -> [server_error]",
				"~ model gpt-4o-mini: breaker.cooldown: 30s -> 1m",
				"~ model gpt-4o-mini: breaker.disabled: false -> true",
				"~ model gpt-4o-mini: price.output_per_mtok: 0.6 -> 0.8",
			},
		},
		{
			name: "headers and quoted text",
			change: func(c *Config) {
				c.Providers[0].Headers = map[string]string{"X-B": "two words", "X-A": "env:TOKEN"}
				c.Consumers[0].Team = ""
			},
			want: []string{
				`~ provider openai-main: headers: {} -> {X-A: env:TOKEN, X-B: "two words"}`,
				`~ consumer web-shop: team: payments -> ""`,
			},
		},
		{
			name: "several entities, sorted by section then name",
			change: func(c *Config) {
				c.Consumers = append(c.Consumers, Consumer{Name: "api"})
				c.Models = append(c.Models, Model{Name: "claude", Targets: []Target{{Provider: "openai-main", Weight: 1}}})
				c.Models = c.Models[1:]
				c.Providers[0].Timeout = Duration(2 * time.Minute)
			},
			want: []string{
				"~ provider openai-main: timeout: 1m -> 2m",
				"+ model claude",
				"- model gpt-4o-mini",
				"+ consumer api",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to := base(), base()
			if tc.defaults {
				from.ApplyDefaults()
				to.ApplyDefaults()
			}
			tc.change(to)
			if got := Diff(from, to); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

// TestDiffHidesLiteralSecrets covers invalid configurations, such as a file
// being checked before it is applied: a literal where a reference belongs is
// never printed.
func TestDiffHidesLiteralSecrets(t *testing.T) {
	from := &Config{
		Providers: []Provider{{Name: "p", APIKey: "env:A"}},
		Consumers: []Consumer{{Name: "c"}},
	}
	to := &Config{
		Providers: []Provider{{Name: "p", APIKey: "sk-live-1", APIKeys: []string{"env:B", "sk-live-2"},
			Headers: map[string]string{"Authorization": "Bearer sk-live-3", "X-Team": "payments"}}},
		Consumers: []Consumer{{Name: "c", Keys: []ConsumerKey{{Name: "k", Key: "hg-live-4"}}}},
	}
	want := []string{
		"~ provider p: api_key: env:A -> <literal value hidden>",
		"~ provider p: api_keys: [] -> [env:B <literal value hidden>]",
		"~ provider p: headers: {} -> {Authorization: <literal value hidden>, X-Team: payments}",
		"~ consumer c: keys: [] -> [{name: k, key: <literal value hidden>}]",
	}
	if got := Diff(from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestDiffNil(t *testing.T) {
	if got := Diff(nil, &Config{}); got != nil {
		t.Errorf("nil vs empty: got %q", got)
	}
	c := &Config{Providers: []Provider{{Name: "p"}}, Consumers: []Consumer{{Name: "c"}}}
	if got, want := Diff(nil, c), []string{"+ provider p", "+ consumer c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("from nil: got %q, want %q", got, want)
	}
	if got, want := Diff(c, nil), []string{"- provider p", "- consumer c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("to nil: got %q, want %q", got, want)
	}
}

func TestDiffFiles(t *testing.T) {
	from := mustParse(t, string(readFile(t, "full.yaml")))
	to := mustParse(t, `
providers:
  - name: openai-main
    type: openai
    api_key: env:OPENAI_API_KEY
    timeout: 45s
models:
  - name: gpt-4o-mini
    targets: [{provider: openai-main, weight: 3}]
    retry: {attempts: 1, backoff: 250ms, max_backoff: 4s, retry_on: [server_error, rate_limited, timeout]}
    timeout: 30s
    attempt_timeout: 10s
    breaker: {failures: 3, error_ratio: 0.25, min_requests: 10, window: 1m, cooldown: 15s}
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
consumers:
  - name: web-shop
    team: payments
    keys: [{name: default, key: env:WEB_SHOP_KEY}]
    models: [gpt-4o-mini]
    body_max_bytes: 65536
teams:
  - name: payments
`)
	want := []string{
		"- provider local-vllm",
		"~ provider openai-main: timeout: 1m -> 45s",
		"- provider openai-pool",
		"- model chat-fast",
		"~ model gpt-4o-mini: targets: [{provider: openai-main, model: gpt-4o-mini, weight: 3} {provider: openai-pool, model: gpt-4o-mini, weight: 1} {provider: local-vllm, model: meta-llama/Llama-3.1-8B-Instruct, weight: 0}] -> [{provider: openai-main, model: gpt-4o-mini, weight: 3}]",
		"~ model gpt-4o-mini: fallbacks: [llama3:8b] -> []",
		"~ model gpt-4o-mini: retry.attempts: 2 -> 1",
		"- model llama3:8b",
		"- consumer playground",
		"- consumer support-bot",
		"~ consumer web-shop: keys: [{name: default, key: env:WEB_SHOP_KEY} {name: ci, key: env:WEB_SHOP_CI_KEY}] -> [{name: default, key: env:WEB_SHOP_KEY}]",
		"~ consumer web-shop: subscriptions: [orders-api] -> []",
		"~ consumer web-shop: policies: {rate_limit: {requests_per_minute: 100, tokens_per_minute: 50000}, quota: {requests_per_day: 10000, tokens_per_month: 5000000}, budget: {usd_per_month: 200, warn_at: 0.8}} -> none",
		"~ consumer web-shop: jwt: {issuer: https://id.shop.example.com, audience: hypergate, secret: env:WEB_SHOP_JWT_SECRET} -> none",
		"- team customer-support",
		`~ team payments: description: "Checkout, orders and refunds" -> ""`,
		"- service orders-api",
		"- service support-bot",
		"- prompt classify",
		"- prompt summarize",
		"- notifier chat",
		"- notifier mail",
		"- notifier ops",
		"- alert errors-high",
		"- alert slow-answers",
		"- probe chat-canary",
		"- probe orders-health",
		"- hypercare window summarize-v2",
		"- hypercare window support-bot-v2",
		"- score category",
		"- score helpful",
		"- score note",
		"- score rating",
		"- review queue checkout-errors",
		"- review queue unhelpful-answers",
		"~ detectors: disabled: [language_mismatch] -> []",
		`~ detectors: refusal: {phrases: ["I cannot help with that" "Je ne peux pas vous aider"]} -> none`,
		"~ detectors: repetition: {ngram: 4, threshold: 0.3} -> none",
		"~ detectors: long_output: {min_samples: 50, quantile: 0.99} -> none",
		"~ detectors: latency_outlier: {k: 4, min_samples: 30} -> none",
		"~ detectors: ttft_outlier: {k: 4, min_excess: 200ms} -> none",
		"~ detectors: error_burst: {window: 2m, min_errors: 10, min_share: 0.3} -> none",
		"~ triage: notify: [ops chat] -> []",
		"~ triage: severity: {5xx: critical, negative_feedback: high, refusal: low} -> {}",
		`~ status: title: "Acme APIs" -> ""`,
		"~ status: services: [orders-api support-bot] -> []",
		"~ status: window: 5m -> 0s",
		"~ status: min_requests: 20 -> 0",
		"~ status: degraded_error_rate: 0.05 -> 0",
		"~ status: outage_error_rate: 0.5 -> 0",
		"~ status: probe_degraded_rate: 0.25 -> 0",
		"~ status: probe_outage_rate: 1 -> 0",
		"~ status: min_probe_runs: 2 -> 0",
		"~ status: incident_severities: [critical high] -> []",
	}
	if got := Diff(from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}
