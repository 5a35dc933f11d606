// Package openaifake is an OpenAI-compatible upstream for tests. It speaks
// OpenAI's documented wire format — chat completions plain and as SSE, with
// the include_usage chunk, embeddings and errors — and lets a test steer it
// through the requested model name:
//
//	error-400 / error-429 / error-500  answer with that status and an OpenAI error body
//	error-html                        answer 502 with a non-JSON body
//	slow                              wait Options.SlowDelay before answering
//	hang-stream                       send one chunk, then wait until the client goes away
//	broken-stream                     send one chunk, then cut the connection
//	echo-secret                       answer 401 with the key it was sent echoed in the message
//
// Any other model answers normally, echoing the model name: Options.Words,
// or with tools a tool call, or after a tool result that result (see
// chatAnswer). Fail, FailNext and FailKey steer faults per model or per key
// for routing tests.
package openaifake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is what the fake received.
type Request struct {
	Path    string
	Header  http.Header
	Body    []byte
	Started time.Time
}

// Options steer the fake.
type Options struct {
	// ChunkDelay is the pause between stream chunks.
	ChunkDelay time.Duration
	// SlowDelay is how long the "slow" model waits (default 2s).
	SlowDelay time.Duration
	// Words are the streamed content pieces (default "Hello", " there", "!").
	Words []string
	// ToolInput is the arguments of a tool-calling answer, a JSON object
	// (default DefaultToolInput).
	ToolInput string
}

// Server is a running fake upstream.
type Server struct {
	*httptest.Server
	o Options

	mu       sync.Mutex
	requests []Request
	// Cancelled counts streams whose client went away before the end.
	Cancelled atomic.Int64
	// cancelledCh receives one value per cancelled stream.
	cancelledCh chan struct{}

	// failures steer faults from tests: a model, or a key, answers with a
	// status until healed, or for its next n requests.
	failMu    sync.Mutex
	failModel map[string]fault
	failKey   map[string]fault
}

// fault is a steered failure: status for the next n requests (n < 0: until healed).
type fault struct {
	status int
	n      int
}

// Fail makes every request for model answer status until Heal.
func (s *Server) Fail(model string, status int) { s.setFault(&s.failModel, model, fault{status, -1}) }

// FailNext makes the next n requests for model answer status; a 429 says
// Retry-After: 1.
func (s *Server) FailNext(model string, status, n int) {
	s.setFault(&s.failModel, model, fault{status, n})
}

// FailKey makes every request sent with key answer status until Heal.
func (s *Server) FailKey(key string, status int) { s.setFault(&s.failKey, key, fault{status, -1}) }

// Heal ends the faults of a model or key.
func (s *Server) Heal(modelOrKey string) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	delete(s.failModel, modelOrKey)
	delete(s.failKey, modelOrKey)
}

func (s *Server) setFault(m *map[string]fault, k string, f fault) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if *m == nil {
		*m = map[string]fault{}
	}
	(*m)[k] = f
}

// fault returns the steered status for a request, consuming one of a
// FailNext's n, or 0.
func (s *Server) fault(model, key string) int {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	for _, e := range []struct {
		m map[string]fault
		k string
	}{{s.failKey, key}, {s.failModel, model}} {
		f, ok := e.m[e.k]
		if !ok {
			continue
		}
		if f.n > 0 {
			f.n--
			if f.n == 0 {
				delete(e.m, e.k)
			} else {
				e.m[e.k] = f
			}
		}
		return f.status
	}
	return 0
}

// New starts a fake upstream; close it with Close.
func New(o Options) *Server {
	if o.SlowDelay == 0 {
		o.SlowDelay = 2 * time.Second
	}
	if len(o.Words) == 0 {
		o.Words = []string{"Hello", " there", "!"}
	}
	s := &Server{o: o, cancelledCh: make(chan struct{}, 1024)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	mux.HandleFunc("POST /v1/responses", s.responses)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns a copy of what was received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WaitCancelled waits for a stream cancellation, reporting whether one came.
func (s *Server) WaitCancelled(d time.Duration) bool {
	select {
	case <-s.cancelledCh:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *Server) record(r *http.Request) (map[string]any, bool) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: b, Started: time.Now()})
	s.mu.Unlock()
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, false
	}
	return body, true
}

func writeErr(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
}

