// Package anthropicfake is an Anthropic Messages API upstream for tests. It
// speaks Anthropic's documented wire format — POST /v1/messages answered as
// one message object or as a server-sent event stream (message_start,
// content_block_start/delta/stop, ping, message_delta, message_stop), tool
// use with its input streamed as input_json_delta pieces cut mid-JSON,
// extended thinking blocks with their signature, cache token counts, and
// Anthropic's error bodies — and lets a test steer it through the requested
// model name:
//
//	error-400        answer 400 invalid_request_error
//	error-429        answer 429 rate_limit_error with retry-after: 7
//	error-500        answer 500 api_error
//	overloaded-529   answer 529 overloaded_error
//	broken-stream    stream a few events, then cut the connection
//	error-mid-stream stream a few events, then an error event (overloaded_error), as Anthropic does
//
// Any other model answers normally, echoing the model name. What it answers:
//
//   - a request whose last message carries tool_result blocks gets the text
//     "Tool result: " followed by the results' text, so a test sees that the
//     result arrived;
//   - otherwise a request with tools (and a tool_choice other than none) gets
//     the text "Let me check." and a tool_use block calling the tool
//     tool_choice names, or the first tool, with Options.ToolInput;
//   - otherwise the text is Options.Words joined.
//
// A request that enables thinking gets a thinking block, with a signature,
// before the rest. The usage is always InputTokens, CacheWriteTokens,
// CacheReadTokens and OutputTokens.
//
// Like Anthropic, the fake refuses requests without an x-api-key (401) or
// anthropic-version header (400), requests missing model, max_tokens or
// messages, messages in roles other than user and assistant, and
// tool_result blocks that answer no tool_use of the message before — the
// mistakes a translating gateway could make.
package anthropicfake

