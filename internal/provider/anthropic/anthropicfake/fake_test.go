package anthropicfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/hypergate/hypergate/internal/provider/anthropic/anthropicfake"
)

// The fake is checked with the official SDK as its client: what the SDK
// reads without complaint is Anthropic's wire format as far as a test needs.

func client(s *anthropicfake.Server) anthropic.Client {
	return anthropic.NewClient(option.WithBaseURL(s.URL+"/"), option.WithAPIKey("sk-ant-test"), option.WithMaxRetries(0))
}

var weatherTool = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
	Name: "get_weather",
	InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"location": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"}},
		Required:   []string{"location"},
	},
}}}

func params(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: 2048,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello"))},
	}
}

func TestAnswers(t *testing.T) {
	s := anthropicfake.New(anthropicfake.Options{})
	defer s.Close()
	c := client(s)
	thinking := params("claude-sonnet-4-5")
	thinking.Thinking = anthropic.ThinkingConfigParamOfEnabled(1024)
	tools := params("claude-sonnet-4-5")
	tools.Tools = weatherTool

	for _, tc := range []struct {
		name     string
		params   anthropic.MessageNewParams
		types    []string // the content blocks' types
		text     string
		stop     anthropic.StopReason
		thinking string
		input    string
	}{
		{name: "text", params: params("claude-sonnet-4-5"), types: []string{"text"}, text: "Hello there!", stop: "end_turn"},
		{name: "thinking", params: thinking, types: []string{"thinking", "text"}, text: "Hello there!", stop: "end_turn", thinking: anthropicfake.Thinking},
		{name: "tool use", params: tools, types: []string{"text", "tool_use"}, text: anthropicfake.ToolText, stop: "tool_use",
			input: `{"location":"Paris, France","unit":"celsius"}`},
	} {
		check := func(t *testing.T, m *anthropic.Message) {
			t.Helper()
			var types []string
			var text, thought, input string
			for _, b := range m.Content {
				types = append(types, b.Type)
				switch b.Type {
				case "text":
					text += b.Text
				case "thinking":
					thought += b.Thinking
					if b.Signature != anthropicfake.Signature {
						t.Errorf("signature = %q", b.Signature)
					}
				case "tool_use":
					input = string(b.Input)
					if b.Name != "get_weather" || !strings.HasPrefix(b.ID, "toolu_") {
						t.Errorf("tool_use block = %+v", b)
					}
				}
			}
			if strings.Join(types, ",") != strings.Join(tc.types, ",") || text != tc.text || thought != tc.thinking || input != tc.input || m.StopReason != tc.stop {
				t.Errorf("message: types %v, text %q, thinking %q, input %s, stop %q", types, text, thought, input, m.StopReason)
			}
			u := m.Usage
			if u.InputTokens != anthropicfake.InputTokens || u.CacheReadInputTokens != anthropicfake.CacheReadTokens ||
				u.CacheCreationInputTokens != anthropicfake.CacheWriteTokens || u.OutputTokens != anthropicfake.OutputTokens {
				t.Errorf("usage = %+v", u)
			}
			if m.Model != "claude-sonnet-4-5" {
				t.Errorf("model = %q", m.Model)
			}
		}
		t.Run(tc.name+"/whole", func(t *testing.T) {
			m, err := c.Messages.New(context.Background(), tc.params)
			if err != nil {
				t.Fatal(err)
			}
			check(t, m)
		})
		t.Run(tc.name+"/streamed", func(t *testing.T) {
			stream := c.Messages.NewStreaming(context.Background(), tc.params)
			var m anthropic.Message
			for stream.Next() {
				if err := m.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			check(t, &m)
		})
	}
}

func TestToolResultTurn(t *testing.T) {
	s := anthropicfake.New(anthropicfake.Options{})
	defer s.Close()
	c := client(s)
	p := params("claude-sonnet-4-5")
	p.Tools = weatherTool
	first, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	use := first.Content[1].AsToolUse()
	p.Messages = append(p.Messages, first.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, "18°C and sunny", false)))
	second, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Content[0].Text; got != "Tool result: 18°C and sunny" || second.StopReason != "end_turn" {
		t.Errorf("second turn = %q (%s)", got, second.StopReason)
	}

	// A result that answers no tool_use is refused, as Anthropic does.
	p.Messages[2] = anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_unknown", "x", false))
	_, err = c.Messages.New(context.Background(), p)
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Error(), "tool_use_id") {
		t.Errorf("unmatched tool_result: %v", err)
	}
}

