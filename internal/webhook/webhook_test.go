package webhook

import "testing"

func TestSignAndVerify(t *testing.T) {
	secret, body := []byte("k"), []byte(`{"id":"evt_1"}`)
	sig := Sign(secret, "1795770000", body)
	// The documented construction, computed independently:
	// printf '1795770000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac k
	const want = "sha256=e716a0160648be3cf39fca46fce479dc952204ade694290b99a64a5e2058a66d"
	if sig != want {
		t.Fatalf("Sign = %s, want %s", sig, want)
	}
	tests := []struct {
		name           string
		secret         string
		ts, body, head string
		ok             bool
	}{
		{"genuine", "k", "1795770000", `{"id":"evt_1"}`, sig, true},
		{"another body", "k", "1795770000", `{"id":"evt_2"}`, sig, false},
		{"replayed with a new timestamp", "k", "1795770060", `{"id":"evt_1"}`, sig, false},
		{"another secret", "x", "1795770000", `{"id":"evt_1"}`, sig, false},
		{"no signature", "k", "1795770000", `{"id":"evt_1"}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify([]byte(tt.secret), tt.ts, []byte(tt.body), tt.head); got != tt.ok {
				t.Fatalf("Verify = %v, want %v", got, tt.ok)
			}
		})
	}
}
