package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/provider/codectest"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/openaispec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/codec")

// full is the codec with every extension on, used where a test needs a
// translation to lose nothing on the way round.
var full = Codec{ReasoningContent: true}

func golden(t *testing.T, path string, got []byte) { codectest.Golden(t, path, got, *update) }

// inputs returns the files of one testdata/codec directory with the given
// extension, by test name.
func inputs(t *testing.T, dir, ext string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "codec", dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s inputs in testdata/codec/%s: %v", ext, dir, err)
	}
	out := make(map[string]string, len(files))
	for _, f := range files {
		out[strings.TrimSuffix(filepath.Base(f), ext)] = f
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// indent renders v as indented JSON with a final newline, embedded JSON
// documents included.
func indent(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := indent(t, got), indent(t, want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s differs\n--- got:\n%s\n--- want:\n%s", what, g, w)
	}
}

// TestRequestGolden decodes OpenAI requests modelled on OpenAI's documented
// examples, re-encodes them for an OpenAI-compatible upstream, and checks
// both against the golden file, the encoded body against OpenAI's schema,
// and that decoding the re-encoded body gives the same neutral request.
func TestRequestGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range inputs(t, "request", ".json") {
		t.Run(name, func(t *testing.T) {
			req, err := Codec{}.DecodeRequest(mustRead(t, path))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			// The golden file shows the request as decoded; EncodeRequest
			// appends its own drops, which TestEncodeRequestDropped covers.
			decoded := *req
			decoded.Dropped = slices.Clone(req.Dropped)
			enc, err := Codec{}.EncodeRequest(req)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			spec.Check(t, "CreateChatCompletionRequest", enc)
			golden(t, strings.TrimSuffix(path, ".json")+".golden", indent(t, struct {
				Neutral *llm.Request    `json:"neutral"`
				Encoded json.RawMessage `json:"encoded"`
			}{&decoded, enc}))

			enc, err = full.EncodeRequest(req)
			if err != nil {
				t.Fatalf("EncodeRequest with extensions: %v", err)
			}
			again, err := full.DecodeRequest(enc)
			if err != nil {
				t.Fatalf("decoding the re-encoded request: %v\n%s", err, enc)
			}
			// What a round trip cannot keep: the dropped fields are gone,
			// and a streamed request always asks for usage upstream.
			jsonEqual(t, "request after a round trip", again, roundTripped(req))
		})
	}
}

// roundTripped is what an OpenAI request should decode to after a trip
// through EncodeRequest: the dropped fields are gone, a streamed request
// always asks for usage upstream, TopK is not sent, and an assistant's text
// parts travel as one string.
func roundTripped(req *llm.Request) *llm.Request {
	want := *req
	want.Dropped = nil
	want.IncludeUsage = req.Stream
	want.TopK = nil
	want.Messages = make([]llm.Message, len(req.Messages))
	for i, m := range req.Messages {
		if m.Role == llm.RoleAssistant {
			var parts []llm.Part
			for _, p := range m.Parts {
				if n := len(parts); n > 0 && p.Type == llm.PartText && parts[n-1].Type == llm.PartText {
					parts[n-1].Text += p.Text
					continue
				}
				parts = append(parts, p)
			}
			m.Parts = parts
		}
		want.Messages[i] = m
	}
	return &want
}

// TestEncodeRequestGolden encodes neutral requests as the other inbound
// codecs produce them (Anthropic's thinking, tool results with images,
// cache markers …) for an OpenAI-compatible upstream.
func TestEncodeRequestGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range inputs(t, "neutral", ".json") {
		t.Run(name, func(t *testing.T) {
			var req llm.Request
			if err := json.Unmarshal(mustRead(t, path), &req); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, c := range []struct {
				label string
				codec Codec
			}{
				{"default", Codec{}},
				{"reasoning_content+max_completion_tokens", Codec{ReasoningContent: true, MaxCompletionTokens: true}},
			} {
				enc, err := c.codec.EncodeRequest(&req)
				if err != nil {
					t.Fatalf("EncodeRequest (%s): %v", c.label, err)
				}
				if c.label == "default" {
					spec.Check(t, "CreateChatCompletionRequest", enc)
				}
				out.WriteString("// " + c.label + "\n")
				out.Write(indent(t, json.RawMessage(enc)))
			}
			golden(t, strings.TrimSuffix(path, ".json")+".golden", out.Bytes())
		})
	}
}

