package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/store"
)

// Catalog covers what the catalog keeps: subscriptions and their
// decisions, the services' OpenAPI documents, and consumer keys' expiry
// and rotation.
func Catalog(t *testing.T, db *store.DB) {
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, db) })
	t.Run("SubscriptionDecisionsRace", func(t *testing.T) { testSubscriptionRace(t, db) })
	t.Run("OpenAPIDocuments", func(t *testing.T) { testOpenAPIDocuments(t, db) })
	t.Run("KeyExpiryAndRotation", func(t *testing.T) { testKeyRotation(t, db) })
}

func testSubscriptions(t *testing.T, db *store.DB) {
	ctx := t.Context()
	at := stored(base)
	decided := at.Add(time.Minute)
	full := catalog.Subscription{ID: "sub_full", Consumer: "web-shop", Service: "orders-api", State: catalog.SubscriptionApproved,
		Source: catalog.SourceAPI, Reason: "auto ✓", RequestedBy: "token:ci", DecidedBy: "approval:auto",
		CreatedAt: at, UpdatedAt: at, DecidedAt: &decided}
	got, created, err := db.CreateSubscription(ctx, full)
	if err != nil || !created || !reflect.DeepEqual(got, full) {
		t.Fatalf("CreateSubscription: %+v, %v, %v", got, created, err)
	}
	if back, err := db.GetSubscription(ctx, "sub_full"); err != nil || !reflect.DeepEqual(back, full) {
		t.Fatalf("GetSubscription:\n got %+v, %v\nwant %+v", back, err, full)
	}
	// The same consumer and service again, approved: returned unchanged.
	dup := full
	dup.ID, dup.RequestedBy = "sub_dup", "user:someone"
	if got, created, err := db.CreateSubscription(ctx, dup); err != nil || created || got.ID != "sub_full" || got.RequestedBy != "token:ci" {
		t.Fatalf("asking again: %+v, %v, %v", got, created, err)
	}
	pending := catalog.Subscription{ID: "sub_p", Consumer: "mobile", Service: "orders-api", State: catalog.SubscriptionPending,
		RequestedBy: "token:ci", CreatedAt: at.Add(time.Second), UpdatedAt: at.Add(time.Second)}
	if _, _, err := db.CreateSubscription(ctx, pending); err != nil {
		t.Fatal(err)
	}
	other := catalog.Subscription{ID: "sub_o", Consumer: "mobile", Service: "search-api", State: catalog.SubscriptionPending,
		CreatedAt: at.Add(2 * time.Second), UpdatedAt: at.Add(2 * time.Second)}
	if _, _, err := db.CreateSubscription(ctx, other); err != nil {
		t.Fatal(err)
	}
	bad := []catalog.Subscription{
		{ID: "", Consumer: "a", Service: "b", State: catalog.SubscriptionPending},
		{ID: "x", Consumer: "", Service: "b", State: catalog.SubscriptionPending},
		{ID: "x", Consumer: "a", Service: "b", State: "maybe"},
	}
	for _, b := range bad {
		if _, _, err := db.CreateSubscription(ctx, b); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateSubscription(%+v) = %v, want ErrInvalid", b, err)
		}
	}
	taken := catalog.Subscription{ID: "sub_full", Consumer: "c", Service: "d", State: catalog.SubscriptionPending}
	if _, _, err := db.CreateSubscription(ctx, taken); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a taken ID: %v, want ErrConflict", err)
	}

	filters := []struct {
		name string
		f    catalog.SubscriptionFilter
		want []string
	}{
		{"all, oldest first", catalog.SubscriptionFilter{}, []string{"sub_full", "sub_p", "sub_o"}},
		{"by state", catalog.SubscriptionFilter{State: catalog.SubscriptionPending}, []string{"sub_p", "sub_o"}},
		{"by service", catalog.SubscriptionFilter{Service: "orders-api"}, []string{"sub_full", "sub_p"}},
		{"by consumer and service", catalog.SubscriptionFilter{Consumer: "mobile", Service: "search-api"}, []string{"sub_o"}},
		{"nothing", catalog.SubscriptionFilter{Consumer: "nobody"}, nil},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			list, err := db.ListSubscriptions(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range list {
				ids = append(ids, s.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Fatalf("ids %v, want %v", ids, tt.want)
			}
		})
	}

	// Decisions apply only from the state they expect.
	when := at.Add(time.Hour)
	rej, err := db.DecideSubscription(ctx, catalog.SubscriptionDecision{ID: "sub_p", From: catalog.SubscriptionPending,
		To: catalog.SubscriptionRejected, Reason: "not now", Actor: "user:ana@example.com", At: when})
	if err != nil || rej.State != catalog.SubscriptionRejected || rej.Reason != "not now" || rej.DecidedBy != "user:ana@example.com" ||
		rej.DecidedAt == nil || !rej.DecidedAt.Equal(when) || !rej.UpdatedAt.Equal(when) || !rej.CreatedAt.Equal(pending.CreatedAt) {
		t.Fatalf("reject: %+v, %v", rej, err)
	}
	if _, err := db.DecideSubscription(ctx, catalog.SubscriptionDecision{ID: "sub_p", From: catalog.SubscriptionPending,
		To: catalog.SubscriptionApproved, At: when}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("approving a rejected subscription: %v, want ErrConflict", err)
	}
	if _, err := db.DecideSubscription(ctx, catalog.SubscriptionDecision{ID: "sub_nope", From: catalog.SubscriptionPending,
		To: catalog.SubscriptionApproved}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown subscription: %v, want ErrNotFound", err)
	}
	if _, err := db.GetSubscription(ctx, "sub_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSubscription(unknown) = %v", err)
	}

	// Asking again after the rejection reopens the same row.
	again := catalog.Subscription{ID: "sub_new", Consumer: "mobile", Service: "orders-api", State: catalog.SubscriptionPending,
		RequestedBy: "user:mo@example.com", CreatedAt: when.Add(time.Minute), UpdatedAt: when.Add(time.Minute)}
	re, created, err := db.CreateSubscription(ctx, again)
	if err != nil || !created || re.ID != "sub_p" || re.State != catalog.SubscriptionPending || re.Reason != "" ||
		re.DecidedBy != "" || re.DecidedAt != nil || re.RequestedBy != "user:mo@example.com" || !re.CreatedAt.Equal(pending.CreatedAt) {
		t.Fatalf("reopening: %+v, %v, %v", re, created, err)
	}
	if back, err := db.GetSubscription(ctx, "sub_p"); err != nil || !reflect.DeepEqual(back, re) {
		t.Fatalf("reopened row reads back as %+v, %v; want %+v", back, err, re)
	}
}

