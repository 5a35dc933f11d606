package cohere

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// Codec translates between the neutral chat model and Cohere's v2 chat
// API. It holds no state and is safe for concurrent use.
type Codec struct{}

var _ llm.UpstreamCodec = Codec{}

// Seams for tests: the clock gives Created (Cohere sends no timestamp), and
// newCallID names a tool call Cohere sent without an id. n is the call's
// index within its answer; the default ignores it, because ids must stay
// unique across a whole conversation.
var (
	now       = time.Now
	newCallID = func(n int) string { return "call_" + rand.Text() }
)

// EncodeRequest builds a v2 chat body: model, messages, and stream, which
// Cohere takes in the body.
//
// System parts become one leading "system" message; it takes text only, so
// other parts are dropped (system[] (image)).
// User messages become "user" messages whose content is a list of text and
// image_url parts. Images are sent as {type: image_url, image_url: {url}}
// — which only vision models (command-a-vision …) accept; others answer
// 400 — with base64 data turned into a data: URL (data without a media
// type is sniffed, and refused when it is not an image) and OpenAI's
// detail hint passed through when it is one Cohere knows (low, high, auto;
// another is dropped: messages[].parts[].detail).
//
// Assistant messages become "assistant" messages. Without tool calls their
// text is the content; with tool calls their text becomes tool_plan, the
// place Cohere's own answers put the text that precedes a call (see
// DecodeResponse), and the calls become tool_calls [{id, type: function,
// function: {name, arguments}}] with empty arguments sent as {}. Images
// in an assistant turn are dropped (messages[].parts[] (image)). Thinking
// parts, signatures and all, are dropped wherever they are
// (messages[].parts[] (thinking)): Cohere does not need them replayed, and
// another provider's thinking would be foreign text.
//
// Tool results become "tool" messages with tool_call_id and the result's
// text as content; a failed result (IsError) is sent as {"error": value},
// value being the text's JSON when it is JSON and the text as a string
// otherwise, since Cohere has no error flag. Images in tool results are
// dropped (messages[].parts[] (image)): tool content takes text and
// documents only.
//
// Tools become [{type: function, function: {name, description,
// parameters}}]; strict_tools is set when every tool is Strict (Cohere's
// flag applies to all tools at once, so when only some are, their flags
// are dropped: tools[].strict). ToolChoice maps where Cohere has a
// counterpart: none → NONE, required → REQUIRED, a named tool → REQUIRED
// with only that tool sent (Cohere cannot name one), auto → nothing, which
// is Cohere's default.
//
// max_tokens, temperature, p (top_p), k (top_k), stop_sequences and seed
// carry over. ResponseFormat json_object becomes {type: json_object}, and
// json_schema adds the schema as json_schema. Reasoning becomes thinking:
// a positive BudgetTokens → {type: enabled, token_budget}; effort "none" →
// {type: disabled}; any other effort or a negative (dynamic) budget →
// {type: enabled} with Cohere's default budget.
//
// Dropped for want of a counterpart: ToolChoice's DisableParallel
// (tool_choice.disable_parallel), the ResponseFormat's name and strict flag
// (response_format.name, response_format.strict) and any type but
// json_object and json_schema (response_format (xml)), Message.Name
// (messages[].name), the caching markers of parts (system[].cache_control,
// messages[].parts[].cache_control) and User (user). IncludeUsage needs no
// counterpart, since Cohere always reports usage.
//
// Each is appended to r.Dropped, once, when the request holds it with a
// value that asks for something, for the call record. The names follow the
// Anthropic encoder's: the neutral model's JSON path, "[]" standing for any
// index, and in parentheses the kind of value when the path alone does not
// say what was lost.
//
// Errors the client caused are returned as *llm.Error with status 400.
func (Codec) EncodeRequest(r *llm.Request) ([]byte, error) {
	if r == nil {
		return nil, badRequest("no request")
	}
	req := chatRequest{
		Model:         r.Model,
		MaxTokens:     r.MaxTokens,
		Temperature:   r.Temperature,
		P:             r.TopP,
		K:             r.TopK,
		StopSequences: r.Stop,
		Seed:          r.Seed,
		Stream:        r.Stream,
		Messages:      []message{},
	}

	drop := func(name string) {
		if !slices.Contains(r.Dropped, name) {
			r.Dropped = append(r.Dropped, name)
		}
	}
	if r.User != "" {
		drop("user")
	}

	var system []contentPart
	for _, p := range r.System {
		switch {
		case p.Type != llm.PartText:
			drop("system[] (" + string(p.Type) + ")")
		case p.Text != "":
			system = append(system, contentPart{Type: "text", Text: p.Text})
			if p.CacheControl != "" {
				drop("system[].cache_control")
			}
		}
	}
	if len(system) > 0 {
		req.Messages = append(req.Messages, message{Role: "system", Content: system})
	}

	for i, m := range r.Messages {
		if m.Name != "" {
			drop("messages[].name")
		}
		msg, err := encodeMessage(m, drop)
		if err != nil {
			return nil, badRequest("messages[%d]: %v", i, err)
		}
		req.Messages = append(req.Messages, msg)
	}

	tools := r.Tools
	if tc := r.ToolChoice; tc != nil && len(tools) > 0 {
		switch tc.Mode {
		case llm.ToolChoiceNone:
			req.ToolChoice = "NONE"
		case llm.ToolChoiceRequired:
			req.ToolChoice = "REQUIRED"
		case llm.ToolChoiceTool:
			req.ToolChoice = "REQUIRED"
			for _, t := range tools {
				if t.Name == tc.Name {
					tools = []llm.Tool{t}
					break
				}
			}
		}
	}
	if len(tools) > 0 {
		if r.ToolChoice != nil && r.ToolChoice.DisableParallel {
			drop("tool_choice.disable_parallel")
		}
		req.StrictTools = true
		someStrict := false
		for _, t := range tools {
			params, err := toolParameters(t.Parameters)
			if err != nil {
				return nil, badRequest("tool %q: parameters: %v", t.Name, err)
			}
			req.Tools = append(req.Tools, tool{Type: "function", Function: functionDecl{
				Name: t.Name, Description: t.Description, Parameters: params,
			}})
			req.StrictTools = req.StrictTools && t.Strict
			someStrict = someStrict || t.Strict
		}
		if someStrict && !req.StrictTools {
			drop("tools[].strict")
		}
	}

	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			req.ResponseFormat = &responseFormat{Type: "json_object"}
		case "json_schema":
			req.ResponseFormat = &responseFormat{Type: "json_object"}
			if rf.Name != "" {
				drop("response_format.name")
			}
			if rf.Strict {
				drop("response_format.strict")
			}
			if t := bytes.TrimSpace(rf.Schema); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
				if !json.Valid(t) {
					return nil, badRequest("response_format schema is not valid JSON")
				}
				req.ResponseFormat.JSONSchema = compact(t)
			}
		default:
			drop("response_format (" + rf.Type + ")")
		}
	}
	req.Thinking = encodeThinking(r.Reasoning)

	body, err := marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding cohere request: %w", err)
	}
	return body, nil
}

