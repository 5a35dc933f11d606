package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxMessageBytes bounds a normalised message: longer messages are cut
// before normalising (the tail of an error message rarely tells two errors
// apart) and after.
const MaxMessageBytes = 512

// The placeholders Normalize writes, named as Sentry names its own.
const (
	PlaceholderURL   = "<url>"
	PlaceholderEmail = "<email>"
	PlaceholderUUID  = "<uuid>"
	PlaceholderIP    = "<ip>"
	PlaceholderDate  = "<date>"
	PlaceholderHex   = "<hex>"
	PlaceholderNum   = "<num>"
)

// The replacements, in the order they apply: the longer, more specific
// shapes first, so that a URL's digits or a UUID's hex groups are not
// replaced piecemeal by the later, broader ones. Go's regexp runs in linear
// time, so a hostile message cannot make this slow.
var replacements = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`), PlaceholderURL},
	{regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b`), PlaceholderEmail},
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), PlaceholderUUID},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`), PlaceholderDate},
	{regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b`), PlaceholderIP},
	// IPv6: four groups or more, or a "::" with a group before it, so
	// that a time of day such as 12:30:45 is left to the number rule.
	{regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?`), PlaceholderIP},
	{regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b`), PlaceholderHex},
	// Bare hex of 8 or more with both a digit and a letter, such as a
	// request id or a hash, alone or after a prefix and an underscore
	// (req_8f3a9c2b…): see hexID. Plain numbers go to the next rule.
	{regexp.MustCompile(`(?i)(?:\b|_)[0-9a-f]{8,}\b`), ""},
	// Numbers, with a unit stuck to them kept (30.5s, 512ms), and digits
	// inside a word (sha256, h2o) left alone.
	{regexp.MustCompile(`\b\d+(?:[.,]\d+)*([a-zA-Z]*)\b`), PlaceholderNum + "$1"},
}

// hexID reports whether w, a run of 8 or more hex digits, mixes digits
// and letters, as ids and hashes do and words ("deadline" is not hex
// anyway, "facade00" is) and numbers do not.
func hexID(w string) bool {
	return strings.ContainsAny(w, "0123456789") && strings.ContainsAny(w, "abcdefABCDEF")
}

// Normalize replaces the variable parts of an error message — URLs, e-mail
// addresses, UUIDs, dates, IP addresses, hexadecimal ids and numbers — with
// placeholders, as Sentry does before grouping, so that "request 8812 took
// 31s" and "request 9901 took 29s" fall in one group. Runs of white space
// become one space. The input is untrusted: it is cut to MaxMessageBytes,
// invalid UTF-8 is replaced, and the result is at most MaxMessageBytes.
func Normalize(msg string) string {
	msg = cut(strings.ToValidUTF8(msg, "\uFFFD"))
	for _, r := range replacements {
		if r.with == "" {
			msg = r.re.ReplaceAllStringFunc(msg, func(w string) string {
				prefix := ""
				if strings.HasPrefix(w, "_") {
					prefix, w = "_", w[1:]
				}
				if hexID(w) {
					return prefix + PlaceholderHex
				}
				return prefix + w
			})
			continue
		}
		msg = r.re.ReplaceAllString(msg, r.with)
	}
	return cut(strings.Join(strings.Fields(msg), " "))
}

// cut shortens s to at most MaxMessageBytes without splitting a rune.
func cut(s string) string {
	if len(s) <= MaxMessageBytes {
		return s
	}
	s = s[:MaxMessageBytes]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Fingerprint is the hex SHA-256 of the key's fields, in a fixed order and
// separated by a byte no field contains, prefixed with a version so that a
// future change of the rules starts new groups rather than mixing them.
func (k Key) Fingerprint() string {
	h := sha256.New()
	for _, f := range []string{"v1", string(k.Kind), k.Service, k.Route, k.Endpoint, k.Provider, k.Model,
		k.StatusClass, k.ErrorCode, k.Message, k.Flag, k.FinishReason, k.Score} {
		h.Write([]byte(strings.ReplaceAll(f, "\x00", "")))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Title is a one-line description of the key, for lists and webhooks.
func (k Key) Title() string {
	where := k.Route
	if k.Service != "" {
		where = k.Service
		if k.Route != "" {
			where += " " + k.Route
		}
	} else if where == "" {
		where = k.Endpoint
	}
	if k.Model != "" {
		where += " (" + k.Model + ")"
	}
	var what string
	switch k.Kind {
	case KindFailure:
		what = k.StatusClass
		if k.ErrorCode != "" {
			what += " " + k.ErrorCode
		}
		if k.Message != "" {
			what += ": " + k.Message
		}
	case KindAnomaly:
		what = "flagged " + k.Flag
		if k.FinishReason != "" {
			what += " (finish reason " + k.FinishReason + ")"
		}
	case KindFeedback:
		what = "negative feedback on " + k.Score
	}
	return strings.TrimSpace(what + " on " + strings.TrimSpace(where))
}
