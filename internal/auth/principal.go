package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Secret prefixes: they tell at a glance (and in secret scanners) what a
// leaked string is, and let the admin API look a bearer secret up in the
// right table.
const (
	TokenPrefix   = "hgt-" // API tokens
	SessionPrefix = "hgs-" // sessions
)

// User is a person who signs in to the admin API and console. The password
// hash never leaves the server: it has no JSON form.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// Role, with Team when it is held as a member of a team, or Consumer for
	// RoleConsumer. RoleNone: no rights until a team adds the user.
	Role         Role       `json:"role"`
	Team         string     `json:"team,omitempty"`
	Consumer     string     `json:"consumer,omitempty"`
	Disabled     bool       `json:"disabled,omitempty"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// NormalizeEmail lower-cases and trims an address and checks its form:
// accounts are found by email whatever case it is typed in.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 {
		return "", fmt.Errorf("email is longer than 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", fmt.Errorf("email %q is not an address like name@example.com", s)
	}
	return s, nil
}

// Session is a signed-in user's session, as stored: ID is the hash of the
// secret the browser holds, never the secret.
type Session struct {
	ID         string    `json:"-"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end; the idle timeout may end it sooner.
	ExpiresAt time.Time `json:"expires_at"`
	ClientIP  string    `json:"client_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// Live reports whether s may still be used at now with the given idle
// timeout.
func (s Session) Live(now time.Time, idle time.Duration) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(idle))
}

// IdleExpiry is when s ends if it is not used before.
func (s Session) IdleExpiry(idle time.Duration) time.Time {
	t := s.LastSeenAt.Add(idle)
	if s.ExpiresAt.Before(t) {
		return s.ExpiresAt
	}
	return t
}

// NewSession returns a new session secret and its stored ID (the hash).
func NewSession() (secret, id string) {
	secret = NewSecret(SessionPrefix)
	return secret, HashKey(secret)
}

// CSRFToken derives the anti-forgery token of a session from its secret.
// A page on another site can make the browser send the session cookie but
// cannot read it, so it cannot compute this value; the server recomputes
// it from the cookie it receives and stores nothing more.
func CSRFToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("hypergate csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckCSRF compares a submitted anti-forgery token with the session's, in
// constant time.
func CheckCSRF(sessionSecret, submitted string) bool {
	return submitted != "" && hmac.Equal([]byte(CSRFToken(sessionSecret)), []byte(submitted))
}

// Token is an API token for automation, as stored: a role (optionally
// scoped to a team, or bound to a consumer), an optional expiry, and only
// the hash of the secret, which is shown once at creation.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Team       string     `json:"team,omitempty"`
	Consumer   string     `json:"consumer,omitempty"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Usable reports whether t authenticates at now: not revoked, not expired.
func (t Token) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// Principal kinds.
const (
	KindAdminToken = "admin-token" // HYPERGATE_ADMIN_TOKEN, the built-in admin
	KindUser       = "user"
	KindToken      = "token"
)

// Principal is who is making a request, as the permission check sees it.
type Principal struct {
	Kind     string // KindAdminToken, KindUser or KindToken
	ID       string // the user's or token's id; empty for the admin token
	Name     string // the user's email or the token's name
	Role     Role
	Team     string
	Consumer string
	// Session is the ID of the session the user authenticated with, if any.
	Session string
}

// AdminTokenPrincipal is the built-in admin the admin token stands for.
func AdminTokenPrincipal() *Principal {
	return &Principal{Kind: KindAdminToken, Name: KindAdminToken, Role: RoleAdmin}
}

// UserPrincipal is the principal of a signed-in user.
func UserPrincipal(u User, session string) *Principal {
	return &Principal{Kind: KindUser, ID: u.ID, Name: u.Email, Role: u.Role, Team: u.Team, Consumer: u.Consumer, Session: session}
}

// TokenPrincipal is the principal of an API token.
func TokenPrincipal(t Token) *Principal {
	return &Principal{Kind: KindToken, ID: t.ID, Name: t.Name, Role: t.Role, Team: t.Team, Consumer: t.Consumer}
}

// Actor names p in audit entries and revision authors: "user:EMAIL",
// "token:NAME" or "admin-token".
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.Kind == KindAdminToken:
		return KindAdminToken
	}
	return p.Kind + ":" + p.Name
}
