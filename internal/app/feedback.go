package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// newFeedback builds the feedback service both planes post through, with
// the score definitions of the configuration in service. Observers
// (triage, review queues) append themselves to a.feedback.Observers.
func (a *App) newFeedback() *feedback.Service {
	a.feedback = &feedback.Service{
		Store:   feedbackStore{a.db},
		Calls:   callOwners{a.db},
		Pending: pendingFunc(func(id string) (calllog.CallSummary, bool) { return a.rec.Pending(id) }),
		Pages:   pageFeedbackStore{a.db},
		Scores: func() []config.Score {
			cfg, _ := a.current()
			return cfg.Scores
		},
		Logger: a.log,
	}
	a.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "hypergate_feedback_observer_errors_total",
		Help: "Errors feedback observers (triage, review queues) returned; the feedback itself was stored.",
	}, func() float64 { return float64(a.feedback.ObserverErrors()) }))
	return a.feedback
}

type pageFeedbackStore struct{ db *store.DB }

func (p pageFeedbackStore) UpsertPageFeedback(ctx context.Context, f feedback.PageFeedback) (feedback.PageFeedback, bool, error) {
	out, created, err := p.db.UpsertPageFeedback(ctx, f)
	if errors.Is(err, store.ErrConflict) {
		return out, created, feedback.ErrConflict
	}
	return out, created, err
}

// feedbackAdmin is the feedback side of the admin API: the same service as
// the data plane, and publishable keys put in service as they change.
type feedbackAdmin struct{ a *App }

func (f feedbackAdmin) SubmitAs(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.Feedback, bool, error) {
	return f.a.feedback.SubmitAs(ctx, by, in)
}

func (f feedbackAdmin) CreatePublishableKey(ctx context.Context, consumer, name string, origins []string) (feedback.PublishableKey, string, error) {
	k, secret := feedback.NewPublishableKey(consumer, name, origins)
	if err := f.a.db.CreatePublishableKey(ctx, k); err != nil {
		return feedback.PublishableKey{}, "", fmt.Errorf("storing publishable key: %w", err)
	}
	if err := f.a.reloadKeys(ctx); err != nil {
		return feedback.PublishableKey{}, "", err
	}
	return k, secret, nil
}

func (f feedbackAdmin) ListPublishableKeys(ctx context.Context, consumer string) ([]feedback.PublishableKey, error) {
	return f.a.db.ListPublishableKeys(ctx, consumer)
}

func (f feedbackAdmin) GetPublishableKey(ctx context.Context, id string) (feedback.PublishableKey, error) {
	return f.a.db.GetPublishableKey(ctx, id)
}

func (f feedbackAdmin) RevokePublishableKey(ctx context.Context, id string) error {
	if err := f.a.db.RevokePublishableKey(ctx, id); err != nil {
		return err
	}
	return f.a.reloadKeys(ctx)
}

func (f feedbackAdmin) ListPageFeedback(ctx context.Context, page string, consumers []string, limit int) (store.PageFeedbackPage, error) {
	return f.a.db.ListPageFeedback(ctx, page, consumers, limit)
}
