package config

import (
	"net/url"
	"strings"
)

// Webhook is where a service's owners are told about its subscriptions:
// each request and each decision (approved, rejected, revoked) is POSTed
// there as JSON, signed with an HMAC-SHA256 of the body under Secret.
type Webhook struct {
	// URL is the absolute http or https address the events are POSTed to.
	URL string `yaml:"url" json:"url"`
	// Secret is the env:NAME reference of the signing key. It is required:
	// an unsigned event could be forged by anyone who learns the URL.
	Secret string `yaml:"secret" json:"secret"`
}

// ConsumerJWT lets a consumer authenticate with JSON Web Tokens issued by
// its own identity provider instead of (or besides) API keys. A token
// whose iss claim is Issuer is verified with exactly one of Secret (HS256)
// or JWKSURL (RS256).
type ConsumerJWT struct {
	// Issuer is the iss claim that identifies this consumer's tokens;
	// unique across consumers.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audience, when set, must be one of the token's aud values.
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty"`
	// Secret is the env:NAME reference of the shared HS256 key.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
	// JWKSURL is where the issuer publishes its RS256 public keys (a JSON
	// Web Key Set).
	JWKSURL string `yaml:"jwks_url,omitempty" json:"jwks_url,omitempty"`
}

// Algorithm is the one signing algorithm the consumer's tokens may use:
// "HS256" with a Secret, "RS256" with a JWKSURL.
func (j *ConsumerJWT) Algorithm() string {
	if j.Secret != "" {
		return "HS256"
	}
	return "RS256"
}

// webhook checks a service's webhook.
func (v *validator) webhook(w *Webhook, path string) {
	if w == nil {
		return
	}
	v.eventURL(w.URL, path+".url")
	switch {
	case w.Secret == "":
		v.fail(path+".secret", "is required: receivers check each event's X-Hypergate-Signature with it")
	case !IsSecretRef(w.Secret):
		v.fail(path+".secret", "secret must be a secret reference like env:ORDERS_HOOK_SECRET; secrets are never stored in clear")
	}
}

// eventURL checks a URL the gateway sends requests to on its own (webhooks,
// JWKS): absolute http or https, with a host and no credentials. Unlike an
// upstream base URL it may carry a query.
func (v *validator) eventURL(raw, path string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		v.fail(path, "is required")
	case err != nil:
		v.fail(path, "invalid URL: %s", strings.TrimPrefix(err.Error(), "parse "))
	case u.Scheme != "http" && u.Scheme != "https":
		v.fail(path, "must be an absolute http or https URL")
	case u.Host == "":
		v.fail(path, "must include a host")
	case u.User != nil:
		v.fail(path, "must not contain credentials")
	case u.Fragment != "":
		v.fail(path, "must not contain a fragment")
	}
}

// consumerJWT checks a consumer's JWT settings; issuers maps each issuer
// seen so far to the path that declared it.
func (v *validator) consumerJWT(j *ConsumerJWT, path string, issuers map[string]string) {
	if j == nil {
		return
	}
	switch {
	case strings.TrimSpace(j.Issuer) == "":
		v.fail(path+".issuer", "is required: it is the iss claim that tells this consumer's tokens apart")
	case len(j.Issuer) > 512 || !isHeaderValue(j.Issuer):
		v.fail(path+".issuer", "must be at most 512 printable characters")
	case issuers[j.Issuer] != "":
		// The issuer picks the consumer: two consumers with one issuer
		// would make a token's owner ambiguous.
		v.fail(path+".issuer", "issuer %q is already used by %s", j.Issuer, issuers[j.Issuer])
	default:
		issuers[j.Issuer] = path
	}
	if len(j.Audience) > 512 || !isHeaderValue(j.Audience) {
		v.fail(path+".audience", "must be at most 512 printable characters")
	}
	switch {
	case j.Secret == "" && j.JWKSURL == "":
		v.fail(path, "set exactly one of secret (HS256) or jwks_url (RS256)")
	case j.Secret != "" && j.JWKSURL != "":
		v.fail(path, "set exactly one of secret (HS256) or jwks_url (RS256), not both: a token is checked with one algorithm only")
	case j.Secret != "" && !IsSecretRef(j.Secret):
		v.fail(path+".secret", "secret must be a secret reference like env:SHOP_JWT_SECRET; secrets are never stored in clear")
	case j.JWKSURL != "":
		v.eventURL(j.JWKSURL, path+".jwks_url")
	}
}
