package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/anthropic/anthropicfake"
	"github.com/hypergate/hypergate/internal/provider/gemini/geminifake"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

// The translation scenarios: the official Anthropic and OpenAI SDKs call the
// running gateway, whose models route to fake upstreams of all three
// families, so that every answer crosses the gateway's translation (or, for
// equal formats, its passthrough) and is read back by a real client.

// Keys of the translation gateway. The upstream keys are the only ones the
// fakes accept, so a request that reached a fake carried the right one.
const (
	trConsumerKey  = "hg-translate-key-0123456789abcdefghijklmnopq"
	trOpenAIKey    = "sk-translate-openai-0123456789abcdefghij"
	trAnthropicKey = "sk-ant-translate-0123456789abcdefghij"
	trGeminiKey    = "AIza-translate-0123456789abcdefghij"
)

// Upstream model names, all in the built-in price table.
const (
	trGPTModel    = "gpt-4o-mini-2024-07-18"
	trClaudeModel = "claude-haiku-4-5-20251001"
	trGeminiModel = "gemini-2.5-flash"
)

const trConfig = `
providers:
  - { name: oai, type: openai, base_url: %[1]s, api_key: env:TRANSLATE_OPENAI_KEY, timeout: 20s }
  - { name: claude, type: anthropic, base_url: %[2]s, api_key: env:TRANSLATE_ANTHROPIC_KEY, timeout: 20s }
models:
  - { name: gpt, targets: [ { provider: oai, model: ` + trGPTModel + ` } ] }
  - { name: gpt-400, targets: [ { provider: oai, model: error-400 } ] }
  - { name: gpt-broken, targets: [ { provider: oai, model: broken-stream } ] }
  - { name: claude, targets: [ { provider: claude, model: ` + trClaudeModel + ` } ] }
  - { name: claude-429, targets: [ { provider: claude, model: error-429 } ] }
  - { name: claude-broken, targets: [ { provider: claude, model: broken-stream } ] }
  - { name: claude-overloaded, targets: [ { provider: claude, model: error-mid-stream } ] }
consumers:
  - name: translator
    keys: [ { name: default, key: env:TRANSLATE_CONSUMER_KEY } ]
`

// trGeminiProviders and trGeminiModels join trConfig.
const trGeminiProviders = `
  - { name: gem, type: gemini, base_url: %[3]s, api_key: env:TRANSLATE_GEMINI_KEY, timeout: 20s }
`

const trGeminiModels = `
  - { name: gemini, targets: [ { provider: gem, model: ` + trGeminiModel + ` } ] }
  - { name: gemini-429, targets: [ { provider: gem, model: error-429 } ] }
  - { name: gemini-broken, targets: [ { provider: gem, model: broken-stream } ] }
`

// trEnv is a gateway whose models route to the three fake families.
type trEnv struct {
	*env
	oai    *openaifake.Server
	claude *anthropicfake.Server
	gem    *geminifake.Server
}

// startTranslate runs a gateway on SQLite with the translation configuration.
func startTranslate(t *testing.T) *trEnv {
	t.Helper()
	e := &trEnv{
		oai:    openaifake.New(openaifake.Options{}),
		claude: anthropicfake.New(anthropicfake.Options{APIKey: trAnthropicKey}),
		gem:    geminifake.New(geminifake.Options{APIKey: trGeminiKey}),
	}
	t.Cleanup(e.oai.Close)
	t.Cleanup(e.claude.Close)
	t.Cleanup(e.gem.Close)
	t.Setenv("TRANSLATE_OPENAI_KEY", trOpenAIKey)
	t.Setenv("TRANSLATE_ANTHROPIC_KEY", trAnthropicKey)
	t.Setenv("TRANSLATE_GEMINI_KEY", trGeminiKey)
	t.Setenv("TRANSLATE_CONSUMER_KEY", trConsumerKey)
	// The Anthropic SDK reads credentials and a base URL from the
	// environment; none may override what the tests set.
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_PROFILE"} {
		t.Setenv(v, "")
	}

	cfg := trConfig
	cfg = strings.Replace(cfg, "models:\n", strings.TrimPrefix(trGeminiProviders, "\n")+"models:\n", 1)
	cfg = strings.Replace(cfg, "consumers:\n", strings.TrimPrefix(trGeminiModels, "\n")+"consumers:\n", 1)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hypergate.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, cfg, e.oai.BaseURL(), e.claude.BaseURL(), e.gem.BaseURL()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := app.Settings{
		DataDir:        filepath.Join(dir, "data"),
		Listen:         "127.0.0.1:0",
		AdminListen:    "127.0.0.1:0",
		ConfigFile:     cfgPath,
		AdminToken:     adminToken,
		MaxRequestBody: 1 << 20,
		ShutdownGrace:  5 * time.Second,
	}
	e.env = &env{t: t, up: e.oai, dataDir: s.DataDir, logs: &syncBuffer{}, settings: s}
	e.boot()
	t.Cleanup(e.stop)
	return e
}

