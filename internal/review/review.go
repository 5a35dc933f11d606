// Package review holds review queues: lists of calls that people judge by
// hand on a queue's dimensions. Calls join a queue by hand, in bulk by the
// call list's filter, or by the queue's rules as they are recorded or as
// feedback on them arrives — never twice. A reviewer fetches the oldest
// free item and holds it for a lease; completing it stores each score as
// feedback of source "reviewer", so that reviews count like any other
// feedback. When several reviewers judge each item, the queue reports how
// often they agree.
package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
)

// Item states. Locked is a pending item whose lease has not run out; the
// store keeps only pending, completed and skipped.
const (
	StatePending   = "pending"
	StateLocked    = "locked"
	StateCompleted = "completed"
	StateSkipped   = "skipped"
)

// States lists the item states, for filters.
var States = []string{StatePending, StateLocked, StateCompleted, StateSkipped}

// Review outcomes.
const (
	OutcomeCompleted = "completed"
	OutcomeSkipped   = "skipped"
)

// Errors the service and its store return; the HTTP edge maps them.
var (
	// ErrEmpty: no item is free for this reviewer.
	ErrEmpty = errors.New("no item left to review")
	// ErrNotHeld: the item is not locked by this reviewer (fetch it with
	// next first, or another reviewer took it after the lease ran out).
	ErrNotHeld = errors.New("item is not locked by this reviewer")
	// ErrDone: the item is completed or skipped already.
	ErrDone = errors.New("item is already completed or skipped")
)

