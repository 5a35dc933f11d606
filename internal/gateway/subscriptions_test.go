package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

func TestCheckSubscription(t *testing.T) {
	g := New(Options{})
	declared := &serviceTable{subs: map[string]map[string]bool{"shop": {"orders": true}}}
	g.SetSubscriptions(NewSubscriptionTable([]SubscriptionState{
		{Consumer: "shop", Service: "orders", State: SubscriptionRevoked, Reason: "declared wins"},
		{Consumer: "shop", Service: "search", State: SubscriptionApproved},
		{Consumer: "shop", Service: "billing", State: SubscriptionPending},
		{Consumer: "app", Service: "billing", State: SubscriptionRejected, Reason: "internal tools only"},
		{Consumer: "app", Service: "search", State: SubscriptionRevoked, Reason: strings.Repeat("é", 150)},
		{Consumer: "app", Service: "orders", State: SubscriptionRevoked},
	}))
	tests := []struct {
		consumer, service string
		code              string // "" when allowed
		contains          string
	}{
		{"shop", "orders", "", ""},
		{"shop", "search", "", ""},
		{"shop", "billing", "subscription_pending", "awaits approval"},
		{"app", "billing", "subscription_rejected", "rejected: internal tools only"},
		{"app", "search", "subscription_revoked", "…"},
		{"app", "orders", "subscription_revoked", `service "orders" was revoked`},
		{"app", "nothing", "subscription_required", "subscribe to it"},
		{"nobody", "orders", "subscription_required", "not subscribed"},
	}
	for _, tt := range tests {
		t.Run(tt.consumer+"/"+tt.service, func(t *testing.T) {
			e := g.checkSubscription(declared, tt.consumer, tt.service)
			switch {
			case tt.code == "" && e != nil:
				t.Fatalf("refused: %+v", e)
			case tt.code != "" && (e == nil || e.Code != tt.code || e.Status != 403 || !strings.Contains(e.Message, tt.contains)):
				t.Fatalf("got %+v, want 403 %s containing %q", e, tt.code, tt.contains)
			}
			if e != nil && len(e.Message) > 400 {
				t.Fatalf("message of %d bytes: the reason must be shortened", len(e.Message))
			}
		})
	}
	// An empty table after a reload refuses what it approved.
	g.SetSubscriptions(nil)
	if e := g.checkSubscription(declared, "shop", "search"); e == nil || e.Code != "subscription_required" {
		t.Fatalf("after clearing: %+v", e)
	}
}

func TestKeyTableExpiry(t *testing.T) {
	exp := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	revoked := exp
	tbl := NewKeyTable([]auth.Key{
		{ID: "k1", Consumer: "shop", Hash: "h1"},
		{ID: "k2", Consumer: "shop", Hash: "h2", ExpiresAt: &exp},
		{ID: "k3", Consumer: "shop", Hash: "h3", RevokedAt: &revoked},
	})
	if tbl["h1"].expires != 0 || tbl["h2"].expires != exp.UnixNano() {
		t.Fatalf("table %+v", tbl)
	}
	if _, ok := tbl["h3"]; ok {
		t.Fatal("a revoked key is in the table")
	}
}