// anthropicSDK is the official Anthropic client, pointed at the gateway.
func (e *trEnv) anthropicSDK(opts ...aoption.RequestOption) anthropic.Client {
	return anthropic.NewClient(append([]aoption.RequestOption{
		aoption.WithBaseURL(e.data + "/"), aoption.WithAPIKey(trConsumerKey), aoption.WithMaxRetries(0),
	}, opts...)...)
}

// openaiSDK is the official OpenAI client, pointed at the gateway.
func (e *trEnv) openaiSDK() openai.Client {
	return openai.NewClient(option.WithBaseURL(e.data+"/v1/"), option.WithAPIKey(trConsumerKey), option.WithMaxRetries(0))
}

// exchange keeps the raw bytes of one SDK call: the request body the client
// sent and the response body it read (a stream's whole transcript).
type exchange struct {
	mu       sync.Mutex
	sent     []byte
	received bytes.Buffer
	id       string // the gateway's X-Request-Id
}

func (x *exchange) transcript() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.received.String()
}

type teeBody struct {
	io.ReadCloser
	x *exchange
}

func (b teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.x.mu.Lock()
	b.x.received.Write(p[:n])
	b.x.mu.Unlock()
	return n, err
}

// middleware records the exchange; it serves both SDKs, whose middleware
// types are the same function type.
func (x *exchange) middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		x.sent = b
	}
	resp, err := next(req)
	if resp != nil {
		x.id = resp.Header.Get("X-Request-Id")
		resp.Body = teeBody{resp.Body, x}
	}
	return resp, err
}

// capture is the Anthropic SDK option recording the exchange.
func (x *exchange) capture() aoption.RequestOption { return aoption.WithMiddleware(x.middleware) }

// upstream is one family the gateway routes a model to, with what its fake
// reports.
type upstream struct {
	name          string
	model         string // the gateway model routed to it
	provider      string
	upstreamModel string
	inputTokens   int64 // in the record's (OpenAI's) accounting
	cachedTokens  int64
	outputTokens  int64
	streamOutput  int64 // output tokens of a streamed answer
	gemini        bool
}

var (
	openaiUpstream = upstream{name: "openai upstream", model: "gpt", provider: "oai", upstreamModel: trGPTModel,
		inputTokens: 12, outputTokens: 5, streamOutput: 3}
	anthropicUpstream = upstream{name: "anthropic upstream", model: "claude", provider: "claude", upstreamModel: trClaudeModel,
		inputTokens:  anthropicfake.InputTokens + anthropicfake.CacheReadTokens + anthropicfake.CacheWriteTokens,
		cachedTokens: anthropicfake.CacheReadTokens, outputTokens: anthropicfake.OutputTokens, streamOutput: anthropicfake.OutputTokens}
	geminiUpstream = upstream{name: "gemini upstream", model: "gemini", provider: "gem", upstreamModel: trGeminiModel,
		inputTokens: geminifake.PromptTokens, outputTokens: geminifake.CandidatesTokens, streamOutput: geminifake.CandidatesTokens, gemini: true}
)

// checkRecord asserts what every successful translated call's record must
// show.
func checkRecord(t *testing.T, rec calllog.Record, up upstream, stream bool) {
	t.Helper()
	output := up.outputTokens
	if stream {
		output = up.streamOutput
	}
	if rec.Provider != up.provider || rec.UpstreamModel != up.upstreamModel || rec.Model != up.model || rec.Status != 200 ||
		rec.Stream != stream || rec.Consumer != "translator" || rec.ErrorType != "" {
		t.Errorf("record: provider %q, upstream model %q, model %q, status %d, stream %v, consumer %q, error %q",
			rec.Provider, rec.UpstreamModel, rec.Model, rec.Status, rec.Stream, rec.Consumer, rec.ErrorType)
	}
	if rec.InputTokens != up.inputTokens || rec.OutputTokens != output {
		t.Errorf("record tokens = %d in, %d out; want %d, %d", rec.InputTokens, rec.OutputTokens, up.inputTokens, output)
	}
	if rec.CostUSD <= 0 {
		t.Errorf("record cost = %v, want > 0 (%s is priced)", rec.CostUSD, up.upstreamModel)
	}
	if stream && rec.TTFTUS <= 0 {
		t.Errorf("record of a stream without a time to first token")
	}
	if len(rec.Attempts) != 1 || rec.Attempts[0].Status != 200 || rec.Attempts[0].Provider != up.provider {
		t.Errorf("record attempts = %+v", rec.Attempts)
	}
}

