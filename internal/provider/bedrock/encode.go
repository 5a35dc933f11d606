package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
)

// Codec translates between the neutral chat model and Bedrock's Converse
// API. It holds no state and is safe for concurrent use.
type Codec struct{}

var _ llm.UpstreamCodec = Codec{}

// Thinking budgets for an effort level without an explicit budget; 1024 is
// the smallest budget Anthropic's models accept.
var effortBudgets = map[string]int{
	"minimal": 1024,
	"low":     1024,
	"medium":  8192,
	"high":    24576,
}

// imageFormats maps media types to Converse's image formats, the only four
// it takes.
var imageFormats = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpeg",
	"image/jpg":  "jpeg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// EncodeRequest builds a Converse (or ConverseStream) body. The model and
// the stream flag are not part of it: they go in the URL.
//
// System text parts become system [{text}]; other parts have no place there
// and are dropped (system[] (image)). User and assistant messages
// become messages of role "user" and "assistant"; consecutive messages of
// the same role are merged, since Converse wants turns to alternate. Empty
// text parts are left out, as Converse rejects blank text blocks.
//
// Images become {image: {format, source: {bytes}}}: base64 data as it is, a
// data: URL unpacked. Converse takes only bytes (and S3 locations, which no
// client format can name), and the gateway never fetches a URL on the
// client's behalf, so an http(s) image URL is a 400 invalid_request_error.
// The format is one of png, jpeg, gif and webp, from the media type or, for
// data without one, sniffed from its first bytes.
//
// Assistant tool calls become toolUse blocks whose input is the arguments'
// JSON object; empty arguments become {}, arguments that are not a JSON
// object are wrapped as {"arguments": value}. Thinking parts of assistant
// turns that carry a signature become reasoningContent blocks, which Claude
// models require to be replayed in tool-use turns; thinking without a
// signature (from another provider) cannot be verified and is dropped
// (messages[].parts[] (unsigned thinking)), as is Anthropic's redacted
// thinking (messages[].parts[] (redacted thinking)) and thinking anywhere
// else (messages[].parts[] (thinking)).
//
// Tool results (RoleTool) become toolResult blocks in a user turn, with
// status "error" for a failed run (IsError) and "success" otherwise. A
// result whose text is a JSON object is sent as {json}, any other as
// {text}; images in the result follow as {image} content; other parts are
// dropped.
//
// inferenceConfig carries maxTokens, temperature, topP and stopSequences.
// Tools become toolConfig.tools of toolSpec with inputSchema.json (an
// object schema with no properties when a tool declares none, since
// Converse requires one). ToolChoice auto → {auto}, required → {any}, a
// named tool → {tool: {name}}. Converse has no "none": then toolConfig is
// left out, so the model cannot call a tool — unless the conversation
// already holds tool calls or results, for which Converse requires
// toolConfig, and then the tools are sent with no toolChoice, and "none" is
// dropped (tool_choice (none)).
//
// Claude models (an id containing "anthropic.", inference profiles and ARNs
// included) get additionalModelRequestFields: Reasoning as thinking
// {type: enabled, budget_tokens} — BudgetTokens, or else the effort level
// through effortBudgets (an unknown level gets medium's budget) — and TopK
// as top_k. For other models both are dropped (reasoning, top_k), as their
// native fields differ model by model; so is a Reasoning that asks for
// thinking without a positive budget or a known effort (a dynamic budget).
//
// Dropped for want of a counterpart: ResponseFormat (Converse has no JSON
// mode: response_format (json_object), response_format (json_schema)),
// Seed (seed), User (user), the tool's Strict flag (tools[].strict),
// ToolChoice's DisableParallel (tool_choice.disable_parallel),
// Message.Name (messages[].name), OpenAI's image detail hint
// (messages[].parts[].detail) and Anthropic's cache markers
// (system[].cache_control, messages[].parts[].cache_control).
// IncludeUsage needs no counterpart, since Bedrock always reports usage.
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
	req := converseRequest{Messages: []message{}}
	drop := func(name string) {
		if !slices.Contains(r.Dropped, name) {
			r.Dropped = append(r.Dropped, name)
		}
	}
	for _, p := range r.System {
		switch {
		case p.Type != llm.PartText:
			drop("system[] (" + string(p.Type) + ")")
		case strings.TrimSpace(p.Text) != "":
			req.System = append(req.System, systemBlock{Text: p.Text})
			if p.CacheControl != "" {
				drop("system[].cache_control")
			}
		}
	}

	usesTools := false
	for i, m := range r.Messages {
		var (
			role   string
			blocks []contentBlock
			err    error
		)
		if m.Name != "" {
			drop("messages[].name")
		}
		switch m.Role {
		case llm.RoleUser:
			role = "user"
			blocks, err = contentBlocks(m.Parts, false, drop)
		case llm.RoleAssistant:
			role = "assistant"
			blocks, err = contentBlocks(m.Parts, true, drop)
			for _, tc := range m.ToolCalls {
				blocks = append(blocks, contentBlock{ToolUse: &toolUse{ToolUseID: tc.ID, Name: tc.Name, Input: callInput(tc.Arguments)}})
				usesTools = true
			}
		case llm.RoleTool:
			role = "user"
			var tr *toolResult
			tr, err = encodeToolResult(m, drop)
			blocks = []contentBlock{{ToolResult: tr}}
			usesTools = true
		default:
			return nil, badRequest("messages[%d]: unknown role %q", i, m.Role)
		}
		if err != nil {
			return nil, badRequest("messages[%d]: %v", i, err)
		}
		req.Messages = appendMessage(req.Messages, role, blocks)
	}

	if len(r.Tools) > 0 {
		tc := &toolConfig{ToolChoice: encodeToolChoice(r.ToolChoice)}
		for _, t := range r.Tools {
			schema, err := toolSchema(t.Parameters)
			if err != nil {
				return nil, badRequest("tool %q: parameters: %v", t.Name, err)
			}
			tc.Tools = append(tc.Tools, toolEntry{ToolSpec: toolSpec{Name: t.Name, Description: t.Description, InputSchema: inputSchema{JSON: schema}}})
		}
		none := r.ToolChoice != nil && r.ToolChoice.Mode == llm.ToolChoiceNone
		if !none || usesTools {
			req.ToolConfig = tc
			for _, t := range r.Tools {
				if t.Strict {
					drop("tools[].strict")
				}
			}
			switch {
			case none:
				drop("tool_choice (none)")
			case r.ToolChoice != nil && r.ToolChoice.DisableParallel:
				drop("tool_choice.disable_parallel")
			}
		}
	}

	if r.MaxTokens != nil || r.Temperature != nil || r.TopP != nil || len(r.Stop) > 0 {
		req.InferenceConfig = &inferenceConfig{MaxTokens: r.MaxTokens, Temperature: r.Temperature, TopP: r.TopP, StopSequences: r.Stop}
	}

	if r.Seed != nil {
		drop("seed")
	}
	if rf := r.ResponseFormat; rf != nil && rf.Type != "" && rf.Type != "text" {
		drop("response_format (" + rf.Type + ")")
	}
	if r.User != "" {
		drop("user")
	}
	if isClaude(r.Model) {
		extra, err := claudeFields(r, drop)
		if err != nil {
			return nil, fmt.Errorf("encoding bedrock request: %w", err)
		}
		req.AdditionalModelRequestFields = extra
	} else {
		if r.Reasoning != nil && wantsThinking(r.Reasoning) {
			drop("reasoning")
		}
		if r.TopK != nil {
			drop("top_k")
		}
	}

	body, err := marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding bedrock request: %w", err)
	}
	return body, nil
}