// TestResponseGolden decodes upstream answers (OpenAI's documented
// examples and DeepSeek's and vLLM's extensions) and re-encodes them for an
// OpenAI client, checking the result against OpenAI's schema.
func TestResponseGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range inputs(t, "response", ".json") {
		t.Run(name, func(t *testing.T) {
			resp, err := Codec{}.DecodeResponse(mustRead(t, path))
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			enc, err := Codec{}.EncodeResponse(resp)
			if err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			spec.Check(t, "CreateChatCompletionResponse", enc)
			golden(t, strings.TrimSuffix(path, ".json")+".golden", indent(t, struct {
				Neutral *llm.Response   `json:"neutral"`
				Encoded json.RawMessage `json:"encoded"`
			}{resp, enc}))

			enc, err = full.EncodeResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			spec.Check(t, "CreateChatCompletionResponse", enc)
			again, err := full.DecodeResponse(enc)
			if err != nil {
				t.Fatalf("decoding the re-encoded response: %v", err)
			}
			want := *resp
			want.StopSequence = "" // OpenAI's format has no place for it
			jsonEqual(t, "response after a round trip", again, &want)
		})
	}
}

// readEvents drains a stream reader, returning its events and the error
// that ended it.
func readEvents(t *testing.T, r llm.StreamReader) ([]llm.StreamEvent, error) {
	t.Helper()
	var evs []llm.StreamEvent
	for range 10000 {
		ev, err := r.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("the stream reader never ended")
	return nil, nil
}

// writeEvents re-encodes events as a client stream.
func writeEvents(t *testing.T, c Codec, evs []llm.StreamEvent, includeUsage bool) []byte {
	t.Helper()
	var out bytes.Buffer
	flushes := 0
	w := c.NewStreamWriterFor(&out, func() error { flushes++; return nil }, includeUsage)
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatalf("Write(%s): %v", ev.Type, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n\n")); n != flushes {
		t.Errorf("%d events written but %d flushes", n, flushes)
	}
	return out.Bytes()
}

// checkChunks validates every data event of a stream the writer produced
// against OpenAI's schemas.
func checkChunks(t *testing.T, spec *openaispec.Spec, sse []byte) {
	t.Helper()
	r := llm.NewSSEReader(bytes.NewReader(sse))
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.IsDone():
		case bytes.HasPrefix(ev.Data, []byte(`{"error"`)):
			spec.Check(t, "ErrorResponse", ev.Data)
		default:
			spec.Check(t, "CreateChatCompletionStreamResponse", ev.Data)
		}
	}
}

// withoutLostFields strips what a round trip through OpenAI's stream format cannot
// keep: the stop sequence, and an error's status, which a stream has no
// place for and which is derived again from the type.
func withoutLostFields(evs []llm.StreamEvent) []llm.StreamEvent {
	out := make([]llm.StreamEvent, len(evs))
	for i, ev := range evs {
		ev.StopSequence = ""
		if ev.Err != nil {
			e := *ev.Err
			e.Status = 0
			ev.Err = &e
		}
		out[i] = ev
	}
	return out
}

func endOf(err error) string {
	if errors.Is(err, io.EOF) {
		return "end: EOF"
	}
	var le *llm.Error
	if errors.As(err, &le) {
		b, _ := json.Marshal(le)
		return "end: error " + string(b)
	}
	return "end: unexpected error " + err.Error()
}

