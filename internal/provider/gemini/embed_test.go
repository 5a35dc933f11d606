package gemini

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/codectest"
)

// TestEmbeddingsGolden encodes each testdata/embed/encode/*.request.json
// and compares the body with *.gemini.json, modelled on Google's
// batchEmbedContents example, and decodes each testdata/embed/decode/
// *.gemini.json and compares the neutral answer with *.neutral.json.
func TestEmbeddingsGolden(t *testing.T) {
	codectest.EmbeddingsGolden(t, Codec{}, ".gemini.json", *update, func(t *testing.T, resp *llm.EmbedResponse) {
		if resp.Usage.Present {
			t.Error("Gemini reports no usage: it must be left to estimate")
		}
	})
}

func TestEncodeEmbeddingsDrops(t *testing.T) {
	tests := []struct {
		name    string
		req     llm.EmbedRequest
		dropped []string
		err     string
	}{
		{name: "nothing to drop", req: llm.EmbedRequest{Model: "m", Inputs: []string{"a"}}},
		{name: "user", req: llm.EmbedRequest{Model: "m", Inputs: []string{"a"}, User: "u", Dropped: []string{"x"}}, dropped: []string{"x", "user"}},
		{name: "100 inputs", req: llm.EmbedRequest{Model: "m", Inputs: make([]string, 100)}},
		{name: "101 inputs", req: llm.EmbedRequest{Model: "m", Inputs: make([]string, 101)}, err: "at most 100 inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.EncodeEmbeddings(&tt.req)
			if tt.err != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Status != 400 || !strings.Contains(le.Message, tt.err) {
					t.Fatalf("error = %v, want a 400 with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.req.Dropped, tt.dropped) {
				t.Errorf("Dropped = %q, want %q", tt.req.Dropped, tt.dropped)
			}
		})
	}
}

func TestDecodeEmbeddingsErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       string
		wantStatus int // of an *llm.Error, 0 for a plain error
	}{
		{name: "not JSON", body: `<html>`, want: "decoding gemini embeddings response"},
		{name: "no embeddings", body: `{"embeddings":[]}`, want: "no embeddings"},
		{name: "empty values", body: `{"embeddings":[{"values":[0.1]},{"values":[]}]}`, want: "embedding 1 has no values"},
		{name: "string values", body: `{"embeddings":[{"values":["0.1"]}]}`, want: "decoding gemini embeddings response"},
		{name: "overflowing value", body: `{"embeddings":[{"values":[1e300]}]}`, want: "decoding gemini embeddings response"},
		{name: "error object", body: `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			want: "Resource has been exhausted", wantStatus: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.DecodeEmbeddings([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			var le *llm.Error
			if got := errors.As(err, &le); got != (tt.wantStatus != 0) || (got && le.Status != tt.wantStatus) {
				t.Errorf("error = %#v, want status %d", err, tt.wantStatus)
			}
		})
	}
}

// A vector Gemini truncated comes out with length 1; one that has it
// already comes out unchanged, bit for bit.
func TestDecodeEmbeddingsNormalizes(t *testing.T) {
	resp, err := Codec{}.DecodeEmbeddings([]byte(`{"embeddings":[{"values":[3,4]},{"values":[0.6,0.8]},{"values":[0,0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0.6, 0.8}, {0.6, 0.8}, {0, 0}}
	if !reflect.DeepEqual(resp.Vectors, want) {
		t.Errorf("vectors = %v, want %v", resp.Vectors, want)
	}
	for _, v := range resp.Vectors[:2] {
		if n := math.Hypot(float64(v[0]), float64(v[1])); math.Abs(n-1) > 1e-6 {
			t.Errorf("|%v| = %v", v, n)
		}
	}
}

// FuzzDecodeEmbeddings feeds arbitrary upstream bodies to DecodeEmbeddings:
// no panic, and what it accepts holds only non-empty, finite vectors.
func FuzzDecodeEmbeddings(f *testing.F) {
	codectest.AddEmbeddingsSeeds(f, ".gemini.json")
	f.Add([]byte(`{"embeddings":[{"values":[3.4e38,3.4e38]}]}`))
	f.Add([]byte(`{"error":{"code":0,"status":"UNKNOWN"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := Codec{}.DecodeEmbeddings(body)
		if err != nil {
			var le *llm.Error
			if errors.As(err, &le) && (le.Status < 400 || le.Status > 599 || le.Type == "" || le.Message == "") {
				t.Fatalf("unusable error %+v", le)
			}
			return
		}
		if len(resp.Vectors) == 0 || resp.Usage.Present {
			t.Fatalf("accepted %+v", resp)
		}
		for i, v := range resp.Vectors {
			if !llm.ValidVector(v) {
				t.Fatalf("vector %d = %v", i, v)
			}
		}
	})
}
