package gateway

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// TestCanarySplit checks the share of request ids a canary takes, over the
// ids clients send (sequential) and those the gateway makes (UUIDs).
func TestCanarySplit(t *testing.T) {
	const n = 10000
	tests := []struct {
		name    string
		percent float64
		id      func(i int) string
	}{
		{"10% of sequential ids", 10, func(i int) string { return fmt.Sprintf("req-%d", i) }},
		{"10% of uuid-like ids", 10, func(i int) string { return fmt.Sprintf("0197%04x-7c3a-7d2e-9f1b-%012x", i%65536, i*7919) }},
		{"1% of sequential ids", 1, func(i int) string { return fmt.Sprintf("%d", i) }},
		{"50%", 50, func(i int) string { return fmt.Sprintf("call-%06d", i) }},
		{"99.5%", 99.5, func(i int) string { return fmt.Sprintf("r%d", i) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cn := &canary{threshold: canaryThreshold(tc.percent)}
			took := 0
			for i := range n {
				if cn.takes(tc.id(i)) {
					took++
				}
			}
			share := 100 * float64(took) / n
			if math.Abs(share-tc.percent) > 1.5 {
				t.Fatalf("the canary took %.2f%% of %d calls, want %v%% ± 1.5", share, n, tc.percent)
			}
		})
	}
	if canaryThreshold(0) != 0 || canaryThreshold(100) != math.MaxUint64 {
		t.Fatal("0% must take nothing and 100% everything")
	}
}

// TestReleasesOnTheDataPlane puts a deprecated, a retired and a canaried
// service in service and calls them through the handler: headers, 410,
// the canary's share and routes, and the release each record names.
func TestReleasesOnTheDataPlane(t *testing.T) {
	upstream := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.URL.Path)
		}))
		t.Cleanup(s.Close)
		return s
	}
	stable, next := upstream("stable"), upstream("next")
	t.Setenv("GW_RELEASE_KEY", "hg-release-test-key-0123456789abcdefghijklmn")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
consumers: [ { name: c, keys: [ { name: k, key: env:GW_RELEASE_KEY } ] } ]
services:
  - name: old
    public: true
    state: deprecated
    sunset: 2027-01-31T00:00:00Z
    upstream: { targets: [ { url: %q } ] }
    routes: [ { path: /old } ]
  - name: gone
    public: true
    state: retired
    upstream: { targets: [ { url: %q } ] }
    routes: [ { path: /gone } ]
  - name: orders
    public: true
    canary: { release: 4, percent: 25 }
    upstream: { targets: [ { url: %q } ] }
    routes: [ { path: /orders } ]
`, stable.URL, stable.URL, stable.URL)))
	if err != nil {
		t.Fatal(err)
	}
	canaryDef := config.Service{
		Name: "ignored", Kind: config.KindREST,
		Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: next.URL}}},
		Routes:   []config.Route{{Path: "/orders", Match: config.MatchPrefix, Rewrite: "/v2/orders"}},
	}
	deprecated := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rel := Releases{
		Current:      map[string]int{"old": 2, "gone": 7, "orders": 3},
		Canaries:     map[string]ReleaseDefinition{"orders": {Number: 4, Service: canaryDef}},
		DeprecatedAt: map[string]time.Time{"old": deprecated},
	}
	if _, err := CompileReleases(cfg, 1, NewState(), Releases{}); err == nil || !strings.Contains(err.Error(), "canary release 4 was not loaded") {
		t.Fatalf("compiling a canary without its release: %v", err)
	}
	stale := rel
	stale.Canaries = map[string]ReleaseDefinition{"orders": {Number: 3, Service: canaryDef}}
	if _, err := CompileReleases(cfg, 1, NewState(), stale); err == nil {
		t.Fatal("compiled a canary with another release than the one it names")
	}
	recs := &records{}
	g := New(Options{Recorder: recs})
	defer g.Close()
	snap, err := g.CompileReleases(cfg, 1, rel)
	if err != nil {
		t.Fatal(err)
	}
	g.SetSnapshot(snap)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.Server()
	go srv.Serve(ln)
	defer srv.Shutdown()
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path, id string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		req.Header.Set("Authorization", "Bearer hg-release-test-key-0123456789abcdefghijklmn")
		req.Header.Set("X-Request-Id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/old/x", "dep-1")
	if resp.StatusCode != 200 || body != "stable /old/x" {
		t.Fatalf("deprecated service: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Deprecation"); got != fmt.Sprintf("@%d", deprecated.Unix()) {
		t.Errorf("Deprecation = %q", got)
	}
	if got := resp.Header.Get("Sunset"); got != "Sun, 31 Jan 2027 00:00:00 GMT" {
		t.Errorf("Sunset = %q", got)
	}

	resp, body = get("/gone/x", "gone-1")
	if resp.StatusCode != 410 || !strings.Contains(body, `service \"gone\" is retired`) || !strings.Contains(body, "service_retired") {
		t.Fatalf("retired service: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Deprecation") != "" {
		t.Error("a retired service sends Deprecation")
	}

	const n = 400
	canaried := 0
	for i := range n {
		id := fmt.Sprintf("orders-%d", i)
		resp, body := get("/orders/7", id)
		if resp.StatusCode != 200 {
			t.Fatalf("call %d: %d %s", i, resp.StatusCode, body)
		}
		want := "stable /orders/7"
		if (&canary{threshold: canaryThreshold(25)}).takes(id) {
			want = "next /v2/orders/7"
			canaried++
		}
		if body != want {
			t.Fatalf("call %s answered %q, want %q", id, body, want)
		}
	}
	if share := float64(canaried) / n; share < 0.18 || share > 0.32 {
		t.Fatalf("the canary served %d of %d calls", canaried, n)
	}
	// Records are finished when the body has been written: wait for them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs.mu.Lock()
		got := len(recs.recs)
		recs.mu.Unlock()
		if got >= n+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	recs.mu.Lock()
	defer recs.mu.Unlock()
	byID := map[string]int{}
	for _, r := range recs.recs {
		byID[r.ID] = r.Status
		want := map[string]int{"dep-1": 2, "gone-1": 7}[r.ID]
		if strings.HasPrefix(r.ID, "orders-") {
			want = 3
			if (&canary{threshold: canaryThreshold(25)}).takes(r.ID) {
				want = 4
			}
		}
		if r.Release != want {
			t.Errorf("record %s names release %d, want %d", r.ID, r.Release, want)
		}
		if r.ID == "gone-1" && (r.Status != 410 || r.Service != "gone" || r.ErrorType != "service_retired") {
			t.Errorf("record of the retired call: %+v", r)
		}
	}
	if len(byID) < n+2 {
		t.Fatalf("%d records, want %d", len(byID), n+2)
	}
}
