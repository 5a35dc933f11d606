package anthropic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/provider/codectest"

	"github.com/hypergate/hypergate/internal/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedNow stands in for the clock that stamps Created, so that goldens are
// stable.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	os.Exit(m.Run())
}

func golden(t *testing.T, path string, got []byte) { codectest.Golden(t, path, got, *update) }

// inputs lists the files in dir with extension ext, which must exist.
func inputs(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s inputs in testdata/%s: %v", ext, dir, err)
	}
	return files
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func dump(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return indentJSON(t, b)
}

// upstreamGolden is what the goldens of EncodeRequest hold: the body, and
// what the request lists as dropped once it is encoded.
func upstreamGolden(t *testing.T, r *llm.Request) []byte {
	t.Helper()
	body, err := Codec{}.EncodeRequest(r)
	if err != nil {
		t.Fatalf("EncodeRequest: %v", err)
	}
	if !json.Valid(body) {
		t.Fatalf("EncodeRequest wrote invalid JSON: %s", body)
	}
	return dump(t, struct {
		Dropped []string        `json:"dropped"`
		Body    json.RawMessage `json:"body"`
	}{r.Dropped, body})
}

// TestRequestGolden decodes Anthropic requests into the neutral model and
// encodes the result back for an Anthropic upstream.
func TestRequestGolden(t *testing.T) {
	for _, in := range inputs(t, "request", ".json") {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Codec{}.DecodeRequest(body)
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".neutral.golden", dump(t, req))
			golden(t, strings.TrimSuffix(in, ".json")+".upstream.golden", upstreamGolden(t, req))
		})
	}
}

// TestNeutralRequestGolden encodes neutral requests, shaped as other
// formats' decoders produce them, for an Anthropic upstream.
func TestNeutralRequestGolden(t *testing.T) {
	for _, in := range inputs(t, "neutral-request", ".json") {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			var req llm.Request
			readJSON(t, in, &req)
			golden(t, strings.TrimSuffix(in, ".json")+".upstream.golden", upstreamGolden(t, &req))
		})
	}
}

// TestResponseGolden decodes Anthropic responses and encodes the neutral
// result back as an Anthropic response, which must decode to the same
// neutral response.
func TestResponseGolden(t *testing.T) {
	c := Codec{}
	for _, in := range inputs(t, "response", ".json") {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.DecodeResponse(body)
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".neutral.golden", dump(t, resp))
			out, err := c.EncodeResponse(resp)
			if err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".anthropic.golden", indentJSON(t, out))
			again, err := c.DecodeResponse(out)
			if err != nil {
				t.Fatalf("DecodeResponse of the re-encoded response: %v", err)
			}
			if a, b := dump(t, resp), dump(t, again); !bytes.Equal(a, b) {
				t.Errorf("the re-encoded response decodes differently:\n%s\nwant\n%s", b, a)
			}
		})
	}
}

// TestNeutralResponseGolden encodes neutral responses from other families
// as Anthropic responses.
func TestNeutralResponseGolden(t *testing.T) {
	for _, in := range inputs(t, "neutral-response", ".json") {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			var resp llm.Response
			readJSON(t, in, &resp)
			out, err := Codec{}.EncodeResponse(&resp)
			if err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".anthropic.golden", indentJSON(t, out))
		})
	}
}

// sseEvent is an event as the stream goldens compare it.
type sseEvent struct{ Name, Data string }

// sseEvents splits a stream into its messages, without pings.
func sseEvents(t *testing.T, b []byte) []sseEvent {
	t.Helper()
	r := llm.NewSSEReader(bytes.NewReader(b))
	var out []sseEvent
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.IsMessage() && ev.Name != "ping" {
			out = append(out, sseEvent{ev.Name, string(ev.Data)})
		}
	}
}

// readEvents drains a stream reader into JSON lines, one per event, the last
// line naming the error that ended the stream.
func readEvents(t *testing.T, r llm.StreamReader) ([]llm.StreamEvent, []byte) {
	t.Helper()
	var events []llm.StreamEvent
	var out bytes.Buffer
	for i := 0; ; i++ {
		ev, err := r.Next()
		if err != nil {
			fmt.Fprintf(&out, "end: %v\n", err)
			if again, err2 := r.Next(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Next after %v returned %+v, %v", err, again, err2)
			}
			return events, out.Bytes()
		}
		if i > 10000 {
			t.Fatal("the reader never ends")
		}
		events = append(events, ev)
		line, mErr := marshal(ev)
		if mErr != nil {
			t.Fatal(mErr)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
}

// writeEvents encodes events with a stream writer and closes it, checking
// that every call flushed all it wrote.
func writeEvents(t *testing.T, events []llm.StreamEvent) []byte {
	t.Helper()
	var out bytes.Buffer
	flushedAt := 0
	w := Codec{}.NewStreamWriter(&out, func() error {
		flushedAt = out.Len()
		return nil
	})
	for _, ev := range events {
		if err := w.Write(ev); err != nil {
			t.Fatalf("Write(%+v): %v", ev, err)
		}
		if out.Len() != flushedAt {
			t.Errorf("Write(%+v) left bytes unflushed", ev)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if out.Len() != flushedAt {
		t.Error("Close left bytes unflushed")
	}
	return out.Bytes()
}

// TestStreamGolden reads Anthropic event streams into neutral events and
// writes those back as an Anthropic stream. For the transcripts in
// Anthropic's current wire form (all but the raw_ ones, which exercise the
// reader's tolerance) the round trip must give back every event byte for
// byte, pings aside.
func TestStreamGolden(t *testing.T) {
	for _, in := range inputs(t, "stream", ".sse") {
		name := strings.TrimSuffix(filepath.Base(in), ".sse")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			events, lines := readEvents(t, Codec{}.NewStreamReader(bytes.NewReader(body)))
			golden(t, strings.TrimSuffix(in, ".sse")+".events.golden", lines)
			out := writeEvents(t, events)
			golden(t, strings.TrimSuffix(in, ".sse")+".sse.golden", out)
			if strings.HasPrefix(name, "raw_") {
				return
			}
			got, want := sseEvents(t, out), sseEvents(t, body)
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w sseEvent
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("event %d after the round trip:\n got %s %s\nwant %s %s", i, g.Name, g.Data, w.Name, w.Data)
				}
			}
		})
	}
}

// TestNeutralStreamGolden writes neutral event sequences, shaped as other
// families' readers produce them, as Anthropic streams.
func TestNeutralStreamGolden(t *testing.T) {
	for _, in := range inputs(t, "neutral-stream", ".jsonl") {
		name := strings.TrimSuffix(filepath.Base(in), ".jsonl")
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var events []llm.StreamEvent
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var ev llm.StreamEvent
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("%s: %v", sc.Text(), err)
				}
				events = append(events, ev)
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			out := writeEvents(t, events)
			golden(t, strings.TrimSuffix(in, ".jsonl")+".sse.golden", out)
			// Whatever the input, the output is a well-formed Anthropic
			// stream that this package's reader accepts to the end.
			_, lines := readEvents(t, Codec{}.NewStreamReader(bytes.NewReader(out)))
			if !bytes.HasSuffix(lines, []byte("end: EOF\n")) {
				t.Errorf("the written stream does not read back cleanly:\n%s", lines)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
