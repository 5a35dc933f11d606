package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// start serves a mock on a loopback port for the duration of the test and
// returns its base URL.
func start(t *testing.T, cfg config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(cfg).fasthttp()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func testConfig() config {
	return config{chunks: 4, chunkDelay: time.Millisecond, embeddingDims: 8}
}

func sdk(base string) openai.Client {
	return openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
}

// The official SDK is the client: if it decodes what the mock sends, so will
// the gateway's consumers.
func TestChatCompletionWithSDK(t *testing.T) {
	client := sdk(start(t, testConfig()))
	got, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "gpt-4o-mini" || len(got.Choices) != 1 || got.Choices[0].Message.Content != completionText {
		t.Errorf("unexpected completion: %+v", got)
	}
	if got.Usage.CompletionTokens != completionTokens || got.Usage.TotalTokens != got.Usage.PromptTokens+completionTokens {
		t.Errorf("unexpected usage: %+v", got.Usage)
	}
}

func TestChatStreamWithSDK(t *testing.T) {
	tests := []struct {
		name         string
		includeUsage bool
	}{
		{name: "without usage", includeUsage: false},
		{name: "with usage", includeUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			client := sdk(start(t, cfg))
			params := openai.ChatCompletionNewParams{
				Model:    "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
			}
			if tt.includeUsage {
				params.StreamOptions.IncludeUsage = openai.Bool(true)
			}
			stream := client.Chat.Completions.NewStreaming(context.Background(), params)
			defer stream.Close()
			var acc openai.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				acc.AddChunk(stream.Current())
				chunks++
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			// role chunk + content chunks + finish chunk (+ usage chunk)
			wantChunks := cfg.chunks + 2
			if tt.includeUsage {
				wantChunks++
			}
			if chunks != wantChunks {
				t.Errorf("got %d chunks, want %d", chunks, wantChunks)
			}
			if got, want := acc.Choices[0].Message.Content, "Hello! This is"; got != want {
				t.Errorf("content = %q, want %q", got, want)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("finish reason = %q", acc.Choices[0].FinishReason)
			}
			if gotUsage := acc.Usage.CompletionTokens; tt.includeUsage != (gotUsage == int64(cfg.chunks)) {
				t.Errorf("completion tokens = %d with include_usage %v", gotUsage, tt.includeUsage)
			}
		})
	}
}

func TestEmbeddingsWithSDK(t *testing.T) {
	cfg := testConfig()
	client := sdk(start(t, cfg))
	got, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: openai.EmbeddingModelTextEmbedding3Small,
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b", "c"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 3 {
		t.Fatalf("got %d embeddings, want 3", len(got.Data))
	}
	var norm float64
	for _, x := range got.Data[2].Embedding {
		norm += x * x
	}
	if len(got.Data[2].Embedding) != cfg.embeddingDims || math.Abs(norm-1) > 1e-5 {
		t.Errorf("embedding has %d dims and norm %f, want %d and 1", len(got.Data[2].Embedding), norm, cfg.embeddingDims)
	}
}

