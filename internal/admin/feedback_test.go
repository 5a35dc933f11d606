package admin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// oasFeedback is the feedback behind the admin fixture: the real feedback
// service over the fixture's calls and an in-memory store, with the
// fixture's score definitions.
type oasFeedback struct {
	svc *feedback.Service
	db  *store.DB
}

func newOASFeedback(t *testing.T, db *store.DB, calls *oasCalls) *oasFeedback {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	one, five := 1.0, 5.0
	scores := []config.Score{{Name: "rating", Type: config.ScoreNumeric, Min: &one, Max: &five}}
	f := &oasFeedback{db: db, svc: &feedback.Service{Store: oasFeedbackStore{db}, Calls: oasCallSummaries{calls},
		Pages: db, Scores: func() []config.Score { return scores }, Now: func() time.Time { return at }}}
	k, _ := feedback.NewPublishableKey("web-shop", "widget", []string{"https://shop.example.com"})
	k.ID = "pk_id_fixture"
	if err := db.CreatePublishableKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UpsertPageFeedback(t.Context(), feedback.PageFeedback{ID: "pf_1", Page: "/portal/services/orders-api", Consumer: "web-shop",
		Name: "helpful", Value: feedback.BoolValue(false), Comment: "the example is outdated", Source: feedback.SourceUser, Author: "pk_id_fixture",
		Polarity: feedback.PolarityNegative, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *oasFeedback) SubmitAs(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.Feedback, bool, error) {
	return f.svc.SubmitAs(ctx, by, in)
}

func (f *oasFeedback) CreatePublishableKey(ctx context.Context, consumer, name string, origins []string) (feedback.PublishableKey, string, error) {
	k, secret := feedback.NewPublishableKey(consumer, name, origins)
	return k, secret, f.db.CreatePublishableKey(ctx, k)
}

func (f *oasFeedback) ListPublishableKeys(ctx context.Context, consumer string) ([]feedback.PublishableKey, error) {
	return f.db.ListPublishableKeys(ctx, consumer)
}

func (f *oasFeedback) GetPublishableKey(ctx context.Context, id string) (feedback.PublishableKey, error) {
	return f.db.GetPublishableKey(ctx, id)
}

func (f *oasFeedback) RevokePublishableKey(ctx context.Context, id string) error {
	return f.db.RevokePublishableKey(ctx, id)
}

func (f *oasFeedback) ListPageFeedback(ctx context.Context, page string, consumers []string, limit int) (store.PageFeedbackPage, error) {
	return f.db.ListPageFeedback(ctx, page, consumers, limit)
}

type oasFeedbackStore struct{ db *store.DB }

func (s oasFeedbackStore) UpsertFeedback(ctx context.Context, f feedback.Feedback) (feedback.Feedback, bool, error) {
	out, created, err := s.db.UpsertFeedback(ctx, f)
	if errors.Is(err, store.ErrConflict) {
		return out, created, feedback.ErrConflict
	}
	return out, created, err
}

type oasCallSummaries struct{ c *oasCalls }

func (s oasCallSummaries) CallSummary(_ context.Context, id string) (calllog.CallSummary, bool, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for i := range s.c.records {
		if s.c.records[i].ID == id {
			return calllog.SummaryOf(&s.c.records[i]), true, nil
		}
	}
	return calllog.CallSummary{}, false, nil
}
