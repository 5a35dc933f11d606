package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/review"
)

var _ review.Store = (*DB)(nil)

const reviewItemColumns = "id, queue, call_id, state, added_us, added_by, assignee, locked_by, lease_until_us, reviews, done_us"

// reviewAddChunk bounds the rows of one INSERT (7 parameters each), well
// within both databases' limits on parameters.
const reviewAddChunk = 500

// AddReviewItems adds calls to a queue, each once: a call already in the
// queue is left as it is, whoever added it and whenever (the unique key on
// queue and call makes that hold under concurrent adds, on every node). It
// returns how many calls were new to the queue.
func (db *DB) AddReviewItems(ctx context.Context, queue string, callIDs []string, addedBy string, at time.Time) (int, error) {
	ids := slices.Clone(callIDs)
	// Sorted, so that concurrent adds of overlapping calls insert in one
	// order: on PostgreSQL, two inserts waiting on each other's keys in
	// opposite orders would deadlock.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return 0, nil
	}
	added := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		added = 0
		for start := 0; start < len(ids); start += reviewAddChunk {
			chunk := ids[start:min(start+reviewAddChunk, len(ids))]
			var b strings.Builder
			b.WriteString("INSERT INTO review_items (id, queue, call_id, state, added_us, added_by, assignee) VALUES ")
			args := make([]any, 0, 7*len(chunk))
			for i, callID := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				id, err := uuid.NewV7()
				if err != nil {
					return fmt.Errorf("generating item id: %w", err)
				}
				args = append(args, id.String(), queue, callID, review.StatePending, micros(nowOr(at)), addedBy, "")
			}
			b.WriteString(" ON CONFLICT (queue, call_id) DO NOTHING")
			res, err := tx.ExecContext(ctx, db.Rebind(b.String()), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("adding %d calls to review queue %q: %w", len(ids), queue, err)
	}
	return added, nil
}

// scanReviewItem reads reviewItemColumns; an item is shown locked while
// its lease runs at now.
func scanReviewItem(s interface{ Scan(...any) error }, now time.Time) (review.Item, error) {
	var (
		it                 review.Item
		added, lease, done int64
		reviews            int64
	)
	if err := s.Scan(&it.ID, &it.Queue, &it.CallID, &it.State, &added, &it.AddedBy, &it.Assignee, &it.LockedBy, &lease, &reviews, &done); err != nil {
		return review.Item{}, err
	}
	it.AddedAt = fromMicros(added)
	it.Reviews = int(reviews)
	if it.LockedBy != "" {
		t := fromMicros(lease)
		it.LeaseUntil = &t
		if it.State == review.StatePending && lease > micros(now) {
			it.State = review.StateLocked
		}
	}
	if done != 0 {
		t := fromMicros(done)
		it.DoneAt = &t
	}
	return it, nil
}

// ReviewItem returns one item of a queue, or ErrNotFound.
func (db *DB) ReviewItem(ctx context.Context, queue, id string, now time.Time) (review.Item, error) {
	it, err := scanReviewItem(db.sql.QueryRowContext(ctx, db.Rebind("SELECT "+reviewItemColumns+
		" FROM review_items WHERE queue = ? AND id = ?"), queue, id), now)
	if err != nil {
		return review.Item{}, errNoRows(err, fmt.Sprintf("review item %q of queue %q", id, queue))
	}
	return it, nil
}

