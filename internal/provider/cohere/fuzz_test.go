package cohere

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// FuzzStreamReader feeds arbitrary upstream streams to the reader: it must
// never panic or loop, must end with an error that stays put, and must keep
// the event order the neutral model promises.
func FuzzStreamReader(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "stream", "*.sse"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("event: message-end\ndata: {\"delta\":{\"finish_reason\":\"TIMEOUT\"}}\n\n")
	f.Add("data: {\"type\":\"tool-call-delta\",\"index\":-1,\"delta\":{\"message\":{\"tool_calls\":[]}}}\r\r")
	f.Add("event: tool-call-start\ndata: {\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{}}}}\n\nevent: tool-call-start\ndata: {\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{}}}}\n\n")
	f.Fuzz(func(t *testing.T, stream string) {
		r := Codec{}.NewStreamReader(strings.NewReader(stream))
		var (
			events            []llm.StreamEvent
			err               error
			started, finished bool
			errored           bool
			calls             = map[int]bool{}
		)
		// Each event consumes input or ends the stream, so the count is
		// bounded by the input's size.
		for range 4*len(stream) + 8 {
			var ev llm.StreamEvent
			if ev, err = r.Next(); err != nil {
				break
			}
			events = append(events, ev)
			if errored {
				t.Fatalf("%s after an error event", ev.Type)
			}
			switch ev.Type {
			case llm.EventStart:
				if started || len(events) != 1 {
					t.Fatalf("start at position %d", len(events))
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
			t.Fatalf("no end after %d events", len(events))
		}
		if errors.Is(err, io.EOF) && !finished && !errored {
			t.Fatalf("clean end without finish or error")
		}
		if _, again := r.Next(); again != err {
			t.Fatalf("Next after the end = %v, then %v", err, again)
		}
	})
}

// FuzzDecodeResponse checks that no body makes DecodeResponse panic, and
// that what it accepts is a well-formed answer.
func FuzzDecodeResponse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "decode", "*.cohere.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := Codec{}.DecodeResponse(body)
		if err != nil {
			return
		}
		if resp.Finish == "" || resp.Message.Role != llm.RoleAssistant {
			t.Fatalf("incomplete response %+v", resp)
		}
		for _, tc := range resp.Message.ToolCalls {
			if tc.ID == "" || tc.Arguments == "" {
				t.Fatalf("bad tool call %+v", tc)
			}
		}
	})
}

// FuzzDecodeError checks that any error body maps to a usable error.
func FuzzDecodeError(f *testing.F) {
	f.Add(400, []byte(`{"id":"1","message":"too many tokens: prompt too long"}`))
	f.Add(0, []byte(`{"message":""}`))
	f.Add(498, []byte(`{"message":7}`))
	f.Add(502, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := Codec{}.DecodeError(status, body)
		if e == nil || e.Type == "" || e.Message == "" || e.Status < 400 || e.Status > 599 {
			t.Fatalf("DecodeError(%d, %q) = %+v", status, body, e)
		}
	})
}
