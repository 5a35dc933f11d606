package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// cheap are the smallest argon2id costs, for tests that hash a lot.
var cheap = PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHashAndVerify(t *testing.T) {
	ctx := context.Background()
	p := &Passwords{} // production parameters
	h, err := p.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the default parameters", h)
	}
	h2, _ := p.Hash(ctx, "correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		name, pw string
		want     bool
	}{
		{"right", "correct horse battery staple", true},
		{"wrong", "correct horse battery stapler", false},
		{"case", "Correct horse battery staple", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := p.Verify(ctx, h, tc.pw)
			if err != nil || ok != tc.want {
				t.Fatalf("Verify = %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
	// A hash made with other parameters still verifies: they travel with it.
	light := &Passwords{Params: cheap}
	lh, err := light.Hash(ctx, "pw-with-other-cost")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Verify(ctx, lh, "pw-with-other-cost"); !ok || err != nil {
		t.Fatalf("Verify of a cheaper hash = %v, %v", ok, err)
	}
}

func TestPasswordVerifyRejectsMalformedHashes(t *testing.T) {
	p := &Passwords{Params: cheap}
	good, _ := p.Hash(context.Background(), "pw")
	parts := strings.Split(good, "$")
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Join([]string{"", parts[1], parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]}, "$")},
		{"zero time", strings.Join([]string{"", parts[1], parts[2], "m=64,t=0,p=1", parts[4], parts[5]}, "$")},
		{"unknown param", strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,x=1", parts[4], parts[5]}, "$")},
		{"short salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "c2FsdA", parts[5]}, "$")},
		{"bad base64", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!!"}, "$")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := p.Verify(context.Background(), tc.hash, "pw"); ok || err == nil {
				t.Fatalf("Verify(%q) = %v, %v; want an error", tc.hash, ok, err)
			}
		})
	}
}

// TestPasswordVerifyNoneTakesAsLong checks that an unknown account costs
// the time of a real check, so timing does not reveal which accounts exist.
func TestPasswordVerifyNoneTakesAsLong(t *testing.T) {
	ctx := context.Background()
	p := &Passwords{}
	h, _ := p.Hash(ctx, "some password here")
	if err := p.VerifyNone(ctx, "warm up"); err != nil {
		t.Fatal(err)
	}
	measure := func(f func()) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	real := measure(func() { p.Verify(ctx, h, "guess") })
	none := measure(func() { p.VerifyNone(ctx, "guess") })
	if none < real/3 || none > real*3 {
		t.Fatalf("VerifyNone took %v, Verify %v: an attacker can tell them apart", none, real)
	}
}

func TestPasswordConcurrencyBound(t *testing.T) {
	p := &Passwords{Params: cheap, Concurrency: 1}
	p.init()
	p.slots <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Hash(ctx, "pw"); err == nil {
		t.Fatal("Hash ran without a free slot")
	}
	<-p.slots
	if _, err := p.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"eleven", strings.Repeat("a", 11), false},
		{"twelve", strings.Repeat("a", 12), true},
		{"twelve runes, more bytes", strings.Repeat("é", 12), true},
		{"longest", strings.Repeat("a", MaxPasswordLength), true},
		{"too long", strings.Repeat("a", MaxPasswordLength+1), false},
		{"invalid UTF-8", strings.Repeat("\xff", 20), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckPassword(tc.pw); (err == nil) != tc.ok {
				t.Fatalf("CheckPassword = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func FuzzDecodeHash(f *testing.F) {
	p := &Passwords{Params: cheap}
	h, _ := p.Hash(context.Background(), "pw")
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		pp, salt, key, err := decodeHash(s)
		if err != nil {
			return
		}
		if pp.Memory == 0 || pp.Memory > maxHashMemory || pp.Time == 0 || pp.Time > maxHashTime || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("decodeHash(%q) accepted %+v", s, pp)
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "ana@example.com", "ana@example.com"},
		{"case and space", "  Ana@Example.COM ", "ana@example.com"},
		{"no at", "ana", ""},
		{"display name", "Ana <ana@example.com>", ""},
		{"two ats", "a@b@c", ""},
		{"empty", "", ""},
		{"too long", strings.Repeat("a", 250) + "@x.io", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeEmail(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("NormalizeEmail(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@example.com", "A <a@b.c>", "\"q\"@x.y", "@", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if got != strings.ToLower(got) || strings.TrimSpace(got) != got || len(got) > 254 {
			t.Fatalf("NormalizeEmail(%q) = %q, not normal", s, got)
		}
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail is not idempotent on %q: %q, %v", got, again, err)
		}
	})
}
