package geminifake_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/gemini"
	"github.com/hypergate/hypergate/internal/provider/gemini/geminifake"
)

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot / norm(a) / norm(b)
}

// The fake's vectors are real functions of the text: unit length, equal
// for equal texts, closer for texts that share words.
func TestEmbedding(t *testing.T) {
	a := geminifake.Embedding("The quick brown fox")
	if len(a) != geminifake.EmbeddingDimensions || math.Abs(norm(a)-1) > 1e-6 {
		t.Fatalf("%d values of length %v", len(a), norm(a))
	}
	if b := geminifake.Embedding("The quick brown fox"); !slices.Equal(a, b) {
		t.Error("equal texts give different vectors")
	}
	near, far := cosine(a, geminifake.Embedding("the quick brown dog")), cosine(a, geminifake.Embedding("Quarterly revenue grew"))
	if near <= far || near < 0.5 {
		t.Errorf("cosine with a close text %.3f, with an unrelated one %.3f", near, far)
	}
}

// The fake's batchEmbedContents answers are read with the gateway's codec,
// whose golden files follow Google's documentation.
func TestBatchEmbedContents(t *testing.T) {
	s := geminifake.New(geminifake.Options{APIKey: key})
	defer s.Close()
	codec := gemini.Codec{}
	texts := []string{"What is the meaning of life?", "How does the brain work?"}
	body, err := codec.EncodeEmbeddings(&llm.EmbedRequest{Model: "gemini-embedding-001", Inputs: texts, Dimensions: 64})
	if err != nil {
		t.Fatal(err)
	}
	status, _, raw := post(t, s, "gemini-embedding-001", "batchEmbedContents", key, string(body))
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	if strings.Contains(string(raw), "usage") {
		t.Errorf("Gemini reports no embedding usage, the fake did: %s", raw)
	}
	// The raw values are the full vector cut short, not normalised again.
	var wire struct {
		Embeddings []struct {
			Values []float32 `json:"values"`
		} `json:"embeddings"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil || len(wire.Embeddings) != 2 {
		t.Fatalf("answer %s: %v", raw, err)
	}
	if got, want := wire.Embeddings[1].Values, geminifake.Embedding(texts[1])[:64]; !slices.Equal(got, want) || math.Abs(norm(got)-1) < 1e-3 {
		t.Errorf("values %v (length %v), want the full vector's first 64 %v", got, norm(got), want)
	}
	resp, err := codec.DecodeEmbeddings(raw)
	if err != nil || len(resp.Vectors) != 2 {
		t.Fatalf("DecodeEmbeddings = %+v, %v", resp, err)
	}
	for i, v := range resp.Vectors {
		want := geminifake.Embedding(texts[i])[:64]
		if len(v) != 64 || cosine(v, want) < 0.999999 {
			t.Errorf("vector %d: %d values, cosine %v with the fake's", i, len(v), cosine(v, want))
		}
	}
	if got := s.Requests(); len(got) != 1 || !strings.HasSuffix(got[0].Path, ":batchEmbedContents") {
		t.Errorf("requests = %+v", got)
	}
}

func TestBatchEmbedContentsErrors(t *testing.T) {
	s := geminifake.New(geminifake.Options{APIKey: key})
	defer s.Close()
	one := `{"requests":[{"model":"models/%s","content":{"parts":[{"text":"hi"}]}}]}`
	item := `{"model":"models/m","content":{"parts":[{"text":"hi"}]}}`
	tests := []struct {
		name, model, body, key string
		status                 int
		code, msg              string
	}{
		{name: "no key", model: "m", body: strings.ReplaceAll(one, "%s", "m"), status: 403, code: "PERMISSION_DENIED"},
		{name: "wrong key", model: "m", body: strings.ReplaceAll(one, "%s", "m"), key: "AIza-wrong", status: 401, code: "API_KEY_INVALID"},
		{name: "model mismatch", model: "m", body: strings.ReplaceAll(one, "%s", "other"), key: key, status: 400, msg: "must match"},
		{name: "empty text", model: "m", body: `{"requests":[{"model":"models/m","content":{"parts":[{"text":""}]}}]}`, key: key, status: 400, msg: "must not be empty"},
		{name: "no requests", model: "m", body: `{"requests":[]}`, key: key, status: 400, msg: "not specified"},
		{name: "too many", model: "m", body: `{"requests":[` + strings.Repeat(item+",", 100) + item + `]}`,
			key: key, status: 400, msg: "at most 100 requests"},
		{name: "steered 429", model: "error-429", body: strings.ReplaceAll(one, "%s", "error-429"), key: key, status: 429, code: "RESOURCE_EXHAUSTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, raw := post(t, s, tt.model, "batchEmbedContents", tt.key, tt.body)
			e := gemini.Codec{}.DecodeError(status, raw)
			if e.Status != tt.status || (tt.code != "" && e.Code != tt.code) || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("HTTP %d %s → %+v", status, raw, e)
			}
		})
	}
}
