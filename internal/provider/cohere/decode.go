package cohere

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
)

// DecodeResponse reads a v2 chat answer: message.content text parts become
// PartText and thinking parts PartThinking; message.tool_plan, the text
// Cohere writes before calling tools, becomes a leading text part, where
// OpenAI and Anthropic put such text; message.tool_calls become ToolCalls,
// with a fresh "call_…" id for a call Cohere sent without one. Citations
// are dropped: the neutral model has no place for them.
//
// id becomes ID. Cohere sends no model name and no timestamp, so Model is
// left empty for the gateway to fill with the model it asked for, and
// Created is the time of decoding.
//
// The finish reason maps as finishReason documents. An answer that ended
// in ERROR or TIMEOUT is returned as an *llm.Error (502 server_error and
// 504 server_error), since what it holds is not a usable answer.
//
// A Cohere error body answered with status 200 is returned as a 502
// server_error carrying its message.
//
// Usage follows llm.Usage's OpenAI accounting, see usage.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var c chatResponse
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("decoding cohere response: %w", err)
	}
	var msg responseMessage
	switch m := bytes.TrimSpace(c.Message); {
	case len(m) > 0 && m[0] == '"':
		// An error body in a 200: {"id", "message": "…"}.
		var text string
		_ = json.Unmarshal(m, &text)
		if strings.TrimSpace(text) == "" {
			text = "cohere: error without a message"
		}
		return nil, &llm.Error{Status: http.StatusBadGateway, Type: "server_error", Message: text}
	case len(m) == 0 || bytes.Equal(m, []byte("null")):
		return nil, errors.New("decoding cohere response: no message")
	default:
		if err := json.Unmarshal(m, &msg); err != nil {
			return nil, fmt.Errorf("decoding cohere response message: %w", err)
		}
	}
	if e := failure(c.FinishReason, ""); e != nil {
		return nil, e
	}
	resp := &llm.Response{
		ID:      c.ID,
		Created: now().Unix(),
		Message: llm.Message{Role: llm.RoleAssistant},
		Usage:   usage(c.Usage),
	}
	if msg.ToolPlan != "" {
		resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: msg.ToolPlan})
	}
	for _, p := range msg.Content {
		switch {
		case p.Type == "thinking" && p.Thinking != "":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartThinking, Text: p.Thinking})
		case p.Type == "text" && p.Text != "":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: p.Text})
		}
	}
	for _, tc := range msg.ToolCalls {
		n := len(resp.Message.ToolCalls)
		id := tc.ID
		if id == "" {
			id = newCallID(n)
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		resp.Message.ToolCalls = append(resp.Message.ToolCalls, llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: args})
	}
	resp.Finish = finishReason(c.FinishReason, len(resp.Message.ToolCalls) > 0)
	return resp, nil
}

// finishReason maps Cohere's finish reason: MAX_TOKENS → length;
// TOOL_CALL → tool_calls; COMPLETE and STOP_SEQUENCE → stop, or tool_calls
// when the answer calls a tool anyway; unknown reasons the same way, so
// that a new reason does not break clients. ERROR and TIMEOUT never get
// here (see failure).
func finishReason(reason string, toolCalls bool) llm.FinishReason {
	switch reason {
	case "MAX_TOKENS":
		return llm.FinishLength
	case "TOOL_CALL":
		return llm.FinishToolCalls
	}
	if toolCalls {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// failure returns the error an ERROR or TIMEOUT finish stands for, with
// msg (the stream's error text) as its message when there is one, and nil
// for the other reasons.
func failure(reason, msg string) *llm.Error {
	var e *llm.Error
	switch reason {
	case "ERROR":
		e = &llm.Error{Status: http.StatusBadGateway, Type: "server_error", Code: reason,
			Message: "cohere: generation failed"}
	case "TIMEOUT":
		e = &llm.Error{Status: http.StatusGatewayTimeout, Type: "server_error", Code: reason,
			Message: "cohere: generation timed out"}
	default:
		return nil
	}
	if msg != "" {
		e.Message = msg
	}
	return e
}

// usage converts Cohere's usage to llm.Usage. Cohere reports two counts:
// tokens, everything the model read and wrote (including the prompt
// template Cohere adds), and billed_units, what the call is charged for.
// InputTokens and OutputTokens are the billed units, because the gateway
// prices calls from them; each falls back to the tokens count when Cohere
// sends no billed count for it. CachedInputTokens is cached_tokens, capped
// at InputTokens to keep OpenAI's "cached is part of input" accounting.
// Cohere reports no reasoning tokens apart. Negative or non-finite counts
// read as zero.
func usage(u *usageFields) llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	pick := func(billed, tokens *tokenCounts, in bool) int64 {
		for _, c := range []*tokenCounts{billed, tokens} {
			if c == nil {
				continue
			}
			v := c.OutputTokens
			if in {
				v = c.InputTokens
			}
			if v != nil {
				return count(*v)
			}
		}
		return 0
	}
	out := llm.Usage{
		InputTokens:  pick(u.BilledUnits, u.Tokens, true),
		OutputTokens: pick(u.BilledUnits, u.Tokens, false),
		Present:      true,
	}
	out.CachedInputTokens = min(count(u.CachedTokens), out.InputTokens)
	return out
}

func count(v float64) int64 {
	if math.IsNaN(v) || v <= 0 {
		return 0
	}
	if v >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(v)
}

// DecodeError maps a Cohere error body, {"id": …, "message": …}, to a
// neutral error by HTTP status: 400 and 422 → invalid_request_error (Code
// context_length_exceeded when the message says "too many tokens", as
// Cohere's does when a prompt is too long); 401, and 498 (Cohere's invalid
// token) answered as 401 → authentication_error; 402 → insufficient_quota
// (OpenAI's type for an account that cannot pay); 403 → permission_error;
// 404 → not_found_error; 429 → rate_limit_error; 499 (request cancelled)
// and 5xx → server_error. The message is Cohere's, or the status text when
// the body is not a Cohere error (a proxy's HTML page, an empty body). A
// status outside 400–599 becomes 502.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	if status < 400 || status > 599 {
		// No error status at all (an error body in a 200) is the
		// upstream's failure.
		status = http.StatusBadGateway
	}
	if status == 498 {
		status = http.StatusUnauthorized
	}
	e := &llm.Error{Status: status, Type: typeForHTTP(status)}
	if f := parseAPIError(body); f != nil && strings.TrimSpace(f.Message) != "" {
		e.Message = f.Message
	} else {
		e.Message = fmt.Sprintf("cohere upstream answered %d %s", status, http.StatusText(status))
	}
	if e.Type == "invalid_request_error" && strings.HasPrefix(strings.ToLower(e.Message), "too many tokens") {
		e.Code = "context_length_exceeded"
	}
	return e
}

func parseAPIError(body []byte) *apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var f apiError
	if json.Unmarshal(body, &f) != nil {
		return nil
	}
	return &f
}

func typeForHTTP(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusPaymentRequired:
		return "insufficient_quota"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 499 || status < 400:
		return "server_error"
	}
	return "invalid_request_error"
}
