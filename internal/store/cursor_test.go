package store

import (
	"errors"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		us   int64
		id   string
	}{
		{"typical", 1773480413589793, "0b7c1e2a-4f1d-4a8e-9d53-6a1f0c2b9e11"},
		{"id with colons", 1, "a:b:c"},
		{"negative time", -5, "x"},
		{"unicode id", 0, "réq-✓"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			us, id, err := decodeCursor(encodeCursor(tc.us, tc.id))
			if err != nil || us != tc.us || id != tc.id {
				t.Fatalf("decodeCursor(encodeCursor(%d, %q)) = %d, %q, %v", tc.us, tc.id, us, id, err)
			}
		})
	}
}

// FuzzDecodeCursor feeds arbitrary cursors, as a client may send in a query
// string: decoding never panics, fails only with ErrInvalid, and whatever it
// accepts re-encodes to a cursor naming the same position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(1773480413589793, "req-1"))
	f.Add("")
	f.Add("!!")
	f.Add("MTIz")     // "123": no separator
	f.Add("OjEyMw")   // ":123"
	f.Add("MTIzOg==") // padded
	f.Fuzz(func(t *testing.T, c string) {
		us, id, err := decodeCursor(c)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("decodeCursor(%q) error %v does not wrap ErrInvalid", c, err)
			}
			return
		}
		us2, id2, err := decodeCursor(encodeCursor(us, id))
		if err != nil || us2 != us || id2 != id {
			t.Fatalf("cursor %q decoded to %d, %q, which does not round-trip: %d, %q, %v", c, us, id, us2, id2, err)
		}
	})
}
