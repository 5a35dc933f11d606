package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/hypercare"
)

// hypercareLease elects the node that stores and sends the daily reports.
const hypercareLease = "hypercare-reports"

// hypercareReports is the daily job: at each active window's report hour
// it stores the window's report and sends it to the window's notifiers.
// The lease keeps the work on one node; the store's one report per window
// and day keeps it once even if two nodes overlap, since only the node
// whose insert won sends.
type hypercareReports struct {
	a      *App
	holder string
	client *http.Client
	now    func() time.Time
}

func (a *App) newHypercareReports() *hypercareReports {
	return &hypercareReports{a: a, holder: nodeID(), now: time.Now,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// run checks every interval whether a report is due, the first time at
// once, so that a node started after the report hour catches up.
func (h *hypercareReports) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h.tick(ctx, 3*interval)
		select {
		case <-ctx.Done():
			_ = h.a.db.ReleaseLease(context.WithoutCancel(ctx), hypercareLease, h.holder)
			return
		case <-t.C:
		}
	}
}

// tick stores and sends the reports due, if this node holds the lease.
func (h *hypercareReports) tick(ctx context.Context, ttl time.Duration) {
	cfg, _ := h.a.current()
	if len(cfg.Hypercare) == 0 {
		return
	}
	now := h.now().UTC()
	if ok, err := h.a.db.AcquireLease(ctx, hypercareLease, h.holder, ttl, now); err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			h.a.log.Error("hypercare reports: taking the lease", "error", err)
		}
		return
	}
	for _, w := range cfg.Hypercare {
		if err := h.report(ctx, cfg, w, now); err != nil && ctx.Err() == nil {
			h.a.log.Error("hypercare daily report failed", "window", w.Name, "error", err)
		}
	}
}

// due is the report time of the day of now, and whether a window's daily
// report is due then: the hour has come and the window is open (the report
// on the day it ends, before its end, is its last).
func due(w config.Hypercare, now time.Time) (time.Time, bool) {
	day := now.Truncate(hypercare.Day)
	at := day.Add(time.Duration(w.EffectiveReportHour()) * time.Hour)
	return at, !now.Before(at) && !at.Before(w.Start) && at.Before(w.End().Add(hypercare.Day))
}

// report stores the window's report of today if due and not stored yet,
// and sends it when this call stored it.
func (h *hypercareReports) report(ctx context.Context, cfg *config.Config, w config.Hypercare, now time.Time) error {
	at, ok := due(w, now)
	if !ok {
		return nil
	}
	day := at.Format("2006-01-02")
	prev, err := h.a.db.ListHypercareReports(ctx, w.Name, 1)
	if err != nil {
		return err
	}
	if len(prev) > 0 && prev[0].Day >= day {
		return nil
	}
	rep, err := hypercare.Build(ctx, h.a.db, w, at, hypercare.Options{})
	if err != nil {
		return err
	}
	stored, err := h.a.db.SaveHypercareReport(ctx, hypercare.Stored(rep, now))
	if err != nil || !stored || len(w.Notify) == 0 {
		return err
	}
	targets, err := hypercare.ResolveNotifiers(cfg)
	if err != nil {
		h.a.log.Error("hypercare notifiers left out", "error", err)
	}
	link := strings.TrimSuffix(h.a.s.AdminURL, "/") + "/admin/v1/hypercare/" + url.PathEscape(w.Name) + "/report?format=html&at=" +
		url.QueryEscape(at.Format(time.RFC3339))
	for _, name := range w.Notify {
		n, ok := targets[name]
		if !ok {
			h.a.log.Error("hypercare report not sent: notifier unavailable", "window", w.Name, "notifier", name)
			continue
		}
		if err := hypercare.Send(ctx, h.client, n, rep, link, 3); err != nil {
			h.a.log.Error("hypercare report not sent", "window", w.Name, "notifier", name, "error", err)
		}
	}
	return nil
}

// hypercareInterval is how often the job looks for due reports: often
// enough to send within minutes of the hour, rarely enough to cost nothing.
var hypercareInterval = time.Minute
