package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/cohere/coherefake"
)

// Streams over a Cohere upstream: the official OpenAI and Anthropic SDKs
// call the gateway, whose models route to a fake speaking Cohere's v2 chat
// SSE, so that every event crosses the translation from Cohere's stream to
// the client's.

const (
	coUpstreamKey   = "co-stream-upstream-0123456789abcdefghij"
	coUpstreamModel = "command-a-03-2025"
)

// command-a is not in the built-in price table: the model prices it, so
// that the record's cost shows the usage was counted.
const coConfig = `
providers:
  - { name: co, type: cohere, base_url: %s, api_key: env:COHERE_STREAM_KEY, timeout: 20s }
models:
  - name: command
    targets: [ { provider: co, model: ` + coUpstreamModel + ` } ]
    price: { input_per_mtok: 2.5, output_per_mtok: 10 }
  - { name: command-broken, targets: [ { provider: co, model: broken-stream } ] }
  - { name: command-failing, targets: [ { provider: co, model: error-mid-stream } ] }
consumers:
  - name: translator
    keys: [ { name: default, key: env:TRANSLATE_CONSUMER_KEY } ]
`

var cohereUpstream = upstream{name: "cohere upstream", model: "command", provider: "co", upstreamModel: coUpstreamModel,
	inputTokens: coherefake.InputTokens, outputTokens: coherefake.OutputTokens, streamOutput: coherefake.OutputTokens}

// coEnv is a gateway whose models route to a fake Cohere. It reuses the
// translation scenarios' SDK clients and helpers; their fakes stay unset.
type coEnv struct {
	*trEnv
	co *coherefake.ChatServer
}

func startCohere(t *testing.T) *coEnv {
	t.Helper()
	co := coherefake.NewChat(coherefake.ChatOptions{APIKey: coUpstreamKey})
	t.Cleanup(co.Close)
	t.Setenv("COHERE_STREAM_KEY", coUpstreamKey)
	t.Setenv("TRANSLATE_CONSUMER_KEY", trConsumerKey)
	// The Anthropic SDK reads credentials and a base URL from the
	// environment; none may override what the tests set.
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_PROFILE"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hypergate.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, coConfig, co.BaseURL()), 0o600); err != nil {
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
	e := &coEnv{trEnv: &trEnv{env: &env{t: t, dataDir: s.DataDir, logs: &syncBuffer{}, settings: s}}, co: co}
	e.boot()
	t.Cleanup(e.stop)
	return e
}

// upstreamBody returns the body the fake Cohere received for the call id.
func (e *coEnv) upstreamBody(t *testing.T, id string) []byte {
	t.Helper()
	for _, r := range e.co.Requests() {
		if r.Header.Get("X-Request-Id") == id {
			return r.Body
		}
	}
	t.Fatalf("the Cohere upstream received no request for call %s", id)
	return nil
}

// openaiCapturing is the official OpenAI client, recording the exchange.
func (e *coEnv) openaiCapturing(x *exchange) openai.Client {
	return openai.NewClient(option.WithBaseURL(e.data+"/v1/"), option.WithAPIKey(trConsumerKey), option.WithMaxRetries(0),
		option.WithMiddleware(x.middleware))
}