import (
	"bytes"
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

// The usage every answer reports, in Anthropic's accounting: InputTokens
// counts only the prompt tokens neither read from nor written to the cache.
const (
	InputTokens      = 12
	CacheWriteTokens = 4
	CacheReadTokens  = 8
	OutputTokens     = 5
)

// Thinking and Signature are the thinking block's content, when the request
// enables thinking.
const (
	Thinking  = "The user greets me; a short answer will do."
	Signature = "EqQBCkYIBhgCIkBfakeSignatureOfTheThinkingBlock=="
)

// ToolText is the text that precedes a tool_use block.
const ToolText = "Let me check."

// Request is what the fake received.
type Request struct {
	Path    string
	Header  http.Header
	Body    []byte
	Started time.Time
}

// Options steer the fake.
type Options struct {
	// ChunkDelay is the pause between streamed deltas.
	ChunkDelay time.Duration
	// Words are the answer's text pieces, one text_delta each (default
	// "Hello", " there", "!").
	Words []string
	// ToolInput is the input of a tool_use answer, a JSON object (default
	// {"location":"Paris, France","unit":"celsius"}).
	ToolInput string
	// APIKey, when set, is the only x-api-key accepted; any other is
	// answered 401 as Anthropic does. Empty accepts any key.
	APIKey string
}

// Server is a running fake upstream.
type Server struct {
	*httptest.Server
	o Options

	mu       sync.Mutex
	requests []Request
	ids      atomic.Int64
}

// New starts a fake upstream; close it with Close.
func New(o Options) *Server {
	if len(o.Words) == 0 {
		o.Words = []string{"Hello", " there", "!"}
	}
	if o.ToolInput == "" {
		o.ToolInput = `{"location":"Paris, France","unit":"celsius"}`
	}
	s := &Server{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.messages)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url: Anthropic's API root,
// version segment included.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns a copy of what was received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// The request fields the fake reads.
type wireRequest struct {
	Model     *string       `json:"model"`
	MaxTokens *int          `json:"max_tokens"`
	Messages  []wireMessage `json:"messages"`
	Stream    bool          `json:"stream"`
	Tools     []struct {
		Name string `json:"name"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// wireBlock is a request content block, as far as the fake reads it.
type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

// blocks returns a message's content blocks; a string content is one text block.
func (m wireMessage) blocks() ([]wireBlock, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) > 0 && c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return nil, err
		}
		return []wireBlock{{Type: "text", Text: s}}, nil
	}
	var bs []wireBlock
	err := json.Unmarshal(c, &bs)
	return bs, err
}

// resultText is the text of a tool_result's content: a string, or text blocks.
func (b wireBlock) resultText() string {
	c := bytes.TrimSpace(b.Content)
	if len(c) > 0 && c[0] == '"' {
		var s string
		_ = json.Unmarshal(c, &s)
		return s
	}
	var parts []wireBlock
	_ = json.Unmarshal(c, &parts)
	var sb strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			sb.WriteString(p.Text)
		}
	}
	return sb.String()
}

type wireError struct {
	Type      string          `json:"type"`
	Error     wireErrorDetail `json:"error"`
	RequestID string          `json:"request_id,omitempty"`
}

type wireErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (s *Server) requestID() string { return fmt.Sprintf("req_fake%06d", s.ids.Add(1)) }

func (s *Server) writeErr(w http.ResponseWriter, status int, typ, msg string) {
	id := s.requestID()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", id)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wireError{Type: "error", Error: wireErrorDetail{Type: typ, Message: msg}, RequestID: id})
}

func (s *Server) record(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: b, Started: time.Now()})
	s.mu.Unlock()
	return b
}

// steer handles the special model names that fail at once; it reports
// whether it answered.
func (s *Server) steer(w http.ResponseWriter, model string) bool {
	switch model {
	case "error-400":
		s.writeErr(w, 400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
	case "error-429":
		w.Header().Set("retry-after", "7")
		w.Header().Set("anthropic-ratelimit-requests-remaining", "0")
		s.writeErr(w, 429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit.")
	case "error-500":
		s.writeErr(w, 500, "api_error", "Internal server error")
	case "overloaded-529":
		s.writeErr(w, 529, "overloaded_error", "Overloaded")
	default:
		return false
	}
	return true
}

// validate checks what Anthropic itself refuses, returning its message.
func validate(r *wireRequest) string {
	switch {
	case r.Model == nil:
		return "model: Field required"
	case r.MaxTokens == nil:
		return "max_tokens: Field required"
	case *r.MaxTokens < 1:
		return "max_tokens: Input should be greater than or equal to 1"
	case len(r.Messages) == 0:
		return "messages: at least one message is required"
	}
	if t := r.Thinking; t != nil && t.Type == "enabled" {
		if t.BudgetTokens < 1024 {
			return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
		}
		if t.BudgetTokens >= *r.MaxTokens {
			return "`max_tokens` must be greater than `thinking.budget_tokens`."
		}
	}
	var prevToolUses map[string]bool
	for i, m := range r.Messages {
		if m.Role == "system" {
			// Mid-conversation system messages (Claude Opus 4.8 and later,
			// sent by Claude Code) must follow a user turn.
			if i == 0 || r.Messages[i-1].Role != "user" {
				return fmt.Sprintf("messages.%d: a system message must immediately follow a user message", i)
			}
			continue
		}
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user', 'assistant' or 'system'", i)
		}
		bs, err := m.blocks()
		if err != nil {
			return fmt.Sprintf("messages.%d.content: Input should be a valid list", i)
		}
		uses := map[string]bool{}
		for j, b := range bs {
			switch b.Type {
			case "tool_use":
				if m.Role != "assistant" {
					return fmt.Sprintf("messages.%d.content.%d: tool_use blocks may only be in assistant messages", i, j)
				}
				uses[b.ID] = true
			case "tool_result":
				if m.Role != "user" || !prevToolUses[b.ToolUseID] {
					return fmt.Sprintf("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. "+
						"Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, b.ToolUseID)
				}
			}
		}
		prevToolUses = uses
	}
	return ""
}

// answer is what the fake replies, whole or streamed.
type answer struct {
	thinking bool
	text     []string // text pieces, one delta each
	tool     *toolUse
	stop     string
}

type toolUse struct {
	id, name, input string
}

func (s *Server) compose(r *wireRequest) answer {
	a := answer{stop: "end_turn", thinking: r.Thinking != nil && r.Thinking.Type != "disabled"}
	last, _ := r.Messages[len(r.Messages)-1].blocks()
	var results []string
	for _, b := range last {
		if b.Type == "tool_result" {
			results = append(results, b.resultText())
		}
	}
	choice := "auto"
	if r.ToolChoice != nil {
		choice = r.ToolChoice.Type
	}
	switch {
	case len(results) > 0:
		a.text = []string{"Tool result: ", strings.Join(results, "; ")}
	case len(r.Tools) > 0 && choice != "none":
		name := r.Tools[0].Name
		if choice == "tool" && r.ToolChoice.Name != "" {
			name = r.ToolChoice.Name
		}
		a.text = []string{ToolText}
		a.tool = &toolUse{id: fmt.Sprintf("toolu_fake%06d", s.ids.Add(1)), name: name, input: s.o.ToolInput}
		a.stop = "tool_use"
	default:
		a.text = s.o.Words
	}
	return a
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	b := s.record(r)
	key := r.Header.Get("x-api-key")
	switch {
	case key == "":
		s.writeErr(w, 401, "authentication_error", "x-api-key header is required")
		return
	case s.o.APIKey != "" && key != s.o.APIKey:
		s.writeErr(w, 401, "authentication_error", "invalid x-api-key")
		return
	case r.Header.Get("anthropic-version") == "":
		s.writeErr(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	var req wireRequest
	if err := json.Unmarshal(b, &req); err != nil {
		s.writeErr(w, 400, "invalid_request_error", "There was an issue with the JSON body of your request: "+err.Error())
		return
	}
	if msg := validate(&req); msg != "" {
		s.writeErr(w, 400, "invalid_request_error", msg)
		return
	}
	model := *req.Model
	if s.steer(w, model) {
		return
	}
	a := s.compose(&req)
	if req.Stream {
		s.stream(w, r, model, a)
		return
	}
	content := []any{}
	if a.thinking {
		content = append(content, obj("type", "thinking", "thinking", Thinking, "signature", Signature))
	}
	content = append(content, obj("type", "text", "text", strings.Join(a.text, "")))
	if a.tool != nil {
		content = append(content, obj("type", "tool_use", "id", a.tool.id, "name", a.tool.name, "input", json.RawMessage(a.tool.input)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", s.requestID())
	w.Header().Set("anthropic-ratelimit-requests-remaining", "99")
	w.Header().Set("Set-Cookie", "upstream-session=secret") // must not reach clients
	_ = json.NewEncoder(w).Encode(message{
		ID: fmt.Sprintf("msg_fake%06d", s.ids.Add(1)), Type: "message", Role: "assistant", Model: model,
		Content: content, StopReason: &a.stop, Usage: fullUsage(OutputTokens),
	})
}

// obj marshals key-value pairs as a JSON object in the order given: type
// first, as Anthropic sends it.
func obj(kv ...any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// message is Anthropic's message object, fields in the order Anthropic sends them.
type message struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []any   `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        usage   `json:"usage"`
}

type usage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

func fullUsage(output int) usage {
	return usage{InputTokens: InputTokens, CacheCreationInputTokens: CacheWriteTokens, CacheReadInputTokens: CacheReadTokens, OutputTokens: output}
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, model string, a answer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("request-id", s.requestID())
	fl := w.(http.Flusher)
	event := func(name string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
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
	blockStart := func(i int, block any) {
		event("content_block_start", obj("type", "content_block_start", "index", i, "content_block", block))
	}
	delta := func(i int, d any) {
		event("content_block_delta", obj("type", "content_block_delta", "index", i, "delta", d))
	}
	blockStop := func(i int) { event("content_block_stop", obj("type", "content_block_stop", "index", i)) }

	// message_start carries the whole input usage, cache counts included,
	// and the first output token, as Anthropic's does.
	event("message_start", obj("type", "message_start", "message", message{
		ID: fmt.Sprintf("msg_fake%06d", s.ids.Add(1)), Type: "message", Role: "assistant", Model: model,
		Content: []any{}, Usage: fullUsage(1),
	}))
	idx := 0
	if a.thinking {
		blockStart(idx, obj("type", "thinking", "thinking", "", "signature", ""))
		half := len(Thinking) / 2
		delta(idx, obj("type", "thinking_delta", "thinking", Thinking[:half]))
		delta(idx, obj("type", "thinking_delta", "thinking", Thinking[half:]))
		delta(idx, obj("type", "signature_delta", "signature", Signature))
		blockStop(idx)
		idx++
	}
	blockStart(idx, obj("type", "text", "text", ""))
	event("ping", obj("type", "ping"))
	switch model {
	case "broken-stream":
		delta(idx, obj("type", "text_delta", "text", a.text[0]))
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	case "error-mid-stream":
		delta(idx, obj("type", "text_delta", "text", a.text[0]))
		event("error", wireError{Type: "error", Error: wireErrorDetail{Type: "overloaded_error", Message: "Overloaded"}})
		return
	}
	for _, t := range a.text {
		if !pause() {
			return
		}
		delta(idx, obj("type", "text_delta", "text", t))
	}
	blockStop(idx)
	if a.tool != nil {
		idx++
		blockStart(idx, obj("type", "tool_use", "id", a.tool.id, "name", a.tool.name, "input", obj()))
		// Anthropic opens with an empty piece and cuts the rest anywhere,
		// inside strings included.
		in := a.tool.input
		cuts := []int{0, 0, len(in) / 3, 2 * len(in) / 3, len(in)}
		for i := 1; i < len(cuts); i++ {
			if !pause() {
				return
			}
			delta(idx, obj("type", "input_json_delta", "partial_json", in[cuts[i-1]:cuts[i]]))
		}
		blockStop(idx)
	}
	event("message_delta", obj(
		"type", "message_delta",
		"delta", obj("stop_reason", a.stop, "stop_sequence", nil),
		"usage", obj("output_tokens", OutputTokens),
	))
	event("message_stop", obj("type", "message_stop"))
}
