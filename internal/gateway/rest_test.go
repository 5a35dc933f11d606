package gateway

import (
	"bufio"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/route"
)

// testPool builds a pool of n targets with the given balance and weights
// (nil: all 1).
func testPool(t *testing.T, balance string, weights ...int) *upstreamPool {
	t.Helper()
	u := &config.ServiceUpstream{Balance: balance}
	for i := range max(len(weights), 3) {
		tc := config.UpstreamTarget{URL: fmt.Sprintf("http://10.0.0.%d:80", i+1)}
		if i < len(weights) {
			w := weights[i]
			tc.Weight = &w
		}
		u.Targets = append(u.Targets, tc)
	}
	p, err := compilePool("svc", u, NewState(), restUsed{targets: map[string]*targetState{}, clients: map[string]*fasthttp.HostClient{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func spread(p *upstreamPool, n int, key func(int) uint64) []int {
	got := make([]int, len(p.targets))
	now := time.Now().UnixNano()
	for i := 0; i < n; i++ {
		if t := p.pick(key(i), 0, nil, now); t != nil {
			got[t.index]++
		}
	}
	return got
}

func TestPick(t *testing.T) {
	noKey := func(int) uint64 { return 0 }
	tests := []struct {
		name    string
		balance string
		weights []int
		prepare func(p *upstreamPool)
		key     func(int) uint64
		want    []int
	}{
		{name: "round robin", balance: config.BalanceRoundRobin, want: []int{100, 100, 100}},
		{name: "round robin ignores weights but 0", balance: config.BalanceRoundRobin, weights: []int{5, 1, 0}, want: []int{150, 150, 0}},
		{name: "weighted", balance: config.BalanceWeighted, weights: []int{4, 1, 1}, want: []int{200, 50, 50}},
		{name: "weighted skips the down", balance: config.BalanceWeighted, weights: []int{4, 1, 1},
			prepare: func(p *upstreamPool) { p.targets[0].st.down.Store(true) }, want: []int{0, 150, 150}},
		{name: "round robin skips the ejected", balance: config.BalanceRoundRobin,
			prepare: func(p *upstreamPool) { p.targets[1].st.ejectedUntil.Store(time.Now().Add(time.Hour).UnixNano()) }, want: []int{150, 0, 150}},
		{name: "least connections", balance: config.BalanceLeastConn,
			prepare: func(p *upstreamPool) { p.targets[0].st.inflight.Store(3); p.targets[1].st.inflight.Store(1) }, want: []int{0, 0, 300}},
		{name: "least connections by weight", balance: config.BalanceLeastConn, weights: []int{4, 1, 1},
			prepare: func(p *upstreamPool) {
				p.targets[0].st.inflight.Store(3)
				p.targets[1].st.inflight.Store(1)
				p.targets[2].st.inflight.Store(1)
			}, want: []int{300, 0, 0}},
		{name: "hash of one key", balance: config.BalanceHash, key: func(int) uint64 { return fnv64a("user-1") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPool(t, tc.balance, tc.weights...)
			if tc.prepare != nil {
				tc.prepare(p)
			}
			key := tc.key
			if key == nil {
				key = noKey
			}
			got := spread(p, 300, key)
			if tc.want == nil { // a hash: everything on one target
				n := 0
				for _, g := range got {
					if g > 0 {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("one key went to %v", got)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("300 picks went %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPickHashWeightsAndRetries(t *testing.T) {
	p := testPool(t, config.BalanceHash, 1, 2, 1)
	got := spread(p, 40000, func(i int) uint64 { return fnv64a(fmt.Sprint("key-", i)) })
	// Weighted rendezvous: shares of 1/4, 1/2, 1/4 within a few percent.
	for i, want := range []float64{0.25, 0.5, 0.25} {
		if share := float64(got[i]) / 40000; share < want-0.02 || share > want+0.02 {
			t.Fatalf("shares %v; want about 1:2:1", got)
		}
	}
	// A retry takes another target, and a key's second choice is stable.
	now := time.Now().UnixNano()
	for i := 0; i < 100; i++ {
		k := fnv64a(fmt.Sprint("key-", i))
		first := p.pick(k, 0, nil, now)
		second := p.pick(k, 1<<first.index, first, now)
		if second == nil || second == first || p.pick(k, 1<<first.index, first, now) != second {
			t.Fatalf("key %d: first %v, second %v", i, first.url, second)
		}
	}
	// All tried: nothing left.
	if p.pick(1, 0b111, nil, now) != nil {
		t.Fatal("picked a target though all were tried")
	}
}

func TestPassiveEjection(t *testing.T) {
	p := testPool(t, config.BalanceRoundRobin)
	p.ejectAfter, p.ejectFor = 3, time.Minute
	tg := p.targets[0]
	now := time.Now()
	for i, failed := range []bool{true, true, false, true, true} {
		if p.report(tg, failed, now) {
			t.Fatalf("report %d ejected: a success in between resets the count", i)
		}
	}
	if !p.report(tg, true, now) {
		t.Fatal("the third failure in a row should eject")
	}
	if tg.available(0, now.UnixNano()) || !tg.available(0, now.Add(time.Minute).UnixNano()) {
		t.Fatal("ejected for the wrong time")
	}
}

func TestAppendForwardPath(t *testing.T) {
	tests := []struct {
		name  string
		route config.Route
		path  string
		want  string
	}{
		{"as is", config.Route{Path: "/orders"}, "/orders/1", "/orders/1"},
		{"escaped", config.Route{Path: "/files"}, "/files/a b/ü%?", "/files/a%20b/%C3%BC%25%3F"},
		{"strip", config.Route{Path: "/api", StripPrefix: true}, "/api/v1/x", "/v1/x"},
		{"strip all", config.Route{Path: "/api", StripPrefix: true}, "/api", "/"},
		{"strip root", config.Route{Path: "/", StripPrefix: true}, "/a", "/a"},
		{"rewrite params", config.Route{Path: "/u/{id}/p/{pid}", Match: config.MatchExact, Rewrite: "/posts/{pid}/by/{id}"}, "/u/7/p/x y", "/posts/x%20y/by/7"},
		{"rewrite prefix keeps the rest", config.Route{Path: "/old", Rewrite: "/new/"}, "/old/a/b", "/new/a/b"},
		{"rewrite literal keeps its escapes", config.Route{Path: "/x", Rewrite: "/a%2Fb"}, "/x", "/a%2Fb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.route.Match = cmpOr(tc.route.Match, config.MatchPrefix)
			tab, err := route.Compile([]config.Service{{Name: "s", Routes: []config.Route{tc.route}}})
			if err != nil {
				t.Fatal(err)
			}
			var m route.Match
			if !tab.Match("", tc.path, "GET", &m) {
				t.Fatalf("%s does not match", tc.path)
			}
			rr, _, err := compileRoute(m.Route, &restService{name: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(rr.appendForwardPath(nil, tc.path, &m)); got != tc.want {
				t.Fatalf("forward path %q, want %q", got, tc.want)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestReadHead(t *testing.T) {
	tests := []struct {
		name, in string
		status   int
		err      bool
	}{
		{"switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes", 101, false},
		{"refused", "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", 403, false},
		{"long header", "HTTP/1.1 101 OK\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", 101, false},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 0, true},
		{"cut short", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n", 0, true},
		{"too long", "HTTP/1.1 101 OK\r\n" + strings.Repeat("X: y\r\n", 20000) + "\r\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 4096)
			raw, status, err := readHead(br)
			if (err != nil) != tc.err || status != tc.status {
				t.Fatalf("status %d, err %v; want %d, error %v", status, err, tc.status, tc.err)
			}
			if err == nil && !strings.HasPrefix(tc.in, string(raw)) || err == nil && !strings.HasSuffix(string(raw), "\r\n\r\n") {
				t.Fatalf("head %q is not the input's head", raw)
			}
		})
	}
}

func TestCORSCompile(t *testing.T) {
	p := compileCORS(&config.CORS{Origins: []string{"https://A.example"}, Headers: []string{"*"}, MaxAge: config.Duration(90 * time.Second)}, []string{"GET"})
	if !p.allowsOrigin([]byte("https://a.example")) || p.allowsOrigin([]byte("https://b.example")) || p.allowsOrigin(nil) {
		t.Fatal("origin matching")
	}
	if p.headers != nil || p.methodsText != "GET" || p.maxAge != "90" {
		t.Fatalf("compiled %+v", p)
	}
}

// TestHealthCheckersFollowSnapshots checks that the active checks run while
// a snapshot with them is in service, keep running (not restarted) across a
// snapshot with the same checks, and stop with a snapshot without them.
func TestHealthCheckersFollowSnapshots(t *testing.T) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			hits.Add(1)
		}
	}))
	defer up.Close()
	withChecks := func(extraRoute string) *config.Config {
		cfg, err := config.Parse([]byte(fmt.Sprintf(`
services:
  - name: s
    upstream: { targets: [ { url: "%s" } ], health: { path: /health, interval: 20ms, timeout: 20ms } }
    routes: [ { path: /s }%s ]
`, up.URL, extraRoute)))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	g := New(Options{Recorder: discard{}})
	defer g.Close()
	set := func(cfg *config.Config) {
		s, err := g.Compile(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		g.SetSnapshot(s)
	}
	checkers := func() map[string]*checker {
		g.state.rest.mu.Lock()
		defer g.state.rest.mu.Unlock()
		return maps.Clone(g.state.rest.checkers)
	}
	set(withChecks(""))
	before := checkers()
	if len(before) != 1 {
		t.Fatalf("%d checkers running, want 1", len(before))
	}
	waitHits := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for hits.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d health checks, want %d", hits.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitHits(3)
	set(withChecks(", { path: /t }")) // other routes, the same checks
	after := checkers()
	for k, ch := range before {
		if after[k] != ch {
			t.Fatal("an unchanged checker was restarted")
		}
	}
	waitHits(hits.Load() + 2)
	noChecks, err := config.Parse([]byte(fmt.Sprintf(`
services: [ { name: s, upstream: { targets: [ { url: "%s" } ] }, routes: [ { path: /s } ] } ]
`, up.URL)))
	if err != nil {
		t.Fatal(err)
	}
	set(noChecks)
	if len(checkers()) != 0 {
		t.Fatal("the checker still runs under a snapshot without checks")
	}
	for _, ch := range before {
		select {
		case <-ch.done:
		case <-time.After(time.Second):
			t.Fatal("the stopped checker's goroutine did not end")
		}
	}
	stopped := hits.Load()
	time.Sleep(80 * time.Millisecond)
	if n := hits.Load(); n > stopped+1 {
		t.Fatalf("%d health checks after the checker stopped", n-stopped)
	}
}
