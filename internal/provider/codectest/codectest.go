// Package codectest holds what the tests of every provider codec share:
// golden files, fixture discovery, stream transcripts, and the invariants
// that any stream reader must keep whatever bytes it is fed (the heart of
// each family's stream fuzzer). It is imported by tests only.
package codectest

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

// Golden compares got with the golden file at path, or rewrites the file
// when update is set (each package's -update flag).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", filepath.Base(path), got, want)
	}
}

// Indent pretty-prints JSON for golden files, keeping key order.
func Indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("indenting %s: %v", b, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// Fixtures lists the files matching testdata/dir/*suffix, by name without
// the suffix. No fixture at all fails the test: a glob that matches
// nothing must not pass silently.
func Fixtures(t testing.TB, dir, suffix string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	out := map[string]string{}
	for _, p := range paths {
		name := filepath.Base(p)
		out[name[:len(name)-len(suffix)]] = p
	}
	return out
}

// Transcript is what a golden stream file holds: the events, and the error
// that ended the stream.
type Transcript struct {
	Events []llm.StreamEvent `json:"events"`
	End    string            `json:"end"`
}

// ReadStream reads r to its end.
func ReadStream(r llm.StreamReader) Transcript {
	var tr Transcript
	for {
		ev, err := r.Next()
		if err != nil {
			tr.End = err.Error()
			return tr
		}
		tr.Events = append(tr.Events, ev)
	}
}

// CheckStream reads r to its end and fails t when the events break the
// neutral stream's rules: one Start first; content only between Start and
// Finish; tool-call arguments only for started calls; one Finish; usage
// only after it; nothing after an error event; a clean end only after a
// Finish or an error; and the same error again from every later Next.
// inputSize bounds the number of events (each consumes input or ends the
// stream).
func CheckStream(t testing.TB, r llm.StreamReader, inputSize int) {
	t.Helper()
	var (
		events            int
		err               error
		started, finished bool
		errored           bool
		calls             = map[int]bool{}
	)
	for range 4*inputSize + 8 {
		var ev llm.StreamEvent
		if ev, err = r.Next(); err != nil {
			break
		}
		events++
		if errored {
			t.Fatalf("%s after an error event", ev.Type)
		}
		switch ev.Type {
		case llm.EventStart:
			if started || events != 1 {
				t.Fatalf("start at position %d", events)
			}
			started = true
		case llm.EventText, llm.EventThinking, llm.EventToolCallStart, llm.EventToolCallArgs:
			if !started || finished {
				t.Fatalf("%s outside start…finish", ev.Type)
			}
			if ev.Type == llm.EventToolCallStart {
				if calls[ev.Index] || ev.ToolCall == nil || ev.ToolCall.ID == "" {
					t.Fatalf("bad tool call start %+v", ev)
				}
				calls[ev.Index] = true
			}
			if ev.Type == llm.EventToolCallArgs && !calls[ev.Index] {
				t.Fatalf("arguments for unstarted call %d", ev.Index)
			}
		case llm.EventFinish:
			if !started || finished || ev.Finish == "" {
				t.Fatalf("bad finish %+v", ev)
			}
			finished = true
		case llm.EventUsage:
			if !finished || ev.Usage == nil || ev.Usage.InputTokens < 0 || ev.Usage.OutputTokens < 0 {
				t.Fatalf("bad usage %+v", ev)
			}
		case llm.EventError:
			if ev.Err == nil || ev.Err.Status < 400 || ev.Err.Status > 599 || ev.Err.Type == "" {
				t.Fatalf("bad error event %+v", ev.Err)
			}
			errored = true
		default:
			t.Fatalf("unknown event %q", ev.Type)
		}
	}
	if err == nil {
		t.Fatalf("no end after %d events", events)
	}
	if errors.Is(err, io.EOF) && !finished && !errored {
		t.Fatalf("clean end without finish or error")
	}
	if _, again := r.Next(); again != err {
		t.Fatalf("Next after the end = %v, then %v", err, again)
	}
}
