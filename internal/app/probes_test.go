package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/probe"
)

// TestProbes runs a model probe and a route probe through the gateway:
// both pass, then fail once their upstreams break, which fires an alert
// on probe failures per probe; their calls are recorded as synthetic, left
// out of analytics, and a client cannot have its own calls marked
// synthetic.
func TestProbes(t *testing.T) {
	e := start(t, func(s *app.Settings) { s.AlertInterval = 100 * time.Millisecond })
	rt := newRESTTarget(t, "orders")
	e.apply(restConfig(e, []string{"orders"}, fmt.Sprintf(`  - name: orders
    upstream: { targets: [ { url: "%s/base/" } ] }
    routes:
      - { name: list, path: /orders, methods: [GET] }
probes:
  - name: chat
    model: gpt-4o-mini
    consumer: shop
    interval: 5s
    timeout: 4s
    assert:
      json: [ { path: choices.0.message.role, equals: assistant } ]
  - name: orders
    path: /orders?probe=1
    consumer: shop
    interval: 5s
    assert: { status: [200], json: [ { path: method, equals: GET } ] }
alerts:
  - { name: probe-down, metric: probe_failures, group_by: [probe], window: 1m, threshold: { critical: 0 } }
`, rt.URL())))

	// A client's attempt at forging the marker: a probe-like id and
	// headers that look like a probe's.
	id := "probe-FORGEDFORGEDFORGEDFORGED"
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, chatBody,
		"X-Request-Id", id, "User-Agent", "hypergate-probe/chat", "X-Hypergate-Probe", "chat", "X-Hypergate-Synthetic", "true")
	if resp.StatusCode != 200 {
		t.Fatalf("client call: %d %s", resp.StatusCode, body)
	}
	if rec := e.call(id); rec.Synthetic || rec.Probe != "" {
		t.Fatalf("a client call was recorded as synthetic: %+v", rec)
	}

	waitProbe(t, e, func(st []probe.Status) bool { return lastPass(st, "chat", true) && lastPass(st, "orders", true) })
	probeAlerts := func() map[string]alert.State {
		var states struct{ Data []alert.RuleStatus }
		if st := e.adminDo("GET", "/admin/v1/alerts", "", &states); st != 200 || len(states.Data) != 1 {
			t.Fatalf("GET /admin/v1/alerts: %d %+v", st, states)
		}
		out := map[string]alert.State{}
		for _, g := range states.Data[0].Groups {
			out[g.Labels["probe"]] = g.State
		}
		return out
	}
	// Records reach the store a moment after each run; the rule then sees
	// passing runs only.
	waitFor(t, "the probe alert to see both probes pass", func() bool {
		st := probeAlerts()
		return st["chat"] == alert.StateOK && st["orders"] == alert.StateOK
	})

	e.up.Fail("gpt-4o-mini-2024-07-18", 500)
	rt.status.Store(http.StatusServiceUnavailable)
	st := waitProbe(t, e, func(st []probe.Status) bool { return lastPass(st, "chat", false) && lastPass(st, "orders", false) })
	for _, s := range st {
		if f := s.Results[0].Failure; f == nil || f.Assertion != "status" {
			t.Errorf("probe %s failed with %+v, want the status assertion", s.Name, f)
		}
	}
	waitFor(t, "the probe alert to fire for both probes", func() bool {
		st := probeAlerts()
		return st["chat"] == alert.StateFiring && st["orders"] == alert.StateFiring
	})

	// Every probe call is in the call log, marked synthetic, made as the
	// probe's consumer; the failed ones say which assertion failed.
	ctx := context.Background()
	for _, name := range []string{"chat", "orders"} {
		var failed *calllog.Record
		for _, r := range st[indexOf(st, name)].Results {
			rec := e.call(r.RequestID)
			if !rec.Synthetic || rec.Probe != name || rec.Consumer != "shop" {
				t.Errorf("probe %s call %s recorded as %+v", name, r.RequestID, rec)
			}
			if !r.Pass && failed == nil {
				failed = &rec
			}
		}
		if failed == nil || failed.ErrorType != probe.ErrorAssertion || !strings.Contains(failed.ErrorMessage, "status: ") {
			t.Errorf("probe %s: failed run recorded as %+v", name, failed)
		}
	}
	page, err := e.app.Store().ListCalls(ctx, calllog.Filter{Synthetic: new(bool)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 1 || page.Calls[0].ID != id {
		t.Errorf("the client's calls (synthetic=false) are %+v, want the one call %s", page.Calls, id)
	}

	// Analytics count the client's call only.
	rows, err := e.app.Store().ReadRollups(ctx, analytics.Selection{Resolution: analytics.Minute,
		From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var requests int64
	for _, r := range rows {
		requests += r.Requests
	}
	if requests != 1 {
		t.Errorf("rollups count %d requests, want 1 (the client's): probe calls must be left out", requests)
	}
}

func waitProbe(t *testing.T, e *env, ok func([]probe.Status) bool) []probe.Status {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		var out struct{ Data []probe.Status }
		if st := e.adminDo("GET", "/admin/v1/probes", "", &out); st != 200 {
			t.Fatalf("GET /admin/v1/probes: %d", st)
		}
		if ok(out.Data) {
			return out.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("probes never reached the expected state: %+v", out.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func indexOf(st []probe.Status, name string) int {
	for i, s := range st {
		if s.Name == name {
			return i
		}
	}
	return -1
}

func lastPass(st []probe.Status, name string, pass bool) bool {
	i := indexOf(st, name)
	return i >= 0 && len(st[i].Results) > 0 && st[i].Results[0].Pass == pass
}

// waitFor polls ok until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
