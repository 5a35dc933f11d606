package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

// Prompt APIs end to end: the official OpenAI SDK (its raw request
// methods) and plain HTTP call prompts on a running gateway whose models
// answer from the OpenAI fake; the fake's log shows what the templates
// rendered, the store what the call records say.

const promptConfig = `
providers:
  - { name: fake, type: openai, base_url: %s, api_key: env:TEST_UPSTREAM_KEY, timeout: 20s }
models:
  - { name: gpt-4o-mini, targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ] }
  - { name: secret-model, targets: [ { provider: fake } ] }
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
  - { name: other, keys: [ { name: default, key: env:TEST_OTHER_KEY } ], models: [gpt-4o-mini] }
prompts:
  - name: summarize
    description: Summarise a text for an audience
    model: gpt-4o-mini
    system: "You write for a {{audience}}."
    template: "Summarise in {{words}} words: {{text}}"
    temperature: 0.3
    max_tokens: 200
    variables:
      - { name: text, required: true, max_length: 2000, description: The text to summarise }
      - { name: audience, default: engineer, enum: [engineer, child] }
      - { name: words, type: integer, default: "50" }
  - name: split
    release: 1
    canary: { version: 2, percent: 50 }
    versions:
      - { version: 1, model: gpt-4o-mini, template: "v1: {{q}}", variables: [ { name: q, required: true } ] }
      - { version: 2, model: gpt-4o-mini, template: "v2: {{q}}", variables: [ { name: q, required: true } ], temperature: 0 }
  - name: secret
    model: secret-model
    template: "Say hi"
`

func startPrompts(t *testing.T) *env {
	t.Helper()
	e := startWith(t, openaifake.Options{})
	var res struct {
		Changed bool `json:"changed"`
	}
	if st := e.adminDo("PUT", "/admin/v1/config", fmt.Sprintf(promptConfig, e.up.BaseURL()), &res); st != 200 || !res.Changed {
		t.Fatalf("applying the prompt configuration: %d", st)
	}
	return e
}

// upstreamBody returns the body the fake received for the request id.
func (e *env) upstreamBody(id string) map[string]any {
	e.t.Helper()
	for _, r := range e.up.Requests() {
		if r.Header.Get("X-Request-Id") == id {
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil {
				e.t.Fatalf("upstream body %s: %v", r.Body, err)
			}
			return m
		}
	}
	e.t.Fatalf("the upstream received no request with id %s", id)
	return nil
}

