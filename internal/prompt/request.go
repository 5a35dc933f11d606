package prompt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Call is the body of a prompt call:
//
//	{"variables": {...}, "messages": [...], "stream": false}
type Call struct {
	// Variables are the values of the template's variables, as sent.
	Variables map[string]json.RawMessage
	// Messages are OpenAI-format chat messages appended after the rendered
	// user message: a conversation that goes on from the prompt.
	Messages []json.RawMessage
	// Stream asks for the answer as server-sent events.
	Stream bool
}

// ParseCall reads a call's body. Fields other than variables, messages
// and stream are errors, so that a misspelt field is not silently ignored;
// a message must be an object with a string role, the rest of it is the
// model's to judge. Errors are *Error.
func ParseCall(body []byte) (Call, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return Call{}, &Error{Code: CodeInvalidBody, Message: `the request body is empty; send a JSON object such as {"variables": {...}}`}
	case !json.Valid(trimmed):
		return Call{}, &Error{Code: CodeInvalidBody, Message: "We could not parse the JSON body of your request. The body must be valid JSON."}
	case trimmed[0] != '{':
		return Call{}, &Error{Code: CodeInvalidBody, Message: "the request body must be a JSON object"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return Call{}, &Error{Code: CodeInvalidBody, Message: fmt.Sprintf("We could not parse the JSON body of your request: %v", err)}
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	var c Call
	for _, name := range names {
		raw := fields[name]
		switch name {
		case "variables":
			if isNull(raw) {
				continue
			}
			if raw[0] != '{' {
				return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: "expected an object of variable values, got " + describe(raw)}
			}
			if err := json.Unmarshal(raw, &c.Variables); err != nil {
				return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: err.Error()}
			}
		case "messages":
			if isNull(raw) {
				continue
			}
			if raw[0] != '[' {
				return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: "expected an array of chat messages, got " + describe(raw)}
			}
			if err := json.Unmarshal(raw, &c.Messages); err != nil {
				return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: err.Error()}
			}
			for i, m := range c.Messages {
				if err := checkMessage(m); err != "" {
					return Call{}, &Error{Path: fmt.Sprintf("messages[%d]", i), Code: CodeInvalidBody, Message: err}
				}
			}
		case "stream":
			switch string(raw) {
			case "true":
				c.Stream = true
			case "false", "null":
			default:
				return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: "expected a boolean, got " + describe(raw)}
			}
		default:
			return Call{}, &Error{Path: name, Code: CodeInvalidBody, Message: "unknown field: a prompt call takes variables, messages and stream"}
		}
	}
	return c, nil
}

// checkMessage returns what is wrong with an extra message, or "".
func checkMessage(m json.RawMessage) string {
	if m[0] != '{' {
		return "expected a chat message object, got " + describe(m)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(m, &fields); err != nil {
		return err.Error()
	}
	role, ok := fields["role"]
	if !ok || role[0] != '"' || string(role) == `""` {
		return `a message needs a role ("user", "assistant" …)`
	}
	return ""
}

// chatMessage is a rendered message.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatRequest is the OpenAI chat completion request a version sends.
type chatRequest struct {
	Model       string            `json:"model"`
	Messages    []json.RawMessage `json:"messages"`
	Temperature *float64          `json:"temperature,omitempty"`
	MaxTokens   *int              `json:"max_tokens,omitempty"`
	Stream      bool              `json:"stream,omitempty"`
}

// ChatRequest renders the OpenAI chat completion request that the version
// sends for a call: its model, its system message (if it has one), the
// user message, the call's extra messages, its temperature and max_tokens,
// and stream.
func (v *Version) ChatRequest(vals Values, extra []json.RawMessage, stream bool) ([]byte, error) {
	system, user := v.Render(vals)
	r := chatRequest{Model: v.Model, Temperature: v.Temperature, MaxTokens: v.MaxTokens, Stream: stream,
		Messages: make([]json.RawMessage, 0, 2+len(extra))}
	if !v.system.empty() {
		r.Messages = append(r.Messages, marshal(chatMessage{Role: "system", Content: system}))
	}
	r.Messages = append(r.Messages, marshal(chatMessage{Role: "user", Content: user}))
	r.Messages = append(r.Messages, extra...)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the model should read "<b>" as the caller wrote it, not as \u003cb\u003e
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encoding the chat request: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func marshal(m chatMessage) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // two strings always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
