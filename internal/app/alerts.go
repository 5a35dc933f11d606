package app

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/store"
)

// alerting evaluates the configuration's alert rules and sends their
// notifications. It follows the configuration lazily: before each
// evaluation and each read of the states, it takes the current revision
// if it has changed, so that Apply and sync need not know about it.
type alerting struct {
	a      *App
	ev     *alert.Evaluator
	sender *alert.Sender

	mu  sync.Mutex
	rev int64 // the revision the evaluator has; -1 before the first
}

// newAlerting builds the evaluator over the store's rollups and the call
// log's counters, and registers the notification counters.
func (a *App) newAlerting() *alerting {
	sender := alert.NewSender(alert.SenderOptions{Logger: a.log})
	al := &alerting{a: a, sender: sender, rev: -1,
		ev: alert.New(alert.Options{Reader: a.db, Store: a.db, CallLog: a.rec.Stats, Sender: sender, Logger: a.log,
			CallsURL: strings.TrimSuffix(a.s.AdminURL, "/") + "/admin/v1/calls"})}
	for outcome, f := range map[string]func(alert.SenderStats) int64{
		"delivered": func(s alert.SenderStats) int64 { return s.Delivered },
		"failed":    func(s alert.SenderStats) int64 { return s.Failed },
		"dropped":   func(s alert.SenderStats) int64 { return s.Dropped },
		"retried":   func(s alert.SenderStats) int64 { return s.Retries },
	} {
		a.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hypergate_alert_notifications_total", Help: "Alert notifications by outcome (retried counts retry attempts).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(f(sender.Stats())) }))
	}
	return al
}

// follow gives the evaluator the current configuration if it changed.
func (al *alerting) follow() {
	cfg, rev := al.a.current()
	al.mu.Lock()
	defer al.mu.Unlock()
	if rev == al.rev {
		return
	}
	al.rev = rev
	if err := al.ev.SetConfig(cfg); err != nil {
		al.a.log.Error("alert notifiers left out", "revision", rev, "error", err)
	}
}

// run evaluates the rules every interval until ctx is done.
func (al *alerting) run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = alert.DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			al.follow()
			if err := al.ev.Evaluate(ctx); err != nil && ctx.Err() == nil {
				al.a.log.Error("alert evaluation failed", "error", err)
			}
		}
	}
}

// close waits a short while for queued notifications.
func (al *alerting) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	al.sender.Close(ctx)
}

// alertsView is what the admin API reads: the states, the history and
// the silences.
type alertsView struct {
	*store.DB
	al *alerting
}

func (v alertsView) Status() []alert.RuleStatus {
	v.al.follow()
	return v.al.ev.Status()
}