// TestStreamGolden reads upstream SSE transcripts as neutral events and
// writes them back as an OpenAI client stream, which must validate chunk by
// chunk against OpenAI's schema and read back as the same events.
func TestStreamGolden(t *testing.T) {
	spec := openaispec.ForTest(t)
	for name, path := range inputs(t, "stream", ".sse") {
		t.Run(name, func(t *testing.T) {
			evs, end := readEvents(t, Codec{}.NewStreamReader(bytes.NewReader(mustRead(t, path))))
			var lines bytes.Buffer
			for _, ev := range evs {
				b, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				lines.Write(b)
				lines.WriteByte('\n')
			}
			lines.WriteString(endOf(end) + "\n")
			base := strings.TrimSuffix(path, ".sse")
			golden(t, base+".events.golden", lines.Bytes())

			sse := writeEvents(t, Codec{}, evs, true)
			checkChunks(t, spec, sse)
			golden(t, base+".sse.golden", sse)

			// With reasoning on, a translation loses nothing.
			sse = writeEvents(t, full, evs, true)
			checkChunks(t, spec, sse)
			again, againEnd := readEvents(t, full.NewStreamReader(bytes.NewReader(sse)))
			if !errors.Is(againEnd, io.EOF) {
				t.Errorf("the re-encoded stream ended with %v", againEnd)
			}
			want := evs
			if !errors.Is(end, io.EOF) {
				// A stream cut off upstream reaches the client as an error
				// event, which is how the gateway reports it.
				var le *llm.Error
				errors.As(end, &le)
				want = append(want[:len(want):len(want)], llm.StreamEvent{Type: llm.EventError, Err: le})
				sse = writeEvents(t, full, want, true)
				checkChunks(t, spec, sse)
				again, _ = readEvents(t, full.NewStreamReader(bytes.NewReader(sse)))
			}
			jsonEqual(t, "events after a round trip", withoutLostFields(again), withoutLostFields(want))
		})
	}
}

