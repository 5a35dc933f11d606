package app_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tidwall/gjson"
)

const (
	shopJWTSecret = "shop-jwt-hs256-secret-0123456789abcdef"
	shopIssuer    = "https://id.shop.example"
	otherIssuer   = "https://login.other.example"
)

// jwksServer publishes RSA public keys as a JSON Web Key Set and counts
// how often it is fetched.
type jwksServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{keys: map[string]*rsa.PublicKey{}}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range j.keys {
			set.Keys = append(set.Keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		set.Keys = append(set.Keys, map[string]string{"kty": "EC", "kid": "ec-ignored", "crv": "P-256", "x": "AA", "y": "AA"})
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) publish(kid string, k *rsa.PublicKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys[kid] = k
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claims are a token's registered claims relative to now.
func claims(iss string, aud []string, exp, nbf time.Duration) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "sub": "user-42", "iat": now.Unix()}
	if aud != nil {
		c["aud"] = aud
	}
	if exp != 0 {
		c["exp"] = now.Add(exp).Unix()
	}
	if nbf != 0 {
		c["nbf"] = now.Add(nbf).Unix()
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, c jwt.MapClaims, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requestIDOf turns a case name into a valid X-Request-Id.
func requestIDOf(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name)
}

// startJWT starts a gateway whose shop verifies HS256 tokens with an
// audience and whose other consumer verifies RS256 tokens from a JWKS.
func startJWT(t *testing.T, jwks string) *env {
	t.Helper()
	e := start(t)
	t.Setenv("TEST_SHOP_JWT", shopJWTSecret)
	cfg := fmt.Sprintf(baseConfig, e.up.BaseURL())
	cfg = strings.Replace(cfg, "    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]\n",
		"    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]\n    jwt: { issuer: \""+shopIssuer+"\", audience: hypergate, secret: env:TEST_SHOP_JWT }\n", 1)
	cfg = strings.Replace(cfg, "    keys: [ { name: default, key: env:TEST_OTHER_KEY } ]\n",
		"    keys: [ { name: default, key: env:TEST_OTHER_KEY } ]\n    jwt: { issuer: \""+otherIssuer+"\", jwks_url: \""+jwks+"\" }\n", 1)
	e.apply(cfg)
	return e
}

func TestJWTHS256(t *testing.T) {
	e := startJWT(t, "http://127.0.0.1:1/jwks.json")
	key := []byte(shopJWTSecret)
	aud := []string{"hypergate", "another-api"}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(shopIssuer, aud, time.Hour, 0)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		token    string
		status   int
		code     string
		contains string
	}{
		{name: "valid", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, time.Hour, 0), key, ""), status: 200},
		{name: "expired within the leeway", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, -10*time.Second, 0), key, ""), status: 200},
		{name: "expired", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, -2*time.Minute, 0), key, ""),
			status: 401, code: "invalid_jwt", contains: "expired"},
		{name: "not valid yet", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, time.Hour, 5*time.Minute), key, ""),
			status: 401, code: "invalid_jwt", contains: "not valid yet"},
		{name: "wrong audience", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, []string{"billing"}, time.Hour, 0), key, ""),
			status: 401, code: "invalid_jwt", contains: "audience"},
		{name: "no audience", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, nil, time.Hour, 0), key, ""),
			status: 401, code: "invalid_jwt", contains: "audience"},
		{name: "no expiry", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, 0, 0), key, ""),
			status: 401, code: "invalid_jwt", contains: "exp is required"},
		{name: "wrong secret", token: sign(t, jwt.SigningMethodHS256, claims(shopIssuer, aud, time.Hour, 0), []byte("guessed"), ""),
			status: 401, code: "invalid_jwt", contains: "signature"},
		{name: "another HMAC algorithm", token: sign(t, jwt.SigningMethodHS512, claims(shopIssuer, aud, time.Hour, 0), key, ""),
			status: 401, code: "invalid_jwt"},
		{name: "alg none", token: none, status: 401, code: "invalid_jwt"},
		{name: "unknown issuer", token: sign(t, jwt.SigningMethodHS256, claims("https://evil.example", aud, time.Hour, 0), key, ""),
			status: 401, code: "invalid_api_key"},
		{name: "malformed", token: "eyJhbGciOiJIUzI1NiJ9.not-base64!.x", status: 401, code: "invalid_jwt", contains: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "jwt-hs-" + requestIDOf(tt.name)
			resp, b := e.do("POST", "/v1/chat/completions", tt.token, chatBody, "X-Request-Id", id)
			if resp.StatusCode != tt.status || gjson.GetBytes(b, "error.code").Str != tt.code ||
				!strings.Contains(gjson.GetBytes(b, "error.message").Str, tt.contains) {
				t.Fatalf("%d %s; want %d %s containing %q", resp.StatusCode, b, tt.status, tt.code, tt.contains)
			}
			if strings.Contains(string(b), tt.token) {
				t.Fatal("the answer echoes the token")
			}
			if tt.status == 200 {
				if rec := e.call(id); rec.Consumer != "shop" || rec.KeyID != "jwt:shop" {
					t.Fatalf("recorded consumer %q, key %q; want shop, jwt:shop", rec.Consumer, rec.KeyID)
				}
			}
		})
	}
	// Keys still work beside tokens.
	if resp, b := e.do("POST", "/v1/chat/completions", shopKey, chatBody); resp.StatusCode != 200 {
		t.Fatalf("the API key: %d %s", resp.StatusCode, b)
	}
}