// badRequest is an error the client caused, in the form the gateway answers.
func badRequest(format string, args ...any) *llm.Error {
	return &llm.Error{
		Status:  http.StatusBadRequest,
		Type:    "invalid_request_error",
		Message: "bedrock: " + fmt.Sprintf(format, args...),
	}
}

// appendMessage adds a turn, merging it into the previous one when the role
// is the same; a turn without content is left out.
func appendMessage(list []message, role string, blocks []contentBlock) []message {
	if len(blocks) == 0 {
		return list
	}
	if n := len(list); n > 0 && list[n-1].Role == role {
		list[n-1].Content = append(list[n-1].Content, blocks...)
		return list
	}
	return append(list, message{Role: role, Content: blocks})
}

// contentBlocks converts text, image and (for the assistant) signed
// thinking parts, and drops the rest.
func contentBlocks(in []llm.Part, assistant bool, drop func(string)) ([]contentBlock, error) {
	const path = "messages[].parts[]"
	var out []contentBlock
	for _, p := range in {
		switch p.Type {
		case llm.PartText:
			if strings.TrimSpace(p.Text) == "" {
				continue
			}
			out = append(out, contentBlock{Text: &p.Text})
		case llm.PartImage:
			img, err := encodeImage(p, drop)
			if err != nil {
				return nil, err
			}
			out = append(out, contentBlock{Image: img})
		case llm.PartThinking:
			switch {
			case !assistant:
				drop(path + " (thinking)")
				continue
			case p.Signature != "":
				out = append(out, contentBlock{ReasoningContent: &reasoningContent{
					ReasoningText: &reasoningText{Text: p.Text, Signature: p.Signature},
				}})
			case p.Data != "":
				drop(path + " (redacted thinking)")
				continue
			default:
				drop(path + " (unsigned thinking)")
				continue
			}
		default:
			drop(path + " (" + string(p.Type) + ")")
			continue
		}
		if p.CacheControl != "" {
			drop(path + ".cache_control")
		}
	}
	return out, nil
}

