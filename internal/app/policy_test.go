package app_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// policyConfig gives each consumer one kind of policy against the fake
// upstream; every chat call through it uses 17 tokens (12 in, 5 out).
const policyConfig = `
providers:
  - name: fake
    type: openai
    base_url: %[1]s
    api_key: env:TEST_UPSTREAM_KEY
models:
  - name: gpt-4o-mini
    targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ]
  - name: pricey   # 17 tokens at 10,000 USD per million: 0.17 USD a call
    targets: [ { provider: fake, model: gpt-4o-mini } ]
    price: { input_per_mtok: 10000, output_per_mtok: 10000 }
consumers:
  - name: shop
    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]
  - name: paced
    keys: [ { name: default, key: env:TEST_PACED_KEY } ]
    policies: { rate_limit: { requests_per_minute: 3 } }
  - name: wordy
    keys: [ { name: default, key: env:TEST_WORDY_KEY } ]
    policies: { rate_limit: { tokens_per_minute: 30 } }
  - name: spender
    keys: [ { name: default, key: env:TEST_SPENDER_KEY } ]
    policies: { budget: { usd_per_day: 0.6 } }
  - name: fenced
    keys: [ { name: default, key: env:TEST_FENCED_KEY } ]
    policies: { ip: { deny: [127.0.0.0/8] } }
  - name: walled
    keys: [ { name: default, key: env:TEST_WALLED_KEY } ]
    policies: { ip: { allow: [10.0.0.0/8] } }
  - name: terse
    keys: [ { name: default, key: env:TEST_TERSE_KEY } ]
    policies: { max_body_bytes: 100 }
  - name: metered
    keys: [ { name: default, key: env:TEST_METERED_KEY } ]
    policies: { quota: { requests_per_day: 10, tokens_per_day: 40 } }
`

var policyKeys = map[string]string{}

