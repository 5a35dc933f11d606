package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/catalog"
)

// releasesEnv is a gateway with service orders published (release 1) in
// front of target a, and target b for the changes to send it to.
type releasesEnv struct {
	*env
	a, b *restTarget
}

func startReleases(t *testing.T) *releasesEnv {
	t.Helper()
	e := start(t)
	re := &releasesEnv{env: e, a: newRESTTarget(t, "a"), b: newRESTTarget(t, "b")}
	e.apply(re.config(re.a, ""))
	return re
}

// config is the configuration with service orders in front of target,
// more lines added to the service.
func (re *releasesEnv) config(target *restTarget, more string) string {
	return restConfig(re.env, []string{"orders"}, fmt.Sprintf(`
  - name: orders
    description: Orders of the shop
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { name: list, path: /orders } ]
%s`, target.URL(), more))
}

// definition is the JSON definition of service orders in front of target.
func definition(target *restTarget) string {
	return fmt.Sprintf(`{"description":"Orders of the shop","upstream":{"targets":[{"url":%q}]},"routes":[{"name":"list","path":"/orders"}]}`, target.URL())
}

// served calls the service n times and returns which target answered, by
// name.
func (re *releasesEnv) served(n int, idPrefix string) map[string]int {
	re.t.Helper()
	got := map[string]int{}
	for i := range n {
		resp, b := re.restDo("GET", "/orders/x", shopKey, "", "X-Request-Id", fmt.Sprintf("%s-%d", idPrefix, i))
		got[echoOf(re.t, resp, b).Target]++
	}
	return got
}

// releases lists the service's releases, newest first.
func (re *releasesEnv) releases() []catalog.Release {
	re.t.Helper()
	var out struct {
		Data []catalog.Release `json:"data"`
	}
	if code := re.adminDo("GET", "/admin/v1/services/orders/releases", "", &out); code != 200 {
		re.t.Fatalf("listing releases: %d", code)
	}
	return out.Data
}

// applyResult is the answer of the admin API's changes.
type applyResult struct {
	Changed  bool              `json:"changed"`
	Diff     []string          `json:"diff"`
	Releases []catalog.Release `json:"releases"`
	Revision *struct {
		Number int64 `json:"number"`
	} `json:"revision"`
}

func (re *releasesEnv) post(path, body string) applyResult {
	re.t.Helper()
	var out applyResult
	if code := re.adminDo("POST", path, body, &out); code != 200 {
		re.t.Fatalf("POST %s: %d %+v", path, code, out)
	}
	return out
}