// badRequest is an error the client caused, in the form the gateway answers.
func badRequest(format string, args ...any) *llm.Error {
	return &llm.Error{
		Status:  http.StatusBadRequest,
		Type:    "invalid_request_error",
		Message: "cohere: " + fmt.Sprintf(format, args...),
	}
}

// encodeMessage encodes one turn; drop records what it leaves out.
func encodeMessage(m llm.Message, drop func(string)) (message, error) {
	switch m.Role {
	case llm.RoleUser:
		parts, err := contentParts(m.Parts, drop)
		if err != nil {
			return message{}, err
		}
		if len(parts) == 0 {
			// Cohere rejects a turn without content; an empty text keeps
			// the turn order the client sent and lets Cohere say why.
			parts = []contentPart{{Type: "text", Text: ""}}
		}
		return message{Role: "user", Content: parts}, nil
	case llm.RoleAssistant:
		msg := message{Role: "assistant"}
		textOnly(m.Parts, drop)
		if len(m.ToolCalls) > 0 {
			msg.ToolPlan = m.Text()
			for _, tc := range m.ToolCalls {
				args := strings.TrimSpace(tc.Arguments)
				if args == "" {
					args = "{}"
				}
				msg.ToolCalls = append(msg.ToolCalls, toolCall{
					ID: tc.ID, Type: "function", Function: toolFunction{Name: tc.Name, Arguments: args},
				})
			}
			return msg, nil
		}
		var parts []contentPart
		for _, p := range m.Parts {
			if p.Type == llm.PartText && p.Text != "" {
				parts = append(parts, contentPart{Type: "text", Text: p.Text})
			}
		}
		if len(parts) == 0 {
			parts = []contentPart{{Type: "text", Text: ""}}
		}
		msg.Content = parts
		return msg, nil
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return message{}, fmt.Errorf("tool result without a tool_call_id")
		}
		textOnly(m.Parts, drop)
		text := m.Text()
		if m.IsError {
			text = errorResult(text)
		}
		return message{Role: "tool", ToolCallID: m.ToolCallID, Content: text}, nil
	}
	return message{}, fmt.Errorf("unknown role %q", m.Role)
}

