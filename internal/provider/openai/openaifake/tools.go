package openaifake

import (
	"fmt"
	"strings"
)

// ToolText is the content that precedes a tool call in a tool-calling
// answer, as models often say what they are about to do.
const ToolText = "Let me check."

// DefaultToolInput is the arguments of a tool call when Options.ToolInput
// is empty: a JSON object, streamed in pieces cut mid-JSON.
const DefaultToolInput = `{"location":"Paris, France","unit":"celsius"}`

// answer is what the fake replies to a chat completion, whole or streamed.
type answer struct {
	text     string
	pieces   []string // streamed content pieces
	toolName string   // "" unless the answer calls a tool
	toolArgs string
	finish   string
}

// chatAnswer decides what to answer from the conversation, the way the
// Anthropic fake does, so that a translating gateway's tool loop can be
// tested end to end:
//   - a conversation whose last message is a tool result gets the text
//     "Tool result: " followed by the results, so a test sees that they
//     arrived;
//   - otherwise a request with tools (and a tool_choice other than "none")
//     gets ToolText and a call of the tool tool_choice names, or of the
//     first tool, with Options.ToolInput;
//   - otherwise the text is Options.Words joined.
//
// Whatever it answers, the usage it reports is the same (12 prompt tokens;
// 5 completion tokens whole, one per word of Options.Words streamed), so
// that tests can check the call records' counts.
//
// It also refuses what OpenAI refuses and a translation could get wrong: a
// tool message that answers no tool call of the assistant message before
// it, and a tool call without an id. The refusal is OpenAI's message.
func (s *Server) chatAnswer(body map[string]any) (answer, string) {
	msgs, _ := body["messages"].([]any)
	if msg := checkToolMessages(msgs); msg != "" {
		return answer{}, msg
	}
	if n := len(msgs); n > 0 {
		if last, _ := msgs[n-1].(map[string]any); last["role"] == "tool" {
			var results []string
			for i := n - 1; i >= 0; i-- {
				m, _ := msgs[i].(map[string]any)
				if m["role"] != "tool" {
					break
				}
				results = append([]string{contentText(m["content"])}, results...)
			}
			text := "Tool result: " + strings.Join(results, "; ")
			return answer{text: text, pieces: []string{"Tool result: ", strings.Join(results, "; ")}, finish: "stop"}, ""
		}
	}
	tools, _ := body["tools"].([]any)
	if name := chosenTool(tools, body["tool_choice"]); name != "" {
		args := s.o.ToolInput
		if args == "" {
			args = DefaultToolInput
		}
		return answer{text: ToolText, pieces: []string{ToolText}, toolName: name, toolArgs: args, finish: "tool_calls"}, ""
	}
	return answer{text: strings.Join(s.o.Words, ""), pieces: s.o.Words, finish: "stop"}, ""
}

// chosenTool is the function a tool-calling answer calls, or "".
func chosenTool(tools []any, choice any) string {
	if len(tools) == 0 || choice == "none" {
		return ""
	}
	if c, ok := choice.(map[string]any); ok {
		if f, ok := c["function"].(map[string]any); ok {
			if name, _ := f["name"].(string); name != "" {
				return name
			}
		}
	}
	t, _ := tools[0].(map[string]any)
	f, _ := t["function"].(map[string]any)
	name, _ := f["name"].(string)
	return name
}

// checkToolMessages returns OpenAI's error for a tool message that answers
// no call of the nearest assistant message before it, or "".
func checkToolMessages(msgs []any) string {
	var calls map[string]bool
	for i, raw := range msgs {
		m, _ := raw.(map[string]any)
		switch m["role"] {
		case "assistant":
			calls = map[string]bool{}
			tcs, _ := m["tool_calls"].([]any)
			for j, raw := range tcs {
				tc, _ := raw.(map[string]any)
				id, _ := tc["id"].(string)
				if id == "" {
					return fmt.Sprintf("Missing required parameter: 'messages[%d].tool_calls[%d].id'.", i, j)
				}
				calls[id] = true
			}
		case "tool":
			id, _ := m["tool_call_id"].(string)
			if !calls[id] {
				return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
			}
		default:
			calls = nil
		}
	}
	return ""
}

// contentText flattens a message's content: a string, or text parts.
func contentText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, p := range v {
			if part, ok := p.(map[string]any); ok {
				if t, ok := part["text"].(string); ok {
					b.WriteString(t)
				}
			}
		}
		return b.String()
	}
	return ""
}

// message is the assistant message of a whole answer.
func (a answer) message() map[string]any {
	m := map[string]any{"role": "assistant", "content": a.text, "refusal": nil}
	if a.toolName != "" {
		m["tool_calls"] = []any{map[string]any{
			"id": "call_fake1", "type": "function",
			"function": map[string]any{"name": a.toolName, "arguments": a.toolArgs},
		}}
	}
	return m
}

// argPieces cuts tool arguments into three pieces at arbitrary places, as
// OpenAI streams them: no piece is valid JSON on its own.
func argPieces(args string) []string {
	if len(args) < 3 {
		return []string{args}
	}
	a, b := len(args)/3, 2*len(args)/3
	return []string{args[:a], args[a:b], args[b:]}
}
