package anomaly

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/calllog"
)

// Kind is the wire format of a call's bodies, from its endpoint.
type Kind uint8

const (
	// KindOther is a REST call, embeddings, token counting: no answer
	// text to judge, only timings and failures.
	KindOther Kind = iota
	// KindChat is OpenAI's chat completions, and the prompt APIs, which
	// answer in the same format.
	KindChat
	// KindMessages is Anthropic's messages.
	KindMessages
	// KindResponses is OpenAI's Responses API.
	KindResponses
)

// Normalised finish reasons of an answer (Output.Finish).
const (
	FinishStop          = "stop"
	FinishLength        = "length" // cut at the token limit
	FinishContentFilter = "content_filter"
	FinishToolCalls     = "tool_calls"
	FinishRefusal       = "refusal"
)

// Output is what a call's captured response body says.
type Output struct {
	// Text is the answer's text, streamed pieces joined.
	Text string
	// Refusal is the text of an explicit refusal (OpenAI's refusal field).
	Refusal string
	// ToolArgs are the arguments of each tool call, JSON as the model
	// wrote it.
	ToolArgs []string
	// Finish is the normalised finish reason, "" when none was seen.
	Finish string
	// Parsed is set when the body was read as the endpoint's format.
	Parsed bool
	// Complete is set when the whole answer was captured: the body was not
	// cut by the capture limit and a stream was seen to its end.
	Complete bool
}

// Request is what a call's captured request body asks.
type Request struct {
	// LastUser is the text of the last user message.
	LastUser string
	// System is the system prompt (or instructions).
	System string
	// WantsJSON is set when the answer must be JSON: response_format or
	// text.format json_object or json_schema, or Anthropic's output_format.
	WantsJSON bool
	// ForcedTool is set when the request forces a tool call, whose
	// arguments must then be JSON.
	ForcedTool bool
}

// Call is one record as the detectors see it. Output and Request are read
// from the bodies on first use.
type Call struct {
	Record *calllog.Record
	Kind   Kind

	s       *scratch
	out     Output
	req     Request
	outDone bool
	reqDone bool
}

// Content reports whether the call has an answer to judge: a successful
// call of an LLM endpoint whose response body was captured.
func (c *Call) Content() bool {
	r := c.Record
	return c.Kind != KindOther && r.Status >= 200 && r.Status < 300 && r.ErrorType == "" && r.ResponseBody != ""
}

// Output reads the answer from the response body.
func (c *Call) Output() *Output {
	if !c.outDone {
		c.outDone = true
		c.out = extractOutput(c.Kind, c.Record.ResponseBody, c.s)
	}
	return &c.out
}

// Request reads what was asked from the request body.
func (c *Call) Request() *Request {
	if !c.reqDone {
		c.reqDone = true
		c.req = extractRequest(c.Kind, c.Record.RequestBody, c.s)
	}
	return &c.req
}

// kindOf tells the format of a record's bodies from its endpoint. A
// service's REST route never carries a model, whatever its path looks like.
func kindOf(r *calllog.Record) Kind {
	if r.Service != "" && r.Model == "" {
		return KindOther
	}
	ep := r.Endpoint
	switch {
	case strings.HasSuffix(ep, "/chat/completions"), strings.HasPrefix(ep, "/v1/prompts/"):
		return KindChat
	case strings.HasSuffix(ep, "/messages"):
		return KindMessages
	case strings.HasSuffix(ep, "/responses"):
		return KindResponses
	}
	return KindOther
}

// truncatedMark is what calllog.Cap appends to a body it cut.
const truncatedMark = "…[truncated "

func cutByCapture(body string) bool {
	tail := body[max(0, len(body)-48):]
	return strings.Contains(tail, truncatedMark)
}

// isSSE tells a captured stream from a JSON body.
func isSSE(body string) bool {
	body = strings.TrimLeft(body, " \t\r\n")
	return strings.HasPrefix(body, "data:") || strings.HasPrefix(body, "event:") || strings.HasPrefix(body, ":")
}

// forEachData calls fn with the payload of each data line of an SSE
// transcript, until fn returns false.
func forEachData(body string, fn func(data string) bool) {
	for len(body) > 0 {
		line := body
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = ""
		}
		line = strings.TrimSuffix(line, "\r")
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		if !fn(strings.TrimPrefix(data, " ")) {
			return
		}
	}
}

func extractOutput(k Kind, body string, s *scratch) Output {
	if body == "" {
		return Output{}
	}
	cut := cutByCapture(body)
	var o Output
	if isSSE(body) {
		s.text = s.text[:0]
		s.args = s.args[:0]
		switch k {
		case KindChat:
			o = chatStream(body, s)
		case KindMessages:
			o = messagesStream(body, s)
		case KindResponses:
			o = responsesStream(body, s)
		}
		o.Text = string(s.text)
		for _, a := range s.args {
			o.ToolArgs = append(o.ToolArgs, string(a))
		}
	} else {
		body = strings.TrimLeft(body, " \t\r\n")
		if !strings.HasPrefix(body, "{") {
			return Output{}
		}
		switch k {
		case KindChat:
			o = chatJSON(body, s)
		case KindMessages:
			o = messagesJSON(body, s)
		case KindResponses:
			o = responsesJSON(gjson.Parse(body), s)
		}
		o.Complete = o.Parsed
	}
	if cut {
		o.Complete = false
	}
	return o
}

