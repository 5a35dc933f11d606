package cohere

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/codectest"
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
		codectest.CheckStream(t, Codec{}.NewStreamReader(strings.NewReader(stream)), len(stream))
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
