package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/store"
)

// Subscriptions is the approval flow of consumers' subscriptions to
// services (catalog.Subscriptions).
type Subscriptions interface {
	Request(ctx context.Context, consumer, service, actor string) (catalog.Subscription, bool, error)
	Decide(ctx context.Context, id string, a catalog.SubscriptionAction, reason, actor string) (catalog.Subscription, error)
	Get(ctx context.Context, id string) (catalog.Subscription, error)
	List(ctx context.Context, f catalog.SubscriptionFilter) ([]catalog.Subscription, error)
}

// subscriptionsOff answers the subscription and catalog routes of a server
// built without them.
var subscriptionsOff = &Error{Status: 404, Code: "not_found", Msg: "subscriptions are not available on this gateway"}

// subscriptionError turns the flow's refusals into answers.
func subscriptionError(err error) error {
	var se *catalog.SubscriptionError
	switch {
	case errors.As(err, &se):
		switch se.Code {
		case "not_found":
			return &Error{Status: 404, Code: "not_found", Msg: se.Msg}
		case "invalid_request":
			return &Error{Status: 400, Code: "invalid_request", Param: "reason", Msg: se.Msg}
		default:
			return &Error{Status: 409, Code: se.Code, Msg: se.Msg}
		}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: 409, Code: "conflict", Msg: "the subscription changed meanwhile; read it again", Err: err}
	}
	return err
}

