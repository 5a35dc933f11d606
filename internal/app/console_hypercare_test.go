package app_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/hypercare"
)

// setupHypercare applies the hypercare configuration of
// TestHypercareReport (window bot-v2 on service support-bot, opened two
// days ago), stores its calls and feedback, and stores one daily report:
// error rate and latency p95 regressed. extra is appended to the
// configuration.
func setupHypercare(t *testing.T, e *env, extra string) {
	t.Helper()
	ctx := context.Background()
	begin := seedHypercare(t, e, extra)
	var rep hypercare.Report
	if code := e.adminDo("GET", "/admin/v1/hypercare/bot-v2/report?at="+begin.Add(24*time.Hour).Format(time.RFC3339), "", &rep); code != 200 {
		t.Fatalf("GET report: %d", code)
	}
	if _, err := e.app.Store().SaveHypercareReport(ctx, hypercare.Stored(&rep, begin.Add(24*time.Hour))); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleHypercare(t *testing.T) {
	e := start(t)
	const pw = "a long console passphrase"
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"op@example.com","role":"admin","password":"`+pw+`"}`)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"app@example.com","role":"consumer","consumer":"other","password":"`+pw+`"}`)
	setupHypercare(t, e, "")

	op, app := e.browser(), e.browser()
	for email, b := range map[string]*browser{"op@example.com": op, "app@example.com": app} {
		if resp := b.signin(email, pw); resp.StatusCode != 303 {
			t.Fatalf("sign-in of %s: %d", email, resp.StatusCode)
		}
	}

	for _, c := range []struct {
		name      string
		b         *browser
		path      string
		status    int
		has, lack []string
	}{
		{"window list", op, "/hypercare", 200, []string{
			`<a href="/hypercare" aria-current="page">Hypercare</a>`, `<a href="/hypercare/bot-v2">bot-v2</a>`, "service support-bot",
			`<th scope="col">Baseline</th>`, `hc-state-active`, `<span class="verdict verdict-regressed">regressed</span>`, "Worse than before on latency p95 and error rate.",
		}, nil},
		{"window report", op, "/hypercare/bot-v2", 200, []string{
			"Baseline and candidate", "Latency p50", "Latency p95", "Error rate", "Positive feedback", "Cost per call",
			"150 ms", "900 ms", "1.00%", "20.00%",
			`<span class="verdict verdict-regressed">regressed</span>`, `<span class="verdict verdict-unchanged">unchanged</span>`,
			"Gates", "alpha = ", "Exit criteria", "Error rate at most 5.00% a day",
			"Report history", "Worse than before on latency p95 and error rate.",
			html.EscapeString("/calls?feedback=negative&service=support-bot&since="), "status=500",
			`href="/incidents?service=support-bot"`,
		}, []string{"No daily report is stored yet"}},
		{"unknown window", op, "/hypercare/nothing", 404, []string{`no hypercare window`}, nil},
		{"overview shows active windows and the feedback trend", op, "/", 200, []string{
			"Active hypercare windows", `<a href="/hypercare/bot-v2"><strong>bot-v2</strong></a>`,
			`<span class="verdict verdict-regressed">regressed</span>`,
			"Feedback trend", `<polyline class="line-feedback"`, "feedback given in the last 24 hours", "Hourly feedback",
			`<a href="/hypercare">Hypercare</a>`,
		}, nil},
		{"a consumer may not read hypercare", app, "/hypercare", 403, []string{"Not allowed"}, nil},
		{"a consumer's navigation has no hypercare link", app, "/", 200, nil, []string{`href="/hypercare"`}},
		{"a consumer may not read a window", app, "/hypercare/bot-v2", 403, nil, []string{"Latency p95"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := c.b.get(c.path)
			checkPage(t, c.path, resp, body)
			if resp.StatusCode != c.status {
				t.Errorf("%s: %d, want %d", c.path, resp.StatusCode, c.status)
			}
			for _, want := range c.has {
				if !strings.Contains(body, want) {
					t.Errorf("%s lacks %q", c.path, want)
				}
			}
			for _, bad := range c.lack {
				if strings.Contains(body, bad) {
					t.Errorf("%s shows %q", c.path, bad)
				}
			}
		})
	}
}
