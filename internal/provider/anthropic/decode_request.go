package anthropic

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// DecodeRequest reads the body of a POST /v1/messages into the neutral
// model. Fields the neutral model cannot carry — service_tier, container,
// server tools, cache_control TTLs, citations and the like — are named in
// Request.Dropped rather than guessed at. Content that would change the
// conversation if it were left out (documents, search results, server-tool
// blocks, files referenced by id) is refused instead, as are malformed
// requests: every error is an *llm.Error with Status 400 and Type
// invalid_request_error whose message starts with the offending field's
// path, e.g. `messages.2.content.0.type: unknown block type "foo"`.
func (Codec) DecodeRequest(body []byte) (*llm.Request, error) {
	// encoding/json's validator is iterative and bounds nesting depth, so a
	// hostile body cannot exhaust the stack before gjson walks it.
	if !json.Valid(body) {
		return nil, badRequest("", "the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, badRequest("", "the request body must be a JSON object, got %s", kind(root))
	}
	d := &requestDecoder{req: &llm.Request{}}
	if err := d.decode(root); err != nil {
		return nil, err
	}
	return d.req, nil
}

// requestDecoder holds the state of one DecodeRequest call.
type requestDecoder struct {
	req     *llm.Request
	dropped map[string]bool

	seenModel, seenMessages, seenMaxTokens bool
	thinking, outputConfig, outputFormat   gjson.Result
	// midSystem holds the text of role "system" messages, which join the
	// top-level system prompt once every field is read (the body's field
	// order must not decide which comes first).
	midSystem []llm.Part
}

// drop records a field that was left out on purpose, once.
func (d *requestDecoder) drop(path string) {
	if d.dropped == nil {
		d.dropped = map[string]bool{}
	}
	if !d.dropped[path] {
		d.dropped[path] = true
		d.req.Dropped = append(d.req.Dropped, path)
	}
}

func (d *requestDecoder) decode(root gjson.Result) *llm.Error {
	err := each("", root, func(key string, v gjson.Result) *llm.Error {
		// Anthropic's SDKs send optional parameters as null when unset.
		if v.Type == gjson.Null && key != "model" && key != "messages" && key != "max_tokens" {
			return nil
		}
		switch key {
		case "model":
			d.seenModel = true
			s, err := wantString(key, v)
			if err != nil {
				return err
			}
			if s == "" {
				return badRequest(key, "a model is required")
			}
			d.req.Model = s
		case "messages":
			d.seenMessages = true
			return d.messages(v)
		case "system":
			return d.system(v)
		case "max_tokens":
			d.seenMaxTokens = true
			n, err := wantInt(key, v, 1)
			if err != nil {
				return err
			}
			d.req.MaxTokens = &n
		case "temperature":
			f, err := wantNumber(key, v)
			if err != nil {
				return err
			}
			d.req.Temperature = &f
		case "top_p":
			f, err := wantNumber(key, v)
			if err != nil {
				return err
			}
			d.req.TopP = &f
		case "top_k":
			n, err := wantInt(key, v, 0)
			if err != nil {
				return err
			}
			d.req.TopK = &n
		case "stop_sequences":
			return d.stopSequences(v)
		case "stream":
			b, err := wantBool(key, v)
			if err != nil {
				return err
			}
			d.req.Stream = b
		case "metadata":
			return d.metadata(v)
		case "tools":
			return d.tools(v)
		case "tool_choice":
			return d.toolChoice(v)
		case "thinking":
			d.thinking = v
		case "output_config":
			d.outputConfig = v
		case "output_format":
			// The structured-outputs beta's spelling of output_config.format.
			d.outputFormat = v
		default:
			d.drop(key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case !d.seenModel:
		return badRequest("model", "field required")
	case !d.seenMessages:
		return badRequest("messages", "field required")
	case !d.seenMaxTokens:
		// Anthropic requires max_tokens; so does the gateway, so that a
		// request means the same whichever upstream it lands on.
		return badRequest("max_tokens", "field required")
	}
	d.req.System = append(d.req.System, d.midSystem...)
	return d.reasoning()
}

// reasoning reads thinking and output_config once all fields are known,
// since the effort in one qualifies the mode in the other.
func (d *requestDecoder) reasoning() *llm.Error {
	var effort string
	if d.outputConfig.Exists() && d.outputConfig.Type != gjson.Null {
		err := each("output_config", d.outputConfig, func(key string, v gjson.Result) *llm.Error {
			path := "output_config." + key
			switch key {
			case "effort":
				if v.Type == gjson.Null {
					return nil
				}
				s, err := wantString(path, v)
				if err != nil {
					return err
				}
				switch s {
				case "low", "medium", "high":
					effort = s
				case "max":
					// The neutral scale (OpenAI's) tops out at high.
					effort = "high"
				default:
					return badRequest(path, "unknown effort %q", s)
				}
			case "format":
				return d.responseFormat(path, v)
			default:
				d.drop(path)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if d.outputFormat.Exists() && d.outputFormat.Type != gjson.Null {
		if err := d.responseFormat("output_format", d.outputFormat); err != nil {
			return err
		}
	}

	var budget int
	if d.thinking.Exists() && d.thinking.Type != gjson.Null {
		var typ string
		var budgetSeen bool
		err := each("thinking", d.thinking, func(key string, v gjson.Result) *llm.Error {
			path := "thinking." + key
			switch key {
			case "type":
				s, err := wantString(path, v)
				if err != nil {
					return err
				}
				typ = s
			case "budget_tokens":
				n, err := wantInt(path, v, 1)
				if err != nil {
					return err
				}
				budget, budgetSeen = n, true
			default:
				d.drop(path)
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch typ {
		case "enabled":
			if !budgetSeen {
				return badRequest("thinking.budget_tokens", "field required")
			}
		case "adaptive":
			// Adaptive thinking without an effort runs at Anthropic's
			// default effort, high.
			budget = 0
			if effort == "" {
				effort = "high"
			}
		case "disabled":
			budget = 0
		case "":
			return badRequest("thinking.type", "field required")
		default:
			return badRequest("thinking.type", "unknown thinking type %q", typ)
		}
	}
	if budget > 0 || effort != "" {
		d.req.Reasoning = &llm.Reasoning{BudgetTokens: budget, Effort: effort}
	}
	return nil
}

func (d *requestDecoder) responseFormat(path string, v gjson.Result) *llm.Error {
	if v.Type == gjson.Null {
		return nil
	}
	if !v.IsObject() {
		return badRequest(path, "expected an object, got %s", kind(v))
	}
	rf := &llm.ResponseFormat{}
	err := each(path, v, func(key string, f gjson.Result) *llm.Error {
		p := path + "." + key
		switch key {
		case "type":
			s, err := wantString(p, f)
			if err != nil {
				return err
			}
			if s != "json_schema" {
				return badRequest(p, "unknown output format type %q", s)
			}
			rf.Type = s
		case "schema":
			if !f.IsObject() {
				return badRequest(p, "expected an object, got %s", kind(f))
			}
			rf.Schema = compact(f.Raw)
		default:
			d.drop(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rf.Type == "" {
		return badRequest(path+".type", "field required")
	}
	d.req.ResponseFormat = rf
	return nil
}

func (d *requestDecoder) stopSequences(v gjson.Result) *llm.Error {
	if !v.IsArray() {
		return badRequest("stop_sequences", "expected an array, got %s", kind(v))
	}
	return eachIndex(v, func(i int, s gjson.Result) *llm.Error {
		str, err := wantString("stop_sequences."+strconv.Itoa(i), s)
		if err != nil {
			return err
		}
		d.req.Stop = append(d.req.Stop, str)
		return nil
	})
}

func (d *requestDecoder) metadata(v gjson.Result) *llm.Error {
	return each("metadata", v, func(key string, f gjson.Result) *llm.Error {
		path := "metadata." + key
		if key != "user_id" {
			d.drop(path)
			return nil
		}
		if f.Type == gjson.Null {
			return nil
		}
		s, err := wantString(path, f)
		if err != nil {
			return err
		}
		d.req.User = s
		return nil
	})
}

func (d *requestDecoder) system(v gjson.Result) *llm.Error {
	switch {
	case v.Type == gjson.String:
		if v.Str != "" {
			d.req.System = []llm.Part{{Type: llm.PartText, Text: v.Str}}
		}
		return nil
	case v.IsArray():
		return eachIndex(v, func(i int, b gjson.Result) *llm.Error {
			path := "system." + strconv.Itoa(i)
			typ, err := blockType(path, b)
			if err != nil {
				return err
			}
			if typ != "text" {
				return badRequest(path+".type", "the system prompt takes only text blocks, got %q", typ)
			}
			p, err := d.textBlock(path, b)
			if err != nil {
				return err
			}
			d.req.System = append(d.req.System, p)
			return nil
		})
	}
	return badRequest("system", "expected a string or an array of text blocks, got %s", kind(v))
}

// roleSystem marks a mid-conversation system message while decoding; the
// neutral model has no such role, so it never leaves this file.
const roleSystem llm.Role = "system"

// systemMessage reads a mid-conversation {"role": "system"} message, which
// Anthropic accepts on its newest models (Claude Code sends them). Its text
// joins the system prompt: OpenAI, Gemini, Bedrock and Cohere upstreams all
// get the instruction, and only its position in the conversation is lost —
// the same trade the OpenAI decoder makes for its own mid-conversation
// system messages.
func (d *requestDecoder) systemMessage(path string, content gjson.Result) *llm.Error {
	switch {
	case content.Type == gjson.String:
		if content.Str != "" {
			d.midSystem = append(d.midSystem, llm.Part{Type: llm.PartText, Text: content.Str})
		}
		return nil
	case content.IsArray():
		return eachIndex(content, func(i int, b gjson.Result) *llm.Error {
			bpath := path + ".content." + strconv.Itoa(i)
			typ, err := blockType(bpath, b)
			if err != nil {
				return err
			}
			if typ != "text" {
				return badRequest(bpath+".type", "system messages take only text blocks, got %q", typ)
			}
			p, err := d.textBlock(bpath, b)
			if err != nil {
				return err
			}
			d.midSystem = append(d.midSystem, p)
			return nil
		})
	}
	return badRequest(path+".content", "expected a string or an array of text blocks, got %s", kind(content))
}

func (d *requestDecoder) messages(v gjson.Result) *llm.Error {
	if !v.IsArray() {
		return badRequest("messages", "expected an array, got %s", kind(v))
	}
	err := eachIndex(v, func(i int, m gjson.Result) *llm.Error {
		return d.message("messages."+strconv.Itoa(i), m)
	})
	if err != nil {
		return err
	}
	if len(d.req.Messages) == 0 {
		return badRequest("messages", "at least one user or assistant message is required")
	}
	return nil
}

// message decodes one turn. A user turn's tool_result blocks become RoleTool
// messages placed before the rest of its content: that is the order
// Anthropic itself requires (tool results first), and the order OpenAI-style
// upstreams need (tool messages right after the assistant's calls).
func (d *requestDecoder) message(path string, m gjson.Result) *llm.Error {
	if !m.IsObject() {
		return badRequest(path, "expected an object, got %s", kind(m))
	}
	var role llm.Role
	var content gjson.Result
	err := each(path, m, func(key string, v gjson.Result) *llm.Error {
		switch key {
		case "role":
			s, err := wantString(path+".role", v)
			if err != nil {
				return err
			}
			switch s {
			case "user":
				role = llm.RoleUser
			case "assistant":
				role = llm.RoleAssistant
			case "system":
				role = roleSystem
			default:
				return badRequest(path+".role", "unexpected role %q: roles are user, assistant and system", s)
			}
		case "content":
			content = v
		default:
			d.drop(path + "." + key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if role == "" {
		return badRequest(path+".role", "field required")
	}
	if !content.Exists() {
		return badRequest(path+".content", "field required")
	}
	if role == roleSystem {
		return d.systemMessage(path, content)
	}

	msg := llm.Message{Role: role}
	var results []llm.Message
	switch {
	case content.Type == gjson.String:
		msg.Parts = []llm.Part{{Type: llm.PartText, Text: content.Str}}
	case content.IsArray():
		err := eachIndex(content, func(i int, b gjson.Result) *llm.Error {
			bpath := path + ".content." + strconv.Itoa(i)
			typ, err := blockType(bpath, b)
			if err != nil {
				return err
			}
			switch typ {
			case "text":
				p, err := d.textBlock(bpath, b)
				if err != nil {
					return err
				}
				msg.Parts = append(msg.Parts, p)
			case "image":
				if role != llm.RoleUser {
					return badRequest(bpath+".type", "image blocks are only valid in user turns")
				}
				p, err := d.imageBlock(bpath, b)
				if err != nil {
					return err
				}
				msg.Parts = append(msg.Parts, p)
			case "tool_result":
				if role != llm.RoleUser {
					return badRequest(bpath+".type", "tool_result blocks are only valid in user turns")
				}
				r, err := d.toolResult(bpath, b)
				if err != nil {
					return err
				}
				results = append(results, r)
			case "tool_use":
				if role != llm.RoleAssistant {
					return badRequest(bpath+".type", "tool_use blocks are only valid in assistant turns")
				}
				c, err := d.toolUse(bpath, b)
				if err != nil {
					return err
				}
				msg.ToolCalls = append(msg.ToolCalls, c)
			case "thinking", "redacted_thinking":
				if role != llm.RoleAssistant {
					return badRequest(bpath+".type", "%s blocks are only valid in assistant turns", typ)
				}
				p, err := d.thinkingBlock(bpath, typ, b)
				if err != nil {
					return err
				}
				msg.Parts = append(msg.Parts, p)
			default:
				return unknownBlock(bpath, typ)
			}
			return nil
		})
		if err != nil {
			return err
		}
	default:
		return badRequest(path+".content", "expected a string or an array of content blocks, got %s", kind(content))
	}
	d.req.Messages = append(d.req.Messages, results...)
	// A user turn made only of tool results has nothing left to say.
	if len(results) == 0 || len(msg.Parts) > 0 {
		d.req.Messages = append(d.req.Messages, msg)
	}
	return nil
}

// untranslatable are Anthropic block types that exist but that the neutral
// model cannot carry; leaving them out would change what the model is asked.
var untranslatable = map[string]bool{
	"document": true, "search_result": true, "container_upload": true,
	"server_tool_use": true, "web_search_tool_result": true, "web_fetch_tool_result": true,
	"code_execution_tool_result": true, "bash_code_execution_tool_result": true,
	"text_editor_code_execution_tool_result": true, "tool_search_tool_result": true,
	"mcp_tool_use": true, "mcp_tool_result": true, "tool_reference": true,
}

func unknownBlock(path, typ string) *llm.Error {
	if untranslatable[typ] {
		return badRequest(path+".type", "block type %q cannot be translated for this model's provider", typ)
	}
	return badRequest(path+".type", "unknown block type %q", typ)
}

func blockType(path string, b gjson.Result) (string, *llm.Error) {
	if !b.IsObject() {
		return "", badRequest(path, "expected a content block object, got %s", kind(b))
	}
	t := b.Get("type")
	if !t.Exists() {
		return "", badRequest(path+".type", "field required")
	}
	return wantString(path+".type", t)
}

func (d *requestDecoder) textBlock(path string, b gjson.Result) (llm.Part, *llm.Error) {
	p := llm.Part{Type: llm.PartText}
	seenText := false
	err := each(path, b, func(key string, v gjson.Result) *llm.Error {
		switch key {
		case "type":
		case "text":
			s, err := wantString(path+".text", v)
			if err != nil {
				return err
			}
			p.Text, seenText = s, true
		case "cache_control":
			cc, err := d.cacheControl(path+".cache_control", v)
			if err != nil {
				return err
			}
			p.CacheControl = cc
		default:
			// citations, and anything newer: the text itself is kept.
			if v.Type != gjson.Null {
				d.drop(path + "." + key)
			}
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if !seenText {
		return p, badRequest(path+".text", "field required")
	}
	return p, nil
}

func (d *requestDecoder) imageBlock(path string, b gjson.Result) (llm.Part, *llm.Error) {
	p := llm.Part{Type: llm.PartImage}
	var source gjson.Result
	err := each(path, b, func(key string, v gjson.Result) *llm.Error {
		switch key {
		case "type":
		case "source":
			source = v
		case "cache_control":
			cc, err := d.cacheControl(path+".cache_control", v)
			if err != nil {
				return err
			}
			p.CacheControl = cc
		default:
			if v.Type != gjson.Null {
				d.drop(path + "." + key)
			}
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	spath := path + ".source"
	if !source.Exists() {
		return p, badRequest(spath, "field required")
	}
	if !source.IsObject() {
		return p, badRequest(spath, "expected an object, got %s", kind(source))
	}
	var typ string
	fields := map[string]string{}
	err = each(spath, source, func(key string, v gjson.Result) *llm.Error {
		s, err := wantString(spath+"."+key, v)
		if err != nil {
			return err
		}
		if key == "type" {
			typ = s
		} else {
			fields[key] = s
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	switch typ {
	case "base64":
		p.MediaType, p.Data = fields["media_type"], fields["data"]
		if p.MediaType == "" {
			return p, badRequest(spath+".media_type", "field required")
		}
		if p.Data == "" {
			return p, badRequest(spath+".data", "field required")
		}
	case "url":
		p.ImageURL = fields["url"]
		if p.ImageURL == "" {
			return p, badRequest(spath+".url", "field required")
		}
	case "file":
		return p, badRequest(spath+".type", "image source %q cannot be translated: Files API ids exist only at Anthropic", typ)
	case "":
		return p, badRequest(spath+".type", "field required")
	default:
		return p, badRequest(spath+".type", "unknown image source type %q", typ)
	}
	return p, nil
}

func (d *requestDecoder) thinkingBlock(path, typ string, b gjson.Result) (llm.Part, *llm.Error) {
	p := llm.Part{Type: llm.PartThinking}
	err := each(path, b, func(key string, v gjson.Result) *llm.Error {
		fpath := path + "." + key
		switch {
		case key == "type":
		case typ == "thinking" && key == "thinking":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			p.Text = s
		case typ == "thinking" && key == "signature":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			p.Signature = s
		case typ == "redacted_thinking" && key == "data":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			p.Data = s
		default:
			if v.Type != gjson.Null {
				d.drop(fpath)
			}
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if typ == "redacted_thinking" && p.Data == "" {
		return p, badRequest(path+".data", "field required")
	}
	return p, nil
}

func (d *requestDecoder) toolUse(path string, b gjson.Result) (llm.ToolCall, *llm.Error) {
	var c llm.ToolCall
	input := "{}"
	err := each(path, b, func(key string, v gjson.Result) *llm.Error {
		fpath := path + "." + key
		switch key {
		case "type":
		case "id":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			c.ID = s
		case "name":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			c.Name = s
		case "input":
			if !v.IsObject() {
				return badRequest(fpath, "expected an object, got %s", kind(v))
			}
			input = string(compact(v.Raw))
		default:
			if v.Type != gjson.Null {
				d.drop(fpath)
			}
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, badRequest(path+".id", "field required")
	}
	if c.Name == "" {
		return c, badRequest(path+".name", "field required")
	}
	c.Arguments = input
	return c, nil
}

func (d *requestDecoder) toolResult(path string, b gjson.Result) (llm.Message, *llm.Error) {
	m := llm.Message{Role: llm.RoleTool}
	err := each(path, b, func(key string, v gjson.Result) *llm.Error {
		fpath := path + "." + key
		switch key {
		case "type":
		case "tool_use_id":
			s, err := wantString(fpath, v)
			if err != nil {
				return err
			}
			m.ToolCallID = s
		case "is_error":
			if v.Type == gjson.Null {
				return nil
			}
			bv, err := wantBool(fpath, v)
			if err != nil {
				return err
			}
			m.IsError = bv
		case "content":
			return d.toolResultContent(fpath, v, &m)
		default:
			// cache_control among them: a tool message has no place for it.
			if v.Type != gjson.Null {
				d.drop(fpath)
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	if m.ToolCallID == "" {
		return m, badRequest(path+".tool_use_id", "field required")
	}
	return m, nil
}

func (d *requestDecoder) toolResultContent(path string, v gjson.Result, m *llm.Message) *llm.Error {
	switch {
	case v.Type == gjson.Null:
		return nil
	case v.Type == gjson.String:
		if v.Str != "" {
			m.Parts = []llm.Part{{Type: llm.PartText, Text: v.Str}}
		}
		return nil
	case v.IsArray():
		return eachIndex(v, func(i int, b gjson.Result) *llm.Error {
			bpath := path + "." + strconv.Itoa(i)
			typ, err := blockType(bpath, b)
			if err != nil {
				return err
			}
			var p llm.Part
			switch typ {
			case "text":
				p, err = d.textBlock(bpath, b)
			case "image":
				p, err = d.imageBlock(bpath, b)
			default:
				return unknownBlock(bpath, typ)
			}
			if err != nil {
				return err
			}
			m.Parts = append(m.Parts, p)
			return nil
		})
	}
	return badRequest(path, "expected a string or an array of content blocks, got %s", kind(v))
}

// cacheControl returns the cache_control type. Its ttl has no place in the
// neutral model and is listed as dropped; Anthropic then applies its default
// lifetime, five minutes.
func (d *requestDecoder) cacheControl(path string, v gjson.Result) (string, *llm.Error) {
	if v.Type == gjson.Null {
		return "", nil
	}
	var typ string
	err := each(path, v, func(key string, f gjson.Result) *llm.Error {
		switch key {
		case "type":
			s, err := wantString(path+".type", f)
			if err != nil {
				return err
			}
			typ = s
		default:
			if f.Type != gjson.Null {
				d.drop(path + "." + key)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if typ == "" {
		return "", badRequest(path+".type", "field required")
	}
	return typ, nil
}

func (d *requestDecoder) tools(v gjson.Result) *llm.Error {
	if !v.IsArray() {
		return badRequest("tools", "expected an array, got %s", kind(v))
	}
	return eachIndex(v, func(i int, t gjson.Result) *llm.Error {
		path := "tools." + strconv.Itoa(i)
		if !t.IsObject() {
			return badRequest(path, "expected an object, got %s", kind(t))
		}
		// Server tools (web_search_…, code_execution_…) and Anthropic-defined
		// client tools (bash_…, text_editor_…, computer_…) carry a versioned
		// type and no schema; only Anthropic runs or understands them.
		if typ := t.Get("type"); typ.Exists() && typ.Type != gjson.Null && !(typ.Type == gjson.String && typ.Str == "custom") {
			d.drop(path + " (" + typ.String() + ")")
			return nil
		}
		var tool llm.Tool
		var seenSchema bool
		err := each(path, t, func(key string, f gjson.Result) *llm.Error {
			fpath := path + "." + key
			switch key {
			case "type":
			case "name":
				s, err := wantString(fpath, f)
				if err != nil {
					return err
				}
				tool.Name = s
			case "description":
				if f.Type == gjson.Null {
					return nil
				}
				s, err := wantString(fpath, f)
				if err != nil {
					return err
				}
				tool.Description = s
			case "input_schema":
				if !f.IsObject() {
					return badRequest(fpath, "expected an object, got %s", kind(f))
				}
				tool.Parameters, seenSchema = compact(f.Raw), true
			case "strict":
				if f.Type == gjson.Null {
					return nil
				}
				b, err := wantBool(fpath, f)
				if err != nil {
					return err
				}
				tool.Strict = b
			default:
				if f.Type != gjson.Null {
					d.drop(fpath)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if tool.Name == "" {
			return badRequest(path+".name", "field required")
		}
		if !seenSchema {
			return badRequest(path+".input_schema", "field required")
		}
		d.req.Tools = append(d.req.Tools, tool)
		return nil
	})
}

func (d *requestDecoder) toolChoice(v gjson.Result) *llm.Error {
	tc := &llm.ToolChoice{}
	var typ string
	err := each("tool_choice", v, func(key string, f gjson.Result) *llm.Error {
		path := "tool_choice." + key
		switch key {
		case "type":
			s, err := wantString(path, f)
			if err != nil {
				return err
			}
			typ = s
		case "name":
			s, err := wantString(path, f)
			if err != nil {
				return err
			}
			tc.Name = s
		case "disable_parallel_tool_use":
			if f.Type == gjson.Null {
				return nil
			}
			b, err := wantBool(path, f)
			if err != nil {
				return err
			}
			tc.DisableParallel = b
		default:
			d.drop(path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch typ {
	case "auto":
		tc.Mode = llm.ToolChoiceAuto
	case "any":
		tc.Mode = llm.ToolChoiceRequired
	case "none":
		tc.Mode = llm.ToolChoiceNone
	case "tool":
		tc.Mode = llm.ToolChoiceTool
		if tc.Name == "" {
			return badRequest("tool_choice.name", "field required")
		}
	case "":
		return badRequest("tool_choice.type", "field required")
	default:
		return badRequest("tool_choice.type", "unknown tool choice %q", typ)
	}
	if tc.Mode != llm.ToolChoiceTool {
		tc.Name = ""
	}
	d.req.ToolChoice = tc
	return nil
}

// each calls f for every member of object v, found at path, stopping at
// the first error.
func each(path string, v gjson.Result, f func(key string, v gjson.Result) *llm.Error) *llm.Error {
	if !v.IsObject() {
		return badRequest(path, "expected an object, got %s", kind(v))
	}
	var err *llm.Error
	v.ForEach(func(k, val gjson.Result) bool {
		err = f(k.Str, val)
		return err == nil
	})
	return err
}

// eachIndex calls f for every element of array v, stopping at the first error.
func eachIndex(v gjson.Result, f func(i int, v gjson.Result) *llm.Error) *llm.Error {
	var err *llm.Error
	i := 0
	v.ForEach(func(_, val gjson.Result) bool {
		err = f(i, val)
		i++
		return err == nil
	})
	return err
}

func kind(v gjson.Result) string {
	switch {
	case !v.Exists():
		return "nothing"
	case v.Type == gjson.Null:
		return "null"
	case v.Type == gjson.True || v.Type == gjson.False:
		return "a boolean"
	case v.Type == gjson.Number:
		return "a number"
	case v.Type == gjson.String:
		return "a string"
	case v.IsArray():
		return "an array"
	default:
		return "an object"
	}
}

func wantString(path string, v gjson.Result) (string, *llm.Error) {
	if v.Type != gjson.String {
		return "", badRequest(path, "expected a string, got %s", kind(v))
	}
	return v.Str, nil
}

func wantBool(path string, v gjson.Result) (bool, *llm.Error) {
	if v.Type != gjson.True && v.Type != gjson.False {
		return false, badRequest(path, "expected a boolean, got %s", kind(v))
	}
	return v.Type == gjson.True, nil
}

func wantNumber(path string, v gjson.Result) (float64, *llm.Error) {
	if v.Type != gjson.Number || math.IsInf(v.Num, 0) || math.IsNaN(v.Num) {
		return 0, badRequest(path, "expected a number, got %s", kind(v))
	}
	return v.Num, nil
}

// wantInt accepts a whole number from min up to 2^31-1; JSON has no
// integer type, so 1024.0 counts as one, as it does for Anthropic.
func wantInt(path string, v gjson.Result, min int) (int, *llm.Error) {
	f, err := wantNumber(path, v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, badRequest(path, "expected an integer, got %s", v.Raw)
	}
	if f < float64(min) || f > math.MaxInt32 {
		return 0, badRequest(path, "must be between %d and %d, got %s", min, math.MaxInt32, v.Raw)
	}
	return int(f), nil
}

// compact returns the JSON text raw without insignificant whitespace. raw
// comes from a body already validated, so compacting cannot fail.
func compact(raw string) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return json.RawMessage(raw)
	}
	return buf.Bytes()
}
