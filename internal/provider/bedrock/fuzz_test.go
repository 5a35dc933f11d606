package bedrock

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// FuzzStreamReader feeds arbitrary bytes to the event-stream reader: it
// must never panic or loop, must end with an error that stays put, and must
// keep the event order the neutral model promises.
func FuzzStreamReader(f *testing.F) {
	f.Add(encodeFrames(f, textFrames...))
	f.Add(encodeFrames(f, toolFrames...))
	f.Add(encodeFrames(f, frame{exception: "validationException", payload: `{"message":"x"}`}))
	f.Add(encodeFrames(f, frame{event: "metadata", payload: `{"usage":{"inputTokens":-5}}`}, frame{event: "messageStop", payload: `{}`}))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := Codec{}.NewStreamReader(bytes.NewReader(stream))
		var (
			err                        error
			n                          int
			started, finished, errored bool
			calls                      = map[int]bool{}
		)
		for range 4*len(stream) + 8 {
			var ev llm.StreamEvent
			if ev, err = r.Next(); err != nil {
				break
			}
			n++
			if errored {
				t.Fatalf("%s after an error event", ev.Type)
			}
			switch ev.Type {
			case llm.EventStart:
				if started || n != 1 {
					t.Fatalf("start at position %d", n)
				}
				started = true
			case llm.EventText, llm.EventThinking, llm.EventToolCallStart, llm.EventToolCallArgs:
				if !started || finished {
					t.Fatalf("%s outside start…finish", ev.Type)
				}
				if ev.Type == llm.EventToolCallStart {
					if calls[ev.Index] || ev.ToolCall == nil {
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
			t.Fatal("stream did not end")
		}
		if _, again := r.Next(); !errors.Is(again, err) && again.Error() != err.Error() {
			t.Fatalf("end changed from %v to %v", err, again)
		}
		if errors.Is(err, io.EOF) && !finished && !errored {
			t.Fatal("clean end without finish or error")
		}
	})
}