// textOf reads an OpenAI content value: a string, or a list of parts whose
// text parts are joined.
func textOf(v gjson.Result, s *scratch) string {
	if v.Type == gjson.String {
		return v.Str
	}
	if !v.IsArray() {
		return ""
	}
	var b strings.Builder
	v.ForEach(func(_, p gjson.Result) bool {
		if t := p.Get("type").Str; t == "text" || t == "input_text" || t == "output_text" || t == "" {
			b.WriteString(p.Get("text").Str)
		}
		return true
	})
	return b.String()
}

func chatJSON(body string, s *scratch) Output {
	var o Output
	choice := gjson.Get(body, "choices.0")
	if !choice.IsObject() {
		return o
	}
	o.Parsed = true
	msg := choice.Get("message")
	o.Text = textOf(msg.Get("content"), s)
	o.Refusal = msg.Get("refusal").Str
	msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		o.ToolArgs = append(o.ToolArgs, tc.Get("function.arguments").Str)
		return true
	})
	o.Finish = openAIFinish(choice.Get("finish_reason").Str)
	return o
}

func openAIFinish(r string) string {
	switch r {
	case "length":
		return FinishLength
	case "content_filter":
		return FinishContentFilter
	case "tool_calls", "function_call":
		return FinishToolCalls
	case "":
		return ""
	}
	return FinishStop
}

func chatStream(body string, s *scratch) Output {
	var o Output
	var refusal []byte
	forEachData(body, func(data string) bool {
		if data == "[DONE]" {
			o.Complete = true
			return false
		}
		if !strings.HasPrefix(data, "{") {
			return true
		}
		o.Parsed = true
		// One pass over each object, keys in any order: a stream has a
		// chunk per token or so, and a lookup per field would scan each
		// chunk several times.
		gjson.Get(data, "choices").ForEach(func(_, ch gjson.Result) bool {
			var delta gjson.Result
			first, finish := true, ""
			ch.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "index":
					first = v.Int() == 0
				case "delta":
					delta = v
				case "finish_reason":
					finish = v.Str
				}
				return true
			})
			if !first {
				return true
			}
			delta.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "content":
					s.text = append(s.text, v.Str...)
				case "refusal":
					refusal = append(refusal, v.Str...)
				case "tool_calls":
					v.ForEach(func(_, tc gjson.Result) bool {
						i := int(tc.Get("index").Int())
						if i < 0 || i > 64 {
							return true
						}
						s.growArgs(i + 1)
						s.args[i] = append(s.args[i], tc.Get("function.arguments").Str...)
						return true
					})
				}
				return true
			})
			if finish != "" {
				o.Finish = openAIFinish(finish)
				o.Complete = true
			}
			return true
		})
		return true
	})
	o.Refusal = string(refusal)
	return o
}

func anthropicFinish(r string) string {
	switch r {
	case "max_tokens", "model_context_window_exceeded":
		return FinishLength
	case "refusal":
		return FinishRefusal
	case "tool_use":
		return FinishToolCalls
	case "":
		return ""
	}
	return FinishStop
}

func messagesJSON(body string, s *scratch) Output {
	var o Output
	content := gjson.Get(body, "content")
	if !content.IsArray() {
		return o
	}
	o.Parsed = true
	var text strings.Builder
	content.ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").Str {
		case "text":
			text.WriteString(b.Get("text").Str)
		case "tool_use":
			o.ToolArgs = append(o.ToolArgs, b.Get("input").Raw)
		}
		return true
	})
	o.Text = text.String()
	o.Finish = anthropicFinish(gjson.Get(body, "stop_reason").Str)
	return o
}

func messagesStream(body string, s *scratch) Output {
	var o Output
	tool := -1 // the content block index of each tool_use, in s.args order
	blocks := map[int64]int{}
	forEachData(body, func(data string) bool {
		if !strings.HasPrefix(data, "{") {
			return true
		}
		o.Parsed = true
		switch gjson.Get(data, "type").Str {
		case "content_block_start":
			b := gjson.Get(data, "content_block")
			switch b.Get("type").Str {
			case "text":
				s.text = append(s.text, b.Get("text").Str...)
			case "tool_use":
				tool++
				s.growArgs(tool + 1)
				blocks[gjson.Get(data, "index").Int()] = tool
			}
		case "content_block_delta":
			d := gjson.Get(data, "delta")
			switch d.Get("type").Str {
			case "text_delta":
				s.text = append(s.text, d.Get("text").Str...)
			case "input_json_delta":
				if i, ok := blocks[gjson.Get(data, "index").Int()]; ok {
					s.args[i] = append(s.args[i], d.Get("partial_json").Str...)
				}
			}
		case "message_delta":
			if r := gjson.Get(data, "delta.stop_reason").Str; r != "" {
				o.Finish = anthropicFinish(r)
			}
		case "message_stop":
			o.Complete = true
			return false
		}
		return true
	})
	// An empty tool input streams no delta at all.
	for i, a := range s.args {
		if len(a) == 0 {
			s.args[i] = append(a, "{}"...)
		}
	}
	return o
}

