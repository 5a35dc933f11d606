package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// RotateKey makes oasKeys a Keys: the new key takes the old one's name,
// the old one expires after grace (or keeps a sooner expiry).
func (k *oasKeys) RotateKey(ctx context.Context, consumer, id string, grace time.Duration, expiresAt *time.Time) (auth.Key, string, auth.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range k.keys {
		old := &k.keys[i]
		if old.ID != id || old.Consumer != consumer {
			continue
		}
		if old.RevokedAt != nil {
			return auth.Key{}, "", auth.Key{}, fmt.Errorf("key %q: %w", id, store.ErrConflict)
		}
		exp := time.Now().Add(grace).UTC()
		if old.ExpiresAt == nil || exp.Before(*old.ExpiresAt) {
			old.ExpiresAt = &exp
		}
		secret := auth.NewSecret("hg-")
		next := auth.Key{ID: fmt.Sprintf("key_%d", len(k.keys)+1), Consumer: consumer, Name: old.Name,
			Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret), CreatedAt: time.Now().UTC(), ExpiresAt: expiresAt}
		prev := *old
		k.keys = append(k.keys, next)
		return next, secret, prev, nil
	}
	return auth.Key{}, "", auth.Key{}, fmt.Errorf("key %q: %w", id, store.ErrNotFound)
}

// Catalog fixture secrets: API tokens of team roles, to check who may
// decide on subscriptions.
const (
	oasPaymentsAdmin = "hgt-fixture-payments-admin-0123456789abcdefghijk"
	oasAppsAdmin     = "hgt-fixture-apps-admin-0123456789abcdefghijklmno"
	oasPaymentsDev   = "hgt-fixture-payments-dev-0123456789abcdefghijklm"
)

// A document the import scenarios fetch, and its YAML form for uploads.
const (
	oasOrdersDoc  = `{"openapi":"3.1.0","info":{"title":"Orders","version":"2.4.0"},"paths":{"/orders":{"get":{"responses":{"200":{"description":"ok"}}}}}}`
	oasOrdersYAML = "openapi: 3.0.3\ninfo:\n  title: Orders\n  version: 2.5.0\npaths: {}\n"
)

