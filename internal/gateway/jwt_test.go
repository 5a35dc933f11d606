package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func jwk(kid string, k *rsa.PublicKey, extra map[string]string) map[string]string {
	m := map[string]string{"kty": "RSA", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func jwksJSON(t testing.TB, keys ...map[string]string) []byte {
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testRSA = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func TestParseJWKS(t *testing.T) {
	k, err := testRSA()
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub := &k.PublicKey
	tests := []struct {
		name      string
		doc       []byte
		wantKids  []string
		wantError string
	}{
		{name: "one key", doc: jwksJSON(t, jwk("a", pub, nil)), wantKids: []string{"a"}},
		{name: "signing keys of RS256 only", doc: jwksJSON(t,
			jwk("sig", pub, map[string]string{"use": "sig", "alg": "RS256"}),
			jwk("enc", pub, map[string]string{"use": "enc"}),
			jwk("ps", pub, map[string]string{"alg": "PS256"}),
			map[string]string{"kty": "EC", "kid": "ec", "crv": "P-256"},
			map[string]string{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}), wantKids: []string{"sig"}},
		{name: "padded base64", doc: []byte(strings.Replace(string(jwksJSON(t, jwk("p", pub, nil))), `"e":"AQAB"`, `"e":"AQAB=="`, 1)), wantKids: []string{"p"}},
		{name: "weak key skipped", doc: jwksJSON(t, jwk("weak", &weak.PublicKey, nil)), wantError: "no usable RS256 key"},
		{name: "bad modulus", doc: jwksJSON(t, map[string]string{"kty": "RSA", "kid": "x", "n": "!!", "e": "AQAB"}), wantError: "no usable"},
		{name: "even exponent", doc: jwksJSON(t, map[string]string{"kty": "RSA", "kid": "x", "n": jwk("", pub, nil)["n"], "e": "Ag"}), wantError: "no usable"},
		{name: "huge exponent", doc: jwksJSON(t, map[string]string{"kty": "RSA", "kid": "x", "n": jwk("", pub, nil)["n"], "e": "AQAAAAAB"}), wantError: "no usable"},
		{name: "no keys", doc: []byte(`{"keys":[]}`), wantError: "no usable"},
		{name: "not json", doc: []byte(`<html>`), wantError: "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseJWKS(tt.doc)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tt.wantKids) {
				t.Fatalf("keys %v, want %v", keys, tt.wantKids)
			}
			for _, kid := range tt.wantKids {
				if k := keys[kid]; k == nil || k.N.Cmp(pub.N) != 0 || k.E != pub.E {
					t.Fatalf("key %q = %v", kid, k)
				}
			}
		})
	}
}

// FuzzParseJWKS feeds key sets as an issuer (or whoever answers at its
// URL) might serve them: no panic, and every key kept is usable.
func FuzzParseJWKS(f *testing.F) {
	k, err := testRSA()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(jwksJSON(f, jwk("a", &k.PublicKey, nil)))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQ","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b)
		if err != nil {
			return
		}
		for kid, k := range keys {
			if k.N.BitLen() < minRSABits || k.E < 3 || k.E%2 == 0 {
				t.Fatalf("kept a weak key %q", kid)
			}
		}
	})
}

// jwksFixture serves a key set whose keys can change, counting fetches.
type jwksFixture struct {
	mu      sync.Mutex
	doc     []byte
	fetches atomic.Int32
	srv     *httptest.Server
}

func newJWKSFixture(t *testing.T, doc []byte) *jwksFixture {
	f := &jwksFixture{doc: doc}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		_, _ = w.Write(f.doc)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *jwksFixture) set(doc []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doc = doc
}

// TestJWKSRefresh checks when a key set is fetched: on first use, on an
// unknown key ID at most once per jwksMinInterval (concurrent misses
// share one fetch), and in the background once the set is old.
func TestJWKSRefresh(t *testing.T) {
	k, err := testRSA()
	if err != nil {
		t.Fatal(err)
	}
	pub := &k.PublicKey
	fx := newJWKSFixture(t, jwksJSON(t, jwk("k1", pub, nil)))
	src := newJWKSSource(fx.srv.URL, slog.New(slog.DiscardHandler))
	// longAgo makes the last fetch look older than the interval.
	longAgo := func() { src.lastTry.Store(time.Now().Add(-2 * jwksMinInterval).UnixNano()) }

	if got, err := src.key("k1"); err != nil || got.N.Cmp(pub.N) != 0 {
		t.Fatalf("first use: %v, %v", got, err)
	}
	if n := fx.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches on first use, want 1", n)
	}
	fx.set(jwksJSON(t, jwk("k1", pub, nil), jwk("k2", pub, nil)))
	if _, err := src.key("k2"); err == nil || !strings.Contains(err.Error(), `no key "k2"`) {
		t.Fatalf("k2 within the interval: %v", err)
	}
	if n := fx.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches: an unknown kid within the interval must not fetch", n)
	}

	longAgo()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := src.key("k2")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("k2 after the interval: %v", err)
		}
	}
	if n := fx.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches: 16 concurrent misses must share one fetch", n)
	}

	// An old set is refreshed in the background: the request that notices
	// is answered from the set it has.
	fx.set(jwksJSON(t, jwk("k3", pub, nil)))
	old := *src.set.Load()
	old.fetched = time.Now().Add(-2 * jwksMaxAge)
	src.set.Store(&old)
	longAgo()
	if _, err := src.key("k1"); err != nil {
		t.Fatalf("k1 from the old set: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for src.set.Load().keys["k3"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the old set was never refreshed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := src.key("k1"); err == nil {
		t.Fatal("k1, withdrawn by the issuer, still verifies after the refresh")
	}

	// A failing issuer: the set in hand keeps working.
	fx.set([]byte("oops"))
	longAgo()
	before := fx.fetches.Load()
	if _, err := src.key("k9"); err == nil {
		t.Fatal("an unknown kid verified while the issuer fails")
	}
	if fx.fetches.Load() != before+1 {
		t.Fatal("an unknown kid after the interval did not fetch")
	}
	if _, err := src.key("k3"); err != nil {
		t.Fatalf("k3 while the issuer fails: %v", err)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, io.LimitReader(zeros{}, maxJWKSBytes+10))
	}))
	defer srv.Close()
	src := newJWKSSource(srv.URL, slog.New(slog.DiscardHandler))
	if _, err := src.key("k1"); err == nil || !strings.Contains(err.Error(), "could not be fetched") {
		t.Fatalf("an oversized key set: %v", err)
	}
	// The next attempt waits for the interval.
	if _, err := src.key("k1"); err == nil || !strings.Contains(err.Error(), "try again in a minute") {
		t.Fatalf("a retry within the interval: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln":  true,
		"hg-0123456789abcdefghijklmnopqrstuvwxyzABC": false,
		"eyJonly.two":     false,
		"a.b.c":           false,
		"eyJ.a.b.c":       false,
		"":                false,
		"sk-eyJ.fake.key": false,
	} {
		if got := looksLikeJWT(s); got != want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	}
}
