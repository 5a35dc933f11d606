package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

func fp(f float64) *float64 { return &f }

var (
	helpful  = config.Score{Name: "helpful", Type: config.ScoreBoolean}
	rating   = config.Score{Name: "rating", Type: config.ScoreNumeric, Min: fp(1), Max: fp(5)}
	nps      = config.Score{Name: "nps", Type: config.ScoreNumeric, Min: fp(0), Max: fp(10), NegativeBelow: fp(7), PositiveAbove: fp(8)}
	open     = config.Score{Name: "latency_ms", Type: config.ScoreNumeric}
	category = config.Score{Name: "category", Type: config.ScoreCategorical, Categories: []string{"wrong", "rude", "slow", "great"},
		Negative: []string{"wrong", "rude"}, Positive: []string{"great"}}
	note = config.Score{Name: "note", Type: config.ScoreText}
)

func val(t *testing.T, s string) Value {
	t.Helper()
	var v Value
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckScore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		def   config.Score
		value string
		says  string // "" = fits; else a part of the message
	}{
		{"boolean true", helpful, `true`, ""},
		{"boolean given a number", helpful, `1`, `score "helpful" is boolean: send true or false, not the number 1`},
		{"boolean given a string", helpful, `"yes"`, `not "yes"`},
		{"rating in range", rating, `3`, ""},
		{"rating at min", rating, `1`, ""},
		{"rating at max", rating, `5`, ""},
		{"rating below min", rating, `0.5`, `0.5 is out of range for score "rating": send a number from 1 to 5`},
		{"rating above max", rating, `6`, "out of range"},
		{"rating given a boolean", rating, `true`, `score "rating" is numeric: send a number from 1 to 5, not true`},
		{"unbounded numeric", open, `-123.5`, ""},
		{"category listed", category, `"slow"`, ""},
		{"category not listed", category, `"boring"`, `send one of "wrong", "rude", "slow", "great", not "boring"`},
		{"category given a number", category, `3`, "categorical"},
		{"text", note, `"anything at all"`, ""},
		{"text given a boolean", note, `false`, `score "note" is text`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckScore(tc.def, val(t, tc.value))
			var inv *InvalidError
			switch {
			case tc.says == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.says == "":
			case !errors.As(err, &inv) || inv.Field != "value" || !strings.Contains(inv.Msg, tc.says):
				t.Errorf("err = %v, want a problem with value saying %q", err, tc.says)
			}
		})
	}
}

