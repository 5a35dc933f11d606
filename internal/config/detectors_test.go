package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestDetectorsValidation(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // each a line of the error, in order
	}{
		{"absent", ``, nil},
		{"empty is absent", "detectors: {}\n", nil},
		{"full", `
detectors:
  disabled: [language_mismatch, error_burst]
  refusal: { phrases: ["Computer says no"] }
  repetition: { ngram: 3, threshold: 0.4, min_words: 20 }
  long_output: { min_samples: 100, quantile: 0.995, factor: 1.5 }
  language_mismatch: { min_letters: 60 }
  latency_outlier: { k: 4, min_samples: 30, alpha: 0.1, min_excess: 250ms }
  ttft_outlier: { k: 5 }
  error_burst: { window: 5m, min_errors: 3, min_share: 0.2 }
`, nil},
		{"unknown detector", "detectors:\n  disabled: [refusals]\n",
			[]string{`line 2: detectors.disabled[0]: unknown detector "refusals"; one of empty_output, truncated`}},
		{"listed twice", "detectors:\n  disabled: [refusal, refusal]\n",
			[]string{`line 2: detectors.disabled[1]: detector "refusal" is listed twice`}},
		{"unknown key", "detectors:\n  repetiton: { ngram: 3 }\n",
			[]string{`line 2: detectors.repetiton: unknown field "repetiton" (did you mean "repetition"?)`}},
		{"bad numbers", `
detectors:
  repetition: { ngram: 1, threshold: 1.5 }
  long_output: { quantile: 0.2 }
  latency_outlier: { k: -1, alpha: 1 }
  error_burst: { window: 2h, min_share: 2 }
`, []string{
			"line 3: detectors.repetition.ngram: must be between 2 and 12",
			"line 3: detectors.repetition.threshold: must be above 0 and below 1",
			"line 4: detectors.long_output.quantile: must be between 0.5 and 0.9999",
			"line 5: detectors.latency_outlier.k: must be above 0 and at most 100",
			"line 5: detectors.latency_outlier.alpha: must be above 0 and below 1",
			"line 6: detectors.error_burst.window: must be between 1s and 1h",
			"line 6: detectors.error_burst.min_share: must be above 0 and at most 1",
		}},
		{"blank phrase", "detectors:\n  refusal: { phrases: [\"  \"] }\n",
			[]string{"line 2: detectors.refusal.phrases[0]: must not be blank"}},
		{"replace defaults with nothing", "detectors:\n  refusal: { replace_defaults: true }\n",
			[]string{"line 2: detectors.refusal.phrases: replace_defaults needs at least one phrase"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.name != "full" && c.Detectors != nil {
					t.Errorf("Detectors = %+v, want nil", c.Detectors)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d: %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

// TestDetectorsRoundTrip: the section survives YAML and JSON and reads
// back equal, in the canonical flow style.
func TestDetectorsRoundTrip(t *testing.T) {
	c := mustParse(t, "detectors:\n  disabled: [refusal]\n  repetition: { ngram: 3, threshold: 0.4 }\n  ttft_outlier: { k: 5, min_excess: 1s }\n")
	y, err := ToYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	want := "detectors:\n  disabled: [refusal]\n  repetition: {ngram: 3, threshold: 0.4}\n  ttft_outlier: {k: 5, min_excess: 1s}\n"
	if string(y) != want {
		t.Errorf("YAML:\n%s\nwant:\n%s", y, want)
	}
	back := mustParse(t, string(y))
	if !reflect.DeepEqual(back, c) {
		t.Errorf("YAML round trip: %+v, want %+v", back.Detectors, c.Detectors)
	}
	j, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON.Detectors, c.Detectors) {
		t.Errorf("JSON round trip: %+v, want %+v", fromJSON.Detectors, c.Detectors)
	}
}

func TestDetectorsDiff(t *testing.T) {
	from := &Config{Detectors: &Detectors{Repetition: &RepetitionDetector{Threshold: 0.5}}}
	to := &Config{Detectors: &Detectors{Disabled: []string{"refusal"}, Repetition: &RepetitionDetector{Threshold: 0.3}}}
	want := []string{
		"~ detectors: disabled: [] -> [refusal]",
		"~ detectors: repetition.threshold: 0.5 -> 0.3",
	}
	if got := Diff(from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Diff(&Config{}, &Config{Detectors: &Detectors{}}); got != nil {
		t.Errorf("empty section: %q", got)
	}
	if got := Diff(from, nil); !reflect.DeepEqual(got, []string{"~ detectors: repetition: {threshold: 0.5} -> none"}) {
		t.Errorf("section removed: %q", got)
	}
}
