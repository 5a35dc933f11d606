package app_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// reviewConfig adds score definitions and two review queues to the base
// configuration: bad-answers, filled by its rules (negative feedback on
// helpful, and answers flagged invalid_json by the anomaly detectors) and
// reviewed by Rita and Sam; and triage, filled by hand.
const reviewConfig = `
scores:
  - { name: helpful, type: boolean }
  - { name: correct, type: boolean }
  - { name: rating, type: numeric, min: 1, max: 5 }
review_queues:
  - name: bad-answers
    dimensions: [correct, rating]
    reviewers: [rita@example.com, sam@example.com]
    rules:
      - { when: { feedback: { helpful: false } } }
      - { when: { flag: invalid_json } }
  - name: triage
    dimensions: [correct]
`

// TestReviewQueues walks a review queue end to end: calls through the
// gateway join it by its rules (negative feedback, an anomaly flag) and
// only once; two reviewers fetch, lock, complete and skip; scores become
// feedback of source reviewer on the call; progress adds up; and a bulk
// add by filter takes exactly what the call list shows.
func TestReviewQueues(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { reviewQueues(t, start(t, b.opt(t))) })
	}
}

func reviewQueues(t *testing.T, e *env) {
	if code := e.adminDo("PUT", "/admin/v1/config?message=review", fmt.Sprintf(baseConfig, e.up.BaseURL())+reviewConfig, nil); code != 200 {
		t.Fatalf("applying the review queues: %d", code)
	}
	const jsonBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"answer in JSON"}],"response_format":{"type":"json_object"}}`
	calls := []struct{ id, key, body string }{
		{"rv-good", shopKey, chatBody},
		{"rv-bad-1", shopKey, chatBody},
		{"rv-bad-2", shopKey, chatBody},
		{"rv-plain", shopKey, chatBody},
		{"rv-json", otherKey, jsonBody}, // the fake answers prose: invalid_json
		{"rv-other", otherKey, chatBody},
	}
	for _, c := range calls {
		if resp, b := e.do("POST", "/v1/chat/completions", c.key, c.body, "X-Request-Id", c.id); resp.StatusCode != 200 {
			t.Fatalf("call %s: %d %s", c.id, resp.StatusCode, b)
		}
	}
	feedback := []struct{ id, key, body string }{
		{"rv-good", shopKey, `{"value":true}`},
		{"rv-bad-1", shopKey, `{"value":false,"comment":"wrong order total"}`},
		{"rv-bad-2", shopKey, `{"name":"helpful","value":false}`},
		// Said twice, and scored badly on another name: the call still
		// joins the queue once.
		{"rv-bad-1", shopKey, `{"value":false,"comment":"still wrong"}`},
		{"rv-bad-1", shopKey, `{"name":"rating","value":1}`},
		{"rv-plain", shopKey, `{"name":"rating","value":1}`},
	}
	for _, f := range feedback {
		body := `{"request_id":"` + f.id + `",` + f.body[1:]
		if resp, b := e.do("POST", "/v1/feedback", f.key, body); resp.StatusCode != 201 {
			t.Fatalf("feedback on %s: %d %s", f.id, resp.StatusCode, b)
		}
	}
	for _, c := range calls {
		e.call(c.id)
	}
	if rec := e.call("rv-json"); !slices.Contains(rec.Flags, "invalid_json") {
		t.Fatalf("rv-json is not flagged invalid_json: flags %v", rec.Flags)
	}
	if rec := e.call("rv-plain"); len(rec.Flags) != 0 {
		t.Fatalf("rv-plain is flagged %v", rec.Flags)
	}

	const q = "/admin/v1/review-queues/bad-answers"
	t.Run("rules add the negative and the flagged calls, once each", func(t *testing.T) {
		want := map[string]string{"rv-bad-1": "rule:1", "rv-bad-2": "rule:1", "rv-json": "rule:2"}
		var got map[string]string
		// The flag rule runs as the call's record is stored, just after
		// the record is readable.
		for deadline := time.Now().Add(10 * time.Second); ; {
			got = map[string]string{}
			b := e.mustDo(200, "GET", q+"/items", "")
			for _, it := range gjson.GetBytes(b, "data").Array() {
				if _, dup := got[it.Get("call_id").Str]; dup {
					t.Fatalf("call %s is twice in the queue: %s", it.Get("call_id").Str, b)
				}
				got[it.Get("call_id").Str] = it.Get("added_by").Str
			}
			if len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("items by call = %v, want %v", got, want)
		}
	})

	// Two reviewers, signed in as users of role reviewer.
	session := func(email string) string {
		e.mustDo(201, "POST", "/admin/v1/users", fmt.Sprintf(`{"email":%q,"password":"review password 1","role":"reviewer"}`, email))
		resp, b := e.login(email, "review password 1")
		if resp.StatusCode != 200 {
			t.Fatalf("signing in %s: %d %s", email, resp.StatusCode, b)
		}
		return gjson.GetBytes(b, "session_token").Str
	}
	rita, sam := session("rita@example.com"), session("sam@example.com")
	as := func(who, method, path, body string, want int) []byte {
		t.Helper()
		code, b := e.as(who, method, path, body, "Content-Type", "application/json")
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
		}
		return b
	}
	progress := func(want string) {
		t.Helper()
		b := as(rita, "GET", q, "", 200)
		p := gjson.GetBytes(b, "progress")
		got := fmt.Sprintf("total=%d pending=%d locked=%d completed=%d skipped=%d", p.Get("total").Int(), p.Get("pending").Int(),
			p.Get("locked").Int(), p.Get("completed").Int(), p.Get("skipped").Int())
		for _, r := range p.Get("reviewers").Array() {
			got += fmt.Sprintf(" %s:%d/%d/%d", r.Get("reviewer").Str, r.Get("completed").Int(), r.Get("skipped").Int(), r.Get("locked").Int())
		}
		if got != want {
			t.Fatalf("progress: %s\nwant      %s", got, want)
		}
	}

	var ritaFirst, samFirst, ritaSecond gjson.Result
	t.Run("each reviewer fetches and locks a different item", func(t *testing.T) {
		ritaFirst = gjson.ParseBytes(as(rita, "POST", q+"/next", "", 200))
		samFirst = gjson.ParseBytes(as(sam, "POST", q+"/next", "", 200))
		if ritaFirst.Get("item.id").Str == samFirst.Get("item.id").Str {
			t.Fatalf("both reviewers got item %s", ritaFirst.Get("item.id").Str)
		}
		if ritaFirst.Get("item.locked_by").Str != "user:rita@example.com" || ritaFirst.Get("item.state").Str != "locked" ||
			samFirst.Get("item.locked_by").Str != "user:sam@example.com" {
			t.Fatalf("locks: rita %s, sam %s", ritaFirst.Get("item"), samFirst.Get("item"))
		}
		if ritaFirst.Get("call.id").Str != ritaFirst.Get("item.call_id").Str || ritaFirst.Get("call.response_body").Str == "" {
			t.Fatalf("next brings the call with its bodies: %s", ritaFirst.Get("call"))
		}
		// Asking again returns the item held, not another one.
		again := gjson.ParseBytes(as(rita, "POST", q+"/next", "", 200))
		if again.Get("item.id").Str != ritaFirst.Get("item.id").Str {
			t.Fatalf("rita's second next = %s, want the item she holds, %s", again.Get("item.id").Str, ritaFirst.Get("item.id").Str)
		}
		progress("total=3 pending=1 locked=2 completed=0 skipped=0 user:rita@example.com:0/0/1 user:sam@example.com:0/0/1")
	})

	t.Run("only the holder completes, with scores of the queue's dimensions", func(t *testing.T) {
		item := q + "/items/" + ritaFirst.Get("item.id").Str
		as(sam, "POST", item+"/complete", `{"scores":{"correct":true}}`, 409)
		as(rita, "POST", item+"/complete", `{"scores":{"tone":3}}`, 400)
		as(rita, "POST", item+"/complete", `{"scores":{"rating":7}}`, 400)
		done := gjson.ParseBytes(as(rita, "POST", item+"/complete", `{"scores":{"correct":false,"rating":2},"comment":"total is off by one"}`, 200))
		if done.Get("state").Str != "completed" || done.Get("reviews").Int() != 1 || done.Get("done_at").Str == "" {
			t.Fatalf("completed item = %s", done)
		}
		as(rita, "POST", item+"/complete", `{"scores":{"correct":true}}`, 409)
	})

	t.Run("scores are feedback of source reviewer on the call", func(t *testing.T) {
		callID := ritaFirst.Get("item.call_id").Str
		b := e.mustDo(200, "GET", "/admin/v1/calls/"+callID, "")
		got := map[string]string{}
		for _, f := range gjson.GetBytes(b, "feedback").Array() {
			if f.Get("source").Str == "reviewer" {
				got[f.Get("name").Str] = fmt.Sprintf("%s %s %s %q", f.Get("value").Raw, f.Get("author").Str, f.Get("polarity").Str, f.Get("comment").Str)
			}
		}
		want := map[string]string{
			"correct": `false user:rita@example.com negative "total is off by one"`,
			"rating":  `2 user:rita@example.com negative "total is off by one"`,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("reviewer feedback on %s = %v, want %v\n%s", callID, got, want, b)
		}
	})

	t.Run("a skip sets the item aside, and the next reviewer gets what is left", func(t *testing.T) {
		skipped := gjson.ParseBytes(as(sam, "POST", q+"/items/"+samFirst.Get("item.id").Str+"/skip", `{"comment":"not an answer"}`, 200))
		if skipped.Get("state").Str != "skipped" {
			t.Fatalf("skipped item = %s", skipped)
		}
		ritaSecond = gjson.ParseBytes(as(rita, "POST", q+"/next", "", 200))
		if id := ritaSecond.Get("item.id").Str; id == ritaFirst.Get("item.id").Str || id == samFirst.Get("item.id").Str {
			t.Fatalf("rita's second item %s is one already done", id)
		}
		// The only item left is Rita's.
		if code, b := e.as(sam, "POST", q+"/next", ""); code != 204 {
			t.Fatalf("sam's next with nothing free: %d %s", code, b)
		}
		progress("total=3 pending=0 locked=1 completed=1 skipped=1 user:rita@example.com:1/0/1 user:sam@example.com:0/1/0")
		as(rita, "POST", q+"/items/"+ritaSecond.Get("item.id").Str+"/complete", `{"scores":{"correct":true,"rating":5}}`, 200)
		progress("total=3 pending=0 locked=0 completed=2 skipped=1 user:rita@example.com:2/0/0 user:sam@example.com:0/1/0")
		seen := []string{ritaFirst.Get("item.call_id").Str, samFirst.Get("item.call_id").Str, ritaSecond.Get("item.call_id").Str}
		slices.Sort(seen)
		if fmt.Sprint(seen) != "[rv-bad-1 rv-bad-2 rv-json]" {
			t.Fatalf("reviewed calls = %v", seen)
		}
	})

	t.Run("a reviewer does not manage the queue", func(t *testing.T) {
		as(rita, "POST", q+"/items", `{"call_ids":["rv-good"]}`, 403)
		as(rita, "POST", q+"/items/bulk?consumer=shop", "", 403)
	})

	t.Run("bulk add takes exactly what the call list shows", func(t *testing.T) {
		const tq = "/admin/v1/review-queues/triage"
		listed := func(query string) []string {
			var ids []string
			cursor := ""
			for {
				v, _ := url.ParseQuery(query)
				if cursor != "" {
					v.Set("cursor", cursor)
				}
				b := e.mustDo(200, "GET", "/admin/v1/calls?"+v.Encode(), "")
				for _, c := range gjson.GetBytes(b, "data").Array() {
					ids = append(ids, c.Get("id").Str)
				}
				if cursor = gjson.GetBytes(b, "next_cursor").Str; cursor == "" {
					slices.Sort(ids)
					return ids
				}
			}
		}
		items := func() []string {
			var ids []string
			for _, it := range gjson.GetBytes(e.mustDo(200, "GET", tq+"/items?limit=500", ""), "data").Array() {
				ids = append(ids, it.Get("call_id").Str)
			}
			slices.Sort(ids)
			return ids
		}
		var union []string
		for _, tc := range []struct{ query, wantListed string }{
			{"consumer=shop&limit=2", "[rv-bad-1 rv-bad-2 rv-good rv-plain]"},
			{"feedback=helpful:false", "[rv-bad-1 rv-bad-2]"},
			{"flag=invalid_json", "[rv-json]"},
			{"consumer=other&limit=1", "[rv-json rv-other]"},
		} {
			want := listed(tc.query)
			if fmt.Sprint(want) != tc.wantListed {
				t.Fatalf("GET /admin/v1/calls?%s lists %v, want %s", tc.query, want, tc.wantListed)
			}
			added := 0
			for _, id := range want {
				if !slices.Contains(union, id) {
					union = append(union, id)
					added++
				}
			}
			slices.Sort(union)
			b := e.mustDo(200, "POST", tq+"/items/bulk?"+tc.query, "")
			if m, a := gjson.GetBytes(b, "matched").Int(), gjson.GetBytes(b, "added").Int(); m != int64(len(want)) || a != int64(added) {
				t.Fatalf("bulk add %s: matched %d, added %d; want %d, %d", tc.query, m, a, len(want), added)
			}
			if got := items(); fmt.Sprint(got) != fmt.Sprint(union) {
				t.Fatalf("after bulk add %s the queue holds %v, want %v", tc.query, got, union)
			}
		}
		// By hand: a call already there is not added again.
		b := e.mustDo(200, "POST", tq+"/items", `{"call_ids":["rv-good","rv-other"]}`)
		if gjson.GetBytes(b, "matched").Int() != 2 || gjson.GetBytes(b, "added").Int() != 0 {
			t.Fatalf("manual add of calls in the queue: %s", b)
		}
		if got := items(); len(got) != 6 {
			t.Fatalf("triage holds %v, want the 6 calls once each", got)
		}
	})
}
