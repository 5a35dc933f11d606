package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// secretPrefix starts every secret reference. Only the environment is
// supported; the prefix leaves room for other stores (file:, vault:) later.
const secretPrefix = "env:"

// IsSecretRef reports whether s has the form env:NAME, NAME being a portable
// environment variable name (letters, digits and '_', not starting with a
// digit).
func IsSecretRef(s string) bool {
	name, ok := strings.CutPrefix(s, secretPrefix)
	return ok && isEnvName(name)
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// ResolveSecret returns the value of the environment variable that ref
// (env:NAME) names. An unset or empty variable is an error: sending an empty
// key upstream would only fail later and less clearly. When ref is not a
// reference the error does not quote it, since it may be a secret pasted in
// the wrong place.
func ResolveSecret(ref string) (string, error) {
	if !IsSecretRef(ref) {
		return "", errors.New("not a secret reference: want env:NAME")
	}
	name := strings.TrimPrefix(ref, secretPrefix)
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("resolving %s: environment variable %s is not set", ref, name)
	}
	if v == "" {
		return "", fmt.Errorf("resolving %s: environment variable %s is empty", ref, name)
	}
	return v, nil
}
