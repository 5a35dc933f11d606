package anthropic

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
		{name: "invalid request", status: 400,
			body: `{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate between \"user\" and \"assistant\""},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`,
			want: llm.Error{Status: 400, Type: "invalid_request_error", Code: "invalid_request_error", Message: `messages: roles must alternate between "user" and "assistant"`}},
		{name: "authentication", status: 401,
			body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			want: llm.Error{Status: 401, Type: "authentication_error", Code: "authentication_error", Message: "invalid x-api-key"}},
		{name: "billing", status: 402,
			body: `{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}`,
			want: llm.Error{Status: 402, Type: "insufficient_quota", Code: "billing_error", Message: "Your credit balance is too low"}},
		{name: "permission", status: 403,
			body: `{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}`,
			want: llm.Error{Status: 403, Type: "permission_error", Code: "permission_error", Message: "Your API key does not have permission to use the specified resource."}},
		{name: "not found", status: 404,
			body: `{"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}`,
			want: llm.Error{Status: 404, Type: "not_found_error", Code: "not_found_error", Message: "model: claude-nope"}},
		{name: "too large", status: 413,
			body: `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}`,
			want: llm.Error{Status: 413, Type: "request_too_large", Code: "request_too_large", Message: "Request exceeds the maximum allowed number of bytes."}},
		{name: "rate limit", status: 429,
			body: `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`,
			want: llm.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_error", Message: "Number of request tokens has exceeded your per-minute rate limit"}},
		{name: "api error", status: 500,
			body: `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`,
			want: llm.Error{Status: 500, Type: "server_error", Code: "api_error", Message: "Internal server error"}},
		{name: "timeout", status: 504,
			body: `{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}`,
			want: llm.Error{Status: 504, Type: "server_error", Code: "timeout_error", Message: "Request timed out"}},
		{name: "overloaded", status: 529,
			body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			want: llm.Error{Status: 529, Type: "server_error", Code: "overloaded_error", Message: "Overloaded"}},
		{name: "unknown type goes by status", status: 409,
			body: `{"type":"error","error":{"type":"conflict_error","message":"conflict"}}`,
			want: llm.Error{Status: 409, Type: "invalid_request_error", Code: "conflict_error", Message: "conflict"}},
		{name: "OpenAI-shaped body", status: 401,
			body: `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			want: llm.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_request_error", Message: "Incorrect API key provided"}},
		{name: "HTML from a proxy", status: 502,
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
			want: llm.Error{Status: 502, Type: "server_error", Message: "<html><body><h1>502 Bad Gateway</h1></body></html>"}},
		{name: "empty body", status: 503, body: "",
			want: llm.Error{Status: 503, Type: "server_error", Message: "Service Unavailable"}},
		{name: "error without message", status: 429, body: `{"type":"error","error":{"type":"rate_limit_error"}}`,
			want: llm.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_error", Message: "Too Many Requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Codec{}.DecodeError(tt.status, []byte(tt.body))
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		err  llm.Error
		want string
	}{
		{name: "anthropic code kept", err: llm.Error{Status: 529, Type: "server_error", Code: "overloaded_error", Message: "Overloaded"},
			want: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{name: "OpenAI invalid key is authentication", err: llm.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided"},
			want: `{"type":"error","error":{"type":"authentication_error","message":"Incorrect API key provided"}}`},
		{name: "bad request", err: llm.Error{Status: 400, Type: "invalid_request_error", Message: `messages.0.content: "<x>" & more`},
			want: `{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content: \"<x>\" & more"}}`},
		{name: "billing by status", err: llm.Error{Status: 402, Type: "insufficient_quota", Message: "pay up"},
			want: `{"type":"error","error":{"type":"billing_error","message":"pay up"}}`},
		{name: "OpenAI quota on 429 is a rate limit", err: llm.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota"},
			want: `{"type":"error","error":{"type":"rate_limit_error","message":"You exceeded your current quota"}}`},
		{name: "permission", err: llm.Error{Status: 403, Type: "permission_error", Message: "model not allowed for this key"},
			want: `{"type":"error","error":{"type":"permission_error","message":"model not allowed for this key"}}`},
		{name: "not found", err: llm.Error{Status: 404, Type: "not_found_error", Message: "no route"},
			want: `{"type":"error","error":{"type":"not_found_error","message":"no route"}}`},
		{name: "too large", err: llm.Error{Status: 413, Type: "request_too_large", Message: "body exceeds 32 MiB"},
			want: `{"type":"error","error":{"type":"request_too_large","message":"body exceeds 32 MiB"}}`},
		{name: "service unavailable", err: llm.Error{Status: 503, Type: "server_error", Code: "service_unavailable", Message: "no configuration"},
			want: `{"type":"error","error":{"type":"overloaded_error","message":"no configuration"}}`},
		{name: "gateway timeout", err: llm.Error{Status: 504, Type: "upstream_timeout", Message: "the upstream did not answer in 30s"},
			want: `{"type":"error","error":{"type":"timeout_error","message":"the upstream did not answer in 30s"}}`},
		{name: "bad gateway", err: llm.Error{Status: 502, Type: "upstream_error", Message: "bad gateway"},
			want: `{"type":"error","error":{"type":"api_error","message":"bad gateway"}}`},
		{name: "server error", err: llm.Error{Status: 500, Type: "server_error", Message: "internal error"},
			want: `{"type":"error","error":{"type":"api_error","message":"internal error"}}`},
		{name: "other 4xx", err: llm.Error{Status: 422, Type: "unprocessable", Message: "no"},
			want: `{"type":"error","error":{"type":"invalid_request_error","message":"no"}}`},
		{name: "type without status", err: llm.Error{Type: "rate_limit_error", Message: "slow down"},
			want: `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
		{name: "no message", err: llm.Error{Status: 500},
			want: `{"type":"error","error":{"type":"api_error","message":"Internal Server Error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Codec{}.EncodeError(&tt.err)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestErrorRoundTrip checks that an Anthropic error survives decoding and
// re-encoding for an Anthropic client unchanged.
func TestErrorRoundTrip(t *testing.T) {
	for typ, status := range anthropicStatus {
		t.Run(typ, func(t *testing.T) {
			body := `{"type":"error","error":{"type":"` + typ + `","message":"m"}}`
			e := Codec{}.DecodeError(status, []byte(body))
			if e.Status != status {
				t.Errorf("status %d, want %d", e.Status, status)
			}
			if got := string(Codec{}.EncodeError(e)); got != body {
				t.Errorf("got %s, want %s", got, body)
			}
		})
	}
}
