package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/store"
)

// ReviewQueues serves the review queue routes: the queues in service and
// their items (internal/review).
type ReviewQueues interface {
	Queues() []*review.Queue
	Queue(name string) (*review.Queue, bool)
	Status(ctx context.Context, q *review.Queue, withAgreement bool) (review.Status, error)
	Items(ctx context.Context, q *review.Queue, f review.ItemFilter) (review.ItemPage, error)
	Add(ctx context.Context, q *review.Queue, callIDs []string, by string) (int, error)
	Next(ctx context.Context, q *review.Queue, reviewer string) (review.Item, error)
	Complete(ctx context.Context, q *review.Queue, id, reviewer string, in review.Input) (review.Item, error)
	Skip(ctx context.Context, q *review.Queue, id, reviewer, comment string) (review.Item, error)
	Assign(ctx context.Context, q *review.Queue, id, assignee string) (review.Item, error)
}

// Review queue limits of the admin API.
const (
	// MaxReviewAdd bounds the call ids of one manual add.
	MaxReviewAdd = 1000
	// MaxReviewBulk bounds the calls one bulk add may select: a filter
	// matching more is refused, not cut short, so that a bulk add is
	// always exactly the call list's answer.
	MaxReviewBulk = 10000
)

func (s *Server) reviews() (ReviewQueues, error) {
	if s.Reviews == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "review queues are not enabled on this gateway"}
	}
	return s.Reviews, nil
}

// reviewQueueTarget resolves the {name} of a review queue route to the
// queue's team: a team's members reach its queues, principals of no team
// every queue, and a queue of no team is for principals of no team only.
func (s *Server) reviewQueueTarget(r *http.Request) (auth.Target, *Error, error) {
	name := r.PathValue("name")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no review queue %q", name)}
	rv, err := s.reviews()
	if err != nil {
		return auth.Target{}, notFound, notFound
	}
	q, ok := rv.Queue(name)
	if !ok {
		return auth.Target{}, notFound, notFound
	}
	return auth.Target{Team: q.Team}, notFound, nil
}

// reviewQueue returns the queue the (already authorised) route names.
func (s *Server) reviewQueue(r *http.Request) (ReviewQueues, *review.Queue, error) {
	rv, err := s.reviews()
	if err != nil {
		return nil, nil, err
	}
	q, ok := rv.Queue(r.PathValue("name"))
	if !ok {
		return nil, nil, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no review queue %q", r.PathValue("name"))}
	}
	return rv, q, nil
}

// reviewer returns who is reviewing, refusing a principal the queue's
// reviewers list leaves out. Admins may always review.
func reviewer(r *http.Request, q *review.Queue) (string, error) {
	p := principal(r)
	if p.Role != auth.RoleAdmin && !q.Allows(p.Name) {
		return "", &Error{Status: 403, Code: "forbidden",
			Msg: fmt.Sprintf("%s is not one of the reviewers of queue %q", p.Actor(), q.Name)}
	}
	return p.Actor(), nil
}

// reviewError maps the review service's errors to answers.
func reviewError(err error, id string) error {
	var ie *review.InvalidError
	switch {
	case errors.As(err, &ie):
		return badRequest(ie.Field, "%s", ie.Error())
	case errors.Is(err, review.ErrNotHeld):
		return &Error{Status: 409, Code: "not_held", Msg: fmt.Sprintf("item %q is not locked by you: fetch it with next first (its lease may have run out and another reviewer taken it)", id)}
	case errors.Is(err, review.ErrDone):
		return &Error{Status: 409, Code: "conflict", Msg: fmt.Sprintf("item %q is already completed or skipped", id)}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no item %q in this queue", id)}
	}
	return err
}