// upstreamRequest returns the body a fake received for the call id.
func upstreamRequest(t *testing.T, e *trEnv, up upstream, id string) []byte {
	t.Helper()
	find := func(hs []http.Header, bodies [][]byte) []byte {
		for i, h := range hs {
			if h.Get("X-Request-Id") == id {
				return bodies[i]
			}
		}
		t.Fatalf("%s received no request for call %s", up.provider, id)
		return nil
	}
	var hs []http.Header
	var bodies [][]byte
	switch up.provider {
	case "oai":
		for _, r := range e.oai.Requests() {
			hs, bodies = append(hs, r.Header), append(bodies, r.Body)
		}
	case "claude":
		for _, r := range e.claude.Requests() {
			hs, bodies = append(hs, r.Header), append(bodies, r.Body)
		}
	case "gem":
		for _, r := range e.gem.Requests() {
			hs, bodies = append(hs, r.Header), append(bodies, r.Body)
		}
	}
	return find(hs, bodies)
}

func anthropicHello(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: 1024,
		System:    []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello"))},
	}
}

// anthropicCall sends params plainly or as a stream, accumulating the
// streamed message with the SDK.
func anthropicCall(t *testing.T, c anthropic.Client, params anthropic.MessageNewParams, stream bool, opts ...aoption.RequestOption) (*anthropic.Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !stream {
		return c.Messages.New(ctx, params, opts...)
	}
	s := c.Messages.NewStreaming(ctx, params, opts...)
	defer s.Close()
	var m anthropic.Message
	for s.Next() {
		if err := m.Accumulate(s.Current()); err != nil {
			return &m, err
		}
	}
	return &m, s.Err()
}

func messageText(m *anthropic.Message) string {
	var sb strings.Builder
	for _, b := range m.Content {
		if b.Type == "text" {
			sb.WriteString(b.Text)
		}
	}
	return sb.String()
}

func TestTranslateAnthropicSDK(t *testing.T) {
	e := startTranslate(t)
	for _, up := range []upstream{openaiUpstream, anthropicUpstream, geminiUpstream} {
		for _, stream := range []bool{false, true} {
			name := up.name + "/plain"
			if stream {
				name = up.name + "/streamed"
			}
			t.Run(name, func(t *testing.T) {
				if up.gemini {
				}
				var x exchange
				m, err := anthropicCall(t, e.anthropicSDK(x.capture()), anthropicHello(up.model), stream)
				if err != nil {
					t.Fatalf("%v\n%s", err, x.transcript())
				}
				if got := messageText(m); got != "Hello there!" || m.StopReason != "end_turn" || m.Role != "assistant" {
					t.Errorf("message = %q, stop %q, role %q", got, m.StopReason, m.Role)
				}
				// The client reads Anthropic's accounting: uncached input apart.
				u := m.Usage
				if u.InputTokens+u.CacheReadInputTokens+u.CacheCreationInputTokens != up.inputTokens || u.CacheReadInputTokens != up.cachedTokens {
					t.Errorf("client usage = %+v, want %d input tokens in all, %d cached", u, up.inputTokens, up.cachedTokens)
				}
				if x.id == "" {
					t.Fatal("no X-Request-Id on the response")
				}
				checkRecord(t, e.call(x.id), up, stream)

				got := upstreamRequest(t, e, up, x.id)
				if up.provider == "claude" {
					// Passthrough: the upstream gets the client's bytes with
					// only the model replaced.
					want, _ := sjson.SetBytes(x.sent, "model", up.upstreamModel)
					if !bytes.Equal(got, want) {
						t.Errorf("passthrough changed the body:\n got %s\nwant %s", got, want)
					}
				}
			})
		}
	}
}

