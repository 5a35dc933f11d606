package gateway

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Subscription states as the data plane knows them; only approved lets a
// consumer call a service that is not public.
const (
	SubscriptionPending  = "pending"
	SubscriptionApproved = "approved"
	SubscriptionRejected = "rejected"
	SubscriptionRevoked  = "revoked"
)

// SubscriptionState is one stored subscription, as the data plane needs
// it: who, to what, where it stands, and the approver's reason.
type SubscriptionState struct {
	Consumer, Service, State, Reason string
}

// subscriptionEntry is what a refusal says.
type subscriptionEntry struct {
	state, reason string
}

// SubscriptionTable holds the subscriptions made through the admin API,
// by consumer and service. Like KeyTable it is swapped separately from the
// snapshot: a decision does not recompile the configuration. Subscriptions
// declared in the configuration live in the snapshot and win over it.
type SubscriptionTable struct {
	m map[string]map[string]subscriptionEntry
}

// NewSubscriptionTable builds a SubscriptionTable.
func NewSubscriptionTable(subs []SubscriptionState) *SubscriptionTable {
	t := &SubscriptionTable{m: map[string]map[string]subscriptionEntry{}}
	for _, s := range subs {
		byService := t.m[s.Consumer]
		if byService == nil {
			byService = map[string]subscriptionEntry{}
			t.m[s.Consumer] = byService
		}
		byService[s.Service] = subscriptionEntry{state: s.State, reason: s.Reason}
	}
	return t
}

// SetSubscriptions swaps in the table of subscriptions made through the
// admin API.
func (g *Gateway) SetSubscriptions(t *SubscriptionTable) {
	if t == nil {
		t = NewSubscriptionTable(nil)
	}
	g.subs.Store(t)
}

// checkSubscription answers whether consumer may call a service that is
// not public: with a subscription declared in the configuration or
// approved through the admin API. A refusal says where the subscription
// stands, so that a consumer waiting for approval is not told to subscribe
// again.
func (g *Gateway) checkSubscription(t *serviceTable, consumer, service string) *apiError {
	if t.subscribed(consumer, service) {
		return nil
	}
	var e subscriptionEntry
	if st := g.subs.Load(); st != nil {
		e = st.m[consumer][service]
	}
	switch e.state {
	case SubscriptionApproved:
		return nil
	case SubscriptionPending:
		return &apiError{Status: 403, Type: errPermission, Code: "subscription_pending",
			Message: fmt.Sprintf("consumer %q has asked to subscribe to service %q; the subscription awaits approval by the service's team", consumer, service)}
	case SubscriptionRejected:
		return &apiError{Status: 403, Type: errPermission, Code: "subscription_rejected",
			Message: fmt.Sprintf("the subscription of consumer %q to service %q was rejected%s", consumer, service, becauseOf(e.reason))}
	case SubscriptionRevoked:
		return &apiError{Status: 403, Type: errPermission, Code: "subscription_revoked",
			Message: fmt.Sprintf("the subscription of consumer %q to service %q was revoked%s", consumer, service, becauseOf(e.reason))}
	}
	return &apiError{Status: 403, Type: errPermission, Code: "subscription_required",
		Message: fmt.Sprintf("consumer %q is not subscribed to service %q; subscribe to it to call it", consumer, service)}
}

// becauseOf quotes an approver's reason, shortened, for a refusal.
func becauseOf(reason string) string {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ""
	}
	if len(reason) > 200 {
		n := 200
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n] + "…"
	}
	return ": " + reason
}
