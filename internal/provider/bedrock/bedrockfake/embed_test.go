package bedrockfake_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
	"github.com/hypergate/hypergate/internal/provider/bedrock"
	"github.com/hypergate/hypergate/internal/provider/bedrock/bedrockfake"
)

const (
	akid   = "AKIDEMBEDTEST"
	secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEMBEDKEY"
)

// invoke does what the gateway does — URL, sign, send — for body, signed
// as signed (the same body unless a test tampers with it) with key.
func invoke(t *testing.T, s *bedrockfake.EmbedServer, model, key string, signed, body []byte) (int, http.Header, []byte) {
	t.Helper()
	a := bedrock.Adapter{}
	url := a.URL(s.BaseURL(), provider.Embeddings, model, false)
	hs, err := a.Sign("POST", url, signed, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	for _, h := range hs {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// The fake's answers are read with the gateway's Bedrock codec, whose
// golden files follow the bodies the Bedrock user guide documents.
func TestEmbedAnswers(t *testing.T) {
	s := bedrockfake.NewEmbed(bedrockfake.EmbedOptions{AccessKeyID: akid, SecretAccessKey: secret})
	defer s.Close()
	codec := bedrock.Codec{}
	key := akid + ":" + secret
	tests := []struct {
		name   string
		req    llm.EmbedRequest
		dims   int
		tokens bool // Titan reports a token count
	}{
		{name: "titan v2, dimensions", req: llm.EmbedRequest{Model: "amazon.titan-embed-text-v2:0", Inputs: []string{"What services do you offer?"}, Dimensions: 512}, dims: 512, tokens: true},
		{name: "titan v2, default", req: llm.EmbedRequest{Model: "amazon.titan-embed-text-v2:0", Inputs: []string{"hello"}}, dims: 1024, tokens: true},
		{name: "titan v1", req: llm.EmbedRequest{Model: "amazon.titan-embed-text-v1", Inputs: []string{"hello, world"}}, dims: 1536, tokens: true},
		{name: "cohere v3, several", req: llm.EmbedRequest{Model: "cohere.embed-english-v3", Inputs: []string{"hello world", "this is a test"}}, dims: 1024},
		{name: "cohere v4, cross-region, dimensions", req: llm.EmbedRequest{Model: "us.cohere.embed-v4:0", Inputs: []string{"a", "b", "c"}, Dimensions: 256}, dims: 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := codec.EncodeEmbeddings(&tt.req)
			if err != nil {
				t.Fatal(err)
			}
			status, _, raw := invoke(t, s, tt.req.Model, key, body, body)
			if status != 200 {
				t.Fatalf("%d %s", status, raw)
			}
			resp, err := codec.DecodeEmbeddings(raw)
			if err != nil || len(resp.Vectors) != len(tt.req.Inputs) {
				t.Fatalf("DecodeEmbeddings = %+v, %v", resp, err)
			}
			for i, v := range resp.Vectors {
				if !slices.Equal(v, bedrockfake.Embedding(tt.req.Inputs[i], tt.dims)) {
					t.Errorf("vector %d (%d values) is not the fake's Embedding of %q", i, len(v), tt.req.Inputs[i])
				}
			}
			wantUsage := llm.Usage{}
			if tt.tokens {
				wantUsage = llm.Usage{InputTokens: int64(bedrockfake.Tokens(tt.req.Inputs[0])), Present: true}
			}
			if resp.Usage != wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, wantUsage)
			}
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	s := bedrockfake.NewEmbed(bedrockfake.EmbedOptions{AccessKeyID: akid, SecretAccessKey: secret})
	defer s.Close()
	key := akid + ":" + secret
	titan := []byte(`{"inputText":"hello"}`)
	tests := []struct {
		name, model, key string
		signed, body     []byte
		status           int
		exception, msg   string
		neutral          string // the codec's neutral type
	}{
		{name: "another access key", model: "amazon.titan-embed-text-v1", key: "AKIDOTHER:" + secret, signed: titan, body: titan,
			status: 403, exception: "UnrecognizedClientException", msg: "security token", neutral: "permission_error"},
		{name: "body swapped after signing", model: "amazon.titan-embed-text-v1", key: key, signed: titan, body: []byte(`{"inputText":"other"}`),
			status: 403, exception: "InvalidSignatureException", msg: "signature we calculated", neutral: "permission_error"},
		{name: "unknown model", model: "amazon.titan-embed-text-v9", key: key, signed: titan, body: titan,
			status: 400, exception: "ValidationException", msg: "model identifier is invalid", neutral: "invalid_request_error"},
		{name: "titan v1 has no dimensions", model: "amazon.titan-embed-text-v1", key: key,
			signed: []byte(`{"inputText":"x","dimensions":256}`), body: []byte(`{"inputText":"x","dimensions":256}`),
			status: 400, exception: "ValidationException", msg: "extraneous key [dimensions]", neutral: "invalid_request_error"},
		{name: "titan v2 dimension", model: "amazon.titan-embed-text-v2:0", key: key,
			signed: []byte(`{"inputText":"x","dimensions":300}`), body: []byte(`{"inputText":"x","dimensions":300}`),
			status: 400, exception: "ValidationException", msg: "#/dimensions", neutral: "invalid_request_error"},
		{name: "cohere without input_type", model: "cohere.embed-english-v3", key: key,
			signed: []byte(`{"texts":["x"]}`), body: []byte(`{"texts":["x"]}`),
			status: 400, exception: "ValidationException", msg: "required key [input_type]", neutral: "invalid_request_error"},
		{name: "cohere v3 has no output_dimension", model: "cohere.embed-english-v3", key: key,
			signed: []byte(`{"texts":["x"],"input_type":"search_document","output_dimension":256}`),
			body:   []byte(`{"texts":["x"],"input_type":"search_document","output_dimension":256}`),
			status: 400, exception: "ValidationException", msg: "extraneous key [output_dimension]", neutral: "invalid_request_error"},
		{name: "steered 429", model: "cohere.embed-error-429", key: key, signed: titan, body: titan,
			status: 429, exception: "ThrottlingException", msg: "Too many requests", neutral: "rate_limit_error"},
		{name: "steered 500", model: "amazon.titan-embed-text-v2:0-error-500", key: key, signed: titan, body: titan,
			status: 500, exception: "InternalServerException", msg: "internal error", neutral: "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, raw := invoke(t, s, tt.model, tt.key, tt.signed, tt.body)
			e := bedrock.Codec{}.DecodeError(status, raw)
			if status != tt.status || h.Get("x-amzn-ErrorType") != tt.exception || e.Type != tt.neutral || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("%d %s %s → %+v", status, h.Get("x-amzn-ErrorType"), raw, e)
			}
		})
	}
	// A wrong secret is one the fake does not share. (Signing with a wrong
	// secret in this process instead would leave the bedrock package's
	// signer, whose cache of derived keys is keyed by access key id alone,
	// holding the wrong key for the other cases.)
	t.Run("wrong secret", func(t *testing.T) {
		other := bedrockfake.NewEmbed(bedrockfake.EmbedOptions{AccessKeyID: akid, SecretAccessKey: "another-secret"})
		defer other.Close()
		status, h, raw := invoke(t, other, "amazon.titan-embed-text-v1", key, titan, titan)
		if status != 403 || h.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
			t.Errorf("%d %s %s", status, h.Get("x-amzn-ErrorType"), raw)
		}
	})
}
