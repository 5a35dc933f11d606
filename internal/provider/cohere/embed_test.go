package cohere

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/codectest"
)

// TestEmbeddingsGolden encodes each testdata/embed/encode/*.request.json
// and compares the body with *.cohere.json, modelled on Cohere's v2 embed
// reference, and decodes each testdata/embed/decode/*.cohere.json, modelled
// on the answers Cohere documents, and compares the neutral answer with
// *.neutral.json.
func TestEmbeddingsGolden(t *testing.T) {
	codectest.EmbeddingsGolden(t, Codec{}, ".cohere.json", *update)
}

func TestEncodeEmbeddingsDrops(t *testing.T) {
	tests := []struct {
		name    string
		req     llm.EmbedRequest
		dropped []string
		err     string
	}{
		{name: "nothing to drop", req: llm.EmbedRequest{Model: "m", Inputs: []string{"a"}}},
		{name: "user", req: llm.EmbedRequest{Model: "m", Inputs: []string{"a"}, User: "u"}, dropped: []string{"user"}},
		{name: "96 inputs", req: llm.EmbedRequest{Model: "m", Inputs: make([]string, 96)}},
		{name: "97 inputs", req: llm.EmbedRequest{Model: "m", Inputs: make([]string, 97)}, err: "at most 96 inputs"},
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
	for name, body := range map[string]string{
		"not JSON":            `<html>`,
		"no embeddings":       `{"id":"x","texts":["a"]}`,
		"null embeddings":     `{"embeddings":null}`,
		"only int8":           `{"embeddings":{"int8":[[1,2]]}}`,
		"empty vector":        `{"embeddings":{"float":[[0.1],[]]}}`,
		"empty list":          `{"embeddings":[]}`,
		"strings for floats":  `{"embeddings":[["0.1"]]}`,
		"embeddings a string": `{"embeddings":"AAAA"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if resp, err := (Codec{}).DecodeEmbeddings([]byte(body)); err == nil || !strings.Contains(err.Error(), "decoding cohere embeddings response") {
				t.Errorf("DecodeEmbeddings = %+v, %v; want an error", resp, err)
			}
		})
	}
}

// FuzzDecodeEmbeddings feeds arbitrary upstream bodies to DecodeEmbeddings:
// no panic, and what it accepts holds only non-empty, finite vectors and a
// usage that cannot be negative.
func FuzzDecodeEmbeddings(f *testing.F) {
	codectest.AddEmbeddingsSeeds(f, ".cohere.json")
	f.Add([]byte(`{"embeddings":{"float":[[1]]},"meta":{"billed_units":{"input_tokens":-3}}}`))
	f.Add([]byte(`{"embeddings":[[1e39]],"meta":{"tokens":{"input_tokens":1e300}}}`))
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
