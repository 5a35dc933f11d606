package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hypergate/hypergate/internal/openaispec"
)

// bedrockFrames encodes ConverseStream events in AWS's event-stream framing,
// as Bedrock sends them.
func bedrockFrames(t *testing.T, events ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, ev := range events {
		var h eventstream.Headers
		h.Set(":message-type", eventstream.StringValue("event"))
		h.Set(":event-type", eventstream.StringValue(ev[0]))
		h.Set(":content-type", eventstream.StringValue("application/json"))
		if err := enc.Encode(&buf, eventstream.Message{Headers: h, Payload: []byte(ev[1])}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// The official OpenAI SDK over a Bedrock upstream, plain and streamed: the
// request is translated to Converse and signed, the answer (JSON, or the
// binary event stream) translated back into OpenAI's format.
func TestOpenAISDKOverBedrock(t *testing.T) {
	stream := bedrockFrames(t,
		[2]string{"messageStart", `{"role":"assistant"}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"}}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":" from Bedrock"}}`},
		[2]string{"contentBlockStop", `{"contentBlockIndex":0}`},
		[2]string{"messageStop", `{"stopReason":"end_turn"}`},
		[2]string{"metadata", `{"usage":{"inputTokens":11,"outputTokens":4,"totalTokens":15}}`},
	)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"missing signature"}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/converse-stream") {
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			_, _ = w.Write(stream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hello from Bedrock"}]}},"stopReason":"end_turn","usage":{"inputTokens":11,"outputTokens":4,"totalTokens":15}}`)
	}))
	defer fake.Close()
	t.Setenv("TEST_BEDROCK_CREDENTIALS", "AKIDEXAMPLE:bedrock-secret-0123456789")
	e := start(t)
	cfg := fmt.Sprintf(`
providers:
  - { name: aws, type: bedrock, base_url: "%s", api_key: env:TEST_BEDROCK_CREDENTIALS }
models:
  - { name: nova, targets: [ { provider: aws, model: "amazon.nova-lite-v1:0" } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
`, fake.URL)
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
		t.Fatalf("applying: %d", st)
	}
	spec := openaispec.ForTest(t)
	client := e.sdk(shopKey)
	params := openai.ChatCompletionNewParams{Model: "nova", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")}}

	t.Run("plain", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&raw))
		if err != nil {
			t.Fatal(err)
		}
		spec.Check(t, "CreateChatCompletionResponse", []byte(resp.RawJSON()))
		if resp.Choices[0].Message.Content != "Hello from Bedrock" || resp.Usage.PromptTokens != 11 {
			t.Errorf("answer = %q, usage %+v", resp.Choices[0].Message.Content, resp.Usage)
		}
		if rec := e.call(raw.Header.Get("X-Request-Id")); rec.Provider != "aws" || rec.InputTokens != 11 || rec.OutputTokens != 4 {
			t.Errorf("record = %+v", rec)
		}
	})
	t.Run("streamed", func(t *testing.T) {
		p := params
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		var raw *http.Response
		s := client.Chat.Completions.NewStreaming(context.Background(), p, option.WithResponseInto(&raw))
		var text strings.Builder
		var usage int64
		for s.Next() {
			ch := s.Current()
			spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
			if len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
			usage += ch.Usage.TotalTokens
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if text.String() != "Hello from Bedrock" || usage != 15 {
			t.Errorf("streamed %q, usage %d", text.String(), usage)
		}
		if rec := e.call(raw.Header.Get("X-Request-Id")); !rec.Stream || rec.InputTokens != 11 || rec.OutputTokens != 4 || rec.TTFTUS <= 0 {
			t.Errorf("record = %+v", rec)
		}
	})
}
