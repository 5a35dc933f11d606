package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// DecodeResponse reads a generateContent response: the first candidate's
// parts become the assistant message — text parts PartText, parts marked
// thought: true PartThinking, inline images PartImage, functionCall parts
// ToolCalls with their args object as JSON text. Gemini gives calls no id
// (and matches results by name), so each call gets the id Gemini sent when
// it sends one and a fresh unique "call_…" id otherwise; unique rather than
// numbered per response, because clients keep whole conversations and some
// formats (Anthropic's) reject repeated tool-use ids. Thought signatures are
// not kept (see skipSignature).
//
// modelVersion becomes Model, responseId ID; Created is the Vertex AI
// createTime when present and the time of decoding otherwise, since the
// Gemini API sends none.
//
// The finish reason maps as finishReason documents. A prompt blocked before
// generation (promptFeedback.blockReason, no candidates) is an answer, not
// an error: an empty message with finish content_filter, which is how
// OpenAI-format clients already learn of filtered content.
//
// Usage follows llm.Usage's OpenAI accounting, see usage.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var g generateResponse
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, fmt.Errorf("decoding gemini response: %w", err)
	}
	if g.Error != nil {
		return nil, apiError(0, g.Error)
	}
	resp := &llm.Response{
		ID:      g.ResponseID,
		Model:   g.ModelVersion,
		Created: created(g.CreateTime),
		Message: llm.Message{Role: llm.RoleAssistant},
		Usage:   usage(g.UsageMetadata),
	}
	c, ok := firstCandidate(g.Candidates)
	if !ok {
		if g.PromptFeedback == nil || g.PromptFeedback.BlockReason == "" {
			return nil, errors.New("decoding gemini response: no candidates and no block reason")
		}
		resp.Finish = llm.FinishContentFilter
		return resp, nil
	}
	for _, p := range c.Content.Parts {
		switch {
		case p.FunctionCall != nil:
			resp.Message.ToolCalls = append(resp.Message.ToolCalls, toolCall(p.FunctionCall, len(resp.Message.ToolCalls)))
		case p.Thought:
			if p.Text != "" {
				resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartThinking, Text: p.Text})
			}
		case p.Text != "":
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: p.Text})
		case p.InlineData != nil && strings.HasPrefix(p.InlineData.MimeType, "image/"):
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{
				Type: llm.PartImage, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data,
			})
		}
	}
	resp.Finish = finishReason(c.FinishReason, len(resp.Message.ToolCalls) > 0)
	return resp, nil
}

// firstCandidate returns the candidate with index 0; the codec never asks
// for more than one.
func firstCandidate(cs []candidate) (candidate, bool) {
	for _, c := range cs {
		if c.Index == 0 {
			return c, true
		}
	}
	return candidate{}, false
}

func toolCall(fc *functionCall, n int) llm.ToolCall {
	id := fc.ID
	if id == "" {
		id = newCallID(n)
	}
	return llm.ToolCall{ID: id, Name: fc.Name, Arguments: argsText(fc.Args)}
}