func TestEmbeddingsBase64(t *testing.T) {
	cfg := testConfig()
	base := start(t, cfg)
	resp, err := http.Post(base+"/v1/embeddings", "application/json",
		strings.NewReader(`{"model":"text-embedding-3-small","input":"hi","encoding_format":"base64"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Data) != 1 {
		t.Fatalf("got %d embeddings, want 1", len(body.Data))
	}
	raw, err := base64.StdEncoding.DecodeString(body.Data[0].Embedding)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*cfg.embeddingDims {
		t.Fatalf("got %d bytes, want %d", len(raw), 4*cfg.embeddingDims)
	}
	first := math.Float32frombits(binary.LittleEndian.Uint32(raw))
	if first <= 0 {
		t.Errorf("first component = %f, want sin(1)/norm > 0", first)
	}
}

func TestErrors(t *testing.T) {
	base := start(t, testConfig())
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{name: "unknown path", method: http.MethodPost, path: "/v1/nope", body: "{}", want: http.StatusNotFound},
		{name: "chat with GET", method: http.MethodGet, path: "/v1/chat/completions", want: http.StatusMethodNotAllowed},
		{name: "embeddings without input", method: http.MethodPost, path: "/v1/embeddings", body: `{"model":"x"}`, want: http.StatusBadRequest},
		{name: "health", method: http.MethodGet, path: "/healthz", want: http.StatusOK},
		{name: "models", method: http.MethodGet, path: "/v1/models", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.want, body)
			}
			if resp.StatusCode >= 400 && !json.Valid(body) {
				t.Errorf("error body is not JSON: %s", body)
			}
		})
	}
}

func TestParseChat(t *testing.T) {
	tests := []struct {
		name string
		body string
		want chatRequest
	}{
		{name: "plain", body: `{"model":"gpt-4o-mini","messages":[]}`,
			want: chatRequest{model: `"gpt-4o-mini"`}},
		{name: "stream", body: `{"model":"m","stream":true}`,
			want: chatRequest{model: `"m"`, stream: true}},
		{name: "stream with spaces", body: `{"model": "m", "stream" : true}`,
			want: chatRequest{model: `"m"`, stream: true}},
		{name: "stream false", body: `{"model":"m","stream":false,"stream_options":{"include_usage":true}}`,
			want: chatRequest{model: `"m"`}},
		{name: "stream with usage", body: `{"stream":true,"stream_options":{"include_usage":true}}`,
			want: chatRequest{model: defaultModel, stream: true, includeUsage: true}},
		{name: "stream word in content", body: `{"model":"m","messages":[{"content":"\"stream\":true"}]}`,
			want: chatRequest{model: `"m"`}},
		{name: "escaped model", body: `{"model":"a\"b"}`,
			want: chatRequest{model: `"a\"b"`}},
		{name: "model not a string", body: `{"model":7}`,
			want: chatRequest{model: defaultModel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseChat([]byte(tt.body))
			got.promptTokens = 0
			if got != tt.want {
				t.Errorf("parseChat(%s) = %+v, want %+v", tt.body, got, tt.want)
			}
		})
	}
}

func FuzzParseChat(f *testing.F) {
	f.Add([]byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`))
	f.Add([]byte(`{"model":"a\u0000\"b"}`))
	f.Add([]byte(`{"model":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := parseChat(body)
		// The model is spliced into responses as it is, so it must always
		// be a valid JSON string.
		var s string
		if err := json.Unmarshal([]byte(req.model), &s); err != nil {
			t.Fatalf("model %q is not a JSON string: %v", req.model, err)
		}
		if req.includeUsage && !req.stream {
			t.Fatal("include_usage without stream")
		}
	})
}

// The transcripts are compared to golden files so that a change of wire
// format is a reviewed diff.
func TestTranscripts(t *testing.T) {
	s := newServer(config{chunks: 3, embeddingDims: 4})
	const created = 1767225600
	tests := []struct {
		name   string
		render func() []byte
	}{
		{name: "completion.json", render: func() []byte {
			return appendCompletion(nil, 1, created, parseChat([]byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`)), completionText)
		}},
		{name: "stream.sse", render: func() []byte {
			var out bytes.Buffer
			w := bufio.NewWriter(&out)
			if err := s.writeStream(w, 2, created, parseChat([]byte(`{"model":"gpt-4o-mini","stream":true}`))); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
		{name: "stream-usage.sse", render: func() []byte {
			var out bytes.Buffer
			w := bufio.NewWriter(&out)
			if err := s.writeStream(w, 3, created, parseChat([]byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`))); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.render()
			path := filepath.Join("testdata", tt.name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("transcript differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
			if strings.HasSuffix(tt.name, ".json") && !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
			if strings.HasSuffix(tt.name, ".sse") {
				for _, event := range strings.Split(strings.TrimSuffix(string(got), "\n\n"), "\n\n") {
					data := strings.TrimPrefix(event, "data: ")
					if data != "[DONE]" && !json.Valid([]byte(data)) {
						t.Errorf("event is not JSON: %s", event)
					}
				}
			}
		})
	}
}

// TestDegradedAnswers checks -fail-every and -empty-every: every third call
// fails with OpenAI's error shape, and every second of the others is empty.
func TestDegradedAnswers(t *testing.T) {
	cfg := testConfig()
	cfg.failEvery, cfg.emptyEvery = 3, 2
	client := sdk(start(t, cfg))
	var got []string
	for range 6 {
		c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
		})
		var apiErr *openai.Error
		switch {
		case err == nil && c.Choices[0].Message.Content == "":
			got = append(got, "empty")
		case err == nil:
			got = append(got, "ok")
		case errors.As(err, &apiErr) && apiErr.StatusCode == 500 && apiErr.Type == "server_error":
			got = append(got, "500")
		default:
			t.Fatalf("call: %v", err)
		}
	}
	// Calls 1–6: 3 and 6 fail; of the others, the even-numbered (2 and 4) are empty.
	if want := "ok empty 500 empty ok 500"; strings.Join(got, " ") != want {
		t.Errorf("answers %q, want %q", strings.Join(got, " "), want)
	}
	if err := (config{chunks: 1, embeddingDims: 1, failEvery: -1}).validate(); err == nil {
		t.Error("a negative -fail-every was accepted")
	}
}