func TestJWTRS256WithJWKS(t *testing.T) {
	jwks := newJWKSServer(t)
	k1, k2, stranger := rsaKey(t), rsaKey(t), rsaKey(t)
	jwks.publish("k1", &k1.PublicKey)
	e := startJWT(t, jwks.srv.URL+"/jwks.json")
	pubPEM, err := x509.MarshalPKIXPublicKey(&k1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubPEM})
	valid := claims(otherIssuer, []string{"anything"}, time.Hour, 0)

	tests := []struct {
		name     string
		token    string
		status   int
		code     string
		contains string
		fetches  int32 // key set fetches after the request
	}{
		{name: "valid", token: sign(t, jwt.SigningMethodRS256, valid, k1, "k1"), status: 200, fetches: 1},
		{name: "valid again, from the cache", token: sign(t, jwt.SigningMethodRS256, valid, k1, "k1"), status: 200, fetches: 1},
		{name: "unknown kid", token: sign(t, jwt.SigningMethodRS256, valid, k2, "k2"), status: 401, code: "invalid_jwt",
			contains: `no key "k2"`, fetches: 1},
		{name: "signed by another key under a known kid", token: sign(t, jwt.SigningMethodRS256, valid, stranger, "k1"),
			status: 401, code: "invalid_jwt", contains: "signature", fetches: 1},
		{name: "HS256 signed with the public key", token: sign(t, jwt.SigningMethodHS256, valid, pemBytes, "k1"),
			status: 401, code: "invalid_jwt", fetches: 1},
		{name: "RS512", token: sign(t, jwt.SigningMethodRS512, valid, k1, "k1"), status: 401, code: "invalid_jwt", fetches: 1},
		{name: "expired", token: sign(t, jwt.SigningMethodRS256, claims(otherIssuer, nil, -time.Hour, 0), k1, "k1"),
			status: 401, code: "invalid_jwt", contains: "expired", fetches: 1},
		{name: "RS256 for the HS256 issuer", token: sign(t, jwt.SigningMethodRS256, claims(shopIssuer, []string{"hypergate"}, time.Hour, 0), k1, "k1"),
			status: 401, code: "invalid_jwt", fetches: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "jwt-rs-" + requestIDOf(tt.name)
			resp, b := e.do("POST", "/v1/chat/completions", tt.token, chatBody, "X-Request-Id", id)
			if resp.StatusCode != tt.status || gjson.GetBytes(b, "error.code").Str != tt.code ||
				!strings.Contains(gjson.GetBytes(b, "error.message").Str, tt.contains) {
				t.Fatalf("%d %s; want %d %s containing %q", resp.StatusCode, b, tt.status, tt.code, tt.contains)
			}
			if got := jwks.fetches.Load(); got != tt.fetches {
				t.Fatalf("the key set was fetched %d times, want %d", got, tt.fetches)
			}
			if tt.status == 200 {
				if rec := e.call(id); rec.Consumer != "other" || rec.KeyID != "jwt:other" {
					t.Fatalf("recorded consumer %q, key %q; want other, jwt:other", rec.Consumer, rec.KeyID)
				}
			}
		})
	}

	// The issuer rotates in k2. Tokens naming it make the gateway refetch
	// at most once a minute: within the minute of the last fetch they are
	// still refused, however many arrive.
	jwks.publish("k2", &k2.PublicKey)
	for range 5 {
		resp, _ := e.do("POST", "/v1/chat/completions", sign(t, jwt.SigningMethodRS256, valid, k2, "k2"), chatBody)
		if resp.StatusCode != 401 {
			t.Fatalf("a k2 token within the minute: %d, want 401", resp.StatusCode)
		}
	}
	if got := jwks.fetches.Load(); got != 1 {
		t.Fatalf("the key set was fetched %d times within a minute, want 1", got)
	}
}

