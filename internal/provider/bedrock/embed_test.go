package bedrock

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/codectest"
)

// TestEmbeddingsGolden encodes each testdata/embed/encode/*.request.json
// and compares the InvokeModel body with *.invoke.json, modelled on the
// request bodies the Bedrock user guide documents for Titan Text Embeddings
// and Cohere Embed, and decodes each testdata/embed/decode/*.invoke.json,
// modelled on the documented answers, and compares the neutral answer with
// *.neutral.json.
func TestEmbeddingsGolden(t *testing.T) {
	codectest.EmbeddingsGolden(t, Codec{}, ".invoke.json", *update)
}

func TestEncodeEmbeddingsRefuses(t *testing.T) {
	tests := []struct {
		name    string
		req     llm.EmbedRequest
		err     string
		dropped []string
	}{
		{name: "Titan, several inputs", req: llm.EmbedRequest{Model: "amazon.titan-embed-text-v2:0", Inputs: []string{"a", "b"}},
			err: "Titan embeds one input per request, and this one has 2"},
		{name: "Titan V1, dimensions", req: llm.EmbedRequest{Model: "amazon.titan-embed-text-v1", Inputs: []string{"a"}, Dimensions: 256},
			err: "has no dimensions setting"},
		{name: "Cohere, 97 inputs", req: llm.EmbedRequest{Model: "cohere.embed-multilingual-v3", Inputs: make([]string, 97)},
			err: "at most 96 inputs"},
		{name: "not an embedding model", req: llm.EmbedRequest{Model: "anthropic.claude-3-haiku-20240307-v1:0", Inputs: []string{"a"}},
			err: "is not an embedding model"},
		{name: "application inference profile", req: llm.EmbedRequest{Model: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", Inputs: []string{"a"}},
			err: "is not an embedding model"},
		{name: "ARN of a foundation model", req: llm.EmbedRequest{Model: "arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3", Inputs: []string{"a"}, User: "u"},
			dropped: []string{"user"}},
		{name: "Cohere, 96 inputs", req: llm.EmbedRequest{Model: "cohere.embed-v4:0", Inputs: make([]string, 96)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.EncodeEmbeddings(&tt.req)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(tt.req.Dropped, tt.dropped) {
					t.Errorf("Dropped = %q, want %q", tt.req.Dropped, tt.dropped)
				}
				return
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 400 || le.Type != "invalid_request_error" || !strings.Contains(le.Message, tt.err) {
				t.Fatalf("error = %v, want a 400 with %q", err, tt.err)
			}
		})
	}
}

func TestDecodeEmbeddingsErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":             `{"message":`,
		"neither shape":        `{"message":"ok"}`,
		"Titan, empty":         `{"embedding":[],"inputTextTokenCount":1}`,
		"Titan, by type empty": `{"embeddingsByType":{"binary":[1,0]}}`,
		"Cohere, empty vector": `{"embeddings":{"float":[[]]}}`,
		"Cohere, no floats":    `{"embeddings":{"int8":[[1]]}}`,
		"Cohere, null":         `{"embeddings":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			if resp, err := (Codec{}).DecodeEmbeddings([]byte(body)); err == nil || !strings.Contains(err.Error(), "decoding bedrock embeddings response") {
				t.Errorf("DecodeEmbeddings = %+v, %v; want an error", resp, err)
			}
		})
	}
}

// FuzzDecodeEmbeddings feeds arbitrary upstream bodies to DecodeEmbeddings:
// no panic, and what it accepts holds only non-empty, finite vectors and a
// usage that cannot be negative.
func FuzzDecodeEmbeddings(f *testing.F) {
	codectest.AddEmbeddingsSeeds(f, ".invoke.json")
	f.Add([]byte(`{"embedding":[1],"inputTextTokenCount":-1e300}`))
	f.Add([]byte(`{"embeddingsByType":{"float":[0.5]},"inputTextTokenCount":1e300}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := Codec{}.DecodeEmbeddings(body)
		if err != nil {
			return
		}
		if len(resp.Vectors) == 0 || resp.Usage.InputTokens < 0 {
			t.Fatalf("accepted %+v", resp)
		}
		for i, v := range resp.Vectors {
			if !llm.ValidVector(v) {
				t.Fatalf("vector %d = %v", i, v)
			}
		}
	})
}