func TestErrors(t *testing.T) {
	s := anthropicfake.New(anthropicfake.Options{APIKey: "sk-ant-test"})
	defer s.Close()
	c := client(s)
	for _, tc := range []struct {
		model  string
		status int
		typ    anthropic.ErrorType
	}{
		{"error-400", 400, "invalid_request_error"},
		{"error-429", 429, "rate_limit_error"},
		{"error-500", 500, "api_error"},
		{"overloaded-529", 529, "overloaded_error"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			var raw *http.Response
			_, err := c.Messages.New(context.Background(), params(tc.model), option.WithResponseInto(&raw))
			var ae *anthropic.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *anthropic.Error", err)
			}
			if ae.StatusCode != tc.status || ae.Type() != tc.typ {
				t.Errorf("error = %d %q, want %d %q", ae.StatusCode, ae.Type(), tc.status, tc.typ)
			}
			if tc.status == 429 && ae.Response.Header.Get("retry-after") != "7" {
				t.Error("no retry-after on the 429")
			}
		})
	}

	t.Run("stream errors", func(t *testing.T) {
		for _, model := range []string{"broken-stream", "error-mid-stream"} {
			stream := c.Messages.NewStreaming(context.Background(), params(model))
			var m anthropic.Message
			for stream.Next() {
				_ = m.Accumulate(stream.Current())
			}
			if stream.Err() == nil {
				t.Errorf("%s: the stream ended without an error", model)
			}
			if model == "error-mid-stream" {
				var ae *anthropic.Error
				if !errors.As(stream.Err(), &ae) || ae.Type() != "overloaded_error" {
					t.Errorf("%s: err = %v, want an overloaded_error", model, stream.Err())
				}
			}
		}
	})

	t.Run("headers and body", func(t *testing.T) {
		for _, tc := range []struct {
			name, key, version, body string
			status                   int
			want                     string
		}{
			{"no key", "", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 401, "x-api-key"},
			{"wrong key", "sk-ant-other", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 401, "invalid x-api-key"},
			{"no version", "sk-ant-test", "", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "anthropic-version"},
			{"no max_tokens", "sk-ant-test", "2023-06-01", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens: Field required"},
			{"system message first", "sk-ant-test", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, 400, "must immediately follow a user message"},
			{"unknown role", "sk-ant-test", "2023-06-01", `{"model":"m","max_tokens":5,"messages":[{"role":"developer","content":"hi"}]}`, 400, "messages.0.role"},
			{"thinking budget", "sk-ant-test", "2023-06-01", `{"model":"m","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", s.BaseURL()+"/messages", strings.NewReader(tc.body))
				if tc.key != "" {
					req.Header.Set("x-api-key", tc.key)
				}
				if tc.version != "" {
					req.Header.Set("anthropic-version", tc.version)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var e struct {
					Type  string `json:"type"`
					Error struct{ Type, Message string }
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Type != "error" || resp.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.want) {
					t.Errorf("%d %s, want %d mentioning %q", resp.StatusCode, b, tc.status, tc.want)
				}
			})
		}
	})
	if n := len(s.Requests()); n == 0 || s.Requests()[0].Header.Get("x-api-key") != "sk-ant-test" {
		t.Errorf("requests were not recorded: %d", n)
	}
}
