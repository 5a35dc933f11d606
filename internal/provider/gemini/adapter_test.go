package gemini

import (
	"testing"

	"github.com/hypergate/hypergate/internal/provider"
)

func TestAdapterRegistered(t *testing.T) {
	a, ok := provider.Lookup(Type)
	if !ok {
		t.Fatalf("provider type %q is not registered", Type)
	}
	if _, ok := a.(Adapter); !ok {
		t.Fatalf("registered adapter is %T", a)
	}
	if got, want := a.DefaultBaseURL(), "https://generativelanguage.googleapis.com/v1beta"; got != want {
		t.Errorf("DefaultBaseURL = %q, want %q", got, want)
	}
}

func TestAdapterURL(t *testing.T) {
	const base = "https://generativelanguage.googleapis.com/v1beta"
	tests := []struct {
		name   string
		op     provider.Operation
		model  string
		stream bool
		want   string
	}{
		{name: "chat", op: provider.Chat, model: "gemini-2.5-flash", want: base + "/models/gemini-2.5-flash:generateContent"},
		{name: "chat stream", op: provider.Chat, model: "gemini-2.5-flash", stream: true, want: base + "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"},
		{name: "resource name", op: provider.Chat, model: "models/gemini-2.5-pro", want: base + "/models/gemini-2.5-pro:generateContent"},
		{name: "leading slash", op: provider.Chat, model: "/models/gemini-2.0-flash-001", want: base + "/models/gemini-2.0-flash-001:generateContent"},
		{name: "embeddings", op: provider.Embeddings, model: "gemini-embedding-001", want: base + "/models/gemini-embedding-001:batchEmbedContents"},
		{name: "embeddings ignore stream", op: provider.Embeddings, model: "models/text-embedding-004", stream: true, want: base + "/models/text-embedding-004:batchEmbedContents"},
		{name: "slash escaped", op: provider.Chat, model: "a/b", want: base + "/models/a%2Fb:generateContent"},
		{name: "colon escaped", op: provider.Chat, model: "x:streamGenerateContent", want: base + "/models/x%3AstreamGenerateContent:generateContent"},
		{name: "query escaped", op: provider.Chat, model: "m?key=leak#frag", want: base + "/models/m%3Fkey=leak%23frag:generateContent"},
		{name: "dot segment escaped", op: provider.Chat, model: "../../evil", want: base + "/models/..%2F..%2Fevil:generateContent"},
		{name: "space", op: provider.Chat, model: "my model", want: base + "/models/my%20model:generateContent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Adapter{}).URL(base, tt.op, tt.model, tt.stream); got != tt.want {
				t.Errorf("URL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAdapterCredentials(t *testing.T) {
	if got := (Adapter{}).Credentials(""); got != nil {
		t.Errorf("Credentials(\"\") = %v, want none", got)
	}
	got := (Adapter{}).Credentials("AIza-secret")
	if len(got) != 1 || got[0] != (provider.Header{Name: "x-goog-api-key", Value: "AIza-secret"}) {
		t.Errorf("Credentials = %v, want the x-goog-api-key header", got)
	}
}