// steer handles the special model names; it reports whether it answered.
func (s *Server) steer(w http.ResponseWriter, r *http.Request, model string) bool {
	switch model {
	case "error-400":
		writeErr(w, 400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length is 8 tokens.")
	case "error-429":
		w.Header().Set("Retry-After", "7")
		w.Header().Set("x-ratelimit-remaining-requests", "0")
		writeErr(w, 429, "requests", "rate_limit_exceeded", "Rate limit reached for requests.")
	case "error-500":
		writeErr(w, 500, "server_error", "", "The server had an error while processing your request.")
	case "error-html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
	case "echo-secret":
		writeErr(w, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	case "slow":
		select {
		case <-time.After(s.o.SlowDelay):
		case <-r.Context().Done():
			return true
		}
		return false
	default:
		return false
	}
	return true
}

// accept records a request and decodes its body; it answers the request
// itself (and returns false) for a malformed body or a steering model name.
func (s *Server) accept(w http.ResponseWriter, r *http.Request) (map[string]any, string, bool) {
	body, ok := s.record(r)
	if !ok {
		writeErr(w, 400, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return nil, "", false
	}
	model, _ := body["model"].(string)
	if st := s.fault(model, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); st != 0 {
		if st == 429 {
			w.Header().Set("Retry-After", "1")
		}
		writeErr(w, st, "server_error", fmt.Sprintf("fault_%d", st), fmt.Sprintf("steered failure %d", st))
		return nil, "", false
	}
	if s.steer(w, r, model) {
		return nil, "", false
	}
	return body, model, true
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	body, model, ok := s.accept(w, r)
	if !ok {
		return
	}
	ans, refusal := s.chatAnswer(body)
	if refusal != "" {
		writeErr(w, 400, "invalid_request_error", "", refusal)
		return
	}
	if stream, _ := body["stream"].(bool); stream {
		s.stream(w, r, model, body, ans)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ratelimit-remaining-requests", "99")
	w.Header().Set("Set-Cookie", "upstream-session=secret") // must not reach clients
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake123", "object": "chat.completion", "created": 1700000000, "model": model,
		"system_fingerprint": "fp_fake",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": ans.finish, "logprobs": nil,
			"message": ans.message(),
		}},
		"usage": map[string]any{"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
	})
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, model string, body map[string]any, ans answer) {
	includeUsage := false
	if so, ok := body["stream_options"].(map[string]any); ok {
		includeUsage, _ = so["include_usage"].(bool)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake123", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"system_fingerprint": "fp_fake",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	pause := func() bool {
		if s.o.ChunkDelay == 0 {
			return r.Context().Err() == nil
		}
		select {
		case <-time.After(s.o.ChunkDelay):
			return true
		case <-r.Context().Done():
			return false
		}
	}
	chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)
	switch model {
	case "hang-stream":
		chunk(map[string]any{"content": s.o.Words[0]}, nil)
		<-r.Context().Done()
		s.Cancelled.Add(1)
		s.cancelledCh <- struct{}{}
		return
	case "broken-stream":
		chunk(map[string]any{"content": s.o.Words[0]}, nil)
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	for _, word := range ans.pieces {
		if !pause() {
			s.Cancelled.Add(1)
			s.cancelledCh <- struct{}{}
			return
		}
		chunk(map[string]any{"content": word}, nil)
	}
	if ans.toolName != "" {
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_fake1", "type": "function",
			"function": map[string]any{"name": ans.toolName, "arguments": ""}}}}, nil)
		for _, piece := range argPieces(ans.toolArgs) {
			if !pause() {
				s.Cancelled.Add(1)
				s.cancelledCh <- struct{}{}
				return
			}
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": piece}}}}, nil)
		}
	}
	chunk(map[string]any{}, ans.finish)
	if includeUsage {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake123", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"system_fingerprint": "fp_fake", "choices": []any{},
			"usage": map[string]any{"prompt_tokens": 12, "completion_tokens": len(s.o.Words), "total_tokens": 12 + len(s.o.Words)},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	body, model, ok := s.accept(w, r)
	if !ok {
		return
	}
	n := 1
	if in, ok := body["input"].([]any); ok {
		n = len(in)
	}
	data := make([]any, n)
	for i := range data {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float64{0.0023, -0.0093, 0.0157}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": data, "model": model,
		"usage": map[string]any{"prompt_tokens": 8 * n, "total_tokens": 8 * n},
	})
}

// responses answers OpenAI's Responses API: a completed response, or its
// documented stream of typed events ending in response.completed with usage.
func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	body, model, ok := s.accept(w, r)
	if !ok {
		return
	}
	text := strings.Join(s.o.Words, "")
	resp := func(status string, withOutput bool) map[string]any {
		out := []any{}
		if withOutput {
			out = append(out, map[string]any{
				"type": "message", "id": "msg_fake1", "status": "completed", "role": "assistant",
				"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}},
			})
		}
		m := map[string]any{
			"id": "resp_fake123", "object": "response", "created_at": 1700000000, "status": status,
			"model": model, "output": out, "parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{},
		}
		if status == "completed" {
			m["usage"] = map[string]any{
				"input_tokens": 9, "output_tokens": len(s.o.Words), "total_tokens": 9 + len(s.o.Words),
				"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
			}
		}
		return m
	}
	if stream, _ := body["stream"].(bool); !stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp("completed", true))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	seq := 0
	send := func(typ string, ev map[string]any) {
		ev["type"], ev["sequence_number"] = typ, seq
		seq++
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		fl.Flush()
	}
	send("response.created", map[string]any{"response": resp("in_progress", false)})
	for _, word := range s.o.Words {
		send("response.output_text.delta", map[string]any{"item_id": "msg_fake1", "output_index": 0, "content_index": 0, "delta": word, "logprobs": []any{}})
	}
	send("response.completed", map[string]any{"response": resp("completed", true)})
}
