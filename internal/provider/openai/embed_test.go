package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/openaispec"
)

// embedInputs lists the files of one testdata/embeddings directory.
func embedInputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "embeddings", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/embeddings/%s: %v", dir, err)
	}
	out := make(map[string]string, len(files))
	for _, f := range files {
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = f
	}
	return out
}

// TestEmbeddingsRequestGolden decodes requests modelled on OpenAI's
// documented examples; the ones without unknown fields must also conform to
// OpenAI's CreateEmbeddingRequest schema, so that the decoder is known to
// take what OpenAI's own clients send.
func TestEmbeddingsRequestGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range embedInputs(t, "request") {
		t.Run(name, func(t *testing.T) {
			body := mustRead(t, path)
			req, err := Codec{}.DecodeEmbeddingsRequest(body)
			if err != nil {
				t.Fatalf("DecodeEmbeddingsRequest: %v", err)
			}
			if len(req.Dropped) == 0 {
				spec.Check(t, "CreateEmbeddingRequest", body)
			}
			golden(t, strings.TrimSuffix(path, ".json")+".golden", indent(t, req))
		})
	}
}

// TestEmbeddingsResponseGolden renders neutral answers as OpenAI's, checks
// float answers against OpenAI's CreateEmbeddingResponse schema, and reads
// base64 answers back the way OpenAI's SDKs do.
func TestEmbeddingsResponseGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range embedInputs(t, "response") {
		t.Run(name, func(t *testing.T) {
			var fx struct {
				EncodingFormat string            `json:"encoding_format"`
				Response       llm.EmbedResponse `json:"response"`
			}
			if err := json.Unmarshal(mustRead(t, path), &fx); err != nil {
				t.Fatal(err)
			}
			out, err := Codec{}.EncodeEmbeddingsResponse(&fx.Response, fx.EncodingFormat)
			if err != nil {
				t.Fatalf("EncodeEmbeddingsResponse: %v", err)
			}
			golden(t, strings.TrimSuffix(path, ".json")+".golden", append(out, '\n'))
			if fx.EncodingFormat == encodingBase64 {
				// OpenAI's schema describes only float arrays; a base64
				// answer is checked by decoding it.
				checkBase64(t, out, fx.Response.Vectors)
				return
			}
			spec.Check(t, "CreateEmbeddingResponse", out)
		})
	}
}

func checkBase64(t *testing.T, body []byte, want [][]float32) {
	t.Helper()
	var got struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Data) != len(want) {
		t.Fatalf("base64 answer %s: %v", body, err)
	}
	for i, d := range got.Data {
		raw, err := base64.StdEncoding.DecodeString(d.Embedding)
		if err != nil || len(raw) != 4*len(want[i]) {
			t.Fatalf("data[%d]: %d bytes, %v", i, len(raw), err)
		}
		for j, w := range want[i] {
			if g := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:])); g != w {
				t.Errorf("data[%d][%d] = %v, want %v", i, j, g, w)
			}
		}
	}
}

