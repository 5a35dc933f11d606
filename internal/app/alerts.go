package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
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
// log's counters, and registers the notification counters and the gauges
// of the states. The states are kept in the store, and a lease there lets
// one node of those sharing it evaluate and notify.
func (a *App) newAlerting() *alerting {
	sender := alert.NewSender(alert.SenderOptions{Logger: a.log})
	interval := a.s.AlertInterval
	if interval <= 0 {
		interval = alert.DefaultInterval
	}
	al := &alerting{a: a, sender: sender, rev: -1,
		ev: alert.New(alert.Options{Reader: a.db, Store: a.db, CallLog: a.rec.Stats, Sender: sender, Logger: a.log,
			CallsURL: strings.TrimSuffix(a.s.AdminURL, "/") + "/admin/v1/calls",
			States:   a.db, Leases: a.db, Probes: a.db, Holder: nodeID(), LeaseTTL: 3 * interval})}
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
	a.metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hypergate_alert_leader",
		Help: "1 on the node that evaluates the alert rules and notifies (it holds the lease), 0 on the others.",
	}, func() float64 {
		if al.ev.Leader() {
			return 1
		}
		return 0
	}), alertGroups{al})
	return al
}

// nodeID names this node in the alert lease: the host, for operators, and
// a random suffix, since two processes may share a host.
func nodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [4]byte
	rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// alertGroupsDesc describes hypergate_alert_groups. Every node reports the
// states the evaluating node stored, so a dashboard takes the max across
// nodes, not the sum.
var alertGroupsDesc = prometheus.NewDesc("hypergate_alert_groups",
	"Alert groups by rule and state (ok, pending, firing, resolved); every node shows the evaluating node's states.",
	[]string{"rule", "state"}, nil)

// alertGroups exports the number of groups per rule and state, read from
// the evaluator at scrape time. Every state of every rule has its series,
// zero included, so that a firing count drops to 0 rather than vanishing.
type alertGroups struct{ al *alerting }

func (c alertGroups) Describe(ch chan<- *prometheus.Desc) { ch <- alertGroupsDesc }

func (c alertGroups) Collect(ch chan<- prometheus.Metric) {
	c.al.follow()
	for _, rs := range c.al.ev.Status() {
		n := map[alert.State]int{}
		for _, g := range rs.Groups {
			n[g.State]++
		}
		for _, st := range []alert.State{alert.StateOK, alert.StatePending, alert.StateFiring, alert.StateResolved} {
			ch <- prometheus.MustNewConstMetric(alertGroupsDesc, prometheus.GaugeValue, float64(n[st]), rs.Rule.Name, string(st))
		}
	}
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

// run evaluates the rules every interval until ctx is done, the first
// time at once: the node takes the lease if it is free and shows the
// stored states without waiting an interval. On a node without the lease,
// evaluating reads the evaluating node's states.
func (al *alerting) run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = alert.DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		al.follow()
		if err := al.ev.Evaluate(ctx); err != nil && ctx.Err() == nil {
			al.a.log.Error("alert evaluation failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close gives up the lease, so that another node takes the evaluation over
// at its next interval, and waits a short while for queued notifications.
func (al *alerting) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := al.ev.Release(ctx); err != nil {
		al.a.log.Warn("releasing the alert evaluation lease", "error", err)
	}
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
