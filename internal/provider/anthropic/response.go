package anthropic

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// Anthropic's message object, field order as Anthropic's streams send it.
type wireResponse struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Role         string    `json:"role"`
	Model        string    `json:"model"`
	Content      []any     `json:"content"`
	StopReason   *string   `json:"stop_reason"`
	StopSequence *string   `json:"stop_sequence"`
	Usage        wireUsage `json:"usage"`
}

type wireUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
}

// Token accounting differs between the two sides. Anthropic's input_tokens
// counts only the prompt tokens that were neither read from the cache nor
// written to it; cache_read_input_tokens and cache_creation_input_tokens
// count the others. llm.Usage follows OpenAI: InputTokens is every prompt
// token, CachedInputTokens the part of it read from the cache. So
//
//	InputTokens       = input_tokens + cache_read_input_tokens + cache_creation_input_tokens
//	CachedInputTokens = cache_read_input_tokens
//
//	CacheWriteInputTokens = cache_creation_input_tokens
//
// and back, input_tokens = InputTokens - CachedInputTokens -
// CacheWriteInputTokens.

// neutralUsage converts an Anthropic usage object.
func neutralUsage(u gjson.Result) llm.Usage {
	if !u.IsObject() {
		return llm.Usage{}
	}
	read := count(u.Get("cache_read_input_tokens"))
	written := count(u.Get("cache_creation_input_tokens"))
	return llm.Usage{
		InputTokens:           count(u.Get("input_tokens")) + read + written,
		CachedInputTokens:     read,
		CacheWriteInputTokens: written,
		OutputTokens:          count(u.Get("output_tokens")),
		Present:               true,
	}
}

// anthropicUsage converts a neutral usage.
func anthropicUsage(u llm.Usage) wireUsage {
	return wireUsage{
		InputTokens:              max(u.InputTokens-u.CachedInputTokens-u.CacheWriteInputTokens, 0),
		CacheReadInputTokens:     u.CachedInputTokens,
		CacheCreationInputTokens: u.CacheWriteInputTokens,
		OutputTokens:             u.OutputTokens,
	}
}

// count reads a token count; anything but a non-negative number is zero, so
// that a broken upstream cannot lower a cost.
func count(r gjson.Result) int64 {
	if r.Type != gjson.Number {
		return 0
	}
	return max(r.Int(), 0)
}

// finishReason maps Anthropic's stop_reason. pause_turn (a server-tool loop
// Anthropic paused) has no neutral counterpart and reads as a plain stop;
// model_context_window_exceeded is a length limit like max_tokens.
func finishReason(stopReason string) llm.FinishReason {
	switch stopReason {
	case "":
		return ""
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "refusal":
		return llm.FinishContentFilter
	default: // end_turn, stop_sequence, pause_turn and any newer reason
		return llm.FinishStop
	}
}

// stopReason maps a neutral finish reason to Anthropic's. A stop caused by a
// stop sequence is stop_sequence. A turn that made tool calls is tool_use
// even when the upstream said "stop", as some OpenAI-compatible servers do,
// because Anthropic clients run their tool loop on tool_use alone. No reason
// at all is end_turn.
func stopReason(f llm.FinishReason, stopSequence string, toolCalls bool) string {
	switch f {
	case llm.FinishLength:
		return "max_tokens"
	case llm.FinishToolCalls:
		return "tool_use"
	case llm.FinishContentFilter:
		return "refusal"
	}
	switch {
	case toolCalls:
		return "tool_use"
	case stopSequence != "":
		return "stop_sequence"
	}
	return "end_turn"
}

// DecodeResponse reads an Anthropic message. Blocks the neutral model has
// no place for (server-tool calls and results) are skipped, as are the
// citations of text blocks; the text is kept. Created is the time of
// decoding, since Anthropic sends none.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	if !json.Valid(body) {
		return nil, errors.New("decoding anthropic response: not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, errors.New("decoding anthropic response: not a JSON object")
	}
	if root.Get("type").Str == "error" {
		return nil, decodeError(0, root)
	}
	resp := &llm.Response{
		ID:      root.Get("id").Str,
		Model:   root.Get("model").Str,
		Created: now().Unix(),
		Message: llm.Message{Role: llm.RoleAssistant},
		Usage:   neutralUsage(root.Get("usage")),
	}
	root.Get("content").ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").Str {
		case "text":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: b.Get("text").Str})
		case "thinking":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{
				Type: llm.PartThinking, Text: b.Get("thinking").Str, Signature: b.Get("signature").Str,
			})
		case "redacted_thinking":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartThinking, Data: b.Get("data").Str})
		case "tool_use":
			args := "{}"
			if in := b.Get("input"); in.IsObject() {
				args = string(compact(in.Raw))
			}
			resp.Message.ToolCalls = append(resp.Message.ToolCalls, llm.ToolCall{
				ID: b.Get("id").Str, Name: b.Get("name").Str, Arguments: args,
			})
		}
		return true
	})
	sr := root.Get("stop_reason").Str
	resp.Finish = finishReason(sr)
	if sr == "stop_sequence" {
		resp.StopSequence = root.Get("stop_sequence").Str
	}
	return resp, nil
}

// EncodeResponse writes a neutral answer as an Anthropic message: thinking
// and text blocks in the order of the message's parts, then one tool_use
// block per call. Thinking from another provider goes out with an empty
// signature so that clients can show it; should it come back for an
// Anthropic upstream, EncodeRequest drops it, since Anthropic refuses
// thinking it did not sign. Tool-call arguments that are not a JSON object
// (cut off by max_tokens, or a model's invalid JSON) become the empty input
// {}: Anthropic's schema allows only an object there, the stop_reason tells
// the client the turn was cut short, and failing the whole answer would
// throw away everything else in it.
func (Codec) EncodeResponse(r *llm.Response) ([]byte, error) {
	w := wireResponse{
		ID:      r.ID,
		Type:    "message",
		Role:    "assistant",
		Model:   r.Model,
		Content: responseContent(r.Message),
		Usage:   anthropicUsage(r.Usage),
	}
	sr := stopReason(r.Finish, r.StopSequence, len(r.Message.ToolCalls) > 0)
	w.StopReason = &sr
	if sr == "stop_sequence" {
		w.StopSequence = &r.StopSequence
	}
	return marshal(w)
}

func responseContent(m llm.Message) []any {
	content := make([]any, 0, len(m.Parts)+len(m.ToolCalls))
	for _, p := range m.Parts {
		switch p.Type {
		case llm.PartThinking:
			switch {
			case p.Data != "":
				content = append(content, redactedThinkingBlock{Type: "redacted_thinking", Data: p.Data})
			case p.Text != "" || p.Signature != "":
				content = append(content, thinkingBlock{Type: "thinking", Thinking: p.Text, Signature: p.Signature})
			}
		case llm.PartText:
			if p.Text != "" {
				content = append(content, textBlock{Type: "text", Text: p.Text})
			}
		}
	}
	for _, c := range m.ToolCalls {
		input, _ := argumentsObject(c.Arguments)
		content = append(content, toolUseBlock{Type: "tool_use", ID: c.ID, Name: c.Name, Input: input})
	}
	return content
}

// trimMessage bounds an error message taken from an upstream body that was
// not in Anthropic's error shape (an HTML page from a proxy, say).
func trimMessage(s string) string {
	s = strings.TrimSpace(s)
	const limit = 512
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}
