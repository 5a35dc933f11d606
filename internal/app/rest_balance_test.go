package app_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// counts sends n requests and counts the targets that answered.
func (e *env) counts(method, path string, n int, hdr ...string) map[string]int {
	e.t.Helper()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		got[e.echo(method, path, shopKey, "", hdr...).Target]++
	}
	return got
}

func TestRESTBalancing(t *testing.T) {
	e := start(t)
	a, b, c := newRESTTarget(t, "a"), newRESTTarget(t, "b"), newRESTTarget(t, "c")
	services := func(hashTargets string) string {
		return fmt.Sprintf(`
  - name: rr
    upstream: { targets: [ { url: "%[1]s" }, { url: "%[2]s" }, { url: "%[3]s" } ] }
    routes: [ { path: /rr } ]
  - name: wt
    upstream: { balance: weighted, targets: [ { url: "%[1]s", weight: 3 }, { url: "%[2]s", weight: 1 }, { url: "%[3]s", weight: 0 } ] }
    routes: [ { path: /wt } ]
  - name: lc
    upstream: { balance: least_conn, targets: [ { url: "%[1]s" }, { url: "%[2]s" } ] }
    routes: [ { path: /lc } ]
  - name: hip
    upstream: { balance: hash, targets: [ { url: "%[1]s" }, { url: "%[2]s" }, { url: "%[3]s" } ] }
    routes: [ { path: /hip } ]
  - name: hh
    upstream: { balance: hash, hash_on: "header:X-User", targets: [ %[4]s ] }
    routes: [ { path: /hh } ]
`, a.URL(), b.URL(), c.URL(), hashTargets)
	}
	all := fmt.Sprintf(`{ url: "%s" }, { url: "%s" }, { url: "%s" }`, a.URL(), b.URL(), c.URL())
	subs := []string{"rr", "wt", "lc", "hip", "hh"}
	e.apply(restConfig(e, subs, services(all)))

	t.Run("round robin", func(t *testing.T) {
		got := e.counts("GET", "/rr", 30)
		if got["a"] != 10 || got["b"] != 10 || got["c"] != 10 {
			t.Fatalf("30 calls went %v; want 10 to each", got)
		}
	})
	t.Run("weighted", func(t *testing.T) {
		// Smooth weighted round robin is exact over a whole cycle, and a
		// target of weight 0 gets nothing.
		got := e.counts("GET", "/wt", 40)
		if got["a"] != 30 || got["b"] != 10 || got["c"] != 0 {
			t.Fatalf("40 calls at weights 3:1:0 went %v; want 30, 10, 0", got)
		}
		var seq []string
		for i := 0; i < 8; i++ {
			seq = append(seq, e.echo("GET", "/wt", shopKey, "").Target)
		}
		if s := strings.Join(seq, ""); strings.Contains(s, "aaaa") {
			t.Fatalf("sequence %s: weights should interleave, not run in blocks", s)
		}
	})
	t.Run("least connections", func(t *testing.T) {
		a.delay.Store(int64(150 * time.Millisecond))
		defer a.delay.Store(0)
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		deadline := time.Now().Add(600 * time.Millisecond)
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					resp, b, err := e.tryRESTDo("GET", "/lc", shopKey, "")
					if err != nil || resp.StatusCode != 200 {
						t.Errorf("GET /lc: %v %v %s", err, resp, b)
						return
					}
					mu.Lock()
					got[echoOf(t, resp, b).Target]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// The slow target holds its calls: it should get a few, the fast
		// one the rest (round robin would split them evenly).
		if got["a"] == 0 || got["b"] < 4*got["a"] {
			t.Fatalf("calls went %v; want the slow target a to get some, and b at least four times as many", got)
		}
	})
	t.Run("hash on client IP", func(t *testing.T) {
		if got := e.counts("GET", "/hip", 20); len(got) != 1 {
			t.Fatalf("one client's calls went %v; want one target", got)
		}
	})
	t.Run("hash on a header", func(t *testing.T) {
		where := map[string]string{}
		spread := map[string]int{}
		for u := 0; u < 200; u++ {
			user := fmt.Sprintf("user-%d", u)
			got := e.counts("GET", "/hh", 2, "X-User", user)
			if len(got) != 1 {
				t.Fatalf("%s went to %v; want one target", user, got)
			}
			for tg := range got {
				where[user] = tg
				spread[tg]++
			}
		}
		for _, n := range []string{"a", "b", "c"} {
			if spread[n] < 40 { // a third is 67; 40 is four standard deviations below
				t.Fatalf("200 users spread %v over the targets; want about a third each", spread)
			}
		}
		// Taking c away moves c's users only.
		e.apply(restConfig(e, subs, services(fmt.Sprintf(`{ url: "%s" }, { url: "%s" }`, a.URL(), b.URL()))))
		moved := 0
		for user, before := range where {
			now := e.echo("GET", "/hh", shopKey, "", "X-User", user).Target
			switch {
			case before == "c":
				moved++
			case now != before:
				t.Errorf("%s moved from %s to %s though its target stayed", user, before, now)
			}
		}
		if moved != spread["c"] {
			t.Fatalf("moved %d users, want c's %d", moved, spread["c"])
		}
	})
}

