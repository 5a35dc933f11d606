package gemini

import (
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   llm.Error
	}{
		{
			name:   "invalid argument",
			status: 400,
			body:   `{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified\n","status":"INVALID_ARGUMENT"}}`,
			want:   llm.Error{Status: 400, Type: "invalid_request_error", Code: "INVALID_ARGUMENT", Message: "* GenerateContentRequest.contents: contents is not specified\n"},
		},
		{
			name:   "invalid API key is an authentication error",
			status: 400,
			body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",` +
				`"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},` +
				`{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}}`,
			want: llm.Error{Status: 401, Type: "authentication_error", Code: "API_KEY_INVALID", Message: "API key not valid. Please pass a valid API key."},
		},
		{
			name:   "failed precondition",
			status: 400,
			body:   `{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`,
			want:   llm.Error{Status: 400, Type: "invalid_request_error", Code: "FAILED_PRECONDITION", Message: "User location is not supported for the API use."},
		},
		{
			name:   "unauthenticated",
			status: 401,
			body:   `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`,
			want:   llm.Error{Status: 401, Type: "authentication_error", Code: "UNAUTHENTICATED", Message: "Request had invalid authentication credentials."},
		},
		{
			name:   "permission denied",
			status: 403,
			body:   `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.","status":"PERMISSION_DENIED"}}`,
			want:   llm.Error{Status: 403, Type: "permission_error", Code: "PERMISSION_DENIED", Message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."},
		},
		{
			name:   "not found",
			status: 404,
			body:   `{"error":{"code":404,"message":"models/gemini-9-ultra is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}`,
			want:   llm.Error{Status: 404, Type: "not_found_error", Code: "NOT_FOUND", Message: "models/gemini-9-ultra is not found for API version v1beta, or is not supported for generateContent."},
		},
		{
			name:   "quota exhausted",
			status: 429,
			body: `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED",` +
				`"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests"}]},` +
				`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"27s"}]}}`,
			want: llm.Error{Status: 429, Type: "rate_limit_error", Code: "RESOURCE_EXHAUSTED", Message: "You exceeded your current quota, please check your plan and billing details."},
		},
		{
			name:   "internal",
			status: 500,
			body:   `{"error":{"code":500,"message":"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}`,
			want:   llm.Error{Status: 500, Type: "server_error", Code: "INTERNAL", Message: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"},
		},
		{
			name:   "overloaded",
			status: 503,
			body:   `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			want:   llm.Error{Status: 503, Type: "server_error", Code: "UNAVAILABLE", Message: "The model is overloaded. Please try again later."},
		},
		{
			name:   "deadline exceeded",
			status: 504,
			body:   `{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`,
			want:   llm.Error{Status: 504, Type: "server_error", Code: "DEADLINE_EXCEEDED", Message: "Deadline expired before operation could complete."},
		},
		{
			name:   "error in an array",
			status: 400,
			body:   `[{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}]`,
			want:   llm.Error{Status: 400, Type: "invalid_request_error", Code: "INVALID_ARGUMENT", Message: "Invalid JSON payload received."},
		},
		{
			name:   "unknown status uses the HTTP status",
			status: 418,
			body:   `{"error":{"code":418,"message":"teapot","status":"SOMETHING_NEW"}}`,
			want:   llm.Error{Status: 418, Type: "invalid_request_error", Code: "SOMETHING_NEW", Message: "teapot"},
		},
		{
			name:   "no HTTP status: taken from the body",
			status: 0,
			body:   `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`,
			want:   llm.Error{Status: 429, Type: "rate_limit_error", Code: "RESOURCE_EXHAUSTED", Message: "slow down"},
		},
		{
			name:   "no usable code: from the canonical status",
			status: 200,
			body:   `{"error":{"message":"overloaded","status":"UNAVAILABLE"}}`,
			want:   llm.Error{Status: 503, Type: "server_error", Code: "UNAVAILABLE", Message: "overloaded"},
		},
		{
			name:   "empty message",
			status: 500,
			body:   `{"error":{"code":500,"status":"INTERNAL"}}`,
			want:   llm.Error{Status: 500, Type: "server_error", Code: "INTERNAL", Message: "gemini upstream answered 500 Internal Server Error"},
		},
		{
			name:   "HTML from a proxy",
			status: 502,
			body:   `<html><body>Bad Gateway</body></html>`,
			want:   llm.Error{Status: 502, Type: "server_error", Message: "gemini upstream answered 502 Bad Gateway"},
		},
		{
			name:   "empty body",
			status: 429,
			body:   ``,
			want:   llm.Error{Status: 429, Type: "rate_limit_error", Message: "gemini upstream answered 429 Too Many Requests"},
		},
		{
			name:   "JSON without an error object",
			status: 404,
			body:   `{"message":"no"}`,
			want:   llm.Error{Status: 404, Type: "not_found_error", Message: "gemini upstream answered 404 Not Found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Codec{}.DecodeError(tt.status, []byte(tt.body))
			if got == nil || *got != tt.want {
				t.Errorf("DecodeError(%d) = %+v\nwant %+v", tt.status, got, tt.want)
			}
		})
	}
}