// TestReleasePublishDraftAndRollback edits service orders as a draft,
// publishes it, changes it again by declarative apply, and rolls it back:
// each change is a numbered release with its diff, and the traffic follows
// (measured by which upstream answers the calls).
func TestReleasePublishDraftAndRollback(t *testing.T) {
	re := startReleases(t)
	rels := re.releases()
	if len(rels) != 1 || rels[0].Number != 1 || !rels[0].Published || rels[0].Revision == 0 || len(rels[0].Diff) == 0 || rels[0].Diff[0] != "+ service orders" {
		t.Fatalf("after the first apply: releases %+v, want release 1 adding the service", rels)
	}

	// A draft changes nothing until published.
	var d catalog.Draft
	if code := re.adminDo("PUT", "/admin/v1/services/orders/draft", definition(re.b), &d); code != 200 || d.Base != 1 {
		t.Fatalf("saving a draft: %d %+v", code, d)
	}
	if got := re.served(5, "draft"); got["a"] != 5 {
		t.Fatalf("with a draft saved, calls went %v; the draft must not take traffic", got)
	}
	var dd struct {
		Base int      `json:"base"`
		Diff []string `json:"diff"`
	}
	if code := re.adminDo("GET", "/admin/v1/services/orders/draft/diff", "", &dd); code != 200 || dd.Base != 1 ||
		len(dd.Diff) != 1 || !strings.HasPrefix(dd.Diff[0], "~ service orders: upstream.targets: ") {
		t.Fatalf("draft diff: %d %+v", code, dd)
	}
	if code := re.adminDo("PUT", "/admin/v1/services/orders/draft", `{"routes":[{"path":"/v1/x"}],"upstream":{"targets":[{"url":"http://127.0.0.1:1"}]}}`, nil); code != 422 {
		t.Fatalf("an invalid draft: %d, want 422", code)
	}

	pub := re.post("/admin/v1/services/orders/publish", `{"message":"move to b"}`)
	if len(pub.Releases) != 1 || pub.Releases[0].Number != 2 || pub.Releases[0].Message != "move to b" ||
		strings.Join(pub.Releases[0].Diff, "\n") != strings.Join(dd.Diff, "\n") || pub.Revision == nil {
		t.Fatalf("publish answered %+v; want release 2 with the draft's diff", pub)
	}
	if got := re.served(5, "published"); got["b"] != 5 {
		t.Fatalf("after publishing, calls went %v, want all to b", got)
	}
	if code := re.adminDo("GET", "/admin/v1/services/orders/draft", "", nil); code != 404 {
		t.Fatalf("the draft outlived its publication: %d", code)
	}

	// A change by declarative apply is a release too.
	re.apply(re.config(re.b, "    policies: { max_body_bytes: 1024 }\n"))
	rels = re.releases()
	if len(rels) != 3 || rels[0].Number != 3 || rels[0].Author != "admin-api" ||
		strings.Join(rels[0].Diff, "\n") != "~ service orders: policies: none -> {max_body_bytes: 1024}" {
		t.Fatalf("after a declarative apply: %+v", rels[0])
	}
	// An apply that leaves the service alone makes no release.
	re.apply(strings.Replace(re.config(re.b, "    policies: { max_body_bytes: 1024 }\n"), "timeout: 20s", "timeout: 21s", 1))
	if n := len(re.releases()); n != 3 {
		t.Fatalf("an apply that did not change the service made a release: %d releases", n)
	}

	// Rolling back to release 1 publishes its definition again as release
	// 4, and the calls go back to a.
	rb := re.post("/admin/v1/services/orders/releases/1/rollback", `{"message":"b misbehaves"}`)
	if len(rb.Releases) != 1 || rb.Releases[0].Number != 4 {
		t.Fatalf("rollback answered %+v, want release 4", rb)
	}
	if got := re.served(5, "rolled-back"); got["a"] != 5 {
		t.Fatalf("after the rollback, calls went %v, want all to a", got)
	}
	var r1, r4 catalog.Release
	re.adminDo("GET", "/admin/v1/services/orders/releases/1", "", &r1)
	re.adminDo("GET", "/admin/v1/services/orders/releases/4", "", &r4)
	if string(r1.Definition) != string(r4.Definition) || len(r4.Diff) != 2 {
		t.Fatalf("release 4 = %s (diff %q), want release 1's definition %s", r4.Definition, r4.Diff, r1.Definition)
	}
	if rels := re.releases(); len(rels) != 4 || rels[3].Number != 1 {
		t.Fatalf("the history was rewritten: %+v", rels)
	}
	rec := re.call("rolled-back-0")
	if rec.Service != "orders" || rec.Status != 200 {
		t.Fatalf("record of a call after the rollback: %+v", rec)
	}
	// Every change is in the audit log.
	var page struct {
		Data []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"data"`
	}
	re.adminDo("GET", "/admin/v1/audit?target=service:orders", "", &page)
	var actions []string
	for _, e := range page.Data {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "service.rollback service.publish service.draft" {
		t.Fatalf("audit entries of service orders: %q", got)
	}
}

// TestReleaseLifecycleDeprecateAndRetire deprecates service orders with a
// sunset, then retires it: a deprecated service answers with Deprecation
// and Sunset headers, a retired one 410 Gone, and the record says so.
func TestReleaseLifecycleDeprecateAndRetire(t *testing.T) {
	re := startReleases(t)
	dep := re.post("/admin/v1/services/orders/deprecate", `{"sunset":"2027-01-31T00:00:00Z"}`)
	if len(dep.Releases) != 1 || dep.Releases[0].State != "deprecated" {
		t.Fatalf("deprecate answered %+v", dep)
	}
	since := dep.Releases[0].CreatedAt
	resp, b := re.restDo("GET", "/orders/1", shopKey, "", "X-Request-Id", "deprecated-call")
	echoOf(t, resp, b)
	if got, want := resp.Header.Get("Deprecation"), fmt.Sprintf("@%d", since.Unix()); got != want {
		t.Errorf("Deprecation = %q, want %q", got, want)
	}
	if got := resp.Header.Get("Sunset"); got != "Sun, 31 Jan 2027 00:00:00 GMT" {
		t.Errorf("Sunset = %q", got)
	}
	// A later change keeps the deprecation's date: it began with release 2.
	re.apply(re.config(re.a, "    state: deprecated\n    sunset: 2027-03-01T00:00:00Z\n"))
	resp, _ = re.restDo("GET", "/orders/1", shopKey, "")
	if got, want := resp.Header.Get("Deprecation"), fmt.Sprintf("@%d", since.Unix()); got != want || resp.Header.Get("Sunset") != "Mon, 01 Mar 2027 00:00:00 GMT" {
		t.Errorf("after a later change: Deprecation %q (want %q), Sunset %q", got, want, resp.Header.Get("Sunset"))
	}

	re.post("/admin/v1/services/orders/retire", "")
	resp, b = re.restDo("GET", "/orders/1", shopKey, "", "X-Request-Id", "retired-call")
	var body struct {
		Error struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if resp.StatusCode != 410 || json.Unmarshal(b, &body) != nil || body.Error.Code != "service_retired" ||
		!strings.Contains(body.Error.Message, `service "orders" is retired`) {
		t.Fatalf("a call to the retired service: %d %s", resp.StatusCode, b)
	}
	// Without a key too: a retired service has nothing to authenticate for.
	if resp, _ := re.restDo("GET", "/orders/1", "", ""); resp.StatusCode != 410 {
		t.Fatalf("an anonymous call to the retired service: %d", resp.StatusCode)
	}
	hits := re.a.hits.Load()
	rec := re.call("retired-call")
	if rec.Status != 410 || rec.ErrorType != "service_retired" || rec.Service != "orders" || len(rec.Attempts) != 0 {
		t.Fatalf("record of the retired call: %+v", rec)
	}
	if re.a.hits.Load() != hits {
		t.Fatal("the retired service's upstream was called")
	}
	// Rolling back to release 1 brings it back.
	re.post("/admin/v1/services/orders/releases/1/rollback", "")
	if got := re.served(3, "revived"); got["a"] != 3 {
		t.Fatalf("after rolling back the retirement, calls went %v", got)
	}
}

// TestReleaseCanarySplit publishes a draft as a canary taking 10 % of the
// calls, sends 10,000 calls, and checks the share the canary served
// (10 % ± 1.5) and that each record names the release that served it;
// then promotes the canary.
func TestReleaseCanarySplit(t *testing.T) {
	re := startReleases(t)
	if code := re.adminDo("PUT", "/admin/v1/services/orders/draft", definition(re.b), nil); code != 200 {
		t.Fatalf("saving a draft: %d", code)
	}
	res := re.post("/admin/v1/services/orders/publish", `{"message":"try b","canary_percent":10}`)
	if len(res.Releases) != 2 || res.Releases[0].Number != 2 || res.Releases[0].Published || res.Releases[1].Number != 3 || !res.Releases[1].Published {
		t.Fatalf("a canary publish answered %+v; want canary release 2 and published release 3", res)
	}
	canaryRelease, publishedRelease := res.Releases[0].Number, res.Releases[1].Number

	const n, workers = 10000, 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		byTarget = map[string]int{}
		sample   = map[string]string{} // request id → target, for the first ids
		failures []string
	)
	next := make(chan int)
	started := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range next {
				id := fmt.Sprintf("canary-%05d", i)
				req, _ := http.NewRequest("GET", re.data+"/orders/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+shopKey)
				req.Header.Set("X-Request-Id", id)
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				target := resp.Header.Get("X-Upstream")
				mu.Lock()
				if resp.StatusCode != 200 {
					failures = append(failures, fmt.Sprintf("%s: %d %s", id, resp.StatusCode, b))
				}
				byTarget[target]++
				if i < 40 {
					sample[id] = target
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(started)
	if len(failures) > 0 {
		t.Fatalf("%d calls failed, e.g. %s", len(failures), failures[0])
	}
	share := 100 * float64(byTarget["b"]) / n
	t.Logf("%d calls in %s: the canary (release %d) served %d (%.2f %%), the published release %d served %d",
		n, elapsed.Round(time.Millisecond), canaryRelease, byTarget["b"], share, publishedRelease, byTarget["a"])
	if byTarget["a"]+byTarget["b"] != n || math.Abs(share-10) > 1.5 {
		t.Fatalf("the canary served %.2f %% of %d calls (%v), want 10 %% ± 1.5", share, n, byTarget)
	}
	for id, target := range sample {
		want := publishedRelease
		if target == "b" {
			want = canaryRelease
		}
		if rec := re.call(id); rec.Release != want || rec.Service != "orders" {
			t.Fatalf("record %s (served by %s) names release %d, want %d", id, target, rec.Release, want)
		}
	}

	// Promoting the canary: its release is published for every call.
	promo := re.post(fmt.Sprintf("/admin/v1/services/orders/releases/%d/rollback", canaryRelease), `{"message":"b is good"}`)
	if len(promo.Releases) != 1 || promo.Releases[0].Number != 4 {
		t.Fatalf("promotion answered %+v", promo)
	}
	if got := re.served(20, "promoted"); got["b"] != 20 {
		t.Fatalf("after the promotion, calls went %v", got)
	}
	if rec := re.call("promoted-0"); rec.Release != 4 {
		t.Fatalf("a call after the promotion names release %d, want 4", rec.Release)
	}
}

// TestReleaseDraftOfNewService drafts a service that does not exist yet,
// publishes it (release 1), and deletes it; its releases stay readable.
func TestReleaseDraftOfNewService(t *testing.T) {
	re := startReleases(t)
	body := fmt.Sprintf(`{"upstream":{"targets":[{"url":%q}]},"routes":[{"path":"/fresh"}],"public":true}`, re.b.URL())
	if code := re.adminDo("PUT", "/admin/v1/services/fresh/draft", body, nil); code != 200 {
		t.Fatalf("drafting a new service: %d", code)
	}
	if resp, _ := re.restDo("GET", "/fresh", shopKey, ""); resp.StatusCode != 404 {
		t.Fatalf("a drafted service answered %d before it was published", resp.StatusCode)
	}
	pub := re.post("/admin/v1/services/fresh/publish", "")
	if len(pub.Releases) != 1 || pub.Releases[0].Service != "fresh" || pub.Releases[0].Number != 1 {
		t.Fatalf("publishing a new service: %+v", pub)
	}
	if got := re.echo("GET", "/fresh", shopKey, "").Target; got != "b" {
		t.Fatalf("the new service is served by %q", got)
	}
	if code := re.adminDo("DELETE", "/admin/v1/services/fresh", "", nil); code != 204 {
		t.Fatalf("deleting the service: %d", code)
	}
	if resp, _ := re.restDo("GET", "/fresh", shopKey, ""); resp.StatusCode != 404 {
		t.Fatalf("a deleted service answered %d", resp.StatusCode)
	}
	var rel catalog.Release
	if code := re.adminDo("GET", "/admin/v1/services/fresh/releases/1", "", &rel); code != 200 || len(rel.Definition) == 0 {
		t.Fatalf("a deleted service's release: %d %+v", code, rel)
	}
}
