package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// FeedbackComplete is the conformance case of issue 6's feedback: source,
// author and polarity are stored and replaced by an upsert (a toggle); the
// call list finds calls by feedback name and value or by polarity, with the
// other filters; feedback on pages upserts, refuses another page's id and
// counts helpful and not helpful per page; publishable keys are created,
// listed, looked up while active and revoked.
func FeedbackComplete(t *testing.T, db *store.DB) {
	ctx := t.Context()
	base := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	var recs []calllog.Record
	for i := range 8 {
		recs = append(recs, calllog.Record{ID: fmt.Sprint("fbc-", i), Time: base.Add(time.Duration(i) * time.Minute),
			Endpoint: "/v1/chat/completions", Consumer: "shop", Model: "gpt-4o", Status: 200, LatencyUS: 1000})
	}
	if err := db.InsertCallsAndRollups(ctx, recs); err != nil {
		t.Fatal(err)
	}
	put := func(id, call, name string, v feedback.Value, pol, source string) feedback.Feedback {
		t.Helper()
		var c calllog.Record
		for _, r := range recs {
			if r.ID == call {
				c = r
			}
		}
		f, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: id, RequestID: call, Consumer: "shop", Name: name, Value: v,
			Polarity: pol, Source: source, Author: "a@" + source, Call: calllog.SummaryOf(&c), UpdatedAt: base.Add(time.Hour)})
		if err != nil {
			t.Fatalf("UpsertFeedback(%s): %v", id, err)
		}
		return f
	}
	num := func(n float64) feedback.Value { return feedback.Value{Kind: feedback.Numeric, Num: n} }
	str := func(s string) feedback.Value { return feedback.Value{Kind: feedback.String, Str: s} }
	put("f0", "fbc-0", "helpful", feedback.BoolValue(false), feedback.PolarityNegative, feedback.SourceUser)
	put("f1", "fbc-1", "helpful", feedback.BoolValue(true), feedback.PolarityPositive, feedback.SourceAPI)
	put("f2", "fbc-2", "rating", num(1), feedback.PolarityNegative, feedback.SourceReviewer)
	put("f3", "fbc-3", "rating", num(5), feedback.PolarityPositive, feedback.SourceReviewer)
	put("f4", "fbc-4", "category", str("wrong"), feedback.PolarityNegative, feedback.SourceUser)
	put("f5", "fbc-5", "note", str("1"), "", feedback.SourceUser)
	// A toggle: f6 goes from negative to positive and from user to api.
	put("f6", "fbc-6", "helpful", feedback.BoolValue(false), feedback.PolarityNegative, feedback.SourceUser)
	got := put("f6", "fbc-6", "helpful", feedback.BoolValue(true), feedback.PolarityPositive, feedback.SourceAPI)
	if got.Polarity != feedback.PolarityPositive || got.Source != feedback.SourceAPI || got.Author != "a@api" || !got.Value.Bool() {
		t.Fatalf("after the toggle: %+v", got)
	}
	list, err := db.ListFeedback(ctx, "fbc-2")
	if err != nil || len(list) != 1 || list[0].Source != feedback.SourceReviewer || list[0].Author != "a@reviewer" || list[0].Polarity != feedback.PolarityNegative {
		t.Fatalf("ListFeedback(fbc-2) = %+v, %v", list, err)
	}

	for _, tc := range []struct {
		name   string
		filter string
		since  time.Time
		want   []string
	}{
		{"boolean false", "helpful:false", time.Time{}, []string{"fbc-0"}},
		{"boolean true, toggled in", "helpful:true", time.Time{}, []string{"fbc-6", "fbc-1"}},
		{"any value of a name", "rating", time.Time{}, []string{"fbc-3", "fbc-2"}},
		{"number", "rating:1", time.Time{}, []string{"fbc-2"}},
		{"number written otherwise", "rating:5.0", time.Time{}, []string{"fbc-3"}},
		{"category", "category:wrong", time.Time{}, []string{"fbc-4"}},
		{"a string that reads as a number", "note:1", time.Time{}, []string{"fbc-5"}},
		{"negative polarity", "negative", time.Time{}, []string{"fbc-4", "fbc-2", "fbc-0"}},
		{"positive polarity", "positive", time.Time{}, []string{"fbc-6", "fbc-3", "fbc-1"}},
		{"negative since", "negative", base.Add(90 * time.Second), []string{"fbc-4", "fbc-2"}},
		{"no match", "helpful:maybe", time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := calllog.ParseFeedbackMatch(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			page, err := db.ListCalls(ctx, calllog.Filter{Feedback: m, Since: tc.since})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range page.Calls {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("feedback=%s: %v, want %v", tc.filter, ids, tc.want)
			}
		})
	}

	// Concurrent upserts are committed together: every one is answered,
	// an id of another call fails alone, and each id is counted once.
	var wg sync.WaitGroup
	var conflicts, failures atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				id, call := fmt.Sprint("conc-", (g+i)%10), "fbc-7"
				if i == 24 && g%2 == 0 {
					call = "fbc-6" // an id of fbc-7 posted on another call
				}
				c := recs[7]
				if call == "fbc-6" {
					c = recs[6]
				}
				_, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: id, RequestID: call, Consumer: "shop", Name: "helpful",
					Value: feedback.BoolValue(i%2 == 0), Polarity: feedback.PolarityPositive, Call: calllog.SummaryOf(&c), UpdatedAt: base.Add(2 * time.Hour)})
				switch {
				case errors.Is(err, store.ErrConflict):
					conflicts.Add(1)
				case err != nil:
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 || conflicts.Load() != 4 {
		t.Fatalf("concurrent upserts: %d failed, %d conflicts (want 0 and 4)", failures.Load(), conflicts.Load())
	}
	if list, err := db.ListFeedback(ctx, "fbc-7"); err != nil || len(list) != 10 {
		t.Fatalf("ListFeedback(fbc-7) = %d items, %v; want 10", len(list), err)
	}
	hours, err := db.ReadRollups(ctx, analytics.Selection{Resolution: analytics.Hour, From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	for _, r := range hours {
		counted += r.FeedbackCount
	}
	if counted != 10 {
		t.Fatalf("the rollups count %d feedback given concurrently, want 10", counted)
	}

	// Feedback on pages.
	pagePut := func(id, page string, v bool) (feedback.PageFeedback, bool, error) {
		pol := feedback.PolarityNegative
		if v {
			pol = feedback.PolarityPositive
		}
		return db.UpsertPageFeedback(ctx, feedback.PageFeedback{ID: id, Page: page, Consumer: "shop", Name: "helpful",
			Value: feedback.BoolValue(v), Polarity: pol, Source: feedback.SourceUser})
	}
	for i, p := range []struct {
		id, page string
		v        bool
	}{{"p1", "/portal/a", true}, {"p2", "/portal/a", false}, {"p3", "/portal/a", true}, {"p4", "/portal/b", false}} {
		if _, created, err := pagePut(p.id, p.page, p.v); err != nil || !created {
			t.Fatalf("UpsertPageFeedback #%d = %v, %v", i, created, err)
		}
	}
	if f, created, err := pagePut("p2", "/portal/a", true); err != nil || created || !f.Value.Bool() || f.Polarity != feedback.PolarityPositive {
		t.Fatalf("toggling page feedback = %+v, %v, %v", f, created, err)
	}
	if _, _, err := pagePut("p2", "/portal/b", true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("page feedback id of another page: %v, want ErrConflict", err)
	}
	pf, err := db.ListPageFeedback(ctx, "/portal/a", nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Counts) != 1 || pf.Counts[0] != (store.PageFeedbackCounts{Page: "/portal/a", Total: 3, Helpful: 3}) || len(pf.Feedback) != 2 {
		t.Fatalf("ListPageFeedback(/portal/a) = %+v", pf)
	}
	all, err := db.ListPageFeedback(ctx, "", nil, 0)
	if err != nil || len(all.Counts) != 2 || all.Counts[1] != (store.PageFeedbackCounts{Page: "/portal/b", Total: 1, NotHelpful: 1}) || len(all.Feedback) != 4 {
		t.Fatalf("ListPageFeedback() = %+v, %v", all, err)
	}
	if none, err := db.ListPageFeedback(ctx, "", []string{"other"}, 0); err != nil || len(none.Counts) != 0 || len(none.Feedback) != 0 {
		t.Fatalf("ListPageFeedback(other consumer) = %+v, %v", none, err)
	}
	if own, err := db.ListPageFeedback(ctx, "/portal/b", []string{"shop", "other"}, 0); err != nil || len(own.Feedback) != 1 {
		t.Fatalf("ListPageFeedback(shop) = %+v, %v", own, err)
	}

	// Publishable keys.
	k, secret := feedback.NewPublishableKey("shop", "widget", []string{"https://shop.example.com"})
	if err := db.CreatePublishableKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePublishableKey(ctx, k); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("creating a key twice: %v, want ErrConflict", err)
	}
	k2, _ := feedback.NewPublishableKey("other", "", nil)
	if err := db.CreatePublishableKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	keys, err := db.ListPublishableKeys(ctx, "shop")
	if err != nil || len(keys) != 1 || keys[0].Hash != k.Hash || keys[0].Prefix != secret[:10] || !slices.Equal(keys[0].Origins, k.Origins) {
		t.Fatalf("ListPublishableKeys(shop) = %+v, %v", keys, err)
	}
	if err := db.RevokePublishableKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokePublishableKey(ctx, "pk_id_nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown key: %v, want ErrNotFound", err)
	}
	active, err := db.ActivePublishableKeys(ctx)
	if err != nil || len(active) != 1 || active[0].ID != k2.ID || len(active[0].Origins) != 0 {
		t.Fatalf("ActivePublishableKeys = %+v, %v", active, err)
	}
	if got, err := db.GetPublishableKey(ctx, k.ID); err != nil || got.RevokedAt == nil {
		t.Fatalf("GetPublishableKey(revoked) = %+v, %v", got, err)
	}
}
