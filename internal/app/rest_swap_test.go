package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRESTRouteSwapUnderLoad changes the configuration through the admin
// API many times — routes added and removed, the stable route's targets
// changed — while clients call the stable route without pause: no call may
// fail, and each new route must answer within a second of the change.
func TestRESTRouteSwapUnderLoad(t *testing.T) {
	e := start(t)
	targets := []*restTarget{newRESTTarget(t, "a"), newRESTTarget(t, "b"), newRESTTarget(t, "c")}
	sets := [][]int{{0}, {0, 1}, {1}, {0, 1, 2}, {2}, {1, 2}}
	config := func(i int) string {
		var ts []string
		for _, k := range sets[i%len(sets)] {
			ts = append(ts, fmt.Sprintf(`{ url: "%s" }`, targets[k].URL()))
		}
		return restConfig(e, []string{"stable", "extra"}, fmt.Sprintf(`
  - name: stable
    upstream: { balance: %s, targets: [ %s ] }
    routes: [ { path: /stable }, { path: "/stable-%d/{id}", rewrite: "/stable/{id}" } ]
  - name: extra
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /extra-%d } ]
`, []string{"round_robin", "least_conn", "weighted", "hash"}[i%4], strings.Join(ts, ", "), i, targets[i%3].URL(), i))
	}
	e.apply(config(0))

	var calls, failures atomic.Int64
	var mu sync.Mutex
	var firstFailures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", e.data+"/stable/x", nil)
				req.Header.Set("Authorization", "Bearer "+shopKey)
				resp, err := client.Do(req)
				calls.Add(1)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					mu.Lock()
					if len(firstFailures) < 5 {
						firstFailures = append(firstFailures, fmt.Sprint(err, resp))
					}
					mu.Unlock()
				}
			}
		})
	}

	const changes = 30
	var slowest time.Duration
	for i := 1; i <= changes; i++ {
		changed := time.Now()
		e.apply(config(i))
		for {
			resp, _, err := e.tryRESTDo("GET", fmt.Sprintf("/extra-%d/x", i), shopKey, "")
			if err == nil && resp.StatusCode == 200 {
				break
			}
			if time.Since(changed) > time.Second {
				t.Fatalf("change %d: the new route did not answer within a second (%v %v)", i, err, resp)
			}
			time.Sleep(5 * time.Millisecond)
		}
		slowest = max(slowest, time.Since(changed))
		// The previous revision's routes are gone.
		if resp, _ := e.restDo("GET", fmt.Sprintf("/extra-%d/x", i-1), shopKey, ""); resp.StatusCode != 404 {
			t.Fatalf("change %d: /extra-%d still answers %d", i, i-1, resp.StatusCode)
		}
		if got := e.echo("GET", fmt.Sprintf("/stable-%d/7", i), shopKey, "").URI; got != "/stable/7" {
			t.Fatalf("change %d: the rewritten route reached %s", i, got)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d calls during %d configuration changes, %d failed; slowest change to first answer of its new route: %s",
		calls.Load(), changes, failures.Load(), slowest)
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed during the swaps, e.g. %q", failures.Load(), calls.Load(), firstFailures)
	}
	if calls.Load() < 100 {
		t.Fatalf("only %d calls were made during the swaps: the load did not overlap them", calls.Load())
	}
}
