package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/llm"
)

// routingConfig is the base configuration plus models that exercise
// retries, fallbacks, breakers and key pools against the fake upstream.
const routingConfig = `
providers:
  - name: fake
    type: openai
    base_url: %[1]s
    api_key: env:TEST_UPSTREAM_KEY
    timeout: 20s
  - name: pooled
    type: openai
    base_url: %[1]s
    api_keys: [env:TEST_POOL_KEY_1, env:TEST_POOL_KEY_2]
models:
  - { name: backup, targets: [ { provider: fake, model: gpt-4o-mini } ] }
  - name: primary
    targets: [ { provider: fake, model: broken-model } ]
    fallbacks: [backup]
    breaker: { disabled: true }
  - name: flaky
    targets: [ { provider: fake, model: flaky-model } ]
    retry: { attempts: 1, backoff: 10ms }
  - name: hangs
    targets: [ { provider: fake, model: slow } ]
    attempt_timeout: 300ms
    timeout: 10s
    fallbacks: [backup]
  - name: fragile
    targets: [ { provider: fake, model: fragile-model } ]
    breaker: { failures: 2, cooldown: 1s }
  - name: keyed
    targets: [ { provider: pooled, model: gpt-4o-mini } ]
    retry: { attempts: 1, backoff: 10ms }
consumers:
  - name: shop
    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]
`

func TestRouting(t *testing.T) {
	t.Setenv("TEST_POOL_KEY_1", "sk-pool-one-0123456789abcdef")
	t.Setenv("TEST_POOL_KEY_2", "sk-pool-two-0123456789abcdef")
	e := start(t)
	var res struct {
		Changed bool `json:"changed"`
	}
	if st := e.adminDo("PUT", "/admin/v1/config", fmt.Sprintf(routingConfig, e.up.BaseURL()), &res); st != 200 || !res.Changed {
		t.Fatalf("applying the routing configuration: %d", st)
	}
	chat := func(model string, hdr ...string) (int, string, string) {
		t.Helper()
		resp, body := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", model, 1), hdr...)
		return resp.StatusCode, resp.Header.Get("X-Request-Id"), string(body)
	}

	t.Run("a 500 falls back, and the record shows both attempts", func(t *testing.T) {
		e.up.Fail("broken-model", 500)
		defer e.up.Heal("broken-model")
		st, id, body := chat("primary")
		if st != 200 || gjson.Get(body, "choices.0.message.content").Str != "Hello there!" {
			t.Fatalf("status %d: %s", st, body)
		}
		rec := e.call(id)
		if !rec.Fallback || len(rec.Attempts) != 2 || rec.Attempts[0].Status != 500 || rec.Attempts[0].UpstreamModel != "broken-model" ||
			rec.Attempts[1].Status != 200 || rec.Attempts[1].UpstreamModel != "gpt-4o-mini" || rec.Model != "primary" {
			t.Errorf("record = fallback %v, attempts %+v", rec.Fallback, rec.Attempts)
		}
	})

	t.Run("a 429 with Retry-After is retried after the delay", func(t *testing.T) {
		e.up.FailNext("flaky-model", 429, 1)
		began := time.Now()
		st, id, body := chat("flaky")
		took := time.Since(began)
		if st != 200 {
			t.Fatalf("status %d: %s", st, body)
		}
		if took < 900*time.Millisecond {
			t.Errorf("answered after %v: the upstream's Retry-After of 1s was not honoured", took)
		}
		rec := e.call(id)
		if len(rec.Attempts) != 2 || rec.Attempts[0].Status != 429 || rec.Attempts[1].Status != 200 || rec.Fallback {
			t.Errorf("attempts = %+v", rec.Attempts)
		}
	})

	t.Run("an upstream that hangs times out per attempt, then falls back", func(t *testing.T) {
		began := time.Now()
		st, id, body := chat("hangs")
		if st != 200 {
			t.Fatalf("status %d: %s", st, body)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("took %v: the 300ms attempt timeout did not cut the hanging attempt", took)
		}
		rec := e.call(id)
		if len(rec.Attempts) != 2 || rec.Attempts[0].ErrorType != "upstream_timeout" || !rec.Fallback {
			t.Errorf("attempts = %+v", rec.Attempts)
		}
	})

	t.Run("a rate-limited key is set aside and another key used", func(t *testing.T) {
		e.up.FailKey("sk-pool-one-0123456789abcdef", 429)
		defer e.up.Heal("sk-pool-one-0123456789abcdef")
		var ids []string
		for i := 0; i < 3; i++ {
			st, id, body := chat("keyed")
			if st != 200 {
				t.Fatalf("call %d: status %d: %s", i, st, body)
			}
			ids = append(ids, id)
		}
		first := e.call(ids[0])
		keys := ""
		for _, a := range first.Attempts {
			keys += fmt.Sprintf("%s:%d ", a.KeyID, a.Status)
		}
		for _, id := range ids[1:] {
			rec := e.call(id)
			if len(rec.Attempts) != 1 || rec.Attempts[0].KeyID != "pooled#2" {
				t.Errorf("after the 429, call %s used %+v; the set-aside key should be skipped", id, rec.Attempts)
			}
		}
		if strings.Contains(keys, "sk-") {
			t.Errorf("a key's secret reached the record: %s", keys)
		}
	})

	t.Run("a breaker opens after failures and closes once the target recovers", func(t *testing.T) {
		e.up.Fail("fragile-model", 500)
		for i := 0; i < 2; i++ {
			if st, _, body := chat("fragile"); st != 500 {
				t.Fatalf("failure %d: status %d: %s", i, st, body)
			}
		}
		before := len(e.up.Requests())
		st, id, body := chat("fragile")
		if st != 503 || gjson.Get(body, "error.code").Str != "no_upstream_available" {
			t.Fatalf("with the breaker open: status %d: %s", st, body)
		}
		if n := len(e.up.Requests()); n != before {
			t.Errorf("the upstream got %d requests while its breaker was open", n-before)
		}
		if rec := e.call(id); len(rec.Attempts) != 0 {
			t.Errorf("attempts while open = %+v", rec.Attempts)
		}
		e.up.Heal("fragile-model")
		time.Sleep(1200 * time.Millisecond) // the cooldown
		for i := 0; i < 2; i++ {
			if st, _, body := chat("fragile"); st != 200 {
				t.Fatalf("after recovery, call %d: status %d: %s", i, st, body)
			}
		}
	})
}

