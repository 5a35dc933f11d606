package geminifake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/gemini"
	"github.com/hypergate/hypergate/internal/provider/gemini/geminifake"
)

const key = "AIza-fake-test-key"

// post sends body to the fake's method for model and returns the answer.
func post(t *testing.T, s *geminifake.Server, model, method, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL()+"/models/"+model+":"+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-goog-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

const (
	hello    = `{"contents":[{"role":"user","parts":[{"text":"hello"}]}]}`
	thoughts = `{"contents":[{"role":"user","parts":[{"text":"hello"}]}],"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`
	tools    = `{"contents":[{"role":"user","parts":[{"text":"weather?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT"}}]}]}`
	result   = `{"contents":[{"role":"user","parts":[{"text":"weather?"}]},` +
		`{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"location":"Paris"}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp":"18C"}}}]}],` +
		`"tools":[{"functionDeclarations":[{"name":"get_weather"}]}]}`
)

// The fake's answers are read with the gateway's Gemini codec, whose golden
// files come from Gemini's documentation: what it decodes as expected is the
// wire format a test needs.
func TestAnswers(t *testing.T) {
	s := geminifake.New(geminifake.Options{APIKey: key})
	defer s.Close()
	codec := gemini.Codec{}
	for _, tc := range []struct {
		name     string
		body     string
		text     string
		thinking string
		call     string // name(args) of the function call
		finish   llm.FinishReason
		output   int64
	}{
		{name: "text", body: hello, text: "Hello there!", finish: llm.FinishStop, output: geminifake.CandidatesTokens},
		{name: "thoughts", body: thoughts, text: "Hello there!", thinking: geminifake.Thought, finish: llm.FinishStop,
			output: geminifake.CandidatesTokens + geminifake.ThoughtsTokens},
		{name: "function call", body: tools, call: `get_weather({"location":"Paris, France","unit":"celsius"})`,
			finish: llm.FinishToolCalls, output: geminifake.CandidatesTokens},
		{name: "function response", body: result, text: `Tool result: {"name":"get_weather","response":{"temp":"18C"}}`,
			finish: llm.FinishStop, output: geminifake.CandidatesTokens},
	} {
		t.Run(tc.name+"/whole", func(t *testing.T) {
			status, _, b := post(t, s, "gemini-2.5-flash", "generateContent", key, tc.body)
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
			if r.Message.Text() != tc.text || thinking != tc.thinking || call != tc.call || r.Finish != tc.finish || r.Model != "gemini-2.5-flash" {
				t.Errorf("answer = %q / %q / %q / %s / %s\n%s", r.Message.Text(), thinking, call, r.Finish, r.Model, b)
			}
			if r.Usage.InputTokens != geminifake.PromptTokens || r.Usage.OutputTokens != tc.output {
				t.Errorf("usage = %+v", r.Usage)
			}
		})
		t.Run(tc.name+"/streamed", func(t *testing.T) {
			status, h, b := post(t, s, "gemini-2.5-flash", "streamGenerateContent?alt=sse", key, tc.body)
			if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s %s", status, h.Get("Content-Type"), b)
			}
			if !bytes.Contains(b, []byte("\r\n\r\n")) {
				t.Error("events are not CRLF-framed as Gemini's are")
			}
			events := codec.NewStreamReader(bytes.NewReader(b))
			var text, thinking, call string
			var finish llm.FinishReason
			var usage *llm.Usage
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
					call += ev.Text + ")"
				case llm.EventFinish:
					finish = ev.Finish
				case llm.EventUsage:
					usage = ev.Usage
				}
			}
			if text != tc.text || thinking != tc.thinking || call != tc.call || finish != tc.finish {
				t.Errorf("stream = %q / %q / %q / %s\n%s", text, thinking, call, finish, b)
			}
			if usage == nil || usage.InputTokens != geminifake.PromptTokens || usage.OutputTokens != tc.output {
				t.Errorf("usage = %+v", usage)
			}
		})
	}

	t.Run("stream without alt=sse is a JSON array", func(t *testing.T) {
		status, _, b := post(t, s, "gemini-2.5-flash", "streamGenerateContent", key, hello)
		var chunks []json.RawMessage
		if status != 200 || json.Unmarshal(b, &chunks) != nil || len(chunks) != 3 {
			t.Errorf("%d %s", status, b)
		}
	})
	t.Run("broken stream", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.BaseURL()+"/models/broken-stream:streamGenerateContent?alt=sse", strings.NewReader(hello))
		req.Header.Set("x-goog-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		events := codec.NewStreamReader(resp.Body)
		for {
			_, err := events.Next()
			if errors.Is(err, io.EOF) {
				t.Fatal("a cut stream read as complete")
			}
			if err != nil {
				break
			}
		}
	})
	if reqs := s.Requests(); len(reqs) == 0 || reqs[0].Header.Get("x-goog-api-key") != key {
		t.Error("requests were not recorded")
	}
}

func TestErrors(t *testing.T) {
	s := geminifake.New(geminifake.Options{APIKey: key})
	defer s.Close()
	for _, tc := range []struct {
		name, model, key, body string
		status                 int
		code                   string // google.rpc status
		neutral                string // the codec's neutral type
	}{
		{"error-400", "error-400", key, hello, 400, "INVALID_ARGUMENT", "invalid_request_error"},
		{"error-429", "error-429", key, hello, 429, "RESOURCE_EXHAUSTED", "rate_limit_error"},
		{"error-500", "error-500", key, hello, 500, "INTERNAL", "server_error"},
		{"error-503", "error-503", key, hello, 503, "UNAVAILABLE", "server_error"},
		{"no key", "gemini-2.5-flash", "", hello, 403, "PERMISSION_DENIED", "permission_error"},
		{"wrong key", "gemini-2.5-flash", "AIza-other", hello, 400, "INVALID_ARGUMENT", "authentication_error"},
		{"no contents", "gemini-2.5-flash", key, `{"contents":[]}`, 400, "INVALID_ARGUMENT", "invalid_request_error"},
		{"bad role", "gemini-2.5-flash", key, `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, 400, "INVALID_ARGUMENT", "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := post(t, s, tc.model, "generateContent", tc.key, tc.body)
			var e struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Status  string `json:"status"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || status != tc.status || e.Error.Code != tc.status || e.Error.Status != tc.code || e.Error.Message == "" {
				t.Errorf("%d %s, want %d %s", status, b, tc.status, tc.code)
			}
			if got := (gemini.Codec{}).DecodeError(status, b); got.Type != tc.neutral {
				t.Errorf("neutral error = %+v, want type %s", got, tc.neutral)
			}
		})
	}
}