// startPolicies runs a gateway with policyConfig applied, and writes it to
// the configuration file too, so that a restart keeps it.
func startPolicies(t *testing.T) *env {
	t.Helper()
	for _, name := range []string{"paced", "wordy", "spender", "fenced", "walled", "terse", "metered"} {
		key := "hg-" + name + "-key-0123456789abcdefghijklmnopqrstuvw"
		policyKeys[name] = key
		t.Setenv("TEST_"+strings.ToUpper(name)+"_KEY", key)
	}
	e := start(t)
	cfg := fmt.Sprintf(policyConfig, e.up.BaseURL())
	var res struct {
		Changed bool `json:"changed"`
	}
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, &res); st != 200 || !res.Changed {
		t.Fatalf("applying the policy configuration: %d", st)
	}
	if err := os.WriteFile(e.settings.ConfigFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func policyChat(e *env, consumer, model string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do("POST", "/v1/chat/completions", policyKeys[consumer], strings.Replace(chatBody, "gpt-4o-mini", model, 1), hdr...)
}

// checkRefusal checks a refused call's status, error code, message and
// call record.
func checkRefusal(t *testing.T, e *env, resp *http.Response, body []byte, status int, code, message string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if got := gjson.GetBytes(body, "error.code").Str; got != code {
		t.Fatalf("error code %q, want %q: %s", got, code, body)
	}
	msg := gjson.GetBytes(body, "error.message").Str
	if !strings.HasPrefix(msg, message) {
		t.Fatalf("message %q, want it to start with %q", msg, message)
	}
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.Status != status || rec.ErrorType != code || rec.ErrorMessage != msg || len(rec.Attempts) != 0 {
		t.Fatalf("record: status %d, error %q %q, %d attempts", rec.Status, rec.ErrorType, rec.ErrorMessage, len(rec.Attempts))
	}
}

func TestPolicy(t *testing.T) {
	e := startPolicies(t)

	t.Run("requests per minute: 429 with headers, and the record", func(t *testing.T) {
		// Three calls and the fourth must fall in one minute of the sliding
		// window's alignment: near the end of one, wait for the next.
		if s := time.Now().Second(); s >= 55 {
			time.Sleep(time.Duration(61-s) * time.Second)
		}
		for i := range 3 {
			resp, body := policyChat(e, "paced", "gpt-4o-mini")
			if resp.StatusCode != 200 {
				t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, body)
			}
			h := resp.Header
			if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
				t.Fatalf("call %d: X-RateLimit-Limit %q, X-RateLimit-Remaining %q", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"))
			}
			checkReset(t, h, 2*time.Minute)
		}
		resp, body := policyChat(e, "paced", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 429, "rate_limit_exceeded", "consumer paced: 3 requests per minute exceeded; retry in ")
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 60 {
			t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if msg := gjson.GetBytes(body, "error.message").Str; !strings.HasSuffix(msg, "retry in "+formatRetry(retry)) {
			t.Fatalf("message %q does not say Retry-After %ds", msg, retry)
		}
		if h := resp.Header; h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("refusal headers: %v", h)
		}
		checkReset(t, resp.Header, 2*time.Minute)
		if rec := e.call(resp.Header.Get("X-Request-Id")); rec.Consumer != "paced" || rec.Model != "gpt-4o-mini" {
			t.Fatalf("record: consumer %q, model %q", rec.Consumer, rec.Model)
		}

		// The same refusal in Anthropic's shape on /v1/messages.
		resp, body = e.do("POST", "/v1/messages", policyKeys["paced"],
			`{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 429 || gjson.GetBytes(body, "type").Str != "error" || gjson.GetBytes(body, "error.type").Str != "rate_limit_error" ||
			!strings.HasPrefix(gjson.GetBytes(body, "error.message").Str, "consumer paced: 3 requests per minute exceeded") {
			t.Fatalf("Anthropic format: %d %s", resp.StatusCode, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After on /v1/messages")
		}

		// Other consumers are not limited by it.
		if resp, body := e.do("POST", "/v1/chat/completions", shopKey, chatBody); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("unlimited consumer: %d %v %s", resp.StatusCode, resp.Header, body)
		}
	})

	t.Run("tokens per minute, charged at the end of streams too", func(t *testing.T) {
		if s := time.Now().Second(); s >= 55 {
			time.Sleep(time.Duration(61-s) * time.Second)
		}
		resp, body := policyChat(e, "wordy", "gpt-4o-mini") // 17 tokens
		if resp.StatusCode != 200 {
			t.Fatalf("first call: %d %s", resp.StatusCode, body)
		}
		resp, body = e.do("POST", "/v1/chat/completions", policyKeys["wordy"],
			`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}]}`)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "[DONE]") {
			t.Fatalf("stream: %d %s", resp.StatusCode, body)
		}
		// The charge is made as the stream's record is finished.
		if rec := e.call(resp.Header.Get("X-Request-Id")); rec.InputTokens+rec.OutputTokens < 14 {
			t.Fatalf("stream record: %d + %d tokens", rec.InputTokens, rec.OutputTokens)
		}
		resp, body = policyChat(e, "wordy", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 429, "rate_limit_exceeded", "consumer wordy: 30 tokens per minute used up; retry in ")
		if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Limit") != "30" {
			t.Fatalf("headers: %v", resp.Header)
		}
	})

	t.Run("budget: warning header, then a hard stop", func(t *testing.T) {
		var warned []bool
		for i := range 4 {
			resp, body := policyChat(e, "spender", "pricey")
			if resp.StatusCode != 200 {
				t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, body)
			}
			if rec := e.call(resp.Header.Get("X-Request-Id")); rec.CostUSD < 0.1699 || rec.CostUSD > 0.1701 {
				t.Fatalf("call %d cost %v, want 0.17", i+1, rec.CostUSD)
			}
			w := resp.Header.Get("X-Hypergate-Budget-Warning")
			warned = append(warned, w != "")
			if i == 3 && w != "consumer spender: 85% of the daily budget of 0.60 USD spent" {
				t.Fatalf("warning on call 4: %q", w)
			}
		}
		// 0.51 USD of 0.60 is past the 80 % warning level before call 4 only.
		if fmt.Sprint(warned) != "[false false false true]" {
			t.Fatalf("budget warnings on calls 1-4: %v", warned)
		}
		resp, body := policyChat(e, "spender", "pricey")
		checkRefusal(t, e, resp, body, 429, "budget_exceeded", "consumer spender: daily budget of 0.60 USD spent; it resets in ")
		if gjson.GetBytes(body, "error.type").Str != "insufficient_quota" {
			t.Fatalf("error type: %s", body)
		}
		if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Limit") != "0.60" {
			t.Fatalf("headers: %v", resp.Header)
		}
		if n := strings.Count(e.logs.String(), "budget warning level passed"); n != 1 {
			t.Fatalf("%d budget warnings logged, want 1", n)
		}
		metrics := adminMetrics(t, e)
		for _, want := range []string{
			`hypergate_policy_budget_warnings_total{period="day",subject="spender",subject_kind="consumer"} 1`,
			`hypergate_policy_refusals_total{code="budget_exceeded"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("IP rules and body size", func(t *testing.T) {
		resp, body := policyChat(e, "fenced", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 403, "ip_denied", "consumer fenced: client address 127.0.0.1 is not allowed")
		resp, body = policyChat(e, "walled", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 403, "ip_denied", "consumer walled: client address 127.0.0.1 is not allowed")
		if resp.Header.Get("Retry-After") != "" {
			t.Fatal("Retry-After on a 403")
		}
		resp, body = e.do("POST", "/v1/chat/completions", policyKeys["terse"], `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("small body: %d %s", resp.StatusCode, body)
		}
		long := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("long ", 20) + `"}]}`
		resp, body = e.do("POST", "/v1/chat/completions", policyKeys["terse"], long)
		checkRefusal(t, e, resp, body, 413, "body_too_large",
			fmt.Sprintf("consumer terse: the request body (%d bytes) is over the limit of 100 bytes", len(long)))
	})

	t.Run("quotas survive a restart", func(t *testing.T) {
		for i := range 2 {
			if resp, body := policyChat(e, "metered", "gpt-4o-mini"); resp.StatusCode != 200 {
				t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, body)
			}
		}
		// 2 requests and 34 tokens of the day's 10 and 40 are spent; the
		// records are flushed as the gateway stops.
		e.stop()
		e.boot()
		resp, body := policyChat(e, "metered", "gpt-4o-mini")
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "10" || resp.Header.Get("X-RateLimit-Remaining") != "7" {
			t.Fatalf("after the restart: %d, X-RateLimit-Remaining %q: %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), body)
		}
		resp, body = policyChat(e, "metered", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 429, "quota_exceeded", "consumer metered: quota of 40 tokens per day (UTC) used up; it resets in ")
		// Refused calls count nowhere, the restart included.
		e.stop()
		e.boot()
		resp, body = policyChat(e, "metered", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 429, "quota_exceeded", "consumer metered: quota of 40 tokens per day")
	})

	t.Run("counts survive a configuration reload", func(t *testing.T) {
		cfg := fmt.Sprintf(policyConfig, e.up.BaseURL()) + "  - name: newcomer\n    keys: [ { name: default, key: env:TEST_SHOP_KEY2 } ]\n"
		t.Setenv("TEST_SHOP_KEY2", "hg-newcomer-key-0123456789abcdefghijklmnopqrs")
		if st := e.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
			t.Fatalf("reload: %d", st)
		}
		resp, body := policyChat(e, "metered", "gpt-4o-mini")
		checkRefusal(t, e, resp, body, 429, "quota_exceeded", "consumer metered: quota of 40 tokens per day")
	})
}

// checkReset checks X-RateLimit-Reset: Unix seconds, in the future, at most
// within.
func checkReset(t *testing.T, h http.Header, within time.Duration) {
	t.Helper()
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	now := time.Now().Unix()
	if err != nil || reset < now || reset > now+int64(within/time.Second)+1 {
		t.Fatalf("X-RateLimit-Reset %q (now %d)", h.Get("X-RateLimit-Reset"), now)
	}
}

// formatRetry renders seconds as refusal messages do.
func formatRetry(s int) string {
	if s < 60 {
		return strconv.Itoa(s) + "s"
	}
	if s%60 == 0 {
		return strconv.Itoa(s/60) + "m"
	}
	return fmt.Sprintf("%dm%ds", s/60, s%60)
}

func adminMetrics(t *testing.T, e *env) string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
