package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/hypergate/hypergate/internal/llm"
)

// Codec translates between OpenAI's chat-completions wire format and the
// provider-neutral model in package llm. It is both an inbound codec (OpenAI
// SDK clients in front of an Anthropic, Gemini or Bedrock upstream) and an
// upstream codec (Anthropic SDK clients in front of OpenAI, vLLM, Ollama and
// the other OpenAI-compatible servers). Requests whose format already matches
// the upstream's never reach it: they pass through untouched.
//
// The zero value is what OpenAI's own API and strict SDKs expect; the fields
// opt into the extensions some OpenAI-compatible servers need.
//
// Choices made where the neutral model and OpenAI's format differ:
//
//   - System and developer messages become Request.System, in the order they
//     appear. One that sits in the middle of a conversation is folded into
//     the system prompt too, because Anthropic, Gemini and Bedrock have no
//     place for it there; its position relative to the turns is lost.
//   - input_audio and file content parts are rejected with 400: dropping
//     them would make the model answer without seeing what it was asked
//     about. The legacy function-calling surface (the "function" role,
//     "functions", "function_call") is rejected with 400 as well, since a
//     legacy client expects a function_call back, which a translated answer
//     never carries. n > 1 and web_search_options are rejected for the same
//     reason: silently ignoring them would change the answer materially.
//   - Parameters that only tune or annotate the answer (logprobs,
//     logit_bias, penalties, audio, modalities, prediction, service_tier,
//     store, metadata, verbosity, prompt_cache_key …) and unknown fields are
//     listed in Request.Dropped unless their value is a no-op (null, false,
//     0, empty); see DecodeRequest.
//   - A refusal (in history or in an upstream answer) becomes ordinary text:
//     the neutral model has no refusal part and the words are what matter.
//   - Thinking is neither sent upstream nor shown to clients unless
//     ReasoningContent is set, because strict SDKs reject unknown fields and
//     OpenAI itself has no such field.
type Codec struct {
	// ReasoningContent carries thinking as the reasoning_content field
	// (DeepSeek's and vLLM's extension): on assistant messages sent
	// upstream, on the message of a response and as stream deltas sent to
	// clients. DeepSeek needs it in multi-turn tool use with thinking.
	ReasoningContent bool
	// MaxCompletionTokens sends the output limit as max_completion_tokens,
	// which OpenAI's reasoning models require. Off, it is sent as
	// max_tokens, the only name vLLM, Ollama and older servers know.
	MaxCompletionTokens bool
}

var (
	_ llm.InboundCodec  = Codec{}
	_ llm.UpstreamCodec = Codec{}
)

// Error types of OpenAI's error body that the codec produces itself.
const (
	typeInvalidRequest = "invalid_request_error"
	// typeUpstream marks an upstream answer that could not be understood,
	// as opposed to an error the upstream reported in its own words.
	typeUpstream = "upstream_error"
)

// maxErrorText bounds how much of a non-JSON upstream body is quoted in an
// error message: enough to recognise an HTML error page, not enough to flood
// a client or a log with it.
const maxErrorText = 512

// badRequest is the error for a client request that cannot be taken or
// translated. Messages about one field name its path, as OpenAI's do.
func badRequest(format string, args ...any) *llm.Error {
	return &llm.Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// upstreamError is the error for an upstream answer that is not what an
// OpenAI-compatible server sends.
func upstreamError(format string, args ...any) *llm.Error {
	return &llm.Error{Status: http.StatusBadGateway, Type: typeUpstream, Message: fmt.Sprintf(format, args...)}
}

// marshal encodes v without escaping <, > and &: the bodies go to APIs and
// SDKs, never into HTML, and escaping would only bloat prompts full of code.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// errorBody is OpenAI's error shape. Param and Code are always present, null
// when unknown, because OpenAI's schema requires both keys.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func newErrorBody(e *llm.Error) errorBody {
	obj := errorObject{Message: e.Message, Type: e.Type}
	if obj.Type == "" {
		obj.Type = typeForStatus(e.Status)
	}
	if e.Code != "" {
		code := e.Code
		obj.Code = &code
	}
	return errorBody{Error: obj}
}

// EncodeError renders e as OpenAI's error body,
// {"error":{"message","type","param","code"}}.
func (Codec) EncodeError(e *llm.Error) []byte {
	if e == nil {
		e = &llm.Error{Status: http.StatusInternalServerError, Message: "internal error"}
	}
	b, err := marshal(newErrorBody(e))
	if err != nil {
		// Only strings and nil pointers go in; this cannot happen.
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return b
}

// typeForStatus names the OpenAI error type that usually goes with an HTTP
// status, for errors that arrive without one.
func typeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500 || status == 0:
		return "server_error"
	default:
		return typeInvalidRequest
	}
}

// statusForType is the inverse of typeForStatus, for errors that arrive in
// the middle of a stream, where there is no HTTP status to go by. OpenAI
// reports rate limits with the limited resource as the type ("requests",
// "tokens").
func statusForType(typ string) int {
	switch typ {
	case typeInvalidRequest, "invalid_request", "BadRequestError":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "rate_limit_error", "requests", "tokens", "insufficient_quota":
		return http.StatusTooManyRequests
	case "overloaded_error":
		return http.StatusServiceUnavailable
	case "server_error", "api_error":
		return http.StatusInternalServerError
	default:
		return http.StatusBadGateway
	}
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