// responsesJSON reads a Responses API response object, as answered or as
// carried by a stream's final event.
func responsesJSON(resp gjson.Result, s *scratch) Output {
	var o Output
	out := resp.Get("output")
	if !out.IsArray() {
		return o
	}
	o.Parsed = true
	var text, refusal strings.Builder
	out.ForEach(func(_, item gjson.Result) bool {
		switch item.Get("type").Str {
		case "message":
			item.Get("content").ForEach(func(_, p gjson.Result) bool {
				switch p.Get("type").Str {
				case "output_text":
					text.WriteString(p.Get("text").Str)
				case "refusal":
					refusal.WriteString(p.Get("refusal").Str)
				}
				return true
			})
		case "function_call":
			o.ToolArgs = append(o.ToolArgs, item.Get("arguments").Str)
		}
		return true
	})
	o.Text, o.Refusal = text.String(), refusal.String()
	o.Finish = responsesFinish(resp)
	return o
}

func responsesFinish(resp gjson.Result) string {
	switch resp.Get("status").Str {
	case "completed":
		return FinishStop
	case "incomplete":
		if resp.Get("incomplete_details.reason").Str == "content_filter" {
			return FinishContentFilter
		}
		return FinishLength
	}
	return ""
}

func responsesStream(body string, s *scratch) Output {
	var o Output
	var refusal []byte
	forEachData(body, func(data string) bool {
		if !strings.HasPrefix(data, "{") {
			return true
		}
		o.Parsed = true
		switch gjson.Get(data, "type").Str {
		case "response.output_text.delta":
			s.text = append(s.text, gjson.Get(data, "delta").Str...)
		case "response.refusal.delta":
			refusal = append(refusal, gjson.Get(data, "delta").Str...)
		case "response.output_item.added":
			if gjson.Get(data, "item.type").Str == "function_call" {
				s.growArgs(len(s.args) + 1)
			}
		case "response.function_call_arguments.delta":
			if n := len(s.args); n > 0 {
				s.args[n-1] = append(s.args[n-1], gjson.Get(data, "delta").Str...)
			}
		case "response.completed", "response.incomplete", "response.failed":
			o.Finish = responsesFinish(gjson.Get(data, "response"))
			o.Complete = true
			return false
		}
		return true
	})
	o.Refusal = string(refusal)
	return o
}

func extractRequest(k Kind, body string, s *scratch) Request {
	var r Request
	if body == "" || !strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{") {
		return r
	}
	switch k {
	case KindChat:
		gjson.Get(body, "messages").ForEach(func(_, m gjson.Result) bool {
			switch m.Get("role").Str {
			case "user":
				r.LastUser = textOf(m.Get("content"), s)
			case "system", "developer":
				if r.System == "" {
					r.System = textOf(m.Get("content"), s)
				}
			}
			return true
		})
		r.WantsJSON = isJSONFormat(gjson.Get(body, "response_format.type").Str)
		tc := gjson.Get(body, "tool_choice")
		r.ForcedTool = tc.Str == "required" || tc.Get("type").Str == "function"
	case KindMessages:
		r.System = textOf(gjson.Get(body, "system"), s)
		gjson.Get(body, "messages").ForEach(func(_, m gjson.Result) bool {
			if m.Get("role").Str == "user" {
				r.LastUser = textOf(m.Get("content"), s)
			}
			return true
		})
		t := gjson.Get(body, "tool_choice.type").Str
		r.ForcedTool = t == "tool" || t == "any"
		r.WantsJSON = gjson.Get(body, "output_format.type").Str == "json_schema" ||
			gjson.Get(body, "output_config.format.type").Str == "json_schema"
	case KindResponses:
		r.System = gjson.Get(body, "instructions").Str
		in := gjson.Get(body, "input")
		if in.Type == gjson.String {
			r.LastUser = in.Str
		} else {
			in.ForEach(func(_, m gjson.Result) bool {
				if m.Get("role").Str == "user" {
					r.LastUser = textOf(m.Get("content"), s)
				}
				return true
			})
		}
		r.WantsJSON = isJSONFormat(gjson.Get(body, "text.format.type").Str)
		t := gjson.Get(body, "tool_choice")
		r.ForcedTool = t.Str == "required" || t.Get("type").Str == "function"
	}
	return r
}

func isJSONFormat(t string) bool { return t == "json_object" || t == "json_schema" }
