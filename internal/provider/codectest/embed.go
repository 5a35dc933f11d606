package codectest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// EmbeddingsGolden runs an upstream codec's embeddings golden tests. Each
// testdata/embed/encode/*.request.json (a neutral request) is encoded and
// the body compared with the *ext file beside it; each
// testdata/embed/decode/*ext (an upstream answer) is decoded and the neutral
// answer compared with *.neutral.json. checks run on every decoded answer,
// for what a family promises beyond its golden files.
func EmbeddingsGolden(t *testing.T, c llm.EmbeddingsCodec, ext string, update bool, checks ...func(*testing.T, *llm.EmbedResponse)) {
	t.Helper()
	encodeDir := filepath.Join("embed", "encode")
	for name, path := range Fixtures(t, encodeDir, ".request.json") {
		t.Run("encode/"+name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var r llm.EmbedRequest
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			body, err := c.EncodeEmbeddings(&r)
			if err != nil {
				t.Fatalf("EncodeEmbeddings: %v", err)
			}
			Golden(t, filepath.Join("testdata", encodeDir, name+ext), Indent(t, body), update)
		})
	}
	decodeDir := filepath.Join("embed", "decode")
	for name, path := range Fixtures(t, decodeDir, ext) {
		t.Run("decode/"+name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.DecodeEmbeddings(body)
			if err != nil {
				t.Fatalf("DecodeEmbeddings: %v", err)
			}
			for _, check := range checks {
				check(t, resp)
			}
			// As the codecs marshal: the golden files keep <, > and & as is.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(resp); err != nil {
				t.Fatal(err)
			}
			Golden(t, filepath.Join("testdata", decodeDir, name+".neutral.json"), Indent(t, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})), update)
		})
	}
}

// AddEmbeddingsSeeds adds every testdata/embed/decode/*ext upstream answer
// to the corpus of an embeddings decoding fuzzer.
func AddEmbeddingsSeeds(f *testing.F, ext string) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "embed", "decode", "*"+ext))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
