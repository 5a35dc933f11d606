package triage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"numbers and durations", "request failed after 30.5s with status 503",
			"request failed after <num>s with status <num>"},
		{"context length", "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.",
			"This model's maximum context length is <num> tokens. However, your messages resulted in <num> tokens."},
		{"url and email", "user bob@example.com not allowed, see https://docs.example.com/errors/42?x=1",
			"user <email> not allowed, see <url>"},
		{"uuid and date", "trace 550e8400-e29b-41d4-a716-446655440000 at 2026-03-14T09:26:53.589Z",
			"trace <uuid> at <date>"},
		{"ipv4 with port", "upstream 10.0.0.12:8443 refused", "upstream <ip> refused"},
		{"ipv6", "dial 2001:db8::8a2e:370:7334 and fe80:0:0:0:200:f8ff:fe21:67cf", "dial <ip> and <ip>"},
		{"time of day is numbers", "at 12:30:45", "at <num>:<num>:<num>"},
		{"0x hex", "pointer 0xDEADBEEF", "pointer <hex>"},
		{"bare hex id", "hash 3f2a9bc17e4d00aa", "hash <hex>"},
		{"prefixed hex id", "Request req_8f3a9c2b1d4e5f60 failed", "Request req_<hex> failed"},
		{"hex-looking word kept", "deadbeef facade", "deadbeef facade"},
		{"digits inside words kept", "sha256 of h2o", "sha256 of h2o"},
		{"signs and separators", "overflow -42 and +3.14 and 1,000,000", "overflow -<num> and +<num> and <num>"},
		{"white space", "   many    spaces\n\tand tabs  ", "many spaces and tabs"},
		{"empty", "", ""},
		{"invalid utf-8", "bad \xff byte 7", "bad \uFFFD byte <num>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeGroups checks the point of normalising: messages that
// differ only in their variable parts make one fingerprint.
func TestNormalizeGroups(t *testing.T) {
	key := func(msg string) string {
		return Key{Kind: KindFailure, Service: "s", Route: "0", StatusClass: ClassServerError, Message: Normalize(msg)}.Fingerprint()
	}
	a := key("request 8812 from 10.1.2.3 took 31s (id 550e8400-e29b-41d4-a716-446655440000)")
	b := key("request 9901 from 10.9.8.7 took 29s (id 6ba7b810-9dad-11d1-80b4-00c04fd430c8)")
	if a != b {
		t.Fatalf("fingerprints differ for messages that differ only in variable parts")
	}
	if c := key("quota exceeded for project 12"); c == a {
		t.Fatalf("different messages share a fingerprint")
	}
}

func TestFingerprintFields(t *testing.T) {
	base := Key{Kind: KindFailure, Service: "s", Route: "0", Provider: "p", Model: "m", StatusClass: ClassServerError,
		ErrorCode: "e", Message: "x"}
	tests := []struct {
		name string
		mod  func(*Key)
	}{
		{"kind", func(k *Key) { k.Kind = KindAnomaly }},
		{"service", func(k *Key) { k.Service = "t" }},
		{"route", func(k *Key) { k.Route = "1" }},
		{"endpoint", func(k *Key) { k.Endpoint = "/v1/embeddings" }},
		{"provider", func(k *Key) { k.Provider = "q" }},
		{"model", func(k *Key) { k.Model = "n" }},
		{"status class", func(k *Key) { k.StatusClass = ClassTimeout }},
		{"error code", func(k *Key) { k.ErrorCode = "f" }},
		{"message", func(k *Key) { k.Message = "y" }},
		{"flag", func(k *Key) { k.Flag = "refusal" }},
		{"finish reason", func(k *Key) { k.FinishReason = "length" }},
		{"score", func(k *Key) { k.Score = "helpful" }},
		// Fields must not run into each other.
		{"shifted boundary", func(k *Key) { k.Service, k.Route = "s0", "" }},
	}
	fp := base.Fingerprint()
	if len(fp) != 32 {
		t.Fatalf("fingerprint %q is not 32 hex digits", fp)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := base
			tt.mod(&k)
			if k.Fingerprint() == fp {
				t.Errorf("changing %s kept the fingerprint", tt.name)
			}
		})
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name string
		k    Key
		want string
	}{
		{"failure on a service", Key{Kind: KindFailure, Service: "orders", Route: "0", Model: "m", StatusClass: "5xx", ErrorCode: "upstream_503", Message: "busy"},
			"5xx upstream_503: busy on orders 0 (m)"},
		{"anomaly on an endpoint", Key{Kind: KindAnomaly, Endpoint: "/v1/chat/completions", Model: "m", Flag: "truncated", FinishReason: "length"},
			"flagged truncated (finish reason length) on /v1/chat/completions (m)"},
		{"feedback", Key{Kind: KindFeedback, Service: "bot", Score: "helpful"}, "negative feedback on helpful on bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.Title(); got != tt.want {
				t.Errorf("Title() = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzNormalize feeds Normalize untrusted error messages: whatever they
// hold, the result is valid UTF-8, bounded, without control characters
// or runs of white space, and normalising it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"request 8812 took 31s", "https://x.example/a?b=1 bob@example.com", "550e8400-e29b-41d4-a716-446655440000",
		"10.0.0.1:80 2001:db8::1", "0xff req_8f3a9c2b1d4e5f60", "2026-03-14T09:26:53Z", "\xff\xfe", strings.Repeat("9", 2000),
		strings.Repeat("a1:", 300), "::::::", "1.2.3.4.5.6", "a@b.cd@e.fg",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := Normalize(msg)
		if !utf8.ValidString(got) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", msg, got)
		}
		if len(got) > MaxMessageBytes {
			t.Fatalf("Normalize(%q) is %d bytes, more than %d", msg, len(got), MaxMessageBytes)
		}
		if strings.Join(strings.Fields(got), " ") != got {
			t.Fatalf("Normalize(%q) = %q: white space not collapsed", msg, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("Normalize is not stable: %q -> %q -> %q", msg, got, again)
		}
	})
}
