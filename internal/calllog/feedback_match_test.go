package calllog

import (
	"strings"
	"testing"
)

func TestParseFeedbackMatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FeedbackMatch
		bad  bool
	}{
		{in: "negative", want: FeedbackMatch{Polarity: "negative"}},
		{in: "positive", want: FeedbackMatch{Polarity: "positive"}},
		{in: "helpful:false", want: FeedbackMatch{Name: "helpful", Value: "false"}},
		{in: "rating:4.5", want: FeedbackMatch{Name: "rating", Value: "4.5"}},
		{in: "category:wrong language", want: FeedbackMatch{Name: "category", Value: "wrong language"}},
		{in: "category:a:b", want: FeedbackMatch{Name: "category", Value: "a:b"}},
		{in: "rating", want: FeedbackMatch{Name: "rating"}},
		{in: "", bad: true},
		{in: ":true", bad: true},
		{in: "has space:true", bad: true},
		{in: strings.Repeat("n", 65), bad: true},
		{in: "x:" + strings.Repeat("v", 257), bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFeedbackMatch(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted as %+v", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %+v, %v; want %+v", got, err, tc.want)
			}
			if back, err := ParseFeedbackMatch(got.String()); err != nil || back != got {
				t.Errorf("String() = %q reads back as %+v, %v", got.String(), back, err)
			}
		})
	}
	m := FeedbackMatch{Name: "x", Value: "1"}
	if _, ok := m.Bool(); ok {
		t.Error(`"1" reads as a boolean`)
	}
	if n, ok := m.Number(); !ok || n != 1 {
		t.Errorf("Number() = %v, %v", n, ok)
	}
	if _, ok := (FeedbackMatch{Value: "NaN"}).Number(); ok {
		t.Error("NaN reads as a number")
	}
}

// FuzzParseFeedbackMatch: the call list's feedback filter comes from the
// query string; whatever parses must be bounded and write back as itself.
func FuzzParseFeedbackMatch(f *testing.F) {
	for _, s := range []string{"negative", "helpful:false", "rating:1e3", "c:a:b", ":", "x:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseFeedbackMatch(s)
		if err != nil {
			return
		}
		if m.IsZero() || len(m.Name) > 64 || len(m.Value) > 256 {
			t.Fatalf("%q parsed as %+v", s, m)
		}
		if back, err := ParseFeedbackMatch(m.String()); err != nil || back != m {
			t.Fatalf("%q: %+v writes as %q, which reads as %+v, %v", s, m, m.String(), back, err)
		}
	})
}
