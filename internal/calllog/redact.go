package calllog

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// redactedMarker replaces every secret found in a captured body.
const redactedMarker = "[REDACTED]"

// minSecretLen is the shortest configured secret replaced by exact match:
// shorter strings would blank out ordinary text.
const minSecretLen = 8

// redactRounds bounds how often the rules are re-applied: a replacement can in
// principle join its neighbours into a new match, so redaction repeats until
// nothing changes, and fails closed if that does not happen.
const redactRounds = 4

// The patterns below are matched by hand-written scanners rather than
// regular expressions: Go's regexp runs at a few MB/s with capture groups,
// which on 8 KiB bodies made the writer, not the store, the bottleneck. Every
// key prefix, JWT and Authorization scheme begins a word, so one pass over
// the starts of words finds them all (findWordSecrets); field names are found
// from the ':' or '=' after them. A search per literal, as this once did,
// cost a pass over the body for each of 21 literals, and this runs on the
// request goroutine when the queue is full.

const (
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	digitChars = "0123456789"
)

// byteSet is a set of bytes for scanning runs of a key's alphabet.
type byteSet [256]bool

func newByteSet(chars string) *byteSet {
	var s byteSet
	for i := 0; i < len(chars); i++ {
		s[chars[i]] = true
	}
	return &s
}

// run returns the index of the first byte of s at or after i not in the set.
func (bs *byteSet) run(s string, i int) int {
	for i < len(s) && bs[s[i]] {
		i++
	}
	return i
}

var (
	wordBytes   = newByteSet(upperChars + lowerChars + digitChars + "_")
	base62      = newByteSet(upperChars + lowerChars + digitChars)
	base64url   = newByteSet(upperChars + lowerChars + digitChars + "_-")
	upperDigits = newByteSet(upperChars + digitChars)
	// fieldNameBytes may appear in a field or parameter name.
	fieldNameBytes = newByteSet(upperChars + lowerChars + digitChars + "_.-")
	// credentialBytes may appear in a Bearer or Basic credential (RFC 6750 b64token).
	credentialBytes = newByteSet(upperChars + lowerChars + digitChars + "-._~+/")
	// queryValueEnd ends a query or form parameter value.
	queryValueEnd = newByteSet("&; \t\r\n\"'<>#\\")
	numberBytes   = newByteSet(digitChars + ".eE+-")
)

// tokenRule finds keys with a fixed prefix. The prefix must start a word and
// be followed by at least min bytes of the key's alphabet.
type tokenRule struct {
	prefixes []string
	alphabet *byteSet
	min      int
	exact    bool // exactly min bytes, ending a word (AWS key ids)
}

var tokenRules = []tokenRule{
	// OpenAI (sk-, sk-proj-, sk-svcacct-) and Anthropic (sk-ant-api03-) keys.
	{prefixes: []string{"sk-"}, alphabet: base64url, min: 20},
	// Hypergate consumer keys (hg-) and admin tokens (hga-) carry 43 base62
	// bytes; 24 are enough, so that a key cut short by the capture cap is caught.
	{prefixes: []string{"hg-", "hga-"}, alphabet: base62, min: 24},
	{prefixes: []string{"AKIA", "ASIA"}, alphabet: upperDigits, min: 16, exact: true},
	{prefixes: []string{"AIza"}, alphabet: base64url, min: 35},
	{prefixes: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, alphabet: base62, min: 20},
	{prefixes: []string{"github_pat_"}, alphabet: wordBytes, min: 20},
	{prefixes: []string{"xoxa-", "xoxb-", "xoxo-", "xoxp-", "xoxr-", "xoxs-"}, alphabet: newByteSet(upperChars + lowerChars + digitChars + "-"), min: 10},
}

