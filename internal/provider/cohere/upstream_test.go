package cohere

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

const fakeKey = "co-test-key"

// fakeCohere is an upstream speaking Cohere's documented v2 chat wire
// format: POST /v2/chat with a bearer key, answered with one JSON body or,
// when the body says "stream": true, with named server-sent events
// (message-start, content-*, tool-plan-delta, tool-call-*, message-end),
// and {"id", "message"} error bodies. It calls the first tool when tools
// are offered and the last message is the user's, and otherwise echoes the
// user's text.
type fakeCohere struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []chatRequest
	auth   []string
}

func newFakeCohere(t *testing.T) *fakeCohere {
	f := &fakeCohere{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/chat", f.serve)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func cohereError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(apiError{ID: "err-1", Message: msg})
}

func (f *fakeCohere) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var req chatRequest
	err := json.Unmarshal(raw, &req)
	f.mu.Lock()
	f.bodies = append(f.bodies, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+fakeKey {
		cohereError(w, 401, "invalid api token")
		return
	}
	if err != nil || req.Model == "" || len(req.Messages) == 0 {
		cohereError(w, 400, "invalid request: model and messages are required")
		return
	}
	last := req.Messages[len(req.Messages)-1]
	call := len(req.Tools) > 0 && last.Role == "user"
	var echo string
	if parts, ok := last.Content.([]any); ok && len(parts) > 0 {
		if p, ok := parts[len(parts)-1].(map[string]any); ok {
			echo, _ = p["text"].(string)
		}
	} else if s, ok := last.Content.(string); ok {
		echo = "Tool said " + s
	}
	echo = "You said: " + echo
	const id = "fake-generation-id"
	usage := `{"billed_units":{"input_tokens":7,"output_tokens":5},"tokens":{"input_tokens":70,"output_tokens":5}}`

	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		if call {
			fmt.Fprintf(w, `{"id":%q,"finish_reason":"TOOL_CALL","message":{"role":"assistant","tool_plan":"I will check.","tool_calls":[{"id":"%s_abc","type":"function","function":{"name":%q,"arguments":"{\"location\":\"London\"}"}}]},"usage":%s}`,
				id, req.Tools[0].Function.Name, req.Tools[0].Function.Name, usage)
			return
		}
		b, _ := json.Marshal(echo)
		fmt.Fprintf(w, `{"id":%q,"finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":%s}]},"usage":%s}`, id, b, usage)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	send := func(typ, data string) {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, data)
		flusher.Flush()
	}
	send("message-start", `{"id":"`+id+`","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`)
	finish := "COMPLETE"
	if call {
		finish = "TOOL_CALL"
		send("tool-plan-delta", `{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will check."}}}`)
		send("tool-call-start", `{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"call_abc","type":"function","function":{"name":"`+req.Tools[0].Function.Name+`","arguments":""}}}}}`)
		for _, piece := range []string{`{\"loc`, `ation\": `, `\"London\"}`} {
			send("tool-call-delta", `{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"`+piece+`"}}}}}`)
		}
		send("tool-call-end", `{"type":"tool-call-end","index":0}`)
	} else {
		send("content-start", `{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}`)
		for _, word := range strings.SplitAfter(echo, " ") {
			b, _ := json.Marshal(word)
			send("content-delta", `{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":`+string(b)+`}}}}`)
		}
		send("content-end", `{"type":"content-end","index":0}`)
	}
	send("message-end", `{"type":"message-end","delta":{"finish_reason":"`+finish+`","usage":`+usage+`}}`)
}

