package gemini

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
	f.Add("data: {\"error\":{\"code\":500}}\n\n")
	f.Add("data: {\"candidates\":[{\"index\":1,\"finishReason\":\"STOP\"}]}\n\n")
	f.Add("data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":null}}]},\"finishReason\":\"SAFETY\"}]}\r\r")
	f.Fuzz(func(t *testing.T, stream string) {
		codectest.CheckStream(t, Codec{}.NewStreamReader(strings.NewReader(stream)), len(stream))
	})
}

// FuzzDecodeResponse checks that no body makes DecodeResponse panic, and
// that what it accepts is a well-formed answer.
func FuzzDecodeResponse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "decode", "*.gemini.json"))
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
	f.Add(400, []byte(`{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}`))
	f.Add(0, []byte(`[{"error":{"code":999,"status":"UNAVAILABLE"}}]`))
	f.Add(502, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := Codec{}.DecodeError(status, body)
		if e == nil || e.Type == "" || e.Message == "" || e.Status == 0 {
			t.Fatalf("DecodeError(%d, %q) = %+v", status, body, e)
		}
	})
}

// FuzzConvertSchema feeds client-supplied schemas to the converter, which
// must not panic and must produce JSON.
func FuzzConvertSchema(f *testing.F) {
	f.Add([]byte(`{"type":["string","null"],"enum":["a",1,null],"$ref":"#/$defs/x","$defs":{"x":{"allOf":[{"$ref":"#/$defs/x"}]}}}`))
	f.Add([]byte(`{"type":"object","properties":{"a":{"oneOf":[true,false,{"const":{"k":1}}]}},"required":["a","b"]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := convertSchema(raw, true)
		if err != nil {
			return
		}
		if _, err := marshal(s); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
