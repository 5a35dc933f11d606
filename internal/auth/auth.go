// Package auth is who may do what: consumer API keys and the admin token,
// users with argon2id passwords, their sessions, API tokens for automation,
// the roles and the permission table every admin endpoint is checked
// against, sign-in throttling and the audit entry type. Secrets are
// generated here and only their hashes leave the package for the store.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Key is a consumer API key as stored: never the key itself, only its hash
// and a short prefix that lets people tell keys apart.
type Key struct {
	ID        string     `json:"id"`
	Consumer  string     `json:"consumer"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// ExpiresAt, when set, is when the key stops working: set at creation,
	// or by a rotation that gives the old key a grace period.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Expired reports whether k has expired at now.
func (k Key) Expired(now time.Time) bool {
	return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)
}

// HashKey returns the hex SHA-256 of a secret. Keys are 256-bit random
// strings, so a fast hash is enough: there is nothing to brute-force.
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSecret returns a new random secret with the given prefix, e.g. "hg-" for
// consumer keys and "hga-" for admin tokens, followed by 43 base62 characters
// (about 256 bits).
func NewSecret(prefix string) string {
	const n = 43
	buf := make([]byte, n)
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	for len(out) < len(prefix)+n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error()) // cannot happen on Linux; no safe fallback
		}
		for _, c := range buf {
			if c < 248 { // 248 = 4*62: keep the distribution uniform
				out = append(out, alphabet[c%62])
				if len(out) == len(prefix)+n {
					break
				}
			}
		}
	}
	return string(out)
}

// DisplayPrefix is the part of a secret safe to show and store in clear.
func DisplayPrefix(secret string) string {
	if len(secret) > 10 {
		return secret[:10]
	}
	return secret
}
