package gemini

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// Codec translates between the neutral chat model and Gemini's
// generateContent API. It holds no state and is safe for concurrent use.
type Codec struct{}

var _ llm.UpstreamCodec = Codec{}

// Seams for tests: the clock gives Created, newCallID the ids of the tool
// calls Gemini does not name. n is the call's index within its response;
// the default ignores it, because ids must stay unique across a whole
// conversation, and tests use it to get stable ids.
var (
	now       = time.Now
	newCallID = func(n int) string { return "call_" + rand.Text() }
)

// skipSignature is the value Google documents for a functionCall part whose
// thought signature is unknown, e.g. in history that did not come from this
// model. Gemini 3 models reject a replayed function call without a
// signature, and the neutral model has nowhere to keep the real one.
const skipSignature = "skip_thought_signature_validator"

// Thinking budgets for an effort level without an explicit budget: the
// values Google's own OpenAI-compatible endpoint uses for low, medium and
// high, and 512 for minimal, the smallest budget every 2.5 model accepts.
var effortBudgets = map[string]int{
	"none":    0,
	"minimal": 512,
	"low":     1024,
	"medium":  8192,
	"high":    24576,
}

// EncodeRequest builds a generateContent (or streamGenerateContent) body.
// The model and the stream flag are not part of it: they go in the URL.
//
// Messages become contents: user messages role "user", assistant messages
// role "model"; consecutive messages of the same role are merged into one
// content, since Gemini expects turns to alternate. Text parts become
// {text}; empty text parts are left out, as Gemini rejects them.
//
// Images: base64 data becomes inlineData (a data: URL is unpacked into
// inlineData too; data without a media type is sniffed). Any other URL
// becomes fileData{fileUri} and Gemini fetches it itself: Files API URIs,
// and public https or pre-signed URLs; gs:// URIs only once registered with
// the Files API (Vertex AI takes them directly). The gateway never fetches
// a URL on the client's behalf, so an http:// URL or one Gemini cannot
// reach fails upstream with INVALID_ARGUMENT, which DecodeError maps to a
// 400 invalid_request_error. The fileData mimeType is the part's media type
// or, failing that, guessed from the URL's extension. OpenAI's image detail
// hint is dropped (messages[].parts[].detail).
//
// Assistant tool calls become functionCall parts whose args are the
// arguments' JSON object; arguments that are empty become {}, arguments that
// are not a JSON object are wrapped as {"arguments": value}. The first
// functionCall of each model turn carries the documented placeholder thought
// signature (see skipSignature). Thinking parts from earlier turns are
// dropped, signatures and all (messages[].parts[] (thinking)): Gemini's
// thoughts cannot be replayed as text, and a signature made by another
// provider would be rejected.
//
// Tool results (RoleTool) become functionResponse parts in a "user" turn.
// Gemini matches a response to its call by function name, so the name is
// taken from the nearest earlier assistant tool call with the result's
// ToolCallID (or from the message's Name); a result that answers no call is
// an error. The response must be a JSON object, and Google documents two
// keys in it: a result whose text is a JSON object is sent as that object;
// any other result is sent as {"output": value}, and a failed one (IsError)
// as {"error": value}, where value is the text's JSON value when it is
// valid JSON and the text as a string otherwise. Images in a tool result
// follow the functionResponse as parts of the same turn.
//
// System parts become systemInstruction; it takes text only, so other
// parts are dropped (system[] (image)). Tools become one
// tools entry of functionDeclarations whose parameters are converted to
// Gemini's OpenAPI subset (see convertSchema); a parameter schema without
// properties is left out, since Gemini rejects an OBJECT with no
// properties. ToolChoice becomes toolConfig.functionCallingConfig: auto →
// AUTO, none → NONE, required → ANY, a named tool → ANY with
// allowedFunctionNames, only when tools are sent.
//
// generationConfig carries maxOutputTokens, temperature, topP, topK,
// stopSequences and seed (Gemini's seed is 32 bits: larger seeds are
// truncated to their low 32 bits, which keeps them deterministic);
// ResponseFormat json_object sets responseMimeType application/json, and
// json_schema adds the converted responseSchema. Reasoning becomes
// thinkingConfig: BudgetTokens as thinkingBudget, or else the effort level
// through effortBudgets (an unknown level asks for dynamic thinking, -1),
// with includeThoughts whenever thinking is on, so that the client sees it.
//
// Dropped for want of a counterpart: the tool's Strict flag
// (tools[].strict), ToolChoice's DisableParallel
// (tool_choice.disable_parallel), ResponseFormat's name and strict flag
// (response_format.name, response_format.strict) and any type but
// json_object and json_schema (response_format (xml)), the participant name
// of a user or assistant message (messages[].name; a tool message's Name
// names the function instead), the caching markers of parts
// (system[].cache_control, messages[].parts[].cache_control) and User
// (user). IncludeUsage needs no counterpart, since Gemini always reports
// usage.
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
	var req generateRequest
	drop := func(name string) {
		if !slices.Contains(r.Dropped, name) {
			r.Dropped = append(r.Dropped, name)
		}
	}
	if r.User != "" {
		drop("user")
	}

	var system []part
	for _, p := range r.System {
		switch {
		case p.Type != llm.PartText:
			drop("system[] (" + string(p.Type) + ")")
		case p.Text != "":
			system = append(system, part{Text: p.Text})
			if p.CacheControl != "" {
				drop("system[].cache_control")
			}
		}
	}
	if len(system) > 0 {
		req.SystemInstruction = &content{Parts: system}
	}

	// The nearest earlier call with a given id names the function a tool
	// result answers; ids may repeat across turns.
	callNames := map[string]string{}
	req.Contents = []content{}
	for i, m := range r.Messages {
		var (
			role  string
			parts []part
			err   error
		)
		if m.Name != "" && m.Role != llm.RoleTool {
			drop("messages[].name")
		}
		switch m.Role {
		case llm.RoleUser:
			role = "user"
			parts, err = contentParts(m.Parts, drop)
		case llm.RoleAssistant:
			role = "model"
			parts, err = contentParts(m.Parts, drop)
			for j, tc := range m.ToolCalls {
				p := part{FunctionCall: &functionCall{Name: tc.Name, Args: callArgs(tc.Arguments)}}
				if j == 0 {
					p.ThoughtSignature = skipSignature
				}
				parts = append(parts, p)
				callNames[tc.ID] = tc.Name
			}
		case llm.RoleTool:
			role = "user"
			name := callNames[m.ToolCallID]
			if name == "" {
				name = m.Name
			}
			if name == "" {
				return nil, badRequest("messages[%d]: the tool result for %q answers no earlier tool call", i, m.ToolCallID)
			}
			parts = []part{{FunctionResponse: &functionResponse{Name: name, Response: toolResponse(m)}}}
			var rest []part
			rest, err = contentParts(withoutText(m.Parts, drop), drop)
			parts = append(parts, rest...)
		default:
			return nil, badRequest("messages[%d]: unknown role %q", i, m.Role)
		}
		if err != nil {
			return nil, badRequest("messages[%d]: %v", i, err)
		}
		req.Contents = appendContent(req.Contents, role, parts)
	}

	if len(r.Tools) > 0 {
		decls := make([]functionDeclaration, 0, len(r.Tools))
		for _, t := range r.Tools {
			if t.Strict {
				drop("tools[].strict")
			}
			params, err := toolParameters(t.Parameters)
			if err != nil {
				return nil, badRequest("tool %q: parameters: %v", t.Name, err)
			}
			decls = append(decls, functionDeclaration{Name: t.Name, Description: t.Description, Parameters: params})
		}
		req.Tools = []tool{{FunctionDeclarations: decls}}
		req.ToolConfig = encodeToolChoice(r.ToolChoice)
		if r.ToolChoice != nil && r.ToolChoice.DisableParallel {
			drop("tool_choice.disable_parallel")
		}
	}

	gc, err := encodeGenerationConfig(r, drop)
	if err != nil {
		return nil, err
	}
	req.GenerationConfig = gc

	body, err := marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding gemini request: %w", err)
	}
	return body, nil
}

