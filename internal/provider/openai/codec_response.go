package openai

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// maxUpstreamMessage bounds an upstream's error message as passed on: long
// enough for any real one, short enough that a hostile upstream cannot make
// the gateway echo megabytes.
const maxUpstreamMessage = 4096

// EncodeResponse renders a neutral response as an OpenAI chat.completion
// body with a single choice. The message's text parts are concatenated into
// content, which is null when the answer only calls tools; thinking parts
// appear as reasoning_content only when ReasoningContent is set. usage is
// always present, as OpenAI always sends it and clients read it without
// checking; it is all zeros when the upstream reported none. An empty ID or
// Created is filled in, since OpenAI's schema requires both.
func (c Codec) EncodeResponse(r *llm.Response) ([]byte, error) {
	if r == nil {
		return nil, &llm.Error{Status: http.StatusInternalServerError, Type: "server_error", Message: "no response to encode"}
	}
	msg := wireResponseMessage{Role: "assistant"}
	var text, thinking strings.Builder
	hasText := false
	for _, p := range r.Message.Parts {
		switch p.Type {
		case llm.PartText:
			text.WriteString(p.Text)
			hasText = true
		case llm.PartThinking:
			thinking.WriteString(p.Text)
		}
	}
	if hasText || len(r.Message.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	if c.ReasoningContent {
		msg.ReasoningContent = thinking.String()
	}
	for _, tc := range r.Message.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, wireToolCall{
			ID: tc.ID, Type: "function", Function: wireCall{Name: tc.Name, Arguments: tc.Arguments},
		})
	}
	w := wireResponse{
		ID:      r.ID,
		Object:  "chat.completion",
		Created: r.Created,
		Model:   r.Model,
		Choices: []wireChoice{{
			Message:      msg,
			FinishReason: finishReason(r.Finish, len(r.Message.ToolCalls) > 0),
		}},
		Usage: newWireUsage(r.Usage),
	}
	if w.ID == "" {
		w.ID = newID("chatcmpl-")
	}
	if w.Created == 0 {
		w.Created = time.Now().Unix()
	}
	return marshal(w)
}

// finishReason is the OpenAI finish_reason for a neutral one; values that
// OpenAI's schema does not allow become "stop", or "tool_calls" when the
// turn called tools.
func finishReason(f llm.FinishReason, calledTools bool) string {
	switch f {
	case llm.FinishStop, llm.FinishLength, llm.FinishToolCalls, llm.FinishContentFilter:
		return string(f)
	}
	if calledTools {
		return string(llm.FinishToolCalls)
	}
	return string(llm.FinishStop)
}

// neutralFinish reads an upstream's finish_reason. The deprecated
// function_call means tool calls; values some compatible servers invent
// (vLLM's "abort", Ollama's "load") carry no more meaning than "stop". A
// turn that called tools but says "stop" (Ollama and other small servers do)
// is read as tool_calls, since clients in Anthropic's format wait for
// stop_reason "tool_use" before they run the tools.
func neutralFinish(s string, calledTools bool) llm.FinishReason {
	switch f := llm.FinishReason(s); f {
	case llm.FinishLength, llm.FinishToolCalls, llm.FinishContentFilter:
		return f
	case "function_call":
		return llm.FinishToolCalls
	}
	if calledTools {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// newID returns a random identifier in OpenAI's style for responses and
// tool calls whose source had none.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

func newWireUsage(u llm.Usage) wireUsage {
	return wireUsage{
		PromptTokens:            u.InputTokens,
		CompletionTokens:        u.OutputTokens,
		TotalTokens:             u.InputTokens + u.OutputTokens,
		PromptTokensDetails:     wirePromptDetails{CachedTokens: u.CachedInputTokens},
		CompletionTokensDetails: wireCompletionDetails{ReasoningTokens: u.ReasoningTokens},
	}
}

// DecodeResponse reads an upstream's chat.completion body. Only the first
// choice is read: the gateway never asks for more. Thinking arrives as
// reasoning_content (DeepSeek, older vLLM) or reasoning (OpenRouter, Ollama,
// newer vLLM) and becomes a thinking part before the text; a refusal
// becomes text; a tool call without an ID (some small servers omit it) is
// given one, since Anthropic's format needs it to match the result. A body
// that is not a chat completion, or an error object answered with status
// 200, is an *llm.Error.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	if !json.Valid(body) {
		return nil, upstreamError("the upstream's response is not valid JSON: %s", truncate(string(body), maxErrorText))
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, upstreamError("the upstream's response is not a JSON object: %s", truncate(string(body), maxErrorText))
	}
	if e := root.Get("error"); e.Exists() && e.Type != gjson.Null {
		return nil, errorFrom(e, http.StatusBadGateway)
	}
	choice, ok := firstChoice(root.Get("choices"))
	if !ok {
		return nil, upstreamError("the upstream's response has no choices")
	}
	resp := &llm.Response{
		ID:      root.Get("id").String(),
		Model:   root.Get("model").String(),
		Created: root.Get("created").Int(),
		Message: llm.Message{Role: llm.RoleAssistant},
		Usage:   llm.UsageFromChatCompletion(body),
	}
	m := choice.Get("message")
	if t := reasoningText(m); t != "" {
		resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartThinking, Text: t})
	}
	switch content := m.Get("content"); {
	case content.Type == gjson.String && content.Str != "":
		resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: content.Str})
	case content.IsArray():
		// Mistral and a few others answer with content parts.
		content.ForEach(func(_, p gjson.Result) bool {
			if p.Get("type").Str == "text" {
				if t := p.Get("text"); t.Type == gjson.String && t.Str != "" {
					resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: t.Str})
				}
			}
			return true
		})
	}
	if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: r.Str})
	}
	m.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		if t := tc.Get("type"); t.Exists() && t.Str != "function" {
			return true // custom tools are never requested
		}
		call := llm.ToolCall{
			ID:        tc.Get("id").String(),
			Name:      tc.Get("function.name").String(),
			Arguments: argumentsText(tc.Get("function.arguments")),
		}
		if call.ID == "" {
			call.ID = newID("call_")
		}
		resp.Message.ToolCalls = append(resp.Message.ToolCalls, call)
		return true
	})
	resp.Finish = neutralFinish(choice.Get("finish_reason").String(), len(resp.Message.ToolCalls) > 0)
	// vLLM reports the stop string that ended generation.
	if s := choice.Get("stop_reason"); s.Type == gjson.String {
		resp.StopSequence = s.Str
	}
	return resp, nil
}

