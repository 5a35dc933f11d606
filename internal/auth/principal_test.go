package auth

import (
	"strings"
	"testing"
	"time"
)

func TestCSRFToken(t *testing.T) {
	a, _ := NewSession()
	b, _ := NewSession()
	if CSRFToken(a) == CSRFToken(b) {
		t.Fatal("two sessions share a CSRF token")
	}
	if CSRFToken(a) != CSRFToken(a) {
		t.Fatal("CSRF token is not stable")
	}
	if strings.Contains(CSRFToken(a), a[len(SessionPrefix):]) {
		t.Fatal("the CSRF token reveals the session secret")
	}
	for _, tc := range []struct {
		name, submitted string
		want            bool
	}{
		{"right", CSRFToken(a), true},
		{"other session's", CSRFToken(b), false},
		{"empty", "", false},
		{"the secret itself", a, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckCSRF(a, tc.submitted); got != tc.want {
				t.Fatalf("CheckCSRF = %v", got)
			}
		})
	}
}

func TestSessionLife(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Session{CreatedAt: start, LastSeenAt: start, ExpiresAt: start.Add(24 * time.Hour)}
	idle := 2 * time.Hour
	for _, tc := range []struct {
		name string
		seen time.Duration // after start
		at   time.Duration // after start
		want bool
	}{
		{"fresh", 0, time.Minute, true},
		{"idle too long", 0, 2 * time.Hour, false},
		{"kept alive by use", 23 * time.Hour, 23*time.Hour + time.Hour, false}, // past the absolute end
		{"used recently", 20 * time.Hour, 21 * time.Hour, true},
		{"at the absolute end", 23*time.Hour + 59*time.Minute, 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			s.LastSeenAt = start.Add(tc.seen)
			if got := s.Live(start.Add(tc.at), idle); got != tc.want {
				t.Fatalf("Live = %v, want %v", got, tc.want)
			}
		})
	}
	if got := s.IdleExpiry(idle); !got.Equal(start.Add(idle)) {
		t.Errorf("IdleExpiry = %v", got)
	}
	late := s
	late.LastSeenAt = start.Add(23 * time.Hour)
	if got := late.IdleExpiry(idle); !got.Equal(s.ExpiresAt) {
		t.Errorf("IdleExpiry past the absolute end = %v, want %v", got, s.ExpiresAt)
	}
}

func TestTokenUsable(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		tok  Token
		want bool
	}{
		{"no expiry", Token{}, true},
		{"expires later", Token{ExpiresAt: &future}, true},
		{"expired", Token{ExpiresAt: &past}, false},
		{"revoked", Token{RevokedAt: &past}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tok.Usable(now); got != tc.want {
				t.Fatalf("Usable = %v", got)
			}
		})
	}
}