func (s *Server) listReviewQueues(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.reviews()
	if err != nil {
		return err
	}
	p := principal(r)
	out := []review.Status{}
	for _, q := range rv.Queues() {
		if !p.Reaches(auth.Target{Team: q.Team}) {
			continue
		}
		st, err := rv.Status(r.Context(), q, false)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (s *Server) getReviewQueue(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	st, err := rv.Status(r.Context(), q, true)
	if err != nil {
		return err
	}
	writeJSON(w, 200, st)
	return nil
}

func (s *Server) listReviewItems(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	f := review.ItemFilter{State: v.Get("state"), Assignee: v.Get("assignee"), Cursor: v.Get("cursor")}
	if f.State != "" && !slices.Contains(review.States, f.State) {
		return badRequest("state", "state: %q is not one of %s", f.State, strings.Join(review.States, ", "))
	}
	if l := v.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > 500 {
			return badRequest("limit", "limit: %q must be a whole number from 1 to 500", l)
		}
	}
	page, err := rv.Items(r.Context(), q, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, page)
	return nil
}

// reviewAddRequest is the body of POST /admin/v1/review-queues/{name}/items.
type reviewAddRequest struct {
	CallIDs []string `json:"call_ids"`
}

// reviewAddResult says what an add did: how many calls it was given or
// its filter matched, and how many of them were new to the queue.
type reviewAddResult struct {
	Matched int `json:"matched"`
	Added   int `json:"added"`
}

func (s *Server) addReviewItems(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	var in reviewAddRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if len(in.CallIDs) == 0 || len(in.CallIDs) > MaxReviewAdd {
		return badRequest("call_ids", "call_ids: give 1 to %d call ids (for more, add by filter with items/bulk)", MaxReviewAdd)
	}
	p := principal(r)
	for _, id := range in.CallIDs {
		// The call must exist, and be one the caller may read.
		rec, err := s.Calls.GetCall(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || err == nil && !p.Reaches(s.consumerOwner(rec.Consumer)) && (rec.Service == "" || !p.Reaches(s.serviceOwner(rec.Service))) {
			return &Error{Status: 404, Code: "not_found", Param: "call_ids",
				Msg: fmt.Sprintf("no call %q (records reach the store within a second of the call)", id)}
		}
		if err != nil {
			return err
		}
	}
	n, err := rv.Add(r.Context(), q, in.CallIDs, p.Actor())
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "review.add", Target: "review-queue:" + q.Name, Team: q.Team,
		Summary: fmt.Sprintf("added %d of %d calls to review queue %s", n, len(in.CallIDs), q.Name)})
	writeJSON(w, 200, reviewAddResult{Matched: len(in.CallIDs), Added: n})
	return nil
}

