package gateway

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hypergate/hypergate/internal/config"
)

// Consumers may authenticate with JSON Web Tokens from their own identity
// provider: a bearer token that is not a known key and whose iss claim is
// a consumer's configured issuer is verified with that consumer's key —
// HS256 with a shared secret, or RS256 with the public keys the issuer
// publishes as a JWKS — and, when valid, authenticates the consumer. The
// algorithm is fixed by the configuration, never taken from the token:
// "none" and an HS256 token signed with an RS256 issuer's public key are
// refused by construction.

// JWT limits.
const (
	// jwtLeeway absorbs clock skew between the issuer and the gateway on
	// exp, nbf and iat.
	jwtLeeway = 30 * time.Second
	// maxJWTBytes bounds the tokens parsed at all.
	maxJWTBytes = 8 << 10
	// jwksMinInterval is the least time between two fetches of one key set,
	// so that tokens with made-up key IDs cannot make the gateway hammer
	// the issuer.
	jwksMinInterval = time.Minute
	// jwksMaxAge is when a key set is refreshed in the background, so that
	// keys the issuer withdrew stop verifying.
	jwksMaxAge = 15 * time.Minute
	// jwksTimeout bounds one fetch; maxJWKSBytes its body.
	jwksTimeout  = 5 * time.Second
	maxJWKSBytes = 1 << 20
	// minRSABits refuses keys too weak to trust.
	minRSABits = 2048
)

// jwtIssuer verifies the tokens of one consumer.
type jwtIssuer struct {
	consumer string
	issuer   string
	parser   *jwt.Parser
	hmacKey  []byte      // HS256
	jwks     *jwksSource // RS256
}

// compileJWT builds the issuers of the consumers that accept tokens,
// reusing the key sets of st that are still named; used are the key sets
// to keep in st once the snapshot compiles. Secrets resolved are returned
// for redaction.
func compileJWT(cfg *config.Config, st *State) (issuers map[string]*jwtIssuer, secrets []string, used map[string]*jwksSource, err error) {
	used = map[string]*jwksSource{}
	for _, c := range cfg.Consumers {
		j := c.JWT
		if j == nil {
			continue
		}
		opts := []jwt.ParserOption{
			jwt.WithValidMethods([]string{j.Algorithm()}),
			jwt.WithIssuer(j.Issuer),
			jwt.WithLeeway(jwtLeeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
		}
		if j.Audience != "" {
			opts = append(opts, jwt.WithAudience(j.Audience))
		}
		is := &jwtIssuer{consumer: c.Name, issuer: j.Issuer, parser: jwt.NewParser(opts...)}
		if j.Secret != "" {
			secret, err := config.ResolveSecret(j.Secret)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("consumer %q: jwt secret: %w", c.Name, err)
			}
			is.hmacKey = []byte(secret)
			secrets = append(secrets, secret)
		} else {
			src := st.jwks[j.JWKSURL]
			if src == nil {
				src = newJWKSSource(j.JWKSURL, st.log)
			}
			used[j.JWKSURL] = src
			is.jwks = src
		}
		if issuers == nil {
			issuers = map[string]*jwtIssuer{}
		}
		issuers[j.Issuer] = is
	}
	return issuers, secrets, used, nil
}

// looksLikeJWT is a cheap test for the compact serialisation: two dots,
// and a header that starts as JSON does in base64url ("eyJ" is '{"').
func looksLikeJWT(tok string) bool {
	return strings.HasPrefix(tok, "eyJ") && strings.Count(tok, ".") == 2
}

// authenticateJWT verifies a token against the issuer it names.
func (g *Gateway) authenticateJWT(c *call, s *Snapshot, tok string) (*consumer, *apiError) {
	if len(tok) > maxJWTBytes {
		return nil, invalidJWT(fmt.Sprintf("the token is longer than %d bytes", maxJWTBytes))
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		return nil, invalidJWT("the token is malformed")
	}
	is := s.jwt[claims.Issuer]
	if is == nil {
		return nil, &apiError{Status: 401, Type: errInvalidRequest, Code: "invalid_api_key",
			Message: "Incorrect API key provided (a JWT whose issuer no consumer accepts)."}
	}
	cons := s.consumers[is.consumer]
	if cons == nil {
		return nil, invalidJWT("the token's consumer no longer exists")
	}
	_, err := is.parser.ParseWithClaims(tok, &jwt.RegisteredClaims{}, is.keyFunc)
	if err != nil {
		return nil, invalidJWT(jwtReason(err))
	}
	c.rec.Consumer = cons.name
	c.rec.KeyID = "jwt:" + is.consumer
	return cons, nil
}

func invalidJWT(why string) *apiError {
	return &apiError{Status: 401, Type: errInvalidRequest, Code: "invalid_jwt", Message: "JWT rejected: " + why + "."}
}

// jwtReason says why a token failed in words a client can act on, without
// echoing the token.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token was issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && strings.Contains(err.Error(), "aud claim"):
		return "the token names no audience (aud), and this issuer's tokens must"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token has no expiry (exp is required)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token is not meant for this audience (aud)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the signature does not verify"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// The key function's own errors (unknown key id, key set
		// unavailable, wrong algorithm) are safe to show.
		var ke *jwtKeyError
		if errors.As(err, &ke) {
			return ke.msg
		}
		return "the token cannot be verified"
	}
	var ke *jwtKeyError
	if errors.As(err, &ke) {
		return ke.msg
	}
	return "the token is invalid"
}