// TestDecodeRequestErrors checks that every malformed or untranslatable
// request is a 400 invalid_request_error naming the field.
func TestDecodeRequestErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name string
		body string
		want string // a substring of the message
	}{
		{"not json", `{"model":`, "not valid JSON"},
		{"not an object", `[1,2]`, "must be a JSON object"},
		{"missing model", `{` + msgs + `}`, "'model'"},
		{"model not a string", `{"model":4,` + msgs + `}`, "invalid type for 'model': expected a string, but got a number"},
		{"missing messages", `{"model":"m"}`, "missing required parameter: 'messages'"},
		{"empty messages", `{"model":"m","messages":[]}`, "invalid 'messages': must contain at least one message"},
		{"messages not an array", `{"model":"m","messages":{}}`, "invalid type for 'messages'"},
		{"message not an object", `{"model":"m","messages":["hi"]}`, "'messages[0]'"},
		{"missing role", `{"model":"m","messages":[{"content":"hi"}]}`, "'messages[0].role'"},
		{"unknown role", `{"model":"m","messages":[{"role":"robot","content":"hi"}]}`, "invalid 'messages[0].role': unknown role \"robot\""},
		{"function role", `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"function","name":"f","content":"1"}]}`, "invalid 'messages[1].role': the deprecated \"function\" role"},
		{"missing user content", `{"model":"m","messages":[{"role":"user"}]}`, "missing required parameter: 'messages[0].content'"},
		{"content a number", `{"model":"m","messages":[{"role":"user","content":7}]}`, "invalid type for 'messages[0].content'"},
		{"part without type", `{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}`, "'messages[0].content[0].type'"},
		{"unknown part", `{"model":"m","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}`, "invalid 'messages[0].content[0].type': unknown content part type \"video\""},
		{"input audio", `{"model":"m",` + msgs[:len(msgs)-1] + `,{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"listen"},{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]}`, "invalid 'messages[2].content[1].type': \"input_audio\" content is not supported"},
		{"file", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "invalid 'messages[0].content[0].type': \"file\" content is not supported"},
		{"text part without text", `{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}`, "'messages[0].content[0].text'"},
		{"image without url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"detail":"low"}}]}]}`, "'messages[0].content[0].image_url.url'"},
		{"data url not base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,%3Csvg%3E"}}]}]}`, "invalid 'messages[0].content[0].image_url.url': data URLs must be base64-encoded"},
		{"data url without media type", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:;base64,AAAA"}}]}]}`, "must name the image's media type"},
		{"image part in system", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"hi"}]}`, "invalid 'messages[0].content[0].type': \"image_url\" parts are not allowed here"},
		{"image in assistant", `{"model":"m","messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, "'messages[0].content[0].type'"},
		{"tool without id", `{"model":"m","messages":[{"role":"tool","content":"42"}]}`, "missing required parameter: 'messages[0].tool_call_id'"},
		{"tool without content", `{"model":"m","messages":[{"role":"tool","tool_call_id":"c"}]}`, "missing required parameter: 'messages[0].content'"},
		{"tool call without id", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "'messages[0].tool_calls[0].id'"},
		{"tool call without name", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`, "'messages[0].tool_calls[0].function.name'"},
		{"custom tool call", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"f","input":"x"}}]}]}`, "invalid 'messages[0].tool_calls[0].type': custom tool calls are not supported"},
		{"assistant function_call", `{"model":"m","messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]}`, "invalid 'messages[0].function_call'"},
		{"legacy functions", `{"model":"m",` + msgs + `,"functions":[{"name":"f"}]}`, "'functions' belongs to the deprecated function-calling API"},
		{"legacy function_call", `{"model":"m",` + msgs + `,"function_call":"auto"}`, "'function_call' belongs to the deprecated"},
		{"custom tool", `{"model":"m",` + msgs + `,"tools":[{"type":"custom","custom":{"name":"grammar"}}]}`, "invalid 'tools[0].type': custom tools are not supported"},
		{"tool without function", `{"model":"m",` + msgs + `,"tools":[{"type":"function"}]}`, "missing required parameter: 'tools[0].function'"},
		{"tool without name", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"description":"d"}}]}`, "'tools[0].function.name'"},
		{"tool parameters not object", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]}`, "invalid type for 'tools[0].function.parameters'"},
		{"bad tool_choice", `{"model":"m",` + msgs + `,"tool_choice":"any"}`, "invalid 'tool_choice': unknown value \"any\""},
		{"tool_choice without name", `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{}}}`, "'tool_choice.function.name'"},
		{"allowed tool not in tools", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"b"}}]}}}`, "invalid 'tool_choice.allowed_tools.tools[0].function.name': no tool named \"b\""},
		{"both max tokens", `{"model":"m",` + msgs + `,"max_tokens":10,"max_completion_tokens":20}`, "'max_tokens' and 'max_completion_tokens' cannot both be set"},
		{"max tokens zero", `{"model":"m",` + msgs + `,"max_tokens":0}`, "invalid 'max_tokens': must be an integer from 1"},
		{"max tokens fractional", `{"model":"m",` + msgs + `,"max_completion_tokens":1.5}`, "invalid 'max_completion_tokens': expected an integer"},
		{"max tokens string", `{"model":"m",` + msgs + `,"max_tokens":"10"}`, "invalid type for 'max_tokens': expected an integer, but got a string"},
		{"temperature string", `{"model":"m",` + msgs + `,"temperature":"hot"}`, "invalid type for 'temperature'"},
		{"stop number", `{"model":"m",` + msgs + `,"stop":["a",3]}`, "invalid type for 'stop[1]'"},
		{"n greater than one", `{"model":"m",` + msgs + `,"n":2}`, "'n' greater than 1 is not supported"},
		{"n zero", `{"model":"m",` + msgs + `,"n":0}`, "invalid 'n'"},
		{"web search", `{"model":"m",` + msgs + `,"web_search_options":{}}`, "'web_search_options' is not supported"},
		{"response format type", `{"model":"m",` + msgs + `,"response_format":{"type":"yaml"}}`, "invalid 'response_format.type'"},
		{"json schema without name", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, "missing required parameter: 'response_format.json_schema.name'"},
		{"json schema missing", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema"}}`, "missing required parameter: 'response_format.json_schema'"},
		{"stream not bool", `{"model":"m",` + msgs + `,"stream":"yes"}`, "invalid type for 'stream'"},
		{"include_usage not bool", `{"model":"m",` + msgs + `,"stream_options":{"include_usage":1}}`, "invalid type for 'stream_options.include_usage'"},
		{"parallel not bool", `{"model":"m",` + msgs + `,"parallel_tool_calls":"no"}`, "invalid type for 'parallel_tool_calls'"},
		{"seed too large", `{"model":"m",` + msgs + `,"seed":1e300}`, "invalid 'seed'"},
		{"deep nesting", `{"model":"m",` + msgs + `,"metadata":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Codec{}.DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error; decoded %+v", req)
			}
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not an *llm.Error: %v", err, err)
			}
			if le.Status != 400 || le.Type != "invalid_request_error" {
				t.Errorf("status %d type %q, want 400 invalid_request_error", le.Status, le.Type)
			}
			if !strings.Contains(le.Message, tt.want) {
				t.Errorf("message %q does not contain %q", le.Message, tt.want)
			}
		})
	}
}

// TestDecodeRequestNoops checks that fields whose value asks for nothing
// are neither errors nor reported as dropped, and that null means absent.
func TestDecodeRequestNoops(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hi","name":null}],
		"n":1,"logprobs":false,"presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"store":false,
		"metadata":null,"modalities":["text"],"service_tier":"auto","verbosity":"medium","functions":[],
		"function_call":null,"temperature":null,"tools":null,"stop":null,"max_tokens":null,"max_completion_tokens":7,
		"stream_options":{"include_obfuscation":false}}`
	req, err := Codec{}.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Dropped) != 0 {
		t.Errorf("Dropped = %q, want none", req.Dropped)
	}
	if req.Temperature != nil || req.Stop != nil || req.MaxTokens == nil || *req.MaxTokens != 7 {
		t.Errorf("nulls were not read as absent: %+v", req)
	}
}

