package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/gateway"
)

// newSubscriptions builds the approval flow and its webhook sender; a
// change made through this node reaches its data plane at once, other
// nodes within a sync interval.
func (a *App) newSubscriptions() {
	a.hooks = catalog.NewWebhooks(catalog.WebhookOptions{Logger: a.log, Registerer: a.metrics.Registry})
	a.subs = &catalog.Subscriptions{
		Store:    a.db,
		Config:   func() *config.Config { cfg, _ := a.current(); return cfg },
		Webhooks: a.hooks,
		OnChange: func(ctx context.Context) {
			if err := a.reloadSubscriptions(context.WithoutCancel(ctx)); err != nil {
				a.log.Warn("subscription change reaches the data plane at the next sync", "error", err)
			}
		},
	}
}

// reloadSubscriptions loads every stored subscription into the data plane.
// Reloads are serialised: one that read the store earlier must not swap in
// its older view after a later one.
func (a *App) reloadSubscriptions(ctx context.Context) error {
	a.subsMu.Lock()
	defer a.subsMu.Unlock()
	subs, err := a.db.ListSubscriptions(ctx, catalog.SubscriptionFilter{})
	if err != nil {
		return fmt.Errorf("loading subscriptions: %w", err)
	}
	states := make([]gateway.SubscriptionState, len(subs))
	for i, s := range subs {
		states[i] = gateway.SubscriptionState{Consumer: s.Consumer, Service: s.Service, State: string(s.State), Reason: s.Reason}
	}
	a.gw.SetSubscriptions(gateway.NewSubscriptionTable(states))
	return nil
}

// RotateKey creates a key replacing the consumer's key id, of the same
// name, and sets the old one to expire after grace.
func (k keyManager) RotateKey(ctx context.Context, consumer, id string, grace time.Duration, expiresAt *time.Time) (auth.Key, string, auth.Key, error) {
	old, err := k.a.db.GetKey(ctx, id)
	if err != nil {
		return auth.Key{}, "", auth.Key{}, err
	}
	next, secret := newKey(consumer, old.Name, expiresAt)
	old, err = k.a.db.RotateKey(ctx, id, next, time.Now().Add(grace))
	if err != nil {
		return auth.Key{}, "", auth.Key{}, err
	}
	if err := k.a.reloadKeys(ctx); err != nil {
		return auth.Key{}, "", auth.Key{}, err
	}
	return next, secret, old, nil
}

// newKey makes a consumer key and its secret.
func newKey(consumer, name string, expiresAt *time.Time) (auth.Key, string) {
	secret := auth.NewSecret("hg-")
	key := auth.Key{
		ID: "key_" + auth.NewSecret("")[:20], Consumer: consumer, Name: name,
		Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret), CreatedAt: time.Now().UTC(),
	}
	if expiresAt != nil {
		t := expiresAt.UTC()
		key.ExpiresAt = &t
	}
	return key, secret
}
