package review

import (
	"math"
	"testing"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
)

func compileOne(t *testing.T, yaml string) *Queue {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := Compile(cfg.ReviewQueues)
	if err != nil || len(qs) != 1 {
		t.Fatalf("Compile = %v, %v", qs, err)
	}
	return qs[0]
}

func TestMatchCall(t *testing.T) {
	q := compileOne(t, `
review_queues:
  - name: q
    dimensions: [correct]
    rules:
      - { when: { flag: refusal, model: gpt-4o }, sample: 1.0 }
      - { when: { status: 5xx, service: support } }
      - { when: { feedback: { helpful: false } } }
`)
	tests := []struct {
		name     string
		rec      calllog.Record
		wantRule int
		want     bool
	}{
		{"flag and model", calllog.Record{ID: "a", Model: "gpt-4o", Flags: []string{"empty_output", "refusal"}}, 0, true},
		{"flag, other model", calllog.Record{ID: "b", Model: "gpt-4o-mini", Flags: []string{"refusal"}}, 0, false},
		{"model without the flag", calllog.Record{ID: "c", Model: "gpt-4o"}, 0, false},
		{"status class and service", calllog.Record{ID: "d", Service: "support", Status: 503}, 1, true},
		{"status class, other service", calllog.Record{ID: "e", Service: "orders", Status: 503}, 0, false},
		{"4xx is not 5xx", calllog.Record{ID: "f", Service: "support", Status: 429}, 0, false},
		{"a feedback rule never matches a call", calllog.Record{ID: "g"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := q.MatchCall(tt.rec)
			if ok != tt.want || (ok && i != tt.wantRule) {
				t.Fatalf("MatchCall = %d, %v; want %d, %v", i, ok, tt.wantRule, tt.want)
			}
		})
	}
}

func TestMatchFeedback(t *testing.T) {
	q := compileOne(t, `
review_queues:
  - name: q
    dimensions: [correct]
    rules:
      - { when: { feedback: { helpful: false, rating: 1, topic: billing } } }
      - { when: { polarity: negative, consumer: web-shop } }
      - { when: { flag: refusal } }
`)
	fb := func(name string, v feedback.Value) feedback.Feedback {
		return feedback.Feedback{RequestID: "req-1", Consumer: "mobile", Name: name, Value: v}
	}
	tests := []struct {
		name     string
		f        feedback.Feedback
		wantRule int
		want     bool
	}{
		{"helpful false", fb("helpful", feedback.BoolValue(false)), 0, true},
		{"helpful true", fb("helpful", feedback.BoolValue(true)), 0, false},
		{"rating 1", fb("rating", feedback.Value{Kind: feedback.Numeric, Num: 1}), 0, true},
		{"rating 1 as a string is not the number", fb("rating", feedback.Value{Kind: feedback.String, Str: "1"}), 0, false},
		{"topic billing", fb("topic", feedback.Value{Kind: feedback.String, Str: "billing"}), 0, true},
		{"another name", fb("tone", feedback.BoolValue(false)), 0, false},
		{"negative of the consumer", feedback.Feedback{RequestID: "r", Consumer: "web-shop", Name: "stars", Polarity: feedback.PolarityNegative,
			Value: feedback.Value{Kind: feedback.Numeric, Num: 1}}, 1, true},
		{"negative of another consumer", feedback.Feedback{RequestID: "r", Consumer: "mobile", Name: "stars", Polarity: feedback.PolarityNegative,
			Value: feedback.Value{Kind: feedback.Numeric, Num: 2}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := q.MatchFeedback(tt.f)
			if ok != tt.want || (ok && i != tt.wantRule) {
				t.Fatalf("MatchFeedback = %d, %v; want %d, %v", i, ok, tt.wantRule, tt.want)
			}
		})
	}
}

