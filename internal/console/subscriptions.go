package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hypergate/hypergate/internal/catalog"
)

// subscriptionsData is the approvers' page: the subscriptions the user
// sees, pending first.
type subscriptionsData struct {
	State  string
	States []catalog.SubscriptionState
	Subs   []catalog.Subscription
	// Pending counts the subscriptions waiting for a decision.
	Pending int
}

var subscriptionStates = []catalog.SubscriptionState{catalog.SubscriptionPending, catalog.SubscriptionApproved,
	catalog.SubscriptionRejected, catalog.SubscriptionRevoked}

// subscriptionOrder puts pending subscriptions first (oldest first: they
// have waited longest), then the others, newest first.
func subscriptionOrder(a, b catalog.Subscription) int {
	ap, bp := a.State == catalog.SubscriptionPending, b.State == catalog.SubscriptionPending
	switch {
	case ap && !bp:
		return -1
	case bp && !ap:
		return 1
	case ap:
		return a.CreatedAt.Compare(b.CreatedAt)
	}
	return b.UpdatedAt.Compare(a.UpdatedAt)
}

// subscriptions lists GET /admin/v1/subscriptions: the API shows each user
// the subscriptions of its consumers and of its team's services.
func (s *Server) subscriptions(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showSubscriptions(w, r, m, http.StatusOK, "")
}

func (s *Server) showSubscriptions(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string) {
	d := subscriptionsData{State: r.URL.Query().Get("state"), States: subscriptionStates}
	q := url.Values{}
	if d.State != "" {
		q.Set("state", d.State)
	}
	var list struct {
		Data []catalog.Subscription `json:"data"`
	}
	res, ok, err := s.getJSON(w, r, "/admin/v1/subscriptions", q, &list)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	v := view{Title: "Subscriptions", Me: m, Nav: "subscriptions", CSRF: m.CSRFToken, Error: errMsg, Data: &d}
	if !ok {
		if res.Status != http.StatusBadRequest {
			s.fail(w, r, m, res)
			return
		}
		v.Error = res.message()
		s.render(w, http.StatusBadRequest, "subscriptions", v)
		return
	}
	d.Subs = list.Data
	slices.SortStableFunc(d.Subs, subscriptionOrder)
	for _, sub := range d.Subs {
		if sub.State == catalog.SubscriptionPending {
			d.Pending++
		}
	}
	s.render(w, status, "subscriptions", v)
}

// decideSubscription approves, rejects or revokes a subscription through
// POST /admin/v1/subscriptions/{id}/{action}; the API checks that the user
// approves for the service's team.
func (s *Server) decideSubscription(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	action := r.PathValue("action")
	if action != string(catalog.ActionApprove) && action != string(catalog.ActionReject) && action != string(catalog.ActionRevoke) {
		s.errorPage(w, r, m, http.StatusNotFound, "there is no subscription action "+action)
		return
	}
	var body any
	if reason := strings.TrimSpace(r.PostFormValue("reason")); reason != "" {
		body = map[string]string{"reason": reason}
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/subscriptions/"+url.PathEscape(r.PathValue("id"))+"/"+action, nil, body, r.PostFormValue("csrf_token"))
	switch {
	case err != nil:
		s.internal(w, r, m, err)
	case res.Status < 300:
		http.Redirect(w, r, "/subscriptions", http.StatusSeeOther)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict:
		s.showSubscriptions(w, r, m, res.Status, res.message())
	default:
		s.fail(w, r, m, res)
	}
}