// visibleSubscription reports whether p may see sub: it reaches the
// consumer (its own consumer, or one of its team's) or the service (its
// team's).
func (s *Server) visibleSubscription(p *auth.Principal, sub catalog.Subscription) bool {
	return p.Reaches(s.consumerOwner(sub.Consumer)) || (p.Consumer == "" && p.Reaches(s.serviceOwner(sub.Service)))
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	if s.Subscriptions == nil {
		return subscriptionsOff
	}
	q := r.URL.Query()
	f := catalog.SubscriptionFilter{State: catalog.SubscriptionState(q.Get("state")), Service: q.Get("service"), Consumer: q.Get("consumer")}
	if f.State != "" && !f.State.Valid() {
		return badRequest("state", "state: %q is not one of pending, approved, rejected, revoked", f.State)
	}
	all, err := s.Subscriptions.List(r.Context(), f)
	if err != nil {
		return err
	}
	p := principal(r)
	out := []catalog.Subscription{}
	for _, sub := range all {
		if s.visibleSubscription(p, sub) {
			out = append(out, sub)
		}
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

type subscriptionRequest struct {
	Consumer string `json:"consumer"`
	Service  string `json:"service"`
}

func (s *Server) requestSubscription(w http.ResponseWriter, r *http.Request) error {
	if s.Subscriptions == nil {
		return subscriptionsOff
	}
	var in subscriptionRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	switch {
	case in.Consumer == "":
		return badRequest("consumer", "consumer is required")
	case in.Service == "":
		return badRequest("service", "service is required")
	}
	p := principal(r)
	if !p.Reaches(s.consumerOwner(in.Consumer)) {
		// Another team's consumer is answered as if it did not exist.
		return &Error{Status: 404, Code: "not_found", Param: "consumer", Msg: fmt.Sprintf("no consumer %q", in.Consumer)}
	}
	sub, created, err := s.Subscriptions.Request(r.Context(), in.Consumer, in.Service, p.Actor())
	if err != nil {
		return subscriptionError(err)
	}
	if !created {
		unchanged(r)
		writeJSON(w, 200, sub)
		return nil
	}
	summary := fmt.Sprintf("consumer %s asked to subscribe to service %s: %s", sub.Consumer, sub.Service, sub.State)
	audit(r, auth.AuditEntry{Action: "subscription.request", Target: "subscription:" + sub.ID,
		Team: s.serviceOwner(sub.Service).Team, Summary: summary})
	writeJSON(w, 201, sub)
	return nil
}

// subscriptionReadTarget resolves the {id} of a subscription for readers:
// the owner the principal reaches, the service's team or the consumer.
func (s *Server) subscriptionReadTarget(r *http.Request) (auth.Target, *Error, error) {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no subscription %q", id)}
	if s.Subscriptions == nil {
		return auth.Target{}, subscriptionsOff, subscriptionsOff
	}
	sub, err := s.Subscriptions.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || catalog.IsNotFound(err) {
		return auth.Target{}, notFound, notFound
	}
	if err != nil {
		return auth.Target{}, notFound, err
	}
	if t := s.serviceOwner(sub.Service); principal(r).Consumer == "" && principal(r).Reaches(t) {
		return t, notFound, nil
	}
	return s.consumerOwner(sub.Consumer), notFound, nil
}

// subscriptionDecisionTarget resolves the {id} of a subscription for its
// approvers: the service's team. A principal that sees the subscription
// through its consumer but is not of the service's team is told it may
// not decide, rather than that the subscription does not exist.
func (s *Server) subscriptionDecisionTarget(r *http.Request) (auth.Target, *Error, error) {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no subscription %q", id)}
	if s.Subscriptions == nil {
		return auth.Target{}, subscriptionsOff, subscriptionsOff
	}
	sub, err := s.Subscriptions.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || catalog.IsNotFound(err) {
		return auth.Target{}, notFound, notFound
	}
	if err != nil {
		return auth.Target{}, notFound, err
	}
	t := s.serviceOwner(sub.Service)
	if p := principal(r); !p.Reaches(t) && p.Reaches(s.consumerOwner(sub.Consumer)) {
		team := t.Team
		if team == "" {
			team = "(none: an admin decides)"
		}
		return t, &Error{Status: 403, Code: "forbidden",
			Msg: fmt.Sprintf("%s may not decide on subscriptions to service %s: its approvers are of team %s", p.Actor(), sub.Service, team)}, nil
	}
	return t, notFound, nil
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.Subscriptions.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return subscriptionError(err)
	}
	writeJSON(w, 200, sub)
	return nil
}

type decisionRequest struct {
	Reason string `json:"reason"`
}

// decideSubscription serves approve, reject and revoke.
func (s *Server) decideSubscription(a catalog.SubscriptionAction) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in decisionRequest
		if err := decodeOptionalJSON(r, &in); err != nil {
			return err
		}
		p := principal(r)
		sub, err := s.Subscriptions.Decide(r.Context(), r.PathValue("id"), a, in.Reason, p.Actor())
		if err != nil {
			return subscriptionError(err)
		}
		summary := fmt.Sprintf("%s the subscription of consumer %s to service %s", sub.State, sub.Consumer, sub.Service)
		if sub.Reason != "" {
			summary += ": " + sub.Reason
		}
		audit(r, auth.AuditEntry{Action: "subscription." + string(a), Target: "subscription:" + sub.ID,
			Team: s.serviceOwner(sub.Service).Team, Summary: summary})
		writeJSON(w, 200, sub)
		return nil
	}
}

// withdrawSubscriptions ends the stored subscriptions of a deleted
// consumer, revoking approved ones and rejecting pending ones, so that a
// consumer created later under the same name does not inherit them. Each
// is announced to its service's webhook like any other decision.
func (s *Server) withdrawSubscriptions(r *http.Request, consumer string) (int, error) {
	if s.Subscriptions == nil {
		return 0, nil
	}
	subs, err := s.Subscriptions.List(r.Context(), catalog.SubscriptionFilter{Consumer: consumer})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sub := range subs {
		var a catalog.SubscriptionAction
		switch {
		case sub.Source != catalog.SourceAPI:
			continue
		case sub.State == catalog.SubscriptionApproved:
			a = catalog.ActionRevoke
		case sub.State == catalog.SubscriptionPending:
			a = catalog.ActionReject
		default:
			continue
		}
		if _, err := s.Subscriptions.Decide(r.Context(), sub.ID, a, "the consumer was deleted", principal(r).Actor()); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// decodeOptionalJSON is decodeJSON for a body that may be left out.
func decodeOptionalJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("", "invalid JSON body: %v", err)
	}
	return nil
}
