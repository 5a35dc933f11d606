package app

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/triage"
)

// triaging groups failures, anomalies and negative feedback into
// incidents (internal/triage): a call observer of the pipeline and a
// feedback observer. It follows the configuration lazily, as alerting
// does: before each batch it takes the triage section's severities and
// notifiers if the revision changed.
type triaging struct {
	a        *App
	t        *triage.Triage
	notifier *triage.Notifier

	mu  sync.Mutex
	rev int64 // the revision configured; -1 before the first
}

// newTriage builds the triage over the store, registers it as an
// observer of feedback (the call pipeline's registration is the
// caller's), and counts its notifications.
func (a *App) newTriage(fb *feedback.Service) *triaging {
	n := triage.NewNotifier(triage.NotifierOptions{Logger: a.log})
	tr := &triaging{a: a, notifier: n, rev: -1}
	var url func(string) string
	if base := strings.TrimSuffix(a.s.AdminURL, "/"); base != "" {
		url = func(id string) string { return base + "/admin/v1/incidents/" + id }
	}
	tr.t = triage.New(triage.Options{Store: a.db, Notifier: n, IncidentURL: url, Logger: a.log})
	tr.t.Start()
	fb.Observers = append(fb.Observers, tr)
	for outcome, f := range map[string]func(triage.NotifierStats) int64{
		"delivered": func(s triage.NotifierStats) int64 { return s.Delivered },
		"failed":    func(s triage.NotifierStats) int64 { return s.Failed },
		"dropped":   func(s triage.NotifierStats) int64 { return s.Dropped },
		"retried":   func(s triage.NotifierStats) int64 { return s.Retries },
	} {
		a.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hypergate_triage_notifications_total", Help: "Incident notifications (new and regressed incidents) by outcome (retried counts retry attempts).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(f(n.Stats())) }))
	}
	return tr
}

// follow configures the severities and notifiers of the current
// revision if it changed. A severity or notifier that does not resolve
// (a secret missing from the environment) is logged and left out; the
// configuration was validated, so that is all that can go wrong.
func (tr *triaging) follow() {
	cfg, rev := tr.a.current()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if rev == tr.rev {
		return
	}
	tr.rev = rev
	var sevs map[string]string
	var notify []string
	if cfg.Triage != nil {
		sevs, notify = cfg.Triage.Severity, cfg.Triage.Notify
	}
	sev, err := triage.NewSeverityTable(sevs)
	if err != nil {
		tr.a.log.Error("triage severities left at their defaults", "revision", rev, "error", err)
		sev = nil
	}
	targets, err := triage.Targets(cfg.Notifiers, notify)
	if err != nil {
		tr.a.log.Error("triage notifiers left out", "revision", rev, "error", err)
	}
	tr.t.Configure(sev, targets)
}

func (tr *triaging) ObserveCalls(ctx context.Context, recs []calllog.Record) error {
	tr.follow()
	return tr.t.ObserveCalls(ctx, recs)
}

func (tr *triaging) ObserveFeedback(ctx context.Context, f feedback.Feedback) error {
	tr.follow()
	return tr.t.ObserveFeedback(ctx, f)
}

// close writes the queued feedback and waits a short while for queued
// notifications. It runs after the call log is flushed, so that the last
// batches' incidents are announced.
func (tr *triaging) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tr.t.Close(ctx)
	tr.notifier.Close(ctx)
}