// testSubscriptionRace decides one subscription from many goroutines at
// once: exactly one decision applies.
func testSubscriptionRace(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, _, err := db.CreateSubscription(ctx, catalog.Subscription{ID: "sub_race", Consumer: "a", Service: "b", State: catalog.SubscriptionPending}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := catalog.SubscriptionApproved
			if i%2 == 1 {
				to = catalog.SubscriptionRejected
			}
			_, errs[i] = db.DecideSubscription(ctx, catalog.SubscriptionDecision{ID: "sub_race", From: catalog.SubscriptionPending,
				To: to, Actor: fmt.Sprintf("user:%d", i)})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("a losing decision failed with %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d decisions applied, want exactly 1", won)
	}
}

func testOpenAPIDocuments(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, err := db.GetOpenAPI(ctx, "orders-api"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOpenAPI before any upload: %v", err)
	}
	doc := []byte("openapi: 3.1.0\ninfo: {title: Orders ✓, version: '2'}\n\x00binary-safe\n")
	d := catalog.OpenAPIDocument{Service: "orders-api", MediaType: catalog.MediaYAML, OpenAPI: "3.1.0", Title: "Orders ✓", Version: "2",
		SourceURL: "https://orders.example/openapi.yaml", SHA256: "ab12", UpdatedBy: "user:ana@example.com", UpdatedAt: stored(base), Document: doc}
	put, err := db.PutOpenAPI(ctx, d)
	if err != nil || put.Size != len(doc) {
		t.Fatalf("PutOpenAPI: %+v, %v", put, err)
	}
	got, err := db.GetOpenAPI(ctx, "orders-api")
	want := d
	want.Size = len(doc)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetOpenAPI:\n got %+v, %v\nwant %+v", got, err, want)
	}
	// A second upload replaces the first.
	d2 := catalog.OpenAPIDocument{Service: "orders-api", MediaType: catalog.MediaJSON, OpenAPI: "3.0.3", Title: "Orders", Version: "3",
		SHA256: "cd34", UpdatedAt: stored(base.Add(time.Hour)), Document: []byte(`{"openapi":"3.0.3"}`)}
	if _, err := db.PutOpenAPI(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutOpenAPI(ctx, catalog.OpenAPIDocument{Service: "search-api", MediaType: catalog.MediaJSON, OpenAPI: "3.1.0",
		SHA256: "ef", Document: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListOpenAPI(ctx)
	if err != nil || len(list) != 2 || list[0].Service != "orders-api" || list[0].Version != "3" || list[0].SourceURL != "" ||
		list[0].Size != len(d2.Document) || list[0].Document != nil || list[1].Service != "search-api" {
		t.Fatalf("ListOpenAPI: %+v, %v", list, err)
	}
	if _, err := db.PutOpenAPI(ctx, catalog.OpenAPIDocument{Service: "x", MediaType: catalog.MediaJSON}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an empty document: %v, want ErrInvalid", err)
	}
}

func testKeyRotation(t *testing.T, db *store.DB) {
	ctx := t.Context()
	mk := func(id, consumer string, expires *time.Time) auth.Key {
		secret := auth.NewSecret("hg-")
		return auth.Key{ID: id, Consumer: consumer, Name: "prod", Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret),
			CreatedAt: stored(base), ExpiresAt: expires}
	}
	soon := stored(base.Add(time.Hour))
	later := stored(base.Add(48 * time.Hour))
	for _, k := range []auth.Key{mk("k-old", "web-shop", nil), mk("k-soon", "web-shop", &soon), mk("k-gone", "web-shop", nil)} {
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.GetKey(ctx, "k-soon"); err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(soon) {
		t.Fatalf("GetKey: %+v, %v", got, err)
	}
	if err := db.RevokeKey(ctx, "k-gone"); err != nil {
		t.Fatal(err)
	}
	grace := stored(base.Add(24 * time.Hour))
	tests := []struct {
		name     string
		old      string
		next     auth.Key
		expires  time.Time
		wantErr  error
		wantOld  time.Time // the old key's expiry afterwards
		consumer string
	}{
		{name: "rotate", old: "k-old", next: mk("k-new1", "web-shop", &later), expires: grace, wantOld: grace},
		{name: "a sooner expiry is kept", old: "k-soon", next: mk("k-new2", "web-shop", nil), expires: grace, wantOld: soon},
		{name: "revoked", old: "k-gone", next: mk("k-new3", "web-shop", nil), expires: grace, wantErr: store.ErrConflict},
		{name: "another consumer's", old: "k-old", next: mk("k-new4", "mobile", nil), expires: grace, wantErr: store.ErrNotFound},
		{name: "unknown", old: "k-nope", next: mk("k-new5", "web-shop", nil), expires: grace, wantErr: store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, err := db.RotateKey(ctx, tt.old, tt.next, tt.expires)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				// Nothing of a failed rotation is stored.
				if _, err := db.GetKey(ctx, tt.next.ID); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("the new key of a failed rotation exists: %v", err)
				}
				return
			}
			if err != nil || old.ExpiresAt == nil || !old.ExpiresAt.Equal(tt.wantOld) {
				t.Fatalf("RotateKey: %+v, %v; want the old key to expire at %v", old, err, tt.wantOld)
			}
			back, err := db.GetKey(ctx, tt.old)
			if err != nil || !reflect.DeepEqual(back, old) {
				t.Fatalf("the old key reads back as %+v, %v; want %+v", back, err, old)
			}
			next, err := db.GetKey(ctx, tt.next.ID)
			if err != nil || !reflect.DeepEqual(next, tt.next) {
				t.Fatalf("the new key reads back as %+v, %v; want %+v", next, err, tt.next)
			}
		})
	}
	// Expired keys stay in the active set: the data plane says why it
	// refuses them.
	active, err := db.ActiveKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, k := range active {
		ids[k.ID] = true
	}
	if !ids["k-old"] || !ids["k-soon"] || !ids["k-new1"] || ids["k-gone"] {
		t.Fatalf("ActiveKeys = %v", ids)
	}
}