// TestKeyExpiryAndRotation creates a key that expires, and rotates a key
// with a grace period: the old key works until the grace ends, then the
// data plane refuses it with expired_api_key while the new one works.
func TestKeyExpiryAndRotation(t *testing.T) {
	e := start(t)
	create := func(body string) (string, string) {
		var out struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys", body, &out); code != 201 {
			t.Fatalf("creating a key: %d", code)
		}
		return out.ID, out.Key
	}
	status := func(key string) (int, string) {
		resp, b := e.do("POST", "/v1/chat/completions", key, chatBody)
		return resp.StatusCode, gjson.GetBytes(b, "error.code").Str
	}
	waitExpired := func(key string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, code := status(key)
			if st == 401 && code == "expired_api_key" {
				return
			}
			if st != 200 || time.Now().After(deadline) {
				t.Fatalf("an expiring key answered %d %s", st, code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	expires := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	_, temp := create(fmt.Sprintf(`{"name":"temp","expires_at":%q}`, expires))
	if st, _ := status(temp); st != 200 {
		t.Fatalf("a key before its expiry: %d", st)
	}
	waitExpired(temp)
	if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys", `{"expires_at":"2001-01-01T00:00:00Z"}`, nil); code != 400 {
		t.Fatalf("a key expiring in the past: %d, want 400", code)
	}

	oldID, oldKey := create(`{"name":"prod"}`)
	var rot struct {
		ID       string `json:"id"`
		Key      string `json:"key"`
		Name     string `json:"name"`
		Replaces struct {
			ID        string    `json:"id"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"replaces"`
	}
	if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys/"+oldID+"/rotate", `{"grace":"1s"}`, &rot); code != 201 {
		t.Fatalf("rotation: %d", code)
	}
	if rot.Key == "" || rot.Key == oldKey || rot.Name != "prod" || rot.Replaces.ID != oldID || time.Until(rot.Replaces.ExpiresAt) > 2*time.Second {
		t.Fatalf("rotation answer %+v", rot)
	}
	for _, k := range []string{oldKey, rot.Key} {
		if st, code := status(k); st != 200 {
			t.Fatalf("during the grace period: %d %s, want both keys to work", st, code)
		}
	}
	waitExpired(oldKey)
	if st, _ := status(rot.Key); st != 200 {
		t.Fatalf("the new key after the grace: %d", st)
	}

	// The default grace is a day; keys declared in the configuration and
	// revoked keys do not rotate.
	var def struct {
		Replaces struct {
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"replaces"`
	}
	if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys/"+rot.ID+"/rotate", "", &def); code != 201 ||
		def.Replaces.ExpiresAt.Before(time.Now().Add(23*time.Hour)) || def.Replaces.ExpiresAt.After(time.Now().Add(25*time.Hour)) {
		t.Fatalf("default grace: %d, old key expires at %v", code, def.Replaces.ExpiresAt)
	}
	if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys/config:shop%2Fdefault/rotate", "", nil); code != 404 {
		t.Fatalf("rotating a configured key: %d, want 404", code)
	}
	if code := e.adminDo("DELETE", "/admin/v1/keys/"+rot.ID, "", nil); code != 204 {
		t.Fatalf("revoking: %d", code)
	}
	if code := e.adminDo("POST", "/admin/v1/consumers/shop/keys/"+rot.ID+"/rotate", "", nil); code != 409 {
		t.Fatalf("rotating a revoked key: %d, want 409", code)
	}
	var audit struct {
		Data []struct {
			Action string `json:"action"`
		} `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/audit?action=key.rotate", "", &audit)
	if len(audit.Data) != 2 {
		t.Fatalf("%d key.rotate audit entries, want 2", len(audit.Data))
	}
}
