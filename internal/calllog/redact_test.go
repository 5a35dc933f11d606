package calllog

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// Test keys are assembled at run time so that the source holds no string a
// secret scanner would flag.
var (
	testOpenAIKey    = "sk-" + "proj-" + strings.Repeat("Ab1", 16)
	testAnthropicKey = "sk-" + "ant-api03-" + strings.Repeat("xY9_", 20)
	testHGKey        = "hg-" + strings.Repeat("a1B", 14) + "z"  // 43 base62 characters
	testHGAdmin      = "hga-" + strings.Repeat("Q7w", 14) + "k" // 43 base62 characters
	testAWSKey       = "AKIA" + "IOSFODNN7EXAMPLE"
	testGoogleKey    = "AIza" + strings.Repeat("Sy-9_", 7)
	testGitHubToken  = "ghp_" + strings.Repeat("R2d", 12)
	testGitHubPAT    = "github_pat_" + strings.Repeat("11AB_", 10)
	testSlackToken   = "xoxb-" + "1234567890-abcdefABCDEF"
	testJWT          = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		secrets []string
		want    string
	}{
		{"empty", "", nil, ""},
		{"ordinary words", "the quick brown fox asks for a token limit", nil, "the quick brown fox asks for a token limit"},
		{"uuid", `{"id":"550e8400-e29b-41d4-a716-446655440000"}`, nil, `{"id":"550e8400-e29b-41d4-a716-446655440000"}`},
		{"sha256 hex", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil,
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"short sk word", "we use sk-learn and scikit", nil, "we use sk-learn and scikit"},
		{"sk inside a word", "task-force-alpha-bravo-charlie-delta", nil, "task-force-alpha-bravo-charlie-delta"},
		{"model names", `{"model":"gpt-4o-mini","fallback":"claude-3-5-sonnet-20241022"}`, nil,
			`{"model":"gpt-4o-mini","fallback":"claude-3-5-sonnet-20241022"}`},
		{"token counts", `{"max_tokens":100,"usage":{"prompt_tokens":12,"total_tokens":20},"token_type":"bearer"}`, nil,
			`{"max_tokens":100,"usage":{"prompt_tokens":12,"total_tokens":20},"token_type":"bearer"}`},
		{"prose after bearer", "Bearer authentication is described in RFC 6750; a basic idea.", nil,
			"Bearer authentication is described in RFC 6750; a basic idea."},
		{"short hg", "hg-short and hga-alsoshort", nil, "hg-short and hga-alsoshort"},
		{"plain field named key", `{"key":"value","monkey":"banana"}`, nil, `{"key":"value","monkey":"banana"}`},

		{"openai key", "key is " + testOpenAIKey + ".", nil, "key is [REDACTED]."},
		{"anthropic key", `{"content":"` + testAnthropicKey + `"}`, nil, `{"content":"[REDACTED]"}`},
		{"hypergate key", "use " + testHGKey + " now", nil, "use [REDACTED] now"},
		{"hypergate admin token", "token: " + testHGAdmin, nil, "token: [REDACTED]"},
		{"hypergate key cut by the cap", "use " + testHGKey[:30] + "…[truncated 9 bytes]", nil, "use [REDACTED]…[truncated 9 bytes]"},
		{"aws key id", "id=" + testAWSKey + " region", nil, "id=[REDACTED] region"},
		{"google key", "https://x.example/v1?q=1&k=" + testGoogleKey, nil, "https://x.example/v1?q=1&k=[REDACTED]"},
		{"github token", testGitHubToken, nil, "[REDACTED]"},
		{"github pat", "pat " + testGitHubPAT, nil, "pat [REDACTED]"},
		{"slack token", "slack " + testSlackToken, nil, "slack [REDACTED]"},
		{"bearer", "Authorization: Bearer abc123.def-456", nil, "Authorization: Bearer [REDACTED]"},
		{"basic all letters", "Authorization: Basic dXNlcjpwYXNz", nil, "Authorization: Basic [REDACTED]"},
		{"jwt", "session " + testJWT + " ok", nil, "session [REDACTED] ok"},
		{"pem private key", `"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"`, nil,
			`"-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----"`},

		{"json api_key", `{"api_key":"abc","n":1}`, nil, `{"api_key":"[REDACTED]","n":1}`},
		{"json apiKey camel", `{"apiKey": "abc"}`, nil, `{"apiKey": "[REDACTED]"}`},
		{"json header x-api-key", `{"X-Api-Key" : "abc"}`, nil, `{"X-Api-Key" : "[REDACTED]"}`},
		{"json password with escapes", `{"password":"p\"w\\d"}`, nil, `{"password":"[REDACTED]"}`},
		{"json numeric password", `{"Password": 123456}`, nil, `{"Password": "[REDACTED]"}`},
		{"json empty password kept", `{"password":""}`, nil, `{"password":""}`},
		{"json access and refresh token", `{"access_token":"a.b","refresh_token":"c"}`, nil,
			`{"access_token":"[REDACTED]","refresh_token":"[REDACTED]"}`},
		{"json client_secret and secret", `{"client_secret":"x","SECRET":"y"}`, nil,
			`{"client_secret":"[REDACTED]","SECRET":"[REDACTED]"}`},
		{"json authorization", `{"authorization":"Token abc"}`, nil, `{"authorization":"[REDACTED]"}`},
		{"json in a json string", `{"arguments":"{\"password\": \"hunter2\", \"user\": \"bob\"}"}`, nil,
			`{"arguments":"{\"password\": \"[REDACTED]\", \"user\": \"bob\"}"}`},
		{"json password cut by the cap", `{"password":"hunter2hunt…[truncated 9 bytes]`, nil, `{"password":"[REDACTED]`},
		{"json in a json string with an escaped quote", `{"a":"{\"token\":\"x\\\"y\",\"n\":1}"}`, nil,
			`{"a":"{\"token\":\"[REDACTED]\",\"n\":1}"}`},
		{"json name that only contains a secret word", `{"tokenizer":"cl100k","secretary":"Ann"}`, nil,
			`{"tokenizer":"cl100k","secretary":"Ann"}`},
		{"aws-like run too long", "AKIAIOSFODNN7EXAMPLEXYZ", nil, "AKIAIOSFODNN7EXAMPLEXYZ"},
		{"query parameter in a json string", `{"url":"https://x.example/cb?a=1\u0026token=abc"}`, nil,
			`{"url":"https://x.example/cb?a=1\u0026token=[REDACTED]"}`},
		{"query parameter", "GET /cb?code=1&access_token=abc&state=2", nil, "GET /cb?code=1&access_token=[REDACTED]&state=2"},

		{"configured secret", "upstream said: my-provider-secret-1 is invalid", []string{"my-provider-secret-1"},
			"upstream said: [REDACTED] is invalid"},
		{"configured secret json escaped", `{"m":"key a/b\"c<d>e is bad"}`, []string{`a/b"c<d>e`},
			`{"m":"key [REDACTED] is bad"}`},
		{"configured secret containing another", "xx longsecret-value-2 yy", []string{"secret-v", "longsecret-value-2"},
			"xx [REDACTED] yy"},
		{"many configured secrets", "a secret-number-17 b", manySecrets(20), "a [REDACTED] b"},
		{"short configured secret ignored", "the word cat stays", []string{"cat"}, "the word cat stays"},
		{"secret inside the marker ignored", "REDACTED stays", []string{"REDACTED"}, "REDACTED stays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.body, tt.secrets)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.body, got, tt.want)
			}
			if again := Redact(got, tt.secrets); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func manySecrets(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("secret-number-%d", i)
	}
	return out
}