// withCatalog adds services, a second consumer, subscriptions in every
// state, an OpenAPI document and team tokens to the fixture, and wires the
// catalog into its server. The services' openapi_url is served by a test
// server that answers the document, an error, or something else.
func withCatalog(t *testing.T, f *oasFixture) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(oasOrdersDoc))
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
	mux.HandleFunc("GET /swagger.json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"swagger":"2.0","info":{"title":"Old","version":"1"}}`))
	})
	docs := httptest.NewServer(mux)
	t.Cleanup(docs.Close)

	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := f.configs.cfg
	cfg.Consumers[0].Subscriptions = []string{"catalog-ai"}
	cfg.Consumers[0].JWT = &config.ConsumerJWT{Issuer: "https://id.example.com", Audience: "hypergate", Secret: "env:WEB_SHOP_JWT"}
	cfg.Consumers = append(cfg.Consumers, config.Consumer{Name: "search-app", Team: "apps",
		JWT: &config.ConsumerJWT{Issuer: "https://login.example.org", JWKSURL: "https://login.example.org/jwks.json"}})
	rest := func(name, team, approval string) config.Service {
		return config.Service{Name: name, Team: team, Approval: approval, Description: "The " + name + " API",
			Upstream: &config.ServiceUpstream{Targets: []config.UpstreamTarget{{URL: "http://127.0.0.1:1"}}},
			Routes:   []config.Route{{Path: "/" + name}}}
	}
	orders := rest("catalog-orders", "payments", config.ApprovalManual)
	orders.Tags, orders.OpenAPIURL = []string{"orders", "v2"}, docs.URL+"/openapi.json"
	search := rest("catalog-search", "apps", config.ApprovalAuto)
	search.Webhook = &config.Webhook{URL: "https://hooks.example.com/subscriptions", Secret: "env:SEARCH_HOOK_SECRET"}
	search.OpenAPIURL = docs.URL + "/broken"
	billing := rest("catalog-billing", "payments", config.ApprovalManual)
	billing.OpenAPIURL = docs.URL + "/swagger.json"
	old := rest("catalog-old", "payments", "")
	old.State = config.StateRetired
	ai := config.Service{Name: "catalog-ai", Team: "payments", Kind: config.KindAI, Public: true, Models: []string{"gpt-4o-mini"},
		State: config.StateDeprecated, Sunset: &sunset, Routes: []config.Route{{Path: "/catalog-ai"}}}
	cfg.Services = append(cfg.Services, orders, search, billing, old, ai)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("catalog fixture configuration: %v", err)
	}

	ctx := t.Context()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, s := range []catalog.Subscription{
		{ID: "sub_pending", Consumer: "search-app", Service: "catalog-orders", State: catalog.SubscriptionPending, RequestedBy: "token:ci", CreatedAt: at, UpdatedAt: at},
		{ID: "sub_internal", Consumer: "web-shop", Service: "catalog-orders", State: catalog.SubscriptionPending, RequestedBy: "token:ci", CreatedAt: at, UpdatedAt: at},
		{ID: "sub_approved", Consumer: "web-shop", Service: "catalog-search", State: catalog.SubscriptionPending, RequestedBy: "user:ana@example.com", CreatedAt: at, UpdatedAt: at},
	} {
		if _, _, err := f.db.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	approved, err := f.db.DecideSubscription(ctx, catalog.SubscriptionDecision{ID: "sub_approved", From: catalog.SubscriptionPending,
		To: catalog.SubscriptionApproved, Reason: "for the spring launch", Actor: "user:ana@example.com", At: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	requireAllFieldsSet(t, approved)
	doc, err := catalog.ParseOpenAPI([]byte(oasOrdersDoc))
	if err != nil {
		t.Fatal(err)
	}
	doc.Service, doc.SourceURL, doc.UpdatedBy, doc.UpdatedAt = "catalog-orders", docs.URL+"/openapi.json", "user:ana@example.com", at
	stored, err := f.db.PutOpenAPI(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	requireAllFieldsSet(t, stored)
	for _, tk := range []auth.Token{
		{ID: "tok_pay_admin", Name: "payments-admin", Role: auth.RoleTeamAdmin, Team: "payments", Prefix: "hgt-fixtur", Hash: auth.HashKey(oasPaymentsAdmin), CreatedAt: at},
		{ID: "tok_apps_admin", Name: "apps-admin", Role: auth.RoleTeamAdmin, Team: "apps", Prefix: "hgt-fixtur", Hash: auth.HashKey(oasAppsAdmin), CreatedAt: at},
		{ID: "tok_pay_dev", Name: "payments-dev", Role: auth.RoleDeveloper, Team: "payments", Prefix: "hgt-fixtur", Hash: auth.HashKey(oasPaymentsDev), CreatedAt: at},
	} {
		if err := f.db.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	f.server.Subscriptions = &catalog.Subscriptions{Store: f.db, Config: func() *config.Config { c, _ := f.configs.Current(); return c }}
	f.server.Documents = f.db
	// Loopback is allowed: internal hosts commonly publish documents.
	f.server.Importer = &catalog.Fetcher{Timeout: 5 * time.Second}
}

func bearer(secret string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + secret}
}

// catalogCases are the scenarios of the catalog, subscription and key
// rotation endpoints; each runs on a fixture withCatalog.
func catalogCases() []oasCase {
	sum := sha256.Sum256([]byte(oasOrdersDoc))
	cases := []oasCase{
		{name: "list catalog", method: "GET", target: "/admin/v1/catalog", want: 200},
		{name: "list catalog as a viewer", method: "GET", target: "/admin/v1/catalog", want: 200, header: bearer(oasViewerToken)},
		{name: "list catalog filtered", method: "GET", target: "/admin/v1/catalog?tag=orders&kind=rest&team=payments", want: 200},
		{name: "list catalog of kind soap", method: "GET", target: "/admin/v1/catalog?kind=soap", want: 400},
		{name: "get catalog entry", method: "GET", target: "/admin/v1/catalog/catalog-orders", want: 200},
		{name: "get catalog entry with every field", method: "GET", target: "/admin/v1/catalog/catalog-ai", want: 200},
		{name: "get unknown catalog entry", method: "GET", target: "/admin/v1/catalog/nope", want: 404},

		{name: "get openapi document", method: "GET", target: "/admin/v1/services/catalog-orders/openapi", want: 200},
		{name: "get unchanged openapi document", method: "GET", target: "/admin/v1/services/catalog-orders/openapi", want: 304,
			header: map[string]string{"If-None-Match": strconv.Quote(hex.EncodeToString(sum[:]))}},
		{name: "get missing openapi document", method: "GET", target: "/admin/v1/services/catalog-billing/openapi", want: 404},
		{name: "get openapi document of an unknown service", method: "GET", target: "/admin/v1/services/nope/openapi", want: 404},
		{name: "upload openapi document as JSON", method: "PUT", target: "/admin/v1/services/catalog-billing/openapi", want: 200,
			body: oasOrdersDoc, header: map[string]string{"Content-Type": "application/json"}},
		{name: "upload openapi document as YAML", method: "PUT", target: "/admin/v1/services/catalog-orders/openapi", want: 200,
			body: oasOrdersYAML, header: map[string]string{"Content-Type": "application/yaml"}},
		{name: "upload a swagger 2.0 document", method: "PUT", target: "/admin/v1/services/catalog-orders/openapi", want: 422,
			body: `{"swagger":"2.0","info":{"title":"x","version":"1"}}`},
		{name: "upload an openapi document too large", method: "PUT", target: "/admin/v1/services/catalog-orders/openapi", want: 413,
			body: `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"x":"` + strings.Repeat("a", catalog.MaxOpenAPIBytes) + `"}`},
		{name: "upload openapi document to an unknown service", method: "PUT", target: "/admin/v1/services/nope/openapi", want: 404, body: oasOrdersDoc},
		{name: "upload openapi document to another team's service", method: "PUT", target: "/admin/v1/services/catalog-search/openapi", want: 404,
			body: oasOrdersDoc, header: bearer(oasPaymentsAdmin)},
		{name: "upload openapi document as a viewer", method: "PUT", target: "/admin/v1/services/catalog-orders/openapi", want: 403,
			body: oasOrdersDoc, header: bearer(oasViewerToken)},
		{name: "import openapi document from openapi_url", method: "POST", target: "/admin/v1/services/catalog-orders/openapi/import", want: 200},
		{name: "import openapi document from a URL", method: "POST", target: "/admin/v1/services/catalog-ai/openapi/import", want: 200,
			setup: func(f *oasFixture) {
				// The URL is only known once the fixture's server runs.
				f.server.Importer = urlRewriter{f.server.Importer, catalogDocsURL(f)}
			},
			body: `{"url":"http://docs.invalid/openapi.json"}`},
		{name: "import openapi document over ftp", method: "POST", target: "/admin/v1/services/catalog-orders/openapi/import", want: 400,
			body: `{"url":"ftp://example.com/openapi.json"}`},
		{name: "import openapi document from a failing server", method: "POST", target: "/admin/v1/services/catalog-search/openapi/import", want: 502},
		{name: "import a swagger 2.0 document", method: "POST", target: "/admin/v1/services/catalog-billing/openapi/import", want: 422},
		{name: "import openapi document without a URL", method: "POST", target: "/admin/v1/services/catalog-ai/openapi/import", want: 400},
		{name: "import openapi document with an unknown field", method: "POST", target: "/admin/v1/services/catalog-orders/openapi/import", want: 400,
			body: `{"href":"x"}`},
		{name: "import openapi document, too large", method: "POST", target: "/admin/v1/services/catalog-orders/openapi/import", want: 413,
			body: `{"url":"` + strings.Repeat("a", 8<<20) + `"}`},

		{name: "list subscriptions", method: "GET", target: "/admin/v1/subscriptions", want: 200},
		{name: "list subscriptions filtered", method: "GET", target: "/admin/v1/subscriptions?state=approved&service=catalog-search&consumer=web-shop", want: 200},
		{name: "list subscriptions in state maybe", method: "GET", target: "/admin/v1/subscriptions?state=maybe", want: 400},
		{name: "list subscriptions as another team's admin", method: "GET", target: "/admin/v1/subscriptions", want: 200, header: bearer(oasAppsAdmin)},
		{name: "ask for a subscription needing approval", method: "POST", target: "/admin/v1/subscriptions", want: 201,
			body: `{"consumer":"web-shop","service":"catalog-billing"}`},
		{name: "ask for a subscription approved at once", method: "POST", target: "/admin/v1/subscriptions", want: 201,
			body: `{"consumer":"search-app","service":"catalog-search"}`},
		{name: "ask for a pending subscription again", method: "POST", target: "/admin/v1/subscriptions", want: 200,
			body: `{"consumer":"web-shop","service":"catalog-orders"}`},
		{name: "ask for a subscription declared in the configuration", method: "POST", target: "/admin/v1/subscriptions", want: 200,
			body: `{"consumer":"web-shop","service":"catalog-ai"}`},
		{name: "ask for a subscription to a retired service", method: "POST", target: "/admin/v1/subscriptions", want: 409,
			body: `{"consumer":"web-shop","service":"catalog-old"}`},
		{name: "ask for a subscription to an unknown service", method: "POST", target: "/admin/v1/subscriptions", want: 404,
			body: `{"consumer":"web-shop","service":"nope"}`},
		{name: "ask for a subscription of an unknown consumer", method: "POST", target: "/admin/v1/subscriptions", want: 404,
			body: `{"consumer":"nope","service":"catalog-orders"}`},
		{name: "ask for a subscription of another team's consumer", method: "POST", target: "/admin/v1/subscriptions", want: 404,
			body: `{"consumer":"search-app","service":"catalog-billing"}`, header: bearer(oasPaymentsDev)},
		{name: "ask for a subscription without a consumer", method: "POST", target: "/admin/v1/subscriptions", want: 400, body: `{"service":"catalog-orders"}`},
		{name: "ask for a subscription with an unknown field", method: "POST", target: "/admin/v1/subscriptions", want: 400,
			body: `{"consumer":"web-shop","service":"catalog-orders","plan":"gold"}`},
		{name: "ask for a subscription as a viewer", method: "POST", target: "/admin/v1/subscriptions", want: 403,
			body: `{"consumer":"web-shop","service":"catalog-billing"}`, header: bearer(oasViewerToken)},
		{name: "ask for a subscription, too large", method: "POST", target: "/admin/v1/subscriptions", want: 413,
			body: `{"consumer":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "get subscription", method: "GET", target: "/admin/v1/subscriptions/sub_approved", want: 200},
		{name: "get subscription declared in the configuration", method: "GET", target: "/admin/v1/subscriptions/config:web-shop:catalog-ai", want: 200},
		{name: "get unknown subscription", method: "GET", target: "/admin/v1/subscriptions/sub_nope", want: 404},
		{name: "get another team's subscription", method: "GET", target: "/admin/v1/subscriptions/sub_internal", want: 404, header: bearer(oasAppsAdmin)},

		{name: "approve subscription", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 200},
		{name: "approve subscription with a reason", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 200,
			body: `{"reason":"welcome aboard"}`, header: bearer(oasPaymentsAdmin)},
		{name: "approve an approved subscription", method: "POST", target: "/admin/v1/subscriptions/sub_approved/approve", want: 409},
		{name: "approve a subscription declared in the configuration", method: "POST", target: "/admin/v1/subscriptions/config:web-shop:catalog-ai/approve", want: 409},
		{name: "approve unknown subscription", method: "POST", target: "/admin/v1/subscriptions/sub_nope/approve", want: 404},
		{name: "approve with too long a reason", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 400,
			body: `{"reason":"` + strings.Repeat("r", catalog.MaxReasonBytes+1) + `"}`},
		{name: "approve subscription to another team's service", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 403,
			header: bearer(oasAppsAdmin)},
		{name: "approve another team's subscription", method: "POST", target: "/admin/v1/subscriptions/sub_internal/approve", want: 404,
			header: bearer(oasAppsAdmin)},
		{name: "approve subscription as a developer", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 403,
			header: bearer(oasPaymentsDev)},
		{name: "approve subscription, too large", method: "POST", target: "/admin/v1/subscriptions/sub_pending/approve", want: 413,
			body: `{"reason":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "reject subscription", method: "POST", target: "/admin/v1/subscriptions/sub_pending/reject", want: 200,
			body: `{"reason":"internal tools only"}`},
		{name: "reject subscription without a reason", method: "POST", target: "/admin/v1/subscriptions/sub_pending/reject", want: 400},
		{name: "reject an approved subscription", method: "POST", target: "/admin/v1/subscriptions/sub_approved/reject", want: 409,
			body: `{"reason":"too late"}`},
		{name: "reject unknown subscription", method: "POST", target: "/admin/v1/subscriptions/sub_nope/reject", want: 404, body: `{"reason":"x"}`},
		{name: "reject subscription as a viewer", method: "POST", target: "/admin/v1/subscriptions/sub_pending/reject", want: 403,
			body: `{"reason":"x"}`, header: bearer(oasViewerToken)},
		{name: "reject subscription, too large", method: "POST", target: "/admin/v1/subscriptions/sub_pending/reject", want: 413,
			body: `{"reason":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "revoke subscription", method: "POST", target: "/admin/v1/subscriptions/sub_approved/revoke", want: 200,
			body: `{"reason":"the contract ended"}`, header: bearer(oasAppsAdmin)},
		{name: "revoke a pending subscription", method: "POST", target: "/admin/v1/subscriptions/sub_pending/revoke", want: 409,
			body: `{"reason":"x"}`},
		{name: "revoke without a reason", method: "POST", target: "/admin/v1/subscriptions/sub_approved/revoke", want: 400, body: `{}`},
		{name: "revoke unknown subscription", method: "POST", target: "/admin/v1/subscriptions/sub_nope/revoke", want: 404, body: `{"reason":"x"}`},
		{name: "revoke subscription to another team's service", method: "POST", target: "/admin/v1/subscriptions/sub_approved/revoke", want: 403,
			body: `{"reason":"x"}`, header: bearer(oasPaymentsAdmin)},
		{name: "revoke subscription, too large", method: "POST", target: "/admin/v1/subscriptions/sub_approved/revoke", want: 413,
			body: `{"reason":"` + strings.Repeat("a", 8<<20) + `"}`},

		{name: "create key with an expiry", method: "POST", target: "/admin/v1/consumers/web-shop/keys", want: 201,
			body: `{"name":"temp","expires_at":"2099-01-01T00:00:00Z"}`},
		{name: "create key that has expired", method: "POST", target: "/admin/v1/consumers/web-shop/keys", want: 400,
			body: `{"name":"temp","expires_at":"2001-01-01T00:00:00Z"}`},
		{name: "rotate key", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 201,
			body: `{"grace":"1h","expires_at":"2099-01-01T00:00:00Z"}`},
		{name: "rotate key without a body", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 201},
		{name: "rotate key at once", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 201, body: `{"grace":"0s"}`},
		{name: "rotate key with a negative grace", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 400, body: `{"grace":"-1s"}`},
		{name: "rotate key with a grace of a year", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 400, body: `{"grace":"365d"}`},
		{name: "rotate key with a past expiry", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 400,
			body: `{"expires_at":"2001-01-01T00:00:00Z"}`},
		{name: "rotate revoked key", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_1/rotate", want: 409},
		{name: "rotate unknown key", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_99/rotate", want: 404},
		{name: "rotate key of an unknown consumer", method: "POST", target: "/admin/v1/consumers/nope/keys/key_2/rotate", want: 404},
		{name: "rotate key as a viewer", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 403, header: bearer(oasViewerToken)},
		{name: "rotate key, too large", method: "POST", target: "/admin/v1/consumers/web-shop/keys/key_2/rotate", want: 413,
			body: `{"grace":"` + strings.Repeat("a", 8<<20) + `"}`},
	}
	for i := range cases {
		setup := cases[i].setup
		cases[i].setup = func(f *oasFixture) {
			withCatalog(f.t, f)
			if setup != nil {
				setup(f)
			}
		}
	}
	return cases
}

// catalogDocsURL is the base URL of the fixture's document server.
func catalogDocsURL(f *oasFixture) string {
	cfg, _ := f.configs.Current()
	for _, sv := range cfg.Services {
		if sv.Name == "catalog-orders" {
			return strings.TrimSuffix(sv.OpenAPIURL, "/openapi.json")
		}
	}
	f.t.Fatal("no catalog-orders service in the fixture")
	return ""
}

// urlRewriter sends imports of http://docs.invalid to the fixture's
// document server, so that a scenario's body can name a URL.
type urlRewriter struct {
	next OpenAPIFetcher
	base string
}

func (u urlRewriter) Fetch(ctx context.Context, url string) ([]byte, error) {
	return u.next.Fetch(ctx, strings.Replace(url, "http://docs.invalid", u.base, 1))
}