// argsText is the compact JSON text of a call's args, {} when absent.
func argsText(raw json.RawMessage) string {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "{}"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// finishReason maps Gemini's finish reason to the neutral one: MAX_TOKENS
// → length; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII and
// the IMAGE_ variants of safety, prohibited content and recitation →
// content_filter; otherwise tool_calls when the answer calls a tool (Gemini
// says STOP then) and stop for everything else — STOP itself, and reasons
// with no OpenAI counterpart such as LANGUAGE, OTHER,
// MALFORMED_FUNCTION_CALL or UNEXPECTED_TOOL_CALL, whose answer is simply
// what was generated.
func finishReason(reason string, toolCalls bool) llm.FinishReason {
	switch reason {
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.FinishContentFilter
	}
	if toolCalls {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// usage converts usageMetadata to llm.Usage, whose accounting is OpenAI's.
// Gemini counts thinking apart from the answer (candidatesTokenCount
// excludes thoughtsTokenCount) and bills both as output, so OutputTokens is
// their sum and ReasoningTokens the thoughts alone. promptTokenCount already
// includes the cached tokens (cachedContentTokenCount, CachedInputTokens),
// as OpenAI's prompt_tokens does; toolUsePromptTokenCount, the prompt of a
// built-in tool's run, is billed as input and added to InputTokens.
// Negative counts read as zero.
func usage(u *usageMetadata) llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	return llm.Usage{
		InputTokens:       max(u.PromptTokenCount, 0) + max(u.ToolUsePromptTokenCount, 0),
		OutputTokens:      max(u.CandidatesTokenCount, 0) + max(u.ThoughtsTokenCount, 0),
		CachedInputTokens: max(u.CachedContentTokenCount, 0),
		ReasoningTokens:   max(u.ThoughtsTokenCount, 0),
		Present:           true,
	}
}

func created(createTime string) int64 {
	if t, err := time.Parse(time.RFC3339Nano, createTime); err == nil {
		return t.Unix()
	}
	return now().Unix()
}

// DecodeError maps a Google error body, {"error": {"code", "message",
// "status", "details"}} (sent on its own or as the only element of an
// array, as streaming endpoints do without alt=sse), to a neutral error.
// The type follows the canonical status: INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS and UNIMPLEMENTED →
// invalid_request_error; UNAUTHENTICATED → authentication_error;
// PERMISSION_DENIED → permission_error; NOT_FOUND → not_found_error;
// RESOURCE_EXHAUSTED → rate_limit_error; INTERNAL, UNAVAILABLE,
// DEADLINE_EXCEEDED, ABORTED, UNKNOWN, DATA_LOSS and CANCELLED →
// server_error; without a known status, the HTTP status decides. Code is
// the ErrorInfo reason when there is one (API_KEY_INVALID …) and the
// status otherwise.
//
// Status is the HTTP status the upstream answered, with one exception:
// Gemini reports an invalid key as 400 INVALID_ARGUMENT with reason
// API_KEY_INVALID, which becomes a 401 authentication_error, so that
// clients treat it as the credentials problem it is. A body that is not a
// Google error keeps the status, with its standard text as the message.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	f := parseAPIError(body)
	if f == nil {
		if status == 0 {
			status = http.StatusBadGateway
		}
		return &llm.Error{
			Status:  status,
			Type:    typeForHTTP(status),
			Message: fmt.Sprintf("gemini upstream answered %d %s", status, http.StatusText(status)),
		}
	}
	return apiError(status, f)
}

func parseAPIError(body []byte) *apiErrorFields {
	body = bytes.TrimSpace(body)
	var one struct {
		Error *apiErrorFields `json:"error"`
	}
	if len(body) > 0 && body[0] == '[' {
		var many []struct {
			Error *apiErrorFields `json:"error"`
		}
		if json.Unmarshal(body, &many) == nil && len(many) > 0 {
			return many[0].Error
		}
		return nil
	}
	if json.Unmarshal(body, &one) != nil {
		return nil
	}
	return one.Error
}

// apiError maps a Google error; status 0 means "take it from the body", as
// for an error object inside a 200 stream.
func apiError(status int, f *apiErrorFields) *llm.Error {
	if status == 0 {
		status = f.Code
	}
	if status < 400 || status > 599 {
		status = statusForCode(f.Status)
	}
	e := &llm.Error{Status: status, Code: f.Status, Message: f.Message}
	for _, d := range f.Details {
		if d.Reason != "" {
			e.Code = d.Reason
			break
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("gemini upstream answered %d %s", status, http.StatusText(status))
	}
	if t, ok := typeForStatus[f.Status]; ok {
		e.Type = t
	} else {
		e.Type = typeForHTTP(status)
	}
	if e.Code == "API_KEY_INVALID" {
		e.Type, e.Status = "authentication_error", http.StatusUnauthorized
	}
	return e
}

var typeForStatus = map[string]string{
	"INVALID_ARGUMENT":    "invalid_request_error",
	"FAILED_PRECONDITION": "invalid_request_error",
	"OUT_OF_RANGE":        "invalid_request_error",
	"ALREADY_EXISTS":      "invalid_request_error",
	"UNIMPLEMENTED":       "invalid_request_error",
	"UNAUTHENTICATED":     "authentication_error",
	"PERMISSION_DENIED":   "permission_error",
	"NOT_FOUND":           "not_found_error",
	"RESOURCE_EXHAUSTED":  "rate_limit_error",
	"INTERNAL":            "server_error",
	"UNAVAILABLE":         "server_error",
	"DEADLINE_EXCEEDED":   "server_error",
	"ABORTED":             "server_error",
	"UNKNOWN":             "server_error",
	"DATA_LOSS":           "server_error",
	"CANCELLED":           "server_error",
}

func typeForHTTP(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500 || status < 400:
		return "server_error"
	}
	return "invalid_request_error"
}

// statusForCode is the HTTP status Google pairs with a canonical code.
func statusForCode(code string) int {
	switch code {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return http.StatusBadRequest
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "ALREADY_EXISTS", "ABORTED":
		return http.StatusConflict
	case "RESOURCE_EXHAUSTED":
		return http.StatusTooManyRequests
	case "UNIMPLEMENTED":
		return http.StatusNotImplemented
	case "UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "DEADLINE_EXCEEDED":
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}
