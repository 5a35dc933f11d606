package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// seeds adds the files matching pattern under testdata to the corpus.
func seeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match %s: %v", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzStreamReader feeds arbitrary bytes to the stream reader: it must never
// panic, must end, and must return nothing but its final error once it has
// returned one. Whatever it yields must also be writable as an Anthropic
// stream.
func FuzzStreamReader(f *testing.F) {
	seeds(f, "stream/*.sse")
	f.Add([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":99999999999,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-1}}\n\ndata: {\"type\":\"error\"}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Codec{}.NewStreamReader(bytes.NewReader(data))
		w := Codec{}.NewStreamWriter(io.Discard, nil)
		var final error
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatalf("more events than input bytes")
			}
			ev, err := r.Next()
			if err != nil {
				final = err
				break
			}
			if err := w.Write(ev); err != nil {
				t.Fatalf("writing %+v: %v", ev, err)
			}
		}
		for range 3 {
			ev, err := r.Next()
			if err == nil || err.Error() != final.Error() {
				t.Fatalf("after %v, Next returned %+v, %v", final, ev, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bodies to DecodeRequest: it must never
// panic, every error must be a 400 *llm.Error, and every request it accepts
// must encode for an Anthropic upstream as valid JSON.
func FuzzDecodeRequest(f *testing.F) {
	seeds(f, "request/*.json")
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"data:x"}}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1e3,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"b","input":{"k":[1,{"z":null}]}}]}],"thinking":{"type":"adaptive"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Codec{}.DecodeRequest(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *llm.Error: %v", err, err)
			}
			if e.Status != 400 || e.Type != "invalid_request_error" || e.Message == "" {
				t.Fatalf("error %+v is not a 400 invalid_request_error with a message", e)
			}
			return
		}
		out, err := Codec{}.EncodeRequest(req)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("EncodeRequest of a decoded request: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("EncodeRequest wrote invalid JSON: %s", out)
		}
	})
}