func TestCap(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"zero limit", "hello", 0, ""},
		{"negative limit", "hello", -1, ""},
		{"empty", "", 10, ""},
		{"fits", "hello", 5, "hello"},
		{"cut ascii", "hello world", 5, "hello…[truncated 6 bytes]"},
		{"cut inside a rune", "aé", 2, "a…[truncated 2 bytes]"},          // é is 2 bytes
		{"cut inside a 4-byte rune", "ab😀", 4, "ab…[truncated 4 bytes]"}, // 😀 is 4 bytes
		{"cut after a rune", "é!", 2, "é…[truncated 1 bytes]"},
		{"invalid utf-8 made valid", "a\xffb", 10, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cap([]byte(tt.in), tt.limit)
			if got != tt.want {
				t.Errorf("Cap(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Cap(%q, %d) = %q is not valid UTF-8", tt.in, tt.limit, got)
			}
		})
	}
}

func FuzzRedact(f *testing.F) {
	f.Add(`{"api_key":"abc","content":"`+testOpenAIKey+`"}`, "my-secret-value")
	f.Add("Bearer "+testJWT, testJWT)
	f.Add("]]]]]]]]]]]]]]]]]]", "]]]]]]]]")
	f.Add("[REDACTED][REDACTED]", "D][REDAC")
	f.Add(`{\"password\": \"x\"}`, `\"x\"}`)
	f.Add("xx ED]aaaaaaaaaaaa", "ED]aaaaa")
	f.Fuzz(func(t *testing.T, body, secret string) {
		secrets := []string{secret}
		out := Redact(body, secrets)
		if len(secret) >= minSecretLen && !strings.Contains(redactedMarker, secret) && strings.Contains(out, secret) {
			t.Fatalf("output %q still contains secret %q", out, secret)
		}
		if again := Redact(out, secrets); again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}

func FuzzCap(f *testing.F) {
	f.Add([]byte("héllo wörld"), 3)
	f.Add([]byte{0xff, 0xfe, 'a'}, 2)
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		got := Cap(b, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("Cap(%q, %d) = %q: invalid UTF-8", b, limit, got)
		}
		if limit <= 0 && got != "" {
			t.Fatalf("Cap(%q, %d) = %q, want empty", b, limit, got)
		}
		if limit > 0 && len(b) <= limit && utf8.Valid(b) && got != string(b) {
			t.Fatalf("Cap(%q, %d) = %q, want the input", b, limit, got)
		}
	})
}

func BenchmarkRedact(b *testing.B) {
	clean := strings.Repeat(`{"role":"user","content":"Summarise the quarterly report for the board, keeping it short."},`, 100)
	dirty := clean + `{"api_key":"abc","content":"` + testOpenAIKey + `"}`
	secrets := []string{"provider-secret-one", "provider-secret-two"}
	for _, bc := range []struct {
		name string
		body string
	}{{"clean-8KiB", clean}, {"with-secrets-8KiB", dirty}} {
		b.Run(bc.name, func(b *testing.B) {
			set := newSecretSet(secrets)
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				set.redact(bc.body)
			}
		})
	}
}
