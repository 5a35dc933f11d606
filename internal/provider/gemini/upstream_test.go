package gemini

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

const fakeKey = "AIza-test-key"

// fakeGemini is an upstream speaking the Gemini API's documented wire
// format: generateContent as one JSON body, streamGenerateContent?alt=sse
// as server-sent events with CRLF framing and no end sentinel,
// batchEmbedContents, and Google error bodies — API_KEY_INVALID for a wrong key, as Gemini
// answers. It calls the first declared function when the last turn is the
// user's and tools are offered, and otherwise echoes the user's text.
type fakeGemini struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func newFakeGemini(t *testing.T) *fakeGemini {
	f := &fakeGemini{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1beta/models/{call}", f.serve)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGemini) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()

	if r.Header.Get("x-goog-api-key") != fakeKey {
		googleError(w, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
		return
	}
	i := strings.LastIndexByte(r.PathValue("call"), ':')
	if i < 0 {
		googleError(w, 404, "NOT_FOUND", "Method not found.", "")
		return
	}
	model, method := r.PathValue("call")[:i], r.PathValue("call")[i+1:]
	switch method {
	case "batchEmbedContents":
		var req batchEmbedRequest
		if err := json.Unmarshal(body, &req); err != nil || len(req.Requests) != 1 || req.Requests[0].Model != "models/"+model {
			googleError(w, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: the model of each request must match the batch's", "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"embeddings":[{"values":[0.013168523,-0.008711934,-0.046782676]}]}`)
		return
	case "generateContent", "streamGenerateContent":
	default:
		googleError(w, 404, "NOT_FOUND", "Method not found.", "")
		return
	}
	var req generateRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.Contents) == 0 {
		googleError(w, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified", "")
		return
	}
	last := req.Contents[len(req.Contents)-1]
	var call *functionCall
	if len(req.Tools) > 0 && last.Parts[0].FunctionResponse == nil {
		call = &functionCall{Name: req.Tools[0].FunctionDeclarations[0].Name, Args: json.RawMessage(`{"location":"London"}`)}
	}
	echo := "You said: " + last.Parts[len(last.Parts)-1].Text
	rid := "fake-" + model

	if method == "generateContent" {
		p := part{Text: echo}
		if call != nil {
			p = part{FunctionCall: call}
		}
		resp := map[string]any{
			"candidates":    []any{map[string]any{"content": content{Role: "model", Parts: []part{p}}, "finishReason": "STOP", "index": 0}},
			"usageMetadata": map[string]int{"promptTokenCount": 7, "candidatesTokenCount": 5, "totalTokenCount": 12},
			"modelVersion":  model,
			"responseId":    rid,
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse Gemini streams one JSON array; the codec does not
		// read that, so a request without it is a bug in URL.
		googleError(w, 400, "INVALID_ARGUMENT", "test fake: alt=sse missing", "")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	send := func(parts []part, finish string, usage map[string]int) {
		c := map[string]any{"content": content{Role: "model", Parts: parts}, "index": 0}
		if finish != "" {
			c["finishReason"] = finish
		}
		b, _ := json.Marshal(map[string]any{"candidates": []any{c}, "usageMetadata": usage, "modelVersion": model, "responseId": rid})
		fmt.Fprintf(w, "data: %s\r\n\r\n", b)
		flusher.Flush()
	}
	for _, word := range strings.SplitAfter(echo, " ") {
		send([]part{{Text: word}}, "", map[string]int{"promptTokenCount": 7, "totalTokenCount": 7})
	}
	if call != nil {
		send([]part{{FunctionCall: call}}, "STOP", map[string]int{"promptTokenCount": 7, "candidatesTokenCount": 9, "totalTokenCount": 16})
		return
	}
	send([]part{{Text: ""}}, "STOP", map[string]int{"promptTokenCount": 7, "candidatesTokenCount": 5, "totalTokenCount": 12})
}

func googleError(w http.ResponseWriter, code int, status, msg, reason string) {
	e := map[string]any{"code": code, "message": msg, "status": status}
	if reason != "" {
		e["details"] = []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// send posts body to the upstream the way the gateway does: the adapter's
// URL and credentials, the codec's body.
func send(t *testing.T, u *provider.Upstream, op provider.Operation, model string, stream bool, body []byte) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.URL(op, model, stream), bytes.NewReader(body))
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
	fake := newFakeGemini(t)
	u, err := provider.NewUpstream("gemini-main", Type, fake.URL+"/v1beta/", []string{fakeKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codec := Codec{}
	chat := &llm.Request{
		System:   []llm.Part{{Type: llm.PartText, Text: "Be brief."}},
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hello there"}}}},
	}
	withTools := &llm.Request{
		Messages: chat.Messages,
		Tools: []llm.Tool{{Name: "get_current_temperature", Parameters: json.RawMessage(
			`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"],"additionalProperties":false}`)}},
	}
	body := func(r *llm.Request) []byte {
		b, err := codec.EncodeRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("generateContent", func(t *testing.T) {
		resp := send(t, u, provider.Chat, "models/gemini-2.5-flash", false, body(chat))
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		got, err := codec.DecodeResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.Message.Text() != "You said: Hello there" || got.Finish != llm.FinishStop || got.Model != "gemini-2.5-flash" ||
			got.ID != "fake-gemini-2.5-flash" || got.Usage != (llm.Usage{InputTokens: 7, OutputTokens: 5, Present: true}) {
			t.Errorf("response = %+v", got)
		}
	})

	t.Run("generateContent with a tool call", func(t *testing.T) {
		resp := send(t, u, provider.Chat, "gemini-2.5-flash", false, body(withTools))
		raw, _ := io.ReadAll(resp.Body)
		got, err := codec.DecodeResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := []llm.ToolCall{{ID: "call_0", Name: "get_current_temperature", Arguments: `{"location":"London"}`}}
		if got.Finish != llm.FinishToolCalls || len(got.Message.ToolCalls) != 1 || got.Message.ToolCalls[0] != want[0] {
			t.Errorf("response = %+v, want tool calls %+v", got, want)
		}

		// The next turn sends the result back; the fake then answers in text.
		next := &llm.Request{Tools: withTools.Tools, Messages: append(append([]llm.Message{}, withTools.Messages...),
			got.Message,
			llm.Message{Role: llm.RoleTool, ToolCallID: "call_0", Parts: []llm.Part{{Type: llm.PartText, Text: `{"temperature":25}`}}},
		)}
		resp = send(t, u, provider.Chat, "gemini-2.5-flash", false, body(next))
		raw, _ = io.ReadAll(resp.Body)
		if got, err = codec.DecodeResponse(raw); err != nil || got.Finish != llm.FinishStop {
			t.Fatalf("second turn: %+v, %v (%s)", got, err, raw)
		}
	})

	t.Run("streamGenerateContent", func(t *testing.T) {
		resp := send(t, u, provider.Chat, "gemini-2.5-flash", true, body(withTools))
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type = %q", ct)
		}
		tr := readStream(codec.NewStreamReader(resp.Body))
		if tr.End != io.EOF.Error() {
			t.Fatalf("stream ended with %q", tr.End)
		}
		var text strings.Builder
		var types []string
		for _, ev := range tr.Events {
			types = append(types, string(ev.Type))
			text.WriteString(map[bool]string{true: ev.Text}[ev.Type == llm.EventText])
		}
		want := "start text text text text tool_call tool_call_args finish usage"
		if strings.Join(types, " ") != want || text.String() != "You said: Hello there" {
			t.Errorf("events = %s (text %q), want %s", strings.Join(types, " "), text.String(), want)
		}
		last := tr.Events[len(tr.Events)-1]
		if *last.Usage != (llm.Usage{InputTokens: 7, OutputTokens: 9, Present: true}) {
			t.Errorf("usage = %+v", *last.Usage)
		}
		if fin := tr.Events[len(tr.Events)-2]; fin.Finish != llm.FinishToolCalls {
			t.Errorf("finish = %q, want tool_calls", fin.Finish)
		}
	})

	t.Run("batchEmbedContents", func(t *testing.T) {
		req, err := codec.EncodeEmbeddings(&llm.EmbedRequest{Model: "gemini-embedding-001", Inputs: []string{"What is the meaning of life?"}})
		if err != nil {
			t.Fatal(err)
		}
		resp := send(t, u, provider.Embeddings, "gemini-embedding-001", false, req)
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		if got, err := codec.DecodeEmbeddings(raw); err != nil || len(got.Vectors) != 1 || len(got.Vectors[0]) != 3 {
			t.Errorf("embeddings = %+v, %v", got, err)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		bad, err := provider.NewUpstream("gemini-bad", Type, fake.URL+"/v1beta", []string{"wrong"}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		resp := send(t, bad, provider.Chat, "gemini-2.5-flash", false, body(chat))
		raw, _ := io.ReadAll(resp.Body)
		e := codec.DecodeError(resp.StatusCode, raw)
		if resp.StatusCode != 400 || e.Status != 401 || e.Type != "authentication_error" || e.Code != "API_KEY_INVALID" {
			t.Errorf("status %d → %+v", resp.StatusCode, e)
		}
		if strings.Contains(e.Message, "wrong") {
			t.Errorf("the key leaked into the message: %q", e.Message)
		}
	})

	t.Run("colon in the model name", func(t *testing.T) {
		resp := send(t, u, provider.Chat, "gemini-2.5-flash:embedContent", false, body(chat))
		raw, _ := io.ReadAll(resp.Body)
		// The escaped colon keeps the method generateContent; the fake sees
		// the model name with its colon restored.
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		if got, err := codec.DecodeResponse(raw); err != nil || got.Model != "gemini-2.5-flash:embedContent" {
			t.Errorf("response = %+v, %v", got, err)
		}
	})

	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, r := range fake.requests {
		if r.URL.Query().Has("key") {
			t.Errorf("%s: the key was sent in the query", r.URL)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s: unexpected Authorization header", r.URL)
		}
	}
}
