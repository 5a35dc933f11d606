package anthropic

import (
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// Anthropic's error types, with the HTTP status Anthropic answers each with.
var anthropicStatus = map[string]int{
	"invalid_request_error": 400,
	"authentication_error":  401,
	"billing_error":         402,
	"permission_error":      403,
	"not_found_error":       404,
	"request_too_large":     413,
	"rate_limit_error":      429,
	"api_error":             500,
	"timeout_error":         504,
	"overloaded_error":      529,
}

// neutralTypes maps Anthropic's error types to the OpenAI-style types of
// llm.Error. The four both APIs share keep their names; request_too_large
// keeps it too, being what the gateway itself records for oversized bodies.
// billing_error is OpenAI's insufficient_quota, and Anthropic's three
// server-side types are OpenAI's single server_error. DecodeError keeps the
// Anthropic type in Code, so nothing is lost and EncodeError restores it.
var neutralTypes = map[string]string{
	"invalid_request_error": "invalid_request_error",
	"authentication_error":  "authentication_error",
	"permission_error":      "permission_error",
	"not_found_error":       "not_found_error",
	"rate_limit_error":      "rate_limit_error",
	"request_too_large":     "request_too_large",
	"billing_error":         "insufficient_quota",
	"api_error":             "server_error",
	"overloaded_error":      "server_error",
	"timeout_error":         "server_error",
}

// neutralTypeForStatus is the OpenAI-style type of an error whose body named
// no type that is known.
func neutralTypeForStatus(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 402:
		return "insufficient_quota"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 413:
		return "request_too_large"
	case status == 429:
		return "rate_limit_error"
	case status >= 400 && status < 500:
		return "invalid_request_error"
	default:
		return "server_error"
	}
}

// DecodeError reads an Anthropic error body, {"type":"error","error":{"type",
// "message"}}, into an llm.Error. Status is kept; Type is mapped to the
// OpenAI-style vocabulary (see neutralTypes) or, for a type it does not
// know, derived from the status; Code keeps the type the upstream sent. A
// body in another shape — an OpenAI-style {"error":{…}} from a compatible
// server, or a proxy's HTML page — still yields a usable error.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	if gjson.ValidBytes(body) {
		root := gjson.ParseBytes(body)
		if root.IsObject() && root.Get("error").IsObject() {
			return decodeError(status, root)
		}
	}
	msg := trimMessage(string(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	if msg == "" {
		msg = "upstream error"
	}
	return &llm.Error{Status: status, Type: neutralTypeForStatus(status), Message: msg}
}

// decodeError reads a parsed error object. A status of 0 means the error
// came where no status applies (a 200 body, a stream event), and is taken
// from the error's type.
func decodeError(status int, root gjson.Result) *llm.Error {
	typ := root.Get("error.type").Str
	msg := root.Get("error.message").Str
	if status == 0 {
		status = anthropicStatus[typ]
		if status == 0 {
			status = 500
		}
	}
	e := &llm.Error{Status: status, Code: typ, Message: msg}
	if t, ok := neutralTypes[typ]; ok {
		e.Type = t
	} else {
		e.Type = neutralTypeForStatus(status)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" {
		e.Message = "upstream error"
	}
	return e
}

// anthropicType chooses Anthropic's type for a neutral error. A Code that
// is already one of Anthropic's types came from an Anthropic upstream and is
// kept. Otherwise the status decides where Anthropic ties a status to one
// type — which SDKs go by, and which is more reliable than the type (OpenAI
// answers an invalid key with 401 and invalid_request_error). For the
// remaining statuses the neutral type decides, and failing that the class
// of the status.
func anthropicType(e *llm.Error) string {
	if _, ok := anthropicStatus[e.Code]; ok {
		return e.Code
	}
	switch e.Status {
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	switch e.Type {
	case "invalid_request_error", "authentication_error", "permission_error",
		"not_found_error", "rate_limit_error", "request_too_large":
		return e.Type
	case "insufficient_quota":
		return "billing_error"
	case "upstream_timeout":
		return "timeout_error"
	case "service_unavailable":
		return "overloaded_error"
	}
	if e.Status >= 400 && e.Status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

type wireError struct {
	Type  string          `json:"type"`
	Error wireErrorDetail `json:"error"`
}

type wireErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// EncodeError writes e in Anthropic's error shape; the HTTP status to send
// it with is e.Status.
func (Codec) EncodeError(e *llm.Error) []byte {
	return errorBody(e)
}

func errorBody(e *llm.Error) []byte {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if msg == "" {
		msg = "error"
	}
	b, err := marshal(wireError{Type: "error", Error: wireErrorDetail{Type: anthropicType(e), Message: msg}})
	if err != nil {
		// Two strings cannot fail to marshal.
		panic("anthropic: marshalling an error body: " + err.Error())
	}
	return b
}
