package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/triage"
	"github.com/hypergate/hypergate/internal/webhook"
)

// matrixIncident stores a fresh incident of shop's calls (team payments)
// for the role matrix, resolved when asked, and returns its id.
func matrixIncident(t *testing.T, e *env, resolved bool) string {
	t.Helper()
	k := triage.Key{Kind: triage.KindFailure, Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini",
		StatusClass: triage.ClassServerError, ErrorCode: "server_error", Message: fresh("matrix failure ")}
	groups := triage.Aggregate([]triage.Occurrence{{Key: k, RequestID: "matrix-call", Time: time.Now(), Consumer: "shop"}}, nil)
	changes, err := e.app.Store().RecordIncidents(t.Context(), groups)
	if err != nil || len(changes) != 1 {
		t.Fatalf("recording a matrix incident: %v", err)
	}
	id := changes[0].Incident.ID
	if resolved {
		if _, err := e.app.Store().SetIncidentState(t.Context(), id, triage.StateResolved, "matrix", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestTriageIncidents runs triage end to end: a fake upstream fails some
// calls in two ways; each way is one incident (not one per call) with the
// right counts, consumers, end users and share of traffic, announced once
// by a signed webhook; acknowledged and resolved through the admin API, it
// reopens as a regression when the upstream fails again, announced again,
// while further failures of an incident already open announce nothing.
func TestTriageIncidents(t *testing.T) {
	const secret = "triage-hook-secret"
	t.Setenv("TEST_TRIAGE_HOOK_SECRET", secret)
	var (
		mu  sync.Mutex
		got []triage.Notification
		bad []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !webhook.Verify([]byte(secret), r.Header.Get(webhook.TimestampHeader), body, r.Header.Get(webhook.SignatureHeader)) {
			bad = append(bad, "bad signature")
		}
		var n triage.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			bad = append(bad, err.Error())
		}
		got = append(got, n)
	}))
	defer hook.Close()
	events := func(n int) []string {
		deadline := time.Now().Add(15 * time.Second)
		for {
			mu.Lock()
			var out []string
			for _, x := range got {
				out = append(out, x.Event+" "+x.Incident.ErrorCode)
			}
			mu.Unlock()
			if len(out) >= n || time.Now().After(deadline) {
				slices.Sort(out)
				return out
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	e := start(t)
	e.apply(fmt.Sprintf(baseConfig, e.up.BaseURL()) + fmt.Sprintf(`
notifiers:
  - { name: ops, type: webhook, url: %q, secret: env:TEST_TRIAGE_HOOK_SECRET }
triage:
  notify: [ops]
  severity: { "4xx": low }
`, hook.URL))
	chat := func(model, user string) string {
		return fmt.Sprintf(`{"model":%q,"user":%q,"messages":[{"role":"user","content":"hi"}]}`, model, user)
	}
	// Four failures of gpt-4o-mini (fewer than open its breaker), from two
	// end users, then two successes; three rate-limited calls.
	e.up.FailNext("gpt-4o-mini-2024-07-18", 500, 4)
	var ids []string
	for i := range 6 {
		resp, b := e.do("POST", "/v1/chat/completions", shopKey, chat("gpt-4o-mini", fmt.Sprint("end-user-", i%2)))
		if (i < 4) != (resp.StatusCode >= 500) {
			t.Fatalf("call %d answered %d: %s", i, resp.StatusCode, b)
		}
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	for range 3 {
		if resp, b := e.do("POST", "/v1/chat/completions", shopKey, chat("error-429", "end-user-9")); resp.StatusCode != 429 {
			t.Fatalf("error-429 answered %d: %s", resp.StatusCode, b)
		}
	}

	list := func(query string, want int) []triage.Incident {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			var page struct {
				Data []triage.Incident `json:"data"`
			}
			if code := e.adminDo("GET", "/admin/v1/incidents"+query, "", &page); code != 200 {
				t.Fatalf("GET /admin/v1/incidents%s: %d", query, code)
			}
			var n int64
			for _, inc := range page.Data {
				n += inc.Count
			}
			if n >= int64(want) || time.Now().After(deadline) {
				return page.Data
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	incs := list("?sort=count", 7)
	if len(incs) != 2 {
		t.Fatalf("incidents = %+v; want exactly 2, one per fingerprint", incs)
	}
	fail, limited := incs[0], incs[1]
	if fail.Kind != triage.KindFailure || fail.StatusClass != triage.ClassServerError || fail.ErrorCode != "fault_500" ||
		fail.Message != "steered failure <num>" || fail.Count != 4 || fail.Consumers != 1 || fail.EndUsers != 2 ||
		fail.Severity != triage.SeverityHigh || fail.State != triage.StateOpen || fail.Model != "gpt-4o-mini" {
		t.Errorf("failure incident = %+v", fail)
	}
	if fail.Share == nil || *fail.Share < 0.66 || *fail.Share > 0.67 {
		t.Errorf("failure share = %v, want 4 of 6 calls", fail.Share)
	}
	if limited.StatusClass != triage.ClassClientError || limited.ErrorCode != "rate_limit_exceeded" || limited.Count != 3 ||
		limited.EndUsers != 1 || limited.Severity != triage.SeverityLow {
		t.Errorf("rate-limit incident = %+v (severity overridden to low)", limited)
	}
	if fail.Priority <= limited.Priority {
		t.Errorf("priorities %v and %v: the 5xx should rank first", fail.Priority, limited.Priority)
	}
	if got := events(2); !slices.Equal(got, []string{"incident.new fault_500", "incident.new rate_limit_exceeded"}) {
		t.Fatalf("webhooks %v, want one incident.new per incident", got)
	}

	// The detail: the failing calls as samples, newest first.
	var d triage.Detail
	if code := e.adminDo("GET", "/admin/v1/incidents/"+fail.ID, "", &d); code != 200 {
		t.Fatalf("GET incident: %d", code)
	}
	var samples []string
	for _, s := range d.Samples {
		samples = append(samples, s.RequestID)
	}
	slices.Sort(samples)
	want := slices.Clone(ids[:4])
	slices.Sort(want)
	if !slices.Equal(samples, want) || len(d.Hourly) == 0 {
		t.Errorf("samples %v, hourly %v; want the four failing calls %v", samples, d.Hourly, want)
	}

	// Acknowledge, then resolve with a note.
	var inc triage.Incident
	if code := e.adminDo("POST", "/admin/v1/incidents/"+fail.ID+"/acknowledge", "", &inc); code != 200 || inc.State != triage.StateAcknowledged {
		t.Fatalf("acknowledge: %d %+v", code, inc)
	}
	if code := e.adminDo("POST", "/admin/v1/incidents/"+fail.ID+"/resolve", `{"note":"provider fixed it"}`, &inc); code != 200 ||
		inc.State != triage.StateResolved || inc.StateBy != "admin-token" {
		t.Fatalf("resolve: %d %+v", code, inc)
	}
	if code := e.adminDo("POST", "/admin/v1/incidents/"+fail.ID+"/acknowledge", "", nil); code != 409 {
		t.Fatalf("acknowledging a resolved incident: %d, want 409", code)
	}

	// Failing again: the incident reopens as a regression, once; the
	// rate-limit incident, still open, counts without a notification.
	e.up.FailNext("gpt-4o-mini-2024-07-18", 500, 2)
	for range 2 {
		if resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chat("gpt-4o-mini", "end-user-3")); resp.StatusCode < 500 {
			t.Fatalf("failing upstream answered %d", resp.StatusCode)
		}
	}
	if resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chat("error-429", "end-user-9")); resp.StatusCode != 429 {
		t.Fatalf("error-429 answered %d", resp.StatusCode)
	}
	incs = list("?sort=count", 10)
	if len(incs) != 2 {
		t.Fatalf("after failing again: %+v; want still 2 incidents", incs)
	}
	if code := e.adminDo("GET", "/admin/v1/incidents/"+fail.ID, "", &d); code != 200 {
		t.Fatalf("GET incident: %d", code)
	}
	if d.State != triage.StateOpen || !d.Regressed || d.Regressions != 1 || d.Count != 6 || d.EndUsers != 3 ||
		d.StateBy != "triage" || len(d.Notes) != 1 || d.Notes[0].Text != "provider fixed it" {
		t.Errorf("regressed incident = %+v", d)
	}
	if got := events(3); !slices.Equal(got, []string{"incident.new fault_500", "incident.new rate_limit_exceeded", "incident.regressed fault_500"}) {
		t.Fatalf("webhooks %v, want the two new and one regressed", got)
	}
	time.Sleep(300 * time.Millisecond) // nothing more arrives
	if got := events(0); len(got) != 3 {
		t.Errorf("webhooks %v, want 3 (not one per occurrence)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("bad webhooks: %v", bad)
	}
	var open struct {
		Data []triage.Incident `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/incidents?state=resolved", "", &open)
	if len(open.Data) != 0 {
		t.Errorf("resolved incidents %+v, want none after the regression", open.Data)
	}
}
