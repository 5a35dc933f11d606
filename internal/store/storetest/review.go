package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/store"
)

// ReviewQueues is the conformance case of review queues: a call joins a
// queue once however many add it at the same time; reviewers racing for
// the next item each get a different one; a lease runs out and frees its
// item; completing, skipping, assigning and the progress figures.
func ReviewQueues(t *testing.T, db *store.DB) {
	ctx := t.Context()
	t0 := base
	lease := 5 * time.Minute

	t.Run("unique under concurrent adds", func(t *testing.T) {
		ids := make([]string, 60)
		for i := range ids {
			ids[i] = fmt.Sprintf("call-%02d", i)
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			added int
			errs  []error
		)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each writer adds an overlapping, differently ordered slice.
				mine := slices.Clone(ids[w*5:])
				slices.Reverse(mine)
				mine = append(mine, ids[:w*5]...)
				n, err := db.AddReviewItems(ctx, "dupes", mine, fmt.Sprint("user:w", w), t0)
				mu.Lock()
				defer mu.Unlock()
				added += n
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent adds failed: %v", errs)
		}
		if added != len(ids) {
			t.Fatalf("concurrent adds reported %d new items, want %d", added, len(ids))
		}
		p, err := db.ReviewProgress(ctx, "dupes", t0)
		if err != nil || p.Total != len(ids) || p.Pending != len(ids) {
			t.Fatalf("progress = %+v, %v; want %d pending", p, err, len(ids))
		}
		// The same call in another queue is another item.
		if n, err := db.AddReviewItems(ctx, "other", ids[:3], "rule:1", t0); err != nil || n != 3 {
			t.Fatalf("adding to another queue = %d, %v; want 3", n, err)
		}
		if n, err := db.AddReviewItems(ctx, "dupes", []string{"call-00", "call-00", "", "call-new"}, "rule:1", t0); err != nil || n != 1 {
			t.Fatalf("adding a known call again = %d, %v; want 1 (only call-new)", n, err)
		}
	})

	t.Run("reviewers racing get different items", func(t *testing.T) {
		var ids []string
		for i := range 10 {
			ids = append(ids, fmt.Sprint("race-", i))
			if _, err := db.AddReviewItems(ctx, "race", ids[i:i+1], "rule:1", t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]string, 12)
		errs := make([]error, 12)
		var wg sync.WaitGroup
		for r := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				it, err := db.NextReviewItem(ctx, "race", fmt.Sprint("user:r", r), t0.Add(time.Minute), lease)
				got[r], errs[r] = it.CallID, err
			}()
		}
		wg.Wait()
		var taken []string
		empty := 0
		for r := range 12 {
			switch {
			case errors.Is(errs[r], review.ErrEmpty):
				empty++
			case errs[r] != nil:
				t.Fatalf("reviewer %d: %v", r, errs[r])
			default:
				taken = append(taken, got[r])
			}
		}
		slices.Sort(taken)
		if !slices.Equal(taken, ids) || empty != 2 {
			t.Fatalf("12 reviewers took %v and %d found none; want each of the 10 items once and 2 empty", taken, empty)
		}
	})

	t.Run("lease", func(t *testing.T) {
		if _, err := db.AddReviewItems(ctx, "lease", []string{"old"}, "rule:1", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddReviewItems(ctx, "lease", []string{"new"}, "rule:1", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		a, err := db.NextReviewItem(ctx, "lease", "user:a", now, lease)
		if err != nil || a.CallID != "old" || a.State != review.StateLocked || a.LockedBy != "user:a" || !a.LeaseUntil.Equal(stored(now.Add(lease))) {
			t.Fatalf("a's next = %+v, %v; want the oldest item locked by a for the lease", a, err)
		}
		b, err := db.NextReviewItem(ctx, "lease", "user:b", now, lease)
		if err != nil || b.CallID != "new" {
			t.Fatalf("b's next = %+v, %v; want the next item", b, err)
		}
		// Asking again returns what one holds, with the lease renewed.
		later := now.Add(2 * time.Minute)
		again, err := db.NextReviewItem(ctx, "lease", "user:a", later, lease)
		if err != nil || again.ID != a.ID || !again.LeaseUntil.Equal(stored(later.Add(lease))) {
			t.Fatalf("a's next again = %+v, %v; want the same item, lease renewed", again, err)
		}
		if _, err := db.NextReviewItem(ctx, "lease", "user:c", later, lease); !errors.Is(err, review.ErrEmpty) {
			t.Fatalf("c's next with both held = %v; want ErrEmpty", err)
		}
		// Once a's lease runs out the item is free again.
		expired := later.Add(lease + time.Second)
		if p, err := db.ReviewProgress(ctx, "lease", expired.Add(-2*time.Minute)); err != nil || p.Locked != 1 || p.Pending != 1 {
			t.Fatalf("progress after b's lease ran out = %+v, %v; want 1 locked (a), 1 pending", p, err)
		}
		c, err := db.NextReviewItem(ctx, "lease", "user:c", expired, lease)
		if err != nil || c.ID != a.ID || c.LockedBy != "user:c" {
			t.Fatalf("c's next after a's lease ran out = %+v, %v; want a's item", c, err)
		}
		if _, err := db.FinishReviewItem(ctx, "lease", a.ID, review.Review{Reviewer: "user:a", Outcome: review.OutcomeCompleted, At: expired}, 1); !errors.Is(err, review.ErrNotHeld) {
			t.Fatalf("a completing the item c took = %v; want ErrNotHeld", err)
		}
		// b's lease ran out too, but no one took the item: b may finish.
		done, err := db.FinishReviewItem(ctx, "lease", b.ID, review.Review{Reviewer: "user:b", Outcome: review.OutcomeCompleted,
			Scores: map[string]feedback.Value{"correct": feedback.BoolValue(true)}, At: expired}, 1)
		if err != nil || done.State != review.StateCompleted || done.Reviews != 1 || done.LockedBy != "" || done.DoneAt == nil {
			t.Fatalf("b completing after its lease = %+v, %v; want completed", done, err)
		}
		if _, err := db.FinishReviewItem(ctx, "lease", b.ID, review.Review{Reviewer: "user:b", Outcome: review.OutcomeCompleted, At: expired}, 1); !errors.Is(err, review.ErrDone) {
			t.Fatalf("completing twice = %v; want ErrDone", err)
		}
		if _, err := db.FinishReviewItem(ctx, "lease", "nope", review.Review{Reviewer: "user:b", Outcome: review.OutcomeCompleted}, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("completing an unknown item = %v; want ErrNotFound", err)
		}
		if _, err := db.ReviewItem(ctx, "other-queue", b.ID, expired); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an item through another queue = %v; want ErrNotFound", err)
		}
	})

	t.Run("several reviews per item, skip, assignment, progress", func(t *testing.T) {
		q := "multi"
		for i, id := range []string{"m1", "m2", "m3"} {
			if _, err := db.AddReviewItems(ctx, q, []string{id}, "user:ana", t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(time.Hour)
		complete := func(reviewer string, v bool) review.Item {
			t.Helper()
			it, err := db.NextReviewItem(ctx, q, reviewer, now, lease)
			if err != nil {
				t.Fatalf("%s's next: %v", reviewer, err)
			}
			done, err := db.FinishReviewItem(ctx, q, it.ID, review.Review{Reviewer: reviewer, Outcome: review.OutcomeCompleted,
				Scores: map[string]feedback.Value{"helpful": feedback.BoolValue(v)}, Comment: "ok", At: now}, 2)
			if err != nil {
				t.Fatalf("%s completing %s: %v", reviewer, it.CallID, err)
			}
			return done
		}
		first := complete("user:a", true)
		if first.CallID != "m1" || first.State != review.StatePending || first.Reviews != 1 {
			t.Fatalf("after one of two reviews: %+v; want m1 pending with 1 review", first)
		}
		// a has reviewed m1, so a gets m2; b gets m1 and completes it.
		if second := complete("user:a", false); second.CallID != "m2" {
			t.Fatalf("a's second item = %s; want m2", second.CallID)
		}
		if third := complete("user:b", true); third.CallID != "m1" || third.State != review.StateCompleted || third.Reviews != 2 {
			t.Fatalf("b's item = %+v; want m1 completed with 2 reviews", third)
		}
		// m3 assigned to c: b is offered m2 (which b has not reviewed), not m3.
		m3 := findItem(t, db, q, "m3", now)
		if it, err := db.AssignReviewItem(ctx, q, m3.ID, "user:c", now); err != nil || it.Assignee != "user:c" {
			t.Fatalf("assign = %+v, %v", it, err)
		}
		if it, err := db.NextReviewItem(ctx, q, "user:c", now, lease); err != nil || it.CallID != "m3" {
			t.Fatalf("c's next = %+v, %v; want m3, assigned to c", it, err)
		}
		skipped, err := db.FinishReviewItem(ctx, q, m3.ID, review.Review{Reviewer: "user:c", Outcome: review.OutcomeSkipped, Comment: "not English", At: now}, 2)
		if err != nil || skipped.State != review.StateSkipped {
			t.Fatalf("skip = %+v, %v; want skipped", skipped, err)
		}
		if _, err := db.AssignReviewItem(ctx, q, m3.ID, "user:d", now); !errors.Is(err, review.ErrDone) {
			t.Fatalf("assigning a skipped item = %v; want ErrDone", err)
		}
		b2, err := db.NextReviewItem(ctx, q, "user:b", now, lease)
		if err != nil || b2.CallID != "m2" {
			t.Fatalf("b's next = %+v, %v; want m2", b2, err)
		}
		p, err := db.ReviewProgress(ctx, q, now)
		if err != nil {
			t.Fatal(err)
		}
		want := review.Progress{Total: 3, Pending: 0, Locked: 1, Completed: 1, Skipped: 1, Reviewers: []review.ReviewerProgress{
			{Reviewer: "user:a", Completed: 2}, {Reviewer: "user:b", Completed: 1, Locked: 1}, {Reviewer: "user:c", Skipped: 1},
		}}
		if fmt.Sprint(p) != fmt.Sprint(want) {
			t.Fatalf("progress = %+v\nwant       %+v", p, want)
		}
		rs, err := db.QueueReviews(ctx, q)
		if err != nil || len(rs) != 4 {
			t.Fatalf("QueueReviews = %d reviews, %v; want 4", len(rs), err)
		}
		for _, r := range rs {
			if r.Outcome == review.OutcomeCompleted && (r.Scores["helpful"].Kind != feedback.Boolean || r.Comment != "ok" || !r.At.Equal(stored(now))) {
				t.Errorf("review %+v did not round-trip", r)
			}
		}
		// The list, by state and a page at a time.
		for _, tc := range []struct {
			state string
			want  []string
		}{
			{"", []string{"m1", "m2", "m3"}},
			{review.StateLocked, []string{"m2"}},
			{review.StatePending, nil},
			{review.StateCompleted, []string{"m1"}},
			{review.StateSkipped, []string{"m3"}},
		} {
			var got []string
			cursor := ""
			for {
				page, err := db.ListReviewItems(ctx, q, review.ItemFilter{State: tc.state, Cursor: cursor, Limit: 1}, now)
				if err != nil {
					t.Fatalf("list %q: %v", tc.state, err)
				}
				for _, it := range page.Items {
					got = append(got, it.CallID)
				}
				if cursor = page.Next; cursor == "" {
					break
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("list %q = %v; want %v", tc.state, got, tc.want)
			}
		}
		if page, err := db.ListReviewItems(ctx, q, review.ItemFilter{Assignee: "user:c"}, now); err != nil || len(page.Items) != 1 {
			t.Errorf("list by assignee = %+v, %v; want m3", page, err)
		}
		if _, err := db.ListReviewItems(ctx, q, review.ItemFilter{Cursor: "!!"}, now); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad cursor = %v; want ErrInvalid", err)
		}
	})
}

func findItem(t *testing.T, db *store.DB, queue, callID string, now time.Time) review.Item {
	t.Helper()
	page, err := db.ListReviewItems(t.Context(), queue, review.ItemFilter{Limit: 500}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.CallID == callID {
			return it
		}
	}
	t.Fatalf("no item for call %s in %s", callID, queue)
	return review.Item{}
}
