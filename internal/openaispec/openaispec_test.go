package openaispec_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hypergate/hypergate/internal/openaispec"
)

// TestOpenAISchemas checks documents shaped like the gateway's responses
// against the real OpenAI description. It needs the description; without it
// there is nothing to check, which ForTest has already said in the log.
func TestOpenAISchemas(t *testing.T) {
	spec := openaispec.ForTest(t)
	if spec == nil {
		t.Skip("OpenAI description absent; see log above")
	}
	tests := []struct {
		name   string
		schema string
		doc    string
		// wantErr lists substrings the error must contain; nil means valid.
		wantErr []string
	}{
		{
			name:   "chat completion",
			schema: "CreateChatCompletionResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"message":{"role":"assistant","content":"Hello.","refusal":null,"annotations":[]},
				"logprobs":null,"finish_reason":"stop"}],
				"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,
				"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
				"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
				"service_tier":"default","system_fingerprint":"fp_1"}`,
		},
		{
			name:   "chat completion with a tool call",
			schema: "CreateChatCompletionResponse",
			doc: `{"id":"chatcmpl-2","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,
				"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
				"logprobs":null,"finish_reason":"tool_calls"}]}`,
		},
		{
			name:    "chat completion without choices",
			schema:  "CreateChatCompletionResponse",
			doc:     `{"id":"chatcmpl-1","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini"}`,
			wantErr: []string{"choices", `at ""`},
		},
		{
			name:   "chat completion with an unknown finish reason",
			schema: "CreateChatCompletionResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":"done"}]}`,
			wantErr: []string{`at "/choices/0/finish_reason"`},
		},
		{
			name:    "chat completion with the wrong object",
			schema:  "CreateChatCompletionResponse",
			doc:     `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}`,
			wantErr: []string{`at "/object"`},
		},
		{
			name:   "stream chunk with a delta",
			schema: "CreateChatCompletionStreamResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",
				"system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},
				"logprobs":null,"finish_reason":null}]}`,
		},
		{
			name:   "stream chunk with usage null before the end",
			schema: "CreateChatCompletionStreamResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}`,
		},
		{
			name:   "final stream chunk with a finish reason",
			schema: "CreateChatCompletionStreamResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`,
		},
		{
			name:   "usage-only final stream chunk",
			schema: "CreateChatCompletionStreamResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",
				"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`,
		},
		{
			name:   "stream chunk whose delta lacks finish_reason",
			schema: "CreateChatCompletionStreamResponse",
			doc: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini",
				"choices":[{"index":0,"delta":{"content":"x"}}]}`,
			wantErr: []string{`at "/choices/0"`, "finish_reason"},
		},
		{
			name:   "embeddings list",
			schema: "CreateEmbeddingResponse",
			doc: `{"object":"list","model":"text-embedding-3-small",
				"data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,0.015797347]}],
				"usage":{"prompt_tokens":8,"total_tokens":8}}`,
		},
		{
			name:    "embeddings list without usage",
			schema:  "CreateEmbeddingResponse",
			doc:     `{"object":"list","model":"m","data":[]}`,
			wantErr: []string{"usage"},
		},
		{
			name:   "error with null param and code",
			schema: "ErrorResponse",
			doc:    `{"error":{"message":"x","type":"invalid_request_error","param":null,"code":null}}`,
		},
		{
			name:   "error with param and code",
			schema: "ErrorResponse",
			doc:    `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":"model","code":"invalid_api_key"}}`,
		},
		{
			name:    "error without param and code",
			schema:  "ErrorResponse",
			doc:     `{"error":{"message":"x","type":"invalid_request_error"}}`,
			wantErr: []string{`at "/error"`, "param", "code"},
		},
		{
			name:   "model list",
			schema: "ListModelsResponse",
			doc: `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1686935002,"owned_by":"openai"},
				{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}`,
		},
		{
			name:    "model list with a model missing owned_by",
			schema:  "ListModelsResponse",
			doc:     `{"object":"list","data":[{"id":"m","object":"model","created":1}]}`,
			wantErr: []string{`at "/data/0"`, "owned_by"},
		},
		{
			name:    "document that is not JSON",
			schema:  "ErrorResponse",
			doc:     `{"error":`,
			wantErr: []string{"not JSON"},
		},
		{
			name:    "schema the description does not define",
			schema:  "NoSuchResponse",
			doc:     `{}`,
			wantErr: []string{"components/schemas/NoSuchResponse"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.Validate(tt.schema, []byte(tt.doc))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate(%s): %v", tt.schema, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%s) accepted %s", tt.schema, tt.doc)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate(%s) error does not mention %q:\n%v", tt.schema, want, err)
				}
			}
		})
	}
}

