package coherefake

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

// The usage every chat answer reports. Cohere bills fewer input tokens than
// the model reads, since its prompt template is not charged for.
const (
	InputTokens  = 7
	OutputTokens = 5
	PromptTokens = 70
)

// Texts the chat fake answers with.
const (
	// Thinking is the thinking content, when the request enables thinking.
	Thinking = "The user greets me; a short answer will do."
	// ToolPlan is the text Cohere's models write before their tool calls.
	ToolPlan = "I will look up the weather."
	// ErrorMessage ends the stream of the error-mid-stream model.
	ErrorMessage = "internal error while generating, please retry"
)

// ChatRequest is what the chat fake received.
type ChatRequest struct {
	Path    string
	Header  http.Header
	Body    []byte
	Started time.Time
}

// ChatOptions steer the chat fake.
type ChatOptions struct {
	// ChunkDelay is the pause between stream events that carry content.
	ChunkDelay time.Duration
	// Words are the answer's text pieces, one content-delta each when
	// streamed (default "Hello", " there", "!").
	Words []string
	// ToolArgs are the pieces of a tool call's arguments, one
	// tool-call-delta each; joined, they are a JSON object (default
	// {"location": "Paris, France", "unit": "celsius"} in three pieces).
	ToolArgs []string
	// APIKey, when set, is the only key accepted. Empty accepts any key.
	APIKey string
}

// ChatServer is a running Cohere v2 chat upstream. It speaks the
// documented wire format — POST /v2/chat with a bearer key, answered with
// one chat response or, when the body says "stream": true, with named
// server-sent events (message-start, content-start/-delta/-end,
// tool-plan-delta, tool-call-start/-delta/-end, message-end), thinking
// content, tool calls whose arguments arrive in pieces, usage counted both
// as billed_units and as tokens, and Cohere's error body {"id","message"}
// — and lets a test steer it through the requested model name:
//
//	error-400         answer 400 (an invalid request)
//	error-429         answer 429 (a trial key's rate limit)
//	error-500         answer 500
//	broken-stream     stream the first word, then cut the connection
//	error-mid-stream  stream the first word, then end the stream with
//	                  finish_reason ERROR and ErrorMessage, as Cohere
//	                  reports a generation that failed after it started
//
// The last two answer a request that is not streamed normally. Any other
// model answers normally. What it answers:
//
//   - a request whose last message is a tool result gets the text
//     "Tool result: " followed by the content of the trailing tool
//     messages, joined with "; ", so a test sees that the results arrived;
//   - otherwise a request with tools (and a tool_choice other than NONE)
//     gets ToolPlan and a call of the first tool with ChatOptions.ToolArgs
//     joined, streamed as one tool-call-delta per piece;
//   - otherwise the text is ChatOptions.Words joined, one content-delta
//     per word when streamed.
//
// A request with thinking {type: enabled} gets Thinking as thinking
// content first. The usage is InputTokens and OutputTokens as billed
// units, which is what the gateway records, and PromptTokens and
// OutputTokens as tokens.
//
// Like Cohere, the fake refuses a request without a bearer key (401), with
// a wrong one when ChatOptions.APIKey is set (401), that is not JSON, that
// lacks a model or messages, or that has a message of an unknown role or a
// tool message without a tool_call_id (400).
type ChatServer struct {
	*httptest.Server
	o ChatOptions

	mu       sync.Mutex
	requests []ChatRequest
	ids      atomic.Int64
}

// NewChat starts a chat upstream; close it with Close.
func NewChat(o ChatOptions) *ChatServer {
	if len(o.Words) == 0 {
		o.Words = []string{"Hello", " there", "!"}
	}
	if len(o.ToolArgs) == 0 {
		o.ToolArgs = []string{`{"location": "Par`, `is, France", "unit`, `": "celsius"}`}
	}
	s := &ChatServer{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/chat", s.serve)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url: the API root, version
// segment included.
func (s *ChatServer) BaseURL() string { return s.URL + "/v2" }

// Requests returns a copy of what was received so far.
func (s *ChatServer) Requests() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.requests...)
}

