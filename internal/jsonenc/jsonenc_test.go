package jsonenc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// marshalString is the reference: encoding/json's own string encoding, with
// or without HTML escaping.
func marshalString(t testing.TB, s string, escapeHTML bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

var cases = []struct {
	name string
	in   string
	want string // what AppendString writes
}{
	{"empty", "", `""`},
	{"plain ascii", "hello, world", `"hello, world"`},
	{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
	{"named control characters", "\b\f\n\r\t", `"\b\f\n\r\t"`},
	{"other control characters", "\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
	{"html characters", "<a href='x'>&amp;</a>", `"\u003ca href='x'\u003e\u0026amp;\u003c/a\u003e"`},
	{"multibyte", "ü ✓ 😀", `"ü ✓ 😀"`},
	{"line and paragraph separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
	{"invalid utf-8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
	{"truncated rune before ascii", "\xe2\x9cx", `"\ufffd\ufffdx"`},
	{"encoded surrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
	{"valid replacement character", "\uFFFD", "\"\uFFFD\""},
}

func TestAppendString(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendString([]byte("prefix:"), tc.in)
			if string(got) != "prefix:"+tc.want {
				t.Errorf("AppendString(%q) = %s, want prefix:%s", tc.in, got, tc.want)
			}
			if ref := marshalString(t, tc.in, true); !bytes.Equal(got[len("prefix:"):], ref) {
				t.Errorf("AppendString(%q) = %s, encoding/json writes %s", tc.in, got, ref)
			}
		})
	}
}

func TestAppendStringNoEscapeHTML(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendStringNoEscapeHTML(nil, tc.in)
			if ref := marshalString(t, tc.in, false); !bytes.Equal(got, ref) {
				t.Errorf("AppendStringNoEscapeHTML(%q) = %s, encoding/json writes %s", tc.in, got, ref)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), marshalString(t, s, true); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
		if got, want := AppendStringNoEscapeHTML(nil, s), marshalString(t, s, false); !bytes.Equal(got, want) {
			t.Errorf("AppendStringNoEscapeHTML(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

// benchText is a typical call-log body: mostly plain text with the odd
// quote, newline and non-ASCII rune.
var benchText = strings.Repeat(`{"role":"user","content":"Résumé <b>bold</b>\nnext line ✓"} `, 64)

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 2*len(benchText))
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], benchText)
	}
}

func BenchmarkMarshalString(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(benchText); err != nil {
			b.Fatal(err)
		}
	}
}