// InvalidError says which part of a review is wrong and why.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// Item is one call in one queue.
type Item struct {
	ID     string `json:"id"`
	Queue  string `json:"queue"`
	CallID string `json:"call_id"`
	// State is one of States.
	State   string    `json:"state"`
	AddedAt time.Time `json:"added_at"`
	// AddedBy is "rule:N" for the queue's Nth rule, else the actor who
	// added the call ("user:EMAIL", "token:NAME", "admin-token").
	AddedBy string `json:"added_by"`
	// Assignee, when set, is the only reviewer the item is offered to.
	Assignee string `json:"assignee,omitempty"`
	// LockedBy holds the item until LeaseUntil.
	LockedBy   string     `json:"locked_by,omitempty"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	// Reviews is how many reviewers have completed the item so far.
	Reviews int        `json:"reviews"`
	DoneAt  *time.Time `json:"done_at,omitempty"`
}

// Review is one reviewer's verdict on one item.
type Review struct {
	ItemID   string                    `json:"item_id"`
	Reviewer string                    `json:"reviewer"`
	Outcome  string                    `json:"outcome"`
	Scores   map[string]feedback.Value `json:"scores,omitempty"`
	Comment  string                    `json:"comment,omitempty"`
	At       time.Time                 `json:"at"`
}

// ItemFilter selects a queue's items. Zero fields do not filter.
type ItemFilter struct {
	State    string
	Assignee string
	Cursor   string
	Limit    int
}

// ItemPage is one page of items, oldest first.
type ItemPage struct {
	Items []Item `json:"data"`
	Next  string `json:"next_cursor,omitempty"`
}

// Progress counts a queue's items by state (Total is their sum), and
// what each reviewer did.
type Progress struct {
	Total     int                `json:"total"`
	Pending   int                `json:"pending"`
	Locked    int                `json:"locked"`
	Completed int                `json:"completed"`
	Skipped   int                `json:"skipped"`
	Reviewers []ReviewerProgress `json:"reviewers"`
}

// ReviewerProgress is one reviewer's share of a queue.
type ReviewerProgress struct {
	Reviewer  string `json:"reviewer"`
	Completed int    `json:"completed"`
	Skipped   int    `json:"skipped"`
	Locked    int    `json:"locked"`
}

// Store keeps queue items and reviews. Items are unique per queue and call.
type Store interface {
	// AddReviewItems adds calls to a queue, skipping those already in it,
	// and returns how many it added.
	AddReviewItems(ctx context.Context, queue string, callIDs []string, addedBy string, at time.Time) (int, error)
	// NextReviewItem locks the item reviewer holds, or else the oldest free
	// one offered to them, until now+lease. ErrEmpty when there is none.
	NextReviewItem(ctx context.Context, queue, reviewer string, now time.Time, lease time.Duration) (Item, error)
	ReviewItem(ctx context.Context, queue, id string, now time.Time) (Item, error)
	// FinishReviewItem records r on an item r.Reviewer holds: the item is
	// completed once it has need completed reviews, skipped at once on a
	// skip, else released for the next reviewer.
	FinishReviewItem(ctx context.Context, queue, id string, r Review, need int) (Item, error)
	AssignReviewItem(ctx context.Context, queue, id, assignee string, now time.Time) (Item, error)
	ListReviewItems(ctx context.Context, queue string, f ItemFilter, now time.Time) (ItemPage, error)
	ReviewProgress(ctx context.Context, queue string, now time.Time) (Progress, error)
	// QueueReviews returns every review of a queue's items.
	QueueReviews(ctx context.Context, queue string) ([]Review, error)
}

// FeedbackStore stores reviewers' scores as feedback.
type FeedbackStore interface {
	UpsertFeedback(ctx context.Context, f feedback.Feedback) (feedback.Feedback, bool, error)
}

// Calls finds the call an item is about.
type Calls interface {
	CallSummary(ctx context.Context, id string) (calllog.CallSummary, error)
}

// Service is the review queues of the configuration in service. It is a
// call observer and a feedback observer: its rules add calls as they are
// recorded and as feedback on them arrives.
type Service struct {
	Store    Store
	Feedback FeedbackStore
	Calls    Calls
	// Config returns the configuration in service; the queues are
	// compiled again whenever it returns another one.
	Config func() *config.Config
	Now    func() time.Time
	Logger *slog.Logger

	mu     sync.Mutex
	cfg    *config.Config
	queues []*Queue
}

var (
	_ interface {
		ObserveCalls(ctx context.Context, recs []calllog.Record) error
	} = (*Service)(nil)
	_ feedback.Observer = (*Service)(nil)
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Queues returns the queues in service, in the file's order.
func (s *Service) Queues() []*Queue {
	cfg := s.Config()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg != s.cfg || s.queues == nil {
		var qs []config.ReviewQueue
		if cfg != nil {
			qs = cfg.ReviewQueues
		}
		queues, err := Compile(qs)
		if err != nil {
			if s.Logger != nil {
				s.Logger.Error("review queues do not compile; keeping the previous ones", "error", err)
			}
			return s.queues
		}
		s.cfg, s.queues = cfg, queues
	}
	return s.queues
}

// Queue returns the named queue in service.
func (s *Service) Queue(name string) (*Queue, bool) {
	for _, q := range s.Queues() {
		if q.Name == name {
			return q, true
		}
	}
	return nil, false
}

// Allows reports whether the user or token named name may review the
// queue's items: anyone when the queue lists no reviewers.
func (q *Queue) Allows(name string) bool {
	return len(q.Reviewers) == 0 || slices.ContainsFunc(q.Reviewers, func(r string) bool { return strings.EqualFold(r, name) })
}

// ObserveCalls adds newly recorded calls to the queues whose rules on calls
// match them. Synthetic (probe) calls are left out, as analytics leave
// them out.
func (s *Service) ObserveCalls(ctx context.Context, recs []calllog.Record) error {
	now := s.now()
	var errs []error
	for _, q := range s.Queues() {
		byRule := map[int][]string{}
		for _, rec := range recs {
			if rec.Synthetic {
				continue
			}
			if i, ok := q.MatchCall(rec); ok {
				byRule[i] = append(byRule[i], rec.ID)
			}
		}
		for i, ids := range byRule {
			if _, err := s.Store.AddReviewItems(ctx, q.Name, ids, RuleName(i), now); err != nil {
				errs = append(errs, fmt.Errorf("adding calls to review queue %q: %w", q.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ObserveFeedback adds the call a piece of feedback is about to the queues
// whose rules on feedback match it.
func (s *Service) ObserveFeedback(ctx context.Context, f feedback.Feedback) error {
	if f.RequestID == "" {
		return nil
	}
	now := s.now()
	var errs []error
	for _, q := range s.Queues() {
		if i, ok := q.MatchFeedback(f); ok {
			if _, err := s.Store.AddReviewItems(ctx, q.Name, []string{f.RequestID}, RuleName(i), now); err != nil {
				errs = append(errs, fmt.Errorf("adding call %q to review queue %q: %w", f.RequestID, q.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Add adds calls to a queue by hand; it returns how many were new to it.
func (s *Service) Add(ctx context.Context, q *Queue, callIDs []string, by string) (int, error) {
	return s.Store.AddReviewItems(ctx, q.Name, callIDs, by, s.now())
}

// Next locks the next item for reviewer: the one they already hold, or the
// oldest free one assigned to them or to no one (items assigned to them
// first) that they have not reviewed.
func (s *Service) Next(ctx context.Context, q *Queue, reviewer string) (Item, error) {
	return s.Store.NextReviewItem(ctx, q.Name, reviewer, s.now(), q.LeaseDuration())
}

// Item returns one item of a queue.
func (s *Service) Item(ctx context.Context, q *Queue, id string) (Item, error) {
	return s.Store.ReviewItem(ctx, q.Name, id, s.now())
}

// Items lists a queue's items, oldest first.
func (s *Service) Items(ctx context.Context, q *Queue, f ItemFilter) (ItemPage, error) {
	return s.Store.ListReviewItems(ctx, q.Name, f, s.now())
}

// Assign offers an item to assignee only ("" offers it to everyone again).
func (s *Service) Assign(ctx context.Context, q *Queue, id, assignee string) (Item, error) {
	return s.Store.AssignReviewItem(ctx, q.Name, id, assignee, s.now())
}

// Input is a reviewer's verdict: a score per dimension (at least one) and
// an optional comment.
type Input struct {
	Scores  map[string]feedback.Value `json:"scores"`
	Comment string                    `json:"comment,omitempty"`
}

// Complete records reviewer's scores on an item they hold. Each score is
// stored as feedback on the call (source reviewer, author the reviewer)
// before the item is marked, so that a failure leaves the item held and
// the reviewer can post again: feedback ids are derived from the item,
// reviewer and dimension, so posting again updates rather than adds.
func (s *Service) Complete(ctx context.Context, q *Queue, id, reviewer string, in Input) (Item, error) {
	if len(in.Scores) == 0 {
		return Item{}, &InvalidError{"scores", "give at least one score, by dimension: " + strings.Join(q.Dimensions, ", ")}
	}
	cfg := s.Config()
	names := make([]string, 0, len(in.Scores))
	for name := range in.Scores {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := in.Scores[name]
		if !slices.Contains(q.Dimensions, name) {
			return Item{}, &InvalidError{"scores." + name, fmt.Sprintf("is not a dimension of queue %q (%s)", q.Name, strings.Join(q.Dimensions, ", "))}
		}
		probe := feedback.Input{RequestID: "x", Name: name, Value: &v, Comment: in.Comment}
		if err := feedback.Validate(&probe); err != nil {
			var ie *feedback.InvalidError
			if errors.As(err, &ie) && ie.Field == "comment" {
				return Item{}, &InvalidError{"comment", ie.Msg}
			}
			return Item{}, &InvalidError{"scores." + name, strings.TrimPrefix(err.Error(), "value: ")}
		}
		if def, ok := cfg.FindScore(name); ok {
			if err := feedback.CheckScore(def, v); err != nil {
				return Item{}, &InvalidError{"scores." + name, err.Error()}
			}
		}
	}
	it, err := s.held(ctx, q, id, reviewer)
	if err != nil {
		return Item{}, err
	}
	call, err := s.Calls.CallSummary(ctx, it.CallID)
	if err != nil {
		return Item{}, fmt.Errorf("reading call %q of item %q: %w", it.CallID, id, err)
	}
	now := s.now()
	for _, name := range names {
		v := in.Scores[name]
		var def *config.Score
		if d, ok := cfg.FindScore(name); ok {
			def = &d
		}
		f := feedback.Feedback{
			ID: FeedbackID(id, reviewer, name), RequestID: it.CallID, Consumer: call.Consumer, Name: name,
			Value: v, Comment: in.Comment, CreatedAt: now, UpdatedAt: now,
			Source: feedback.SourceReviewer, Author: reviewer, Polarity: feedback.ScorePolarity(def, v), Call: call,
		}
		if _, _, err := s.Feedback.UpsertFeedback(ctx, f); err != nil {
			return Item{}, fmt.Errorf("storing score %q of item %q: %w", name, id, err)
		}
	}
	return s.Store.FinishReviewItem(ctx, q.Name, id, Review{
		ItemID: id, Reviewer: reviewer, Outcome: OutcomeCompleted, Scores: in.Scores, Comment: in.Comment, At: now,
	}, q.Required())
}

// Skip sets aside an item reviewer holds: it leaves the queue's work as
// skipped (unreviewable, off-topic), with the reviewer's comment, and
// keeps the reviews it already had.
func (s *Service) Skip(ctx context.Context, q *Queue, id, reviewer, comment string) (Item, error) {
	if len(comment) > feedback.MaxCommentBytes {
		return Item{}, &InvalidError{"comment", fmt.Sprintf("must be at most %d bytes", feedback.MaxCommentBytes)}
	}
	if _, err := s.held(ctx, q, id, reviewer); err != nil {
		return Item{}, err
	}
	return s.Store.FinishReviewItem(ctx, q.Name, id, Review{
		ItemID: id, Reviewer: reviewer, Outcome: OutcomeSkipped, Comment: comment, At: s.now(),
	}, q.Required())
}

// held returns the item if reviewer holds it.
func (s *Service) held(ctx context.Context, q *Queue, id, reviewer string) (Item, error) {
	it, err := s.Store.ReviewItem(ctx, q.Name, id, s.now())
	if err != nil {
		return Item{}, err
	}
	switch {
	case it.State == StateCompleted || it.State == StateSkipped:
		return Item{}, ErrDone
	case it.LockedBy != reviewer:
		return Item{}, ErrNotHeld
	}
	return it, nil
}

// Status is a queue with its progress and its reviewers' agreement.
type Status struct {
	config.ReviewQueue
	Progress  Progress    `json:"progress"`
	Agreement []Agreement `json:"agreement"`
}

// Status reports a queue's progress and, with reviews_per_item of 2 or
// more, its agreement.
func (s *Service) Status(ctx context.Context, q *Queue, withAgreement bool) (Status, error) {
	p, err := s.Store.ReviewProgress(ctx, q.Name, s.now())
	if err != nil {
		return Status{}, err
	}
	st := Status{ReviewQueue: q.ReviewQueue, Progress: p, Agreement: []Agreement{}}
	if withAgreement && q.Required() > 1 {
		rs, err := s.Store.QueueReviews(ctx, q.Name)
		if err != nil {
			return Status{}, err
		}
		st.Agreement = Agree(rs, q.Dimensions, q.Required())
	}
	return st, nil
}

// FeedbackID is the id of the feedback a reviewer's score on an item is
// stored under: the same for the same item, reviewer and dimension.
func FeedbackID(item, reviewer, dimension string) string {
	sum := sha256.Sum256([]byte(item + "\x00" + reviewer + "\x00" + dimension))
	return "rv_" + hex.EncodeToString(sum[:12])
}