func TestDecodeEmbeddingsRequest(t *testing.T) {
	many := `"` + strings.Repeat(`x","`, maxEmbeddingInputs) + `x"`
	tests := []struct {
		name string
		body string
		want *llm.EmbedRequest
		err  string // a substring of the 400's message; "" for success
	}{
		{name: "nulls are absent", body: `{"model":"m","input":"x","dimensions":null,"user":null,"encoding_format":null,"other":null}`,
			want: &llm.EmbedRequest{Model: "m", Inputs: []string{"x"}, EncodingFormat: "float"}},
		{name: "dimensions as 1e2", body: `{"model":"m","input":["a","b"],"dimensions":1e2}`,
			want: &llm.EmbedRequest{Model: "m", Inputs: []string{"a", "b"}, Dimensions: 100, EncodingFormat: "float"}},
		{name: "2048 inputs", body: `{"model":"m","input":[` + strings.Repeat(`"x",`, maxEmbeddingInputs-1) + `"x"]}`,
			want: &llm.EmbedRequest{Model: "m", Inputs: strings.Split(strings.Repeat("x,", maxEmbeddingInputs-1)+"x", ","), EncodingFormat: "float"}},
		{name: "not JSON", body: `{"model":`, err: "not valid JSON"},
		{name: "not an object", body: `["x"]`, err: "must be a JSON object"},
		{name: "no model", body: `{"input":"x"}`, err: "missing required parameter: 'model'"},
		{name: "model not a string", body: `{"model":7,"input":"x"}`, err: "'model'"},
		{name: "no input", body: `{"model":"m"}`, err: "missing required parameter: 'input'"},
		{name: "empty string", body: `{"model":"m","input":""}`, err: "'input': must not be an empty string"},
		{name: "empty array", body: `{"model":"m","input":[]}`, err: "'input': must not be an empty array"},
		{name: "empty string in array", body: `{"model":"m","input":["a",""]}`, err: "'input[1]': must not be an empty string"},
		{name: "too many inputs", body: `{"model":"m","input":[` + many + `]}`, err: "at most 2048 inputs"},
		{name: "object input", body: `{"model":"m","input":{"text":"x"}}`, err: "expected a string or an array of strings, but got an object"},
		{name: "number input", body: `{"model":"m","input":3}`, err: "expected a string or an array of strings, but got a number"},
		{name: "strings then tokens", body: `{"model":"m","input":["a",1]}`, err: "'input[1]': expected a string"},
		{name: "tokens then strings", body: `{"model":"m","input":[1,"a"]}`, err: "'input[1]': expected a string"},
		{name: "negative token", body: `{"model":"m","input":[-1]}`, err: "'input[0]'"},
		{name: "zero dimensions", body: `{"model":"m","input":"x","dimensions":0}`, err: "'dimensions': expected a whole number of at least 1"},
		{name: "fractional dimensions", body: `{"model":"m","input":"x","dimensions":1.5}`, err: "'dimensions'"},
		{name: "huge dimensions", body: `{"model":"m","input":"x","dimensions":4294967296}`, err: "'dimensions'"},
		{name: "dimensions as a string", body: `{"model":"m","input":"x","dimensions":"256"}`, err: "'dimensions'"},
		{name: "unknown encoding format", body: `{"model":"m","input":"x","encoding_format":"int8"}`, err: `'encoding_format': expected 'float' or 'base64', but got "int8"`},
		{name: "user not a string", body: `{"model":"m","input":"x","user":{"id":1}}`, err: "'user'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Codec{}.DecodeEmbeddingsRequest([]byte(tt.body))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("DecodeEmbeddingsRequest: %v", err)
				}
				jsonEqual(t, "request", got, tt.want)
				return
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 400 || le.Type != typeInvalidRequest || !strings.Contains(le.Message, tt.err) {
				t.Fatalf("error = %v, want a 400 containing %q", err, tt.err)
			}
			if errors.Is(err, llm.ErrTokenInput) {
				t.Error("a malformed request must not read as token input")
			}
		})
	}
}

// Token ids are valid OpenAI input that no other family can take: the
// decoder says so with llm.ErrTokenInput, whatever the shape.
func TestDecodeEmbeddingsRequestTokenInput(t *testing.T) {
	for name, input := range map[string]string{
		"token ids":       `[1212, 318, 257, 1332, 13]`,
		"token id arrays": `[[1212, 318], [257, 1332, 13]]`,
		"empty id array":  `[[]]`,
		"ids as 1e2":      `[1e2]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Codec{}.DecodeEmbeddingsRequest([]byte(`{"model":"m","input":` + input + `}`))
			if !errors.Is(err, llm.ErrTokenInput) {
				t.Fatalf("error = %v, want llm.ErrTokenInput", err)
			}
		})
	}
}

func TestEncodeEmbeddingsResponseRefuses(t *testing.T) {
	tests := []struct {
		name   string
		resp   *llm.EmbedResponse
		format string
	}{
		{name: "no response", resp: nil, format: "float"},
		{name: "empty vector", resp: &llm.EmbedResponse{Vectors: [][]float32{{1}, {}}}, format: "float"},
		{name: "NaN", resp: &llm.EmbedResponse{Vectors: [][]float32{{float32(math.NaN())}}}, format: "base64"},
		{name: "unknown format", resp: &llm.EmbedResponse{Vectors: [][]float32{{1}}}, format: "int8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := (Codec{}).EncodeEmbeddingsResponse(tt.resp, tt.format); err == nil {
				t.Errorf("encoded %s, want an error", b)
			}
		})
	}
}
