package calllog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The reference scanners below are how redaction found keys, JWTs and
// Authorization credentials before findWordSecrets: a search per literal.
// They are slower and plainly right, so the tests hold the scanner to them
// (FuzzFindSpansMatchesReference): replacing them must not change what is
// stored.

// refWordStart reports whether position i of s starts a word.
func refWordStart(s string, i int) bool {
	return i == 0 || !wordBytes[s[i-1]]
}

func refFindToken(t *tokenRule, s string, spans []span) []span {
	for _, prefix := range t.prefixes {
		for i := 0; ; {
			j := strings.Index(s[i:], prefix)
			if j < 0 {
				break
			}
			start := i + j
			body := start + len(prefix)
			end := t.alphabet.run(s, body)
			n := end - body
			ok := n >= t.min && refWordStart(s, start)
			if t.exact {
				ok = ok && n == t.min && (end == len(s) || !wordBytes[s[end]])
			}
			if ok {
				spans = append(spans, span{start, end, redactedMarker})
				i = end
			} else {
				i = start + 1
			}
		}
	}
	return spans
}

// refFindJWTs finds header.payload.signature with a header and payload that are
// base64url JSON objects, which both begin "eyJ".
func refFindJWTs(s string, spans []span) []span {
	for i := 0; ; {
		j := strings.Index(s[i:], "eyJ")
		if j < 0 {
			return spans
		}
		start := i + j
		i = start + 1
		if !refWordStart(s, start) {
			continue
		}
		p := base64url.run(s, start+3)
		if p-start < 8 || p+4 > len(s) || s[p] != '.' || s[p+1:p+4] != "eyJ" {
			continue
		}
		q := base64url.run(s, p+4)
		if q-(p+1) < 8 || q >= len(s) || s[q] != '.' {
			continue
		}
		end := base64url.run(s, q+1)
		spans = append(spans, span{start, end, redactedMarker})
		i = end
	}
}

// refFindAuthCredentials finds the credential after the words Bearer and Basic,
// unless it reads like prose ("Bearer authentication").
func refFindAuthCredentials(s string, spans []span) []span {
	for _, scheme := range []string{"bearer", "basic"} {
		for i := 0; ; {
			j := refIndexFold(s[i:], scheme)
			if j < 0 {
				break
			}
			start := i + j
			i = start + 1
			k := start + len(scheme)
			if !refWordStart(s, start) || k >= len(s) || !isSpace(s[k]) {
				continue
			}
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			end := credentialBytes.run(s, k)
			for end < len(s) && s[end] == '=' {
				end++
			}
			if end == k || isProseWord(s[k:end]) {
				continue
			}
			spans = append(spans, span{k, end, redactedMarker})
			i = end
		}
	}
	return spans
}

// refSecretName reports whether name ends like a credential field's name.
func refSecretName(name string) bool {
	for _, suffix := range secretFieldSuffixes {
		if len(name) >= len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}

// refIndexFold returns the index of the first occurrence of the lower-case ASCII
// word in s, ignoring ASCII case, or -1; it does not allocate a lowered copy
// of s.
func refIndexFold(s, word string) int {
	n := len(word)
	if n == 0 {
		return 0
	}
	lo := word[0]
	up := lo
	if lo >= 'a' && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	// Next positions of either case of the first byte, each searched for only
	// once it has been passed, so the scan stays linear.
	nextLo, nextUp := -1, -1
	loDone, upDone := false, lo == up
	for i := 0; i+n <= len(s); {
		if !loDone && nextLo < i {
			if k := strings.IndexByte(s[i:], lo); k < 0 {
				loDone = true
			} else {
				nextLo = i + k
			}
		}
		if !upDone && nextUp < i {
			if k := strings.IndexByte(s[i:], up); k < 0 {
				upDone = true
			} else {
				nextUp = i + k
			}
		}
		j := -1
		if !loDone {
			j = nextLo
		}
		if !upDone && (j < 0 || nextUp < j) {
			j = nextUp
		}
		if j < 0 || j+n > len(s) {
			return -1
		}
		if strings.EqualFold(s[j:j+n], word) {
			return j
		}
		i = j + 1
	}
	return -1
}

// refFindSpans returns the secrets in s, sorted and without overlaps.
func refFindSpans(s string) []span {
	var spans []span
	for i := range tokenRules {
		spans = refFindToken(&tokenRules[i], s, spans)
	}
	spans = refFindJWTs(s, spans)
	spans = refFindAuthCredentials(s, spans)
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

// wordScannerCases are bodies where the one-pass scanner could part ways
// with a search per literal: literals inside other matches, at the ends of
// the body, in both cases, and next to multi-byte runes.
var wordScannerCases = []string{
	"",
	"sk-",
	"Bearer x.bearer yyyyyyyy",
	"bearer bearer bearer token",
	"BASIC basic.Basic dXNlcjpwYXNz==",
	"sk-" + "sk-" + strings.Repeat("a", 30),
	"aaa-sk-" + strings.Repeat("b", 25) + "-sk-" + strings.Repeat("c", 25),
	"hg-hg-" + strings.Repeat("x", 30),
	"xoxb-xoxp-" + strings.Repeat("1", 12),
	"AKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX ASIAIOSFODNN7EXAMPL",
	"ghp_" + strings.Repeat("R2d", 12) + "_github_pat_" + strings.Repeat("11AB_", 10),
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.x",
	"éBearer " + testJWT + " ſk-" + strings.Repeat("z", 22) + "😀sk-" + strings.Repeat("z", 22),
	`{"a":"Bearer abc","b":"basic","c":"bearer\tq"}`,
	"\xffsk-" + strings.Repeat("9", 20) + "\xff",
	testOpenAIKey + testAnthropicKey + " " + testHGKey + "." + testHGAdmin + "\n" + testAWSKey + "/" + testGoogleKey,
	testGitHubToken + "," + testGitHubPAT + ";" + testSlackToken + "\t" + testJWT,
}

func TestWordLitsFit(t *testing.T) {
	if len(wordLits) > maxWordLits {
		t.Fatalf("%d word literals, more than maxWordLits (%d)", len(wordLits), maxWordLits)
	}
}

func TestFindSpansMatchesReference(t *testing.T) {
	for i, body := range wordScannerCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got, want := findSpans(body), refFindSpans(body); !slices.Equal(got, want) {
				t.Errorf("findSpans(%q)\n got %v\nwant %v", body, got, want)
			}
		})
	}
}

func FuzzFindSpansMatchesReference(f *testing.F) {
	for _, c := range wordScannerCases {
		f.Add(c)
	}
	for _, bb := range benchBodies {
		f.Add(bb.req)
		f.Add(bb.resp)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if got, want := findSpans(body), refFindSpans(body); !slices.Equal(got, want) {
			t.Fatalf("findSpans(%q)\n got %v\nwant %v", body, got, want)
		}
	})
}

func TestSecretNameMatchesReference(t *testing.T) {
	names := []string{"", "y", "key", "KEY", "api_key", "Api-Key", "x-api-key", "monkey", "apikey", "token",
		"max_tokens", "refresh_token", "TOKEN", "password", "passwd", "PassPhrase", "client_secret", "secretary",
		"Authorization", "credentials", "credential", "signingkey", "private-key", "tokenizer", "id", "ſecret"}
	for _, suffix := range secretFieldSuffixes {
		names = append(names, suffix, strings.ToUpper(suffix), "x"+suffix, suffix[1:], suffix+"s")
	}
	for _, name := range names {
		if got, want := secretName(name), refSecretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}
