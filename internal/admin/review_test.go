package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/store"
)

// The fixture's review queue (oasFullConfig) and its reviewers.
const (
	oasQueue    = "answers"
	oasAna      = "user:ana@example.com"
	oasDev      = "user:dev@example.com"
	oasReviewAt = "2026-03-04T06:00:00Z"
)

// newOASReviews is the review queues behind the admin fixture: the real
// service over the fixture's configuration, its calls and an in-memory
// store, on a fixed clock.
func newOASReviews(db *store.DB, calls Calls, configs Configs) *review.Service {
	at, _ := time.Parse(time.RFC3339, oasReviewAt)
	return &review.Service{
		Store:    db,
		Feedback: oasFeedbackStore{db},
		Calls:    oasReviewCalls{calls},
		Config: func() *config.Config {
			cfg, _ := configs.Current()
			return cfg
		},
		Now: func() time.Time { return at },
	}
}

// oasReviewCalls finds an item's call in the fixture's calls, as the store
// does in the gateway.
type oasReviewCalls struct{ c Calls }

func (s oasReviewCalls) CallSummary(ctx context.Context, id string) (calllog.CallSummary, error) {
	rec, err := s.c.GetCall(ctx, id)
	if err != nil {
		return calllog.CallSummary{}, err
	}
	return calllog.SummaryOf(&rec), nil
}

// reviews is the fixture's review service.
func (f *oasFixture) reviews() *review.Service {
	f.t.Helper()
	svc, ok := f.server.Reviews.(*review.Service)
	if !ok {
		f.t.Fatalf("the fixture's review queues are %T", f.server.Reviews)
	}
	return svc
}

// reviewQueue is the fixture's queue.
func (f *oasFixture) reviewQueue() *review.Queue {
	f.t.Helper()
	q, ok := f.reviews().Queue(oasQueue)
	if !ok {
		f.t.Fatalf("no review queue %q in the fixture", oasQueue)
	}
	return q
}

