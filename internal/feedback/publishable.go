package feedback

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// PublishablePrefix starts every publishable key, so that people and
// secret scanners can tell them from consumer keys ("hg-").
const PublishablePrefix = "pk_"

// PublishableKey is a browser-safe key of a consumer, as stored: only its
// hash and a display prefix. It may only post feedback (POST /v1/feedback)
// on its consumer's calls and pages; a page embedding it exposes nothing
// else. Browsers may use it from the Origins listed, and from no other.
type PublishableKey struct {
	ID       string `json:"id"`
	Consumer string `json:"consumer"`
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	Hash     string `json:"-"`
	// Origins are the web origins (scheme://host[:port]) whose pages may
	// post with the key; none: no browser page may (server-side posts,
	// which send no Origin, still may).
	Origins   []string   `json:"origins"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewPublishableKey makes a publishable key and returns it with its secret,
// which is shown once and never stored.
func NewPublishableKey(consumer, name string, origins []string) (PublishableKey, string) {
	secret := auth.NewSecret(PublishablePrefix)
	return PublishableKey{
		ID: "pk_id_" + auth.NewSecret("")[:20], Consumer: consumer, Name: name,
		Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret),
		Origins: origins, CreatedAt: time.Now().UTC(),
	}, secret
}

// MaxOrigins bounds the origins of one publishable key.
const MaxOrigins = 32

// CheckOrigins checks the origins of a publishable key: each a scheme
// (http or https) and a host with an optional port, nothing else, as a
// browser sends it in the Origin header. It returns them normalised to
// lower case.
func CheckOrigins(origins []string) ([]string, error) {
	if len(origins) > MaxOrigins {
		return nil, &InvalidError{"origins", fmt.Sprintf("at most %d origins", MaxOrigins)}
	}
	out := make([]string, 0, len(origins))
	for i, o := range origins {
		field := fmt.Sprintf("origins[%d]", i)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "*") {
			return nil, &InvalidError{field, fmt.Sprintf("%q is not an origin: write scheme://host[:port], e.g. https://shop.example.com", o)}
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}