// Anthropic features beyond the base version (interleaved thinking, the 1M
// context, longer cache lifetimes …) are switched on per request with the
// anthropic-beta header, which Claude Code and the SDKs send; a passthrough
// that drops it silently changes what the upstream does.
func TestTranslateAnthropicBetaHeaderPassesThrough(t *testing.T) {
	e := startTranslate(t)
	var x exchange
	beta := "interleaved-thinking-2025-05-14,context-1m-2025-08-07"
	if _, err := anthropicCall(t, e.anthropicSDK(x.capture()), anthropicHello("claude"), false, aoption.WithHeader("anthropic-beta", beta)); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.claude.Requests() {
		if r.Header.Get("X-Request-Id") == x.id && r.Header.Get("anthropic-beta") != beta {
			t.Errorf("upstream anthropic-beta = %q, want %q", r.Header.Get("anthropic-beta"), beta)
		}
	}
}

var anthropicWeatherTool = anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
	Name:        "get_weather",
	Description: anthropic.String("Get the current weather in a city"),
	InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{
			"location": map[string]any{"type": "string", "description": "City and country"},
			"unit":     map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
		},
		Required: []string{"location"},
	},
}}

// fakeToolInput is what the fakes call tools with (their default).
var fakeToolInput = map[string]any{"location": "Paris, France", "unit": "celsius"}

// The Anthropic SDK's tool loop: a tool_use block with parsed input, then
// the tool_result sent back in a second turn, over the Anthropic upstream
// (passthrough) and the OpenAI and Gemini upstreams (translated, the tool
// arguments streamed in pieces cut mid-JSON). The translation of a whole
// tool conversation into OpenAI's request is also checked field by field.
func TestTranslateAnthropicSDKToolUse(t *testing.T) {
	e := startTranslate(t)
	for _, up := range []upstream{anthropicUpstream, openaiUpstream, geminiUpstream} {
		for _, stream := range []bool{false, true} {
			name := up.name + "/plain"
			if stream {
				name = up.name + "/streamed"
			}
			t.Run(name, func(t *testing.T) {
				c := e.anthropicSDK()
				params := anthropicHello(up.model)
				params.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?"))}
				params.Tools = []anthropic.ToolUnionParam{anthropicWeatherTool}
				var x exchange
				first, err := anthropicCall(t, c, params, stream, x.capture())
				if err != nil {
					t.Fatalf("first turn: %v\n%s", err, x.transcript())
				}
				var use *anthropic.ToolUseBlock
				for _, b := range first.Content {
					if b.Type == "tool_use" {
						u := b.AsToolUse()
						use = &u
					}
				}
				if use == nil || first.StopReason != "tool_use" {
					t.Fatalf("first turn: no tool_use (stop %q): %s", first.StopReason, x.transcript())
				}
				var input map[string]any
				if err := json.Unmarshal(use.Input, &input); err != nil || !reflect.DeepEqual(input, fakeToolInput) {
					t.Errorf("tool input = %s (%v), want %v", use.Input, err, fakeToolInput)
				}
				if use.Name != "get_weather" || use.ID == "" {
					t.Errorf("tool_use = %+v", use)
				}
				checkRecord(t, e.call(x.id), up, stream)

				params.Messages = append(params.Messages, first.ToParam(),
					anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, "18°C and sunny", false)))
				var y exchange
				second, err := anthropicCall(t, c, params, stream, y.capture())
				if err != nil {
					t.Fatalf("second turn: %v\n%s", err, y.transcript())
				}
				if got := messageText(second); !strings.HasPrefix(got, "Tool result: ") || !strings.Contains(got, "18°C and sunny") || second.StopReason != "end_turn" {
					t.Errorf("second turn = %q (stop %q): the tool result did not reach the upstream", got, second.StopReason)
				}
				checkRecord(t, e.call(y.id), up, stream)
			})
		}
	}

	t.Run("openai upstream/a tool conversation is translated", func(t *testing.T) {
		params := anthropicHello("gpt")
		params.Tools = []anthropic.ToolUnionParam{anthropicWeatherTool}
		params.Messages = []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?")),
			anthropic.NewAssistantMessage(anthropic.NewTextBlock("Let me check."),
				anthropic.NewToolUseBlock("toolu_01A", map[string]any{"location": "Paris, France"}, "get_weather")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_01A", "18°C and sunny", false)),
		}
		var x exchange
		m, err := anthropicCall(t, e.anthropicSDK(x.capture()), params, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := messageText(m); got != "Tool result: 18°C and sunny" {
			t.Errorf("answer = %q, want the tool result echoed", got)
		}
		checkRecord(t, e.call(x.id), openaiUpstream, false)
		body := upstreamRequest(t, e, openaiUpstream, x.id)
		r := gjson.ParseBytes(body)
		checks := map[string]bool{
			"the tool as a function":   r.Get("tools.0.type").Str == "function" && r.Get("tools.0.function.name").Str == "get_weather",
			"the tool's schema":        r.Get("tools.0.function.parameters.properties.location.type").Str == "string",
			"the system prompt first":  r.Get("messages.0.role").Str == "system" && r.Get("messages.0.content").String() != "",
			"the assistant's call":     r.Get("messages.2.role").Str == "assistant" && r.Get("messages.2.tool_calls.0.id").Str == "toolu_01A",
			"the call's function name": r.Get("messages.2.tool_calls.0.function.name").Str == "get_weather",
			"the call's arguments":     gjson.Get(r.Get("messages.2.tool_calls.0.function.arguments").Str, "location").Str == "Paris, France",
			"the result as a tool message": r.Get("messages.3.role").Str == "tool" && r.Get("messages.3.tool_call_id").Str == "toolu_01A" &&
				strings.Contains(r.Get("messages.3.content").String(), "18°C and sunny"),
			"max_tokens kept":  r.Get("max_tokens").Int() == 1024 || r.Get("max_completion_tokens").Int() == 1024,
			"the target model": r.Get("model").Str == trGPTModel,
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("OpenAI request lacks %s: %s", what, body)
			}
		}
	})
}

