package prompt

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCall feeds untrusted bodies through everything a call does: parse,
// bind the variables, render. Whatever the bytes, nothing panics, a
// rejected call says why with an *Error, and an accepted one renders a
// valid chat request whose user message holds each string value as the
// caller wrote it.
func FuzzCall(f *testing.F) {
	for _, seed := range []string{
		`{"variables":{"text":"hi"}}`,
		`{"variables":{"text":"{{lang}}","n":3,"x":0.5,"flag":true,"tone":"casual","short":"héllö"},"stream":true}`,
		`{"variables":{"text":"a","n":"3"}}`,
		`{"variables":{"text":"a","n":1e400,"x":-0.0}}`,
		`{"variables":{"text":"\u0000\"}]"},"messages":[{"role":"user","content":"x"}]}`,
		`{"variables":{"text":"a"},"messages":[{"role":"assistant","content":[{"type":"text","text":"y"}]}]}`,
		`{"variables":null}`,
		`{"variables":{"ünï":1}}`,
		`{"extra":1}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	p := mustCompile(f, typed)
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseCall(body)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseCall error %T %v is not an *Error", err, err)
			}
			return
		}
		vals, err := p.Bind(c.Variables)
		if err != nil {
			pe, ok := err.(*Error)
			if !ok || !strings.HasPrefix(pe.Path, "variables") || pe.Message == "" {
				t.Fatalf("Bind error %#v", err)
			}
			if !utf8.ValidString(pe.Error()) {
				t.Fatalf("error message is not UTF-8: %q", pe.Error())
			}
			return
		}
		for _, v := range p.Live() {
			out, err := v.ChatRequest(vals, c.Messages, c.Stream)
			if err != nil {
				t.Fatalf("ChatRequest: %v", err)
			}
			var req struct {
				Model    string
				Messages []json.RawMessage
				Stream   bool
			}
			if err := json.Unmarshal(out, &req); err != nil {
				t.Fatalf("rendered body is not JSON: %v\n%s", err, out)
			}
			if req.Model != v.Model || req.Stream != c.Stream || len(req.Messages) != 2+len(c.Messages) {
				t.Fatalf("rendered request %s does not match the call %+v", out, c)
			}
			var user struct{ Role, Content string }
			if err := json.Unmarshal(req.Messages[1], &user); err != nil || user.Role != "user" {
				t.Fatalf("second message is not the user's: %s", req.Messages[1])
			}
			for name, text := range vals {
				if v.variable(name) != nil && v.variable(name).Type == "string" && !strings.Contains(user.Content, text) {
					t.Fatalf("value of %s (%q) is not in the user message %q", name, text, user.Content)
				}
			}
		}
	})
}