// secretFieldSuffixes are the lower-case endings of field and parameter
// names whose values are credentials: api_key, apiKey, x-api-key,
// client_secret, access_token, password … A name must end in one, so
// "max_tokens" and "token_type" are left alone.
var secretFieldSuffixes = func() []string {
	out := []string{"password", "passwd", "passphrase", "secret", "token", "authorization", "credential", "credentials"}
	for _, p := range []string{"api", "access", "secret", "private", "signing"} {
		for _, sep := range []string{"", "_", "-"} {
			out = append(out, p+sep+"key")
		}
	}
	return out
}()

// pemPrivateKey matches the body of a PEM private key block; PEM blocks are
// rare, so the expression runs only when the END line's text is present.
var pemPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END [A-Z ]*PRIVATE KEY-----`)

// span is a part of a body to replace.
type span struct {
	start, end int
	repl       string
}

// Redact returns body with every configured secret (exact match, at least 8
// bytes, also in its JSON-escaped form) and every key-like string replaced by
// "[REDACTED]": OpenAI, Anthropic, Hypergate, AWS, Google, GitHub and Slack
// keys, Bearer and Basic credentials, JWTs, PEM private keys, and the values of
// JSON fields and query parameters named like api_key, password, secret, token,
// access_token or authorization. It never panics; its output contains none of
// the secrets (a "secret" inside the text "[REDACTED]" itself is ignored); and
// Redact(Redact(b, s), s) == Redact(b, s). Should replacements keep producing
// new matches, it fails closed and returns just "[REDACTED]".
func Redact(body string, secrets []string) string {
	return newSecretSet(secrets).redact(body)
}

// secretSet is a prepared list of configured secrets.
type secretSet struct {
	list []string          // every form searched for, longest first
	rep  *strings.Replacer // replaces all of list in one pass when it is long
}

func newSecretSet(secrets []string) *secretSet {
	var list []string
	for _, s := range secrets {
		// A secret inside the marker cannot be redacted, and is no secret.
		if len(s) < minSecretLen || strings.Contains(redactedMarker, s) {
			continue
		}
		list = append(list, s)
		for _, form := range jsonForms(s) {
			if form != s && len(form) >= minSecretLen {
				list = append(list, form)
			}
		}
	}
	if len(list) == 0 {
		return &secretSet{}
	}
	// Longest first: the replacer prefers earlier arguments at one position,
	// so a secret containing another is replaced whole.
	slices.SortFunc(list, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	list = slices.Compact(list)
	ss := &secretSet{list: list}
	if len(list) > replacerMin {
		pairs := make([]string, 0, 2*len(list))
		for _, s := range list {
			pairs = append(pairs, s, redactedMarker)
		}
		ss.rep = strings.NewReplacer(pairs...)
	}
	return ss
}

// replacerMin is the number of secret forms above which one strings.Replacer
// pass beats a strings.Index pass per secret.
const replacerMin = 16

// jsonForms returns s as it appears inside JSON strings written by common
// encoders: escaped, escaped without HTML escaping, and with "/" escaped.
func jsonForms(s string) []string {
	var forms []string
	if b, err := json.Marshal(s); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		b := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
		forms = append(forms, string(b[1:len(b)-1]))
	}
	for _, f := range forms[:len(forms):len(forms)] {
		if strings.Contains(f, "/") {
			forms = append(forms, strings.ReplaceAll(f, "/", `\/`))
		}
	}
	return forms
}

// redact applies the configured secrets and the rules until the body stops
// changing. Safe on a nil set.
func (ss *secretSet) redact(body string) string {
	if body == "" {
		return body
	}
	out := body
	for range redactRounds {
		next := applyRules(ss.replace(out))
		if next == out {
			return out
		}
		out = next
	}
	return redactedMarker
}

func (ss *secretSet) replace(s string) string {
	switch {
	case ss == nil:
		return s
	case ss.rep != nil:
		return ss.rep.Replace(s)
	}
	for _, secret := range ss.list {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, redactedMarker)
		}
	}
	return s
}

// findSpans returns the secrets in s, sorted and without overlaps.
func findSpans(s string) []span {
	spans := findWordSecrets(s, nil)
	spans = findJSONFields(s, spans)
	spans = findQueryParams(s, spans)
	if strings.Contains(s, "PRIVATE KEY-----") {
		for _, m := range pemPrivateKey.FindAllStringSubmatchIndex(s, -1) {
			if m[3] > m[2] {
				spans = append(spans, span{m[2], m[3], redactedMarker})
			}
		}
	}
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp.start < last.end {
			last.end = max(last.end, sp.end)
			last.repl = redactedMarker
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// applyRules replaces every span found in s.
func applyRules(s string) string {
	spans := findSpans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(sp.repl)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// wordLit is a literal that begins a secret at the start of a word: a key
// prefix, the "eyJ" of a JWT, or an Authorization scheme.
type wordLit struct {
	lit  string
	fold bool       // matched ignoring ASCII case
	rule *tokenRule // set for key prefixes
	kind wordLitKind
}

type wordLitKind uint8

const (
	litKey wordLitKind = iota
	litJWT
	litScheme
)

// wordLits lists every literal; wordLitsByFirst indexes it by first byte.
var wordLits, wordLitsByFirst = func() ([]wordLit, [256][]uint8) {
	var lits []wordLit
	for i := range tokenRules {
		for _, p := range tokenRules[i].prefixes {
			lits = append(lits, wordLit{lit: p, rule: &tokenRules[i], kind: litKey})
		}
	}
	lits = append(lits, wordLit{lit: "eyJ", kind: litJWT},
		wordLit{lit: "bearer", fold: true, kind: litScheme}, wordLit{lit: "basic", fold: true, kind: litScheme})
	var by [256][]uint8
	for i, l := range lits {
		c := l.lit[0]
		by[c] = append(by[c], uint8(i))
		if l.fold && c >= 'a' && c <= 'z' {
			by[c-'a'+'A'] = append(by[c-'a'+'A'], uint8(i))
		}
	}
	return lits, by
}()

// maxWordLits bounds wordLits so that findWordSecrets keeps its state on
// the stack; TestWordLitsFit holds it to that.
const maxWordLits = 32

// findWordSecrets finds keys, JWTs and Bearer or Basic credentials. It
// visits the start of every word once and tries the literals that begin with
// its byte there. Like a search per literal, it looks for a literal again
// only after the end of that literal's last match, so a credential that
// happens to hold the word "bearer" does not make its own tail a credential.
func findWordSecrets(s string, spans []span) []span {
	var next [maxWordLits]int // per literal: where it may match again
	for p := 0; p < len(s); {
		c := s[p]
		if !wordBytes[c] {
			p++
			continue
		}
		for _, li := range wordLitsByFirst[c] {
			w := &wordLits[li]
			if p < next[li] || len(s)-p < len(w.lit) {
				continue
			}
			if w.fold {
				if !strings.EqualFold(s[p:p+len(w.lit)], w.lit) {
					continue
				}
			} else if s[p:p+len(w.lit)] != w.lit {
				continue
			}
			var sp span
			var ok bool
			switch w.kind {
			case litKey:
				sp, ok = w.rule.match(s, p, p+len(w.lit))
			case litJWT:
				sp, ok = jwtAt(s, p)
			case litScheme:
				sp, ok = credentialAfter(s, p+len(w.lit))
			}
			if ok {
				spans = append(spans, sp)
				next[li] = sp.end
			}
		}
		for p++; p < len(s) && wordBytes[s[p]]; p++ {
		}
	}
	return spans
}

// match reports the key whose prefix, at the start of a word, runs from
// start to body.
func (t *tokenRule) match(s string, start, body int) (span, bool) {
	end := t.alphabet.run(s, body)
	n := end - body
	ok := n >= t.min
	if t.exact {
		ok = ok && n == t.min && (end == len(s) || !wordBytes[s[end]])
	}
	return span{start, end, redactedMarker}, ok
}

// jwtAt reports a JWT, header.payload.signature, starting with the "eyJ" at
// start: a header and payload that are base64url JSON objects, which both
// begin "eyJ".
func jwtAt(s string, start int) (span, bool) {
	p := base64url.run(s, start+3)
	if p-start < 8 || p+4 > len(s) || s[p] != '.' || s[p+1:p+4] != "eyJ" {
		return span{}, false
	}
	q := base64url.run(s, p+4)
	if q-(p+1) < 8 || q >= len(s) || s[q] != '.' {
		return span{}, false
	}
	return span{start, base64url.run(s, q+1), redactedMarker}, true
}

// credentialAfter reports the credential that follows a Bearer or Basic
// scheme ending at k, unless it reads like prose ("Bearer authentication").
func credentialAfter(s string, k int) (span, bool) {
	if k >= len(s) || !isSpace(s[k]) {
		return span{}, false
	}
	for k < len(s) && isSpace(s[k]) {
		k++
	}
	end := credentialBytes.run(s, k)
	for end < len(s) && s[end] == '=' {
		end++
	}
	if end == k || isProseWord(s[k:end]) {
		return span{}, false
	}
	return span{k, end, redactedMarker}, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// secretSuffixesByLast groups secretFieldSuffixes by their last byte, in
// both cases: a name is compared only with the suffixes it can end in. Every
// ':' in a JSON body asks, so comparing with all two dozen cost more than all
// the other rules together.
var secretSuffixesByLast = func() (t [256][]string) {
	for _, s := range secretFieldSuffixes {
		c := s[len(s)-1]
		t[c] = append(t[c], s)
		t[c-'a'+'A'] = append(t[c-'a'+'A'], s)
	}
	return t
}()

// secretName reports whether name ends like a credential field's name.
func secretName(name string) bool {
	if name == "" {
		return false
	}
	for _, suffix := range secretSuffixesByLast[name[len(name)-1]] {
		if len(name) >= len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}

// findJSONFields finds the values of credential fields in JSON,
// "password": "…", and in JSON held in a JSON string, as tool-call arguments
// are: {\"password\": \"…\"}. String values are replaced inside their quotes,
// numbers by a quoted marker, so the JSON stays valid. A string cut off by the
// capture cap is replaced to the end.
func findJSONFields(s string, spans []span) []span {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], ':')
		if j < 0 {
			return spans
		}
		colon := i + j
		i = colon + 1
		// Back from the colon: spaces, the closing quote, the name, the opening quote.
		k := colon - 1
		for k >= 0 && isSpace(s[k]) {
			k--
		}
		if k < 0 || s[k] != '"' {
			continue
		}
		escaped := k > 0 && s[k-1] == '\\'
		nameEnd := k
		if escaped {
			nameEnd--
		}
		nameStart := nameEnd
		for nameStart > 0 && fieldNameBytes[s[nameStart-1]] {
			nameStart--
		}
		if nameStart == nameEnd || nameStart == 0 || s[nameStart-1] != '"' {
			continue
		}
		if escaped != (nameStart >= 2 && s[nameStart-2] == '\\') || !secretName(s[nameStart:nameEnd]) {
			continue
		}
		// Forward from the colon to the value.
		v := colon + 1
		for v < len(s) && isSpace(s[v]) {
			v++
		}
		if v >= len(s) {
			continue
		}
		quoted := `"[REDACTED]"`
		if escaped {
			quoted = `\"[REDACTED]\"`
		}
		switch {
		case s[v] == '-' || (s[v] >= '0' && s[v] <= '9'):
			end := numberBytes.run(s, v)
			spans = append(spans, span{v, end, quoted})
			i = end
		case !escaped && s[v] == '"':
			end := jsonStringEnd(s, v+1)
			if end > v+1 {
				spans = append(spans, span{v + 1, end, redactedMarker})
			}
			i = end
		case escaped && strings.HasPrefix(s[v:], `\"`):
			end := escapedJSONStringEnd(s, v+2)
			if end > v+2 {
				spans = append(spans, span{v + 2, end, redactedMarker})
			}
			i = end
		}
	}
}