func TestSampling(t *testing.T) {
	// Deterministic: the same call, rule and queue always decide alike.
	for i := range 100 {
		id := "req-" + string(rune('a'+i%26)) + string(rune('0'+i%10))
		if Sampled("q", 1, id, 0.3) != Sampled("q", 1, id, 0.3) {
			t.Fatalf("sampling %s is not deterministic", id)
		}
	}
	// A known value, so that a change of the hash (which would move calls
	// in and out of samples between versions) is noticed.
	if got := SampleFraction("unhelpful-answers", 1, "req-42"); math.Abs(got-SampleFraction("unhelpful-answers", 1, "req-42")) != 0 || got < 0 || got >= 1 {
		t.Fatalf("SampleFraction = %v", got)
	}
	// Uniform enough: about rate of 10,000 calls, and nested across rates.
	n, in20, in50, nested := 10000, 0, 0, true
	for i := range n {
		id := "call-" + itoa(i)
		a, b := Sampled("q", 0, id, 0.2), Sampled("q", 0, id, 0.5)
		if a {
			in20++
		}
		if b {
			in50++
		}
		if a && !b {
			nested = false
		}
	}
	if in20 < 1800 || in20 > 2200 || in50 < 4750 || in50 > 5250 {
		t.Fatalf("sampled %d at 0.2 and %d at 0.5 of %d", in20, in50, n)
	}
	if !nested {
		t.Fatal("a call in the 0.2 sample is missing from the 0.5 sample")
	}
	// Other rules sample independently.
	same := 0
	for i := range 1000 {
		id := "call-" + itoa(i)
		if Sampled("q", 0, id, 0.5) == Sampled("q", 1, id, 0.5) {
			same++
		}
	}
	if same < 400 || same > 600 {
		t.Fatalf("two rules agreed on %d of 1000 calls; want about half", same)
	}
	if !Sampled("q", 0, "x", 1) || Sampled("q", 0, "x", 0) {
		t.Fatal("rate 1 must take every call and rate 0 none")
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestFleissKappa checks the worked example of Fleiss (1971) as given in
// most textbooks: 10 subjects, 14 raters, 5 categories, kappa 0.210.
func TestFleissKappa(t *testing.T) {
	counts := [][5]int{
		{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7},
	}
	var items [][]string
	for _, row := range counts {
		var it []string
		for cat, n := range row {
			for range n {
				it = append(it, string(rune('A'+cat)))
			}
		}
		items = append(items, it)
	}
	k, ok := FleissKappa(items)
	if !ok || math.Abs(k-0.20993) > 1e-4 {
		t.Fatalf("kappa = %v, %v; want 0.210", k, ok)
	}
	tests := []struct {
		name  string
		items [][]string
		want  float64
		ok    bool
	}{
		{"perfect agreement over two categories", [][]string{{"y", "y"}, {"n", "n"}}, 1, true},
		{"all in one category is undefined", [][]string{{"y", "y"}, {"y", "y"}}, 0, false},
		{"one item is too few", [][]string{{"y", "n"}}, 0, false},
		{"systematic disagreement", [][]string{{"y", "n"}, {"n", "y"}}, -1, true},
		{"uneven raters", [][]string{{"y", "n"}, {"y"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := FleissKappa(tt.items)
			if ok != tt.ok || (ok && math.Abs(k-tt.want) > 1e-9) {
				t.Fatalf("kappa = %v, %v; want %v, %v", k, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAgree(t *testing.T) {
	b := feedback.BoolValue
	num := func(f float64) feedback.Value { return feedback.Value{Kind: feedback.Numeric, Num: f} }
	rs := []Review{
		{ItemID: "1", Reviewer: "a", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(true), "stars": num(4)}},
		{ItemID: "1", Reviewer: "b", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(true), "stars": num(5)}},
		{ItemID: "2", Reviewer: "a", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(false), "stars": num(2)}},
		{ItemID: "2", Reviewer: "c", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(false), "stars": num(2)}},
		{ItemID: "3", Reviewer: "b", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(true)}},
		{ItemID: "3", Reviewer: "c", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(false)}},
		{ItemID: "4", Reviewer: "a", Outcome: OutcomeCompleted, Scores: map[string]feedback.Value{"ok": b(true)}},
		{ItemID: "4", Reviewer: "b", Outcome: OutcomeSkipped},
	}
	got := Agree(rs, []string{"ok", "stars", "tone"}, 2)
	if len(got) != 3 {
		t.Fatalf("Agree = %+v", got)
	}
	ok, stars, tone := got[0], got[1], got[2]
	// ok: items 1, 2 agree, 3 does not; 4 has one value. Categories over
	// 6 ratings: true 3, false 3, so Pe = 0.5; P̄ = (1+1+0)/3.
	if ok.Items != 3 || ok.Agreed != 2 || math.Abs(*ok.Rate-2.0/3) > 1e-9 || ok.KappaItems != 3 || math.Abs(*ok.Kappa-(2.0/3-0.5)/0.5) > 1e-9 {
		t.Errorf("ok = %+v", ok)
	}
	if stars.Items != 2 || stars.Agreed != 1 || *stars.Rate != 0.5 {
		t.Errorf("stars = %+v", stars)
	}
	if tone.Items != 0 || tone.Rate != nil || tone.Kappa != nil {
		t.Errorf("tone = %+v; want no data", tone)
	}
}
