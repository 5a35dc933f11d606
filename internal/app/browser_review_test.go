package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// TestBrowserReview drives the review workspace in headless Chromium
// through e2e/review.mjs: a call added to a review queue from its page and
// reviewed with the keyboard only, a hypercare window's report, and the
// main pages at a phone's width. It then checks in the store what the
// keyboard did: the item is complete and its scores are feedback on the
// call. Screenshots as TestBrowser takes them.
func TestBrowserReview(t *testing.T) {
	node, root := browserTools(t)
	shots := screenshotsDir(t, root)
	e := start(t)
	setupHypercare(t, e, consoleReviewConfig)
	const (
		email = "reviewer@example.com"
		pw    = "a long browser passphrase"
	)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"`+email+`","role":"admin","password":"`+pw+`"}`)
	resp, b := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the order total of 2 + 2 items?"}]}`)
	call := resp.Header.Get("X-Request-Id")
	if call == "" {
		t.Fatalf("no request id: %d %s", resp.StatusCode, b)
	}
	e.call(call)

	runBrowserScript(t, node, root, "review.mjs",
		"HG_CONSOLE_URL="+e.admin,
		"HG_EMAIL="+email,
		"HG_PASSWORD="+pw,
		"HG_CALL_ID="+call,
		"HG_QUEUE=triage",
		"HG_HYPERCARE=bot-v2",
		"HG_SCREENSHOTS="+shots,
	)

	// What the keyboard submitted must be stored, not only shown.
	_, items := e.as(adminToken, "GET", "/admin/v1/review-queues/triage/items", "")
	if n := gjson.GetBytes(items, "data.#").Int(); n != 1 || gjson.GetBytes(items, "data.0.call_id").Str != call ||
		gjson.GetBytes(items, "data.0.state").Str != "completed" || gjson.GetBytes(items, "data.0.reviews").Int() != 1 {
		t.Errorf("queue items after the browser: %s", items)
	}
	_, rec := e.as(adminToken, "GET", "/admin/v1/calls/"+call, "")
	correct := gjson.GetBytes(rec, `feedback.#(name=="correct")`)
	if correct.Get("value").Raw != "false" || correct.Get("source").Str != "reviewer" || correct.Get("author").Str != "user:"+email ||
		correct.Get("comment").Str != "n 1 sent 2 answers" || gjson.GetBytes(rec, `feedback.#(name=="rating").value`).Raw != "2" {
		t.Errorf("feedback on the call after the browser: %s", gjson.GetBytes(rec, "feedback").Raw)
	}
	for _, name := range []string{"review.png", "hypercare.png"} {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
