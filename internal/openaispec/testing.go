package openaispec

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"unicode/utf8"
)

// maxShownDoc bounds how much of a failing document Check prints, so a large
// embeddings response does not bury the violations.
const maxShownDoc = 2000

// ForTest returns the loaded description for use in t, or nil when the
// description is absent, after logging that the OpenAI spec check did not
// run, where it was looked for and how to point at it. The caller skips only
// its spec checks on nil (Check does that by itself), never the whole test,
// so a clone without the description still passes. A description that exists
// but cannot be loaded fails the test.
func ForTest(t testing.TB) *Spec {
	t.Helper()
	s, err := Load()
	if err == nil {
		return s
	}
	if !errors.Is(err, ErrAbsent) {
		t.Errorf("openai spec check cannot run: %v", err)
		return nil
	}
	// Under CI an absent description usually means the checkout step forgot
	// it, so the message is made impossible to miss without failing a build
	// that may legitimately lack it.
	prefix := "OpenAI spec check did not run"
	if os.Getenv("CI") != "" {
		prefix = "OPENAI SPEC CHECK DID NOT RUN"
	}
	t.Logf("%s: %v. Responses in this test were not validated against OpenAI's API description; "+
		"set %s to the path of openai-openapi.yaml, or put it at %s relative to the repository root.",
		prefix, err, EnvPath, DefaultRelPath)
	return nil
}

// Check validates doc against components/schemas/<schema> and reports any
// violation through t.Errorf, with the schema name and the start of the
// document. A nil s (no description available) checks nothing.
func (s *Spec) Check(t testing.TB, schema string, doc []byte) {
	t.Helper()
	if s == nil {
		return
	}
	if err := s.Validate(schema, doc); err != nil {
		t.Errorf("response does not conform to OpenAI %s: %v\ndocument: %s", schema, err, truncate(doc, maxShownDoc))
	}
}

func truncate(doc []byte, limit int) string {
	if len(doc) <= limit {
		return string(doc)
	}
	cut := limit
	// Back off to a rune boundary so the log stays valid UTF-8.
	for cut > 0 && !utf8.RuneStart(doc[cut]) {
		cut--
	}
	return string(doc[:cut]) + "… (" + strconv.Itoa(len(doc)-cut) + " more bytes)"
}
