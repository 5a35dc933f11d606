package app

import (
	"context"
	"log/slog"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/store"
)

// newReview builds the review queues of the configuration in service. They
// observe feedback (rules on feedback add calls as it arrives) and, once
// registered with the call pipeline, calls (rules on calls).
func (a *App) newReview(fb *feedback.Service) *review.Service {
	rq := &review.Service{
		Store:    a.db,
		Feedback: reviewerFeedback{db: a.db, fb: fb, log: a.log},
		Calls:    a.db,
		Config: func() *config.Config {
			cfg, _ := a.current()
			return cfg
		},
		Logger: a.log,
	}
	fb.Observers = append(fb.Observers, rq)
	return rq
}

// reviewerFeedback stores reviewers' scores as feedback and shows them to
// the feedback observers, as feedback posted to the data plane is: a
// reviewer's "incorrect" counts in triage like a user's thumbs-down.
type reviewerFeedback struct {
	db  *store.DB
	fb  *feedback.Service
	log *slog.Logger
}

func (r reviewerFeedback) UpsertFeedback(ctx context.Context, f feedback.Feedback) (feedback.Feedback, bool, error) {
	stored, created, err := r.db.UpsertFeedback(ctx, f)
	if err != nil {
		return stored, created, err
	}
	for _, o := range r.fb.Observers {
		if err := o.ObserveFeedback(ctx, stored); err != nil {
			if r.log != nil {
				r.log.Error("feedback observer failed on a reviewer's score", "feedback", stored.ID, "request_id", stored.RequestID, "error", err)
			}
		}
	}
	return stored, created, nil
}