// firstChoice returns the choice with index 0, or the first one.
func firstChoice(choices gjson.Result) (gjson.Result, bool) {
	var first gjson.Result
	found := false
	choices.ForEach(func(_, c gjson.Result) bool {
		if !c.IsObject() {
			return true
		}
		if !found {
			first, found = c, true
		}
		if idx := c.Get("index"); !idx.Exists() || idx.Int() == 0 {
			first = c
			return false
		}
		return true
	})
	return first, found
}

// reasoningText is the thinking text of a message or delta:
// reasoning_content, or reasoning when that is absent (servers that send
// both send the same text).
func reasoningText(m gjson.Result) string {
	if t := m.Get("reasoning_content"); t.Type == gjson.String && t.Str != "" {
		return t.Str
	}
	if t := m.Get("reasoning"); t.Type == gjson.String {
		return t.Str
	}
	return ""
}

// argumentsText reads tool-call arguments: JSON text, or an object some
// servers send in its place.
func argumentsText(a gjson.Result) string {
	if a.IsObject() {
		return a.Raw
	}
	return a.String()
}

// DecodeError reads an upstream's error answer. Besides OpenAI's
// {"error":{…}} it understands the shapes compatible servers use: a bare
// {"error":"…"} (Ollama), a top-level message (vLLM), FastAPI's "detail",
// and a one-element array (Gemini's compatibility endpoint). Anything else,
// an HTML error page say, becomes Type "upstream_error" with the start of
// the body as the message. A missing type is derived from the status; a
// status below 400 (an error body with 200) is reported as 502.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	if status < 400 {
		status = http.StatusBadGateway
	}
	var e *llm.Error
	if json.Valid(body) {
		root := gjson.ParseBytes(body)
		if root.IsArray() {
			root = root.Get("0")
		}
		switch obj := root.Get("error"); {
		case obj.IsObject():
			e = errorFrom(obj, status)
		case obj.Type == gjson.String:
			e = &llm.Error{Status: status, Message: obj.Str}
		case root.Get("message").Type == gjson.String:
			e = errorFrom(root, status)
		case root.Get("detail").Exists():
			d := root.Get("detail")
			msg := d.Str
			if d.Type != gjson.String {
				msg = d.Raw
			}
			e = &llm.Error{Status: status, Message: msg}
		}
	}
	if e == nil || e.Message == "" {
		msg := "the upstream answered HTTP " + http.StatusText(status)
		if t := strings.TrimSpace(string(body)); t != "" {
			msg += ": " + truncate(t, maxErrorText)
		}
		return &llm.Error{Status: status, Type: typeUpstream, Message: msg}
	}
	e.Message = truncate(e.Message, maxUpstreamMessage)
	if e.Type == "" {
		e.Type = typeForStatus(status)
	}
	return e
}

// errorFrom reads an OpenAI error object. status is used unless the object
// is one of vLLM's, which carry the status as a numeric code.
func errorFrom(obj gjson.Result, status int) *llm.Error {
	e := &llm.Error{Status: status}
	if m := obj.Get("message"); m.Type == gjson.String {
		e.Message = truncate(m.Str, maxUpstreamMessage)
	}
	if t := obj.Get("type"); t.Type == gjson.String {
		e.Type = t.Str
	}
	switch c := obj.Get("code"); c.Type {
	case gjson.String:
		e.Code = c.Str
	case gjson.Number:
		e.Code = c.Raw
	}
	if e.Message == "" {
		e.Message = "the upstream reported an error: " + truncate(obj.Raw, maxErrorText)
	}
	return e
}

// The chat.completion body as EncodeResponse writes it.
type wireResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []wireChoice `json:"choices"`
	Usage   wireUsage    `json:"usage"`
}

type wireChoice struct {
	Index   int                 `json:"index"`
	Message wireResponseMessage `json:"message"`
	// Logprobs is always null: translated answers have none.
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type wireResponseMessage struct {
	Role             string         `json:"role"`
	Content          *string        `json:"content"`
	Refusal          *string        `json:"refusal"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
	ToolCalls        []wireToolCall `json:"tool_calls,omitempty"`
}

type wireUsage struct {
	PromptTokens            int64                 `json:"prompt_tokens"`
	CompletionTokens        int64                 `json:"completion_tokens"`
	TotalTokens             int64                 `json:"total_tokens"`
	PromptTokensDetails     wirePromptDetails     `json:"prompt_tokens_details"`
	CompletionTokensDetails wireCompletionDetails `json:"completion_tokens_details"`
}

type wirePromptDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
}

type wireCompletionDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}
