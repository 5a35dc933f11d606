package openai

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// FuzzDecodeEmbeddingsRequest feeds arbitrary client bodies to
// DecodeEmbeddingsRequest: it must never panic, must refuse with a 400
// invalid_request_error, and what it accepts must hold what the upstream
// encoders rely on — a model, 1 to 2048 non-empty inputs, a known encoding
// format — and answer with a valid body.
func FuzzDecodeEmbeddingsRequest(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "embeddings", "request", "*.json"))
	for _, s := range []string{
		`{"model":"m","input":[[1,2],[3]]}`,
		`{"model":"m","input":[1,"a"],"dimensions":-1}`,
		`{"model":"m","input":["a"],"dimensions":1e9,"encoding_format":"base64"}`,
		`{"model":"m","input":"x","model":7}`,
		`{"model":"","input":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Codec{}.DecodeEmbeddingsRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 400 || le.Type != "invalid_request_error" || le.Message == "" {
				t.Fatalf("error %T %v is not a 400 invalid_request_error", err, err)
			}
			return
		}
		if req.Model == "" || len(req.Inputs) == 0 || len(req.Inputs) > maxEmbeddingInputs || req.Dimensions < 0 {
			t.Fatalf("accepted %+v", req)
		}
		if req.EncodingFormat != encodingFloat && req.EncodingFormat != encodingBase64 {
			t.Fatalf("accepted encoding format %q", req.EncodingFormat)
		}
		resp := &llm.EmbedResponse{Model: req.Model}
		for _, in := range req.Inputs {
			if in == "" {
				t.Fatal("accepted an empty input")
			}
			resp.Vectors = append(resp.Vectors, []float32{float32(len(in))})
		}
		out, err := Codec{}.EncodeEmbeddingsResponse(resp, req.EncodingFormat)
		if err != nil || !json.Valid(out) {
			t.Fatalf("answer %s: %v", out, err)
		}
	})
}
