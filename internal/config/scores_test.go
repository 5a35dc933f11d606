package config

import (
	"strings"
	"testing"
)

func TestScoreValidation(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{name: "every type", src: `scores:
  - { name: helpful, type: boolean, description: "Did it help?" }
  - { name: rating, type: numeric, min: 1, max: 5 }
  - { name: nps, type: numeric, min: 0, max: 10, negative_below: 7, positive_above: 8 }
  - { name: latency, type: numeric }
  - { name: category, type: categorical, categories: [wrong, rude, slow, great], negative: [wrong, rude], positive: [great] }
  - { name: note, type: text }
`},
		{name: "unknown type", src: "scores:\n  - { name: x, type: stars }\n", want: "scores[0].type: must be one of boolean, numeric, categorical, text"},
		{name: "no name", src: "scores:\n  - { type: boolean }\n", want: "scores[0].name: must be 1-64 characters"},
		{name: "bad name", src: "scores:\n  - { name: \"has space\", type: boolean }\n", want: "scores[0].name: must be letters"},
		{name: "defined twice", src: "scores:\n  - { name: x, type: boolean }\n  - { name: x, type: text }\n", want: `scores[1].name: score "x" is defined twice`},
		{name: "empty range", src: "scores:\n  - { name: x, type: numeric, min: 5, max: 5 }\n", want: "scores[0].max: must be greater than min (5)"},
		{name: "crossed thresholds", src: "scores:\n  - { name: x, type: numeric, negative_below: 8, positive_above: 7 }\n", want: "scores[0].negative_below: must not exceed positive_above (7)"},
		{name: "range on a boolean", src: "scores:\n  - { name: x, type: boolean, min: 0 }\n", want: "scores[0]: min, max, negative_below and positive_above apply only to a numeric score"},
		{name: "categories on text", src: "scores:\n  - { name: x, type: text, categories: [a] }\n", want: "scores[0]: categories, negative and positive apply only to a categorical score"},
		{name: "no categories", src: "scores:\n  - { name: x, type: categorical }\n", want: "scores[0].categories: a categorical score lists its categories"},
		{name: "category twice", src: "scores:\n  - { name: x, type: categorical, categories: [a, a] }\n", want: `scores[0].categories[1]: category "a" is listed twice`},
		{name: "negative not a category", src: "scores:\n  - { name: x, type: categorical, categories: [a], negative: [b] }\n", want: `scores[0].negative[0]: "b" is not one of the categories`},
		{name: "negative and positive", src: "scores:\n  - { name: x, type: categorical, categories: [a], negative: [a], positive: [a] }\n", want: `scores[0].positive[0]: "a" is already listed as negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFindScore(t *testing.T) {
	c, err := Parse([]byte("scores:\n  - { name: rating, type: numeric, min: 1, max: 5 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := c.FindScore("rating"); !ok || *s.Max != 5 {
		t.Errorf("FindScore(rating) = %+v, %v", s, ok)
	}
	if _, ok := c.FindScore("helpful"); ok {
		t.Error("FindScore(helpful) found an undefined score")
	}
}