func TestCountTokensEstimatedForOtherFormats(t *testing.T) {
	e := start(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"estimated over an OpenAI upstream", `{"model":"gpt-4o-mini","system":"Be brief.","messages":[{"role":"user","content":"How many tokens is this sentence?"}]}`, 200},
		{"unknown model", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, 404},
		{"not JSON", `{"model":`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do("POST", "/v1/messages/count_tokens", shopKey, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tc.status != 200 {
				if gjson.GetBytes(body, "type").Str != "error" || gjson.GetBytes(body, "error.message").Str == "" {
					t.Errorf("error not in Anthropic's shape: %s", body)
				}
				return
			}
			if n := gjson.GetBytes(body, "input_tokens").Int(); n < 10 || n > 40 || resp.Header.Get("X-Hypergate-Estimated") != "true" {
				t.Errorf("count = %s (estimated header %q)", body, resp.Header.Get("X-Hypergate-Estimated"))
			}
		})
	}
}

func TestPricesFileOverridesBuiltins(t *testing.T) {
	prices := filepath.Join(t.TempDir(), "prices.yaml")
	if err := os.WriteFile(prices, []byte(`taken: "2026-11-27"
families:
  - name: Negotiated
    source: our contract with the provider
    models:
      - {name: gpt-4o-mini, input_per_mtok: 1000, output_per_mtok: 2000}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	defer llm.SetPriceOverrides(nil) // the table is process-wide; leave it as other tests expect
	e := start(t, func(s *app.Settings) { s.PricesFile = prices })
	resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
	rec := e.call(resp.Header.Get("X-Request-Id"))
	// 12 input and 5 output tokens at the negotiated price.
	if want := (12*1000 + 5*2000) / 1e6; rec.CostUSD < want*0.999 || rec.CostUSD > want*1.001 {
		t.Errorf("cost = %v, want %v from the prices file", rec.CostUSD, want)
	}
}

// Azure OpenAI: deployment URLs with api-version and the api-key header;
// the body passes through with the deployment as the model.
func TestAzureOpenAIDeployments(t *testing.T) {
	var gotPath, gotQuery, gotKey, gotAuth, gotModel string
	azure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotKey, gotAuth = r.URL.Path, r.URL.RawQuery, r.Header.Get("api-key"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotModel = gjson.GetBytes(b, "model").Str
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-az","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"from azure"}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`)
	}))
	defer azure.Close()
	t.Setenv("TEST_AZURE_KEY", "azure-secret-0123456789")
	e := start(t)
	cfg := fmt.Sprintf(`
providers:
  - { name: az, type: azure-openai, base_url: "%s/openai", api_key: env:TEST_AZURE_KEY }
models:
  - { name: gpt-4o, targets: [ { provider: az, model: prod-gpt4o } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
`, azure.URL)
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
		t.Fatalf("applying: %d", st)
	}
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "gpt-4o", 1))
	if resp.StatusCode != 200 || gjson.GetBytes(body, "choices.0.message.content").Str != "from azure" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if gotPath != "/openai/deployments/prod-gpt4o/chat/completions" || !strings.HasPrefix(gotQuery, "api-version=") ||
		gotKey != "azure-secret-0123456789" || gotAuth != "" || gotModel != "prod-gpt4o" {
		t.Errorf("upstream saw path %q query %q api-key %q authorization %q model %q", gotPath, gotQuery, gotKey, gotAuth, gotModel)
	}
}