// send posts body to the upstream the way the gateway does: the adapter's
// URL and credentials, the codec's body.
func send(t *testing.T, u *provider.Upstream, model string, stream bool, body []byte) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.URL(provider.Chat, model, stream), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	key, _ := u.Key()
	for _, h := range u.Adapter.Credentials(key) {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestFakeUpstreamEndToEnd(t *testing.T) {
	fake := newFakeCohere(t)
	u, err := provider.NewUpstream("cohere-main", Type, fake.URL+"/v2/", []string{fakeKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codec := u.Codec()
	chat := &llm.Request{
		Model:    "command-a-03-2025",
		System:   []llm.Part{{Type: llm.PartText, Text: "Be brief."}},
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hello there"}}}},
	}
	withTools := &llm.Request{
		Model:    chat.Model,
		Messages: chat.Messages,
		Tools: []llm.Tool{{Name: "get_weather", Parameters: json.RawMessage(
			`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}`)}},
	}
	body := func(r *llm.Request, stream bool) []byte {
		c := *r
		c.Stream = stream
		b, err := codec.EncodeRequest(&c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("chat", func(t *testing.T) {
		resp := send(t, u, chat.Model, false, body(chat, false))
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		got, err := codec.DecodeResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.Message.Text() != "You said: Hello there" || got.Finish != llm.FinishStop || got.ID != "fake-generation-id" ||
			got.Usage != (llm.Usage{InputTokens: 7, OutputTokens: 5, Present: true}) {
			t.Errorf("response = %+v", got)
		}
	})

	t.Run("tool call and result", func(t *testing.T) {
		resp := send(t, u, chat.Model, false, body(withTools, false))
		raw, _ := io.ReadAll(resp.Body)
		got, err := codec.DecodeResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := llm.ToolCall{ID: "get_weather_abc", Name: "get_weather", Arguments: `{"location":"London"}`}
		if got.Finish != llm.FinishToolCalls || len(got.Message.ToolCalls) != 1 || got.Message.ToolCalls[0] != want ||
			got.Message.Text() != "I will check." {
			t.Fatalf("response = %+v, want tool call %+v", got, want)
		}
		next := &llm.Request{Model: chat.Model, Tools: withTools.Tools, Messages: append(append([]llm.Message{}, withTools.Messages...),
			got.Message,
			llm.Message{Role: llm.RoleTool, ToolCallID: want.ID, Parts: []llm.Part{{Type: llm.PartText, Text: `{"temperature":25}`}}},
		)}
		resp = send(t, u, chat.Model, false, body(next, false))
		raw, _ = io.ReadAll(resp.Body)
		if got, err = codec.DecodeResponse(raw); err != nil || got.Finish != llm.FinishStop ||
			got.Message.Text() != `You said: Tool said {"temperature":25}` {
			t.Fatalf("second turn: %+v, %v (%s)", got, err, raw)
		}
		fake.mu.Lock()
		sent := fake.bodies[len(fake.bodies)-1].Messages
		fake.mu.Unlock()
		if a := sent[1]; a.Role != "assistant" || a.ToolPlan != "I will check." || len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != want.ID {
			t.Errorf("replayed assistant turn = %+v", a)
		}
	})

	t.Run("stream text", func(t *testing.T) {
		resp := send(t, u, chat.Model, true, body(chat, true))
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type = %q", ct)
		}
		tr := readStream(codec.NewStreamReader(resp.Body))
		var text strings.Builder
		var types []string
		for _, ev := range tr.Events {
			types = append(types, string(ev.Type))
			if ev.Type == llm.EventText {
				text.WriteString(ev.Text)
			}
		}
		if want := "start text text text text finish usage"; tr.End != io.EOF.Error() || strings.Join(types, " ") != want ||
			text.String() != "You said: Hello there" {
			t.Errorf("events = %s (text %q, end %s), want %s", strings.Join(types, " "), text.String(), tr.End, want)
		}
	})

	t.Run("stream tool call", func(t *testing.T) {
		resp := send(t, u, chat.Model, true, body(withTools, true))
		tr := readStream(codec.NewStreamReader(resp.Body))
		var args strings.Builder
		var types []string
		for _, ev := range tr.Events {
			types = append(types, string(ev.Type))
			if ev.Type == llm.EventToolCallArgs {
				args.WriteString(ev.Text)
			}
		}
		want := "start text tool_call tool_call_args tool_call_args tool_call_args finish usage"
		if tr.End != io.EOF.Error() || strings.Join(types, " ") != want || args.String() != `{"location": "London"}` {
			t.Errorf("events = %s (args %q, end %s), want %s", strings.Join(types, " "), args.String(), tr.End, want)
		}
		if fin := tr.Events[len(tr.Events)-2]; fin.Finish != llm.FinishToolCalls {
			t.Errorf("finish = %q, want tool_calls", fin.Finish)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		bad, err := provider.NewUpstream("cohere-bad", Type, fake.URL+"/v2", []string{"wrong"}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		resp := send(t, bad, chat.Model, false, body(chat, false))
		raw, _ := io.ReadAll(resp.Body)
		e := codec.DecodeError(resp.StatusCode, raw)
		if *e != (llm.Error{Status: 401, Type: "authentication_error", Message: "invalid api token"}) {
			t.Errorf("status %d → %+v", resp.StatusCode, e)
		}
	})

	fake.mu.Lock()
	defer fake.mu.Unlock()
	for i, b := range fake.bodies {
		if b.Model != "command-a-03-2025" {
			t.Errorf("request %d: model %q", i, b.Model)
		}
	}
	if len(fake.bodies) == 0 || fake.bodies[0].Messages[0].Role != "system" {
		t.Errorf("first request did not lead with the system message: %+v", fake.bodies)
	}
}