// sseData returns the data of each event of an SSE transcript.
func sseData(transcript string) []string {
	var out []string
	for line := range strings.Lines(transcript) {
		if d, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func checkDropped(t *testing.T, rec calllog.Record, want []string) {
	t.Helper()
	if !reflect.DeepEqual(rec.Dropped, want) {
		t.Errorf("record dropped = %q, want %q", rec.Dropped, want)
	}
}

func TestCohereStreamOpenAISDK(t *testing.T) {
	e := startCohere(t)
	spec := openaispec.ForTest(t)

	t.Run("text with include_usage", func(t *testing.T) {
		params := openaiHello("command")
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		params.User = openai.String("user-42")             // Cohere has no end-user field
		params.LogitBias = map[string]int64{"50256": -100} // the neutral model has none
		cc, usageChunks, id, err := openaiStream(t, spec, e.openaiSDK(), params)
		if err != nil {
			t.Fatal(err)
		}
		if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "Hello there!" || cc.Choices[0].FinishReason != "stop" {
			t.Errorf("streamed completion = %+v", cc.Choices)
		}
		if usageChunks != 1 || cc.Usage.PromptTokens != coherefake.InputTokens || cc.Usage.CompletionTokens != coherefake.OutputTokens ||
			cc.Usage.TotalTokens != coherefake.InputTokens+coherefake.OutputTokens {
			t.Errorf("%d usage chunks, usage %+v", usageChunks, cc.Usage)
		}
		rec := e.call(id)
		checkRecord(t, rec, cohereUpstream, true)
		// The decoder's drop first, then the encoder's; the include_usage
		// the gateway itself asks for is no drop.
		checkDropped(t, rec, []string{"logit_bias", "user"})
		body := e.upstreamBody(t, id)
		if r := gjson.ParseBytes(body); !r.Get("stream").Bool() || r.Get("model").Str != coUpstreamModel ||
			r.Get("messages.0.role").Str != "system" || r.Get("user").Exists() {
			t.Errorf("Cohere request = %s", body)
		}
	})

	t.Run("tool call in argument pieces, then its result", func(t *testing.T) {
		params := openai.ChatCompletionNewParams{
			Model:             "command",
			Messages:          []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
			Tools:             []openai.ChatCompletionToolUnionParam{openaiWeatherTool},
			ParallelToolCalls: openai.Bool(false), // Cohere has no such switch
			StreamOptions:     openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}
		var x exchange
		cc, usageChunks, id, err := openaiStream(t, spec, e.openaiCapturing(&x), params)
		if err != nil {
			t.Fatalf("%v\n%s", err, x.transcript())
		}
		if len(cc.Choices) != 1 || cc.Choices[0].FinishReason != "tool_calls" || len(cc.Choices[0].Message.ToolCalls) != 1 {
			t.Fatalf("streamed completion = %+v\n%s", cc.Choices, x.transcript())
		}
		msg := cc.Choices[0].Message
		// Cohere's tool plan, the text before its calls, is the turn's content.
		if msg.Content != coherefake.ToolPlan {
			t.Errorf("content = %q, want the tool plan %q", msg.Content, coherefake.ToolPlan)
		}
		call := msg.ToolCalls[0]
		var args map[string]any
		if err := json.Unmarshal([]byte(call.Function.Arguments), &args); err != nil || !reflect.DeepEqual(args, fakeToolInput) {
			t.Errorf("arguments = %q (%v), want %v", call.Function.Arguments, err, fakeToolInput)
		}
		if call.Function.Name != "get_weather" || call.ID == "" || call.Type != "function" {
			t.Errorf("tool call = %+v", call)
		}
		var pieces []string
		for _, d := range sseData(x.transcript()) {
			if a := gjson.Get(d, "choices.0.delta.tool_calls.0.function.arguments"); a.Str != "" {
				pieces = append(pieces, a.Str)
			}
		}
		if len(pieces) < 2 || strings.Join(pieces, "") != call.Function.Arguments {
			t.Errorf("argument deltas = %q: want the upstream's pieces passed on as they came", pieces)
		}
		if usageChunks != 1 || cc.Usage.PromptTokens != coherefake.InputTokens {
			t.Errorf("%d usage chunks, usage %+v", usageChunks, cc.Usage)
		}
		rec := e.call(id)
		checkRecord(t, rec, cohereUpstream, true)
		checkDropped(t, rec, []string{"tool_choice.disable_parallel"})

		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("18°C and sunny", call.ID))
		second, _, id, err := openaiStream(t, spec, e.openaiSDK(), params)
		if err != nil {
			t.Fatal(err)
		}
		if got := second.Choices[0].Message.Content; got != "Tool result: 18°C and sunny" || second.Choices[0].FinishReason != "stop" {
			t.Errorf("second turn = %q (%s): the tool result did not reach the upstream", got, second.Choices[0].FinishReason)
		}
		checkRecord(t, e.call(id), cohereUpstream, true)
		body := e.upstreamBody(t, id)
		if r := gjson.ParseBytes(body); r.Get("messages.1.tool_calls.0.id").Str != call.ID || r.Get("messages.1.tool_plan").Str != coherefake.ToolPlan ||
			r.Get("messages.2.role").Str != "tool" || r.Get("messages.2.tool_call_id").Str != call.ID {
			t.Errorf("Cohere request of the second turn = %s", body)
		}
	})
}

func TestCohereStreamAnthropicSDK(t *testing.T) {
	e := startCohere(t)

	t.Run("text", func(t *testing.T) {
		params := anthropicHello("command")
		params.Metadata = anthropic.MetadataParam{UserID: anthropic.String("user-42")}
		var x exchange
		m, err := anthropicCall(t, e.anthropicSDK(x.capture()), params, true)
		if err != nil {
			t.Fatalf("%v\n%s", err, x.transcript())
		}
		if got := messageText(m); got != "Hello there!" || m.StopReason != "end_turn" || m.Role != "assistant" {
			t.Errorf("message = %q, stop %q, role %q", got, m.StopReason, m.Role)
		}
		if u := m.Usage; u.InputTokens != coherefake.InputTokens || u.OutputTokens != coherefake.OutputTokens || u.CacheReadInputTokens != 0 {
			t.Errorf("client usage = %+v", u)
		}
		for _, ev := range []string{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"} {
			if !strings.Contains(x.transcript(), "event: "+ev+"\n") {
				t.Errorf("no %s event:\n%s", ev, x.transcript())
			}
		}
		rec := e.call(x.id)
		checkRecord(t, rec, cohereUpstream, true)
		checkDropped(t, rec, []string{"user"})
	})

	t.Run("thinking", func(t *testing.T) {
		params := anthropicHello("command")
		params.MaxTokens = 4096
		params.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
		var x exchange
		m, err := anthropicCall(t, e.anthropicSDK(x.capture()), params, true)
		if err != nil {
			t.Fatalf("%v\n%s", err, x.transcript())
		}
		if len(m.Content) != 2 || m.Content[0].Type != "thinking" || m.Content[0].Thinking != coherefake.Thinking || messageText(m) != "Hello there!" {
			t.Errorf("content = %+v\n%s", m.Content, x.transcript())
		}
		checkRecord(t, e.call(x.id), cohereUpstream, true)
		if body := e.upstreamBody(t, x.id); gjson.GetBytes(body, "thinking.type").Str != "enabled" || gjson.GetBytes(body, "thinking.token_budget").Int() != 2048 {
			t.Errorf("Cohere request without the thinking budget: %s", body)
		}
	})

	t.Run("tool use", func(t *testing.T) {
		params := anthropicHello("command")
		params.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?"))}
		params.Tools = []anthropic.ToolUnionParam{anthropicWeatherTool}
		var x exchange
		m, err := anthropicCall(t, e.anthropicSDK(x.capture()), params, true)
		if err != nil {
			t.Fatalf("%v\n%s", err, x.transcript())
		}
		var use *anthropic.ToolUseBlock
		for _, b := range m.Content {
			if b.Type == "tool_use" {
				u := b.AsToolUse()
				use = &u
			}
		}
		if use == nil || m.StopReason != "tool_use" || messageText(m) != coherefake.ToolPlan {
			t.Fatalf("message = %+v (stop %q)\n%s", m.Content, m.StopReason, x.transcript())
		}
		var input map[string]any
		if err := json.Unmarshal(use.Input, &input); err != nil || !reflect.DeepEqual(input, fakeToolInput) || use.Name != "get_weather" {
			t.Errorf("tool_use = %s %s (%v), want input %v", use.Name, use.Input, err, fakeToolInput)
		}
		if n := strings.Count(x.transcript(), `"type":"input_json_delta"`); n < 2 {
			t.Errorf("%d input_json_delta events: want the upstream's argument pieces passed on", n)
		}
		checkRecord(t, e.call(x.id), cohereUpstream, true)
	})
}

// A Cohere stream that breaks off, or reports a failed generation after it
// started, ends with an error event in the client's own format, and the
// record says why.
func TestCohereBrokenStream(t *testing.T) {
	e := startCohere(t)
	spec := openaispec.ForTest(t)
	for _, tc := range []struct {
		name, model string
		errorType   string // on the record
		message     string // on the record
	}{
		{name: "cut off", model: "command-broken", errorType: "upstream_stream_error", message: "the upstream stream broke off"},
		{name: "failed generation", model: "command-failing", errorType: "ERROR", message: coherefake.ErrorMessage},
	} {
		checkRec := func(t *testing.T, rec calllog.Record) {
			t.Helper()
			if rec.Provider != "co" || !rec.Stream || rec.ErrorType != tc.errorType || rec.ErrorMessage != tc.message || !rec.UsageEstimated {
				t.Errorf("record = provider %q, stream %v, error %q %q, usage estimated %v; want error %q %q",
					rec.Provider, rec.Stream, rec.ErrorType, rec.ErrorMessage, rec.UsageEstimated, tc.errorType, tc.message)
			}
		}

		t.Run("OpenAI SDK/"+tc.name, func(t *testing.T) {
			var raw *http.Response
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			params := openaiHello(tc.model)
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			c := e.openaiSDK()
			s := c.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&raw))
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
			spec.Check(t, "ErrorResponse", se.Event.Data)
			if gjson.GetBytes(se.Event.Data, "error.message").Str == "" {
				t.Errorf("error chunk without a message: %s", se.Event.Data)
			}
			if text.String() != "Hello" {
				t.Errorf("text before the break = %q", text.String())
			}
			checkRec(t, e.call(raw.Header.Get("X-Request-Id")))
		})

		t.Run("Anthropic SDK/"+tc.name, func(t *testing.T) {
			var x exchange
			m, err := anthropicCall(t, e.anthropicSDK(x.capture()), anthropicHello(tc.model), true)
			var ae *anthropic.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *anthropic.Error from the stream's error event\n%s", err, x.transcript())
			}
			if !strings.Contains(x.transcript(), "event: error\ndata: ") || ae.Type() != "api_error" {
				t.Errorf("no Anthropic error event of type api_error (type %q):\n%s", ae.Type(), x.transcript())
			}
			if strings.Contains(x.transcript(), "event: message_stop") {
				t.Errorf("a broken stream ended with message_stop:\n%s", x.transcript())
			}
			if messageText(m) != "Hello" {
				t.Errorf("text before the break = %q, want %q", messageText(m), "Hello")
			}
			checkRec(t, e.call(x.id))
		})
	}
}
