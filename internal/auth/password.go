package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds, in characters. The upper bound keeps a sign-in
// from feeding megabytes to the hash.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// ErrWeakPassword is returned for a password outside the length bounds.
var ErrWeakPassword = fmt.Errorf("a password must be %d to %d characters long", MinPasswordLength, MaxPasswordLength)

// CheckPassword returns ErrWeakPassword for a password that may not be set.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength || n > MaxPasswordLength || !utf8.ValidString(pw) {
		return ErrWeakPassword
	}
	return nil
}

// PasswordParams are argon2id's cost parameters. They are written into
// every hash, so raising them later leaves existing hashes verifiable.
type PasswordParams struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultPasswordParams are OWASP's recommendation for argon2id (19 MiB,
// two passes, one lane): about 30 ms on a current core.
var DefaultPasswordParams = PasswordParams{Time: 2, Memory: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// Passwords hashes and verifies passwords. At most Concurrency hashes run
// at once, so that a burst of sign-ins costs bounded memory (Memory KiB
// each) instead of exhausting it. The zero value uses the defaults.
type Passwords struct {
	Params      PasswordParams
	Concurrency int

	once      sync.Once
	slots     chan struct{}
	dummyOnce sync.Once
	dummy     string
	dummyErr  error
}

func (p *Passwords) init() {
	p.once.Do(func() {
		if p.Params == (PasswordParams{}) {
			p.Params = DefaultPasswordParams
		}
		n := p.Concurrency
		if n <= 0 {
			n = 2
		}
		p.slots = make(chan struct{}, n)
	})
}

func (p *Passwords) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Passwords) release() { <-p.slots }

// Hash returns the PHC-format argon2id hash of pw with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. It does not check the
// length policy; callers do with CheckPassword.
func (p *Passwords) Hash(ctx context.Context, pw string) (string, error) {
	p.init()
	salt := make([]byte, p.Params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release()
	return encodeHash(p.Params, salt, argon2.IDKey([]byte(pw), salt, p.Params.Time, p.Params.Memory, p.Params.Threads, p.Params.KeyLen)), nil
}

// Verify reports whether pw matches encoded, comparing in constant time.
// It recomputes the hash with the parameters stored in encoded.
func (p *Passwords) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	p.init()
	params, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	defer p.release()
	got := argon2.IDKey([]byte(pw), salt, params.Time, params.Memory, params.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyNone spends the time a Verify takes and always fails. Sign-in calls
// it for an unknown account, so that timing does not tell which accounts
// exist.
func (p *Passwords) VerifyNone(ctx context.Context, pw string) error {
	p.init()
	p.dummyOnce.Do(func() { p.dummy, p.dummyErr = p.Hash(context.Background(), "hypergate: no such account") })
	if p.dummyErr != nil {
		return p.dummyErr
	}
	_, err := p.Verify(ctx, p.dummy, pw)
	return err
}

var b64 = base64.RawStdEncoding

func encodeHash(pp PasswordParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, pp.Memory, pp.Time, pp.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash is returned for a stored hash this package did not write.
var errBadHash = errors.New("password hash is not in the argon2id PHC format")

// Bounds on parameters read back from a stored hash, so that a corrupted or
// planted row cannot make a sign-in allocate gigabytes.
const (
	maxHashMemory = 1 << 20 // KiB: 1 GiB
	maxHashTime   = 64
)

func decodeHash(s string) (PasswordParams, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return PasswordParams{}, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return PasswordParams{}, nil, nil, fmt.Errorf("unsupported argon2 version %q: %w", parts[2], errBadHash)
	}
	var pp PasswordParams
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return PasswordParams{}, nil, nil, errBadHash
		}
		switch k {
		case "m":
			pp.Memory = uint32(n)
		case "t":
			pp.Time = uint32(n)
		case "p":
			if n > 255 {
				return PasswordParams{}, nil, nil, errBadHash
			}
			pp.Threads = uint8(n)
		default:
			return PasswordParams{}, nil, nil, errBadHash
		}
	}
	if pp.Memory == 0 || pp.Memory > maxHashMemory || pp.Time == 0 || pp.Time > maxHashTime || pp.Threads == 0 {
		return PasswordParams{}, nil, nil, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return PasswordParams{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return PasswordParams{}, nil, nil, errBadHash
	}
	pp.SaltLen, pp.KeyLen = uint32(len(salt)), uint32(len(key))
	return pp, salt, key, nil
}