// bulkAddReviewItems adds every call that GET /admin/v1/calls lists with
// the same query parameters, over all its pages: the filter is parsed by
// the same function and the pages read by the same queries, scoped to the
// caller as the call list is.
func (s *Server) bulkAddReviewItems(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	f, err := parseCallFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.Limit = 500 // the page size only: every page is read
	p := principal(r)
	var ids []string
	for {
		var page calllog.Page
		if p.Scoped() {
			page, err = s.Calls.ListCallsOf(r.Context(), f, s.callScope(p))
		} else {
			page, err = s.Calls.ListCalls(r.Context(), f)
		}
		if err != nil {
			return err
		}
		for _, c := range page.Calls {
			ids = append(ids, c.ID)
		}
		if len(ids) > MaxReviewBulk {
			return &Error{Status: 422, Code: "too_many_calls",
				Msg: fmt.Sprintf("the filter matches more than %d calls: narrow it (since, until, service, flag …) and add in several steps", MaxReviewBulk)}
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	n := 0
	if len(ids) > 0 {
		if n, err = rv.Add(r.Context(), q, ids, p.Actor()); err != nil {
			return err
		}
	}
	audit(r, auth.AuditEntry{Action: "review.add", Target: "review-queue:" + q.Name, Team: q.Team,
		Summary: fmt.Sprintf("added %d of %d calls matching %q to review queue %s", n, len(ids), r.URL.RawQuery, q.Name)})
	writeJSON(w, 200, reviewAddResult{Matched: len(ids), Added: n})
	return nil
}

// reviewNext is the answer of POST /admin/v1/review-queues/{name}/next:
// the locked item and its call, bodies included.
type reviewNext struct {
	Item review.Item    `json:"item"`
	Call calllog.Record `json:"call"`
}

func (s *Server) nextReviewItem(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	who, err := reviewer(r, q)
	if err != nil {
		return err
	}
	it, err := rv.Next(r.Context(), q, who)
	if errors.Is(err, review.ErrEmpty) {
		unchanged(r)
		w.WriteHeader(204)
		return nil
	}
	if err != nil {
		return err
	}
	rec, err := s.Calls.GetCall(r.Context(), it.CallID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		// Retention deleted the call: the item can only be skipped.
		rec = calllog.Record{ID: it.CallID}
	}
	audit(r, auth.AuditEntry{Action: "review.lock", Target: "review-item:" + it.ID, Team: q.Team,
		Summary: fmt.Sprintf("locked item %s (call %s) of review queue %s until %s", it.ID, it.CallID, q.Name, it.LeaseUntil.Format("15:04:05Z07:00"))})
	writeJSON(w, 200, reviewNext{Item: it, Call: rec})
	return nil
}

func (s *Server) completeReviewItem(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	who, err := reviewer(r, q)
	if err != nil {
		return err
	}
	var in review.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	it, err := rv.Complete(r.Context(), q, id, who, in)
	if err != nil {
		return reviewError(err, id)
	}
	audit(r, auth.AuditEntry{Action: "review.complete", Target: "review-item:" + id, Team: q.Team,
		Summary: fmt.Sprintf("reviewed call %s in review queue %s (%d scores)", it.CallID, q.Name, len(in.Scores))})
	writeJSON(w, 200, it)
	return nil
}

// reviewSkipRequest is the optional body of a skip.
type reviewSkipRequest struct {
	Comment string `json:"comment,omitempty"`
}

func (s *Server) skipReviewItem(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	who, err := reviewer(r, q)
	if err != nil {
		return err
	}
	var in reviewSkipRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	it, err := rv.Skip(r.Context(), q, id, who, in.Comment)
	if err != nil {
		return reviewError(err, id)
	}
	audit(r, auth.AuditEntry{Action: "review.skip", Target: "review-item:" + id, Team: q.Team,
		Summary: fmt.Sprintf("skipped call %s in review queue %s", it.CallID, q.Name)})
	writeJSON(w, 200, it)
	return nil
}

// reviewAssignRequest is the body of an assignment: a user's e-mail (or
// "user:EMAIL", "token:NAME"), or "" to offer the item to everyone again.
type reviewAssignRequest struct {
	Assignee string `json:"assignee"`
}

func (s *Server) assignReviewItem(w http.ResponseWriter, r *http.Request) error {
	rv, q, err := s.reviewQueue(r)
	if err != nil {
		return err
	}
	var in reviewAssignRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	assignee := strings.TrimSpace(in.Assignee)
	if assignee != "" {
		kind, name, ok := strings.Cut(assignee, ":")
		if !ok {
			kind, name = auth.KindUser, assignee
		}
		if (kind != auth.KindUser && kind != auth.KindToken) || name == "" || len(name) > 254 {
			return badRequest("assignee", "assignee: %q is not a user's e-mail, user:EMAIL or token:NAME", in.Assignee)
		}
		if kind == auth.KindUser {
			name = strings.ToLower(name)
		}
		if !q.Allows(name) {
			return badRequest("assignee", "assignee: %s is not one of the reviewers of queue %q", name, q.Name)
		}
		assignee = kind + ":" + name
	}
	id := r.PathValue("id")
	it, err := rv.Assign(r.Context(), q, id, assignee)
	if err != nil {
		return reviewError(err, id)
	}
	summary := fmt.Sprintf("assigned call %s of review queue %s to %s", it.CallID, q.Name, assignee)
	if assignee == "" {
		summary = fmt.Sprintf("unassigned call %s of review queue %s", it.CallID, q.Name)
	}
	audit(r, auth.AuditEntry{Action: "review.assign", Target: "review-item:" + id, Team: q.Team, Summary: summary})
	writeJSON(w, 200, it)
	return nil
}