// jsonStringEnd returns the index of the quote closing the JSON string whose
// content starts at i, or len(s) when it is not closed.
func jsonStringEnd(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
		case '"':
			return i
		default:
			i++
		}
	}
	return len(s)
}

// escapedJSONStringEnd is jsonStringEnd for a JSON string written inside
// another JSON string: it decodes the outer escapes as it goes and returns the
// index of the \" that closes the inner string, or len(s).
func escapedJSONStringEnd(s string, i int) int {
	innerEscape := false
	for i < len(s) {
		at := i
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			c = s[i+1]
			i += 2
			if c == 'u' {
				i += 4 // \uXXXX is never a quote or backslash of the inner string
				c = 'u'
			}
		} else {
			i++
		}
		switch {
		case innerEscape:
			innerEscape = false
		case c == '\\':
			innerEscape = true
		case c == '"':
			return at
		}
	}
	return len(s)
}

// findQueryParams finds credential parameters in query strings and form
// bodies: ?access_token=…&.
func findQueryParams(s string, spans []span) []span {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '=')
		if j < 0 {
			return spans
		}
		eq := i + j
		i = eq + 1
		nameStart := eq
		for nameStart > 0 && fieldNameBytes[s[nameStart-1]] {
			nameStart--
		}
		if nameStart == eq || !secretName(s[nameStart:eq]) {
			continue
		}
		end := eq + 1
		for end < len(s) && !queryValueEnd[s[end]] {
			end++
		}
		if end > eq+1 {
			spans = append(spans, span{eq + 1, end, redactedMarker})
			i = end
		}
	}
}

