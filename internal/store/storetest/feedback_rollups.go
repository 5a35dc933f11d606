package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// FeedbackRollups is the conformance case of feedback in the analytics
// rollups: over random feedback — given before or after its call is
// stored, toggled, changed from a boolean to a number or a string, changed
// again hours later — the rollups count every item once, with its current
// value, in the bucket of the time it was last given and under its call's
// dimensions, at every resolution; rebuilding from the raw feedback gives
// the same counts.
func FeedbackRollups(t *testing.T, db *store.DB) {
	ctx := t.Context()
	start := time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 11))
	calls := randomCalls(rng, "fb-", start, 120)
	for i := range calls {
		calls[i].Synthetic = false // probe calls take no feedback
	}
	// Half the calls are stored first; feedback on the others arrives
	// while they are still pending, as the pending index allows.
	if err := db.InsertCallsAndRollups(ctx, calls[:60]); err != nil {
		t.Fatal(err)
	}
	// Each value comes with the polarity its definition gives it: a rating
	// of 4 and a "great" category are positive, 0.5 and "wrong tone"
	// negative, a comment-like string neither.
	values := []struct {
		v   feedback.Value
		pol string
	}{
		{feedback.BoolValue(true), feedback.PolarityPositive}, {feedback.BoolValue(false), feedback.PolarityNegative},
		{feedback.Value{Kind: feedback.Numeric, Num: 4}, feedback.PolarityPositive},
		{feedback.Value{Kind: feedback.Numeric, Num: 0.5}, feedback.PolarityNegative},
		{feedback.Value{Kind: feedback.Numeric, Num: 3}, ""},
		{feedback.Value{Kind: feedback.String, Str: "wrong tone"}, feedback.PolarityNegative},
		{feedback.Value{Kind: feedback.String, Str: "great"}, feedback.PolarityPositive},
		{feedback.Value{Kind: feedback.String, Str: "see ticket 12"}, ""},
	}
	type item struct {
		f    feedback.Feedback
		call *calllog.Record
	}
	final := map[string]item{}
	clock := start
	for n := range 400 {
		c := &calls[rng.IntN(len(calls))]
		id := fmt.Sprintf("fb-%d", rng.IntN(150)) // ids repeat: updates
		if it, ok := final[id]; ok {
			c = it.call // an id stays on its call
		}
		clock = clock.Add(time.Duration(rng.Int64N(int64(20 * time.Minute))))
		val := values[rng.IntN(len(values))]
		f := feedback.Feedback{ID: id, RequestID: c.ID, Consumer: c.Consumer, Name: "helpful",
			Value: val.v, Polarity: val.pol, CreatedAt: clock, UpdatedAt: clock, Call: calllog.SummaryOf(c)}
		stored, _, err := db.UpsertFeedback(ctx, f)
		if err != nil {
			t.Fatalf("UpsertFeedback #%d: %v", n, err)
		}
		if stored.Polarity != val.pol {
			t.Fatalf("UpsertFeedback #%d: stored polarity %q, want %q", n, stored.Polarity, val.pol)
		}
		final[id] = item{stored, c}
		if n == 200 {
			if err := db.InsertCallsAndRollups(ctx, calls[60:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An id taken by another call is refused and changes no count.
	var taken item
	for _, it := range final {
		taken = it
		break
	}
	other := &calls[0]
	if other.ID == taken.call.ID {
		other = &calls[1]
	}
	if _, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: taken.f.ID, RequestID: other.ID, Consumer: other.Consumer,
		Name: "helpful", Value: feedback.BoolValue(false), UpdatedAt: clock, Call: calllog.SummaryOf(other)}); err == nil {
		t.Fatal("feedback id of another call: no error")
	}

	check := func(when string) {
		t.Helper()
		for _, res := range analytics.Resolutions {
			want := map[string]*analytics.Feedback{}
			for _, it := range final {
				k := fmt.Sprint(res.Truncate(it.f.UpdatedAt).Unix(), analytics.FeedbackKey(calllog.SummaryOf(it.call)))
				if want[k] == nil {
					want[k] = &analytics.Feedback{}
				}
				want[k].AddFeedback(it.f.Value, it.f.Polarity, 1)
			}
			rows, err := db.ReadRollups(ctx, analytics.Selection{Resolution: res, From: start.Add(-48 * time.Hour), To: clock.Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*analytics.Feedback{}
			for _, r := range rows {
				if r.Feedback != (analytics.Feedback{}) {
					fb := r.Feedback
					got[fmt.Sprint(r.Bucket.Unix(), r.Key)] = &fb
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d %s rollups hold feedback, want %d", when, len(got), res, len(want))
			}
			for k, w := range want {
				if g := got[k]; g == nil || *g != *w {
					t.Fatalf("%s: %s rollup %s: feedback %+v, want %+v", when, res, k, g, w)
				}
			}
		}
	}
	check("after upserts")

	// A lean read leaves the feedback out and keeps the calls' counts.
	sel := analytics.Selection{Resolution: analytics.Day, From: start.Add(-48 * time.Hour), To: clock.Add(48 * time.Hour)}
	full, err := db.ReadRollups(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	sel.Lean = true
	lean, err := db.ReadRollups(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	var fullReq, leanReq int64
	for _, r := range full {
		fullReq += r.Requests
	}
	for _, r := range lean {
		leanReq += r.Requests
		if r.Feedback != (analytics.Feedback{}) || r.Anomalies != 0 || r.RateLimited != 0 {
			t.Fatalf("lean read of %v holds feedback or anomaly counts: %+v", r.Key, r)
		}
	}
	if len(lean) != len(full) || leanReq != fullReq || fullReq == 0 {
		t.Fatalf("lean read: %d rows, %d requests; full: %d rows, %d requests", len(lean), leanReq, len(full), fullReq)
	}
	// Positive and negative counts follow the polarity, not the value's
	// type: numbers and categories count too, neutral items in neither.
	var wantPos, wantNeg int64
	for _, it := range final {
		switch it.f.Polarity {
		case feedback.PolarityPositive:
			wantPos++
		case feedback.PolarityNegative:
			wantNeg++
		}
	}
	days, err := db.ReadRollups(ctx, analytics.Selection{Resolution: analytics.Day, From: start.Add(-48 * time.Hour), To: clock.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var gotPos, gotNeg int64
	for _, r := range days {
		gotPos += r.FeedbackPositive
		gotNeg += r.FeedbackNegative
	}
	if gotPos != wantPos || gotNeg != wantNeg {
		t.Fatalf("rollups count %d positive and %d negative, want %d and %d", gotPos, gotNeg, wantPos, wantNeg)
	}
	for i := range 2 {
		if err := db.RebuildRollups(ctx, start.Add(-24*time.Hour), clock.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("after rebuild #%d", i+1))
	}
	// Rebuilding keeps the calls' own counts too.
	checkRollups(t, db, calls, "after rebuild with feedback")
}
