package bedrock

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/provider"
)

const (
	testAKID   = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "FQoGZXIvYXdzEXAMPLETOKEN=="
)

var signTime = time.Date(2026, 11, 27, 12, 34, 56, 0, time.UTC)

// authRE is the shape of a SigV4 Authorization header for Bedrock.
var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/bedrock/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

func headerMap(hs []provider.Header) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}

func TestSign(t *testing.T) {
	a := Adapter{}
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}`)
	tests := []struct {
		name       string
		url, key   string
		wantRegion string
		wantToken  string
		wantAccept string
		wantSigned string
	}{
		{
			name: "converse", url: a.URL(a.DefaultBaseURL(), provider.Chat, "anthropic.claude-3-haiku-20240307-v1:0", false),
			key: testAKID + ":" + testSecret, wantRegion: "us-east-1",
			wantSigned: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
		},
		{
			name: "converse-stream with session token", url: a.URL("https://bedrock-runtime.eu-west-1.amazonaws.com", provider.Chat, "amazon.nova-lite-v1:0", true),
			key: testAKID + ":" + testSecret + ":" + testToken, wantRegion: "eu-west-1", wantToken: testToken,
			wantAccept: eventStreamType,
			wantSigned: "accept;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
		},
		{
			name: "invoke for embeddings", url: a.URL("https://bedrock-runtime.eu-central-1.amazonaws.com", provider.Embeddings, "cohere.embed-v4:0", false),
			key: testAKID + ":" + testSecret, wantRegion: "eu-central-1",
			wantSigned: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
		},
		{
			name: "VPC endpoint", url: "https://vpce-0abc-xyz.bedrock-runtime.ap-southeast-2.vpce.amazonaws.com/model/m/converse",
			key: testAKID + ":" + testSecret, wantRegion: "ap-southeast-2",
			wantSigned: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := a.Sign("POST", tt.url, body, tt.key, signTime)
			if err != nil {
				t.Fatal(err)
			}
			h := headerMap(hs)
			m := authRE.FindStringSubmatch(h["Authorization"])
			if m == nil {
				t.Fatalf("Authorization %q has not the SigV4 shape", h["Authorization"])
			}
			if m[1] != testAKID || m[2] != "20261127" || m[3] != tt.wantRegion || m[4] != tt.wantSigned {
				t.Errorf("credential scope/signed headers = %v, want %s/20261127/%s, %s", m[1:5], testAKID, tt.wantRegion, tt.wantSigned)
			}
			if h["X-Amz-Date"] != "20261127T123456Z" || h["Content-Type"] != "application/json" ||
				h["X-Amz-Security-Token"] != tt.wantToken || h["Accept"] != tt.wantAccept || len(h["X-Amz-Content-Sha256"]) != 64 {
				t.Errorf("headers = %v", h)
			}
			// Signing is deterministic: the same request at the same time
			// gives the same signature.
			again, _ := a.Sign("POST", tt.url, body, tt.key, signTime)
			if headerMap(again)["Authorization"] != h["Authorization"] {
				t.Error("signature is not stable")
			}
			// And it covers the body.
			other, _ := a.Sign("POST", tt.url, append(body, ' '), tt.key, signTime)
			if headerMap(other)["Authorization"] == h["Authorization"] {
				t.Error("signature does not depend on the body")
			}
		})
	}
}

// A corrected secret for the same access key id must sign with the new
// secret at once: the AWS signer caches derived keys by access key id, and
// a shared signer would go on using the old secret's key all day.
func TestSignUsesTheCurrentSecret(t *testing.T) {
	a := Adapter{}
	url := a.URL(a.DefaultBaseURL(), provider.Chat, "amazon.nova-lite-v1:0", false)
	body := []byte(`{}`)
	sign := func(secret string) string {
		hs, err := a.Sign("POST", url, body, testAKID+":"+secret, signTime)
		if err != nil {
			t.Fatal(err)
		}
		return headerMap(hs)["Authorization"]
	}
	wrong, right := sign("wrong-secret"), sign(testSecret)
	if wrong == right {
		t.Fatal("a second secret for the same access key id signed like the first")
	}
	if sign(testSecret) != right {
		t.Error("signing with the same secret twice differs")
	}
}

func TestSignMalformedKey(t *testing.T) {
	for _, key := range []string{"", "AKIDONLY", ":" + testSecret, testAKID + ":", testAKID + ":" + testSecret + ":"} {
		_, err := Adapter{}.Sign("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse", nil, key, signTime)
		if err == nil {
			t.Errorf("key %q: no error", key)
			continue
		}
		if strings.Contains(err.Error(), testSecret) || (key != "" && strings.Contains(err.Error(), key)) {
			t.Errorf("error %q leaks the key", err)
		}
	}
}

func TestURL(t *testing.T) {
	a := Adapter{}
	tests := []struct {
		name, model string
		stream      bool
		want        string
	}{
		{"converse", "anthropic.claude-3-haiku-20240307-v1:0", false, "https://b/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"},
		{"stream", "us.amazon.nova-pro-v1:0", true, "https://b/model/us.amazon.nova-pro-v1%3A0/converse-stream"},
		{"ARN is one segment", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x", false, "https://b/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fx/converse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.URL("https://b", provider.Chat, tt.model, tt.stream); got != tt.want {
				t.Errorf("URL = %s, want %s", got, tt.want)
			}
		})
	}
	if got := a.URL("https://b", provider.Embeddings, "amazon.titan-embed-text-v2:0", true); got != "https://b/model/amazon.titan-embed-text-v2%3A0/invoke" {
		t.Errorf("embeddings URL = %s", got)
	}
	if !a.Supports(provider.Embeddings) || !a.Supports(provider.Chat) || a.Supports(provider.Responses) || a.Credentials("k") != nil {
		t.Error("Supports/Credentials")
	}
	if got, ok := provider.Lookup(Type); !ok || got != (Adapter{}) {
		t.Error("adapter not registered")
	}
}