// badRequest is an error the client caused, in the form the gateway answers.
func badRequest(format string, args ...any) *llm.Error {
	return &llm.Error{
		Status:  http.StatusBadRequest,
		Type:    "invalid_request_error",
		Message: "gemini: " + fmt.Sprintf(format, args...),
	}
}

// appendContent adds a turn, merging it into the previous one when the
// role is the same; a turn without parts is left out.
func appendContent(list []content, role string, parts []part) []content {
	if len(parts) == 0 {
		return list
	}
	if n := len(list); n > 0 && list[n-1].Role == role {
		list[n-1].Parts = append(list[n-1].Parts, parts...)
		return list
	}
	return append(list, content{Role: role, Parts: parts})
}

// contentParts converts the text and image parts of a message; thinking
// parts and kinds Gemini cannot take are dropped, and so are what the parts
// it sends carry without a counterpart.
func contentParts(in []llm.Part, drop func(string)) ([]part, error) {
	var out []part
	for _, p := range in {
		switch p.Type {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			out = append(out, part{Text: p.Text})
		case llm.PartImage:
			ip, err := imagePart(p)
			if err != nil {
				return nil, err
			}
			out = append(out, ip)
			if p.Detail != "" {
				drop("messages[].parts[].detail")
			}
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

// withoutText returns the parts of a tool result other than its text,
// which is sent as the functionResponse, without its cache markers.
func withoutText(in []llm.Part, drop func(string)) []llm.Part {
	var out []llm.Part
	for _, p := range in {
		switch {
		case p.Type != llm.PartText:
			out = append(out, p)
		case p.CacheControl != "":
			drop("messages[].parts[].cache_control")
		}
	}
	return out
}

func imagePart(p llm.Part) (part, error) {
	switch {
	case p.Data != "":
		mt := p.MediaType
		if mt == "" {
			mt = sniffBase64(p.Data)
		}
		if mt == "" {
			return part{}, fmt.Errorf("image data without a media type")
		}
		return part{InlineData: &blob{MimeType: mt, Data: p.Data}}, nil
	case strings.HasPrefix(p.ImageURL, "data:"):
		b, err := parseDataURL(p.ImageURL)
		if err != nil {
			return part{}, err
		}
		if p.MediaType != "" {
			b.MimeType = p.MediaType
		}
		return part{InlineData: b}, nil
	case p.ImageURL != "":
		mt := p.MediaType
		if mt == "" {
			mt = mimeByExtension(p.ImageURL)
		}
		return part{FileData: &fileData{MimeType: mt, FileURI: p.ImageURL}}, nil
	}
	return part{}, fmt.Errorf("image part without data or URL")
}

// parseDataURL unpacks an RFC 2397 data URL into inline data.
func parseDataURL(u string) (*blob, error) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return nil, fmt.Errorf("malformed data URL")
	}
	params := strings.Split(meta, ";")
	mt, isBase64 := strings.TrimSpace(params[0]), false
	for _, p := range params[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if !isBase64 {
		raw, err := url.PathUnescape(data)
		if err != nil {
			return nil, fmt.Errorf("malformed data URL: %w", err)
		}
		data = base64.StdEncoding.EncodeToString([]byte(raw))
	}
	if mt == "" {
		mt = sniffBase64(data)
	}
	if mt == "" {
		return nil, fmt.Errorf("data URL without a media type")
	}
	return &blob{MimeType: mt, Data: data}, nil
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

// imageTypes is a fixed table rather than mime.TypeByExtension, whose
// answers depend on the host's mime files.
var imageTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
	".gif":  "image/gif",
	".heic": "image/heic",
	".heif": "image/heif",
	".pdf":  "application/pdf",
}

func mimeByExtension(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return imageTypes[strings.ToLower(path.Ext(u.Path))]
}

// callArgs turns a tool call's argument text into the JSON object Gemini
// wants (see EncodeRequest).
func callArgs(args string) json.RawMessage {
	args = strings.TrimSpace(args)
	if args == "" {
		return json.RawMessage("{}")
	}
	if v := jsonValue(args); v[0] == '{' {
		return v
	}
	return wrapJSON("arguments", jsonValue(args))
}

// toolResponse builds a functionResponse's response object (see
// EncodeRequest).
func toolResponse(m llm.Message) json.RawMessage {
	v := jsonValue(strings.TrimSpace(m.Text()))
	switch {
	case m.IsError:
		return wrapJSON("error", v)
	case v[0] == '{':
		return v
	}
	return wrapJSON("output", v)
}

// jsonValue returns s compacted when it is valid JSON, and s as a JSON
// string otherwise.
func jsonValue(s string) json.RawMessage {
	if s != "" && json.Valid([]byte(s)) {
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(s)) == nil {
			return buf.Bytes()
		}
	}
	b, _ := marshal(s) // a string always marshals
	return b
}

func wrapJSON(key string, v json.RawMessage) json.RawMessage {
	k, _ := marshal(key)
	out := append([]byte{'{'}, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}

// toolParameters converts a tool's parameter schema, or returns nil when
// there is nothing to send.
func toolParameters(raw json.RawMessage) (json.RawMessage, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	s, err := convertSchema(raw, false)
	if err != nil {
		return nil, err
	}
	p, _ := s.get("properties")
	props, _ := p.(schemaObject)
	typ, _ := s.get("type")
	_, hasAnyOf := s.get("anyOf")
	if len(props) == 0 && !hasAnyOf && (typ == nil || typ == "OBJECT") {
		return nil, nil
	}
	return marshal(s)
}

func encodeToolChoice(tc *llm.ToolChoice) *toolConfig {
	if tc == nil {
		return nil
	}
	cfg := functionCallingConfig{}
	switch tc.Mode {
	case llm.ToolChoiceAuto:
		cfg.Mode = "AUTO"
	case llm.ToolChoiceNone:
		cfg.Mode = "NONE"
	case llm.ToolChoiceRequired:
		cfg.Mode = "ANY"
	case llm.ToolChoiceTool:
		cfg.Mode = "ANY"
		if tc.Name != "" {
			cfg.AllowedFunctionNames = []string{tc.Name}
		}
	default:
		return nil
	}
	return &toolConfig{FunctionCallingConfig: cfg}
}

func encodeGenerationConfig(r *llm.Request, drop func(string)) (*generationConfig, error) {
	gc := generationConfig{
		StopSequences:   r.Stop,
		MaxOutputTokens: r.MaxTokens,
		Temperature:     r.Temperature,
		TopP:            r.TopP,
		TopK:            r.TopK,
	}
	if r.Seed != nil {
		seed := int32(*r.Seed)
		gc.Seed = &seed
	}
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			gc.ResponseMimeType = "application/json"
		case "json_schema":
			gc.ResponseMimeType = "application/json"
			if rf.Name != "" {
				drop("response_format.name")
			}
			if rf.Strict {
				drop("response_format.strict")
			}
			if t := bytes.TrimSpace(rf.Schema); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
				s, err := convertSchema(rf.Schema, true)
				if err != nil {
					return nil, badRequest("response_format schema: %v", err)
				}
				if gc.ResponseSchema, err = marshal(s); err != nil {
					return nil, fmt.Errorf("encoding response schema: %w", err)
				}
			}
		default:
			drop("response_format (" + rf.Type + ")")
		}
	}
	if rs := r.Reasoning; rs != nil {
		budget, ok := rs.BudgetTokens, rs.BudgetTokens != 0
		if !ok && rs.Effort != "" {
			if budget, ok = effortBudgets[strings.ToLower(rs.Effort)]; !ok {
				budget, ok = -1, true
			}
		}
		if ok {
			gc.ThinkingConfig = &thinkingConfig{IncludeThoughts: budget != 0, ThinkingBudget: &budget}
		}
	}
	if gc.isZero() {
		return nil, nil
	}
	return &gc, nil
}

func (gc *generationConfig) isZero() bool {
	return len(gc.StopSequences) == 0 && gc.ResponseMimeType == "" && gc.MaxOutputTokens == nil &&
		gc.Temperature == nil && gc.TopP == nil && gc.TopK == nil && gc.Seed == nil && gc.ThinkingConfig == nil
}