func TestDecodeRequestDetails(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *llm.Request)
	}{
		{
			name: "parallel false without tool_choice",
			body: `{"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"f"}}]}`,
			check: func(t *testing.T, r *llm.Request) {
				want := &llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true}
				if !reflect.DeepEqual(r.ToolChoice, want) {
					t.Errorf("ToolChoice = %+v, want %+v", r.ToolChoice, want)
				}
			},
		},
		{
			name: "tool_choice without tools constrains nothing",
			body: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"none","parallel_tool_calls":false}`,
			check: func(t *testing.T, r *llm.Request) {
				if r.ToolChoice != nil {
					t.Errorf("ToolChoice = %+v, want nil", r.ToolChoice)
				}
			},
		},
		{
			name: "user wins over safety_identifier",
			body: `{"model":"m","messages":[{"role":"user","content":"x"}],"safety_identifier":"s","user":"u"}`,
			check: func(t *testing.T, r *llm.Request) {
				if r.User != "u" || !reflect.DeepEqual(r.Dropped, []string{"safety_identifier"}) {
					t.Errorf("User %q Dropped %q", r.User, r.Dropped)
				}
			},
		},
		{
			name: "arguments as an object",
			body: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":{"a":1}}}]}]}`,
			check: func(t *testing.T, r *llm.Request) {
				if got := r.Messages[0].ToolCalls[0].Arguments; got != `{"a":1}` {
					t.Errorf("Arguments = %s", got)
				}
			},
		},
		{
			name: "bare image url string and upper-case data scheme",
			body: `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/a.png"},{"type":"image_url","image_url":{"url":"DATA:Image/PNG;base64,AAAA"}}]}]}`,
			check: func(t *testing.T, r *llm.Request) {
				p := r.Messages[0].Parts
				if p[0].ImageURL != "https://x/a.png" || p[1].MediaType != "image/png" || p[1].Data != "AAAA" {
					t.Errorf("parts = %+v", p)
				}
			},
		},
		{
			name: "integral float forms",
			body: `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1e3,"seed":-5.0}`,
			check: func(t *testing.T, r *llm.Request) {
				if *r.MaxTokens != 1000 || *r.Seed != -5 {
					t.Errorf("MaxTokens %d Seed %d", *r.MaxTokens, *r.Seed)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Codec{}.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{"image in system", llm.Request{Model: "m", System: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x"}}}, "system[0]"},
		{"image in assistant", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x"}}}}}, "messages[0].parts[0]"},
		{"inline image without media type", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Data: "AAAA"}}}}}, "media type"},
		{"unknown role", llm.Request{Model: "m", Messages: []llm.Message{{Role: "system"}}}, "unknown role"},
		{"bad parameters", llm.Request{Model: "m", Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{`)}}}, "encoding the request"},
		{"unknown response format", llm.Request{Model: "m", ResponseFormat: &llm.ResponseFormat{Type: "xml"}}, "response format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.EncodeRequest(&tt.req)
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 400 {
				t.Fatalf("err = %v, want an *llm.Error with status 400", err)
			}
			if !strings.Contains(le.Message, tt.want) {
				t.Errorf("message %q does not contain %q", le.Message, tt.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   llm.Error
	}{
		{
			name: "openai", status: 400,
			body: `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			want: llm.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "This model's maximum context length is 8192 tokens."},
		},
		{
			name: "openai rate limit", status: 429,
			body: `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			want: llm.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached for requests"},
		},
		{
			name: "ollama", status: 404, body: `{"error":"model \"llama9\" not found, try pulling it first"}`,
			want: llm.Error{Status: 404, Type: "not_found_error", Message: `model "llama9" not found, try pulling it first`},
		},
		{
			name: "vllm", status: 400,
			body: `{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":null,"code":400}`,
			want: llm.Error{Status: 400, Type: "BadRequestError", Code: "400", Message: "max_tokens must be at least 1, got 0."},
		},
		{
			name: "fastapi detail", status: 422, body: `{"detail":[{"loc":["body","model"],"msg":"field required"}]}`,
			want: llm.Error{Status: 422, Type: "invalid_request_error", Message: `[{"loc":["body","model"],"msg":"field required"}]`},
		},
		{
			name: "gemini array", status: 401, body: `[{"error":{"code":401,"message":"API key not valid.","status":"UNAUTHENTICATED"}}]`,
			want: llm.Error{Status: 401, Type: "authentication_error", Code: "401", Message: "API key not valid."},
		},
		{
			name: "html", status: 502, body: "<html><body>Bad Gateway</body></html>",
			want: llm.Error{Status: 502, Type: "upstream_error", Message: "the upstream answered HTTP Bad Gateway: <html><body>Bad Gateway</body></html>"},
		},
		{
			name: "empty body", status: 503, body: "",
			want: llm.Error{Status: 503, Type: "upstream_error", Message: "the upstream answered HTTP Service Unavailable"},
		},
		{
			name: "error with status 200", status: 200, body: `{"error":{"message":"overloaded","type":"server_error"}}`,
			want: llm.Error{Status: 502, Type: "server_error", Message: "overloaded"},
		},
		{
			name: "long text is truncated", status: 500, body: strings.Repeat("é", 400),
			want: llm.Error{Status: 500, Type: "upstream_error", Message: "the upstream answered HTTP Internal Server Error: " + strings.Repeat("é", 256) + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Codec{}.DecodeError(tt.status, []byte(tt.body))
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	spec := openaispec.ForTest(t)
	tests := []struct {
		name string
		in   *llm.Error
		want string
	}{
		{"with code", &llm.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "too long"},
			`{"error":{"message":"too long","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}}`},
		{"type from status", &llm.Error{Status: 429, Message: "slow down <now>"},
			`{"error":{"message":"slow down <now>","type":"rate_limit_error","param":null,"code":null}}`},
		{"nil", nil, `{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Codec{}.EncodeError(tt.in)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			spec.Check(t, "ErrorResponse", got)
		})
	}
}

// TestStreamReaderErrors covers what a broken upstream stream does.
func TestStreamReaderErrors(t *testing.T) {
	const start = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	tests := []struct {
		name   string
		stream string
		last   llm.StreamEventType // the last event before the end
		want   string              // substring of the error; "" for io.EOF
	}{
		{"not json", start + "data: {oops\n\n", llm.EventStart, "not JSON"},
		{"not an object", start + "data: 42\n\n", llm.EventStart, "not a JSON object"},
		{"cut before finish", start, llm.EventStart, "ended before it finished"},
		{"finish without done", start + `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n", llm.EventFinish, ""},
		{"done without finish", start + "data: [DONE]\n\n", llm.EventFinish, ""},
		{"error string", start + `data: {"error":"boom"}` + "\n\n", llm.EventError, ""},
		{"empty body", "", "", "ended before it finished"},
		{"oversized event", "data: " + strings.Repeat("x", llm.DefaultMaxEventSize+1) + "\n\n", "", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := readEvents(t, Codec{}.NewStreamReader(strings.NewReader(tt.stream)))
			var last llm.StreamEventType
			if len(evs) > 0 {
				last = evs[len(evs)-1].Type
			}
			if last != tt.last {
				t.Errorf("last event %q, want %q", last, tt.last)
			}
			if tt.want == "" {
				if !errors.Is(err, io.EOF) {
					t.Errorf("ended with %v, want io.EOF", err)
				}
				return
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Status != 502 || !strings.Contains(le.Message, tt.want) {
				t.Errorf("ended with %v, want a 502 *llm.Error containing %q", err, tt.want)
			}
		})
	}
}

// TestStreamWriter covers the writer's handling of events out of the
// ordinary order.
func TestStreamWriter(t *testing.T) {
	spec := openaispec.ForTest(t)
	t.Run("no start, foreign tool indexes, no usage asked", func(t *testing.T) {
		var out bytes.Buffer
		w := Codec{}.NewStreamWriter(&out, nil)
		for _, ev := range []llm.StreamEvent{
			{Type: llm.EventThinking, Text: "hidden"},
			{Type: llm.EventToolCallStart, Index: 3, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "f"}},
			{Type: llm.EventToolCallArgs, Index: 3, Text: `{"a":`},
			{Type: llm.EventToolCallStart, Index: 3, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "f"}},
			{Type: llm.EventToolCallArgs, Index: 3, Text: `1}`},
			{Type: llm.EventToolCallStart, Index: 7, ToolCall: &llm.ToolCall{ID: "toolu_2", Name: "g"}},
			{Type: llm.EventFinish},
			{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 3, Present: true}},
		} {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkChunks(t, spec, out.Bytes())
		s := out.String()
		for _, want := range []string{
			`"delta":{"role":"assistant","content":"","refusal":null}`,
			`"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"f","arguments":""}}]`,
			`"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]`,
			`"tool_calls":[{"index":1,"id":"toolu_2"`,
			`"finish_reason":"tool_calls"`,
		} {
			if !strings.Contains(s, want) {
				t.Errorf("stream lacks %s:\n%s", want, s)
			}
		}
		for _, unwanted := range []string{"hidden", "usage", `"choices":[]`} {
			if strings.Contains(s, unwanted) {
				t.Errorf("stream contains %s:\n%s", unwanted, s)
			}
		}
		if !strings.HasSuffix(s, "data: [DONE]\n\n") {
			t.Errorf("stream does not end with [DONE]:\n%s", s)
		}
	})
	t.Run("error ends the stream", func(t *testing.T) {
		var out bytes.Buffer
		w := Codec{}.NewStreamWriterFor(&out, nil, true)
		_ = w.Write(llm.StreamEvent{Type: llm.EventStart, ID: "x", Model: "m", Created: 1})
		if err := w.Write(llm.StreamEvent{Type: llm.EventError, Err: &llm.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(llm.StreamEvent{Type: llm.EventText, Text: "late"}); err == nil {
			t.Error("a write after the error succeeded")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkChunks(t, spec, out.Bytes())
		want := `data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}` + "\n\n"
		if !strings.HasSuffix(out.String(), want) || strings.Contains(out.String(), "[DONE]") {
			t.Errorf("got:\n%s", out.String())
		}
	})
	t.Run("whole tool call at start, repeated finish", func(t *testing.T) {
		var out bytes.Buffer
		w := Codec{}.NewStreamWriter(&out, nil)
		for _, ev := range []llm.StreamEvent{
			{Type: llm.EventStart, ID: "g1", Model: "gemini-2.5-flash", Created: 5},
			{Type: llm.EventToolCallStart, ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: `{"x":1}`}},
			{Type: llm.EventFinish, Finish: llm.FinishToolCalls},
			{Type: llm.EventFinish, Finish: llm.FinishStop},
		} {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		_ = w.Close()
		checkChunks(t, spec, out.Bytes())
		s := out.String()
		if !strings.Contains(s, `"function":{"name":"f","arguments":"{\"x\":1}"}`) || strings.Count(s, "finish_reason\":\"") != 1 {
			t.Errorf("got:\n%s", s)
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		w := Codec{}.NewStreamWriter(failingWriter{}, nil)
		err := w.Write(llm.StreamEvent{Type: llm.EventText, Text: "x"})
		if err == nil || w.Close() == nil {
			t.Fatalf("errors not reported: %v", err)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestEncodeResponseDefaults(t *testing.T) {
	spec := openaispec.ForTest(t)
	b, err := Codec{}.EncodeResponse(&llm.Response{
		Model:   "claude-haiku-4-5",
		Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "f", Arguments: "{}"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	spec.Check(t, "CreateChatCompletionResponse", b)
	for _, want := range []string{`"id":"chatcmpl-`, `"content":null`, `"refusal":null`, `"finish_reason":"tool_calls"`, `"usage":{"prompt_tokens":0`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("response lacks %s: %s", want, b)
		}
	}
	if bytes.Contains(b, []byte(`"created":0`)) {
		t.Errorf("created not filled in: %s", b)
	}
}

// TestEncodeRequestDropped checks what EncodeRequest appends to
// Request.Dropped: exactly what it leaves out, once each, after what the
// inbound decoder listed, and nothing for fields it sends or that ask for
// nothing.
func TestEncodeRequestDropped(t *testing.T) {
	text := func(s string) llm.Part { return llm.Part{Type: llm.PartText, Text: s} }
	user := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{text("hi")}}
	call := llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}}
	seed, topK := int64(7), 40
	tests := []struct {
		name  string
		codec Codec
		req   llm.Request
		want  []string
	}{
		{
			name: "everything sent",
			req: llm.Request{
				Messages:       []llm.Message{{Role: llm.RoleUser, Name: "ann", Parts: []llm.Part{text("hi"), {Type: llm.PartImage, ImageURL: "https://x/a.png", Detail: "low"}}}},
				Tools:          []llm.Tool{{Name: "f", Strict: true}},
				ToolChoice:     &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true},
				Seed:           &seed,
				User:           "u1",
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "r", Strict: true, Schema: json.RawMessage(`{"type":"object"}`)},
				Reasoning:      &llm.Reasoning{Effort: "low"},
				Stream:         true,
				IncludeUsage:   true,
			},
		},
		{
			name: "inbound drops kept first",
			req:  llm.Request{Messages: []llm.Message{user}, TopK: &topK, Dropped: []string{"logit_bias"}},
			want: []string{"logit_bias", "top_k"},
		},
		{
			name: "tool choice without tools constrains nothing",
			req:  llm.Request{Messages: []llm.Message{user}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone, DisableParallel: true}},
		},
		{
			name: "reasoning budget without effort",
			req:  llm.Request{Messages: []llm.Message{user}, Reasoning: &llm.Reasoning{BudgetTokens: 4000}},
			want: []string{"reasoning.budget_tokens"},
		},
		{
			name: "reasoning budget beside an effort",
			req:  llm.Request{Messages: []llm.Message{user}, Reasoning: &llm.Reasoning{Effort: "high", BudgetTokens: -1}},
			want: []string{"reasoning.budget_tokens"},
		},
		{
			name: "thinking without reasoning_content",
			req: llm.Request{Messages: []llm.Message{user, {Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}, {Type: llm.PartThinking, Data: "opaque"}, text("ok"),
			}}}},
			want: []string{"messages[].parts[] (thinking)"},
		},
		{
			name:  "thinking with reasoning_content",
			codec: Codec{ReasoningContent: true},
			req: llm.Request{Messages: []llm.Message{user, {Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}, {Type: llm.PartThinking, Data: "opaque"}, text("ok"),
			}}}},
			want: []string{"messages[].parts[].signature", "messages[].parts[] (redacted thinking)"},
		},
		{
			name:  "unsigned thinking with reasoning_content",
			codec: Codec{ReasoningContent: true},
			req:   llm.Request{Messages: []llm.Message{user, {Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Text: "hmm"}, text("ok")}}}},
		},
		{
			name: "thinking outside assistant turns",
			req: llm.Request{
				System: []llm.Part{text("be brief"), {Type: llm.PartThinking, Text: "s"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), {Type: llm.PartThinking, Text: "u"}}},
					call,
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("42"), {Type: llm.PartThinking, Text: "t"}}},
				},
			},
			want: []string{"system[] (thinking)", "messages[].parts[] (thinking)"},
		},
		{
			name: "cache markers",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartText, Text: "long prompt", CacheControl: "ephemeral"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x/a.png", CacheControl: "ephemeral"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "seen", CacheControl: "ephemeral"}}},
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "and?", CacheControl: "ephemeral"}}},
				},
			},
			want: []string{"system[].cache_control", "messages[].parts[].cache_control"},
		},
		{
			name: "tool results with error flags and names, once each",
			req: llm.Request{Messages: []llm.Message{
				user,
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f"}, {ID: "c2", Name: "f"}}},
				{Role: llm.RoleTool, ToolCallID: "c1", Name: "f", IsError: true, Parts: []llm.Part{text("boom")}},
				{Role: llm.RoleTool, ToolCallID: "c2", Name: "f", IsError: true, Parts: []llm.Part{
					text("boom again"), {Type: llm.PartImage, Data: "AAAA", MediaType: "image/png", CacheControl: "ephemeral"},
				}},
			}},
			want: []string{"messages[].name", "messages[].is_error", "messages[].parts[].cache_control"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = "m"
			for range 2 { // encoding again, as each attempt does, adds nothing
				if _, err := tt.codec.EncodeRequest(&tt.req); err != nil {
					t.Fatalf("EncodeRequest: %v", err)
				}
			}
			if !reflect.DeepEqual(tt.req.Dropped, tt.want) {
				t.Errorf("Dropped = %q, want %q", tt.req.Dropped, tt.want)
			}
		})
	}
}
