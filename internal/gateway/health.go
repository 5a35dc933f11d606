package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// checker runs the active health checks of one REST service's targets: a
// goroutine that probes every target each interval.
type checker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// activate makes the running health checkers those of t: checkers of
// target sets t no longer has are stopped, those it has that are not
// running are started, and unchanged ones run on undisturbed. Targets of
// services without active checks are considered up. It is called when a
// snapshot is put in service.
func (rs *restState) activate(t *serviceTable, log *slog.Logger) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	want := map[string]*upstreamPool{}
	if t != nil {
		for _, p := range t.pools {
			if p.health != nil {
				want[p.healthKey] = p
			}
		}
	}
	for k, ch := range rs.checkers {
		if want[k] == nil {
			ch.cancel()
			delete(rs.checkers, k)
		}
	}
	if t != nil {
		for _, p := range t.pools {
			if p.health == nil {
				for _, tg := range p.targets {
					tg.st.down.Store(false)
				}
			}
		}
	}
	if len(want) == 0 {
		return
	}
	if rs.checkers == nil {
		rs.checkers = map[string]*checker{}
	}
	if rs.health == nil {
		rs.health = &fasthttp.Client{
			Name:                      "hypergate-health",
			MaxIdemponentCallAttempts: 1,
			MaxIdleConnDuration:       time.Second,
			MaxResponseBodySize:       64 << 10,
			DisablePathNormalizing:    true,
		}
	}
	for k, p := range want {
		if rs.checkers[k] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		ch := &checker{cancel: cancel, done: make(chan struct{})}
		rs.checkers[k] = ch
		go ch.run(ctx, p, rs.health, log)
	}
}

// stopAll stops every health checker and waits for them to end.
func (rs *restState) stopAll() {
	rs.mu.Lock()
	cs := rs.checkers
	rs.checkers = nil
	rs.mu.Unlock()
	for _, ch := range cs {
		ch.cancel()
	}
	for _, ch := range cs {
		<-ch.done
	}
}

// Close stops the gateway's background work: the active health checks of
// REST services. Serving requests afterwards still works, without active
// checks until the next snapshot is set.
func (g *Gateway) Close() {
	g.state.rest.stopAll()
}

// run probes the pool's targets at once, then every interval, until ctx
// ends.
func (ch *checker) run(ctx context.Context, p *upstreamPool, client *fasthttp.Client, log *slog.Logger) {
	defer close(ch.done)
	tick := time.NewTicker(time.Duration(p.health.Interval))
	defer tick.Stop()
	for {
		var wg sync.WaitGroup
		for _, t := range p.targets {
			wg.Go(func() { checkTarget(ctx, p, t, client, log) })
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkTarget probes one target: healthy on a 2xx or 3xx within the
// timeout. HealthyAfter passes in a row bring a target that is down back
// up; UnhealthyAfter failures in a row take it down.
func checkTarget(ctx context.Context, p *upstreamPool, t *upstreamTarget, client *fasthttp.Client, log *slog.Logger) {
	h := p.health
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(t.prefix + t.basePath + h.Path)
	req.Header.SetMethod(fasthttp.MethodGet)
	err := client.DoTimeout(req, resp, time.Duration(h.Timeout))
	ok := err == nil && resp.StatusCode() >= 200 && resp.StatusCode() < 400
	if ctx.Err() != nil {
		return // stopped: a newer configuration's checker decides now
	}
	st := t.st
	if ok {
		st.failRun.Store(0)
		if st.okRun.Add(1) >= int32(h.HealthyAfter) && st.down.Load() {
			st.down.Store(false)
			log.Info("upstream target healthy again", "service", p.service, "target", t.url)
		}
		return
	}
	st.okRun.Store(0)
	if st.failRun.Add(1) >= int32(h.UnhealthyAfter) && !st.down.Load() {
		st.down.Store(true)
		reason := "status " + statusLabel(resp.StatusCode())
		if err != nil {
			reason = err.Error()
		}
		log.Warn("upstream target unhealthy", "service", p.service, "target", t.url, "check", h.Path, "reason", reason)
	}
}
