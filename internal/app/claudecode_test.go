package app_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// claudeCodeRequest is the shape of what Claude Code (2.1) sends on each
// turn: the messages before the system field, a mid-conversation system
// message, adaptive thinking with output_config.effort, context_management,
// cache markers, a signed thinking block and a tool round trip. It lives
// with the Anthropic codec's goldens, which decode the same file.
const claudeCodeRequest = "../provider/anthropic/testdata/request/claude_code.json"

// Claude Code must work through /v1/messages whatever family answers. Run
// by hand against Claude Code itself, it failed on exactly the fields this
// request carries, so the request is kept as a regression test: streamed to
// an Anthropic upstream (passed through untouched), to an OpenAI upstream
// and to a Gemini upstream (both translated), with the headers Claude Code
// sends.
func TestClaudeCodeRequest(t *testing.T) {
	raw, err := os.ReadFile(claudeCodeRequest)
	if err != nil {
		t.Fatal(err)
	}
	e := startTranslate(t)
	for _, tc := range []struct {
		name, model, provider string
		// upstreamHas is text the upstream's request must carry: the
		// mid-conversation system message, wherever its format puts it.
		upstreamHas string
	}{
		{name: "anthropic passthrough", model: "claude", provider: "claude", upstreamHas: `"role": "system"`},
		{name: "openai translated", model: "gpt", provider: "oai", upstreamHas: "Available agent types"},
		{name: "gemini translated", model: "gemini", provider: "gem", upstreamHas: "Available agent types"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := sjson.SetBytes(raw, "model", tc.model)
			if err != nil {
				t.Fatal(err)
			}
			resp, out := e.do("POST", "/v1/messages", "", string(body),
				"x-api-key", trConsumerKey, "anthropic-version", "2023-06-01",
				"anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14",
				"User-Agent", "claude-cli/2.1.197 (external, sdk-cli)")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			events := sseEventNames(t, out)
			if len(events) < 3 || events[0] != "message_start" || events[len(events)-1] != "message_stop" {
				t.Fatalf("events = %v, want message_start … message_stop\n%s", events, out)
			}
			for _, ev := range events {
				if ev == "error" {
					t.Fatalf("stream carries an error event:\n%s", out)
				}
			}
			id := resp.Header.Get("X-Request-Id")
			up := upstreamRequest(t, e, upstream{provider: tc.provider}, id)
			if !bytes.Contains(indentedJSON(t, up), []byte(tc.upstreamHas)) {
				t.Errorf("upstream request lacks %q:\n%s", tc.upstreamHas, up)
			}
			rec := e.call(id)
			if rec.Status != 200 || rec.Provider != tc.provider || !rec.Stream {
				t.Errorf("record: status %d, provider %q, stream %v", rec.Status, rec.Provider, rec.Stream)
			}
			if tc.provider != "claude" && !slices.Contains(rec.Dropped, "context_management") {
				t.Errorf("record dropped = %v, want context_management listed", rec.Dropped)
			}
		})
	}
}

// sseEventNames returns the event names of an SSE transcript in order.
func sseEventNames(t *testing.T, transcript []byte) []string {
	t.Helper()
	var names []string
	for _, block := range strings.Split(string(transcript), "\n\n") {
		for _, line := range strings.Split(block, "\n") {
			if name, ok := strings.CutPrefix(line, "event: "); ok {
				names = append(names, name)
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok && !gjson.Valid(data) {
				t.Errorf("event data is not JSON: %s", data)
			}
		}
	}
	return names
}

// indentedJSON re-indents a JSON body so that a test can look for
// "key": value with one spelling, whatever the sender's spacing.
func indentedJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v bytes.Buffer
	if err := json.Indent(&v, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v.Bytes()
}
