package cohere

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
	if got, want := a.DefaultBaseURL(), "https://api.cohere.com/v2"; got != want {
		t.Errorf("DefaultBaseURL = %q, want %q", got, want)
	}
	u, err := provider.NewUpstream("co", Type, "", nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Format() != "cohere" || u.Codec() == nil {
		t.Errorf("Format = %q, Codec = %v", u.Format(), u.Codec())
	}
	for op, want := range map[provider.Operation]bool{
		provider.Chat: true, provider.Embeddings: true, provider.CountTokens: false, provider.Responses: false,
	} {
		if got := u.Supports(op); got != want {
			t.Errorf("Supports(%s) = %t, want %t", op, got, want)
		}
	}
}

func TestAdapterURL(t *testing.T) {
	const base = "https://api.cohere.com/v2"
	tests := []struct {
		name   string
		model  string
		stream bool
	}{
		{name: "chat", model: "command-a-03-2025"},
		{name: "stream flag stays in the body", model: "command-a-03-2025", stream: true},
		{name: "model never in the path", model: "../../evil?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Adapter{}).URL(base, provider.Chat, tt.model, tt.stream); got != base+"/chat" {
				t.Errorf("URL = %q, want %q", got, base+"/chat")
			}
			if got := (Adapter{}).URL(base, provider.Embeddings, tt.model, tt.stream); got != base+"/embed" {
				t.Errorf("embeddings URL = %q, want %q", got, base+"/embed")
			}
		})
	}
}

func TestAdapterCredentials(t *testing.T) {
	if got := (Adapter{}).Credentials(""); got != nil {
		t.Errorf("Credentials(\"\") = %v, want none", got)
	}
	got := (Adapter{}).Credentials("co-secret")
	if len(got) != 1 || got[0] != (provider.Header{Name: "Authorization", Value: "Bearer co-secret"}) {
		t.Errorf("Credentials = %v, want a bearer token", got)
	}
}
