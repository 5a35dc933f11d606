package catalog_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

const flowConfig = `
teams: [ { name: payments }, { name: search } ]
consumers:
  - { name: web-shop, team: payments, subscriptions: [declared-api] }
  - { name: finder, team: search }
services:
  - name: orders-api
    team: payments
    approval: manual
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /orders } ]
    webhook: { url: "%s", secret: env:FLOW_HOOK_SECRET }
  - name: search-api
    team: search
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /search } ]
  - name: declared-api
    team: payments
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /declared } ]
  - name: old-api
    team: payments
    state: retired
    upstream: { targets: [ { url: "http://127.0.0.1:1" } ] }
    routes: [ { path: /old } ]
`

// flow is the approval flow on an in-memory store, with a webhook receiver.
type flow struct {
	subs    *catalog.Subscriptions
	hooks   *catalog.Webhooks
	rcv     *receiver
	changes atomic.Int32
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	t.Setenv("FLOW_HOOK_SECRET", hookSecret)
	db, err := store.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &flow{rcv: newReceiver(t)}
	cfg, err := config.Parse([]byte(strings.Replace(flowConfig, "%s", f.rcv.srv.URL, 1)))
	if err != nil {
		t.Fatal(err)
	}
	f.hooks = catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, Backoff: time.Millisecond})
	t.Cleanup(func() { f.hooks.Close(context.Background()) })
	f.subs = &catalog.Subscriptions{Store: db, Config: func() *config.Config { return cfg }, Webhooks: f.hooks,
		OnChange: func(context.Context) { f.changes.Add(1) }}
	return f
}

func code(err error) string {
	var se *catalog.SubscriptionError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, store.ErrNotFound):
		return "store_not_found"
	case err != nil:
		return err.Error()
	}
	return ""
}

