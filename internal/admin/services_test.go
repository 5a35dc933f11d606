package admin

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
)

// Tokens of the release scenarios: a developer of team payments, which
// owns service rel-orders, and a team admin of team apps, which does not.
const (
	relPaymentsDev = "hgt-fixture-rel-payments-dev-0123456789abcdefghi"
	relAppsAdmin   = "hgt-fixture-rel-apps-admin-0123456789abcdefghijk"
)

// relConfigs is the fixture's Configs recording releases as the gateway's
// does: one for each service whose definition a change changes.
type relConfigs struct {
	*oasConfigs
	f *oasFixture
}

func (c relConfigs) Apply(ctx context.Context, cfg *config.Config, author, message string, dryRun bool) (ApplyResult, error) {
	res, err := c.oasConfigs.Apply(ctx, cfg, author, message, dryRun)
	if err != nil || res.Revision == nil {
		return res, err
	}
	latest, err := c.f.db.LatestReleases(ctx)
	if err != nil {
		return res, err
	}
	rels, err := catalog.Pending(cfg, latest, res.Revision.Number, author, message, time.Now())
	if err != nil {
		return res, err
	}
	if res.Releases, err = c.f.db.AppendReleases(ctx, rels); err != nil {
		return res, err
	}
	for i := range res.Releases {
		res.Releases[i].Definition = nil
	}
	return res, nil
}

