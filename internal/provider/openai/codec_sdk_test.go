package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

// translatingServer stands where the gateway does when an OpenAI SDK client
// talks to a non-OpenAI upstream: it decodes the client's request with the
// codec and answers with what answer returns, encoded by the codec.
type translatingServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*llm.Request
}

type answer struct {
	resp   *llm.Response
	events []llm.StreamEvent
}

func newTranslatingServer(t *testing.T, answerFor func(*llm.Request) answer) *translatingServer {
	t.Helper()
	s := &translatingServer{}
	c := Codec{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := c.DecodeRequest(body)
		if err != nil {
			le := err.(*llm.Error)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(le.Status)
			_, _ = w.Write(c.EncodeError(le))
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		a := answerFor(req)
		if !req.Stream {
			b, err := c.EncodeResponse(a.resp)
			if err != nil {
				t.Errorf("EncodeResponse: %v", err)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		sw := c.NewStreamWriterFor(w, func() error { fl.Flush(); return nil }, req.IncludeUsage)
		for _, ev := range a.events {
			if err := sw.Write(ev); err != nil {
				t.Errorf("stream Write: %v", err)
			}
		}
		if err := sw.Close(); err != nil {
			t.Errorf("stream Close: %v", err)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *translatingServer) last() *llm.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

func sdkClient(baseURL string) oai.Client {
	return oai.NewClient(option.WithBaseURL(baseURL+"/v1"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var weatherTool = oai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: oai.String("Get the weather for a city"),
	Strict:      oai.Bool(true),
	Parameters: shared.FunctionParameters{
		"type":                 "object",
		"properties":           map[string]any{"city": map[string]any{"type": "string"}},
		"required":             []string{"city"},
		"additionalProperties": false,
	},
})

// TestOpenAISDKToolRoundTrip drives a two-turn tool conversation from the
// official Go SDK through the codec: the SDK must read the translated tool
// calls, and its follow-up must decode to matching calls and results.
func TestOpenAISDKToolRoundTrip(t *testing.T) {
	srv := newTranslatingServer(t, func(r *llm.Request) answer {
		if len(r.Messages) > 1 {
			return answer{resp: &llm.Response{
				ID: "msg_02", Model: "claude-sonnet-4-5", Created: 1750000001,
				Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "Sunny in Oslo, rain in Lima."}}},
				Finish:  llm.FinishStop,
				Usage:   llm.Usage{InputTokens: 200, OutputTokens: 9, Present: true},
			}}
		}
		return answer{resp: &llm.Response{
			ID: "msg_01", Model: "claude-sonnet-4-5", Created: 1750000000,
			Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{{Type: llm.PartThinking, Text: "Two cities, two calls."}},
				ToolCalls: []llm.ToolCall{
					{ID: "toolu_A", Name: "get_weather", Arguments: `{"city":"Oslo"}`},
					{ID: "toolu_B", Name: "get_weather", Arguments: `{"city":"Lima"}`},
				}},
			Finish: llm.FinishToolCalls,
			Usage:  llm.Usage{InputTokens: 150, OutputTokens: 40, CachedInputTokens: 100, ReasoningTokens: 12, Present: true},
		}}
	})
	client := sdkClient(srv.URL)
	params := oai.ChatCompletionNewParams{
		Model: "claude-sonnet-4-5",
		Messages: []oai.ChatCompletionMessageParamUnion{
			oai.SystemMessage("You are terse."),
			oai.UserMessage([]oai.ChatCompletionContentPartUnionParam{
				oai.TextContentPart("Weather in Oslo and Lima? Here is a map."),
				oai.ImageContentPart(oai.ChatCompletionContentPartImageImageURLParam{URL: "data:image/webp;base64,UklGRg==", Detail: "low"}),
			}),
		},
		Tools:               []oai.ChatCompletionToolUnionParam{weatherTool},
		ToolChoice:          oai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: oai.String("required")},
		ParallelToolCalls:   oai.Bool(true),
		MaxCompletionTokens: oai.Int(512),
		Temperature:         oai.Float(0.2),
		Seed:                oai.Int(7),
		Stop:                oai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"END"}},
		ReasoningEffort:     shared.ReasoningEffortLow,
		User:                oai.String("u-1"),
	}
	got, err := client.Chat.Completions.New(ctx(t), params)
	if err != nil {
		t.Fatalf("first turn: %v", err)
	}

	req := srv.last()
	if req.Model != "claude-sonnet-4-5" || req.System[0].Text != "You are terse." || *req.MaxTokens != 512 ||
		*req.Temperature != 0.2 || *req.Seed != 7 || req.Stop[0] != "END" || req.Reasoning.Effort != "low" || req.User != "u-1" {
		t.Errorf("decoded request: %+v", req)
	}
	if img := req.Messages[0].Parts[1]; img.MediaType != "image/webp" || img.Data != "UklGRg==" || img.Detail != "low" {
		t.Errorf("image part: %+v", img)
	}
	if tc := req.ToolChoice; tc == nil || tc.Mode != llm.ToolChoiceRequired || tc.DisableParallel {
		t.Errorf("tool choice: %+v", tc)
	}
	if tool := req.Tools[0]; tool.Name != "get_weather" || !tool.Strict || !strings.Contains(string(tool.Parameters), `"city"`) {
		t.Errorf("tool: %+v", tool)
	}

	choice := got.Choices[0]
	if choice.FinishReason != "tool_calls" || choice.Message.Content != "" || len(choice.Message.ToolCalls) != 2 {
		t.Fatalf("SDK read: %+v", choice)
	}
	if c := choice.Message.ToolCalls[1]; c.ID != "toolu_B" || c.Function.Name != "get_weather" || c.Function.Arguments != `{"city":"Lima"}` {
		t.Errorf("second tool call: %+v", c)
	}
	if _, shown := choice.Message.JSON.ExtraFields["reasoning_content"]; shown {
		t.Error("thinking reached the client without ReasoningContent")
	}
	if u := got.Usage; u.TotalTokens != 190 || u.PromptTokensDetails.CachedTokens != 100 || u.CompletionTokensDetails.ReasoningTokens != 12 {
		t.Errorf("usage: %+v", u)
	}

	params.Messages = append(params.Messages, choice.Message.ToParam(),
		oai.ToolMessage(`{"sky":"clear"}`, "toolu_A"),
		oai.ToolMessage(`{"sky":"rain"}`, "toolu_B"))
	got, err = client.Chat.Completions.New(ctx(t), params)
	if err != nil {
		t.Fatalf("second turn: %v", err)
	}
	if got.Choices[0].Message.Content != "Sunny in Oslo, rain in Lima." || got.ID != "msg_02" {
		t.Errorf("second answer: %+v", got.Choices[0].Message)
	}
	req = srv.last()
	if n := len(req.Messages); n != 4 {
		t.Fatalf("%d messages decoded, want 4: %+v", n, req.Messages)
	}
	asst, res := req.Messages[1], req.Messages[3]
	if asst.Role != llm.RoleAssistant || len(asst.ToolCalls) != 2 || asst.ToolCalls[0].ID != "toolu_A" || asst.ToolCalls[0].Arguments != `{"city":"Oslo"}` {
		t.Errorf("assistant turn: %+v", asst)
	}
	if res.Role != llm.RoleTool || res.ToolCallID != "toolu_B" || res.Text() != `{"sky":"rain"}` {
		t.Errorf("tool result: %+v", res)
	}
}

