package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/anthropic/anthropicfake"
)

// The response cache end to end: official SDKs call models whose cache is
// on, and the fakes behind them count what reached an upstream.

const cacheConfig = `
providers:
  - { name: fake, type: openai, base_url: %[1]s, api_key: env:TEST_UPSTREAM_KEY, timeout: 20s }
  - { name: claude, type: anthropic, base_url: %[2]s, api_key: env:TEST_UPSTREAM_KEY, timeout: 20s }
models:
  - { name: cached, targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ], cache: { ttl: 10m } }
  - { name: cached-shared, targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ], cache: { ttl: 10m, shared: true } }
  - { name: cached-short, targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ], cache: { ttl: 1s } }
  - { name: cached-flaky, targets: [ { provider: fake, model: flaky } ], cache: { ttl: 10m }, retry: { attempts: 0 } }
  - { name: cached-400, targets: [ { provider: fake, model: error-400 } ], cache: { ttl: 10m } }
  - { name: cached-broken, targets: [ { provider: fake, model: broken-stream } ], cache: { ttl: 10m } }
  - { name: cached-embed, targets: [ { provider: fake, model: text-embedding-3-small } ], cache: { ttl: 10m } }
  - { name: claude-cached, targets: [ { provider: claude, model: claude-haiku-4-5-20251001 } ], cache: { ttl: 10m } }
  - { name: uncached, targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
  - { name: other, keys: [ { name: default, key: env:TEST_OTHER_KEY } ] }
`

type cacheEnv struct {
	*env
	claude *anthropicfake.Server
}

func startCache(t *testing.T) *cacheEnv {
	t.Helper()
	e := start(t)
	claude := anthropicfake.New(anthropicfake.Options{})
	t.Cleanup(claude.Close)
	var res struct {
		Changed bool `json:"changed"`
	}
	if st := e.adminDo("PUT", "/admin/v1/config", fmt.Sprintf(cacheConfig, e.up.BaseURL(), claude.BaseURL()), &res); st != 200 || !res.Changed {
		t.Fatalf("applying the cache configuration: %d", st)
	}
	return &cacheEnv{env: e, claude: claude}
}

// upstreamSaw counts the requests that reached the OpenAI fake with marker
// in their body.
func (e *cacheEnv) upstreamSaw(marker string) int {
	n := 0
	for _, r := range e.up.Requests() {
		if bytes.Contains(r.Body, []byte(marker)) {
			n++
		}
	}
	return n
}

func (e *cacheEnv) claudeSaw(marker string) int {
	n := 0
	for _, r := range e.claude.Requests() {
		if bytes.Contains(r.Body, []byte(marker)) {
			n++
		}
	}
	return n
}

