package app_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// consoleReviewConfig declares the scores and queues of the review
// workspace's tests: queue triage scores correct (yes or no) and rating
// (1 to 5); queue quiet stays empty.
const consoleReviewConfig = `
scores:
  - { name: correct, type: boolean, description: "Is the answer right?" }
  - { name: rating, type: numeric, min: 1, max: 5 }
review_queues:
  - name: triage
    description: Calls picked by hand
    dimensions: [correct, rating]
  - name: quiet
    dimensions: [correct]
`

var itemPath = regexp.MustCompile(`^/review/triage/items/([^/]+)$`)

func TestConsoleReview(t *testing.T) {
	e := start(t)
	if code := e.adminDo("PUT", "/admin/v1/config?message=review", fmt.Sprintf(baseConfig, e.up.BaseURL())+consoleReviewConfig, nil); code != 200 {
		t.Fatalf("applying the review queues: %d", code)
	}
	const pw = "a long console passphrase"
	users := map[string]string{"op@example.com": "admin", "rita@example.com": "reviewer", "view@example.com": "viewer"}
	sessions := map[string]*browser{}
	for email, role := range users {
		e.mustDo(201, "POST", "/admin/v1/users", `{"email":"`+email+`","role":"`+role+`","password":"`+pw+`"}`)
		b := e.browser()
		if resp := b.signin(email, pw); resp.StatusCode != 303 {
			t.Fatalf("sign-in of %s: %d", email, resp.StatusCode)
		}
		sessions[role] = b
	}
	op, rita, viewer := sessions["admin"], sessions["reviewer"], sessions["viewer"]
	var calls []string
	for i := range 2 {
		resp, b := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"review me `+fmt.Sprint(i)+`"}]}`)
		id := resp.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatalf("no request id: %d %s", resp.StatusCode, b)
		}
		e.call(id)
		calls = append(calls, id)
	}
	token := func(b *browser, path string) string {
		t.Helper()
		_, page := b.get(path)
		return formToken(t, page)
	}

	t.Run("add to queue from the call page", func(t *testing.T) {
		for i, c := range []struct {
			name, call, notice string
		}{
			{"first call", calls[0], "Added to review queue triage."},
			{"second call", calls[1], "Added to review queue triage."},
			{"again", calls[0], "The call is already in review queue triage."},
		} {
			page := "/calls/" + c.call
			resp, body := op.get(page)
			checkPage(t, page, resp, body)
			if i == 0 {
				for _, want := range []string{"Add to review queue", `action="/calls/` + c.call + `/review"`, `<label for="rv-queue">Queue</label>`,
					`<option value="triage">triage</option>`, `<option value="quiet">quiet</option>`} {
					if !strings.Contains(body, want) {
						t.Errorf("call page lacks %q", want)
					}
				}
			}
			resp, body = op.post(page+"/review", url.Values{"csrf_token": {formToken(t, body)}, "queue": {"triage"}})
			checkPage(t, c.name, resp, body)
			if resp.StatusCode != 200 || !strings.Contains(body, c.notice) || !strings.Contains(body, `<a href="/review/triage">Open review queue triage</a>`) {
				t.Errorf("%s: %d, lacks %q or the queue's link", c.name, resp.StatusCode, c.notice)
			}
		}
		resp, body := op.post("/calls/"+calls[0]+"/review", url.Values{"csrf_token": {token(op, "/calls/"+calls[0])}, "queue": {"nothing"}})
		if resp.StatusCode != 404 || !strings.Contains(body, `no review queue`) {
			t.Errorf("unknown queue: %d", resp.StatusCode)
		}
	})

	t.Run("permissions and anti-forgery", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			b      *browser
			path   string
			form   url.Values
			status int
		}{
			{"viewer adds to a queue", viewer, "/calls/" + calls[0] + "/review", url.Values{"queue": {"triage"}}, 403},
			{"reviewer adds to a queue", rita, "/calls/" + calls[0] + "/review", url.Values{"queue": {"triage"}}, 403},
			{"viewer takes an item", viewer, "/review/triage/next", nil, 403},
			{"no anti-forgery token: add", op, "/calls/" + calls[0] + "/review", url.Values{"queue": {"triage"}, "csrf_token": nil}, 403},
			{"no anti-forgery token: next", rita, "/review/triage/next", url.Values{"csrf_token": nil}, 403},
			{"no anti-forgery token: complete", rita, "/review/triage/items/x/complete", url.Values{"csrf_token": nil, "score.correct": {"true"}}, 403},
		} {
			form := url.Values{"csrf_token": {token(c.b, "/review")}}
			for k, v := range c.form {
				if v == nil {
					delete(form, k)
				} else {
					form[k] = v
				}
			}
			resp, body := c.b.post(c.path, form)
			checkPage(t, c.name, resp, body)
			if resp.StatusCode != c.status {
				t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
			}
		}
		for _, c := range []struct {
			name, path string
			b          *browser
			has, lack  []string
		}{
			{"viewer's call page", "/calls/" + calls[0], viewer, nil, []string{"Add to review queue"}},
			{"reviewer's call page", "/calls/" + calls[0], rita, nil, []string{"Add to review queue"}},
			{"viewer's queue page", "/review/triage", viewer, []string{"may read this queue but not review"}, []string{"Review the next item"}},
			{"reviewer's queue page", "/review/triage", rita, []string{"Review the next item"}, nil},
		} {
			resp, body := c.b.get(c.path)
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", c.name, resp.StatusCode)
			}
			for _, s := range c.has {
				if !strings.Contains(body, s) {
					t.Errorf("%s lacks %q", c.name, s)
				}
			}
			for _, s := range c.lack {
				if strings.Contains(body, s) {
					t.Errorf("%s shows %q", c.name, s)
				}
			}
		}
	})

	t.Run("queue list", func(t *testing.T) {
		// One item assigned to Rita for the list, then offered to all again.
		_, items := e.as(adminToken, "GET", "/admin/v1/review-queues/triage/items", "")
		assign := "/admin/v1/review-queues/triage/items/" + gjson.GetBytes(items, "data.0.id").Str + "/assign"
		e.mustDo(200, "POST", assign, `{"assignee":"rita@example.com"}`)
		resp, body := rita.get("/review")
		e.mustDo(200, "POST", assign, `{"assignee":""}`)
		checkPage(t, "/review", resp, body)
		for _, want := range []string{`<a href="/review" aria-current="page">Review</a>`, `<a href="/review/triage">triage</a>`,
			`<a href="/review/quiet">quiet</a>`, "Calls picked by hand", "correct, rating", "Open items", "Assigned to me",
			"<td>2</td>\n<td>1</td>\n<td>0 of 2</td>"} {
			if !strings.Contains(body, want) {
				t.Errorf("/review lacks %q", want)
			}
		}
	})

	// next takes the next item as b and returns its page's path.
	next := func(t *testing.T, b *browser) string {
		t.Helper()
		resp, body := b.post("/review/triage/next", url.Values{"csrf_token": {token(b, "/review/triage")}})
		if resp.StatusCode != 303 {
			t.Fatalf("next: %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Location")
	}

	t.Run("review next, complete and skip", func(t *testing.T) {
		first := next(t, op)
		m := itemPath.FindStringSubmatch(first)
		if m == nil {
			t.Fatalf("next sent to %q", first)
		}
		resp, body := op.get(first)
		checkPage(t, first, resp, body)
		for _, want := range []string{"0 of 2</strong> done in this queue, 2 left", `href="/calls/` + calls[0] + `"`, "review me 0",
			`<legend>correct <span class="muted">— Is the answer right?</span></legend>`,
			`name="score.correct" value="true" data-key="y"`, `name="score.correct" value="false" data-key="n"`,
			`name="score.rating" value="1" data-key="1"`, `name="score.rating" value="5" data-key="5"`,
			`<label for="review-comment">`, `id="review-submit"`, `formaction="/review/triage/items/` + m[1] + `/skip"`,
			`<script src="/static/review.js?v=`, "Keyboard shortcuts", "<kbd>?</kbd>"} {
			if !strings.Contains(body, want) {
				t.Errorf("item page lacks %q", want)
			}
		}
		// No score: refused, with the form again.
		resp, body = op.post(first+"/complete", url.Values{"csrf_token": {formToken(t, body)}, "comment": {"kept"}})
		if resp.StatusCode != 400 || !strings.Contains(body, "give at least one score") || !strings.Contains(body, ">kept</textarea>") {
			t.Errorf("no score: %d", resp.StatusCode)
		}
		// Scored: stored as feedback, and straight on to the next item.
		resp, _ = op.post(first+"/complete", url.Values{"csrf_token": {formToken(t, body)}, "score.correct": {"false"},
			"score.rating": {"2"}, "comment": {"wrong total"}})
		second := resp.Header.Get("Location")
		if resp.StatusCode != 303 || !itemPath.MatchString(second) || second == first {
			t.Fatalf("complete: %d to %q", resp.StatusCode, second)
		}
		_, b := e.as(adminToken, "GET", "/admin/v1/calls/"+calls[0], "")
		fb := gjson.GetBytes(b, `feedback.#(name=="correct")`)
		if fb.Get("value").Raw != "false" || fb.Get("source").Str != "reviewer" || fb.Get("comment").Str != "wrong total" ||
			gjson.GetBytes(b, `feedback.#(name=="rating").value`).Num != 2 {
			t.Errorf("feedback after the review: %s", gjson.GetBytes(b, "feedback").Raw)
		}
		resp, body = op.get(second)
		if !strings.Contains(body, "1 of 2</strong> done") || !strings.Contains(body, "review me 1") {
			t.Errorf("second item: %d", resp.StatusCode)
		}
		resp, _ = op.post(second+"/skip", url.Values{"csrf_token": {formToken(t, body)}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/review/triage?empty=1" {
			t.Fatalf("skip: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = op.get("/review/triage?empty=1")
		if !strings.Contains(body, "No item is left for you to review") {
			t.Errorf("empty queue: %d", resp.StatusCode)
		}
		// The finished item is no longer held.
		resp, body = op.get(second)
		if resp.StatusCode != 409 || !strings.Contains(body, "You no longer hold item") {
			t.Errorf("finished item page: %d", resp.StatusCode)
		}
		if _, b := e.as(adminToken, "GET", "/admin/v1/review-queues/triage", ""); gjson.GetBytes(b, "progress.completed").Int() != 1 ||
			gjson.GetBytes(b, "progress.skipped").Int() != 1 {
			t.Errorf("progress: %s", gjson.GetBytes(b, "progress").Raw)
		}
	})

	t.Run("empty queue", func(t *testing.T) {
		resp, _ := rita.post("/review/quiet/next", url.Values{"csrf_token": {token(rita, "/review/quiet")}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/review/quiet?empty=1" {
			t.Fatalf("next on an empty queue: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, body := rita.get("/review/quiet?empty=1")
		if !strings.Contains(body, "No item is left for you to review in this queue.") {
			t.Errorf("no empty-queue message")
		}
	})

	t.Run("overview shows the reviews in the feedback trend", func(t *testing.T) {
		count := regexp.MustCompile(`<strong class="count">(\d+)</strong> feedback given in the last 24 hours`)
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, body := op.get("/")
			checkPage(t, "/", resp, body)
			m := count.FindStringSubmatch(body)
			if m != nil && m[1] != "0" && strings.Contains(body, `<polyline class="line-feedback"`) && strings.Contains(body, `<circle class="dot-negative"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the overview's feedback trend does not show the reviews' feedback: %v", m)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("reviewer without the score definitions", func(t *testing.T) {
		e.mustDo(200, "POST", "/admin/v1/review-queues/quiet/items", `{"call_ids":["`+calls[1]+`"]}`)
		resp, _ := rita.post("/review/quiet/next", url.Values{"csrf_token": {token(rita, "/review/quiet")}})
		item := resp.Header.Get("Location")
		resp, body := rita.get(item)
		if resp.StatusCode != 200 || !strings.Contains(body, `name="score.correct" value="true" data-key="y"`) || !strings.Contains(body, `name="other.correct"`) {
			t.Fatalf("reviewer's item page: %d", resp.StatusCode)
		}
		resp, _ = rita.post(item+"/complete", url.Values{"csrf_token": {formToken(t, body)}, "score.correct": {"true"}})
		if resp.StatusCode != 303 {
			t.Fatalf("reviewer's complete: %d", resp.StatusCode)
		}
		_, b := e.as(adminToken, "GET", "/admin/v1/calls/"+calls[1], "")
		if fb := gjson.GetBytes(b, `feedback.#(author=="user:rita@example.com")`); fb.Get("value").Raw != "true" {
			t.Errorf("reviewer's feedback: %s", gjson.GetBytes(b, "feedback").Raw)
		}
	})
}

// TestConsoleReviewCreateQueue declares a queue from the review page, the
// way a newcomer who has not met review_queues: does: the failing-calls
// box adds a 5xx rule, and a refused queue keeps what was typed.
func TestConsoleReviewCreateQueue(t *testing.T) {
	e := start(t)
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"rita@example.com","role":"reviewer","password":"`+pw+`"}`)
	op, rita := e.browser(), e.browser()
	op.signin("op@example.com", pw)
	rita.signin("rita@example.com", pw)

	_, page := rita.get("/review")
	if strings.Contains(page, `action="/review"`) {
		t.Error("a reviewer is offered the form that changes the configuration")
	}
	if resp, _ := rita.post("/review", url.Values{"csrf_token": {formToken(t, page)}, "name": {"sneaky"}, "dimensions": {"helpful"}}); resp.StatusCode != 403 {
		t.Errorf("a reviewer creating a queue: %d, want 403", resp.StatusCode)
	}

	revision := regexp.MustCompile(`name="revision" value="(\d+)"`)
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"no scores", url.Values{"name": {"answers"}, "dimensions": {" , "}}, 422, "dimensions"},
		{"bad name", url.Values{"name": {"Not A Name!"}, "dimensions": {"helpful"}}, 422, "Not A Name!"},
		{"unknown team", url.Values{"name": {"answers"}, "dimensions": {"helpful"}, "team": {"ghosts"}}, 422, "ghosts"},
		{"created", url.Values{"name": {"answers"}, "description": {"Answers to check"}, "dimensions": {"helpful, correct"}, "failing": {"on"}}, 303, ""},
		{"again", url.Values{"name": {"answers"}, "dimensions": {"helpful"}}, 409, "already exists"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, page := op.get("/review")
			checkPage(t, "/review", resp, page)
			c.form.Set("csrf_token", formToken(t, page))
			c.form.Set("revision", revision.FindStringSubmatch(page)[1])
			resp, body := op.post("/review", c.form)
			if resp.StatusCode != c.status && !(c.status == 422 && resp.StatusCode == 400) {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.status == 303 {
				if loc := resp.Header.Get("Location"); loc != "/review/answers" {
					t.Errorf("redirect to %q", loc)
				}
				return
			}
			if !strings.Contains(body, c.want) {
				t.Errorf("the refusal does not show %q: %s", c.want, body)
			}
		})
	}
	cfg := e.mustDo(200, "GET", "/admin/v1/config", "")
	q := gjson.GetBytes(cfg, `config.review_queues.#(name=="answers")`)
	if q.Get("dimensions|@ugly").Raw != `["helpful","correct"]` || q.Get("rules.0.when.status").Str != "5xx" || q.Get("description").Str != "Answers to check" {
		t.Errorf("declared queue: %s", q.Raw)
	}
}
