package console

import (
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	for _, c := range []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny", "x\ny", " x| y"},
		{"both empty", "", "", ""},
		{"added at the end", "x", "x\ny", " x|+y"},
		{"removed in the middle", "x\ny\nz", "x\nz", " x|-y| z"},
		{"changed line", "a: 1\nb: 2", "a: 1\nb: 3", " a: 1|-b: 2|+b: 3"},
		{"from nothing", "", "x\ny", "+x|+y"},
		{"to nothing", "x", "", "-x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, l := range lineDiff(splitLines(c.a), splitLines(c.b)) {
				got = append(got, l.Op+l.Text)
			}
			if g := strings.Join(got, "|"); g != c.want {
				t.Errorf("lineDiff(%q, %q) = %q, want %q", c.a, c.b, g, c.want)
			}
		})
	}
}

func TestDigestIgnoresLineEndings(t *testing.T) {
	if digest("a: 1\r\nb: 2\r\n") != digest("a: 1\nb: 2") {
		t.Errorf("CRLF and LF texts have different digests")
	}
	if digest("a: 1") == digest("a: 2") {
		t.Errorf("different texts have the same digest")
	}
}
