package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/status"
)

// statusPage is the public status: the page on the data plane, the timer
// that computes the services' levels, the operators' incidents and the
// subscribers' webhooks.
type statusPage struct {
	page     *status.Page
	monitor  *status.Monitor
	service  *status.Service
	notifier *status.Notifier
	serve    fasthttp.RequestHandler
	interval time.Duration
}

// statusFromEnv fills the status settings the caller left unset from the
// environment, then the defaults.
func (s *Settings) statusFromEnv() error {
	durs := []struct {
		dst *time.Duration
		env string
		def time.Duration
	}{
		{&s.StatusInterval, "HYPERGATE_STATUS_INTERVAL", status.DefaultInterval},
		{&s.StatusCacheTTL, "HYPERGATE_STATUS_CACHE_TTL", status.DefaultTTL},
	}
	for _, d := range durs {
		if *d.dst != 0 {
			continue
		}
		*d.dst = d.def
		if v := os.Getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 {
				return fmt.Errorf("%s=%q: want a positive duration like 30s", d.env, v)
			}
			*d.dst = x
		}
	}
	return nil
}

// statusServices lists the services the page shows: those the status
// section names, in its order, or every service not retired.
func statusServices(cfg *config.Config) []status.PageService {
	var out []status.PageService
	if cfg == nil {
		return out
	}
	byName := make(map[string]config.Service, len(cfg.Services))
	for _, s := range cfg.Services {
		byName[s.Name] = s
	}
	names := []string{}
	if cfg.Status != nil && cfg.Status.Services != nil {
		names = cfg.Status.Services
	} else {
		for _, s := range cfg.Services {
			names = append(names, s.Name)
		}
	}
	for _, n := range names {
		if s, ok := byName[n]; ok && s.State != config.StateRetired {
			out = append(out, status.PageService{Name: s.Name, Description: s.Description})
		}
	}
	return out
}

// newStatus builds the status page and its parts. What it shows and how
// it judges is read from the configuration's status section each time.
func (a *App) newStatus() (*statusPage, error) {
	if err := a.s.statusFromEnv(); err != nil {
		return nil, err
	}
	services := func() []status.PageService {
		cfg, _ := a.current()
		return statusServices(cfg)
	}
	section := func() *config.StatusPage {
		cfg, _ := a.current()
		if cfg == nil {
			return nil
		}
		return cfg.Status
	}
	thresholds := func() status.Thresholds { return status.ThresholdsOf(section()) }
	title := func() string {
		if s := section(); s != nil {
			return s.Title
		}
		return ""
	}
	sp := &statusPage{interval: a.s.StatusInterval}
	sp.notifier = status.NewNotifier(status.NotifierOptions{Subscribers: a.db.ListStatusSubscribers, Logger: a.log})
	sp.page = &status.Page{Store: a.db, Releases: a.db, Services: services, Thresholds: thresholds,
		Title: title, TTL: a.s.StatusCacheTTL, Logger: a.log}
	sp.monitor = &status.Monitor{Store: a.db, Triage: a.db, Services: services, Thresholds: thresholds,
		Notify: sp.notifier.Send, Logger: a.log}
	sp.service = &status.Service{Store: a.db, Services: services, Notify: sp.notifier.Send, Changed: func() {
		// An operator's incident changes the levels at once, not at the
		// next tick, and shows on the page at once.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := sp.monitor.Tick(ctx); err != nil {
			a.log.Warn("computing service status after an incident update", "error", err)
		}
		sp.page.Invalidate()
	}}
	sp.serve = fasthttpadaptor.NewFastHTTPHandler(sp.page)
	return sp, nil
}

// wrap serves /status, /status.json and /status/style.css on the data
// plane in front of the gateway, with an X-Request-Id as on every
// data-plane answer; the page is not a call, so it is not recorded.
func (sp *statusPage) wrap(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/status", "/status.json", "/status/style.css":
			ctx.Response.Header.Set("X-Request-Id", newStatusRequestID(ctx))
			sp.serve(ctx)
		default:
			next(ctx)
		}
	}
}

// newStatusRequestID keeps a client's request id when it gives one that
// looks sane, as the gateway does, and makes one otherwise.
func newStatusRequestID(ctx *fasthttp.RequestCtx) string {
	if id := ctx.Request.Header.Peek("X-Request-Id"); len(id) > 0 && len(id) <= 128 {
		ok := true
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return string(id)
		}
	}
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// run computes the levels on the timer until ctx is done.
func (sp *statusPage) run(ctx context.Context) {
	sp.monitor.Run(ctx, sp.interval)
}

// close waits a little for the webhooks being sent.
func (sp *statusPage) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sp.notifier.Close(ctx)
}
