package bedrock

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// Seams for tests: the clock gives Created, newID the response id Bedrock
// does not send (it names a response only in the x-amzn-RequestId header,
// which the codec is not given).
var (
	now   = time.Now
	newID = func() string { return "msg_" + rand.Text() }
)

// DecodeResponse reads a Converse response: output.message.content becomes
// the assistant message — text blocks PartText, reasoningContent PartThinking
// (with its signature; redacted reasoning is dropped, as it has no text),
// toolUse blocks ToolCalls with their toolUseId and input object as JSON
// text; images and documents in answers are dropped.
//
// Converse sends no id, model or time: ID is a fresh "msg_…" id, Created
// the time of decoding, and Model is left empty for the gateway to fill
// with the model it asked for.
//
// stopReason maps as finishReason documents; usage as usage documents.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var c converseResponse
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("decoding bedrock response: %w", err)
	}
	if c.Output.Message == nil {
		return nil, errors.New("decoding bedrock response: no output message")
	}
	resp := &llm.Response{
		ID:      newID(),
		Created: now().Unix(),
		Message: llm.Message{Role: llm.RoleAssistant},
		Finish:  finishReason(c.StopReason),
		Usage:   usage(c.Usage),
	}
	for _, b := range c.Output.Message.Content {
		switch {
		case b.Text != nil:
			if *b.Text != "" {
				resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartText, Text: *b.Text})
			}
		case b.ToolUse != nil:
			resp.Message.ToolCalls = append(resp.Message.ToolCalls, llm.ToolCall{
				ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Arguments: inputText(b.ToolUse.Input),
			})
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			rt := b.ReasoningContent.ReasoningText
			resp.Message.Parts = append(resp.Message.Parts, llm.Part{Type: llm.PartThinking, Text: rt.Text, Signature: rt.Signature})
		}
	}
	if resp.Finish == llm.FinishStop && len(resp.Message.ToolCalls) > 0 {
		resp.Finish = llm.FinishToolCalls
	}
	return resp, nil
}

// inputText is the compact JSON text of a tool input, {} when absent.
func inputText(raw json.RawMessage) string {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return "{}"
	}
	return string(compact(t))
}

// finishReason maps Converse's stopReason: end_turn and stop_sequence →
// stop; max_tokens and model_context_window_exceeded → length; tool_use →
// tool_calls; guardrail_intervened and content_filtered → content_filter;
// anything else → stop.
func finishReason(reason string) llm.FinishReason {
	switch reason {
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "guardrail_intervened", "content_filtered":
		return llm.FinishContentFilter
	}
	return llm.FinishStop
}

// usage converts Converse's usage to llm.Usage, whose accounting is
// OpenAI's: Bedrock's inputTokens exclude the tokens read from and written
// to the prompt cache, which are billed as input too, so InputTokens is the
// sum of the three, CachedInputTokens the cache reads and
// CacheWriteInputTokens the writes. Bedrock does not
// report reasoning tokens apart; they are in outputTokens. Negative counts
// read as zero.
func usage(u *tokenUsage) llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	return llm.Usage{
		InputTokens:           max(u.InputTokens, 0) + max(u.CacheReadInputTokens, 0) + max(u.CacheWriteInputTokens, 0),
		OutputTokens:          max(u.OutputTokens, 0),
		CachedInputTokens:     max(u.CacheReadInputTokens, 0),
		CacheWriteInputTokens: max(u.CacheWriteInputTokens, 0),
		Present:               true,
	}
}

// DecodeError maps a Bedrock error body, {"message": "..."}, to a neutral
// error. Bedrock names the exception in the x-amzn-ErrorType header, which
// the codec is not given, so the type follows the HTTP status, which
// Bedrock's exceptions each have one of: 400 (ValidationException) →
// invalid_request_error, 401 → authentication_error, 403
// (AccessDeniedException, and bad signatures or keys) → permission_error,
// 404 (ResourceNotFoundException) → not_found_error, 429
// (ThrottlingException, ServiceQuotaExceededException,
// ModelNotReadyException) → rate_limit_error, 408 (ModelTimeoutException),
// 424 (ModelErrorException) and 5xx → server_error, other 4xx →
// invalid_request_error. The message is kept; Code is the exception name
// when the body carries one in __type. A body that is not a Bedrock error
// keeps the status, with its standard text as the message.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	e := &llm.Error{Status: status, Type: typeForHTTP(status)}
	var b errorBody
	if json.Unmarshal(body, &b) == nil {
		e.Message = b.Message
		if e.Message == "" {
			e.Message = b.MessageU
		}
		// __type may be "com.amazonaws…#ValidationException" or the bare name.
		e.Code = b.Type[strings.LastIndexByte(b.Type, '#')+1:]
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("bedrock upstream answered %d %s", status, http.StatusText(status))
	}
	return e
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
	case status == http.StatusRequestTimeout, status == http.StatusFailedDependency, status >= 500, status < 400:
		return "server_error"
	}
	return "invalid_request_error"
}