func encodeToolResult(m llm.Message, drop func(string)) (*toolResult, error) {
	tr := &toolResult{ToolUseID: m.ToolCallID, Status: "success"}
	if m.IsError {
		tr.Status = "error"
	}
	text := strings.TrimSpace(m.Text())
	switch {
	case strings.HasPrefix(text, "{") && json.Valid([]byte(text)):
		tr.Content = append(tr.Content, toolResultContent{JSON: compact(text)})
	case text != "":
		t := m.Text()
		tr.Content = append(tr.Content, toolResultContent{Text: &t})
	}
	for _, p := range m.Parts {
		switch p.Type {
		case llm.PartText:
		case llm.PartImage:
			img, err := encodeImage(p, drop)
			if err != nil {
				return nil, err
			}
			tr.Content = append(tr.Content, toolResultContent{Image: img})
		default:
			drop("messages[].parts[] (" + string(p.Type) + ")")
			continue
		}
		if p.CacheControl != "" {
			drop("messages[].parts[].cache_control")
		}
	}
	if len(tr.Content) == 0 {
		// Converse requires content; an empty result is an empty text.
		empty := ""
		tr.Content = []toolResultContent{{Text: &empty}}
	}
	return tr, nil
}

func encodeImage(p llm.Part, drop func(string)) (*imageBlock, error) {
	if p.Detail != "" {
		drop("messages[].parts[].detail")
	}
	mt, data := p.MediaType, p.Data
	switch {
	case data != "":
	case strings.HasPrefix(p.ImageURL, "data:"):
		var err error
		if mt, data, err = parseDataURL(p.ImageURL, mt); err != nil {
			return nil, err
		}
	case p.ImageURL != "":
		return nil, fmt.Errorf("image URLs are not supported by Bedrock Converse, which takes only inline image bytes: send the image as base64 data")
	default:
		return nil, fmt.Errorf("image part without data or URL")
	}
	if mt == "" {
		mt = sniffBase64(data)
	}
	format, ok := imageFormats[strings.ToLower(mt)]
	if !ok {
		if mt == "" {
			return nil, fmt.Errorf("image data of unknown type")
		}
		return nil, fmt.Errorf("image type %q is not supported by Bedrock Converse (png, jpeg, gif, webp)", mt)
	}
	return &imageBlock{Format: format, Source: imageSource{Bytes: data}}, nil
}