func TestViolationsAreStructured(t *testing.T) {
	spec := openaispec.ForTest(t)
	if spec == nil {
		t.Skip("OpenAI description absent; see log above")
	}
	err := spec.Validate("CreateChatCompletionResponse", []byte(`{"id":1,"object":"chat.completion","created":1,"model":"m"}`))
	var ve *openaispec.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate error %v (%T) is not a *ValidationError", err, err)
	}
	if ve.Schema != "CreateChatCompletionResponse" {
		t.Errorf("Schema = %q", ve.Schema)
	}
	got := map[string]bool{}
	for _, v := range ve.Violations {
		got[v.Pointer] = true
		if !strings.HasPrefix(v.Keyword, "/components/schemas/CreateChatCompletionResponse/") {
			t.Errorf("violation %+v has keyword outside the schema", v)
		}
	}
	for _, want := range []string{"", "/id"} {
		if !got[want] {
			t.Errorf("no violation at %q; got %+v", want, ve.Violations)
		}
	}
}

// TestEveryComponentCompiles proves the OpenAPI-to-JSON-Schema translation
// covers the whole description, so a test naming any component will not hit
// a compile error the first time it does.
func TestEveryComponentCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles all ~1400 components; skipped in -short")
	}
	spec := openaispec.ForTest(t)
	if spec == nil {
		t.Skip("OpenAI description absent; see log above")
	}
	names := spec.Names()
	if len(names) < 100 {
		t.Fatalf("only %d components in %s", len(names), spec.Path())
	}
	for _, name := range names {
		// Any document will do: a failure to compile is reported as an
		// error that is not a *ValidationError.
		err := spec.Validate(name, []byte(`null`))
		var ve *openaispec.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAbsentSpec(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere", "openai-openapi.yaml")
	t.Setenv(openaispec.EnvPath, missing)

	spec, err := openaispec.Load()
	if spec != nil || !errors.Is(err, openaispec.ErrAbsent) {
		t.Fatalf("Load() = %v, %v; want nil, ErrAbsent", spec, err)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("Load error %q does not name the path looked at", err)
	}

	tests := []struct {
		name string
		ci   string
		want string
	}{
		{name: "outside CI", ci: "", want: "OpenAI spec check did not run"},
		{name: "under CI", ci: "true", want: "OPENAI SPEC CHECK DID NOT RUN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec := &recorder{TB: t}
			if got := openaispec.ForTest(rec); got != nil {
				t.Fatalf("ForTest returned %v for an absent description", got)
			}
			if len(rec.errors) != 0 {
				t.Errorf("ForTest failed the test: %q", rec.errors)
			}
			if len(rec.logs) != 1 {
				t.Fatalf("ForTest logged %d lines, want 1: %q", len(rec.logs), rec.logs)
			}
			for _, want := range []string{tt.want, missing, openaispec.EnvPath} {
				if !strings.Contains(rec.logs[0], want) {
					t.Errorf("log %q does not contain %q", rec.logs[0], want)
				}
			}
			// Check on the nil spec must be a no-op, not a panic.
			got := openaispec.ForTest(rec)
			got.Check(rec, "ErrorResponse", []byte(`not even JSON`))
			if len(rec.errors) != 0 {
				t.Errorf("Check on a nil spec reported %q", rec.errors)
			}
		})
	}
}

func TestBrokenSpecFailsTheTest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openai-openapi.yaml")
	if err := os.WriteFile(path, []byte("openapi: 3.0.3\ncomponents:\n  schemas:\n    A: {type: object}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(openaispec.EnvPath, path)
	if _, err := openaispec.Load(); err == nil || errors.Is(err, openaispec.ErrAbsent) {
		t.Fatalf("Load of a 3.0 description: %v; want a non-absent error", err)
	}
	rec := &recorder{TB: t}
	if openaispec.ForTest(rec) != nil || len(rec.errors) != 1 {
		t.Errorf("ForTest on an unusable description: errors %q, want one", rec.errors)
	}
}

func TestLocate(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// This package sits two levels below the module root.
	root := filepath.Dir(filepath.Dir(wd))
	abs := filepath.Join(t.TempDir(), "spec.yaml")
	tests := []struct {
		name string
		env  string
		want string
	}{
		{name: "default beside the module root", env: "", want: filepath.Join(filepath.Dir(root), "shared", "specs", "openai-openapi.yaml")},
		{name: "absolute override", env: abs, want: abs},
		{name: "relative override is taken from the module root", env: "specs/o.yaml", want: filepath.Join(root, "specs", "o.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(openaispec.EnvPath, tt.env)
			got, err := openaispec.Locate()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Locate() = %q, want %q", got, tt.want)
			}
		})
	}
}

