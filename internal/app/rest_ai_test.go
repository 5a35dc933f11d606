package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

func TestRESTAIService(t *testing.T) {
	e := start(t)
	e.apply(restConfig(e, []string{"support-bot"}, `
  - name: support-bot
    kind: ai
    models: [gpt-4o-mini, secret-model]
    routes: [ { path: /support-bot } ]
`))
	// The official SDK, pointed at the service's path.
	sdk := openai.NewClient(option.WithBaseURL(e.data+"/support-bot/v1/"), option.WithAPIKey(shopKey), option.WithMaxRetries(0))
	out, err := sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	})
	if err != nil {
		t.Fatalf("chat completion through the service: %v", err)
	}
	if len(out.Choices) == 0 || out.Choices[0].Message.Content == "" {
		t.Fatalf("empty answer %+v", out)
	}
	models, err := sdk.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "gpt-4o-mini,secret-model" {
		t.Fatalf("the service lists %v; want its models only", ids)
	}

	tests := []struct {
		name, path, key, body string
		status                int
		code                  string
	}{
		{"model the service does not offer", "/support-bot/v1/chat/completions", shopKey, chatBodyFor("embed"), 403, "model_not_allowed"},
		{"unknown endpoint", "/support-bot/v1/nothing", shopKey, chatBody, 404, "unknown_url"},
		{"not subscribed", "/support-bot/v1/chat/completions", otherKey, chatBody, 403, "subscription_required"},
		{"no key", "/support-bot/v1/chat/completions", "", chatBody, 401, "missing_api_key"},
		{"embeddings of an offered model", "/support-bot/v1/embeddings", shopKey, `{"model":"gpt-4o-mini","input":"hi"}`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.restDo("POST", tc.path, tc.key, tc.body, "Content-Type", "application/json")
			if resp.StatusCode != tc.status || gjson.GetBytes(b, "error.code").String() != tc.code {
				t.Fatalf("%d %s; want %d %q", resp.StatusCode, b, tc.status, tc.code)
			}
		})
	}
	resp, _ := e.restDo("POST", "/support-bot/v1/chat/completions", shopKey, chatBody, "Content-Type", "application/json")
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.Model != "gpt-4o-mini" || rec.Provider != "fake" || rec.InputTokens == 0 || rec.Service != "support-bot" || rec.Route != "0" {
		t.Fatalf("record: model %q provider %q input tokens %d service %q route %q",
			rec.Model, rec.Provider, rec.InputTokens, rec.Service, rec.Route)
	}
}

func chatBodyFor(model string) string {
	return strings.Replace(chatBody, "gpt-4o-mini", model, 1)
}
