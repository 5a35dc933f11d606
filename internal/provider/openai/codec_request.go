package openai

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// DecodeRequest reads an OpenAI chat-completions request body into the
// neutral model. Every error is an *llm.Error with Status 400 and Type
// invalid_request_error whose message names the offending field path, e.g.
// "invalid 'messages[2].content[0].type': …".
//
// A JSON null is read as an absent field, as OpenAI does. Besides the
// choices documented on Codec:
//
//   - max_tokens and max_completion_tokens both set MaxTokens; sending both
//     is a 400, as it is at OpenAI.
//   - tool_choice {"type":"allowed_tools"} is translated by keeping only the
//     allowed tools; a tool_choice or parallel_tool_calls without tools
//     constrains nothing and is left out.
//   - parallel_tool_calls=false becomes ToolChoice.DisableParallel (with
//     mode auto when no tool_choice was given).
//   - safety_identifier, OpenAI's successor to user, fills User when user is
//     absent.
//   - top_k, an extension of vLLM and OpenRouter clients, fills TopK.
//   - response_format {"type":"text"} is the default and maps to no
//     ResponseFormat; a json_schema's description is dropped.
//   - A name on a system or developer message is dropped; on user and
//     assistant messages it is kept in Message.Name.
//   - An assistant's refusal becomes a text part, its reasoning_content (or
//     reasoning, OpenRouter's and newer vLLM's name) a thinking part before
//     the text, and empty content strings are skipped.
//
// Request.Dropped names dropped fields with "[]" for any array index
// ("messages[].audio"), each once.
func (Codec) DecodeRequest(body []byte) (*llm.Request, error) {
	// encoding/json's validator is iterative and caps nesting; gjson's
	// recurses without a limit, so it only sees bodies that passed here.
	if !json.Valid(body) {
		return nil, badRequest("the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, badRequest("the request body must be a JSON object")
	}
	d := requestDecoder{req: &llm.Request{}}
	var err error
	root.ForEach(func(k, v gjson.Result) bool {
		err = d.field(k.Str, v)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return d.req, nil
}

// requestDecoder holds what DecodeRequest learns field by field and can
// only apply once it has seen them all.
type requestDecoder struct {
	req          *llm.Request
	sawMessages  bool
	maxTokensKey string // which of max_tokens and max_completion_tokens was given
	parallel     *bool
	allowed      []string // tool names of an allowed_tools tool_choice
	safetyID     string
}

func (d *requestDecoder) drop(name string) {
	if !slices.Contains(d.req.Dropped, name) {
		d.req.Dropped = append(d.req.Dropped, name)
	}
}

// dropUnlessNoop records a field with no neutral counterpart, unless its
// value asks for nothing: then leaving it out loses nothing either.
func (d *requestDecoder) dropUnlessNoop(name string, v gjson.Result) {
	if !isNoop(name, v) {
		d.drop(name)
	}
}

func isNoop(name string, v gjson.Result) bool {
	switch v.Type {
	case gjson.Null, gjson.False:
		return true
	case gjson.Number:
		return v.Num == 0
	case gjson.String:
		switch name {
		case "service_tier":
			return v.Str == "auto" || v.Str == "default"
		case "verbosity":
			return v.Str == "medium"
		}
		return v.Str == ""
	case gjson.JSON:
		if name == "modalities" && v.IsArray() {
			only := true
			n := 0
			v.ForEach(func(_, m gjson.Result) bool {
				n++
				only = m.Type == gjson.String && m.Str == "text"
				return only
			})
			return only && n <= 1
		}
		empty := true
		v.ForEach(func(_, _ gjson.Result) bool {
			empty = false
			return false
		})
		return empty
	}
	return false
}

func (d *requestDecoder) field(name string, v gjson.Result) error {
	if v.Type == gjson.Null {
		return nil
	}
	r := d.req
	var err error
	switch name {
	case "model":
		r.Model, err = str(name, v)
	case "messages":
		return d.messages(v)
	case "tools":
		return d.tools(v)
	case "tool_choice":
		return d.toolChoice(v)
	case "parallel_tool_calls":
		var b bool
		b, err = boolean(name, v)
		d.parallel = &b
	case "max_tokens", "max_completion_tokens":
		if d.maxTokensKey != "" && d.maxTokensKey != name {
			return badRequest("'max_tokens' and 'max_completion_tokens' cannot both be set; send only one of them")
		}
		d.maxTokensKey = name
		var n int64
		if n, err = integer(name, v); err == nil {
			if n < 1 || n > math.MaxInt32 {
				return invalid(name, "must be an integer from 1 to %d, got %d", math.MaxInt32, n)
			}
			m := int(n)
			r.MaxTokens = &m
		}
	case "temperature":
		r.Temperature, err = numberPtr(name, v)
	case "top_p":
		r.TopP, err = numberPtr(name, v)
	case "top_k":
		var n int64
		if n, err = integer(name, v); err == nil {
			if n < 0 || n > math.MaxInt32 {
				return invalid(name, "must be a non-negative integer, got %d", n)
			}
			k := int(n)
			r.TopK = &k
		}
	case "seed":
		var n int64
		n, err = integer(name, v)
		r.Seed = &n
	case "stop":
		return d.stop(v)
	case "response_format":
		return d.responseFormat(v)
	case "reasoning_effort":
		var s string
		if s, err = str(name, v); err == nil && s != "" {
			r.Reasoning = &llm.Reasoning{Effort: s}
		}
	case "stream":
		r.Stream, err = boolean(name, v)
	case "stream_options":
		return d.streamOptions(v)
	case "user":
		r.User, err = str(name, v)
	case "safety_identifier":
		d.safetyID, err = str(name, v)
	case "n":
		var n int64
		if n, err = integer(name, v); err == nil {
			if n < 1 {
				return invalid(name, "must be at least 1, got %d", n)
			}
			if n > 1 {
				return badRequest("'n' greater than 1 is not supported for this model: its provider returns a single choice")
			}
		}
	case "functions", "function_call":
		if isNoop(name, v) {
			return nil
		}
		return badRequest("'%s' belongs to the deprecated function-calling API, which is not supported for this model; use 'tools' and 'tool_choice'", name)
	case "web_search_options":
		return badRequest("'web_search_options' is not supported for this model: its provider cannot search the web on OpenAI's terms")
	default:
		// logprobs, top_logprobs, logit_bias, presence_penalty,
		// frequency_penalty, audio, modalities, prediction, service_tier,
		// store, metadata, verbosity, prompt_cache_key and anything unknown:
		// they tune or annotate the answer but do not change what it says.
		d.dropUnlessNoop(name, v)
	}
	return err
}

func (d *requestDecoder) finish() error {
	r := d.req
	if r.Model == "" {
		return badRequest("missing required parameter: 'model'")
	}
	if !d.sawMessages {
		return badRequest("missing required parameter: 'messages'")
	}
	if d.allowed != nil {
		for i, name := range d.allowed {
			if !slices.ContainsFunc(r.Tools, func(t llm.Tool) bool { return t.Name == name }) {
				return invalid(fmt.Sprintf("tool_choice.allowed_tools.tools[%d].function.name", i), "no tool named %q is in 'tools'", name)
			}
		}
		r.Tools = slices.DeleteFunc(r.Tools, func(t llm.Tool) bool { return !slices.Contains(d.allowed, t.Name) })
	}
	if len(r.Tools) == 0 {
		r.ToolChoice = nil
	} else if d.parallel != nil && !*d.parallel {
		if r.ToolChoice == nil {
			r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
		}
		r.ToolChoice.DisableParallel = true
	}
	if r.User == "" {
		r.User = d.safetyID
	} else if d.safetyID != "" {
		d.drop("safety_identifier")
	}
	return nil
}

func (d *requestDecoder) messages(v gjson.Result) error {
	if !v.IsArray() {
		return wrongType("messages", "an array", v)
	}
	d.sawMessages = true
	d.req.Messages = d.req.Messages[:0]
	d.req.System = d.req.System[:0]
	var err error
	i := 0
	v.ForEach(func(_, m gjson.Result) bool {
		err = d.message("messages["+strconv.Itoa(i)+"]", m)
		i++
		return err == nil
	})
	if err == nil && i == 0 {
		err = invalid("messages", "must contain at least one message")
	}
	return err
}

func (d *requestDecoder) message(path string, m gjson.Result) error {
	if !m.IsObject() {
		return wrongType(path, "an object", m)
	}
	role := m.Get("role")
	switch {
	case !role.Exists() || role.Type == gjson.Null:
		return missing(path + ".role")
	case role.Type != gjson.String:
		return wrongType(path+".role", "a string", role)
	}
	switch role.Str {
	case "system", "developer":
		return d.systemMessage(path, m)
	case "user":
		return d.userMessage(path, m)
	case "assistant":
		return d.assistantMessage(path, m)
	case "tool":
		return d.toolMessage(path, m)
	case "function":
		return invalid(path+".role", "the deprecated \"function\" role is not supported for this model; send tool results as \"tool\" messages")
	default:
		return invalid(path+".role", "unknown role %q; expected system, developer, user, assistant or tool", role.Str)
	}
}

// eachField calls fn for every non-null field of the message but its role.
func eachField(m gjson.Result, fn func(key string, v gjson.Result) error) error {
	var err error
	m.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "role" || v.Type == gjson.Null {
			return true
		}
		err = fn(k.Str, v)
		return err == nil
	})
	return err
}

func (d *requestDecoder) systemMessage(path string, m gjson.Result) error {
	var parts []llm.Part
	seen := false
	err := eachField(m, func(key string, v gjson.Result) error {
		var err error
		switch key {
		case "content":
			seen = true
			parts, err = textContent(path+".content", v)
		case "name":
			d.dropUnlessNoop("messages[].name", v)
		default:
			d.dropUnlessNoop("messages[]."+key, v)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !seen {
		return missing(path + ".content")
	}
	d.req.System = append(d.req.System, parts...)
	return nil
}

func (d *requestDecoder) userMessage(path string, m gjson.Result) error {
	msg := llm.Message{Role: llm.RoleUser}
	seen := false
	err := eachField(m, func(key string, v gjson.Result) error {
		var err error
		switch key {
		case "content":
			seen = true
			msg.Parts, err = userContent(path+".content", v)
		case "name":
			msg.Name, err = str(path+".name", v)
		default:
			d.dropUnlessNoop("messages[]."+key, v)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !seen {
		return missing(path + ".content")
	}
	d.req.Messages = append(d.req.Messages, msg)
	return nil
}

func (d *requestDecoder) assistantMessage(path string, m gjson.Result) error {
	msg := llm.Message{Role: llm.RoleAssistant}
	var content []llm.Part
	var refusal, reasoningContent, reasoning string
	err := eachField(m, func(key string, v gjson.Result) error {
		var err error
		switch key {
		case "content":
			content, err = assistantContent(path+".content", v)
		case "refusal":
			refusal, err = str(path+".refusal", v)
		case "reasoning_content":
			reasoningContent, err = str(path+".reasoning_content", v)
		case "reasoning":
			// OpenRouter sends an object form in some responses; only the
			// plain string is thinking text.
			if v.Type == gjson.String {
				reasoning = v.Str
			} else {
				d.dropUnlessNoop("messages[].reasoning", v)
			}
		case "tool_calls":
			msg.ToolCalls, err = toolCalls(path+".tool_calls", v)
		case "name":
			msg.Name, err = str(path+".name", v)
		case "function_call":
			return invalid(path+".function_call", "the deprecated function-calling API is not supported for this model; use 'tool_calls'")
		default:
			// audio (a reference to an earlier spoken answer) and unknowns.
			d.dropUnlessNoop("messages[]."+key, v)
		}
		return err
	})
	if err != nil {
		return err
	}
	if reasoningContent == "" {
		reasoningContent = reasoning
	}
	if reasoningContent != "" {
		msg.Parts = append(msg.Parts, llm.Part{Type: llm.PartThinking, Text: reasoningContent})
	}
	msg.Parts = append(msg.Parts, content...)
	if refusal != "" {
		msg.Parts = append(msg.Parts, llm.Part{Type: llm.PartText, Text: refusal})
	}
	d.req.Messages = append(d.req.Messages, msg)
	return nil
}

func (d *requestDecoder) toolMessage(path string, m gjson.Result) error {
	msg := llm.Message{Role: llm.RoleTool}
	seenContent, seenID := false, false
	err := eachField(m, func(key string, v gjson.Result) error {
		var err error
		switch key {
		case "content":
			seenContent = true
			msg.Parts, err = textContent(path+".content", v)
		case "tool_call_id":
			seenID = true
			msg.ToolCallID, err = str(path+".tool_call_id", v)
		case "name":
			msg.Name, err = str(path+".name", v)
		default:
			d.dropUnlessNoop("messages[]."+key, v)
		}
		return err
	})
	switch {
	case err != nil:
		return err
	case !seenID:
		return missing(path + ".tool_call_id")
	case !seenContent:
		return missing(path + ".content")
	}
	d.req.Messages = append(d.req.Messages, msg)
	return nil
}

// forParts calls fn for each element of a content-part array with its path
// and its type.
func forParts(path string, v gjson.Result, fn func(p string, part gjson.Result, typ string) error) error {
	var err error
	i := 0
	v.ForEach(func(_, part gjson.Result) bool {
		p := path + "[" + strconv.Itoa(i) + "]"
		i++
		if !part.IsObject() {
			err = wrongType(p, "an object", part)
			return false
		}
		t := part.Get("type")
		switch {
		case !t.Exists() || t.Type == gjson.Null:
			err = missing(p + ".type")
		case t.Type != gjson.String:
			err = wrongType(p+".type", "a string", t)
		default:
			err = fn(p, part, t.Str)
		}
		return err == nil
	})
	return err
}

// textContent reads the content of system, developer and tool messages: a
// string or an array of text parts.
func textContent(path string, v gjson.Result) ([]llm.Part, error) {
	if v.Type == gjson.String {
		return []llm.Part{{Type: llm.PartText, Text: v.Str}}, nil
	}
	if !v.IsArray() {
		return nil, wrongType(path, "a string or an array of content parts", v)
	}
	var parts []llm.Part
	err := forParts(path, v, func(p string, part gjson.Result, typ string) error {
		if typ != "text" {
			return invalid(p+".type", "%q parts are not allowed here; only \"text\"", typ)
		}
		t, err := requiredString(p+".text", part.Get("text"))
		parts = append(parts, llm.Part{Type: llm.PartText, Text: t})
		return err
	})
	return parts, err
}

func userContent(path string, v gjson.Result) ([]llm.Part, error) {
	if v.Type == gjson.String {
		return []llm.Part{{Type: llm.PartText, Text: v.Str}}, nil
	}
	if !v.IsArray() {
		return nil, wrongType(path, "a string or an array of content parts", v)
	}
	var parts []llm.Part
	err := forParts(path, v, func(p string, part gjson.Result, typ string) error {
		switch typ {
		case "text":
			t, err := requiredString(p+".text", part.Get("text"))
			parts = append(parts, llm.Part{Type: llm.PartText, Text: t})
			return err
		case "image_url":
			img, err := imagePart(p+".image_url", part.Get("image_url"))
			parts = append(parts, img)
			return err
		case "input_audio", "file":
			return invalid(p+".type", "%q content is not supported for this model: its provider would answer without seeing it", typ)
		default:
			return invalid(p+".type", "unknown content part type %q; expected text or image_url", typ)
		}
	})
	return parts, err
}

// assistantContent reads an assistant's content: a string, or text and
// refusal parts. Empty strings are skipped: clients often send "" beside
// tool calls, and several providers reject empty text blocks.
func assistantContent(path string, v gjson.Result) ([]llm.Part, error) {
	if v.Type == gjson.String {
		if v.Str == "" {
			return nil, nil
		}
		return []llm.Part{{Type: llm.PartText, Text: v.Str}}, nil
	}
	if !v.IsArray() {
		return nil, wrongType(path, "a string or an array of content parts", v)
	}
	var parts []llm.Part
	err := forParts(path, v, func(p string, part gjson.Result, typ string) error {
		var field string
		switch typ {
		case "text":
			field = "text"
		case "refusal":
			field = "refusal"
		default:
			return invalid(p+".type", "%q parts are not allowed in assistant messages; only \"text\" and \"refusal\"", typ)
		}
		t, err := requiredString(p+"."+field, part.Get(field))
		if err == nil && t != "" {
			parts = append(parts, llm.Part{Type: llm.PartText, Text: t})
		}
		return err
	})
	return parts, err
}

// imagePart reads an image_url object. A bare URL string, which some
// clients send, is accepted too.
func imagePart(path string, v gjson.Result) (llm.Part, error) {
	p := llm.Part{Type: llm.PartImage}
	var url string
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return p, missing(path)
	case v.Type == gjson.String:
		url = v.Str
	case v.IsObject():
		var err error
		if url, err = requiredString(path+".url", v.Get("url")); err != nil {
			return p, err
		}
		if dt := v.Get("detail"); dt.Exists() && dt.Type != gjson.Null {
			if p.Detail, err = str(path+".detail", dt); err != nil {
				return p, err
			}
		}
	default:
		return p, wrongType(path, "an object", v)
	}
	if url == "" {
		return p, invalid(path+".url", "must not be empty")
	}
	if len(url) < 5 || !strings.EqualFold(url[:5], "data:") {
		p.ImageURL = url
		return p, nil
	}
	// data:[<media type>][;param=value]*[;base64],<data>
	meta, data, ok := strings.Cut(url[5:], ",")
	if !ok {
		return p, invalid(path+".url", "malformed data URL: no comma before the data")
	}
	meta, isBase64 := strings.CutSuffix(meta, ";base64")
	if !isBase64 {
		return p, invalid(path+".url", "data URLs must be base64-encoded (\";base64,\")")
	}
	mediaType, _, _ := strings.Cut(meta, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType == "" {
		return p, invalid(path+".url", "the data URL must name the image's media type, e.g. data:image/png;base64,…")
	}
	p.MediaType, p.Data = mediaType, data
	return p, nil
}

func toolCalls(path string, v gjson.Result) ([]llm.ToolCall, error) {
	if !v.IsArray() {
		return nil, wrongType(path, "an array", v)
	}
	var calls []llm.ToolCall
	var err error
	i := 0
	v.ForEach(func(_, tc gjson.Result) bool {
		p := path + "[" + strconv.Itoa(i) + "]"
		i++
		var call llm.ToolCall
		call, err = toolCall(p, tc)
		calls = append(calls, call)
		return err == nil
	})
	return calls, err
}

func toolCall(p string, tc gjson.Result) (llm.ToolCall, error) {
	var call llm.ToolCall
	if !tc.IsObject() {
		return call, wrongType(p, "an object", tc)
	}
	if err := functionType(p+".type", tc.Get("type"), "tool calls"); err != nil {
		return call, err
	}
	var err error
	if call.ID, err = requiredString(p+".id", tc.Get("id")); err != nil {
		return call, err
	}
	fn := tc.Get("function")
	if !fn.Exists() || fn.Type == gjson.Null {
		return call, missing(p + ".function")
	}
	if !fn.IsObject() {
		return call, wrongType(p+".function", "an object", fn)
	}
	if call.Name, err = requiredString(p+".function.name", fn.Get("name")); err != nil {
		return call, err
	}
	switch args := fn.Get("arguments"); {
	case !args.Exists() || args.Type == gjson.Null:
		return call, missing(p + ".function.arguments")
	case args.Type == gjson.String:
		call.Arguments = args.Str
	case args.IsObject():
		// Some clients send the arguments as an object rather than as its
		// JSON text; the meaning is the same.
		call.Arguments = args.Raw
	default:
		return call, wrongType(p+".function.arguments", "a string", args)
	}
	return call, nil
}

// functionType checks the "type" of a tool or tool call: "function", or
// absent, which every server reads as "function". Custom (free-text) tools
// have no counterpart in other providers' formats.
func functionType(path string, t gjson.Result, what string) error {
	switch {
	case !t.Exists() || t.Type == gjson.Null:
		return nil
	case t.Type != gjson.String:
		return wrongType(path, "a string", t)
	case t.Str == "function":
		return nil
	case t.Str == "custom":
		return invalid(path, "custom %s are not supported for this model; use function tools", what)
	default:
		return invalid(path, "unknown type %q; expected \"function\"", t.Str)
	}
}

func (d *requestDecoder) tools(v gjson.Result) error {
	if !v.IsArray() {
		return wrongType("tools", "an array", v)
	}
	d.req.Tools = d.req.Tools[:0]
	var err error
	i := 0
	v.ForEach(func(_, t gjson.Result) bool {
		p := "tools[" + strconv.Itoa(i) + "]"
		i++
		var tool llm.Tool
		tool, err = d.tool(p, t)
		d.req.Tools = append(d.req.Tools, tool)
		return err == nil
	})
	return err
}

func (d *requestDecoder) tool(p string, t gjson.Result) (llm.Tool, error) {
	var tool llm.Tool
	if !t.IsObject() {
		return tool, wrongType(p, "an object", t)
	}
	if err := functionType(p+".type", t.Get("type"), "tools"); err != nil {
		return tool, err
	}
	fn := t.Get("function")
	if !fn.Exists() || fn.Type == gjson.Null {
		return tool, missing(p + ".function")
	}
	if !fn.IsObject() {
		return tool, wrongType(p+".function", "an object", fn)
	}
	err := eachField(fn, func(key string, v gjson.Result) error {
		var err error
		fp := p + ".function." + key
		switch key {
		case "name":
			tool.Name, err = str(fp, v)
		case "description":
			tool.Description, err = str(fp, v)
		case "parameters":
			if !v.IsObject() {
				return wrongType(fp, "an object", v)
			}
			tool.Parameters = json.RawMessage(v.Raw)
		case "strict":
			tool.Strict, err = boolean(fp, v)
		default:
			d.dropUnlessNoop("tools[].function."+key, v)
		}
		return err
	})
	if err == nil && tool.Name == "" {
		err = missing(p + ".function.name")
	}
	return tool, err
}

func (d *requestDecoder) toolChoice(v gjson.Result) error {
	const path = "tool_choice"
	if v.Type == gjson.String {
		switch v.Str {
		case "none", "auto", "required":
			d.req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceMode(v.Str)}
			return nil
		}
		return invalid(path, "unknown value %q; expected none, auto, required or an object", v.Str)
	}
	if !v.IsObject() {
		return wrongType(path, "a string or an object", v)
	}
	typ, err := requiredString(path+".type", v.Get("type"))
	if err != nil {
		return err
	}
	switch typ {
	case "function":
		name, err := requiredString(path+".function.name", v.Get("function.name"))
		if err != nil {
			return err
		}
		d.req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: name}
		return nil
	case "allowed_tools":
		return d.allowedTools(path+".allowed_tools", v.Get("allowed_tools"))
	case "custom":
		return invalid(path+".type", "custom tools are not supported for this model; use function tools")
	default:
		return invalid(path+".type", "unknown type %q; expected function or allowed_tools", typ)
	}
}

// allowedTools reads OpenAI's way of narrowing the tools without changing
// the tools list (which keeps its prompt cache warm). Other providers have
// no such switch, so the tools are narrowed instead.
func (d *requestDecoder) allowedTools(path string, v gjson.Result) error {
	if !v.Exists() || v.Type == gjson.Null {
		return missing(path)
	}
	if !v.IsObject() {
		return wrongType(path, "an object", v)
	}
	mode, err := requiredString(path+".mode", v.Get("mode"))
	if err != nil {
		return err
	}
	if mode != "auto" && mode != "required" {
		return invalid(path+".mode", "unknown value %q; expected auto or required", mode)
	}
	tools := v.Get("tools")
	if !tools.IsArray() {
		return wrongType(path+".tools", "an array", tools)
	}
	names := []string{}
	i := 0
	tools.ForEach(func(_, t gjson.Result) bool {
		p := path + ".tools[" + strconv.Itoa(i) + "]"
		i++
		if err = functionType(p+".type", t.Get("type"), "tools"); err != nil {
			return false
		}
		var name string
		name, err = requiredString(p+".function.name", t.Get("function.name"))
		names = append(names, name)
		return err == nil
	})
	if err != nil {
		return err
	}
	d.allowed = names
	d.req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceMode(mode)}
	return nil
}

func (d *requestDecoder) stop(v gjson.Result) error {
	if v.Type == gjson.String {
		d.req.Stop = nil
		if v.Str != "" {
			d.req.Stop = []string{v.Str}
		}
		return nil
	}
	if !v.IsArray() {
		return wrongType("stop", "a string or an array of strings", v)
	}
	var stops []string
	var err error
	i := 0
	v.ForEach(func(_, s gjson.Result) bool {
		if s.Type != gjson.String {
			err = wrongType("stop["+strconv.Itoa(i)+"]", "a string", s)
			return false
		}
		i++
		if s.Str != "" {
			stops = append(stops, s.Str)
		}
		return true
	})
	d.req.Stop = stops
	return err
}

func (d *requestDecoder) responseFormat(v gjson.Result) error {
	const path = "response_format"
	if !v.IsObject() {
		return wrongType(path, "an object", v)
	}
	typ, err := requiredString(path+".type", v.Get("type"))
	if err != nil {
		return err
	}
	switch typ {
	case "text":
		d.req.ResponseFormat = nil
		return nil
	case "json_object":
		d.req.ResponseFormat = &llm.ResponseFormat{Type: "json_object"}
		return nil
	case "json_schema":
	default:
		return invalid(path+".type", "unknown type %q; expected text, json_object or json_schema", typ)
	}
	js := v.Get("json_schema")
	if !js.Exists() || js.Type == gjson.Null {
		return missing(path + ".json_schema")
	}
	if !js.IsObject() {
		return wrongType(path+".json_schema", "an object", js)
	}
	rf := &llm.ResponseFormat{Type: "json_schema"}
	err = eachField(js, func(key string, f gjson.Result) error {
		var err error
		fp := path + ".json_schema." + key
		switch key {
		case "name":
			rf.Name, err = str(fp, f)
		case "schema":
			if !f.IsObject() {
				return wrongType(fp, "an object", f)
			}
			rf.Schema = json.RawMessage(f.Raw)
		case "strict":
			rf.Strict, err = boolean(fp, f)
		default:
			d.dropUnlessNoop("response_format.json_schema."+key, f)
		}
		return err
	})
	if err != nil {
		return err
	}
	if rf.Name == "" {
		return missing(path + ".json_schema.name")
	}
	d.req.ResponseFormat = rf
	return nil
}

func (d *requestDecoder) streamOptions(v gjson.Result) error {
	const path = "stream_options"
	if !v.IsObject() {
		return wrongType(path, "an object", v)
	}
	return eachField(v, func(key string, f gjson.Result) error {
		var err error
		switch key {
		case "include_usage":
			d.req.IncludeUsage, err = boolean(path+"."+key, f)
		default:
			// include_obfuscation: translated streams carry no
			// obfuscation padding.
			d.dropUnlessNoop(path+"."+key, f)
		}
		return err
	})
}

// EncodeRequest renders a neutral request as an OpenAI chat-completions
// body for an OpenAI-compatible upstream. What OpenAI's format cannot carry
// is left out and appended to r.Dropped (see dropField for the names), for
// the call record:
//
//   - Request.System becomes one leading "system" message (a plain string
//     when it is a single text part). Images in it cannot be sent and are
//     an error; thinking parts in it are dropped (system[] (thinking)).
//   - RoleTool messages become "tool" messages. OpenAI's tool messages
//     carry only text, so images in a tool result (an Anthropic client's
//     screenshot, say) follow the run of tool messages in a "user" message,
//     each labelled with its tool call's ID. IsError has no counterpart
//     (messages[].is_error): the result's text has to speak for itself.
//     Nor has a tool message's Name (messages[].name).
//   - Images become image_url parts; inline data becomes a data: URL.
//   - Thinking parts are sent as reasoning_content only on assistant
//     messages and only when ReasoningContent is set; otherwise they are
//     dropped (messages[].parts[] (thinking)). Even then Anthropic's
//     signatures (messages[].parts[].signature) and redacted thinking
//     (messages[].parts[] (redacted thinking)) are not sent. Nor are
//     cache_control markers (system[].cache_control,
//     messages[].parts[].cache_control): OpenAI caches prompts by itself.
//   - tool_choice and parallel_tool_calls are sent only with tools: OpenAI
//     rejects them otherwise, and without tools they constrain nothing, so
//     leaving them out is not recorded.
//   - MaxTokens is sent as max_tokens, or as max_completion_tokens with
//     MaxCompletionTokens set.
//   - TopK is not sent (top_k): OpenAI rejects it as an unknown parameter.
//     Reasoning.BudgetTokens is not mapped to an effort
//     (reasoning.budget_tokens); only Reasoning.Effort is sent, as
//     reasoning_effort.
//   - A json_schema response format without a name is named "response",
//     since OpenAI requires one.
//   - A streaming request always asks for stream_options.include_usage:
//     the gateway needs the usage whatever the client asked for.
//
// An error is an *llm.Error with Status 400.
func (c Codec) EncodeRequest(r *llm.Request) ([]byte, error) {
	if r == nil {
		return nil, badRequest("no request to encode")
	}
	w := wireRequest{
		Model:       r.Model,
		Messages:    make([]wireMessage, 0, len(r.Messages)+1),
		Temperature: r.Temperature,
		TopP:        r.TopP,
		Stop:        r.Stop,
		Seed:        r.Seed,
		Stream:      r.Stream,
		User:        r.User,
	}
	if len(r.System) > 0 {
		content, err := c.systemContent(r)
		if err != nil {
			return nil, err
		}
		if content != nil {
			w.Messages = append(w.Messages, wireMessage{Role: "system", Content: content})
		}
	}
	var toolImages []llm.Part // images of the current run of tool results
	flush := func() {
		if len(toolImages) > 0 {
			w.Messages = append(w.Messages, wireMessage{Role: "user", Content: toolImageParts(toolImages)})
			toolImages = nil
		}
	}
	for i, m := range r.Messages {
		if m.Role != llm.RoleTool {
			flush()
		}
		wm, images, err := c.message(r, i, m)
		if err != nil {
			return nil, err
		}
		w.Messages = append(w.Messages, wm)
		if len(images) > 0 {
			toolImages = append(toolImages, llm.Part{Type: llm.PartText, Text: "Images returned by tool call " + m.ToolCallID + ":"})
			toolImages = append(toolImages, images...)
		}
	}
	flush()

	if r.TopK != nil {
		dropField(r, "top_k")
	}
	if len(r.Tools) > 0 {
		w.Tools = make([]wireTool, len(r.Tools))
		for i, t := range r.Tools {
			w.Tools[i] = wireTool{Type: "function", Function: wireFunction{
				Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict,
			}}
		}
		if tc := r.ToolChoice; tc != nil {
			switch tc.Mode {
			case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
				w.ToolChoice = string(tc.Mode)
			case llm.ToolChoiceTool:
				w.ToolChoice = wireNamedToolChoice{Type: "function", Function: wireName{Name: tc.Name}}
			case "":
			default:
				return nil, badRequest("unknown tool choice mode %q", tc.Mode)
			}
			if tc.DisableParallel {
				f := false
				w.ParallelToolCalls = &f
			}
		}
	}
	if r.MaxTokens != nil {
		n := *r.MaxTokens
		if c.MaxCompletionTokens {
			w.MaxCompletionTokens = &n
		} else {
			w.MaxTokens = &n
		}
	}
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			w.ResponseFormat = &wireResponseFormat{Type: rf.Type}
		case "json_schema":
			name := rf.Name
			if name == "" {
				name = "response"
			}
			w.ResponseFormat = &wireResponseFormat{Type: rf.Type, JSONSchema: &wireJSONSchema{
				Name: name, Schema: rf.Schema, Strict: rf.Strict,
			}}
		case "", "text":
		default:
			return nil, badRequest("unknown response format type %q", rf.Type)
		}
	}
	if r.Reasoning != nil {
		w.ReasoningEffort = r.Reasoning.Effort
		if r.Reasoning.BudgetTokens != 0 {
			dropField(r, "reasoning.budget_tokens")
		}
	}
	if r.Stream {
		w.StreamOptions = &wireStreamOptions{IncludeUsage: true}
	}
	b, err := marshal(w)
	if err != nil {
		// Only raw JSON from a decoder can fail to encode: a tool's
		// parameters or a schema that is not valid JSON.
		return nil, badRequest("encoding the request: %v", err)
	}
	return b, nil
}

// dropField records in r.Dropped, once, a part of the neutral request that
// EncodeRequest leaves out. Names follow the Anthropic encoder's: the
// neutral model's JSON path, "[]" standing for any index (as DecodeRequest
// writes inbound paths), and in parentheses the kind of value when the path
// alone does not say what was lost, e.g. "messages[].parts[] (thinking)".
func dropField(r *llm.Request, name string) {
	if !slices.Contains(r.Dropped, name) {
		r.Dropped = append(r.Dropped, name)
	}
}

// dropCacheMarker records a cache_control marker on a part that is sent
// without it.
func dropCacheMarker(r *llm.Request, path string, p llm.Part) {
	if p.CacheControl != "" {
		dropField(r, path+".cache_control")
	}
}

func (c Codec) systemContent(r *llm.Request) (any, error) {
	var texts []wirePart
	for i, p := range r.System {
		switch p.Type {
		case llm.PartText:
			texts = append(texts, wirePart{Type: "text", Text: p.Text})
			dropCacheMarker(r, "system[]", p)
		case llm.PartThinking:
			dropField(r, "system[] (thinking)")
		default:
			return nil, badRequest("system[%d]: %s parts cannot be sent in an OpenAI system message", i, p.Type)
		}
	}
	switch len(texts) {
	case 0:
		return nil, nil
	case 1:
		return texts[0].Text, nil
	}
	return texts, nil
}

// message renders one neutral message; for a tool result it also returns
// the images that must travel in a user message after it.
func (c Codec) message(r *llm.Request, i int, m llm.Message) (wireMessage, []llm.Part, error) {
	const partPath = "messages[].parts[]"
	wm := wireMessage{Role: string(m.Role), Name: m.Name}
	switch m.Role {
	case llm.RoleUser:
		var parts []wirePart
		for j, p := range m.Parts {
			switch p.Type {
			case llm.PartText:
				parts = append(parts, wirePart{Type: "text", Text: p.Text})
				dropCacheMarker(r, partPath, p)
			case llm.PartImage:
				img, err := imageURL(p)
				if err != nil {
					return wm, nil, badRequest("messages[%d].parts[%d]: %v", i, j, err)
				}
				parts = append(parts, wirePart{Type: "image_url", ImageURL: img})
				dropCacheMarker(r, partPath, p)
			case llm.PartThinking:
				dropField(r, partPath+" (thinking)")
			default:
				return wm, nil, badRequest("messages[%d].parts[%d]: unknown part type %q", i, j, p.Type)
			}
		}
		wm.Content = partsContent(parts)
	case llm.RoleAssistant:
		var text, thinking strings.Builder
		for j, p := range m.Parts {
			switch p.Type {
			case llm.PartText:
				text.WriteString(p.Text)
				dropCacheMarker(r, partPath, p)
			case llm.PartThinking:
				switch {
				case !c.ReasoningContent:
					dropField(r, partPath+" (thinking)")
				case p.Data != "":
					dropField(r, partPath+" (redacted thinking)")
				default:
					thinking.WriteString(p.Text)
					if p.Signature != "" {
						dropField(r, partPath+".signature")
					}
				}
			default:
				return wm, nil, badRequest("messages[%d].parts[%d]: %s parts cannot be sent in an OpenAI assistant message", i, j, p.Type)
			}
		}
		switch {
		case text.Len() > 0:
			wm.Content = text.String()
		case len(m.ToolCalls) > 0:
			wm.Content = nil // OpenAI's form for a turn that only calls tools
		default:
			wm.Content = ""
		}
		wm.ReasoningContent = thinking.String()
		for _, tc := range m.ToolCalls {
			wm.ToolCalls = append(wm.ToolCalls, wireToolCall{
				ID: tc.ID, Type: "function", Function: wireCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
	case llm.RoleTool:
		wm.ToolCallID = m.ToolCallID
		if m.Name != "" {
			wm.Name = "" // not part of OpenAI's tool message
			dropField(r, "messages[].name")
		}
		if m.IsError {
			dropField(r, "messages[].is_error")
		}
		var parts []wirePart
		var images []llm.Part
		for j, p := range m.Parts {
			switch p.Type {
			case llm.PartText:
				parts = append(parts, wirePart{Type: "text", Text: p.Text})
				dropCacheMarker(r, partPath, p)
			case llm.PartImage:
				if _, err := imageURL(p); err != nil {
					return wm, nil, badRequest("messages[%d].parts[%d]: %v", i, j, err)
				}
				images = append(images, p)
				dropCacheMarker(r, partPath, p)
			case llm.PartThinking:
				dropField(r, partPath+" (thinking)")
			default:
				return wm, nil, badRequest("messages[%d].parts[%d]: unknown part type %q", i, j, p.Type)
			}
		}
		wm.Content = partsContent(parts)
		return wm, images, nil
	default:
		return wm, nil, badRequest("messages[%d]: unknown role %q", i, m.Role)
	}
	return wm, nil, nil
}

// partsContent is a plain string for a single text part, as every
// OpenAI-compatible server accepts, and the array form otherwise.
func partsContent(parts []wirePart) any {
	switch {
	case len(parts) == 0:
		return ""
	case len(parts) == 1 && parts[0].Type == "text":
		return parts[0].Text
	}
	return parts
}

func toolImageParts(parts []llm.Part) []wirePart {
	out := make([]wirePart, 0, len(parts))
	for _, p := range parts {
		if p.Type == llm.PartText {
			out = append(out, wirePart{Type: "text", Text: p.Text})
			continue
		}
		img, _ := imageURL(p) // checked when the tool message was encoded
		out = append(out, wirePart{Type: "image_url", ImageURL: img})
	}
	return out
}

func imageURL(p llm.Part) (*wireImageURL, error) {
	switch {
	case p.ImageURL != "":
		return &wireImageURL{URL: p.ImageURL, Detail: p.Detail}, nil
	case p.Data != "":
		mt := p.MediaType
		if mt == "" {
			return nil, fmt.Errorf("an inline image needs a media type")
		}
		return &wireImageURL{URL: "data:" + mt + ";base64," + p.Data, Detail: p.Detail}, nil
	}
	return nil, fmt.Errorf("an image needs a URL or data")
}

// The OpenAI request body as EncodeRequest writes it; field order is the
// order of OpenAI's documentation.
type wireRequest struct {
	Model               string              `json:"model"`
	Messages            []wireMessage       `json:"messages"`
	Tools               []wireTool          `json:"tools,omitempty"`
	ToolChoice          any                 `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool               `json:"parallel_tool_calls,omitempty"`
	MaxTokens           *int                `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int                `json:"max_completion_tokens,omitempty"`
	Temperature         *float64            `json:"temperature,omitempty"`
	TopP                *float64            `json:"top_p,omitempty"`
	Stop                []string            `json:"stop,omitempty"`
	Seed                *int64              `json:"seed,omitempty"`
	ResponseFormat      *wireResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string              `json:"reasoning_effort,omitempty"`
	Stream              bool                `json:"stream,omitempty"`
	StreamOptions       *wireStreamOptions  `json:"stream_options,omitempty"`
	User                string              `json:"user,omitempty"`
}

type wireMessage struct {
	Role string `json:"role"`
	// Content is a string, a []wirePart, or nil for null.
	Content          any            `json:"content"`
	Name             string         `json:"name,omitempty"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
	ToolCalls        []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string         `json:"tool_call_id,omitempty"`
}

type wirePart struct {
	Type     string        `json:"type"`
	Text     string        `json:"text,omitempty"`
	ImageURL *wireImageURL `json:"image_url,omitempty"`
}

// MarshalJSON keeps "text" on text parts even when empty, which omitempty
// alone would drop.
func (p wirePart) MarshalJSON() ([]byte, error) {
	if p.Type == "text" {
		return marshal(struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}{p.Type, p.Text})
	}
	type plain wirePart
	return marshal(plain(p))
}

type wireImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type wireToolCall struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Function wireCall `json:"function"`
}

type wireCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      bool            `json:"strict,omitempty"`
}

type wireNamedToolChoice struct {
	Type     string   `json:"type"`
	Function wireName `json:"function"`
}

type wireName struct {
	Name string `json:"name"`
}

type wireResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
}

type wireJSONSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema,omitempty"`
	Strict bool            `json:"strict,omitempty"`
}

type wireStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Helpers that read one typed value and name its path when it is wrong.

func kindOf(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

func invalid(path, format string, args ...any) *llm.Error {
	return badRequest("invalid '%s': %s", path, fmt.Sprintf(format, args...))
}

func wrongType(path, want string, v gjson.Result) *llm.Error {
	return badRequest("invalid type for '%s': expected %s, but got %s", path, want, kindOf(v))
}

func missing(path string) *llm.Error {
	return badRequest("missing required parameter: '%s'", path)
}

func str(path string, v gjson.Result) (string, error) {
	if v.Type != gjson.String {
		return "", wrongType(path, "a string", v)
	}
	return v.Str, nil
}

func requiredString(path string, v gjson.Result) (string, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return "", missing(path)
	}
	return str(path, v)
}

func boolean(path string, v gjson.Result) (bool, error) {
	switch v.Type {
	case gjson.True:
		return true, nil
	case gjson.False:
		return false, nil
	}
	return false, wrongType(path, "a boolean", v)
}

func numberPtr(path string, v gjson.Result) (*float64, error) {
	if v.Type != gjson.Number {
		return nil, wrongType(path, "a number", v)
	}
	f := v.Num
	return &f, nil
}

// integer reads an integer, accepting the 1.0 and 1e3 forms some JSON
// encoders produce for whole numbers.
func integer(path string, v gjson.Result) (int64, error) {
	if v.Type != gjson.Number {
		return 0, wrongType(path, "an integer", v)
	}
	if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v.Raw, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, invalid(path, "expected an integer, but got %s", v.Raw)
	}
	return int64(f), nil
}