// streamEvents is a translated answer with text and two tool calls whose
// arguments arrive in pieces, as an Anthropic upstream sends them.
var streamEvents = []llm.StreamEvent{
	{Type: llm.EventStart, ID: "msg_0123", Model: "claude-haiku-4-5", Created: 1750000000},
	{Type: llm.EventThinking, Text: "Check both."},
	{Type: llm.EventText, Text: "Checking "},
	{Type: llm.EventText, Text: "both cities."},
	{Type: llm.EventToolCallStart, Index: 1, ToolCall: &llm.ToolCall{ID: "toolu_X", Name: "get_weather"}},
	{Type: llm.EventToolCallArgs, Index: 1, Text: `{"ci`},
	{Type: llm.EventToolCallArgs, Index: 1, Text: `ty":"Oslo"}`},
	{Type: llm.EventToolCallStart, Index: 2, ToolCall: &llm.ToolCall{ID: "toolu_Y", Name: "get_weather"}},
	{Type: llm.EventToolCallArgs, Index: 2, Text: `{"city":`},
	{Type: llm.EventToolCallArgs, Index: 2, Text: `"Lima"}`},
	{Type: llm.EventFinish, Finish: llm.FinishToolCalls},
	{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 30, OutputTokens: 20, Present: true}},
}

// TestOpenAISDKStreaming reads a translated stream with the SDK's stream
// decoder and accumulator, with and without include_usage.
func TestOpenAISDKStreaming(t *testing.T) {
	srv := newTranslatingServer(t, func(*llm.Request) answer { return answer{events: streamEvents} })
	client := sdkClient(srv.URL)
	for _, includeUsage := range []bool{true, false} {
		name := "without usage"
		if includeUsage {
			name = "with usage"
		}
		t.Run(name, func(t *testing.T) {
			params := oai.ChatCompletionNewParams{
				Model:    "claude-haiku-4-5",
				Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("Weather in Oslo and Lima?")},
				Tools:    []oai.ChatCompletionToolUnionParam{weatherTool},
			}
			if includeUsage {
				params.StreamOptions = oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)}
			}
			stream := client.Chat.Completions.NewStreaming(ctx(t), params)
			var acc oai.ChatCompletionAccumulator
			var finished []string
			chunks := 0
			for stream.Next() {
				chunks++
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("the accumulator rejected chunk %d: %s", chunks, stream.Current().RawJSON())
				}
				if tc, ok := acc.JustFinishedToolCall(); ok {
					finished = append(finished, tc.Name+tc.Arguments)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if srv.last().IncludeUsage != includeUsage {
				t.Errorf("IncludeUsage decoded as %v", srv.last().IncludeUsage)
			}
			msg := acc.Choices[0].Message
			if msg.Content != "Checking both cities." || acc.ID != "msg_0123" || acc.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("accumulated: id %q finish %q content %q", acc.ID, acc.Choices[0].FinishReason, msg.Content)
			}
			if len(msg.ToolCalls) != 2 || msg.ToolCalls[0].ID != "toolu_X" || msg.ToolCalls[0].Function.Arguments != `{"city":"Oslo"}` ||
				msg.ToolCalls[1].ID != "toolu_Y" || msg.ToolCalls[1].Function.Arguments != `{"city":"Lima"}` {
				t.Errorf("tool calls: %+v", msg.ToolCalls)
			}
			if want := []string{`get_weather{"city":"Oslo"}`, `get_weather{"city":"Lima"}`}; strings.Join(finished, "|") != strings.Join(want, "|") {
				t.Errorf("finished tool calls %q, want %q", finished, want)
			}
			wantTotal := int64(0)
			if includeUsage {
				wantTotal = 50
			}
			if acc.Usage.TotalTokens != wantTotal {
				t.Errorf("usage total %d, want %d", acc.Usage.TotalTokens, wantTotal)
			}
		})
	}
}