// The chat request fields the fake reads.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Tools    []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice string `json:"tool_choice"`
	Thinking   *struct {
		Type string `json:"type"`
	} `json:"thinking"`
	Stream bool `json:"stream"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
}

// text is a message's content: a string, or the text of a list of parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// chatAnswer is what the fake says, before it is framed whole or as a
// stream.
type chatAnswer struct {
	id       string
	thinking string
	words    []string // the text, piece by piece
	call     *toolCall
	finish   string
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

func chatUsage() map[string]any {
	return map[string]any{
		"billed_units":  map[string]int{"input_tokens": InputTokens, "output_tokens": OutputTokens},
		"tokens":        map[string]int{"input_tokens": PromptTokens, "output_tokens": OutputTokens},
		"cached_tokens": 0,
	}
}

// fail writes Cohere's error body.
func (s *ChatServer) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": s.newID(), "message": msg})
}

func (s *ChatServer) newID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.ids.Add(1))
}

// steer handles the special model names that fail at once; it reports
// whether it answered.
func (s *ChatServer) steer(w http.ResponseWriter, model string) bool {
	switch model {
	case "error-400":
		s.fail(w, 400, "invalid request: too many tokens: total number of tokens in the prompt cannot exceed 256000")
	case "error-429":
		s.fail(w, 429, "You are using a Trial key, which is limited to 20 API calls / minute.")
	case "error-500":
		s.fail(w, 500, "internal server error, this has been reported to our developers")
	default:
		return false
	}
	return true
}

func (s *ChatServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, ChatRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Started: time.Now()})
	s.mu.Unlock()

	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || key == "":
		s.fail(w, 401, "no api key supplied")
		return
	case s.o.APIKey != "" && key != s.o.APIKey:
		s.fail(w, 401, "invalid api token")
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, 400, "invalid request: "+err.Error())
		return
	}
	switch {
	case req.Model == "":
		s.fail(w, 400, "invalid request: model must be specified")
		return
	case len(req.Messages) == 0:
		s.fail(w, 400, "invalid request: messages must not be empty")
		return
	}
	for i, m := range req.Messages {
		switch {
		case m.Role != "system" && m.Role != "user" && m.Role != "assistant" && m.Role != "tool":
			s.fail(w, 400, fmt.Sprintf("invalid request: messages[%d]: unknown role %q", i, m.Role))
			return
		case m.Role == "tool" && m.ToolCallID == "":
			s.fail(w, 400, fmt.Sprintf("invalid request: messages[%d]: tool_call_id is required", i))
			return
		}
	}
	if s.steer(w, req.Model) {
		return
	}
	a := s.compose(&req)
	if !req.Stream {
		s.whole(w, a)
		return
	}
	s.stream(w, r, req.Model, a)
}

// compose decides the answer (see ChatServer).
func (s *ChatServer) compose(r *chatRequest) chatAnswer {
	a := chatAnswer{id: s.newID(), finish: "COMPLETE"}
	if r.Thinking != nil && r.Thinking.Type == "enabled" {
		a.thinking = Thinking
	}
	var results []string
	for i := len(r.Messages) - 1; i >= 0 && r.Messages[i].Role == "tool"; i-- {
		results = append([]string{r.Messages[i].text()}, results...)
	}
	switch {
	case len(results) > 0:
		a.words = []string{"Tool result: ", strings.Join(results, "; ")}
	case len(r.Tools) > 0 && r.ToolChoice != "NONE":
		name := r.Tools[0].Function.Name
		a.call = &toolCall{ID: fmt.Sprintf("%s_fake%06d", name, s.ids.Add(1)), Type: "function",
			Function: toolFunction{Name: name, Arguments: strings.Join(s.o.ToolArgs, "")}}
		a.finish = "TOOL_CALL"
	default:
		a.words = s.o.Words
	}
	return a
}

// whole writes a non-streamed chat response.
func (s *ChatServer) whole(w http.ResponseWriter, a chatAnswer) {
	msg := map[string]any{"role": "assistant"}
	var content []map[string]string
	if a.thinking != "" {
		content = append(content, map[string]string{"type": "thinking", "thinking": a.thinking})
	}
	if a.call != nil {
		msg["tool_plan"] = ToolPlan
		msg["tool_calls"] = []toolCall{*a.call}
	} else {
		content = append(content, map[string]string{"type": "text", "text": strings.Join(a.words, "")})
	}
	if content != nil {
		msg["content"] = content
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": a.id, "finish_reason": a.finish, "message": msg, "usage": chatUsage()})
}

// stream writes the answer as Cohere's named server-sent events.
func (s *ChatServer) stream(w http.ResponseWriter, r *http.Request, model string, a chatAnswer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	send := func(typ string, data map[string]any) {
		data["type"] = typ
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		fl.Flush()
	}
	delta := func(message map[string]any) map[string]any {
		return map[string]any{"message": message}
	}
	send("message-start", map[string]any{"id": a.id, "delta": delta(map[string]any{
		"role": "assistant", "content": []any{}, "tool_plan": "", "tool_calls": []any{}, "citations": []any{},
	})})
	index := 0
	if a.thinking != "" {
		send("content-start", map[string]any{"index": index, "delta": delta(map[string]any{"content": map[string]string{"type": "thinking", "thinking": ""}})})
		send("content-delta", map[string]any{"index": index, "delta": delta(map[string]any{"content": map[string]string{"thinking": a.thinking}})})
		send("content-end", map[string]any{"index": index})
		index++
	}
	if a.call != nil {
		for _, piece := range strings.SplitAfter(ToolPlan, " ") {
			if !s.pause(r) {
				return
			}
			send("tool-plan-delta", map[string]any{"delta": delta(map[string]any{"tool_plan": piece})})
		}
		start := *a.call
		start.Function.Arguments = ""
		send("tool-call-start", map[string]any{"index": 0, "delta": delta(map[string]any{"tool_calls": start})})
		for _, piece := range s.o.ToolArgs {
			if !s.pause(r) {
				return
			}
			send("tool-call-delta", map[string]any{"index": 0, "delta": delta(map[string]any{
				"tool_calls": map[string]any{"function": map[string]string{"arguments": piece}},
			})})
		}
		send("tool-call-end", map[string]any{"index": 0})
	} else {
		send("content-start", map[string]any{"index": index, "delta": delta(map[string]any{"content": map[string]string{"type": "text", "text": ""}})})
		for i, word := range a.words {
			if i > 0 && !s.pause(r) {
				return
			}
			send("content-delta", map[string]any{"index": index, "delta": delta(map[string]any{"content": map[string]string{"text": word}})})
			switch model {
			case "broken-stream":
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						c.Close()
					}
				}
				return
			case "error-mid-stream":
				send("message-end", map[string]any{"delta": map[string]any{
					"finish_reason": "ERROR", "error": ErrorMessage,
					"usage": map[string]any{"billed_units": map[string]int{"input_tokens": InputTokens}},
				}})
				return
			}
		}
		send("content-end", map[string]any{"index": index})
	}
	send("message-end", map[string]any{"delta": map[string]any{"finish_reason": a.finish, "usage": chatUsage()}})
}

// pause waits ChunkDelay between content events; it reports false when
// the client has gone.
func (s *ChatServer) pause(r *http.Request) bool {
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