// contentParts converts the text and image parts of a user message;
// thinking parts are dropped.
func contentParts(in []llm.Part, drop func(string)) ([]contentPart, error) {
	var out []contentPart
	for _, p := range in {
		switch p.Type {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			out = append(out, contentPart{Type: "text", Text: p.Text})
		case llm.PartImage:
			u, err := imageLocation(p)
			if err != nil {
				return nil, err
			}
			detail := strings.ToLower(p.Detail)
			if detail != "low" && detail != "high" && detail != "auto" {
				if detail != "" {
					drop("messages[].parts[].detail")
				}
				detail = ""
			}
			out = append(out, contentPart{Type: "image_url", ImageURL: &imageURL{URL: u, Detail: detail}})
		default:
			drop("messages[].parts[] (" + string(p.Type) + ")")
			continue
		}
		if p.CacheControl != "" {
			drop("messages[].parts[].cache_control")
		}
	}
	return out, nil
}

// textOnly records what an assistant turn or a tool result, which Cohere
// takes as text only, leaves out of parts.
func textOnly(parts []llm.Part, drop func(string)) {
	for _, p := range parts {
		switch {
		case p.Type != llm.PartText:
			drop("messages[].parts[] (" + string(p.Type) + ")")
		case p.CacheControl != "":
			drop("messages[].parts[].cache_control")
		}
	}
}

// imageLocation is the URL Cohere fetches or decodes an image from.
func imageLocation(p llm.Part) (string, error) {
	switch {
	case p.Data != "":
		mt := p.MediaType
		if mt == "" {
			mt = sniffBase64(p.Data)
		}
		if mt == "" {
			return "", fmt.Errorf("image data without a media type")
		}
		return "data:" + mt + ";base64," + p.Data, nil
	case p.ImageURL != "":
		return p.ImageURL, nil
	}
	return "", fmt.Errorf("image part without data or URL")
}

// sniffBase64 recognises an image format from the first bytes of base64
// data, or returns "".
func sniffBase64(data string) string {
	head := data[:min(len(data), 64)]
	head = head[:len(head)/4*4]
	dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, strings.NewReader(head)))
	if err != nil && len(dec) == 0 {
		return ""
	}
	if mt := http.DetectContentType(dec); strings.HasPrefix(mt, "image/") {
		return mt
	}
	return ""
}

// errorResult wraps a failed tool run's output as {"error": value}.
func errorResult(text string) string {
	v := json.RawMessage(compact([]byte(strings.TrimSpace(text))))
	if len(v) == 0 || !json.Valid(v) {
		v, _ = marshal(text) // a string always marshals
	}
	b, _ := marshal(map[string]json.RawMessage{"error": v})
	return string(b)
}

// compact returns b compacted when it is valid JSON, and b otherwise.
func compact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// toolParameters checks a tool's parameter schema and returns it compact,
// or nil when there is nothing to send.
func toolParameters(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if !json.Valid(t) {
		return nil, fmt.Errorf("schema is not valid JSON")
	}
	return compact(t), nil
}

func encodeThinking(rs *llm.Reasoning) *thinking {
	switch {
	case rs == nil:
		return nil
	case rs.BudgetTokens > 0:
		b := rs.BudgetTokens
		return &thinking{Type: "enabled", TokenBudget: &b}
	case rs.BudgetTokens < 0:
		return &thinking{Type: "enabled"}
	case strings.EqualFold(rs.Effort, "none"):
		return &thinking{Type: "disabled"}
	case rs.Effort != "":
		return &thinking{Type: "enabled"}
	}
	return nil
}