// Bedrock through the gateway: an OpenAI client, the request translated to
// Converse and signed with SigV4, the answer translated back.
func TestBedrockConverseThroughOpenAIClient(t *testing.T) {
	var gotPath, gotAuth string
	var gotBody []byte
	bedrock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.EscapedPath(), r.Header.Get("Authorization")
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"from bedrock"}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`)
	}))
	defer bedrock.Close()
	t.Setenv("TEST_BEDROCK_CREDENTIALS", "AKIDEXAMPLE:bedrock-secret-0123456789")
	e := start(t)
	cfg := fmt.Sprintf(`
providers:
  - { name: aws, type: bedrock, base_url: "%s", api_key: env:TEST_BEDROCK_CREDENTIALS }
models:
  - { name: claude, targets: [ { provider: aws, model: "anthropic.claude-3-5-haiku-20241022-v1:0" } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
`, bedrock.URL)
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
		t.Fatalf("applying: %d", st)
	}
	// logit_bias has no counterpart in Converse: dropped on purpose, and recorded.
	resp, body := e.do("POST", "/v1/chat/completions", shopKey,
		`{"model":"claude","logit_bias":{"50256":-100},"messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 || gjson.GetBytes(body, "choices.0.message.content").Str != "from bedrock" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if gotPath != "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse" ||
		!strings.HasPrefix(gotAuth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || strings.Contains(gotAuth, "bedrock-secret") ||
		gjson.GetBytes(gotBody, "messages.0.content.0.text").Str != "hello" {
		t.Errorf("upstream saw path %q auth %q body %s", gotPath, gotAuth, gotBody)
	}
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.InputTokens != 3 || rec.OutputTokens != 2 || rec.Provider != "aws" {
		t.Errorf("record = %+v", rec)
	}
	if !strings.Contains(strings.Join(rec.Dropped, ","), "logit_bias") {
		t.Errorf("dropped fields = %v, want logit_bias listed", rec.Dropped)
	}
}

// Cohere through the gateway: an Anthropic-format client translated to v2
// chat and back.
func TestCohereThroughMessagesAPI(t *testing.T) {
	var gotPath, gotAuth string
	var gotBody []byte
	cohere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"from cohere"}]},"usage":{"billed_units":{"input_tokens":3,"output_tokens":2},"tokens":{"input_tokens":10,"output_tokens":2}}}`)
	}))
	defer cohere.Close()
	t.Setenv("TEST_COHERE_KEY", "cohere-secret-0123456789")
	e := start(t)
	cfg := fmt.Sprintf(`
providers:
  - { name: co, type: cohere, base_url: "%s/v2", api_key: env:TEST_COHERE_KEY }
models:
  - { name: command, targets: [ { provider: co, model: command-a-03-2025 } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
`, cohere.URL)
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
		t.Fatalf("applying: %d", st)
	}
	resp, body := e.do("POST", "/v1/messages", shopKey,
		`{"model":"command","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 || gjson.GetBytes(body, "content.0.text").Str != "from cohere" || gjson.GetBytes(body, "type").Str != "message" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if gotPath != "/v2/chat" || gotAuth != "Bearer cohere-secret-0123456789" ||
		gjson.GetBytes(gotBody, "messages.0.role").Str != "system" || gjson.GetBytes(gotBody, "model").Str != "command-a-03-2025" {
		t.Errorf("upstream saw path %q auth %q body %s", gotPath, gotAuth, gotBody)
	}
	if rec := e.call(resp.Header.Get("X-Request-Id")); rec.InputTokens != 3 || rec.OutputTokens != 2 || rec.Endpoint != "/v1/messages" {
		t.Errorf("record = %+v", rec)
	}
}