// useMini points the package at the small description in testdata, which
// exercises every rewrite without needing the real one.
func useMini(t *testing.T) *openaispec.Spec {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "mini-openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(openaispec.EnvPath, path)
	spec, err := openaispec.Load()
	if err != nil {
		t.Fatalf("Load mini description: %v", err)
	}
	return spec
}

func TestMiniSpec(t *testing.T) {
	spec := useMini(t)
	if spec.Version() != "0.0.1" || !spec.Has("Chunk") || spec.Has("Nope") {
		t.Fatalf("mini description read wrongly: version %q, names %v", spec.Version(), spec.Names())
	}
	tests := []struct {
		name    string
		schema  string
		doc     string
		wantErr []string
	}{
		{name: "nullable enum accepts null", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null}`},
		{name: "nullable enum accepts a member", schema: "Chunk", doc: `{"object":"chunk","finish_reason":"stop"}`},
		{name: "nullable enum still rejects others", schema: "Chunk", doc: `{"object":"chunk","finish_reason":"done"}`, wantErr: []string{`at "/finish_reason"`}},
		{name: "nullable ref accepts null", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"usage":null}`},
		{name: "nullable ref still checks objects", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"usage":{}}`, wantErr: []string{`at "/usage"`, "total_tokens"}},
		{name: "nullable array accepts null", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"tags":null}`},
		{name: "nullable array checks items", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"tags":[1]}`, wantErr: []string{`at "/tags/0"`}},
		{name: "exclusive minimum excludes the bound", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"count":0}`, wantErr: []string{`at "/count"`}},
		{name: "exclusive minimum admits above the bound", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"count":1}`},
		{name: "inclusive maximum admits the bound", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"ratio":1}`},
		{name: "unknown format is not asserted", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"created":1741570283}`},
		{name: "recursive filter nests", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"filter":{"filters":["a",{"filters":["b"]}]}}`},
		{name: "recursive filter checks the nested level", schema: "Chunk", doc: `{"object":"chunk","finish_reason":null,"filter":{"filters":[{"filters":[1]}]}}`, wantErr: []string{`at "/filter/filters/0/filters/0"`}},
		{name: "every violation is listed", schema: "Chunk", doc: `{"finish_reason":"done","count":-1}`, wantErr: []string{"object", `at "/finish_reason"`, `at "/count"`}},
		{name: "required nullable is still required", schema: "Chunk", doc: `{"object":"chunk"}`, wantErr: []string{"finish_reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.Validate(tt.schema, []byte(tt.doc))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %s", tt.doc)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestLoadIsCached(t *testing.T) {
	first := useMini(t)
	second, err := openaispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("second Load built a new Spec instead of reusing the first")
	}
}

func TestCheck(t *testing.T) {
	spec := useMini(t)
	long := `{"object":"chunk","finish_reason":"done","tags":["` + strings.Repeat("x", 5000) + `"]}`
	tests := []struct {
		name       string
		doc        string
		wantErrors int
		want       []string
		notWant    []string
	}{
		{name: "conforming document", doc: `{"object":"chunk","finish_reason":"stop"}`},
		{name: "violation names schema and document", doc: `{"object":"chunk","finish_reason":"done"}`, wantErrors: 1,
			want: []string{"Chunk", `at "/finish_reason"`, `"finish_reason":"done"`}},
		{name: "long document is truncated", doc: long, wantErrors: 1,
			want: []string{"Chunk", "more bytes)"}, notWant: []string{strings.Repeat("x", 4000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			spec.Check(rec, "Chunk", []byte(tt.doc))
			if len(rec.errors) != tt.wantErrors {
				t.Fatalf("Check reported %d errors, want %d: %q", len(rec.errors), tt.wantErrors, rec.errors)
			}
			for _, want := range tt.want {
				if !strings.Contains(rec.errors[0], want) {
					t.Errorf("report does not contain %q:\n%s", want, rec.errors[0])
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(rec.errors[0], nw) {
					t.Errorf("report contains %q", nw[:20])
				}
			}
		})
	}
}

func TestConcurrentValidate(t *testing.T) {
	spec := useMini(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schema, doc := "Chunk", `{"object":"chunk","finish_reason":null}`
			if i%2 == 1 {
				schema, doc = "Filter", `{"filters":["a"]}`
			}
			if err := spec.Validate(schema, []byte(doc)); err != nil {
				errs <- fmt.Errorf("%s: %w", schema, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// recorder captures what ForTest and Check report instead of letting it
// reach the real test, so their messages can be asserted on.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	logs   []string
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