// NextReviewItem locks an item of the queue for reviewer until now+lease
// and returns it. A reviewer holds one item at a time: the one they hold
// already is returned again with its lease renewed. Otherwise it is the
// oldest free item — pending, not locked or with its lease run out,
// assigned to the reviewer or to no one (theirs first), and not reviewed
// by them yet. review.ErrEmpty when there is none.
//
// On PostgreSQL the candidate is read FOR UPDATE SKIP LOCKED and the
// update is conditional on it still being free, so reviewers racing on
// several nodes each get a different item without waiting on one
// another; on SQLite the write transaction itself is exclusive.
func (db *DB) NextReviewItem(ctx context.Context, queue, reviewer string, now time.Time, lease time.Duration) (review.Item, error) {
	if reviewer == "" {
		return review.Item{}, fmt.Errorf("a reviewer is required: %w", ErrInvalid)
	}
	nowUS, until := micros(now), micros(now.Add(lease))
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var it review.Item
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, db.Rebind(`SELECT id FROM review_items
			WHERE queue = ? AND state = ? AND locked_by = ? AND lease_until_us > ?
			ORDER BY added_us, id LIMIT 1`+lock), queue, review.StatePending, reviewer, nowUS).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, db.Rebind(`SELECT id FROM review_items i
				WHERE queue = ? AND state = ? AND (locked_by = '' OR lease_until_us <= ?)
				AND (assignee = '' OR assignee = ?)
				AND NOT EXISTS (SELECT 1 FROM review_results r WHERE r.item_id = i.id AND r.reviewer = ?)
				ORDER BY CASE WHEN assignee = ? THEN 0 ELSE 1 END, added_us, id LIMIT 1`+lock),
				queue, review.StatePending, nowUS, reviewer, reviewer, reviewer).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return review.ErrEmpty
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		}
		res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE review_items SET locked_by = ?, lease_until_us = ?
			WHERE id = ? AND state = ? AND (locked_by = '' OR locked_by = ? OR lease_until_us <= ?)`),
			reviewer, until, id, review.StatePending, reviewer, nowUS)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			// Cannot happen with the row locked (PostgreSQL) or the
			// database locked (SQLite); refuse rather than hand out an
			// item another reviewer holds.
			return fmt.Errorf("review item %q was taken meanwhile: %w", id, ErrConflict)
		}
		it, err = scanReviewItem(tx.QueryRowContext(ctx, db.Rebind("SELECT "+reviewItemColumns+
			" FROM review_items WHERE id = ?"), id), now)
		return err
	})
	if errors.Is(err, review.ErrEmpty) {
		return review.Item{}, err
	}
	if err != nil {
		return review.Item{}, fmt.Errorf("locking the next item of review queue %q: %w", queue, err)
	}
	return it, nil
}

// FinishReviewItem records r on an item that r.Reviewer holds (its lease
// may have run out, as long as no one else took the item since). A
// completed review releases the item for the next reviewer, or completes
// it once it has need reviews; a skip sets it aside as skipped at once.
// ErrNotFound, review.ErrDone or review.ErrNotHeld otherwise.
func (db *DB) FinishReviewItem(ctx context.Context, queue, id string, r review.Review, need int) (review.Item, error) {
	scores := r.Scores
	if scores == nil {
		scores = map[string]feedback.Value{}
	}
	enc, err := json.Marshal(scores)
	if err != nil {
		return review.Item{}, fmt.Errorf("encoding scores: %w", err)
	}
	at := nowOr(r.At)
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	var it review.Item
	err = db.write(ctx, func(tx *sql.Tx) error {
		var (
			state, lockedBy string
			reviews         int64
		)
		err := tx.QueryRowContext(ctx, db.Rebind("SELECT state, locked_by, reviews FROM review_items WHERE queue = ? AND id = ?"+lock),
			queue, id).Scan(&state, &lockedBy, &reviews)
		if err != nil {
			return errNoRows(err, fmt.Sprintf("review item %q of queue %q", id, queue))
		}
		switch {
		case state != review.StatePending:
			return review.ErrDone
		case lockedBy != r.Reviewer:
			return review.ErrNotHeld
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO review_results (item_id, reviewer, queue, outcome, scores, comment, at_us)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, reviewer) DO NOTHING`),
			id, r.Reviewer, queue, r.Outcome, string(enc), r.Comment, micros(at)); err != nil {
			return err
		}
		next, done := review.StatePending, int64(0)
		switch r.Outcome {
		case review.OutcomeCompleted:
			reviews++
			if reviews >= int64(max(need, 1)) {
				next, done = review.StateCompleted, micros(at)
			}
		case review.OutcomeSkipped:
			next, done = review.StateSkipped, micros(at)
		default:
			return fmt.Errorf("outcome %q: %w", r.Outcome, ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(`UPDATE review_items
			SET state = ?, reviews = ?, done_us = ?, locked_by = '', lease_until_us = 0 WHERE id = ?`),
			next, reviews, done, id); err != nil {
			return err
		}
		it, err = scanReviewItem(tx.QueryRowContext(ctx, db.Rebind("SELECT "+reviewItemColumns+
			" FROM review_items WHERE id = ?"), id), at)
		return err
	})
	if err != nil {
		return review.Item{}, fmt.Errorf("recording a review of item %q: %w", id, err)
	}
	return it, nil
}