func TestSubscriptionFlow(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()

	// Manual approval: pending, announced as requested.
	sub, created, err := f.subs.Request(ctx, "finder", "orders-api", "user:fay@example.com")
	if err != nil || !created || sub.State != catalog.SubscriptionPending || sub.Source != catalog.SourceAPI ||
		sub.RequestedBy != "user:fay@example.com" || sub.DecidedAt != nil || !strings.HasPrefix(sub.ID, "sub_") {
		t.Fatalf("request: %+v, %v, %v", sub, created, err)
	}
	again, created, err := f.subs.Request(ctx, "finder", "orders-api", "user:other@example.com")
	if err != nil || created || again.ID != sub.ID || again.RequestedBy != "user:fay@example.com" {
		t.Fatalf("asking again: %+v, %v, %v", again, created, err)
	}

	// Auto approval: approved at once, no webhook configured.
	auto, created, err := f.subs.Request(ctx, "web-shop", "search-api", "token:ci")
	if err != nil || !created || auto.State != catalog.SubscriptionApproved || auto.DecidedBy != "approval:auto" || auto.DecidedAt == nil {
		t.Fatalf("auto: %+v, %v, %v", auto, created, err)
	}

	// Declared in the configuration: approved, nothing stored.
	decl, created, err := f.subs.Request(ctx, "web-shop", "declared-api", "token:ci")
	if err != nil || created || decl.Source != catalog.SourceConfig || decl.State != catalog.SubscriptionApproved || decl.ID != "config:web-shop:declared-api" {
		t.Fatalf("declared: %+v, %v, %v", decl, created, err)
	}
	if got, err := f.subs.Get(ctx, decl.ID); err != nil || got != decl {
		t.Fatalf("get declared: %+v, %v", got, err)
	}

	refusals := []struct {
		name              string
		consumer, service string
		want              string
	}{
		{"unknown consumer", "nobody", "orders-api", "not_found"},
		{"unknown service", "finder", "nothing", "not_found"},
		{"retired service", "finder", "old-api", "service_retired"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := f.subs.Request(ctx, tt.consumer, tt.service, "token:ci"); code(err) != tt.want {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
		})
	}

	decisions := []struct {
		name   string
		id     string
		action catalog.SubscriptionAction
		reason string
		want   string // error code, or the state reached
	}{
		{"revoke a pending one", sub.ID, catalog.ActionRevoke, "no", "invalid_state"},
		{"reject without a reason", sub.ID, catalog.ActionReject, "  ", "invalid_request"},
		{"reason too long", sub.ID, catalog.ActionApprove, strings.Repeat("é", catalog.MaxReasonBytes), "invalid_request"},
		{"unknown action", sub.ID, "escalate", "", "invalid_request"},
		{"unknown id", "sub_nope", catalog.ActionApprove, "", "store_not_found"},
		{"a declared one", decl.ID, catalog.ActionRevoke, "no", "declared_in_config"},
		{"approve", sub.ID, catalog.ActionApprove, "", "approved"},
		{"approve twice", sub.ID, catalog.ActionApprove, "", "invalid_state"},
		{"reject an approved one", sub.ID, catalog.ActionReject, "late", "invalid_state"},
		{"revoke", sub.ID, catalog.ActionRevoke, "contract ended", "revoked"},
	}
	for _, tt := range decisions {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.subs.Decide(ctx, tt.id, tt.action, tt.reason, "user:ana@example.com")
			if err != nil {
				if code(err) != tt.want {
					t.Fatalf("error %v, want %s", err, tt.want)
				}
				return
			}
			if string(got.State) != tt.want || got.DecidedBy != "user:ana@example.com" || got.DecidedAt == nil || got.Reason != strings.TrimSpace(tt.reason) {
				t.Fatalf("decided %+v, want state %s", got, tt.want)
			}
		})
	}

	// A revoked subscription can be asked for again: the same one reopens.
	reopened, created, err := f.subs.Request(ctx, "finder", "orders-api", "user:fay@example.com")
	if err != nil || !created || reopened.ID != sub.ID || reopened.State != catalog.SubscriptionPending || reopened.Reason != "" || reopened.DecidedAt != nil {
		t.Fatalf("reopened: %+v, %v, %v", reopened, created, err)
	}
	if _, err := f.subs.Decide(ctx, sub.ID, catalog.ActionReject, "internal tools only", "user:ana@example.com"); err != nil {
		t.Fatal(err)
	}

	list, err := f.subs.List(ctx, catalog.SubscriptionFilter{})
	if err != nil || len(list) != 3 || list[0].Source != catalog.SourceConfig {
		t.Fatalf("list: %+v, %v", list, err)
	}
	rejected, err := f.subs.List(ctx, catalog.SubscriptionFilter{State: catalog.SubscriptionRejected, Service: "orders-api", Consumer: "finder"})
	if err != nil || len(rejected) != 1 || rejected[0].Reason != "internal tools only" {
		t.Fatalf("filtered list: %+v, %v", rejected, err)
	}

	// Every stored change was reported; the orders-api webhook heard of
	// each one. Two workers deliver in parallel, so events may arrive out of
	// order (receivers order them by time and de-duplicate by id): compare
	// them in the order they happened.
	if n := f.changes.Load(); n != 6 {
		t.Errorf("%d changes reported, want 6 (request, auto approval, approve, revoke, reopen, reject)", n)
	}
	waitFor(t, "the webhook events", func() bool { return len(f.rcv.events()) == 5 })
	var got []string
	events := f.rcv.events()
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	for _, ev := range events {
		got = append(got, string(ev.Event)+"/"+ev.Actor)
		if ev.Service != "orders-api" || ev.Consumer != "finder" || ev.Subscription.ID != sub.ID {
			t.Errorf("event about something else: %+v", ev)
		}
	}
	want := []string{"subscription.requested/user:fay@example.com", "subscription.approved/user:ana@example.com",
		"subscription.revoked/user:ana@example.com", "subscription.requested/user:fay@example.com", "subscription.rejected/user:ana@example.com"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestConcurrentDecisions has two approvers decide the same subscription at
// once: exactly one wins, the other learns it lost.
func TestConcurrentDecisions(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()
	for range 5 {
		sub, _, err := f.subs.Request(ctx, "finder", "orders-api", "token:ci")
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for _, a := range []catalog.SubscriptionAction{catalog.ActionApprove, catalog.ActionReject} {
			go func() {
				_, err := f.subs.Decide(ctx, sub.ID, a, "decided", "user:ana@example.com")
				errs <- err
			}()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) {
			t.Fatalf("both or neither decision won: %v, %v", e1, e2)
		}
		lost := e1
		if lost == nil {
			lost = e2
		}
		if c := code(lost); c != "invalid_state" && !errors.Is(lost, store.ErrConflict) {
			t.Fatalf("the losing decision failed with %v", lost)
		}
		cur, _ := f.subs.Get(ctx, sub.ID)
		if cur.State == catalog.SubscriptionApproved {
			if _, err := f.subs.Decide(ctx, sub.ID, catalog.ActionRevoke, "next round", "user:ana@example.com"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCatalogEntry(t *testing.T) {
	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := &catalog.OpenAPIDocument{Service: "orders-api", Title: "Orders"}
	subs := []catalog.Subscription{
		{ID: "a", Consumer: "web-shop", Service: "orders-api", State: catalog.SubscriptionPending},
		{ID: "b", Consumer: "mobile", Service: "orders-api", State: catalog.SubscriptionApproved},
		{ID: "c", Consumer: "web-shop", Service: "other", State: catalog.SubscriptionApproved},
	}
	tests := []struct {
		name           string
		sv             config.Service
		subs           []catalog.Subscription
		wantSubscribed bool
		wantSubs       int
	}{
		{"defaults", config.Service{Name: "orders-api"}, nil, false, 0},
		{"pending only", config.Service{Name: "orders-api"}, subs[:1], false, 1},
		{"one approved", config.Service{Name: "orders-api"}, subs, true, 2},
		{"public", config.Service{Name: "orders-api", Public: true}, nil, true, 0},
		{"deprecated ai", config.Service{Name: "orders-api", Kind: config.KindAI, State: config.StateDeprecated, Sunset: &sunset,
			Approval: config.ApprovalManual, Tags: []string{"x"}, Models: []string{"m"}}, subs[2:], false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := catalog.NewEntry(tt.sv, tt.subs, doc)
			if e.Subscribed != tt.wantSubscribed || len(e.Subscriptions) != tt.wantSubs || e.Tags == nil || e.OpenAPI != doc {
				t.Fatalf("entry %+v", e)
			}
			if tt.sv.Kind == "" && (e.Kind != config.KindREST || e.State != config.StatePublished || e.Approval != config.ApprovalAuto) {
				t.Fatalf("defaults not filled: %+v", e)
			}
			if tt.sv.State != "" && (e.State != tt.sv.State || e.Sunset != tt.sv.Sunset) {
				t.Fatalf("lifecycle lost: %+v", e)
			}
		})
	}
	if catalog.Listed(config.Service{State: config.StateRetired}) || !catalog.Listed(config.Service{State: config.StateDeprecated}) {
		t.Fatal("Listed: retired services are not listed, deprecated ones are")
	}
}