// reviewItem returns the id of the queue's item about call.
func (f *oasFixture) reviewItem(call string) string {
	f.t.Helper()
	page, err := f.reviews().Items(f.t.Context(), f.reviewQueue(), review.ItemFilter{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.CallID == call {
			return it.ID
		}
	}
	f.t.Fatalf("call %s is not in review queue %s", call, oasQueue)
	return ""
}

// reviewItemTarget is the path of an action on the item about call.
func reviewItemTarget(call, action string) func(f *oasFixture) string {
	return func(f *oasFixture) string {
		return "/admin/v1/review-queues/" + oasQueue + "/items/" + f.reviewItem(call) + "/" + action
	}
}

// withReviewItems puts both fixture calls in the queue, as its first rule
// would.
func withReviewItems(f *oasFixture) {
	f.t.Helper()
	if n, err := f.reviews().Store.AddReviewItems(f.t.Context(), oasQueue, []string{"req_full", "req_minimal"}, review.RuleName(0),
		time.Date(2026, 3, 4, 5, 30, 0, 0, time.UTC)); err != nil || n != 2 {
		f.t.Fatalf("AddReviewItems = %d, %v", n, err)
	}
}

// withHeldItem is withReviewItems with req_full's item locked by the admin
// token.
func withHeldItem(f *oasFixture) {
	f.t.Helper()
	withReviewItems(f)
	it, err := f.reviews().Next(f.t.Context(), f.reviewQueue(), auth.KindAdminToken)
	if err != nil || it.CallID != "req_full" {
		f.t.Fatalf("Next = %+v, %v", it, err)
	}
}

// withReviews is withReviewItems with both items reviewed by Ana and then
// Dev, req_full's assigned to each in turn: every optional field of an
// item is set, and the reviewers agree on one item and one dimension out
// of two, so that the agreement has both a rate and a kappa.
func withReviews(f *oasFixture) {
	f.t.Helper()
	withReviewItems(f)
	ctx, svc, q := f.t.Context(), f.reviews(), f.reviewQueue()
	scores := map[string]map[string]map[string]feedback.Value{
		oasAna: {
			"req_full":    {"helpful": feedback.BoolValue(true), "rating": {Kind: feedback.Numeric, Num: 4}},
			"req_minimal": {"helpful": feedback.BoolValue(false), "rating": {Kind: feedback.Numeric, Num: 2}},
		},
		oasDev: {
			"req_full":    {"helpful": feedback.BoolValue(true), "rating": {Kind: feedback.Numeric, Num: 4}},
			"req_minimal": {"helpful": feedback.BoolValue(true), "rating": {Kind: feedback.Numeric, Num: 2}},
		},
	}
	for _, who := range []string{oasAna, oasDev} {
		if _, err := svc.Assign(ctx, q, f.reviewItem("req_full"), who); err != nil {
			f.t.Fatal(err)
		}
		for range 2 {
			it, err := svc.Next(ctx, q, who)
			if err != nil {
				f.t.Fatalf("%s: Next: %v", who, err)
			}
			if _, err := svc.Complete(ctx, q, it.ID, who, review.Input{Scores: scores[who][it.CallID], Comment: "checked"}); err != nil {
				f.t.Fatalf("%s: Complete: %v", who, err)
			}
		}
	}
}

// oasOutsider is a developer token of no team that the queue's reviewers
// list leaves out.
const oasOutsider = "hgt-fixture-outsider-token-0123456789abcdefghijkl"

func withOutsider(f *oasFixture) {
	f.t.Helper()
	if err := f.db.CreateToken(f.t.Context(), auth.Token{ID: "tok_outsider", Name: "deploy", Role: auth.RoleDeveloper,
		Prefix: auth.DisplayPrefix(oasOutsider), Hash: auth.HashKey(oasOutsider), CreatedBy: "admin-token", CreatedAt: time.Now()}); err != nil {
		f.t.Fatal(err)
	}
}

// reviewCases are the scenarios of the review queue routes.
func reviewCases() []oasCase {
	const q = "/admin/v1/review-queues/" + oasQueue
	viewer := map[string]string{"Authorization": "Bearer " + oasViewerToken}
	return []oasCase{
		{name: "list review queues", method: "GET", target: "/admin/v1/review-queues", want: 200, setup: withReviews},
		{name: "list review queues, not enabled", method: "GET", target: "/admin/v1/review-queues", want: 404,
			setup: func(f *oasFixture) { f.server.Reviews = nil }},
		{name: "get review queue", method: "GET", target: q, want: 200, setup: withReviews},
		{name: "get unknown review queue", method: "GET", target: "/admin/v1/review-queues/nope", want: 404},
		{name: "list review items", method: "GET", target: q + "/items", want: 200, setup: withReviews},
		{name: "list completed review items, first page", method: "GET", target: q + "/items?state=completed&limit=1", want: 200, setup: withReviews},
		{name: "list review items assigned to ana", method: "GET", target: q + "/items?assignee=user:ana@example.com", want: 200, setup: withReviews},
		{name: "list review items in a bad state", method: "GET", target: q + "/items?state=lost", want: 400},
		{name: "list review items with limit 0", method: "GET", target: q + "/items?limit=0", want: 400},
		{name: "list review items with a foreign cursor", method: "GET", target: q + "/items?cursor=@@", want: 400},
		{name: "list items of an unknown review queue", method: "GET", target: "/admin/v1/review-queues/nope/items", want: 404},
		{name: "add calls to a review queue", method: "POST", target: q + "/items", want: 200,
			body: `{"call_ids":["req_full","req_minimal","req_full"]}`},
		{name: "add calls already in a review queue", method: "POST", target: q + "/items", want: 200,
			body: `{"call_ids":["req_full"]}`, setup: withReviewItems},
		{name: "add an unknown call to a review queue", method: "POST", target: q + "/items", want: 404,
			body: `{"call_ids":["req_full","req_nope"]}`},
		{name: "add no calls to a review queue", method: "POST", target: q + "/items", want: 400, body: `{"call_ids":[]}`},
		{name: "add calls, too large", method: "POST", target: q + "/items", want: 413,
			body: `{"call_ids":["` + strings.Repeat("a", 8<<20) + `"]}`},
		{name: "add calls as a viewer", method: "POST", target: q + "/items", want: 403, header: viewer,
			body: `{"call_ids":["req_full"]}`},
		{name: "add calls to an unknown review queue", method: "POST", target: "/admin/v1/review-queues/nope/items", want: 404,
			body: `{"call_ids":["req_full"]}`},
		{name: "bulk add calls to a review queue", method: "POST", target: q + "/items/bulk?model=gpt-4o-mini&since=2026-01-01T00:00:00Z", want: 200},
		{name: "bulk add every page", method: "POST", target: q + "/items/bulk?limit=1", want: 200},
		{name: "bulk add with a bad filter", method: "POST", target: q + "/items/bulk?status=600", want: 400},
		{name: "bulk add with a foreign cursor", method: "POST", target: q + "/items/bulk?cursor=bogus", want: 400},
		{name: "bulk add matching too many calls", method: "POST", target: q + "/items/bulk", want: 422,
			setup: func(f *oasFixture) {
				for i := range MaxReviewBulk {
					f.calls.records = append(f.calls.records, calllog.Record{ID: fmt.Sprintf("req_bulk_%d", i),
						Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Endpoint: "/v1/chat/completions", Status: 200})
				}
			}},
		{name: "next review item", method: "POST", target: q + "/next", want: 200, setup: withReviewItems},
		{name: "next review item, none left", method: "POST", target: q + "/next", want: 204},
		{name: "next review item as a viewer", method: "POST", target: q + "/next", want: 403, header: viewer, setup: withReviewItems},
		{name: "next review item, not a reviewer of the queue", method: "POST", target: q + "/next", want: 403,
			header: map[string]string{"Authorization": "Bearer " + oasOutsider}, setup: func(f *oasFixture) { withOutsider(f); withReviewItems(f) }},
		{name: "complete review item", method: "POST", targetOf: reviewItemTarget("req_full", "complete"), want: 200, setup: withHeldItem,
			body: `{"scores":{"helpful":false,"rating":2},"comment":"the total is wrong"}`},
		{name: "complete review item not held", method: "POST", targetOf: reviewItemTarget("req_minimal", "complete"), want: 409, setup: withHeldItem,
			body: `{"scores":{"helpful":true}}`},
		{name: "complete review item already done", method: "POST", targetOf: reviewItemTarget("req_full", "complete"), want: 409, setup: withReviews,
			body: `{"scores":{"helpful":true}}`},
		{name: "complete review item on no dimension", method: "POST", targetOf: reviewItemTarget("req_full", "complete"), want: 400, setup: withHeldItem,
			body: `{"scores":{"tone":1}}`},
		{name: "complete review item without scores", method: "POST", targetOf: reviewItemTarget("req_full", "complete"), want: 400, setup: withHeldItem,
			body: `{"scores":{}}`},
		{name: "complete unknown review item", method: "POST", target: q + "/items/rvi_nope/complete", want: 404, body: `{"scores":{"helpful":true}}`},
		{name: "complete review item, too large", method: "POST", target: q + "/items/rvi_nope/complete", want: 413,
			body: `{"comment":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "skip review item", method: "POST", targetOf: reviewItemTarget("req_full", "skip"), want: 200, setup: withHeldItem,
			body: `{"comment":"not an answer"}`},
		{name: "skip review item without a body", method: "POST", targetOf: reviewItemTarget("req_full", "skip"), want: 200, setup: withHeldItem},
		{name: "skip review item not held", method: "POST", targetOf: reviewItemTarget("req_minimal", "skip"), want: 409, setup: withHeldItem},
		{name: "skip review item with a long comment", method: "POST", targetOf: reviewItemTarget("req_full", "skip"), want: 400, setup: withHeldItem,
			body: `{"comment":"` + strings.Repeat("a", feedback.MaxCommentBytes+1) + `"}`},
		{name: "skip unknown review item", method: "POST", target: q + "/items/rvi_nope/skip", want: 404},
		{name: "assign review item", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 200, setup: withReviewItems,
			body: `{"assignee":"Dev@Example.com"}`},
		{name: "unassign review item", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 200, setup: withReviewItems,
			body: `{"assignee":""}`},
		{name: "assign review item to a token", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 200, setup: withReviewItems,
			body: `{"assignee":"token:qa-bot"}`},
		{name: "assign review item to someone not a reviewer", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 400,
			setup: withReviewItems, body: `{"assignee":"eve@example.com"}`},
		{name: "assign review item to a group", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 400,
			setup: withReviewItems, body: `{"assignee":"group:qa"}`},
		{name: "assign review item already done", method: "POST", targetOf: reviewItemTarget("req_full", "assign"), want: 409,
			setup: withReviews, body: `{"assignee":"ana@example.com"}`},
		{name: "assign unknown review item", method: "POST", target: q + "/items/rvi_nope/assign", want: 404, body: `{"assignee":""}`},
	}
}

// reviewToken creates an API token and returns its secret.
func reviewToken(t *testing.T, f *oasFixture, name string, role auth.Role, team, consumer string) string {
	t.Helper()
	secret := "hgt-review-" + name + "-0123456789abcdefghijklmnopqrstuvwxyz"
	if err := f.db.CreateToken(t.Context(), auth.Token{ID: "tok_" + name, Name: name, Role: role, Team: team, Consumer: consumer,
		Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret), CreatedBy: "admin-token", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// reviewDo sends one request to the fixture's server.
func reviewDo(t *testing.T, f *oasFixture, token, method, target, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	f.server.Handler().ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// TestReviewQueueAccess checks who may do what with a queue of team
// payments that lists its reviewers: a listed reviewer reviews but does not
// manage; a developer of the team manages but, unlisted, does not review; a
// global viewer reads only; a principal of another team does not see the
// queue at all (404, as if absent), and a consumer has no review action.
func TestReviewQueueAccess(t *testing.T) {
	f := newOASFixture(t)
	f.t = t
	withReviewItems(f)
	tokens := map[string]string{
		"listed reviewer":  reviewToken(t, f, "qa-bot", auth.RoleReviewer, "payments", ""),
		"team developer":   reviewToken(t, f, "pay-dev", auth.RoleDeveloper, "payments", ""),
		"other team admin": reviewToken(t, f, "apps-admin", auth.RoleTeamAdmin, "apps", ""),
		"global viewer":    oasViewerToken,
		"consumer":         reviewToken(t, f, "shop", auth.RoleConsumer, "", "web-shop"),
		"admin":            oasToken,
	}
	const q = "/admin/v1/review-queues/" + oasQueue
	type want map[string]int // by principal
	for _, tc := range []struct {
		method, target, body string
		want                 want
	}{
		{"GET", "/admin/v1/review-queues", "",
			want{"listed reviewer": 200, "team developer": 200, "other team admin": 200, "global viewer": 200, "consumer": 403, "admin": 200}},
		{"GET", q, "", want{"listed reviewer": 200, "team developer": 200, "other team admin": 404, "global viewer": 200, "consumer": 403, "admin": 200}},
		{"GET", q + "/items", "", want{"listed reviewer": 200, "team developer": 200, "other team admin": 404, "global viewer": 200, "consumer": 403, "admin": 200}},
		{"POST", q + "/items", `{"call_ids":["req_full"]}`,
			want{"listed reviewer": 403, "team developer": 200, "other team admin": 404, "global viewer": 403, "consumer": 403, "admin": 200}},
		{"POST", q + "/items/bulk?consumer=web-shop", "",
			want{"listed reviewer": 403, "team developer": 200, "other team admin": 404, "global viewer": 403, "consumer": 403, "admin": 200}},
		{"POST", q + "/next", "", want{"listed reviewer": 200, "team developer": 403, "other team admin": 404, "global viewer": 403, "consumer": 403, "admin": 200}},
		{"POST", q + "/items/rvi_nope/assign", `{"assignee":""}`,
			want{"listed reviewer": 403, "team developer": 404, "other team admin": 404, "global viewer": 403, "consumer": 403, "admin": 404}},
	} {
		for _, who := range []string{"listed reviewer", "team developer", "other team admin", "global viewer", "consumer", "admin"} {
			status := tc.want[who]
			t.Run(tc.method+" "+tc.target+"/"+who, func(t *testing.T) {
				if code, b := reviewDo(t, f, tokens[who], tc.method, tc.target, tc.body); code != status {
					t.Fatalf("status %d, want %d: %s", code, status, b)
				}
			})
		}
	}
	t.Run("another team's principal lists no queue", func(t *testing.T) {
		_, b := reviewDo(t, f, tokens["other team admin"], "GET", "/admin/v1/review-queues", "")
		var out struct {
			Data []review.Status `json:"data"`
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Data) != 0 {
			t.Fatalf("queues = %s (%v), want none", b, err)
		}
	})
	t.Run("a listed reviewer completes the item it holds, scored as its feedback", func(t *testing.T) {
		code, b := reviewDo(t, f, tokens["listed reviewer"], "POST", q+"/next", "")
		if code != 200 {
			t.Fatalf("next: %d %s", code, b)
		}
		var next reviewNext
		if err := json.Unmarshal(b, &next); err != nil {
			t.Fatal(err)
		}
		// The reviewer fetched the oldest item above, before the admin
		// took the other one: asking again returns the item it holds.
		if next.Item.CallID != "req_full" || next.Item.LockedBy != "token:qa-bot" || next.Call.ID != "req_full" || next.Call.RequestBody == "" {
			t.Fatalf("next = %s", b)
		}
		// The developer may not complete what the reviewer holds.
		target := q + "/items/" + next.Item.ID + "/complete"
		if code, b := reviewDo(t, f, tokens["team developer"], "POST", target, `{"scores":{"helpful":false}}`); code != 403 {
			t.Fatalf("developer's complete: %d %s", code, b)
		}
		if code, b := reviewDo(t, f, tokens["listed reviewer"], "POST", target, `{"scores":{"helpful":false}}`); code != 200 {
			t.Fatalf("complete: %d %s", code, b)
		}
		fb, err := f.db.ListFeedback(t.Context(), "req_full")
		if err != nil {
			t.Fatal(err)
		}
		if len(fb) != 1 || fb[0].Source != feedback.SourceReviewer || fb[0].Author != "token:qa-bot" || fb[0].Name != "helpful" ||
			fb[0].Value != feedback.BoolValue(false) || fb[0].Polarity != feedback.PolarityNegative {
			t.Fatalf("feedback on the call = %+v", fb)
		}
	})
}

// TestReviewBulkAddIsTheCallList checks that a bulk add takes exactly the
// calls the call list shows with the same parameters, over all its pages,
// for an unscoped and a team-scoped principal, and never one call twice:
// the queue always holds the union of what the filters listed.
func TestReviewBulkAddIsTheCallList(t *testing.T) {
	f := newOASFixture(t)
	f.t = t
	f.server.Calls = f.db
	f.server.Reviews = newOASReviews(f.db, f.db, f.configs)
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	consumers := []string{"web-shop", "web-shop", "mobile", ""}
	models := []string{"gpt-4o-mini", "claude-haiku", "gpt-4o-mini"}
	var recs []calllog.Record
	for i := range 613 {
		r := calllog.Record{
			ID: fmt.Sprintf("req_%04d", i), Time: base.Add(time.Duration(i) * 37 * time.Second), Endpoint: "/v1/chat/completions",
			Consumer: consumers[i%len(consumers)], Model: models[i%len(models)], Status: 200, LatencyUS: int64(1000 + i),
		}
		if i%11 == 0 {
			r.Status, r.ErrorType = 500, "server_error"
		}
		if i%7 == 0 {
			r.Flags = []string{"refusal"}
		}
		if i%13 == 0 {
			r.Time = base.Add(time.Duration(i/13) * 37 * time.Second) // same instants: ties the cursor must break
		}
		recs = append(recs, r)
	}
	if err := f.db.InsertCallsAndRollups(ctx, recs); err != nil { // with their flags
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 5 {
		sum := calllog.SummaryOf(&recs[i])
		if _, _, err := f.db.UpsertFeedback(ctx, feedback.Feedback{ID: "fb_" + recs[i].ID, RequestID: recs[i].ID, Consumer: recs[i].Consumer,
			Name: "helpful", Value: feedback.BoolValue(i%10 != 0), Polarity: map[bool]string{true: feedback.PolarityPositive, false: feedback.PolarityNegative}[i%10 != 0],
			Source: feedback.SourceUser, CreatedAt: recs[i].Time, UpdatedAt: recs[i].Time, Call: sum}); err != nil {
			t.Fatal(err)
		}
	}
	dev := reviewToken(t, f, "pay-dev", auth.RoleDeveloper, "payments", "")

	// listed pages through GET /admin/v1/calls as token.
	listed := func(t *testing.T, token, query string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for {
			v, _ := url.ParseQuery(query)
			v.Set("limit", "97")
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			code, b := reviewDo(t, f, token, "GET", "/admin/v1/calls?"+v.Encode(), "")
			if code != 200 {
				t.Fatalf("listing %s: %d %s", query, code, b)
			}
			var page calllog.Page
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Calls {
				ids = append(ids, c.ID)
			}
			if page.Next == "" {
				return ids
			}
			cursor = page.Next
		}
	}
	inQueue := map[string]bool{}
	for _, tc := range []struct {
		name, token, query string
	}{
		{"negative feedback", oasToken, "feedback=helpful:false"},
		{"a flag", oasToken, "flag=refusal"},
		{"errors of a model in a period", oasToken, "status=500&model=gpt-4o-mini&since=2026-03-01T02:00:00Z&until=2026-03-01T09:00:00Z"},
		{"a consumer, read as a team developer", dev, "consumer=web-shop&has_feedback=true"},
		{"everything a team developer reads", dev, ""},
		{"everything", oasToken, ""},
		{"everything again", oasToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := listed(t, tc.token, tc.query)
			if len(want) == 0 {
				t.Fatalf("the filter %q lists no call: a vacuous case", tc.query)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(want)))) != len(want) {
				t.Fatalf("the call list shows a call twice for %q", tc.query)
			}
			newCalls := 0
			for _, id := range want {
				if !inQueue[id] {
					newCalls++
				}
			}
			code, b := reviewDo(t, f, tc.token, "POST", "/admin/v1/review-queues/"+oasQueue+"/items/bulk?"+tc.query, "")
			if code != 200 {
				t.Fatalf("bulk add: %d %s", code, b)
			}
			var res reviewAddResult
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			if res.Matched != len(want) || res.Added != newCalls {
				t.Fatalf("bulk add = %+v, want matched %d, added %d", res, len(want), newCalls)
			}
			for _, id := range want {
				inQueue[id] = true
			}
			var items []string
			cursor := ""
			for {
				page, err := f.db.ListReviewItems(ctx, oasQueue, review.ItemFilter{Limit: 500, Cursor: cursor}, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					items = append(items, it.CallID)
				}
				if page.Next == "" {
					break
				}
				cursor = page.Next
			}
			slices.Sort(items)
			if len(items) != len(inQueue) || len(slices.Compact(slices.Clone(items))) != len(items) {
				t.Fatalf("the queue holds %d items, want the %d calls listed so far, each once", len(items), len(inQueue))
			}
			for _, id := range items {
				if !inQueue[id] {
					t.Fatalf("the queue holds %s, which no filter listed", id)
				}
			}
		})
	}
	if len(inQueue) != len(recs) {
		t.Errorf("%d calls in the queue after adding everything, want %d", len(inQueue), len(recs))
	}
}
