package openai

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
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

// FuzzDecodeRequest feeds arbitrary bodies to DecodeRequest: it must never
// panic, must refuse with a 400 invalid_request_error, and whatever it
// accepts must encode for an upstream and decode again.
func FuzzDecodeRequest(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "codec", "request", "*.json"))
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}]}`,
		`{"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":[]}],"tools":[{"function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"function":{"name":"f"}},{"function":{"name":"f"}}]}}}`,
		`{"model":"m","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","function":{"name":"f","arguments":""}}]}],"max_tokens":1e2}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[],"seed":-9223372036854775808}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"model":"n","messages":[{"role":"system","content":"s"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Codec{}.DecodeRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 400 || le.Type != "invalid_request_error" || le.Message == "" {
				t.Fatalf("error %T %v is not a 400 invalid_request_error", err, err)
			}
			return
		}
		enc, err := full.EncodeRequest(req)
		if err != nil {
			t.Fatalf("an accepted request does not encode: %v", err)
		}
		if len(req.Messages) == 0 && len(req.System) == 0 {
			return // e.g. one system message with no parts: nothing is left to send
		}
		if _, err := full.DecodeRequest(enc); err != nil {
			t.Fatalf("the encoded request does not decode: %v\n%s", err, enc)
		}
	})
}

// FuzzStreamReader feeds arbitrary bytes to the stream reader as an
// upstream's SSE body: it must never panic, must end with io.EOF or an
// *llm.Error, and its events must re-encode as a client stream that reads
// back to the end.
func FuzzStreamReader(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "codec", "stream", "*.sse"))
	for _, s := range []string{
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":2147483647,\"function\":{\"arguments\":\"x\"}}]}}]}\n\n",
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\"},{\"function\":{\"arguments\":{}}},{\"id\":\"b\",\"index\":-1}]},\"finish_reason\":\"function_call\"}]}\n\ndata: [DONE]\n\n",
		"data: {\"error\":{\"code\":503}}\n\n",
		"data: {\"usage\":{\"prompt_tokens\":\"7\"},\"choices\":[]}\r\n\r\ndata: [DONE]",
		": ping\n\nevent: x\ndata: {}\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := full.NewStreamReader(bytes.NewReader(body))
		var evs []llm.StreamEvent
		var end error
		for range len(body) + 16 {
			ev, err := r.Next()
			if err != nil {
				end = err
				break
			}
			evs = append(evs, ev)
		}
		if end == nil {
			t.Fatalf("the reader produced more events than the body has bytes")
		}
		var le *llm.Error
		if !errors.Is(end, io.EOF) && !errors.As(end, &le) {
			t.Fatalf("the stream ended with %T %v", end, end)
		}
		if _, err := r.Next(); !errors.Is(err, end) {
			t.Fatalf("the end is not sticky: %v then %v", end, err)
		}

		var out bytes.Buffer
		w := full.NewStreamWriterFor(&out, nil, true)
		for _, ev := range evs {
			if err := w.Write(ev); err != nil {
				t.Fatalf("Write(%+v): %v", ev, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		back := full.NewStreamReader(bytes.NewReader(out.Bytes()))
		for range len(evs) + 16 {
			if _, err := back.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("the re-encoded stream ended with %v:\n%s", err, out.Bytes())
				}
				return
			}
		}
		t.Fatalf("the re-encoded stream did not end:\n%s", out.Bytes())
	})
}