// AssignReviewItem offers a pending item to assignee only, or to everyone
// again when assignee is empty. A lock someone else holds is left to run.
func (db *DB) AssignReviewItem(ctx context.Context, queue, id, assignee string, now time.Time) (review.Item, error) {
	var it review.Item
	err := db.write(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, db.Rebind("SELECT state FROM review_items WHERE queue = ? AND id = ?"), queue, id).Scan(&state); err != nil {
			return errNoRows(err, fmt.Sprintf("review item %q of queue %q", id, queue))
		}
		if state != review.StatePending {
			return review.ErrDone
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("UPDATE review_items SET assignee = ? WHERE id = ?"), assignee, id); err != nil {
			return err
		}
		var err error
		it, err = scanReviewItem(tx.QueryRowContext(ctx, db.Rebind("SELECT "+reviewItemColumns+
			" FROM review_items WHERE id = ?"), id), now)
		return err
	})
	if err != nil {
		return review.Item{}, fmt.Errorf("assigning review item %q: %w", id, err)
	}
	return it, nil
}

// lockedAt is the condition of a pending item locked at now (one
// parameter: now in microseconds).
const lockedAt = "(state = 'pending' AND locked_by <> '' AND lease_until_us > ?)"

// ListReviewItems lists a queue's items, oldest first, a page at a time
// (limit 50 by default, at most 500). A malformed cursor wraps ErrInvalid.
func (db *DB) ListReviewItems(ctx context.Context, queue string, f review.ItemFilter, now time.Time) (review.ItemPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallLimit
	}
	limit = min(limit, MaxCallLimit)
	nowUS := micros(now)
	where := []string{"queue = ?"}
	args := []any{queue}
	switch f.State {
	case "":
	case review.StateLocked:
		where = append(where, lockedAt)
		args = append(args, nowUS)
	case review.StatePending:
		where = append(where, "state = 'pending' AND NOT "+lockedAt)
		args = append(args, nowUS)
	case review.StateCompleted, review.StateSkipped:
		where = append(where, "state = ?")
		args = append(args, f.State)
	default:
		return review.ItemPage{}, fmt.Errorf("%w: unknown state %q", ErrInvalid, f.State)
	}
	if f.Assignee != "" {
		where = append(where, "assignee = ?")
		args = append(args, f.Assignee)
	}
	if f.Cursor != "" {
		us, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return review.ItemPage{}, err
		}
		where = append(where, "(added_us > ? OR (added_us = ? AND id > ?))")
		args = append(args, us, us, id)
	}
	args = append(args, limit+1)
	rows, err := db.sql.QueryContext(ctx, db.Rebind("SELECT "+reviewItemColumns+" FROM review_items WHERE "+
		strings.Join(where, " AND ")+" ORDER BY added_us, id LIMIT ?"), args...)
	if err != nil {
		return review.ItemPage{}, fmt.Errorf("listing review queue %q: %w", queue, err)
	}
	defer rows.Close()
	page := review.ItemPage{Items: []review.Item{}}
	for rows.Next() {
		it, err := scanReviewItem(rows, now)
		if err != nil {
			return review.ItemPage{}, fmt.Errorf("listing review queue %q: %w", queue, err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return review.ItemPage{}, fmt.Errorf("listing review queue %q: %w", queue, err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = encodeCursor(micros(last.AddedAt), last.ID)
	}
	return page, nil
}

// ReviewProgress counts a queue's items by state at now, and each
// reviewer's completed and skipped reviews and live locks.
func (db *DB) ReviewProgress(ctx context.Context, queue string, now time.Time) (review.Progress, error) {
	nowUS := micros(now)
	var p review.Progress
	var pending, locked, completed, skipped int64
	err := db.sql.QueryRowContext(ctx, db.Rebind(`SELECT
		COALESCE(SUM(CASE WHEN state = 'pending' AND NOT `+lockedAt+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN `+lockedAt+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'skipped' THEN 1 ELSE 0 END), 0)
		FROM review_items WHERE queue = ?`), nowUS, nowUS, queue).Scan(&pending, &locked, &completed, &skipped)
	if err != nil {
		return review.Progress{}, fmt.Errorf("counting review queue %q: %w", queue, err)
	}
	p.Pending, p.Locked, p.Completed, p.Skipped = int(pending), int(locked), int(completed), int(skipped)
	p.Total = p.Pending + p.Locked + p.Completed + p.Skipped
	by := map[string]*review.ReviewerProgress{}
	get := func(name string) *review.ReviewerProgress {
		if by[name] == nil {
			by[name] = &review.ReviewerProgress{Reviewer: name}
		}
		return by[name]
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT reviewer, outcome, COUNT(*) FROM review_results
		WHERE queue = ? GROUP BY reviewer, outcome`), queue)
	if err != nil {
		return review.Progress{}, fmt.Errorf("counting reviews of queue %q: %w", queue, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, outcome string
		var n int64
		if err := rows.Scan(&name, &outcome, &n); err != nil {
			return review.Progress{}, fmt.Errorf("counting reviews of queue %q: %w", queue, err)
		}
		switch outcome {
		case review.OutcomeCompleted:
			get(name).Completed += int(n)
		case review.OutcomeSkipped:
			get(name).Skipped += int(n)
		}
	}
	if err := rows.Err(); err != nil {
		return review.Progress{}, fmt.Errorf("counting reviews of queue %q: %w", queue, err)
	}
	rows.Close()
	lrows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT locked_by, COUNT(*) FROM review_items
		WHERE queue = ? AND `+lockedAt+` GROUP BY locked_by`), queue, nowUS)
	if err != nil {
		return review.Progress{}, fmt.Errorf("counting locks of queue %q: %w", queue, err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var name string
		var n int64
		if err := lrows.Scan(&name, &n); err != nil {
			return review.Progress{}, fmt.Errorf("counting locks of queue %q: %w", queue, err)
		}
		get(name).Locked += int(n)
	}
	if err := lrows.Err(); err != nil {
		return review.Progress{}, fmt.Errorf("counting locks of queue %q: %w", queue, err)
	}
	p.Reviewers = make([]review.ReviewerProgress, 0, len(by))
	for _, r := range by {
		p.Reviewers = append(p.Reviewers, *r)
	}
	slices.SortFunc(p.Reviewers, func(a, b review.ReviewerProgress) int { return strings.Compare(a.Reviewer, b.Reviewer) })
	return p, nil
}

// QueueReviews returns every review of a queue's items, by item and time.
func (db *DB) QueueReviews(ctx context.Context, queue string) ([]review.Review, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(`SELECT item_id, reviewer, outcome, scores, comment, at_us
		FROM review_results WHERE queue = ? ORDER BY item_id, at_us, reviewer`), queue)
	if err != nil {
		return nil, fmt.Errorf("reading reviews of queue %q: %w", queue, err)
	}
	defer rows.Close()
	out := []review.Review{}
	for rows.Next() {
		var (
			r      review.Review
			scores string
			at     int64
		)
		if err := rows.Scan(&r.ItemID, &r.Reviewer, &r.Outcome, &scores, &r.Comment, &at); err != nil {
			return nil, fmt.Errorf("reading reviews of queue %q: %w", queue, err)
		}
		if err := json.Unmarshal([]byte(scores), &r.Scores); err != nil {
			return nil, fmt.Errorf("review of item %q: decoding scores: %w", r.ItemID, err)
		}
		if len(r.Scores) == 0 {
			r.Scores = nil
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading reviews of queue %q: %w", queue, err)
	}
	return out, nil
}