func TestRESTHealthChecks(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")
	e.apply(restConfig(e, []string{"hc"}, fmt.Sprintf(`
  - name: hc
    upstream:
      targets: [ { url: "%s" }, { url: "%s" } ]
      health: { path: /health, interval: 50ms, timeout: 40ms, healthy_after: 2, unhealthy_after: 2 }
    routes: [ { path: /hc } ]
`, a.URL(), b.URL())))
	if got := e.counts("GET", "/hc", 10); got["a"] != 5 || got["b"] != 5 {
		t.Fatalf("healthy targets got %v; want 5 each", got)
	}
	// waitFor polls until ten calls in a row match want, and says how long
	// that took.
	waitFor := func(what string, want func(map[string]int) bool) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 3*time.Second {
			if want(e.counts("GET", "/hc", 10)) {
				return time.Since(start)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: not within 3s", what)
		return 0
	}
	b.health.Store(500)
	d := waitFor("b marked down", func(m map[string]int) bool { return m["b"] == 0 })
	t.Logf("b marked down after %s", d)
	if n := b.hits.Load(); n == 0 {
		t.Fatal("b got no calls at all")
	}
	b.health.Store(0)
	d = waitFor("b back up", func(m map[string]int) bool { return m["b"] > 0 })
	t.Logf("b back up after %s", d)

	// Every target down: the gateway says so instead of trying them.
	a.health.Store(503)
	b.health.Store(503)
	start := time.Now()
	for {
		resp, body := e.restDo("GET", "/hc", shopKey, "")
		if resp.StatusCode == 503 && strings.Contains(string(body), "no_healthy_upstream") {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("with both targets failing checks: %d %s; want 503 no_healthy_upstream", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A configuration change that keeps the targets keeps what the checks
	// learnt: they are still down under the new revision.
	e.apply(restConfig(e, []string{"hc"}, fmt.Sprintf(`
  - name: hc
    upstream:
      timeout: 5s
      targets: [ { url: "%s" }, { url: "%s" } ]
      health: { path: /health, interval: 50ms, timeout: 40ms, healthy_after: 2, unhealthy_after: 2 }
    routes: [ { path: /hc }, { path: /hc2 } ]
`, a.URL(), b.URL())))
	if resp, body := e.restDo("GET", "/hc2", shopKey, ""); resp.StatusCode != 503 {
		t.Fatalf("after a reload: %d %s; want the targets still down", resp.StatusCode, body)
	}
}

func TestRESTPassiveEjection(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")
	e.apply(restConfig(e, []string{"ej"}, fmt.Sprintf(`
  - name: ej
    upstream:
      targets: [ { url: "%s" }, { url: "%s" } ]
      health: { eject_after: 2, eject_for: 400ms }
    routes: [ { path: /ej } ]
`, a.URL(), b.URL())))
	b.status.Store(500)
	failed := 0
	for i := 0; i < 4; i++ { // round robin: two calls reach b
		if resp, _ := e.restDo("GET", "/ej", shopKey, ""); resp.StatusCode == 500 {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("%d of 4 calls failed; want b's two", failed)
	}
	ejected := time.Now()
	if got := e.counts("GET", "/ej", 10); got["a"] != 10 {
		t.Fatalf("after two failures b should be out: calls went %v", got)
	}
	b.status.Store(0)
	time.Sleep(time.Until(ejected.Add(450 * time.Millisecond)))
	if got := e.counts("GET", "/ej", 10); got["b"] == 0 {
		t.Fatalf("b should be back after eject_for: calls went %v", got)
	}
}

func TestRESTRetries(t *testing.T) {
	e := start(t)
	a, b := newRESTTarget(t, "a"), newRESTTarget(t, "b")
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there any more: connections are refused
	e.apply(restConfig(e, []string{"busy", "gone"}, fmt.Sprintf(`
  - name: busy
    upstream: { retries: 1, targets: [ { url: "%[1]s" }, { url: "%[2]s" } ], health: { eject_after: -1 } }
    routes: [ { path: /busy } ]
  - name: gone
    upstream: { retries: 1, targets: [ { url: "%[3]s" }, { url: "%[2]s" } ], health: { eject_after: -1 } }
    routes: [ { path: /gone } ]
`, a.URL(), b.URL(), deadURL)))
	a.status.Store(503)
	type sent struct {
		status int
		id     string
	}
	cases := []struct{ name, path string }{{"503", "/busy"}, {"connection refused", "/gone"}}
	methods := []string{"GET", "PUT", "DELETE", "POST", "PATCH"}
	results := map[string][]sent{}
	for _, tc := range cases {
		for _, method := range methods {
			for i := 0; i < 6; i++ {
				resp, _ := e.restDo(method, tc.path, shopKey, "")
				results[tc.path+" "+method] = append(results[tc.path+" "+method], sent{resp.StatusCode, resp.Header.Get("X-Request-Id")})
			}
		}
	}
	// Records are read once all calls are made: one wait for the writer.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range methods {
				failed, retried := 0, 0
				for _, r := range results[tc.path+" "+method] {
					if r.status != 200 {
						failed++
						continue
					}
					if rec := e.call(r.id); len(rec.Attempts) == 2 {
						retried++
						if at := rec.Attempts[0]; at.Status == 200 || rec.Attempts[1].Status != 200 {
							t.Errorf("%s %s: attempts %+v; want a failure, then the answer", method, tc.path, rec.Attempts)
						}
					}
				}
				idempotent := method != "POST" && method != "PATCH"
				switch {
				case idempotent && (failed != 0 || retried != 3):
					t.Errorf("%s: %d of 6 failed, %d retried; want none failed and 3 retried on the other target", method, failed, retried)
				case !idempotent && (failed != 3 || retried != 0):
					t.Errorf("%s: %d of 6 failed, %d retried; a %s is never retried, want 3 failed", method, failed, retried, method)
				}
			}
		})
	}
	for {
		resp, body := e.restDo("POST", "/gone", shopKey, "")
		if resp.StatusCode == 200 {
			continue // b's turn
		}
		if resp.StatusCode != 502 || !strings.Contains(string(body), "upstream_unreachable") {
			t.Fatalf("unreachable target: %d %s; want 502 upstream_unreachable", resp.StatusCode, body)
		}
		break
	}
}

func TestRESTTimeout(t *testing.T) {
	e := start(t)
	slow, fast := newRESTTarget(t, "slow"), newRESTTarget(t, "fast")
	slow.delay.Store(int64(time.Second))
	e.apply(restConfig(e, []string{"slow", "either"}, fmt.Sprintf(`
  - name: slow
    upstream: { timeout: 200ms, targets: [ { url: "%[1]s" } ] }
    routes: [ { path: /slow } ]
  - name: either
    upstream: { timeout: 200ms, retries: 1, balance: weighted, targets: [ { url: "%[1]s", weight: 10 }, { url: "%[2]s", weight: 1 } ], health: { eject_after: -1 } }
    routes: [ { path: /either } ]
`, slow.URL(), fast.URL())))
	start := time.Now()
	resp, body := e.restDo("GET", "/slow", shopKey, "")
	if took := time.Since(start); resp.StatusCode != 504 || !strings.Contains(string(body), "upstream_timeout") || took > 900*time.Millisecond {
		t.Fatalf("%d %s after %s; want 504 upstream_timeout after about 200ms", resp.StatusCode, body, took)
	}
	// A timed-out idempotent call goes on to the other target.
	if got := e.echo("GET", "/either", shopKey, "").Target; got != "fast" {
		t.Fatalf("answered by %s, want fast", got)
	}
	if resp, _ := e.restDo("POST", "/either", shopKey, ""); resp.StatusCode != 504 {
		t.Fatalf("POST: %d; a POST is not retried after a timeout, want 504", resp.StatusCode)
	}
}