func TestScorePolarity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		def   *config.Score
		value string
		want  string
	}{
		{"undeclared true", nil, `true`, PolarityPositive},
		{"undeclared false", nil, `false`, PolarityNegative},
		{"undeclared number", nil, `0`, ""},
		{"undeclared string", nil, `"bad"`, ""},
		{"boolean true", &helpful, `true`, PolarityPositive},
		{"boolean false", &helpful, `false`, PolarityNegative},
		{"rating below the midpoint", &rating, `2.9`, PolarityNegative},
		{"rating at the midpoint", &rating, `3`, ""},
		{"rating above the midpoint", &rating, `3.1`, PolarityPositive},
		{"thresholds: below negative_below", &nps, `6`, PolarityNegative},
		{"thresholds: between", &nps, `7.5`, ""},
		{"thresholds: at positive_above", &nps, `8`, ""},
		{"thresholds: above positive_above", &nps, `9`, PolarityPositive},
		{"numeric without a range", &open, `100`, ""},
		{"negative category", &category, `"rude"`, PolarityNegative},
		{"positive category", &category, `"great"`, PolarityPositive},
		{"neutral category", &category, `"slow"`, ""},
		{"text", &note, `"terrible"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScorePolarity(tc.def, val(t, tc.value)); got != tc.want {
				t.Errorf("polarity = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidatePage(t *testing.T) {
	for _, tc := range []struct {
		name, page string
		ok         bool
	}{
		{"portal page", "/portal/services/orders-api", true},
		{"root", "/", true},
		{"relative", "portal/x", false},
		{"scheme", "https://x.example/portal", false},
		{"protocol-relative", "//x.example/portal", false},
		{"query", "/portal?x=1", false},
		{"fragment", "/portal#top", false},
		{"dot segment", "/portal/../admin", false},
		{"space", "/portal/a b", false},
		{"non-ASCII", "/portal/é", false},
		{"too long", "/" + strings.Repeat("p", MaxPageBytes), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := BoolValue(true)
			err := Validate(&Input{Page: tc.page, Value: &v})
			var inv *InvalidError
			if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &inv) || inv.Field != "page")) {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	v := BoolValue(true)
	if err := Validate(&Input{Page: "/a", RequestID: "r1", Value: &v}); err == nil {
		t.Error("a page and a request id at once: accepted")
	}
}

type observerFunc func(ctx context.Context, f Feedback) error

func (o observerFunc) ObserveFeedback(ctx context.Context, f Feedback) error { return o(ctx, f) }

type memPages struct{ got []PageFeedback }

func (m *memPages) UpsertPageFeedback(_ context.Context, f PageFeedback) (PageFeedback, bool, error) {
	m.got = append(m.got, f)
	return f, true, nil
}

func TestSubmitAsDefinitionsSourcesObservers(t *testing.T) {
	st := &memStore{}
	var seen []Feedback
	s := &Service{Store: st, Calls: owners{"c1": "shop", "c2": "other"}, Pages: &memPages{},
		Scores: func() []config.Score { return []config.Score{rating, category} },
		Observers: []Observer{
			observerFunc(func(_ context.Context, f Feedback) error { seen = append(seen, f); return nil }),
			observerFunc(func(context.Context, Feedback) error { return errors.New("triage is down") }),
		}}
	ctx := context.Background()
	two := val(t, `2`)
	f, _, err := s.SubmitAs(ctx, Submitter{Consumer: "shop", Source: SourceUser, Author: "pk_id_1"}, Input{RequestID: "c1", Name: "rating", Value: &two})
	if err != nil {
		t.Fatal(err)
	}
	if f.Polarity != PolarityNegative || f.Source != SourceUser || f.Author != "pk_id_1" || f.Consumer != "shop" {
		t.Errorf("stored %+v", f)
	}
	// The failing observer is counted, the post still succeeds, and the
	// first observer saw the stored feedback with its call.
	if len(seen) != 1 || seen[0].ID != f.ID || seen[0].Call.Model != "m-shop" || s.ObserverErrors() != 1 {
		t.Errorf("observers saw %+v, %d errors", seen, s.ObserverErrors())
	}
	// A reviewer reaches any call, under the call's own consumer.
	rude := val(t, `"rude"`)
	f, _, err = s.SubmitAs(ctx, Submitter{AnyCall: true, Source: SourceReviewer, Author: "ana@example.com"}, Input{RequestID: "c2", Name: "category", Value: &rude})
	if err != nil || f.Consumer != "other" || f.Polarity != PolarityNegative || f.Source != SourceReviewer {
		t.Errorf("reviewer feedback = %+v, %v", f, err)
	}
	// A definition's check fails before anything is stored or observed.
	nine := val(t, `9`)
	if _, _, err := s.SubmitAs(ctx, Submitter{Consumer: "shop"}, Input{RequestID: "c1", Name: "rating", Value: &nine}); err == nil {
		t.Error("rating 9 accepted")
	}
	if len(st.got) != 2 || len(seen) != 2 {
		t.Errorf("stored %d, observed %d; want 2 and 2", len(st.got), len(seen))
	}
	// Pages: stored through Pages, never observed (observers are about calls).
	yes := BoolValue(true)
	p, created, err := s.SubmitPage(ctx, Submitter{Consumer: "shop", Source: SourceUser}, Input{Page: "/portal/x", Value: &yes})
	if err != nil || !created || p.Polarity != PolarityPositive || p.Consumer != "shop" || p.ID == "" || len(seen) != 2 {
		t.Errorf("page feedback = %+v, %v", p, err)
	}
}

// FuzzInput feeds the feedback parser and validator arbitrary bodies: they
// must never panic, and whatever validates must fit its definition and
// survive a JSON round trip.
func FuzzInput(f *testing.F) {
	for _, s := range []string{
		`{"request_id":"r1","value":true}`,
		`{"request_id":"r1","name":"rating","value":4.5}`,
		`{"request_id":"r1","name":"category","value":"rude","comment":"x"}`,
		`{"page":"/portal/a","value":false}`,
		`{"page":"/../a","value":1e400}`,
		`{"request_id":"r1","value":null}`,
		`{"value":[1]}`,
	} {
		f.Add([]byte(s))
	}
	defs := []config.Score{helpful, rating, nps, category, note}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in Input
		if err := json.Unmarshal(b, &in); err != nil {
			return
		}
		var def *config.Score
		for i := range defs {
			if defs[i].Name == in.Name {
				def = &defs[i]
			}
		}
		if err := validate(&in, def); err != nil {
			return
		}
		if def != nil && CheckScore(*def, *in.Value) != nil {
			t.Fatalf("validated %s but it does not fit %s", b, def.Name)
		}
		out, err := json.Marshal(in.Value)
		if err != nil {
			t.Fatal(err)
		}
		var back Value
		if err := json.Unmarshal(out, &back); err != nil || back != *in.Value {
			t.Fatalf("round trip of %+v: %s → %+v, %v", *in.Value, out, back, err)
		}
		_ = ScorePolarity(def, *in.Value)
	})
}
