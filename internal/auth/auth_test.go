package auth

import (
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	for _, tc := range []struct{ name, prefix string }{
		{"consumer key", "hg-"},
		{"admin token", "hga-"},
		{"bare", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for i := 0; i < 200; i++ {
				s := NewSecret(tc.prefix)
				if !strings.HasPrefix(s, tc.prefix) || len(s) != len(tc.prefix)+43 {
					t.Fatalf("secret %q: wrong prefix or length", s)
				}
				for _, c := range s[len(tc.prefix):] {
					if !strings.ContainsRune(alphabet, c) {
						t.Fatalf("secret %q has %q outside base62", s, c)
					}
				}
				if seen[s] {
					t.Fatalf("secret repeated: %q", s)
				}
				seen[s] = true
			}
		})
	}
}

func TestHashKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"key", "hg-abc", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := HashKey(tc.in)
			if len(got) != 64 {
				t.Fatalf("hash %q is not 64 hex characters", got)
			}
			if tc.name == "empty" && got != tc.want {
				t.Errorf("HashKey(%q) = %s, want %s", tc.in, got, tc.want)
			}
			if HashKey(tc.in) != got {
				t.Error("not deterministic")
			}
		})
	}
	if HashKey("a") == HashKey("b") {
		t.Error("different keys hash alike")
	}
}

func TestDisplayPrefix(t *testing.T) {
	if got := DisplayPrefix("hg-0123456789abcdef"); got != "hg-0123456" {
		t.Errorf("DisplayPrefix = %q", got)
	}
	if got := DisplayPrefix("short"); got != "short" {
		t.Errorf("DisplayPrefix(short) = %q", got)
	}
}
