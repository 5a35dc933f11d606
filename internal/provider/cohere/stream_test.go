package cohere

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/codectest"
)

func readStream(r llm.StreamReader) codectest.Transcript { return codectest.ReadStream(r) }

// TestStreamReaderGolden reads each testdata/stream/*.sse transcript and
// compares the neutral events with *.events.json. Each is read twice, the
// second time one byte per Read, which must not change anything.
func TestStreamReaderGolden(t *testing.T) {
	for name, path := range fixtures(t, "stream", ".sse") {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := mustJSON(t, readStream(Codec{}.NewStreamReader(strings.NewReader(string(body)))))
			golden(t, filepath.Join("testdata", "stream", name+".events.json"), got)

			bytewise := mustJSON(t, readStream(Codec{}.NewStreamReader(iotest.OneByteReader(strings.NewReader(string(body))))))
			if string(bytewise) != string(got) {
				t.Errorf("reading one byte at a time gives\n%s\nwant\n%s", bytewise, got)
			}
		})
	}
}

func TestStreamReaderFailures(t *testing.T) {
	const textChunk = "event: message-start\ndata: {\"id\":\"r1\",\"type\":\"message-start\"}\n\n" +
		`event: content-delta` + "\n" + `data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hel"}}}}` + "\n\n"
	tests := []struct {
		name       string
		body       io.Reader
		wantEvents []llm.StreamEventType
		wantErr    error  // matched with errors.Is
		wantText   string // contained in the error
	}{
		{
			name:       "cut before the finish",
			body:       strings.NewReader(textChunk),
			wantEvents: []llm.StreamEventType{llm.EventStart, llm.EventText},
			wantErr:    io.ErrUnexpectedEOF,
			wantText:   "without message-end",
		},
		{
			name:     "empty body",
			body:     strings.NewReader(""),
			wantErr:  io.ErrUnexpectedEOF,
			wantText: "without message-end",
		},
		{
			name:     "JSON body instead of SSE",
			body:     strings.NewReader(`{"id":"x","finish_reason":"COMPLETE","message":{"role":"assistant"}}`),
			wantErr:  io.ErrUnexpectedEOF,
			wantText: "without message-end",
		},
		{
			name:       "chunk not JSON",
			body:       strings.NewReader(textChunk + "event: content-delta\ndata: {\"delta\":\n\n"),
			wantEvents: []llm.StreamEventType{llm.EventStart, llm.EventText},
			wantText:   "decoding cohere stream event",
		},
		{
			name:       "read error",
			body:       io.MultiReader(strings.NewReader(textChunk), iotest.ErrReader(errors.New("connection reset"))),
			wantEvents: []llm.StreamEventType{llm.EventStart, llm.EventText},
			wantText:   "reading cohere stream: reading event stream: connection reset",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Codec{}.NewStreamReader(tt.body)
			var types []llm.StreamEventType
			var err error
			for {
				var ev llm.StreamEvent
				if ev, err = r.Next(); err != nil {
					break
				}
				types = append(types, ev.Type)
			}
			if strings.Join(eventNames(types), " ") != strings.Join(eventNames(tt.wantEvents), " ") {
				t.Errorf("events = %v, want %v", types, tt.wantEvents)
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.wantText) ||
				(tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("err = %v, want one containing %q (is %v)", err, tt.wantText, tt.wantErr)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the end = %v, want the same %v", again, err)
			}
		})
	}
}

func eventNames(types []llm.StreamEventType) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}