func TestPromptCall(t *testing.T) {
	e := startPrompts(t)
	spec := openaispec.ForTest(t)
	client := e.sdk(shopKey)
	const id = "prompt-call-1"
	var resp openai.ChatCompletion
	body := []byte(`{"variables":{"text":"Gateways route {{audience}} calls. <b>&</b>","words":20},` +
		`"messages":[{"role":"assistant","content":"Draft?"},{"role":"user","content":"Shorter."}]}`)
	if err := client.Post(context.Background(), "prompts/summarize", body, &resp, option.WithHeader("X-Request-Id", id)); err != nil {
		t.Fatalf("calling the prompt: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "Hello there!" {
		t.Errorf("answer = %q", got)
	}
	spec.Check(t, "CreateChatCompletionResponse", []byte(resp.RawJSON()))

	up := e.upstreamBody(id)
	want := map[string]any{
		"model": "gpt-4o-mini-2024-07-18",
		"messages": []any{
			map[string]any{"role": "system", "content": "You write for a engineer."},
			map[string]any{"role": "user", "content": "Summarise in 20 words: Gateways route {{audience}} calls. <b>&</b>"},
			map[string]any{"role": "assistant", "content": "Draft?"},
			map[string]any{"role": "user", "content": "Shorter."},
		},
		"temperature": 0.3,
		"max_tokens":  float64(200),
	}
	if g, w := mustJSON(t, up), mustJSON(t, want); g != w {
		t.Errorf("the upstream received\n%s\nwant\n%s", g, w)
	}

	rec := e.call(id)
	if rec.Prompt != "summarize" || rec.PromptVersion != 1 || rec.Model != "gpt-4o-mini" || rec.Status != 200 ||
		rec.Endpoint != "/v1/prompts/summarize" || rec.Consumer != "shop" || rec.InputTokens == 0 {
		t.Errorf("record = %+v", rec)
	}
	if !strings.Contains(rec.RequestBody, `"Summarise in 20 words: Gateways route {{audience}} calls.`) {
		t.Errorf("the record's request body is not the rendered request: %s", rec.RequestBody)
	}
	if rec.RequestBytes != int64(len(body)) {
		t.Errorf("request_bytes = %d, want the %d bytes the client sent", rec.RequestBytes, len(body))
	}

	// Defaults fill what the call leaves out.
	const id2 = "prompt-call-2"
	if err := client.Post(context.Background(), "prompts/summarize", []byte(`{"variables":{"text":"x","audience":"child"}}`), &resp,
		option.WithHeader("X-Request-Id", id2)); err != nil {
		t.Fatal(err)
	}
	msgs := e.upstreamBody(id2)["messages"].([]any)
	if got := msgs[1].(map[string]any)["content"]; got != "Summarise in 50 words: x" {
		t.Errorf("with defaults the user message is %q", got)
	}
	if got := msgs[0].(map[string]any)["content"]; got != "You write for a child." {
		t.Errorf("system message %q", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPromptStream(t *testing.T) {
	e := startPrompts(t)
	spec := openaispec.ForTest(t)
	client := e.sdk(shopKey)
	const id = "prompt-stream-1"
	var raw *http.Response
	err := client.Post(context.Background(), "prompts/summarize", []byte(`{"variables":{"text":"stream me"},"stream":true}`), &raw,
		option.WithHeader("X-Request-Id", id))
	stream := ssestream.NewStream[openai.ChatCompletionChunk](ssestream.NewDecoder(raw), err)
	defer stream.Close()
	var text strings.Builder
	chunks := 0
	for stream.Next() {
		ch := stream.Current()
		spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
		if len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
		if ch.JSON.Usage.Valid() && ch.Usage.TotalTokens > 0 {
			t.Error("the client did not ask for usage, yet got a usage chunk")
		}
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if text.String() != "Hello there!" || chunks < 3 {
		t.Errorf("streamed %q in %d chunks", text.String(), chunks)
	}
	if ct := raw.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("content type %q", ct)
	}
	up := e.upstreamBody(id)
	if up["stream"] != true {
		t.Errorf("the upstream request is not streamed: %v", up)
	}
	rec := e.call(id)
	if !rec.Stream || rec.Prompt != "summarize" || rec.PromptVersion != 1 || rec.Status != 200 || rec.OutputTokens == 0 {
		t.Errorf("record = %+v", rec)
	}
}

func TestPromptErrors(t *testing.T) {
	e := startPrompts(t)
	tests := []struct {
		name      string
		method    string
		path      string
		key       string
		body      string
		status    int
		code      string
		param     string
		message   string // a prefix of the error message
		recPrompt string // the record's prompt, if one is written
	}{
		{name: "missing variable", path: "/v1/prompts/summarize", body: `{"variables":{}}`, status: 400,
			code: "missing_variable", param: "variables.text", message: "variables.text: required", recPrompt: "summarize"},
		{name: "no variables at all", path: "/v1/prompts/summarize", body: `{}`, status: 400,
			param: "variables.text", message: "variables.text: required"},
		{name: "integer as string", path: "/v1/prompts/summarize", body: `{"variables":{"text":"x","words":"3"}}`, status: 400,
			code: "invalid_variable", param: "variables.words", message: `variables.words: expected an integer, got "3"`, recPrompt: "summarize"},
		{name: "not in enum", path: "/v1/prompts/summarize", body: `{"variables":{"text":"x","audience":"cat"}}`, status: 400,
			param: "variables.audience", message: `variables.audience: must be one of "engineer", "child", got "cat"`},
		{name: "too long", path: "/v1/prompts/summarize", body: `{"variables":{"text":"` + strings.Repeat("é", 2001) + `"}}`, status: 400,
			param: "variables.text", message: "variables.text: is 2001 characters long, more than the limit of 2000"},
		{name: "unknown variable", path: "/v1/prompts/summarize", body: `{"variables":{"text":"x","tone":"dry"}}`, status: 400,
			code: "unknown_variable", param: "variables.tone", message: "variables.tone: unknown variable"},
		{name: "unknown field", path: "/v1/prompts/summarize", body: `{"variables":{"text":"x"},"model":"gpt-4o"}`, status: 400,
			code: "invalid_request_body", param: "model", message: "model: unknown field"},
		{name: "not JSON", path: "/v1/prompts/summarize", body: `{"variables":`, status: 400, message: "We could not parse"},
		{name: "unknown prompt", path: "/v1/prompts/nope", body: `{}`, status: 404, code: "prompt_not_found", message: "The prompt 'nope' does not exist."},
		{name: "no key", path: "/v1/prompts/summarize", key: "-", body: `{}`, status: 401, code: "missing_api_key"},
		{name: "wrong key", path: "/v1/prompts/summarize", key: "hg-nope", body: `{}`, status: 401, code: "invalid_api_key"},
		{name: "model not allowed", path: "/v1/prompts/secret", key: otherKey, body: `{}`, status: 403, code: "prompt_not_allowed", recPrompt: "secret"},
		{name: "wrong method", method: "GET", path: "/v1/prompts/summarize", status: 405, code: "method_not_allowed"},
		{name: "too deep", path: "/v1/prompts/summarize/extra", body: `{}`, status: 404},
		{name: "openapi of an unknown prompt", method: "GET", path: "/v1/prompts/nope/openapi.json", status: 404, code: "prompt_not_found"},
		{name: "openapi of a prompt not allowed", method: "GET", path: "/v1/prompts/secret/openapi.json", key: otherKey, status: 403},
		{name: "openapi without a key", method: "GET", path: "/v1/prompts/summarize/openapi.json", key: "-", status: 401},
		{name: "list without a key", method: "GET", path: "/v1/prompts", key: "-", status: 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			key := tt.key
			switch key {
			case "":
				key = shopKey
			case "-":
				key = ""
			}
			id := fmt.Sprintf("prompt-err-%d", i)
			resp, b := e.do(method, tt.path, key, tt.body, "X-Request-Id", id)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			var eb struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Code    *string `json:"code"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Message == "" || eb.Error.Type == "" {
				t.Fatalf("not an OpenAI error: %s", b)
			}
			if tt.code != "" && (eb.Error.Code == nil || *eb.Error.Code != tt.code) {
				t.Errorf("code = %v, want %q", eb.Error.Code, tt.code)
			}
			if tt.param != "" && (eb.Error.Param == nil || *eb.Error.Param != tt.param) {
				t.Errorf("param = %v, want %q", eb.Error.Param, tt.param)
			}
			if !strings.HasPrefix(eb.Error.Message, tt.message) {
				t.Errorf("message = %q, want it to start with %q", eb.Error.Message, tt.message)
			}
			if tt.recPrompt != "" {
				if rec := e.call(id); rec.Prompt != tt.recPrompt || rec.Status != tt.status {
					t.Errorf("record = %+v", rec)
				}
			}
		})
	}
	for _, r := range e.up.Requests() {
		if strings.HasPrefix(r.Header.Get("X-Request-Id"), "prompt-err-") {
			t.Errorf("a rejected call reached the upstream: %s", r.Body)
		}
	}

	// The SDK surfaces the variable's path as the error's param.
	client := e.sdk(shopKey)
	err := client.Post(context.Background(), "prompts/summarize", []byte(`{"variables":{"words":1}}`), nil)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "variables.text" {
		t.Errorf("SDK error = %v", err)
	}
}

func TestPromptCanary(t *testing.T) {
	e := startPrompts(t)
	client := e.sdk(shopKey)
	const n = 40
	seen := map[int]int{}
	for i := range n {
		id := fmt.Sprintf("prompt-canary-%02d", i)
		var resp openai.ChatCompletion
		if err := client.Post(context.Background(), "prompts/split", []byte(fmt.Sprintf(`{"variables":{"q":"question %d"}}`, i)), &resp,
			option.WithHeader("X-Request-Id", id)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("prompt-canary-%02d", i)
		rec := e.call(id)
		if rec.Prompt != "split" {
			t.Fatalf("record %s has prompt %q", id, rec.Prompt)
		}
		seen[rec.PromptVersion]++
		up := e.upstreamBody(id)
		user := up["messages"].([]any)[0].(map[string]any)["content"]
		if want := fmt.Sprintf("v%d: question %d", rec.PromptVersion, i); user != want {
			t.Errorf("record says version %d, the upstream got %q", rec.PromptVersion, user)
		}
		if _, hasTemp := up["temperature"]; hasTemp != (rec.PromptVersion == 2) {
			t.Errorf("version %d sent temperature: %v", rec.PromptVersion, up["temperature"])
		}
	}
	t.Logf("versions over %d calls: %v", n, seen)
	if seen[1] == 0 || seen[2] == 0 || seen[1]+seen[2] != n {
		t.Errorf("a 50 %% canary over %d calls gave %v; want both versions", n, seen)
	}

	// The admin API lists a prompt's calls, each with its version, for
	// comparing versions.
	var page struct {
		Data []calllog.Record `json:"data"`
	}
	if st := e.adminDo("GET", "/admin/v1/calls?prompt=split&limit=500", "", &page); st != 200 {
		t.Fatalf("listing calls by prompt: %d", st)
	}
	byVersion := map[int]int{}
	for _, r := range page.Data {
		if r.Prompt != "split" {
			t.Errorf("filter prompt=split listed a call of %q", r.Prompt)
		}
		byVersion[r.PromptVersion]++
	}
	if byVersion[1] != seen[1] || byVersion[2] != seen[2] {
		t.Errorf("listed versions %v, want %v", byVersion, seen)
	}
	if st := e.adminDo("GET", "/admin/v1/calls?prompt=split&prompt_version=2&limit=500", "", &page); st != 200 || len(page.Data) != seen[2] {
		t.Errorf("prompt_version=2 listed %d calls (status %d), want %d", len(page.Data), st, seen[2])
	}

	// A retried request that keeps its id reaches the same version.
	id := "prompt-canary-07"
	first := e.call(id).PromptVersion
	var resp openai.ChatCompletion
	if err := client.Post(context.Background(), "prompts/split", []byte(`{"variables":{"q":"again"}}`), &resp,
		option.WithHeader("X-Request-Id", id)); err != nil {
		t.Fatal(err)
	}
	var again string
	for _, r := range e.up.Requests() {
		if r.Header.Get("X-Request-Id") == id && strings.Contains(string(r.Body), "again") {
			again = string(r.Body)
		}
	}
	if !strings.Contains(again, fmt.Sprintf(`"v%d: again"`, first)) {
		t.Errorf("the retried request reached another version: %s (first: %d)", again, first)
	}
}

func TestPromptOpenAPIAndList(t *testing.T) {
	e := startPrompts(t)
	resp, b := e.do("GET", "/v1/prompts/summarize/openapi.json", shopKey, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, b)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
				Required   []string                  `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/v1/prompts/summarize"]["post"] == nil {
		t.Errorf("document: openapi %q, paths %v", doc.OpenAPI, doc.Paths)
	}
	vars := doc.Comps.Schemas["Variables"]
	if fmt.Sprint(vars.Required) != "[text]" {
		t.Errorf("required = %v", vars.Required)
	}
	checks := map[string]string{
		"text":     `{"description":"The text to summarise","maxLength":2000,"type":"string"}`,
		"audience": `{"default":"engineer","enum":["engineer","child"],"type":"string"}`,
		"words":    `{"default":50,"type":"integer"}`,
	}
	for name, want := range checks {
		if got := mustJSON(t, vars.Properties[name]); got != want {
			t.Errorf("schema of %s = %s, want %s", name, got, want)
		}
	}

	list := func(key string) []string {
		var out struct {
			Object string `json:"object"`
			Data   []struct {
				Name    string `json:"name"`
				OpenAPI string `json:"openapi_url"`
			} `json:"data"`
		}
		resp, b := e.do("GET", "/v1/prompts", key, "")
		if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Object != "list" {
			t.Fatalf("GET /v1/prompts: %d %s", resp.StatusCode, b)
		}
		var names []string
		for _, p := range out.Data {
			names = append(names, p.Name)
			if p.OpenAPI != "/v1/prompts/"+p.Name+"/openapi.json" {
				t.Errorf("openapi_url %q", p.OpenAPI)
			}
		}
		return names
	}
	if got := fmt.Sprint(list(shopKey)); got != "[secret split summarize]" {
		t.Errorf("shop may call %s", got)
	}
	if got := fmt.Sprint(list(otherKey)); got != "[split summarize]" {
		t.Errorf("other (allowed gpt-4o-mini only) may call %s", got)
	}
}
