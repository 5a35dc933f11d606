package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/config"
)

// SubscriptionState is where a subscription stands in its approval flow.
type SubscriptionState string

// The states. Only SubscriptionApproved lets the consumer call the service.
const (
	// SubscriptionPending waits for an approver of the service's team.
	SubscriptionPending SubscriptionState = "pending"
	// SubscriptionApproved lets the consumer call the service.
	SubscriptionApproved SubscriptionState = "approved"
	// SubscriptionRejected was refused by an approver; the consumer may
	// ask again.
	SubscriptionRejected SubscriptionState = "rejected"
	// SubscriptionRevoked was approved once and withdrawn; the consumer may ask
	// again.
	SubscriptionRevoked SubscriptionState = "revoked"
)

// Valid reports whether s is one of the states.
func (s SubscriptionState) Valid() bool {
	switch s {
	case SubscriptionPending, SubscriptionApproved, SubscriptionRejected, SubscriptionRevoked:
		return true
	}
	return false
}

// Subscription sources.
const (
	// SourceAPI subscriptions were asked for through the admin API and
	// live in the store.
	SourceAPI = "api"
	// SourceConfig subscriptions are declared in the configuration
	// (consumers[].subscriptions): approved by declaration, and changed
	// only by changing the configuration.
	SourceConfig = "config"
)

// configIDPrefix starts the IDs of subscriptions declared in the
// configuration; names cannot hold ':', so the ID splits unambiguously.
const configIDPrefix = "config:"