// isProseWord reports whether s reads like an English word rather than a
// credential: letters only, lower case after an optional capital, and short.
// "Bearer authentication" is prose; "Basic dXNlcjpwYXNz" is not. A full stop
// ending a sentence is not part of the word.
func isProseWord(s string) bool {
	s = strings.TrimRight(s, ".")
	if len(s) >= 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c >= 'A' && c <= 'Z' && i == 0:
		default:
			return false
		}
	}
	return true
}

// secretCache rebuilds the secret set only when the configured secrets
// change. Every spilled record asks for the set on its request goroutine, so
// the common case, nothing changed, is a comparison without a lock; the
// comparison is cheap because the configuration hands out the same strings
// each time.
type secretCache struct {
	fn  func() []string
	mu  sync.Mutex // serialises rebuilds
	cur atomic.Pointer[cachedSecrets]
}

type cachedSecrets struct {
	src []string // a copy of what fn returned: its caller may reuse the slice
	set *secretSet
}

func (c *secretCache) get() *secretSet {
	if c.fn == nil {
		return nil
	}
	secrets := c.fn()
	if cur := c.cur.Load(); cur != nil && slices.Equal(secrets, cur.src) {
		return cur.set
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.cur.Load(); cur != nil && slices.Equal(secrets, cur.src) {
		return cur.set
	}
	next := &cachedSecrets{src: slices.Clone(secrets), set: newSecretSet(secrets)}
	c.cur.Store(next)
	return next.set
}

// Cap copies at most limit bytes of b, cutting at a UTF-8 boundary, and
// appends "…[truncated N bytes]" when it cut, N being the bytes left out.
// limit <= 0 captures nothing. Invalid UTF-8 is replaced with U+FFFD so that
// the text can be stored in any database text column.
func Cap(b []byte, limit int) string {
	if limit <= 0 || len(b) == 0 {
		return ""
	}
	if len(b) <= limit {
		return validString(b)
	}
	cut := limit
	// Step back to the start of the rune that straddles the limit; at most
	// UTFMax-1 bytes, so invalid input cannot walk back further.
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(b[cut]); i++ {
		cut--
	}
	return validString(b[:cut]) + "…[truncated " + strconv.Itoa(len(b)-cut) + " bytes]"
}

func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
