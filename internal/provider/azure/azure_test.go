package azure

import (
	"testing"

	"github.com/hypergate/hypergate/internal/provider"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		name, base, model string
		op                provider.Operation
		want              string
	}{
		{"deployment chat", "https://res.openai.azure.com/openai", "prod-gpt4o", provider.Chat,
			"https://res.openai.azure.com/openai/deployments/prod-gpt4o/chat/completions?api-version=" + APIVersion},
		{"deployment embeddings", "https://res.openai.azure.com/openai", "emb", provider.Embeddings,
			"https://res.openai.azure.com/openai/deployments/emb/embeddings?api-version=" + APIVersion},
		{"deployment name is escaped", "https://res.openai.azure.com/openai", "a/b?c", provider.Chat,
			"https://res.openai.azure.com/openai/deployments/a%2Fb%3Fc/chat/completions?api-version=" + APIVersion},
		{"v1 API", "https://res.openai.azure.com/openai/v1", "gpt-4o", provider.Chat,
			"https://res.openai.azure.com/openai/v1/chat/completions"},
		{"v1 responses", "https://res.openai.azure.com/openai/v1", "gpt-4o", provider.Responses,
			"https://res.openai.azure.com/openai/v1/responses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Adapter{}).URL(tc.base, tc.op, tc.model, false); got != tc.want {
				t.Errorf("URL = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAPIVersion(t *testing.T) {
	u, err := provider.NewUpstream("az", Type, "https://res.openai.azure.com/openai", nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Configure(provider.Options{APIVersion: "2025-04-01-preview"}); err != nil {
		t.Fatal(err)
	}
	want := "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-04-01-preview"
	if got := u.URL(provider.Chat, "d", false); got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	// The registered adapter, shared by other providers, keeps the default.
	other, _ := provider.NewUpstream("az2", Type, "https://res.openai.azure.com/openai", nil, nil, 0)
	if got := other.URL(provider.Chat, "d", false); got != "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version="+APIVersion {
		t.Errorf("another provider's URL = %s", got)
	}
}

func TestCredentials(t *testing.T) {
	if h := (Adapter{}).Credentials("k123"); len(h) != 1 || h[0].Name != "api-key" || h[0].Value != "k123" {
		t.Errorf("credentials = %+v", h)
	}
	if h := (Adapter{}).Credentials(""); h != nil {
		t.Errorf("credentials without a key = %+v", h)
	}
}
