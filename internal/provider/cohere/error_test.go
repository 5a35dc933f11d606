package cohere

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
			name:   "bad request",
			status: 400,
			body:   `{"id":"0b5d2f8c-1a0e-4a4b-9a9b-2f3c1d7e8a90","message":"invalid request: message must be at least 1 token long or tool results must be specified."}`,
			want:   llm.Error{Status: 400, Type: "invalid_request_error", Message: "invalid request: message must be at least 1 token long or tool results must be specified."},
		},
		{
			name:   "too many tokens",
			status: 400,
			body:   `{"id":"1","message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt, or enabling prompt truncating."}`,
			want: llm.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded",
				Message: "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt, or enabling prompt truncating."},
		},
		{
			name:   "unprocessable",
			status: 422,
			body:   `{"id":"2","message":"No valid tool call or response generated"}`,
			want:   llm.Error{Status: 422, Type: "invalid_request_error", Message: "No valid tool call or response generated"},
		},
		{
			name:   "unauthorized",
			status: 401,
			body:   `{"id":"3","message":"invalid api token"}`,
			want:   llm.Error{Status: 401, Type: "authentication_error", Message: "invalid api token"},
		},
		{
			name:   "invalid token 498 answered as 401",
			status: 498,
			body:   `{"id":"4","message":"invalid api token"}`,
			want:   llm.Error{Status: 401, Type: "authentication_error", Message: "invalid api token"},
		},
		{
			name:   "payment required",
			status: 402,
			body:   `{"id":"5","message":"Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue"}`,
			want:   llm.Error{Status: 402, Type: "insufficient_quota", Message: "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue"},
		},
		{
			name:   "model not found",
			status: 404,
			body:   `{"id":"6","message":"model 'command-z' not found, make sure the correct model ID was used and that you have access to the model."}`,
			want:   llm.Error{Status: 404, Type: "not_found_error", Message: "model 'command-z' not found, make sure the correct model ID was used and that you have access to the model."},
		},
		{
			name:   "rate limited",
			status: 429,
			body:   `{"id":"7","message":"You are using a Trial key, which is limited to 10 API calls / minute."}`,
			want:   llm.Error{Status: 429, Type: "rate_limit_error", Message: "You are using a Trial key, which is limited to 10 API calls / minute."},
		},
		{
			name:   "request cancelled",
			status: 499,
			body:   `{"id":"8","message":"request cancelled"}`,
			want:   llm.Error{Status: 499, Type: "server_error", Message: "request cancelled"},
		},
		{
			name:   "internal",
			status: 500,
			body:   `{"id":"9","message":"internal server error, this has been reported to our developers"}`,
			want:   llm.Error{Status: 500, Type: "server_error", Message: "internal server error, this has been reported to our developers"},
		},
		{
			name:   "HTML from a proxy",
			status: 502,
			body:   `<html><body>Bad Gateway</body></html>`,
			want:   llm.Error{Status: 502, Type: "server_error", Message: "cohere upstream answered 502 Bad Gateway"},
		},
		{
			name:   "empty body",
			status: 429,
			body:   ``,
			want:   llm.Error{Status: 429, Type: "rate_limit_error", Message: "cohere upstream answered 429 Too Many Requests"},
		},
		{
			name:   "empty message",
			status: 503,
			body:   `{"id":"10","message":"  "}`,
			want:   llm.Error{Status: 503, Type: "server_error", Message: "cohere upstream answered 503 Service Unavailable"},
		},
		{
			name:   "no error status",
			status: 200,
			body:   `{"message":"odd"}`,
			want:   llm.Error{Status: 502, Type: "server_error", Message: "odd"},
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