// withReleases gives the fixture service rel-orders of team payments with
// releases 1 (published), 2 (a canary release) and 3 (published, in
// service), service rel-legacy deprecated with a sunset and a canary, a
// draft of rel-orders, and the tokens above.
func withReleases(f *oasFixture) {
	t := f.t
	t.Helper()
	ctx := t.Context()
	f.server.Configs = relConfigs{f.configs, f}
	orders := func(url string) config.Service {
		return config.Service{Name: "rel-orders", Team: "payments", Description: "Orders",
			Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: url}}},
			Routes:   []config.Route{{Path: "/rel-orders"}}}
	}
	sunset := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	legacy := config.Service{Name: "rel-legacy", Team: "payments", State: config.StateDeprecated, Sunset: &sunset,
		Canary:   &config.ServiceCanary{Release: 1, Percent: 5},
		Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://10.0.0.9:80"}}},
		Routes:   []config.Route{{Path: "/rel-legacy"}}}
	apply := func(services ...config.Service) {
		cfg, _ := f.configs.Current()
		for _, s := range services {
			next, err := catalog.WithService(cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			cfg = next
		}
		if _, err := f.server.Configs.Apply(ctx, cfg, "user:ana@example.com", "fixture", false); err != nil {
			t.Fatal(err)
		}
	}
	apply(orders("http://10.0.0.1:80"), legacy)
	canary, err := catalog.CanaryRelease(orders("http://10.0.0.3:80"), orders("http://10.0.0.1:80"), "user:ana@example.com", "try .3", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AppendReleases(ctx, []catalog.Release{canary}); err != nil {
		t.Fatal(err)
	}
	apply(orders("http://10.0.0.2:80"))
	def, err := catalog.Definition(orders("http://10.0.0.4:80"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PutDraft(ctx, catalog.Draft{Service: "rel-orders", Team: "payments", Base: 3, Author: "user:ana@example.com", Definition: def}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tk := range []auth.Token{
		{ID: "tok_rel_dev", Name: "rel-dev", Role: auth.RoleDeveloper, Team: "payments", Prefix: "hgt-fixtur", Hash: auth.HashKey(relPaymentsDev), CreatedAt: at},
		{ID: "tok_rel_apps", Name: "rel-apps", Role: auth.RoleTeamAdmin, Team: "apps", Prefix: "hgt-fixtur", Hash: auth.HashKey(relAppsAdmin), CreatedAt: at},
	} {
		if err := f.db.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
}

// relCase is a scenario run on a fixture withReleases, then setup.
func relCase(c oasCase) oasCase {
	more := c.setup
	c.setup = func(f *oasFixture) {
		withReleases(f)
		if more != nil {
			more(f)
		}
	}
	return c
}

// releaseCases are the scenarios of the services, drafts, releases and
// lifecycle endpoints, forbidden paths included: a team reaches only its
// own services, and a role without services.write changes none.
func releaseCases() []oasCase {
	orders := `{"team":"payments","upstream":{"targets":[{"url":"http://10.0.0.5:80"}]},"routes":[{"path":"/rel-orders"}]}`
	cases := []oasCase{
		{name: "list services", method: "GET", target: "/admin/v1/services", want: 200},
		{name: "list services as another team", method: "GET", target: "/admin/v1/services", want: 200, header: bearer(relAppsAdmin)},
		{name: "get service", method: "GET", target: "/admin/v1/services/rel-orders", want: 200},
		{name: "get service with every field", method: "GET", target: "/admin/v1/services/rel-legacy", want: 200},
		{name: "get another team's service", method: "GET", target: "/admin/v1/services/rel-orders", want: 404, header: bearer(relAppsAdmin)},
		{name: "get unknown service", method: "GET", target: "/admin/v1/services/nope", want: 404},
		{name: "create service", method: "POST", target: "/admin/v1/services", want: 201,
			body: `{"name":"rel-new","upstream":{"targets":[{"url":"http://10.0.0.6:80"}]},"routes":[{"path":"/rel-new"}]}`, header: bearer(relPaymentsDev)},
		{name: "create existing service", method: "POST", target: "/admin/v1/services", want: 409, body: `{"name":"rel-orders"}`},
		{name: "create invalid service", method: "POST", target: "/admin/v1/services", want: 422, body: `{"name":"rel-bad","routes":[{"path":"/x"}]}`},
		{name: "create service in another team", method: "POST", target: "/admin/v1/services", want: 403,
			body: `{"name":"rel-sneaky","team":"payments","upstream":{"targets":[{"url":"http://10.0.0.6:80"}]},"routes":[{"path":"/rel-sneaky"}]}`, header: bearer(relAppsAdmin)},
		{name: "create service as a viewer", method: "POST", target: "/admin/v1/services", want: 403, body: `{"name":"x"}`, header: bearer(oasViewerToken)},
		{name: "create service, too large", method: "POST", target: "/admin/v1/services", want: 413, body: `{"name":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "delete service", method: "DELETE", target: "/admin/v1/services/rel-orders", want: 204},
		{name: "delete a subscribed service", method: "DELETE", target: "/admin/v1/services/rel-orders", want: 409,
			setup: func(f *oasFixture) {
				cfg, _ := f.configs.Current()
				next, _ := cloneConfig(cfg)
				next.Consumers[0].Subscriptions = append(next.Consumers[0].Subscriptions, "rel-orders")
				if _, err := f.configs.Apply(f.t.Context(), next, "t", "subscribe", false); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "delete another team's service", method: "DELETE", target: "/admin/v1/services/rel-orders", want: 404, header: bearer(relAppsAdmin)},

		{name: "save draft", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 200, body: orders, header: bearer(relPaymentsDev)},
		{name: "save draft of a new service", method: "PUT", target: "/admin/v1/services/rel-fresh/draft", want: 200,
			body: `{"upstream":{"targets":[{"url":"http://10.0.0.7:80"}]},"routes":[{"path":"/rel-fresh"}]}`, header: bearer(relAppsAdmin)},
		{name: "save invalid draft", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 422, body: `{"routes":[{"path":"/v1/x"}]}`},
		{name: "save draft under another name", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 400, body: `{"name":"other"}`},
		{name: "save draft with an unknown field", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 400, body: `{"colour":"red"}`},
		{name: "save draft of another team's service", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 404, body: orders, header: bearer(relAppsAdmin)},
		{name: "save draft moving a service to another team", method: "PUT", target: "/admin/v1/services/rel-fresh/draft", want: 403,
			body: `{"team":"payments","upstream":{"targets":[{"url":"http://10.0.0.7:80"}]},"routes":[{"path":"/rel-fresh"}]}`, header: bearer(relAppsAdmin)},
		{name: "save draft as a viewer", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 403, body: orders, header: bearer(oasViewerToken)},
		{name: "save draft, too large", method: "PUT", target: "/admin/v1/services/rel-orders/draft", want: 413, body: `{"description":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "get draft", method: "GET", target: "/admin/v1/services/rel-orders/draft", want: 200},
		{name: "get missing draft", method: "GET", target: "/admin/v1/services/rel-legacy/draft", want: 404},
		{name: "get another team's draft", method: "GET", target: "/admin/v1/services/rel-orders/draft", want: 404, header: bearer(relAppsAdmin)},
		{name: "diff draft", method: "GET", target: "/admin/v1/services/rel-orders/draft/diff", want: 200},
		{name: "diff missing draft", method: "GET", target: "/admin/v1/services/rel-legacy/draft/diff", want: 404},
		{name: "delete draft", method: "DELETE", target: "/admin/v1/services/rel-orders/draft", want: 204},
		{name: "delete missing draft", method: "DELETE", target: "/admin/v1/services/rel-legacy/draft", want: 404},
		{name: "delete another team's draft", method: "DELETE", target: "/admin/v1/services/rel-orders/draft", want: 404, header: bearer(relAppsAdmin)},

		{name: "publish draft", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 200, body: `{"message":"to .4"}`, header: bearer(relPaymentsDev)},
		{name: "publish draft without a body", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 200},
		{name: "publish draft as a canary", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 200, body: `{"message":"try .4","canary_percent":10}`},
		{name: "publish draft as a canary of all calls", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 400, body: `{"canary_percent":100}`},
		{name: "publish a new service as a canary", method: "POST", target: "/admin/v1/services/rel-fresh/publish", want: 409, body: `{"canary_percent":10}`,
			setup: func(f *oasFixture) {
				def, _ := catalog.Definition(config.Service{Name: "rel-fresh", Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://10.0.0.8:80"}}}, Routes: []config.Route{{Path: "/rel-fresh"}}})
				if _, err := f.db.PutDraft(f.t.Context(), catalog.Draft{Service: "rel-fresh", Author: "t", Definition: def}); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "publish without a draft", method: "POST", target: "/admin/v1/services/rel-legacy/publish", want: 404},
		{name: "publish with an unknown field", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 400, body: `{"force":true}`},
		{name: "publish another team's draft", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 404, header: bearer(relAppsAdmin)},
		{name: "publish as a viewer", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 403, header: bearer(oasViewerToken)},
		{name: "publish, too large", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 413, body: `{"message":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "publish a draft that no longer fits", method: "POST", target: "/admin/v1/services/rel-orders/publish", want: 422,
			setup: func(f *oasFixture) {
				// Another service took the draft's path since it was saved.
				cfg, _ := f.configs.Current()
				next, _ := catalog.WithService(cfg, config.Service{Name: "rel-squatter", Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://10.0.0.9:80"}}}, Routes: []config.Route{{Path: "/rel-orders"}}})
				next, _ = catalog.WithoutService(next, "rel-orders")
				if _, err := f.configs.Apply(f.t.Context(), next, "t", "squat", false); err != nil {
					f.t.Fatal(err)
				}
			}},

		{name: "list releases", method: "GET", target: "/admin/v1/services/rel-orders/releases", want: 200},
		{name: "list releases, a page", method: "GET", target: "/admin/v1/services/rel-orders/releases?limit=1&before=3", want: 200},
		{name: "list releases with limit 0", method: "GET", target: "/admin/v1/services/rel-orders/releases?limit=0", want: 400},
		{name: "list releases before 0", method: "GET", target: "/admin/v1/services/rel-orders/releases?before=0", want: 400},
		{name: "list releases of another team's service", method: "GET", target: "/admin/v1/services/rel-orders/releases", want: 404, header: bearer(relAppsAdmin)},
		{name: "list releases of an unknown service", method: "GET", target: "/admin/v1/services/nope/releases", want: 404},
		{name: "get release", method: "GET", target: "/admin/v1/services/rel-orders/releases/3", want: 200},
		{name: "get canary release", method: "GET", target: "/admin/v1/services/rel-orders/releases/2", want: 200},
		{name: "get missing release", method: "GET", target: "/admin/v1/services/rel-orders/releases/9", want: 404},
		{name: "get release x", method: "GET", target: "/admin/v1/services/rel-orders/releases/x", want: 400},
		{name: "get another team's release", method: "GET", target: "/admin/v1/services/rel-orders/releases/1", want: 404, header: bearer(relAppsAdmin)},
		{name: "roll back", method: "POST", target: "/admin/v1/services/rel-orders/releases/1/rollback", want: 200, body: `{"message":".2 misbehaves"}`, header: bearer(relPaymentsDev)},
		{name: "promote a canary", method: "POST", target: "/admin/v1/services/rel-orders/releases/2/rollback", want: 200},
		{name: "roll back to the release in service", method: "POST", target: "/admin/v1/services/rel-orders/releases/3/rollback", want: 200},
		{name: "roll back to a missing release", method: "POST", target: "/admin/v1/services/rel-orders/releases/9/rollback", want: 404},
		{name: "roll back with a sunset", method: "POST", target: "/admin/v1/services/rel-orders/releases/1/rollback", want: 400, body: `{"sunset":"2027-01-01T00:00:00Z"}`},
		{name: "roll back another team's service", method: "POST", target: "/admin/v1/services/rel-orders/releases/1/rollback", want: 404, header: bearer(relAppsAdmin)},
		{name: "roll back as a viewer", method: "POST", target: "/admin/v1/services/rel-orders/releases/1/rollback", want: 403, header: bearer(oasViewerToken)},
		{name: "roll back, too large", method: "POST", target: "/admin/v1/services/rel-orders/releases/1/rollback", want: 413, body: `{"message":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "roll back to a release that no longer fits", method: "POST", target: "/admin/v1/services/rel-legacy/releases/1/rollback", want: 422,
			setup: func(f *oasFixture) {
				cfg, _ := f.configs.Current()
				next, _ := catalog.WithoutService(cfg, "rel-orders")
				next, _ = catalog.WithoutService(next, "rel-legacy")
				next, _ = catalog.WithService(next, config.Service{Name: "rel-squatter", Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://10.0.0.9:80"}}}, Routes: []config.Route{{Path: "/rel-legacy"}}})
				if _, err := f.configs.Apply(f.t.Context(), next, "t", "squat", false); err != nil {
					f.t.Fatal(err)
				}
			}},

		{name: "deprecate", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 200, body: `{"sunset":"2027-06-30T00:00:00Z","message":"use v2"}`, header: bearer(relPaymentsDev)},
		{name: "deprecate without a body", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 200},
		{name: "deprecate with a bad sunset", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 400, body: `{"sunset":"soon"}`},
		{name: "deprecate an unknown service", method: "POST", target: "/admin/v1/services/nope/deprecate", want: 404},
		{name: "deprecate another team's service", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 404, header: bearer(relAppsAdmin)},
		{name: "deprecate, too large", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 413, body: `{"message":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "deprecate, invalid", method: "POST", target: "/admin/v1/services/rel-orders/deprecate", want: 422,
			setup: func(f *oasFixture) {
				f.configs.cfg.Consumers = append(f.configs.cfg.Consumers, config.Consumer{Name: "stray", Team: "gone"})
			}},
		{name: "retire", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 200, header: bearer(relPaymentsDev)},
		{name: "retire with a sunset", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 400, body: `{"sunset":"2027-01-01T00:00:00Z"}`},
		{name: "retire another team's service", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 404, header: bearer(relAppsAdmin)},
		{name: "retire as a viewer", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 403, header: bearer(oasViewerToken)},
		{name: "retire an unknown service", method: "POST", target: "/admin/v1/services/nope/retire", want: 404},
		{name: "retire, too large", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 413, body: `{"message":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "retire, invalid", method: "POST", target: "/admin/v1/services/rel-legacy/retire", want: 422,
			setup: func(f *oasFixture) {
				f.configs.cfg.Consumers = append(f.configs.cfg.Consumers, config.Consumer{Name: "stray", Team: "gone"})
			}},
	}
	for i := range cases {
		cases[i] = relCase(cases[i])
	}
	return cases
}

// TestReleaseFlow runs a draft through publish, canary and rollback on the
// fixture and checks what each step records: the releases, their diffs and
// numbers, and the audit entries.
func TestReleaseFlow(t *testing.T) {
	f := newOASFixture(t)
	f.t = t
	withReleases(f)
	h := f.server.Handler()
	send := func(method, path, body string, want int, out any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+relPaymentsDev)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
		}
		if out != nil {
			if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var dd draftDiff
	send("GET", "/admin/v1/services/rel-orders/draft/diff", "", 200, &dd)
	if dd.Base != 3 || dd.DraftBase != 3 || len(dd.Diff) != 1 || dd.Diff[0] != `~ service rel-orders: upstream.targets: [{url: http://10.0.0.2:80}] -> [{url: http://10.0.0.4:80}]` {
		t.Fatalf("draft diff %+v", dd)
	}
	var res ApplyResult
	send("POST", "/admin/v1/services/rel-orders/publish", `{"message":"try .4","canary_percent":12.5}`, 200, &res)
	if len(res.Releases) != 2 || res.Releases[0].Number != 4 || res.Releases[0].Published || res.Releases[1].Number != 5 ||
		strings.Join(res.Releases[1].Diff, "") != "~ service rel-orders: canary: none -> {release: 4, percent: 12.5}" ||
		strings.Join(res.Releases[0].Diff, "") != dd.Diff[0] {
		t.Fatalf("canary publish: %+v", res.Releases)
	}
	cfg, _ := f.configs.Current()
	if i, _ := catalog.Find(cfg, "rel-orders"); cfg.Services[i].Upstream.Targets[0].URL != "http://10.0.0.2:80" || cfg.Services[i].Canary == nil {
		t.Fatalf("a canary publish changed the published definition: %+v", cfg.Services[i])
	}
	// Promote the canary, then roll back to release 3.
	send("POST", "/admin/v1/services/rel-orders/releases/4/rollback", "", 200, &res)
	if len(res.Releases) != 1 || res.Releases[0].Number != 6 {
		t.Fatalf("promotion: %+v", res.Releases)
	}
	cfg, _ = f.configs.Current()
	if i, _ := catalog.Find(cfg, "rel-orders"); cfg.Services[i].Upstream.Targets[0].URL != "http://10.0.0.4:80" || cfg.Services[i].Canary != nil {
		t.Fatalf("after the promotion: %+v", cfg.Services[i])
	}
	send("POST", "/admin/v1/services/rel-orders/releases/3/rollback", "", 200, &res)
	if len(res.Releases) != 1 || res.Releases[0].Number != 7 || res.Releases[0].Message != "roll service rel-orders back to release 3" {
		t.Fatalf("rollback: %+v", res.Releases)
	}
	var r3, r7 catalog.Release
	send("GET", "/admin/v1/services/rel-orders/releases/3", "", 200, &r3)
	send("GET", "/admin/v1/services/rel-orders/releases/7", "", 200, &r7)
	if string(r3.Definition) != string(r7.Definition) || r7.Author != "token:rel-dev" {
		t.Fatalf("release 7 = %+v, want release 3's definition by token:rel-dev", r7)
	}
	page, err := f.db.ListAudit(t.Context(), auth.AuditFilter{Target: "service:rel-orders", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, e.Action+"/"+e.Team+"/"+e.Actor)
	}
	want := "service.rollback/payments/token:rel-dev service.rollback/payments/token:rel-dev service.canary/payments/token:rel-dev"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit entries %q, want %q", got, want)
	}
}