func openaiHello(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.UserMessage("hello"),
		},
	}
}

// openaiStream runs a streamed completion, checking every chunk against
// OpenAI's description, and returns the accumulated completion, how many
// chunks carried usage, and the request id.
func openaiStream(t *testing.T, spec *openaispec.Spec, c openai.Client, params openai.ChatCompletionNewParams) (openai.ChatCompletion, int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var raw *http.Response
	s := c.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&raw))
	defer s.Close()
	var acc openai.ChatCompletionAccumulator
	usageChunks := 0
	for s.Next() {
		ch := s.Current()
		spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
		acc.AddChunk(ch)
		if ch.JSON.Usage.Valid() && ch.Usage.TotalTokens > 0 {
			usageChunks++
			if len(ch.Choices) != 0 {
				t.Errorf("the usage chunk has choices: %s", ch.RawJSON())
			}
		}
	}
	id := ""
	if raw != nil {
		id = raw.Header.Get("X-Request-Id")
	}
	return acc.ChatCompletion, usageChunks, id, s.Err()
}

func TestTranslateOpenAISDK(t *testing.T) {
	e := startTranslate(t)
	spec := openaispec.ForTest(t)
	for _, up := range []upstream{anthropicUpstream, geminiUpstream} {
		t.Run(up.name+"/plain", func(t *testing.T) {
			if up.gemini {
			}
			var raw *http.Response
			c := e.openaiSDK()
			resp, err := c.Chat.Completions.New(context.Background(), openaiHello(up.model), option.WithResponseInto(&raw))
			if err != nil {
				t.Fatal(err)
			}
			spec.Check(t, "CreateChatCompletionResponse", []byte(resp.RawJSON()))
			if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "Hello there!" || resp.Choices[0].FinishReason != "stop" ||
				resp.Object != "chat.completion" || resp.ID == "" {
				t.Errorf("completion = %s", resp.RawJSON())
			}
			if u := resp.Usage; u.PromptTokens != up.inputTokens || u.CompletionTokens != up.outputTokens ||
				u.TotalTokens != up.inputTokens+up.outputTokens || u.PromptTokensDetails.CachedTokens != up.cachedTokens {
				t.Errorf("usage = %s", u.RawJSON())
			}
			checkRecord(t, e.call(raw.Header.Get("X-Request-Id")), up, false)
		})
		for _, includeUsage := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/streamed, include_usage %v", up.name, includeUsage), func(t *testing.T) {
				if up.gemini {
				}
				params := openaiHello(up.model)
				if includeUsage {
					params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
				}
				cc, usageChunks, id, err := openaiStream(t, spec, e.openaiSDK(), params)
				if err != nil {
					t.Fatal(err)
				}
				if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "Hello there!" || cc.Choices[0].FinishReason != "stop" {
					t.Errorf("streamed completion = %+v", cc.Choices)
				}
				want := 0
				if includeUsage {
					want = 1
					if cc.Usage.PromptTokens != up.inputTokens || cc.Usage.CompletionTokens != up.streamOutput {
						t.Errorf("streamed usage = %+v", cc.Usage)
					}
				}
				if usageChunks != want {
					t.Errorf("%d usage chunks, want %d", usageChunks, want)
				}
				checkRecord(t, e.call(id), up, true)
			})
		}
	}
}

var openaiWeatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Get the current weather in a city"),
	Parameters: shared.FunctionParameters{
		"type": "object",
		"properties": map[string]any{
			"location": map[string]any{"type": "string", "description": "City and country"},
			"unit":     map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
		},
		"required": []string{"location"},
	},
})

func TestTranslateOpenAISDKToolCalls(t *testing.T) {
	e := startTranslate(t)
	spec := openaispec.ForTest(t)
	for _, up := range []upstream{anthropicUpstream, geminiUpstream} {
		for _, stream := range []bool{false, true} {
			name := up.name + "/plain"
			if stream {
				name = up.name + "/streamed"
			}
			t.Run(name, func(t *testing.T) {
				if up.gemini {
				}
				c := e.openaiSDK()
				params := openai.ChatCompletionNewParams{
					Model:    up.model,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
					Tools:    []openai.ChatCompletionToolUnionParam{openaiWeatherTool},
				}
				turn := func(params openai.ChatCompletionNewParams) (openai.ChatCompletion, string) {
					t.Helper()
					if stream {
						params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
						cc, _, id, err := openaiStream(t, spec, c, params)
						if err != nil {
							t.Fatal(err)
						}
						return cc, id
					}
					var raw *http.Response
					resp, err := c.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&raw))
					if err != nil {
						t.Fatal(err)
					}
					spec.Check(t, "CreateChatCompletionResponse", []byte(resp.RawJSON()))
					return *resp, raw.Header.Get("X-Request-Id")
				}

				first, id := turn(params)
				if len(first.Choices) != 1 {
					t.Fatalf("first turn: %d choices", len(first.Choices))
				}
				msg := first.Choices[0].Message
				if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 {
					t.Fatalf("first turn: finish %q, %d tool calls", first.Choices[0].FinishReason, len(msg.ToolCalls))
				}
				call := msg.ToolCalls[0]
				var args map[string]any
				if err := json.Unmarshal([]byte(call.Function.Arguments), &args); err != nil || !reflect.DeepEqual(args, fakeToolInput) {
					t.Errorf("arguments = %q (%v), want %v", call.Function.Arguments, err, fakeToolInput)
				}
				if call.Function.Name != "get_weather" || call.ID == "" || call.Type != "function" {
					t.Errorf("tool call = %+v", call)
				}
				checkRecord(t, e.call(id), up, stream)

				params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("18°C and sunny", call.ID))
				second, id := turn(params)
				if got := second.Choices[0].Message.Content; !strings.HasPrefix(got, "Tool result: ") || !strings.Contains(got, "18°C and sunny") ||
					second.Choices[0].FinishReason != "stop" {
					t.Errorf("second turn = %q (%s): the tool result did not reach the upstream", got, second.Choices[0].FinishReason)
				}
				checkRecord(t, e.call(id), up, stream)
			})
		}
	}
}

