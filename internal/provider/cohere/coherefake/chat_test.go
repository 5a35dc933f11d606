package coherefake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/cohere"
	"github.com/hypergate/hypergate/internal/provider/cohere/coherefake"
)

const chatKey = "co-fake-test-key"

// chatPost sends body to the fake's chat endpoint and returns the answer.
func chatPost(t *testing.T, s *coherefake.ChatServer, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL()+"/chat", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// chatStream returns body with "stream" set.
func chatStream(body string, stream bool) string {
	if !stream {
		return body
	}
	return strings.Replace(body, "{", `{"stream":true,`, 1)
}

const (
	chatHello    = `{"model":"command-a-03-2025","messages":[{"role":"user","content":[{"type":"text","text":"hello"}]}]}`
	chatThinking = `{"model":"command-a-reasoning-08-2025","messages":[{"role":"user","content":[{"type":"text","text":"hello"}]}],"thinking":{"type":"enabled"}}`
	chatTools    = `{"model":"command-a-03-2025","messages":[{"role":"user","content":[{"type":"text","text":"weather?"}]}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	chatResult = `{"model":"command-a-03-2025","messages":[{"role":"user","content":[{"type":"text","text":"weather?"}]},` +
		`{"role":"assistant","tool_plan":"x","tool_calls":[{"id":"get_weather_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"get_weather_1","content":"{\"temp\":\"18C\"}"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather"}}]}`
)

// The fake's answers are read with the gateway's Cohere codec, whose golden
// files come from Cohere's documentation: what it decodes as expected is
// the wire format a test needs.
func TestChatAnswers(t *testing.T) {
	s := coherefake.NewChat(coherefake.ChatOptions{APIKey: chatKey})
	defer s.Close()
	codec := cohere.Codec{}
	wantUsage := llm.Usage{InputTokens: coherefake.InputTokens, OutputTokens: coherefake.OutputTokens, Present: true}
	for _, tc := range []struct {
		name     string
		body     string
		text     string
		thinking string
		call     string // name(args) of the tool call
		finish   llm.FinishReason
	}{
		{name: "text", body: chatHello, text: "Hello there!", finish: llm.FinishStop},
		{name: "thinking", body: chatThinking, text: "Hello there!", thinking: coherefake.Thinking, finish: llm.FinishStop},
		{name: "tool call", body: chatTools, text: coherefake.ToolPlan, finish: llm.FinishToolCalls,
			call: `get_weather({"location": "Paris, France", "unit": "celsius"})`},
		{name: "tool result", body: chatResult, text: `Tool result: {"temp":"18C"}`, finish: llm.FinishStop},
	} {
		t.Run(tc.name+"/whole", func(t *testing.T) {
			status, _, b := chatPost(t, s, chatKey, tc.body)
			if status != 200 {
				t.Fatalf("%d %s", status, b)
			}
			r, err := codec.DecodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			var thinking, call string
			for _, p := range r.Message.Parts {
				if p.Type == llm.PartThinking {
					thinking += p.Text
				}
			}
			for _, c := range r.Message.ToolCalls {
				call += c.Name + "(" + c.Arguments + ")"
			}
			if r.Message.Text() != tc.text || thinking != tc.thinking || call != tc.call || r.Finish != tc.finish || r.Usage != wantUsage {
				t.Errorf("answer = %q / %q / %q / %s / %+v\n%s", r.Message.Text(), thinking, call, r.Finish, r.Usage, b)
			}
		})
		t.Run(tc.name+"/streamed", func(t *testing.T) {
			status, h, b := chatPost(t, s, chatKey, chatStream(tc.body, true))
			if status != 200 || h.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("%d %s %s", status, h.Get("Content-Type"), b)
			}
			events := codec.NewStreamReader(bytes.NewReader(b))
			var text, thinking, call string
			var finish llm.FinishReason
			var usage *llm.Usage
			pieces := 0
			for {
				ev, err := events.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%v\n%s", err, b)
				}
				switch ev.Type {
				case llm.EventText:
					text += ev.Text
				case llm.EventThinking:
					thinking += ev.Text
				case llm.EventToolCallStart:
					call += ev.ToolCall.Name + "("
				case llm.EventToolCallArgs:
					call += ev.Text
					pieces++
				case llm.EventFinish:
					finish = ev.Finish
				case llm.EventUsage:
					usage = ev.Usage
				}
			}
			if tc.call != "" {
				call += ")"
				if pieces < 2 {
					t.Errorf("the arguments came in %d pieces, want them split", pieces)
				}
			}
			if text != tc.text || thinking != tc.thinking || call != tc.call || finish != tc.finish {
				t.Errorf("stream = %q / %q / %q / %s\n%s", text, thinking, call, finish, b)
			}
			if usage == nil || *usage != wantUsage {
				t.Errorf("usage = %+v", usage)
			}
		})
	}

	t.Run("tool choice NONE answers in text", func(t *testing.T) {
		_, _, b := chatPost(t, s, chatKey, strings.Replace(chatTools, `"tools"`, `"tool_choice":"NONE","tools"`, 1))
		if r, err := codec.DecodeResponse(b); err != nil || r.Message.Text() != "Hello there!" || len(r.Message.ToolCalls) != 0 {
			t.Errorf("%+v %v", r, err)
		}
	})
	t.Run("broken stream", func(t *testing.T) {
		_, _, b := chatPost(t, s, chatKey, chatStream(strings.Replace(chatHello, "command-a-03-2025", "broken-stream", 1), true))
		tr := readChat(codec.NewStreamReader(bytes.NewReader(b)))
		if tr.text != "Hello" || tr.err == nil || errors.Is(tr.err, io.EOF) || tr.failure != nil {
			t.Errorf("a cut stream read as %+v", tr)
		}
	})
	t.Run("error mid-stream", func(t *testing.T) {
		_, _, b := chatPost(t, s, chatKey, chatStream(strings.Replace(chatHello, "command-a-03-2025", "error-mid-stream", 1), true))
		tr := readChat(codec.NewStreamReader(bytes.NewReader(b)))
		if tr.text != "Hello" || !errors.Is(tr.err, io.EOF) || tr.failure == nil || tr.failure.Message != coherefake.ErrorMessage {
			t.Errorf("stream = %+v (failure %+v)", tr, tr.failure)
		}
	})
	if reqs := s.Requests(); len(reqs) == 0 || reqs[0].Header.Get("Authorization") != "Bearer "+chatKey || reqs[0].Path != "/v2/chat" {
		t.Error("requests were not recorded")
	}
}

// chatTranscript is what a stream reader yielded.
type chatTranscript struct {
	text    string
	failure *llm.Error // an error event's
	err     error      // what ended the stream
}

func readChat(r llm.StreamReader) chatTranscript {
	var tr chatTranscript
	for {
		ev, err := r.Next()
		if err != nil {
			tr.err = err
			return tr
		}
		switch ev.Type {
		case llm.EventText:
			tr.text += ev.Text
		case llm.EventError:
			tr.failure = ev.Err
		}
	}
}

func TestChatErrors(t *testing.T) {
	s := coherefake.NewChat(coherefake.ChatOptions{APIKey: chatKey})
	defer s.Close()
	model := func(m string) string { return strings.Replace(chatHello, "command-a-03-2025", m, 1) }
	for _, tc := range []struct {
		name, key, body string
		status          int
		neutral         string // the codec's neutral type
	}{
		{"error-400", chatKey, model("error-400"), 400, "invalid_request_error"},
		{"error-429", chatKey, model("error-429"), 429, "rate_limit_error"},
		{"error-500", chatKey, model("error-500"), 500, "server_error"},
		{"no key", "", chatHello, 401, "authentication_error"},
		{"wrong key", "co-other", chatHello, 401, "authentication_error"},
		{"not JSON", chatKey, `{"model":`, 400, "invalid_request_error"},
		{"no model", chatKey, `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"no messages", chatKey, `{"model":"command-a-03-2025","messages":[]}`, 400, "invalid_request_error"},
		{"bad role", chatKey, `{"model":"command-a-03-2025","messages":[{"role":"model","content":"x"}]}`, 400, "invalid_request_error"},
		{"tool result without id", chatKey, `{"model":"command-a-03-2025","messages":[{"role":"tool","content":"x"}]}`, 400, "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := chatPost(t, s, tc.key, tc.body)
			var e struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(b, &e); err != nil || status != tc.status || e.ID == "" || e.Message == "" {
				t.Errorf("%d %s, want %d with Cohere's error body", status, b, tc.status)
			}
			if got := (cohere.Codec{}).DecodeError(status, b); got.Type != tc.neutral || got.Message != e.Message {
				t.Errorf("neutral error = %+v, want type %s", got, tc.neutral)
			}
		})
	}
}