// Subscription is a consumer's access to a service.
type Subscription struct {
	ID       string            `json:"id"`
	Consumer string            `json:"consumer"`
	Service  string            `json:"service"`
	State    SubscriptionState `json:"state"`
	// Source is SourceAPI or SourceConfig.
	Source string `json:"source"`
	// Reason is the approver's word on the last decision, shown to the
	// consumer when a call is refused.
	Reason string `json:"reason,omitempty"`
	// RequestedBy and DecidedBy are actors as in the audit log
	// ("user:EMAIL", "token:NAME", "admin-token").
	RequestedBy string `json:"requested_by,omitempty"`
	DecidedBy   string `json:"decided_by,omitempty"`
	// CreatedAt and UpdatedAt are unset for subscriptions declared in the
	// configuration.
	CreatedAt time.Time  `json:"created_at,omitempty,omitzero"`
	UpdatedAt time.Time  `json:"updated_at,omitempty,omitzero"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// SubscriptionFilter selects subscriptions; zero fields do not filter.
type SubscriptionFilter struct {
	State    SubscriptionState
	Service  string
	Consumer string
}

func (f SubscriptionFilter) matches(s Subscription) bool {
	return (f.State == "" || s.State == f.State) && (f.Service == "" || s.Service == f.Service) &&
		(f.Consumer == "" || s.Consumer == f.Consumer)
}

// SubscriptionDecision is one change of a stored subscription's state,
// applied only if the subscription is still in From: two approvers
// deciding at once cannot both win.
type SubscriptionDecision struct {
	ID     string
	From   SubscriptionState
	To     SubscriptionState
	Reason string
	Actor  string
	At     time.Time
}

// SubscriptionStore keeps subscriptions; the store package implements it.
// Errors for a missing subscription or a lost race wrap the store's own
// sentinels, which the admin API turns into 404 and 409.
type SubscriptionStore interface {
	// CreateSubscription stores s as a new subscription, or reopens the
	// consumer's subscription to the service when it was rejected or
	// revoked. One still pending or approved is returned as it is, with
	// created false.
	CreateSubscription(ctx context.Context, s Subscription) (out Subscription, created bool, err error)
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	// ListSubscriptions returns the stored subscriptions matching f,
	// oldest first.
	ListSubscriptions(ctx context.Context, f SubscriptionFilter) ([]Subscription, error)
	DecideSubscription(ctx context.Context, d SubscriptionDecision) (Subscription, error)
}

// SubscriptionAction is what an approver does to a subscription.
type SubscriptionAction string

// The approvers' actions.
const (
	ActionApprove SubscriptionAction = "approve"
	ActionReject  SubscriptionAction = "reject"
	ActionRevoke  SubscriptionAction = "revoke"
)

// subscriptionTransitions says, for each action, the state it applies to
// and the one it leads to.
var subscriptionTransitions = map[SubscriptionAction]struct{ from, to SubscriptionState }{
	ActionApprove: {SubscriptionPending, SubscriptionApproved},
	ActionReject:  {SubscriptionPending, SubscriptionRejected},
	ActionRevoke:  {SubscriptionApproved, SubscriptionRevoked},
}

// MaxReasonBytes bounds a decision's reason: it is shown in refusals on
// the data plane and in webhooks, not a place for documents.
const MaxReasonBytes = 1000

// SubscriptionError is a refusal of a request that is understood but
// cannot be done, such as approving a subscription that is not pending.
// Code is a stable machine-readable word; the message is for people.
type SubscriptionError struct {
	Code string // "invalid_state", "declared_in_config", "service_retired", "invalid_request", "not_found"
	Msg  string
}

func (e *SubscriptionError) Error() string { return e.Msg }

// Subscriptions is the approval flow: consumers ask, the service's team
// approves or rejects, approved subscriptions can be revoked. Every change
// is stored, announced to the service's webhook and reported to OnChange.
type Subscriptions struct {
	Store SubscriptionStore
	// Config returns the configuration in service: its services say how
	// subscriptions are approved and where webhooks go, its consumers
	// which subscriptions are declared.
	Config func() *config.Config
	// Webhooks sends the events; none are sent when nil.
	Webhooks *Webhooks
	// OnChange is called after every stored change, so that the data plane
	// learns of it at once on this node.
	OnChange func(ctx context.Context)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Subscriptions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func subscribedService(cfg *config.Config, name string) (config.Service, bool) {
	for _, sv := range cfg.Services {
		if sv.Name == name {
			return sv, true
		}
	}
	return config.Service{}, false
}

func subscribingConsumer(cfg *config.Config, name string) (config.Consumer, bool) {
	for _, c := range cfg.Consumers {
		if c.Name == name {
			return c, true
		}
	}
	return config.Consumer{}, false
}

// declaredSubscription returns the subscription a consumer declares in cfg.
func declaredSubscription(c config.Consumer, service string) (Subscription, bool) {
	for _, name := range c.Subscriptions {
		if name == service {
			return Subscription{ID: configIDPrefix + c.Name + ":" + service, Consumer: c.Name, Service: service,
				State: SubscriptionApproved, Source: SourceConfig}, true
		}
	}
	return Subscription{}, false
}

// Request asks for consumer's subscription to service on behalf of actor.
// It is approved at once when the service's approval is auto, pending
// otherwise. A subscription already pending or approved (stored, or
// declared in the configuration) is returned unchanged with created
// false.
func (s *Subscriptions) Request(ctx context.Context, consumer, service, actor string) (Subscription, bool, error) {
	cfg := s.Config()
	c, ok := subscribingConsumer(cfg, consumer)
	if !ok {
		return Subscription{}, false, &SubscriptionError{Code: "not_found", Msg: fmt.Sprintf("no consumer %q", consumer)}
	}
	sv, ok := subscribedService(cfg, service)
	if !ok {
		return Subscription{}, false, &SubscriptionError{Code: "not_found", Msg: fmt.Sprintf("no service %q in the catalog", service)}
	}
	if d, ok := declaredSubscription(c, service); ok {
		return d, false, nil
	}
	if !Listed(sv) {
		return Subscription{}, false, &SubscriptionError{Code: "service_retired",
			Msg: fmt.Sprintf("service %q is retired: it takes no calls and no new subscriptions", service)}
	}
	now := s.now().UTC()
	sub := Subscription{Consumer: consumer, Service: service, State: SubscriptionPending, Source: SourceAPI,
		RequestedBy: actor, CreatedAt: now, UpdatedAt: now}
	id, err := uuid.NewV7()
	if err != nil {
		return Subscription{}, false, fmt.Errorf("subscription id: %w", err)
	}
	sub.ID = "sub_" + id.String()
	event := EventRequested
	if sv.Approval != config.ApprovalManual {
		sub.State, sub.DecidedBy, sub.DecidedAt = SubscriptionApproved, "approval:auto", &now
		sub.Reason = "approved automatically: the service's approval is auto"
		event = EventApproved
	}
	out, created, err := s.Store.CreateSubscription(ctx, sub)
	if err != nil {
		return Subscription{}, false, fmt.Errorf("requesting subscription of %s to %s: %w", consumer, service, err)
	}
	if created {
		s.changed(ctx, sv, event, out, actor)
	}
	return out, created, nil
}

// Decide applies an approver's action to the subscription id. Reject and
// revoke need a reason; approve takes one optionally.
func (s *Subscriptions) Decide(ctx context.Context, id string, a SubscriptionAction, reason, actor string) (Subscription, error) {
	tr, ok := subscriptionTransitions[a]
	if !ok {
		return Subscription{}, &SubscriptionError{Code: "invalid_request", Msg: fmt.Sprintf("unknown action %q (one of: approve, reject, revoke)", a)}
	}
	reason = strings.TrimSpace(reason)
	if err := CheckReason(reason, a != ActionApprove); err != nil {
		return Subscription{}, err
	}
	if strings.HasPrefix(id, configIDPrefix) {
		return Subscription{}, &SubscriptionError{Code: "declared_in_config",
			Msg: "this subscription is declared in the configuration (consumers[].subscriptions): change the configuration to withdraw it"}
	}
	cur, err := s.Store.GetSubscription(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	if cur.State != tr.from {
		return Subscription{}, &SubscriptionError{Code: "invalid_state",
			Msg: fmt.Sprintf("cannot %s a subscription that is %s: only a %s one can be", a, cur.State, tr.from)}
	}
	out, err := s.Store.DecideSubscription(ctx, SubscriptionDecision{ID: id, From: tr.from, To: tr.to, Reason: reason, Actor: actor, At: s.now().UTC()})
	if err != nil {
		return Subscription{}, fmt.Errorf("%s subscription %s: %w", a, id, err)
	}
	sv, _ := subscribedService(s.Config(), out.Service)
	s.changed(ctx, sv, SubscriptionEvent("subscription."+string(tr.to)), out, actor)
	return out, nil
}

// CheckReason checks a decision's reason: valid UTF-8 of at most
// MaxReasonBytes, and present when required.
func CheckReason(reason string, required bool) error {
	switch {
	case required && reason == "":
		return &SubscriptionError{Code: "invalid_request", Msg: "reason is required: the consumer is told why"}
	case len(reason) > MaxReasonBytes:
		return &SubscriptionError{Code: "invalid_request", Msg: fmt.Sprintf("reason is longer than %d bytes", MaxReasonBytes)}
	case !utf8.ValidString(reason) || strings.ContainsRune(reason, 0):
		return &SubscriptionError{Code: "invalid_request", Msg: "reason must be UTF-8 text"}
	}
	return nil
}

// changed announces a stored change: the data plane first, then the webhook.
func (s *Subscriptions) changed(ctx context.Context, sv config.Service, event SubscriptionEvent, sub Subscription, actor string) {
	if s.OnChange != nil {
		s.OnChange(ctx)
	}
	if s.Webhooks != nil && sv.Webhook != nil {
		s.Webhooks.Send(*sv.Webhook, NewEvent(event, sub, actor, s.now()))
	}
}

// Get returns one subscription, stored or declared in the configuration.
func (s *Subscriptions) Get(ctx context.Context, id string) (Subscription, error) {
	if rest, ok := strings.CutPrefix(id, configIDPrefix); ok {
		consumer, service, _ := strings.Cut(rest, ":")
		if c, ok := subscribingConsumer(s.Config(), consumer); ok {
			if d, ok := declaredSubscription(c, service); ok {
				return d, nil
			}
		}
		return Subscription{}, &SubscriptionError{Code: "not_found", Msg: fmt.Sprintf("no subscription %q", id)}
	}
	return s.Store.GetSubscription(ctx, id)
}

// List returns the subscriptions matching f: those declared in the
// configuration first (in its order), then the stored ones, oldest first.
// A stored subscription that a declaration supersedes is left out.
func (s *Subscriptions) List(ctx context.Context, f SubscriptionFilter) ([]Subscription, error) {
	cfg := s.Config()
	out := []Subscription{}
	seen := map[[2]string]bool{}
	for _, c := range cfg.Consumers {
		for _, name := range c.Subscriptions {
			d, _ := declaredSubscription(c, name)
			seen[[2]string{c.Name, name}] = true
			if f.matches(d) {
				out = append(out, d)
			}
		}
	}
	stored, err := s.Store.ListSubscriptions(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, sub := range stored {
		if !seen[[2]string{sub.Consumer, sub.Service}] {
			out = append(out, sub)
		}
	}
	return out, nil
}

// IsNotFound reports whether err says that a consumer, service or
// subscription does not exist in the catalog's terms (a missing stored
// row is the store's error, not this one).
func IsNotFound(err error) bool {
	var e *SubscriptionError
	return errors.As(err, &e) && e.Code == "not_found"
}
