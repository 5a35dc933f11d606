package bedrock

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/hypergate/hypergate/internal/llm"
)

// frame is one ConverseStream message: an event or an exception.
type frame struct {
	event, exception string
	payload          string
}

// encodeFrames writes frames in the AWS event-stream framing, with the
// headers Bedrock sends, using AWS's own encoder.
func encodeFrames(t testing.TB, frames ...frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, f := range frames {
		var h eventstream.Headers
		if f.exception != "" {
			h.Set(":message-type", eventstream.StringValue("exception"))
			h.Set(":exception-type", eventstream.StringValue(f.exception))
		} else {
			h.Set(":message-type", eventstream.StringValue("event"))
			h.Set(":event-type", eventstream.StringValue(f.event))
		}
		h.Set(":content-type", eventstream.StringValue("application/json"))
		if err := enc.Encode(&buf, eventstream.Message{Headers: h, Payload: []byte(f.payload)}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(t *testing.T, body []byte) ([]llm.StreamEvent, error) {
	t.Helper()
	r := Codec{}.NewStreamReader(bytes.NewReader(body))
	var out []llm.StreamEvent
	for range 1000 {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	t.Fatal("stream never ended")
	return nil, nil
}

var (
	textFrames = []frame{
		{event: "messageStart", payload: `{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123","role":"assistant"}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":0,"delta":{"text":", world"},"p":"abcdefgh"}`},
		{event: "contentBlockStop", payload: `{"contentBlockIndex":0,"p":"abc"}`},
		{event: "messageStop", payload: `{"p":"abcdef","stopReason":"end_turn"}`},
		{event: "metadata", payload: `{"metrics":{"latencyMs":412},"p":"abc","usage":{"inputTokens":12,"outputTokens":4,"totalTokens":16,"cacheReadInputTokens":8}}`},
	}
	toolFrames = []frame{
		{event: "messageStart", payload: `{"role":"assistant"}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Need the tool."}}}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig-1"}}}`},
		{event: "contentBlockStop", payload: `{"contentBlockIndex":0}`},
		{event: "contentBlockStart", payload: `{"contentBlockIndex":1,"start":{"toolUse":{"name":"top_song","toolUseId":"tooluse_abc"}}}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"sign\": "}}}`},
		{event: "contentBlockDelta", payload: `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"WZPZ\"}"}}}`},
		{event: "contentBlockStop", payload: `{"contentBlockIndex":1}`},
		{event: "messageStop", payload: `{"stopReason":"tool_use"}`},
		{event: "metadata", payload: `{"usage":{"inputTokens":375,"outputTokens":56,"totalTokens":431}}`},
	}
)

func TestStreamReader(t *testing.T) {
	start := llm.StreamEvent{Type: llm.EventStart, ID: "msg_test", Created: fixedNow.Unix()}
	tests := []struct {
		name    string
		frames  []frame
		want    []llm.StreamEvent
		wantErr error
	}{
		{
			name:   "text",
			frames: textFrames,
			want: []llm.StreamEvent{
				start,
				{Type: llm.EventText, Text: "Hello"},
				{Type: llm.EventText, Text: ", world"},
				{Type: llm.EventFinish, Finish: llm.FinishStop},
				{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 20, OutputTokens: 4, CachedInputTokens: 8, Present: true}},
			},
			wantErr: io.EOF,
		},
		{
			name:   "tool use with partial input",
			frames: toolFrames,
			want: []llm.StreamEvent{
				start,
				{Type: llm.EventThinking, Text: "Need the tool."},
				{Type: llm.EventThinking, Signature: "sig-1"},
				{Type: llm.EventToolCallStart, Index: 0, ToolCall: &llm.ToolCall{ID: "tooluse_abc", Name: "top_song"}},
				{Type: llm.EventToolCallArgs, Index: 0, Text: `{"sign": `},
				{Type: llm.EventToolCallArgs, Index: 0, Text: `"WZPZ"}`},
				{Type: llm.EventFinish, Finish: llm.FinishToolCalls},
				{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 375, OutputTokens: 56, Present: true}},
			},
			wantErr: io.EOF,
		},
		{
			name: "exception",
			frames: []frame{
				textFrames[0], textFrames[1],
				{exception: "throttlingException", payload: `{"message":"Too many tokens, please wait before trying again."}`},
			},
			want: []llm.StreamEvent{
				start,
				{Type: llm.EventText, Text: "Hello"},
				{Type: llm.EventError, Err: &llm.Error{Status: 429, Type: "rate_limit_error", Code: "throttlingException", Message: "Too many tokens, please wait before trying again."}},
			},
			wantErr: io.EOF,
		},
		{
			name:    "cut before messageStop",
			frames:  textFrames[:3],
			want:    []llm.StreamEvent{start, {Type: llm.EventText, Text: "Hello"}, {Type: llm.EventText, Text: ", world"}},
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, encodeFrames(t, tt.frames...))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStreamReaderMalformed(t *testing.T) {
	good := encodeFrames(t, textFrames...)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-1] ^= 0xff // the last message's CRC
	tests := []struct {
		name string
		body []byte
	}{
		{"bad CRC", corrupt},
		{"truncated frame", good[:len(good)-3]},
		{"payload not JSON", encodeFrames(t, frame{event: "messageStop", payload: `{`})},
		{"tool input for no tool", encodeFrames(t, frame{event: "contentBlockDelta", payload: `{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}}`})},
		{"huge length prefix", []byte{0x7f, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.body)
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want a decoding error", err)
			}
		})
	}
}