// Errors reach each client in its own format, with the upstream's status.
func TestTranslateErrors(t *testing.T) {
	e := startTranslate(t)
	spec := openaispec.ForTest(t)

	t.Run("anthropic upstream 429 seen by the OpenAI SDK", func(t *testing.T) {
		for _, stream := range []bool{false, true} {
			var x exchange
			var err error
			params := openaiHello("claude-429")
			c := e.openaiSDK()
			if stream {
				s := c.Chat.Completions.NewStreaming(context.Background(), params, option.WithMiddleware(x.middleware))
				for s.Next() {
				}
				err = s.Err()
				s.Close()
			} else {
				_, err = c.Chat.Completions.New(context.Background(), params, option.WithMiddleware(x.middleware))
			}
			var oe *openai.Error
			if !errors.As(err, &oe) {
				t.Fatalf("stream %v: err = %v, want *openai.Error", stream, err)
			}
			if oe.StatusCode != 429 || oe.Type != "rate_limit_error" || !strings.Contains(oe.Message, "rate limit") {
				t.Errorf("stream %v: error = %d %q %q", stream, oe.StatusCode, oe.Type, oe.Message)
			}
			spec.Check(t, "ErrorResponse", []byte(x.transcript()))
			if got := oe.Response.Header.Get("Retry-After"); got != "7" {
				t.Errorf("stream %v: Retry-After = %q, want the upstream's 7", stream, got)
			}
			rec := e.call(x.id)
			if rec.Status != 429 || rec.Provider != "claude" || rec.UpstreamModel != "error-429" || rec.ErrorType != "rate_limit_error" || rec.Stream != stream {
				t.Errorf("stream %v: record = status %d, provider %q, upstream model %q, error %q, stream %v",
					stream, rec.Status, rec.Provider, rec.UpstreamModel, rec.ErrorType, rec.Stream)
			}
		}
	})

	for _, tc := range []struct {
		name, model     string
		gemini          bool
		status          int
		typ             anthropic.ErrorType
		message         string
		provider        string
		recordErrorType string
		key             string // the consumer key; trConsumerKey when empty
	}{
		{name: "openai upstream 400 seen by the Anthropic SDK", model: "gpt-400", status: 400, typ: "invalid_request_error",
			message: "maximum context length", provider: "oai", recordErrorType: "context_length_exceeded"},
		{name: "gemini upstream 429 seen by the Anthropic SDK", model: "gemini-429", gemini: true, status: 429, typ: "rate_limit_error",
			message: "quota", provider: "gem", recordErrorType: "RESOURCE_EXHAUSTED"},
		{name: "the gateway's own 404 seen by the Anthropic SDK", model: "no-such-model", status: 404, typ: "not_found_error",
			message: "does not exist", recordErrorType: "model_not_found"},
		{name: "the gateway's own 401 seen by the Anthropic SDK", model: "claude", status: 401, typ: "authentication_error",
			message: "API key", recordErrorType: "invalid_api_key", key: "hg-not-a-key-0123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := trConsumerKey
			if tc.key != "" {
				key = tc.key
			}
			for _, stream := range []bool{false, true} {
				var x exchange
				_, err := anthropicCall(t, e.anthropicSDK(x.capture(), aoption.WithAPIKey(key)), anthropicHello(tc.model), stream)
				var ae *anthropic.Error
				if !errors.As(err, &ae) {
					t.Fatalf("stream %v: err = %v, want *anthropic.Error", stream, err)
				}
				if ae.StatusCode != tc.status || ae.Type() != tc.typ || !strings.Contains(ae.Error(), tc.message) {
					t.Errorf("stream %v: error = %d %q: %v", stream, ae.StatusCode, ae.Type(), ae)
				}
				if gjson.Get(x.transcript(), "type").Str != "error" {
					t.Errorf("stream %v: the body is not in Anthropic's error shape: %s", stream, x.transcript())
				}
				rec := e.call(x.id)
				if rec.Status != tc.status || rec.Provider != tc.provider || rec.ErrorType != tc.recordErrorType {
					t.Errorf("stream %v: record = status %d, provider %q, error %q", stream, rec.Status, rec.Provider, rec.ErrorType)
				}
			}
		})
	}
}