// parseDataURL unpacks an RFC 2397 data URL into a media type (mt when
// given) and base64 data.
func parseDataURL(u, mt string) (string, string, error) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return "", "", fmt.Errorf("malformed data URL")
	}
	params := strings.Split(meta, ";")
	isBase64 := false
	for _, p := range params[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if !isBase64 {
		raw, err := url.PathUnescape(data)
		if err != nil {
			return "", "", fmt.Errorf("malformed data URL: %w", err)
		}
		data = base64.StdEncoding.EncodeToString([]byte(raw))
	}
	if mt == "" {
		mt = strings.TrimSpace(params[0])
	}
	return mt, data, nil
}

// sniffBase64 recognises an image format from the first bytes of base64
// data, or returns "".
func sniffBase64(data string) string {
	head := data[:min(len(data), 64)]
	head = head[:len(head)/4*4]
	dec, _ := base64.StdEncoding.DecodeString(head)
	if mt := http.DetectContentType(dec); strings.HasPrefix(mt, "image/") {
		return mt
	}
	return ""
}

// callInput turns a tool call's argument text into the JSON object
// Converse wants (see EncodeRequest).
func callInput(args string) json.RawMessage {
	args = strings.TrimSpace(args)
	if args == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(args)) {
		if args[0] == '{' {
			return compact(args)
		}
		return wrap("arguments", compact(args))
	}
	s, _ := marshal(args) // a string always marshals
	return wrap("arguments", s)
}

func compact(s string) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) != nil {
		return json.RawMessage(s)
	}
	return buf.Bytes()
}

func wrap(key string, v json.RawMessage) json.RawMessage {
	k, _ := marshal(key)
	out := append([]byte{'{'}, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}

// toolSchema returns a tool's parameter schema, or an empty object schema.
func toolSchema(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return json.RawMessage(`{"type":"object","properties":{}}`), nil
	}
	if !json.Valid(t) || t[0] != '{' {
		return nil, fmt.Errorf("schema is not a JSON object")
	}
	return compact(string(t)), nil
}

func encodeToolChoice(tc *llm.ToolChoice) *toolChoice {
	if tc == nil {
		return nil
	}
	switch tc.Mode {
	case llm.ToolChoiceAuto:
		return &toolChoice{Auto: &struct{}{}}
	case llm.ToolChoiceRequired:
		return &toolChoice{Any: &struct{}{}}
	case llm.ToolChoiceTool:
		if tc.Name == "" {
			return &toolChoice{Any: &struct{}{}}
		}
		return &toolChoice{Tool: &specificTool{Name: tc.Name}}
	}
	return nil
}

// isClaude reports whether a Bedrock model id, inference-profile id or ARN
// names one of Anthropic's models.
func isClaude(model string) bool {
	return strings.Contains(strings.ToLower(model), "anthropic.")
}

// wantsThinking reports whether rs asks for thinking rather than for none.
func wantsThinking(rs *llm.Reasoning) bool {
	return rs.BudgetTokens != 0 || (rs.Effort != "" && !strings.EqualFold(rs.Effort, "none"))
}

// claudeFields builds Anthropic's native fields for
// additionalModelRequestFields, or nil when there are none.
func claudeFields(r *llm.Request, drop func(string)) (json.RawMessage, error) {
	type thinking struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	}
	var fields struct {
		Thinking *thinking `json:"thinking,omitempty"`
		TopK     *int      `json:"top_k,omitempty"`
	}
	fields.TopK = r.TopK
	if rs := r.Reasoning; rs != nil && strings.ToLower(rs.Effort) != "none" {
		budget := rs.BudgetTokens
		if budget == 0 && rs.Effort != "" {
			var ok bool
			if budget, ok = effortBudgets[strings.ToLower(rs.Effort)]; !ok {
				budget = effortBudgets["medium"]
			}
		}
		if budget > 0 {
			fields.Thinking = &thinking{Type: "enabled", BudgetTokens: budget}
		}
	}
	if fields.Thinking == nil && r.Reasoning != nil && wantsThinking(r.Reasoning) {
		drop("reasoning")
	}
	if fields.Thinking == nil && fields.TopK == nil {
		return nil, nil
	}
	return marshal(fields)
}
