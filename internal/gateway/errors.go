package gateway

import (
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"
)

// apiError is a data-plane error. Message is what the client reads; cause is
// what the log gets, and never reaches the client (it may name upstream hosts).
type apiError struct {
	Status  int
	Type    string // OpenAI's error types: invalid_request_error, authentication_error, …
	Code    string
	Param   string
	Message string
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.cause)
	}
	return e.Message
}

func (e *apiError) Unwrap() error { return e.cause }

// errorType values recorded in call records for failures that are not
// upstream HTTP errors.
const (
	errInvalidRequest = "invalid_request_error"
	errAuthentication = "authentication_error"
	errPermission     = "permission_error"
	errNotFound       = "not_found_error"
	errTooLarge       = "request_too_large"
	errUpstream       = "upstream_error"
	errUnreachable    = "upstream_unreachable"
	errTimeout        = "upstream_timeout"
	errClientClosed   = "client_closed"
	errInternal       = "internal_error"
	errUnavailable    = "service_unavailable"
)

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{Status: fasthttp.StatusBadRequest, Type: errInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// errorBody is OpenAI's error envelope.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// marshalError renders e in OpenAI's shape; param and code are null when empty,
// as OpenAI sends them.
func marshalError(e *apiError) []byte {
	b, _ := json.Marshal(errorBody{Error: errorDetail{
		Message: e.Message, Type: e.Type, Param: nilIfEmpty(e.Param), Code: nilIfEmpty(e.Code),
	}})
	return b
}

func writeError(ctx *fasthttp.RequestCtx, in *inbound, e *apiError) {
	ctx.Response.ResetBody()
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	ctx.SetBody(in.render(e))
}