// TestOpenAISDKError checks that the SDK reads a codec error as an API
// error with its status, type and message.
func TestOpenAISDKError(t *testing.T) {
	srv := newTranslatingServer(t, func(*llm.Request) answer { t.Error("the request was not refused"); return answer{} })
	client := sdkClient(srv.URL)
	_, err := client.Chat.Completions.New(ctx(t), oai.ChatCompletionNewParams{
		Model:    "claude-haiku-4-5",
		Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("Two answers, please.")},
		N:        oai.Int(2),
	})
	var apiErr *oai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *openai.Error", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Type != "invalid_request_error" || !strings.Contains(apiErr.Message, "'n'") {
		t.Errorf("got %d %q %q", apiErr.StatusCode, apiErr.Type, apiErr.Message)
	}
}

// TestUpstreamFake sends encoded requests to the OpenAI-compatible fake
// upstream and reads its answers, streamed and not, and its errors.
func TestUpstreamFake(t *testing.T) {
	fake := openaifake.New(openaifake.Options{})
	defer fake.Close()
	c := Codec{}
	post := func(t *testing.T, req *llm.Request) *http.Response {
		t.Helper()
		body, err := c.EncodeRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		hr, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, Adapter{}.URL(fake.BaseURL(), "chat", "", req.Stream), bytes.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	request := func(model string, stream bool) *llm.Request {
		n := 50
		return &llm.Request{
			Model: model, Stream: stream, MaxTokens: &n,
			System:   []llm.Part{{Type: llm.PartText, Text: "Be brief."}},
			Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi"}}}},
		}
	}

	t.Run("plain", func(t *testing.T) {
		resp := post(t, request("llama3.2", false))
		body, _ := io.ReadAll(resp.Body)
		got, err := c.DecodeResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.Message.Text() != "Hello there!" || got.Finish != llm.FinishStop || got.Model != "llama3.2" || got.Usage.InputTokens != 12 {
			t.Errorf("decoded %+v", got)
		}
	})
	t.Run("stream", func(t *testing.T) {
		resp := post(t, request("llama3.2", true))
		evs, end := readEvents(t, c.NewStreamReader(resp.Body))
		if !errors.Is(end, io.EOF) {
			t.Fatalf("stream ended with %v", end)
		}
		var types []string
		for _, ev := range evs {
			types = append(types, string(ev.Type)+":"+ev.Text)
		}
		want := "start:|text:Hello|text: there|text:!|finish:|usage:"
		if strings.Join(types, "|") != want {
			t.Errorf("events %s, want %s", strings.Join(types, "|"), want)
		}
		if u := evs[len(evs)-1].Usage; u == nil || u.InputTokens != 12 || u.OutputTokens != 3 {
			t.Errorf("usage %+v", u)
		}
	})
	t.Run("broken stream", func(t *testing.T) {
		resp := post(t, request("broken-stream", true))
		_, end := readEvents(t, c.NewStreamReader(resp.Body))
		var le *llm.Error
		if !errors.As(end, &le) || le.Status != 502 {
			t.Errorf("stream ended with %v, want a 502 *llm.Error", end)
		}
	})
	for _, tt := range []struct {
		model string
		want  llm.Error
	}{
		{"error-429", llm.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached for requests."}},
		{"error-400", llm.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "This model's maximum context length is 8 tokens."}},
		{"error-html", llm.Error{Status: 502, Type: "upstream_error", Message: "the upstream answered HTTP Bad Gateway: <html><body>Bad Gateway</body></html>"}},
	} {
		t.Run(tt.model, func(t *testing.T) {
			resp := post(t, request(tt.model, false))
			body, _ := io.ReadAll(resp.Body)
			if got := c.DecodeError(resp.StatusCode, body); *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
	// The fake echoes nothing of the request, so check what it was sent.
	reqs := fake.Requests()
	if len(reqs) == 0 || !strings.Contains(string(reqs[1].Body), `"stream_options":{"include_usage":true}`) {
		t.Errorf("the streamed request did not ask for usage")
	}
}