// A stream that breaks off after it started is ended with an error event in
// the client's own format, and its record says why.
func TestTranslateBrokenStreams(t *testing.T) {
	e := startTranslate(t)
	for _, tc := range []struct {
		name, model string
		provider    string
		gemini      bool
		errorType   string
		skip        string
		racy        bool
	}{
		{name: "openai upstream, translated", model: "gpt-broken", provider: "oai", errorType: "upstream_stream_error", racy: true},
		{name: "gemini upstream, translated", model: "gemini-broken", provider: "gem", gemini: true, errorType: "upstream_stream_error", racy: true},
		{name: "anthropic upstream error event, passed through", model: "claude-overloaded", provider: "claude", errorType: "overloaded_error"},
		{name: "anthropic upstream, passed through", model: "claude-broken", provider: "claude", errorType: "upstream_stream_error"},
	} {
		t.Run("Anthropic SDK/"+tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			var x exchange
			m, err := anthropicCall(t, e.anthropicSDK(x.capture()), anthropicHello(tc.model), true)
			var ae *anthropic.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *anthropic.Error from the stream's error event\n%s", err, x.transcript())
			}
			if !strings.Contains(x.transcript(), "event: error\ndata: ") || ae.Type() == "" {
				t.Errorf("no Anthropic error event (type %q):\n%s", ae.Type(), x.transcript())
			}
			if messageText(m) != "Hello" {
				t.Errorf("text before the break = %q, want %q", messageText(m), "Hello")
			}
			rec := e.call(x.id)
			if rec.Provider != tc.provider || !rec.Stream || rec.ErrorType != tc.errorType {
				t.Errorf("record = provider %q, stream %v, error %q, want error %q", rec.Provider, rec.Stream, rec.ErrorType, tc.errorType)
			}
		})
	}

	spec := openaispec.ForTest(t)
	for _, tc := range []struct {
		name, model string
		provider    string
		gemini      bool
		errorType   string
		racy        bool
	}{
		{"anthropic upstream breaks off", "claude-broken", "claude", false, "upstream_stream_error", true},
		{"anthropic upstream sends an error event", "claude-overloaded", "claude", false, "overloaded_error", true},
		{"gemini upstream breaks off", "gemini-broken", "gem", true, "upstream_stream_error", true},
	} {
		t.Run("OpenAI SDK/"+tc.name, func(t *testing.T) {
			var raw *http.Response
			c := e.openaiSDK()
			s := c.Chat.Completions.NewStreaming(context.Background(), openaiHello(tc.model), option.WithResponseInto(&raw))
			var text strings.Builder
			for s.Next() {
				ch := s.Current()
				spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
				if len(ch.Choices) > 0 {
					text.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			s.Close()
			var se *ssestream.StreamError
			if !errors.As(s.Err(), &se) {
				t.Fatalf("err = %v, want the SDK's StreamError from an error chunk", s.Err())
			}
			if !gjson.GetBytes(se.Event.Data, "error.message").Exists() {
				t.Errorf("error chunk not in OpenAI's shape: %s", se.Event.Data)
			}
			if text.String() != "Hello" {
				t.Errorf("text before the break = %q", text.String())
			}
			rec := e.call(raw.Header.Get("X-Request-Id"))
			if rec.Provider != tc.provider || !rec.Stream || rec.ErrorType != tc.errorType {
				t.Errorf("record = provider %q, stream %v, error %q, want error %q", rec.Provider, rec.Stream, rec.ErrorType, tc.errorType)
			}
		})
	}
}

// Thinking crosses the translation: a client's reasoning settings reach the
// upstream as a request it accepts, and the thinking it sends back reaches
// a client that can show it.
func TestTranslateThinking(t *testing.T) {
	e := startTranslate(t)

	for _, up := range []upstream{anthropicUpstream, geminiUpstream} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("Anthropic SDK/%s/stream %v", up.name, stream), func(t *testing.T) {
				if up.gemini {
				}
				params := anthropicHello(up.model)
				params.MaxTokens = 4096
				params.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
				var x exchange
				m, err := anthropicCall(t, e.anthropicSDK(x.capture()), params, stream)
				if err != nil {
					t.Fatalf("%v\n%s", err, x.transcript())
				}
				var thinking []string
				for _, b := range m.Content {
					if b.Type == "thinking" {
						thinking = append(thinking, b.Thinking)
						if !up.gemini && b.Signature != anthropicfake.Signature {
							t.Errorf("signature = %q, want the upstream's", b.Signature)
						}
					}
				}
				want := anthropicfake.Thinking
				if up.gemini {
					want = geminifake.Thought
				}
				if len(thinking) != 1 || thinking[0] != want || m.Content[0].Type != "thinking" || messageText(m) != "Hello there!" {
					t.Errorf("content = %+v\n%s", m.Content, x.transcript())
				}
				rec := up
				if up.gemini { // Gemini bills thoughts as output
					rec.outputTokens += geminifake.ThoughtsTokens
					rec.streamOutput += geminifake.ThoughtsTokens
				}
				checkRecord(t, e.call(x.id), rec, stream)
				body := upstreamRequest(t, e, up, x.id)
				if up.gemini && (!gjson.GetBytes(body, "generationConfig.thinkingConfig.includeThoughts").Bool() ||
					gjson.GetBytes(body, "generationConfig.thinkingConfig.thinkingBudget").Int() != 2048) {
					t.Errorf("Gemini request without the thinking budget: %s", body)
				}
			})
		}
	}

	t.Run("OpenAI SDK/reasoning effort to an anthropic upstream", func(t *testing.T) {
		var raw *http.Response
		params := openaiHello("claude")
		params.ReasoningEffort = shared.ReasoningEffortLow
		c := e.openaiSDK()
		resp, err := c.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].Message.Content; got != "Hello there!" {
			t.Errorf("content = %q: thinking must not leak into it", got)
		}
		id := raw.Header.Get("X-Request-Id")
		checkRecord(t, e.call(id), anthropicUpstream, false)
		// The fake refuses budgets Anthropic refuses; this only shows what was sent.
		body := upstreamRequest(t, e, anthropicUpstream, id)
		if th := gjson.GetBytes(body, "thinking.type").Str; th != "enabled" && th != "adaptive" {
			t.Errorf("Anthropic request without thinking: %s", body)
		}
	})
}
