package openai

import (
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/openaispec"
)

// textVector derives a vector from a text, so that every input gets its
// own and a test can tell them apart and in order.
func textVector(text string, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		h := fnv.New32a()
		h.Write([]byte{byte(i)})
		h.Write([]byte(text))
		v[i] = float32(int32(h.Sum32())) / (1 << 31)
	}
	return v
}

// newEmbeddingsServer stands where the gateway does when an OpenAI SDK
// client asks a non-OpenAI upstream for embeddings: it decodes the request
// with the codec and answers through the codec with textVector of each
// input.
func newEmbeddingsServer(t *testing.T, spec *openaispec.Spec) *httptest.Server {
	c := Codec{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		req, err := c.DecodeEmbeddingsRequest(body)
		if err != nil {
			var le *llm.Error
			errors.As(err, &le)
			w.WriteHeader(le.Status)
			_, _ = w.Write(c.EncodeError(le))
			return
		}
		spec.Check(t, "CreateEmbeddingRequest", body)
		dims := req.Dimensions
		if dims == 0 {
			dims = 8
		}
		resp := &llm.EmbedResponse{Model: "upstream-" + req.Model, Usage: llm.Usage{InputTokens: int64(len(req.Inputs)), Present: true}}
		for _, in := range req.Inputs {
			resp.Vectors = append(resp.Vectors, textVector(in, dims))
		}
		out, err := c.EncodeEmbeddingsResponse(resp, req.EncodingFormat)
		if err != nil {
			t.Errorf("EncodeEmbeddingsResponse: %v", err)
		}
		if req.EncodingFormat == encodingFloat {
			spec.Check(t, "CreateEmbeddingResponse", out)
		}
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOpenAISDKEmbeddings drives the official Go SDK through the codec:
// what the SDK sends must decode, and what the codec answers — floats or
// base64 — must come out of the SDK as the same vectors, in input order.
func TestOpenAISDKEmbeddings(t *testing.T) {
	spec := openaispec.ForTest(t)
	client := sdkClient(newEmbeddingsServer(t, spec).URL)
	inputs := []string{"The quick brown fox", "jumped over", "the lazy dog"}
	tests := []struct {
		name   string
		params oai.EmbeddingNewParams
		inputs []string
		dims   int
	}{
		{name: "one string", inputs: inputs[:1], dims: 8, params: oai.EmbeddingNewParams{
			Model: "text-embedding-3-small", Input: oai.EmbeddingNewParamsInputUnion{OfString: oai.String(inputs[0])}}},
		{name: "several, float", inputs: inputs, dims: 8, params: oai.EmbeddingNewParams{
			Model: "text-embedding-3-small", Input: oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
			EncodingFormat: oai.EmbeddingNewParamsEncodingFormatFloat}},
		{name: "several, base64, dimensions", inputs: inputs, dims: 5, params: oai.EmbeddingNewParams{
			Model: "text-embedding-3-large", Input: oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
			EncodingFormat: oai.EmbeddingNewParamsEncodingFormatBase64, Dimensions: oai.Int(5), User: oai.String("user-1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Embeddings.New(ctx(t), tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != "upstream-"+tt.params.Model || resp.Usage.PromptTokens != int64(len(tt.inputs)) ||
				resp.Usage.TotalTokens != resp.Usage.PromptTokens || len(resp.Data) != len(tt.inputs) {
				t.Fatalf("response = %s", resp.RawJSON())
			}
			for i, d := range resp.Data {
				want := textVector(tt.inputs[i], tt.dims)
				if d.Index != int64(i) || len(d.Embedding) != len(want) {
					t.Fatalf("data[%d]: index %d, %d values, want %d", i, d.Index, len(d.Embedding), len(want))
				}
				for j, w := range want {
					// Floats travel as float32's shortest decimal form and
					// base64 as its bits: either reads back exactly.
					if float32(d.Embedding[j]) != w {
						t.Errorf("data[%d][%d] = %v, want %v", i, j, d.Embedding[j], w)
					}
				}
			}
		})
	}
	t.Run("token ids", func(t *testing.T) {
		_, err := client.Embeddings.New(ctx(t), oai.EmbeddingNewParams{
			Model: "text-embedding-3-small", Input: oai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1212, 318}}})
		var apiErr *oai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != llm.ErrTokenInput.Code {
			t.Fatalf("error = %v, want a 400 %s", err, llm.ErrTokenInput.Code)
		}
	})
}