// jwtKeyError is a key function's refusal, shown to the client.
type jwtKeyError struct{ msg string }

func (e *jwtKeyError) Error() string { return e.msg }

// keyFunc returns the key that verifies t. The parser has already refused
// any algorithm but the issuer's; the type checks here keep an HMAC key
// from ever meeting an RSA token and the reverse.
func (is *jwtIssuer) keyFunc(t *jwt.Token) (any, error) {
	if is.hmacKey != nil {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, &jwtKeyError{msg: fmt.Sprintf("algorithm %v is not the issuer's HS256", t.Header["alg"])}
		}
		return is.hmacKey, nil
	}
	if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
		return nil, &jwtKeyError{msg: fmt.Sprintf("algorithm %v is not the issuer's RS256", t.Header["alg"])}
	}
	kid, _ := t.Header["kid"].(string)
	return is.jwks.key(kid)
}

// jwksSource fetches and caches one issuer's JSON Web Key Set. Lookups
// read an immutable set without locking; a fetch happens on the first
// use, when a token names a key ID the set lacks (at most once per
// jwksMinInterval), and in the background once the set is jwksMaxAge old.
type jwksSource struct {
	url    string
	client *http.Client
	log    *slog.Logger
	set    atomic.Pointer[jwks]
	// fetchMu makes concurrent misses share one fetch; lastTry is the
	// unix-nanosecond time of the last fetch started.
	fetchMu    sync.Mutex
	lastTry    atomic.Int64
	refreshing atomic.Bool
}

// jwks is a fetched key set.
type jwks struct {
	keys    map[string]*rsa.PublicKey // by kid ("" for a key without one)
	fetched time.Time
}

func newJWKSSource(url string, log *slog.Logger) *jwksSource {
	if log == nil {
		log = slog.Default()
	}
	return &jwksSource{url: url, log: log, client: &http.Client{
		Timeout: jwksTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || (req.URL.Scheme != "https" && req.URL.Scheme != "http") {
				return errors.New("too many redirects, or a redirect to another scheme")
			}
			return nil
		},
	}}
}

// key returns the public key with the given ID, fetching the set when it
// is not known yet.
func (j *jwksSource) key(kid string) (*rsa.PublicKey, error) {
	now := time.Now()
	if set := j.set.Load(); set != nil {
		if k := set.lookup(kid); k != nil {
			if now.Sub(set.fetched) > jwksMaxAge {
				j.refreshInBackground()
			}
			return k, nil
		}
	}
	if err := j.fetchIfAllowed(now); err != nil {
		return nil, err
	}
	if set := j.set.Load(); set != nil {
		if k := set.lookup(kid); k != nil {
			return k, nil
		}
	}
	if kid == "" {
		return nil, &jwtKeyError{msg: "the token names no key (kid) and the issuer's key set has more than one"}
	}
	return nil, &jwtKeyError{msg: fmt.Sprintf("the issuer's key set has no key %q", truncate(kid, 64))}
}

// lookup finds a key by ID; a token without one may use the only key of a
// set that has one.
func (s *jwks) lookup(kid string) *rsa.PublicKey {
	if k := s.keys[kid]; k != nil {
		return k
	}
	if kid == "" && len(s.keys) == 1 {
		for _, k := range s.keys {
			return k
		}
	}
	return nil
}

// fetchIfAllowed fetches the set unless one was fetched (or tried) less
// than jwksMinInterval ago. Concurrent callers share the fetch.
func (j *jwksSource) fetchIfAllowed(now time.Time) error {
	tried := j.lastTry.Load()
	j.fetchMu.Lock()
	defer j.fetchMu.Unlock()
	if last := j.lastTry.Load(); last != tried {
		return nil // another request fetched while this one waited
	}
	if tried != 0 && now.Sub(time.Unix(0, tried)) < jwksMinInterval {
		if j.set.Load() == nil {
			return &jwtKeyError{msg: "the issuer's key set could not be fetched; try again in a minute"}
		}
		return nil
	}
	j.lastTry.Store(now.UnixNano())
	if err := j.fetch(); err != nil {
		j.log.Warn("fetching a JWKS failed; tokens it must verify are refused until a fetch succeeds", "url", j.url, "error", err)
		if j.set.Load() == nil {
			return &jwtKeyError{msg: "the issuer's key set could not be fetched"}
		}
	}
	return nil
}

// refreshInBackground refetches an aging set without holding up the
// request that noticed, at most one refresh at a time and within the
// fetch interval.
func (j *jwksSource) refreshInBackground() {
	if !j.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer j.refreshing.Store(false)
		_ = j.fetchIfAllowed(time.Now())
	}()
}

// fetch downloads and parses the set, swapping it in on success.
func (j *jwksSource) fetch() error {
	ctx, cancel := context.WithTimeout(context.Background(), jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxJWKSBytes {
		return fmt.Errorf("key set larger than %d bytes", maxJWKSBytes)
	}
	keys, err := parseJWKS(b)
	if err != nil {
		return err
	}
	j.set.Store(&jwks{keys: keys, fetched: time.Now()})
	return nil
}

// parseJWKS reads the RSA signing keys of a JSON Web Key Set (RFC 7517),
// skipping keys of other types or uses and refusing weak ones.
func parseJWKS(b []byte) (map[string]*rsa.PublicKey, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("key set is not JSON: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		if err != nil || len(n) == 0 {
			continue
		}
		e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("key set has no usable RS256 key")
	}
	return keys, nil
}