// ask sends a chat completion for model with the given prompt and checks
// the X-Hypergate-Cache answer; hdr are name, value pairs.
func (e *cacheEnv) ask(key, model, prompt string, wantStatus int, wantCache string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]}`, model, prompt)
	resp, b := e.do("POST", "/v1/chat/completions", key, body, hdr...)
	if resp.StatusCode != wantStatus {
		e.t.Fatalf("status %d, want %d: %s", resp.StatusCode, wantStatus, b)
	}
	if got := resp.Header.Get("X-Hypergate-Cache"); got != wantCache {
		e.t.Fatalf("X-Hypergate-Cache %q, want %q", got, wantCache)
	}
	return resp, b
}

// capture keeps the response body an SDK reads (a stream's whole
// transcript) in dst.
func capture(dst *bytes.Buffer) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		resp, err := next(req)
		if err == nil {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(resp.Body, dst), resp.Body}
		}
		return resp, err
	}
}

func TestCache(t *testing.T) {
	e := startCache(t)
	spec := openaispec.ForTest(t)
	ctx := context.Background()

	t.Run("openai sdk: the second identical call is a hit", func(t *testing.T) {
		client := e.sdk(shopKey)
		params := openai.ChatCompletionNewParams{
			Model:       "cached",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("plain question")},
			Temperature: openai.Float(0.7), // a sampled answer is cached too: the operator opted in
		}
		var raw1, raw2 *http.Response
		c1, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&raw1))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&raw2))
		if err != nil {
			t.Fatal(err)
		}
		if h1, h2 := raw1.Header.Get("X-Hypergate-Cache"), raw2.Header.Get("X-Hypergate-Cache"); h1 != "miss" || h2 != "hit" {
			t.Fatalf("X-Hypergate-Cache: %q then %q, want miss then hit", h1, h2)
		}
		if raw2.Header.Get("Age") == "" || raw1.Header.Get("Age") != "" {
			t.Errorf("Age: %q on the miss, %q on the hit", raw1.Header.Get("Age"), raw2.Header.Get("Age"))
		}
		if c1.RawJSON() != c2.RawJSON() {
			t.Errorf("the hit's body differs:\n%s\n%s", c1.RawJSON(), c2.RawJSON())
		}
		spec.Check(t, "CreateChatCompletionResponse", []byte(c2.RawJSON()))
		if c2.Choices[0].Message.Content != "Hello there!" {
			t.Errorf("content %q", c2.Choices[0].Message.Content)
		}
		if n := e.upstreamSaw("plain question"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}

		miss, hit := e.call(raw1.Header.Get("X-Request-Id")), e.call(raw2.Header.Get("X-Request-Id"))
		if miss.CacheHit || miss.CostUSD <= 0 || len(miss.Attempts) != 1 {
			t.Errorf("the miss's record: cache_hit %v, cost %v, %d attempts", miss.CacheHit, miss.CostUSD, len(miss.Attempts))
		}
		if !hit.CacheHit || hit.CostUSD != 0 || len(hit.Attempts) != 0 || hit.Provider != "" || hit.Status != 200 ||
			hit.InputTokens != miss.InputTokens || hit.OutputTokens != miss.OutputTokens || hit.InputTokens == 0 ||
			hit.ResponseBody != miss.ResponseBody || hit.Model != "cached" || hit.Consumer != "shop" {
			t.Errorf("the hit's record = %+v", hit)
		}

		// The same request written otherwise: keys reordered, other
		// whitespace, and fields that do not change the answer.
		resp, b := e.do("POST", "/v1/chat/completions", shopKey,
			"{ \"temperature\" : 0.7,\n \"user\": \"end-user-9\", \"metadata\": {\"k\":\"v\"},\n"+
				" \"messages\": [ {\"content\": \"plain question\", \"role\": \"user\"} ], \"model\": \"cached\" }")
		if resp.Header.Get("X-Hypergate-Cache") != "hit" || strings.TrimSpace(string(b)) != strings.TrimSpace(c1.RawJSON()) {
			t.Errorf("a reordered request: %q, %s", resp.Header.Get("X-Hypergate-Cache"), b)
		}
		if n := e.upstreamSaw("plain question"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
	})

	t.Run("openai sdk: a stream is replayed identically", func(t *testing.T) {
		client := e.sdk(shopKey)
		stream := func(params openai.ChatCompletionNewParams, want string) ([]byte, int, string) {
			t.Helper()
			var transcript bytes.Buffer
			var raw *http.Response
			s := client.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&raw), option.WithMiddleware(capture(&transcript)))
			defer s.Close()
			var text strings.Builder
			usage := 0
			for s.Next() {
				ch := s.Current()
				spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
				if len(ch.Choices) > 0 {
					text.WriteString(ch.Choices[0].Delta.Content)
				}
				if ch.Usage.TotalTokens > 0 {
					usage++
				}
			}
			if err := s.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if text.String() != "Hello there!" {
				t.Errorf("streamed text %q", text.String())
			}
			if got := raw.Header.Get("X-Hypergate-Cache"); got != want {
				t.Fatalf("X-Hypergate-Cache %q, want %q", got, want)
			}
			id := raw.Header.Get("X-Request-Id")
			e.call(id) // the record follows the store: the next call can hit
			return transcript.Bytes(), usage, id
		}
		params := openai.ChatCompletionNewParams{
			Model:    "cached",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream question")},
		}
		first, usage1, _ := stream(params, "miss")
		second, usage2, id := stream(params, "hit")
		if !bytes.Equal(first, second) {
			t.Errorf("the replayed stream differs:\n%s\n---\n%s", first, second)
		}
		if usage1 != 0 || usage2 != 0 {
			t.Errorf("usage chunks %d and %d on a stream that asked for none", usage1, usage2)
		}
		if n := e.upstreamSaw("stream question"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
		if rec := e.call(id); !rec.CacheHit || !rec.Stream || rec.CostUSD != 0 || rec.InputTokens != 12 || len(rec.Attempts) != 0 {
			t.Errorf("the replay's record = %+v", rec)
		}

		// Asking for the usage chunk is another answer: it is streamed
		// once, then replayed with its usage chunk.
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		withUsage, usage3, _ := stream(params, "miss")
		replayed, usage4, _ := stream(params, "hit")
		if usage3 != 1 || usage4 != 1 || !bytes.Equal(withUsage, replayed) {
			t.Errorf("usage chunks %d and %d; identical %v", usage3, usage4, bytes.Equal(withUsage, replayed))
		}
		// A whole answer is another entry again.
		plain := openai.ChatCompletionNewParams{Model: "cached", Messages: params.Messages}
		var raw *http.Response
		if _, err := client.Chat.Completions.New(ctx, plain, option.WithResponseInto(&raw)); err != nil || raw.Header.Get("X-Hypergate-Cache") != "miss" {
			t.Fatalf("a whole answer after the streams: %v, %q", err, raw.Header.Get("X-Hypergate-Cache"))
		}
		if n := e.upstreamSaw("stream question"); n != 3 {
			t.Fatalf("the upstream saw %d requests, want 3", n)
		}
	})

	t.Run("anthropic sdk on /v1/messages", func(t *testing.T) {
		client := anthropic.NewClient(aoption.WithBaseURL(e.data+"/"), aoption.WithAPIKey(shopKey), aoption.WithMaxRetries(0))
		params := anthropic.MessageNewParams{
			Model:     "claude-cached",
			MaxTokens: 64,
			Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("anthropic question"))},
		}
		var raw1, raw2 *http.Response
		m1, err := client.Messages.New(ctx, params, aoption.WithResponseInto(&raw1))
		if err != nil {
			t.Fatal(err)
		}
		m2, err := client.Messages.New(ctx, params, aoption.WithResponseInto(&raw2))
		if err != nil {
			t.Fatal(err)
		}
		if raw1.Header.Get("X-Hypergate-Cache") != "miss" || raw2.Header.Get("X-Hypergate-Cache") != "hit" || m1.RawJSON() != m2.RawJSON() {
			t.Fatalf("plain: %q then %q; bodies equal %v", raw1.Header.Get("X-Hypergate-Cache"), raw2.Header.Get("X-Hypergate-Cache"), m1.RawJSON() == m2.RawJSON())
		}
		if messageText(m2) != "Hello there!" {
			t.Errorf("text %q", messageText(m2))
		}
		stream := func(want string) []byte {
			t.Helper()
			var transcript bytes.Buffer
			var raw *http.Response
			s := client.Messages.NewStreaming(ctx, params, aoption.WithResponseInto(&raw), aoption.WithMiddleware(capture(&transcript)))
			defer s.Close()
			var m anthropic.Message
			for s.Next() {
				if err := m.Accumulate(s.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if messageText(&m) != "Hello there!" || m.StopReason != "end_turn" || m.Usage.OutputTokens != anthropicfake.OutputTokens {
				t.Errorf("streamed message: %q, %q, %+v", messageText(&m), m.StopReason, m.Usage)
			}
			if got := raw.Header.Get("X-Hypergate-Cache"); got != want {
				t.Fatalf("X-Hypergate-Cache %q, want %q", got, want)
			}
			e.call(raw.Header.Get("X-Request-Id"))
			return transcript.Bytes()
		}
		first, second := stream("miss"), stream("hit")
		if !bytes.Equal(first, second) {
			t.Errorf("the replayed stream differs:\n%s\n---\n%s", first, second)
		}
		if n := e.claudeSaw("anthropic question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2 (one whole, one stream)", n)
		}
	})

	t.Run("translated streams", func(t *testing.T) {
		// The OpenAI SDK on an Anthropic upstream: the events recorded are
		// the translated ones the client read.
		client := e.sdk(shopKey)
		params := openai.ChatCompletionNewParams{
			Model:    "claude-cached",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("translated question")},
		}
		var transcripts [2]bytes.Buffer
		for i, want := range []string{"miss", "hit"} {
			var raw *http.Response
			s := client.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&raw), option.WithMiddleware(capture(&transcripts[i])))
			var text strings.Builder
			for s.Next() {
				ch := s.Current()
				spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
				if len(ch.Choices) > 0 {
					text.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			if err := s.Err(); err != nil || text.String() != "Hello there!" {
				t.Fatalf("stream %d: %v, %q", i, err, text.String())
			}
			s.Close()
			if got := raw.Header.Get("X-Hypergate-Cache"); got != want {
				t.Fatalf("X-Hypergate-Cache %q, want %q", got, want)
			}
			e.call(raw.Header.Get("X-Request-Id"))
		}
		if !bytes.Equal(transcripts[0].Bytes(), transcripts[1].Bytes()) {
			t.Errorf("the replayed stream differs:\n%s\n---\n%s", transcripts[0].Bytes(), transcripts[1].Bytes())
		}
		if n := e.claudeSaw("translated question"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		body := `{"model":"cached-embed","input":["embed me"]}`
		r1, b1 := e.do("POST", "/v1/embeddings", shopKey, body)
		r2, b2 := e.do("POST", "/v1/embeddings", shopKey, body)
		if r1.Header.Get("X-Hypergate-Cache") != "miss" || r2.Header.Get("X-Hypergate-Cache") != "hit" || !bytes.Equal(b1, b2) {
			t.Fatalf("%q then %q; %s / %s", r1.Header.Get("X-Hypergate-Cache"), r2.Header.Get("X-Hypergate-Cache"), b1, b2)
		}
		if n := e.upstreamSaw("embed me"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
	})

	t.Run("bypass", func(t *testing.T) {
		e.ask(shopKey, "cached", "bypass question", 200, "miss")
		e.ask(shopKey, "cached", "bypass question", 200, "bypass", "Cache-Control", "no-cache")
		e.ask(shopKey, "cached", "bypass question", 200, "bypass", "X-Hypergate-Cache", "bypass")
		e.ask(shopKey, "cached", "bypass question", 200, "hit")
		if n := e.upstreamSaw("bypass question"); n != 3 {
			t.Fatalf("the upstream saw %d requests, want 3", n)
		}
		// A bypassed answer is still stored.
		e.ask(shopKey, "cached", "bypass stores", 200, "bypass", "Cache-Control", "max-age=0, no-cache")
		e.ask(shopKey, "cached", "bypass stores", 200, "hit")
		if n := e.upstreamSaw("bypass stores"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
	})

	t.Run("no-store", func(t *testing.T) {
		e.ask(shopKey, "cached", "no-store question", 200, "miss", "Cache-Control", "no-store")
		e.ask(shopKey, "cached", "no-store question", 200, "miss")
		e.ask(shopKey, "cached", "no-store question", 200, "hit", "Cache-Control", "no-store") // no-store does not skip the lookup
		if n := e.upstreamSaw("no-store question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
	})

	t.Run("ttl", func(t *testing.T) {
		e.ask(shopKey, "cached-short", "ttl question", 200, "miss")
		e.ask(shopKey, "cached-short", "ttl question", 200, "hit")
		time.Sleep(1100 * time.Millisecond)
		e.ask(shopKey, "cached-short", "ttl question", 200, "miss")
		if n := e.upstreamSaw("ttl question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
	})

	t.Run("consumers see their own answers unless shared", func(t *testing.T) {
		e.ask(shopKey, "cached", "private question", 200, "miss")
		e.ask(otherKey, "cached", "private question", 200, "miss")
		e.ask(otherKey, "cached", "private question", 200, "hit")
		e.ask(shopKey, "cached", "private question", 200, "hit")
		if n := e.upstreamSaw("private question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
		e.ask(shopKey, "cached-shared", "shared question", 200, "miss")
		e.ask(otherKey, "cached-shared", "shared question", 200, "hit")
		if n := e.upstreamSaw("shared question"); n != 1 {
			t.Fatalf("the upstream saw %d requests, want 1", n)
		}
	})

	t.Run("errors are never cached", func(t *testing.T) {
		for range 2 {
			resp, _ := e.ask(shopKey, "cached-400", "error question", 400, "miss")
			if rec := e.call(resp.Header.Get("X-Request-Id")); rec.CacheHit {
				t.Error("an error's record says cache hit")
			}
		}
		if n := e.upstreamSaw("error question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}

		e.up.Fail("flaky", 500)
		e.ask(shopKey, "cached-flaky", "flaky question", 500, "miss")
		e.up.Heal("flaky")
		e.ask(shopKey, "cached-flaky", "flaky question", 200, "miss")
		e.ask(shopKey, "cached-flaky", "flaky question", 200, "hit")

		// A stream that broke off is not stored.
		for range 2 {
			resp, b := e.do("POST", "/v1/chat/completions", shopKey,
				`{"model":"cached-broken","stream":true,"messages":[{"role":"user","content":"broken question"}]}`)
			if resp.Header.Get("X-Hypergate-Cache") != "miss" || !strings.Contains(string(b), "upstream_stream_error") {
				t.Fatalf("%q: %s", resp.Header.Get("X-Hypergate-Cache"), b)
			}
			e.call(resp.Header.Get("X-Request-Id"))
		}
		if n := e.upstreamSaw("broken question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
	})

	t.Run("several choices are not cached", func(t *testing.T) {
		for range 2 {
			resp, _ := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"cached","n":2,"messages":[{"role":"user","content":"choices question"}]}`)
			if resp.StatusCode != 200 || resp.Header.Get("X-Hypergate-Cache") != "bypass" {
				t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("X-Hypergate-Cache"))
			}
		}
		if n := e.upstreamSaw("choices question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
	})

	t.Run("models without a cache", func(t *testing.T) {
		e.ask(shopKey, "uncached", "uncached question", 200, "")
		e.ask(shopKey, "uncached", "uncached question", 200, "")
		if n := e.upstreamSaw("uncached question"); n != 2 {
			t.Fatalf("the upstream saw %d requests, want 2", n)
		}
	})

	t.Run("records and metrics", func(t *testing.T) {
		var hits, others calllog.Page
		if st := e.adminDo("GET", "/admin/v1/calls?cache_hit=true&limit=500", "", &hits); st != 200 {
			t.Fatalf("listing hits: %d", st)
		}
		if st := e.adminDo("GET", "/admin/v1/calls?cache_hit=false&limit=500", "", &others); st != 200 {
			t.Fatalf("listing the others: %d", st)
		}
		if len(hits.Calls) == 0 || len(others.Calls) == 0 {
			t.Fatalf("%d hits, %d others", len(hits.Calls), len(others.Calls))
		}
		for _, c := range hits.Calls {
			if !c.CacheHit || c.CostUSD != 0 || len(c.Attempts) != 0 {
				t.Errorf("listed as a hit: %+v", c)
			}
		}
		for _, c := range others.Calls {
			if c.CacheHit {
				t.Errorf("listed as no hit: %+v", c)
			}
		}
		var one map[string]any
		if st := e.adminDo("GET", "/admin/v1/calls/"+hits.Calls[0].ID, "", &one); st != 200 || one["cache_hit"] != true {
			t.Fatalf("GET /calls/{id}: %d %v", st, one["cache_hit"])
		}
		if st := e.adminDo("GET", "/admin/v1/calls?cache_hit=maybe", "", nil); st != 400 {
			t.Errorf("cache_hit=maybe: %d, want 400", st)
		}

		req, _ := http.NewRequest("GET", e.admin+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		metrics := string(b)
		for _, want := range []string{
			`hypergate_cache_requests_total{gen_ai_request_model="cached",result="hit"}`,
			`hypergate_cache_requests_total{gen_ai_request_model="cached",result="miss"}`,
			`hypergate_cache_requests_total{gen_ai_request_model="cached",result="bypass"}`,
			"hypergate_cache_max_bytes 6.7108864e+07",
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		for _, series := range []string{"hypergate_cache_bytes", "hypergate_cache_entries", `hypergate_cache_evictions_total{reason="expired"}`} {
			if v := metricValue(metrics, series); v <= 0 {
				t.Errorf("%s = %v, want > 0", series, v)
			}
		}
		if strings.Contains(metrics, `gen_ai_request_model="uncached",result=`) {
			t.Error("a model without a cache is counted in the cache metrics")
		}
	})
}

// metricValue reads a series' value from a metrics page (-1: absent).
func metricValue(page, name string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}
