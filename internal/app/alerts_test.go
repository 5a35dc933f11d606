package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/webhook"
)

// TestAlertFiresAndResolves runs an error_rate rule end to end: the
// upstream starts failing, the rule fires and the webhook receives a
// signed notification; the upstream heals, successes dilute the failures,
// the rule resolves and the webhook hears of it once.
func TestAlertFiresAndResolves(t *testing.T) {
	const secret = "alert-hook-secret"
	t.Setenv("TEST_ALERT_HOOK_SECRET", secret)
	var (
		mu  sync.Mutex
		got []alert.Notification
		bad []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !webhook.Verify([]byte(secret), r.Header.Get(alert.TimestampHeader), body, r.Header.Get(alert.SignatureHeader)) {
			bad = append(bad, "bad signature")
		}
		var n alert.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			bad = append(bad, err.Error())
		}
		got = append(got, n)
	}))
	defer hook.Close()
	snapshot := func() []alert.Notification {
		mu.Lock()
		defer mu.Unlock()
		return append([]alert.Notification(nil), got...)
	}
	notifications := func(n int) []alert.Notification {
		deadline := time.Now().Add(20 * time.Second)
		for len(snapshot()) < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		return snapshot()
	}

	e := start(t, func(s *app.Settings) { s.AlertInterval = 100 * time.Millisecond })
	e.apply(fmt.Sprintf(baseConfig, e.up.BaseURL()) + fmt.Sprintf(`
notifiers:
  - { name: ops, type: webhook, url: %q, secret: env:TEST_ALERT_HOOK_SECRET }
alerts:
  - name: errors-high
    metric: error_rate
    filter: { model: gpt-4o-mini }
    group_by: [consumer]
    window: 1m
    threshold: { critical: 0.5 }
    for: 200ms
    min_requests: 3
    notify: [ops]
`, hook.URL))
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

	e.up.Fail("gpt-4o-mini-2024-07-18", 500)
	for range 4 {
		if resp, b := e.do("POST", "/v1/chat/completions", shopKey, chat); resp.StatusCode < 500 {
			t.Fatalf("a failing upstream answered %d: %s", resp.StatusCode, b)
		}
	}
	out := notifications(1)
	if len(out) != 1 || out[0].Status != alert.StatusFiring || len(out[0].Alerts) != 1 ||
		out[0].Alerts[0].Labels["consumer"] != "shop" || out[0].Alerts[0].Severity != alert.SeverityCritical {
		t.Fatalf("after the failures: notifications %+v, want one firing for shop", out)
	}
	if link := out[0].Alerts[0].CallsURL; !strings.HasPrefix(link, "/admin/v1/calls?") || !strings.Contains(link, "model=gpt-4o-mini") {
		t.Errorf("calls link %q", link)
	}
	var states struct {
		Data []alert.RuleStatus `json:"data"`
	}
	if st := e.adminDo("GET", "/admin/v1/alerts", "", &states); st != 200 || len(states.Data) != 1 ||
		len(states.Data[0].Groups) != 1 || states.Data[0].Groups[0].State != alert.StateFiring {
		t.Fatalf("GET /admin/v1/alerts: %d %+v", st, states)
	}

	e.up.Heal("gpt-4o-mini-2024-07-18")
	for range 16 {
		if resp, b := e.do("POST", "/v1/chat/completions", shopKey, chat); resp.StatusCode != 200 {
			t.Fatalf("a healed upstream answered %d: %s", resp.StatusCode, b)
		}
	}
	out = notifications(2)
	if len(out) != 2 || out[1].Status != alert.StatusResolved || out[1].Alerts[0].Labels["consumer"] != "shop" {
		t.Fatalf("after healing: notifications %+v, want firing then resolved", out)
	}
	time.Sleep(300 * time.Millisecond) // a few more evaluations: no repeat
	if out = snapshot(); len(out) != 2 {
		t.Errorf("%d notifications, want 2 (one per transition)", len(out))
	}
	mu.Lock()
	if len(bad) > 0 {
		t.Errorf("bad notifications: %v", bad)
	}
	mu.Unlock()

	var hist struct {
		Data []alert.Event `json:"data"`
	}
	if st := e.adminDo("GET", "/admin/v1/alerts/history?rule=errors-high", "", &hist); st != 200 {
		t.Fatalf("history: %d", st)
	}
	var path []string
	for i := len(hist.Data) - 1; i >= 0; i-- {
		path = append(path, string(hist.Data[i].To))
	}
	if strings.Join(path, " ") != "pending firing resolved" {
		t.Errorf("history %v, want pending firing resolved", path)
	}
}

// TestAlertTeamScope checks that a team sees the alert groups of its own
// consumers only, and may silence its own alerts but not another team's.
func TestAlertTeamScope(t *testing.T) {
	e := startTeams(t, func(s *app.Settings) { s.AlertInterval = 50 * time.Millisecond })
	e.apply(teamsConfig(e.env) + `
alerts:
  - name: errors-high
    metric: error_rate
    group_by: [consumer]
    window: 1m
    threshold: { critical: 0.5 }
`)
	now := time.Now()
	var recs []calllog.Record
	for i, consumer := range []string{"shop", "shop", "other", "other"} {
		recs = append(recs, calllog.Record{ID: fmt.Sprintf("scope-%d", i), Time: now, Consumer: consumer, Model: "gpt-4o-mini",
			Endpoint: "/v1/chat/completions", Status: 500})
	}
	if err := e.app.Store().InsertCallsAndRollups(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	groups := func(secret string) []string {
		t.Helper()
		code, b := e.as(secret, "GET", "/admin/v1/alerts?state=firing", "")
		if code != 200 {
			t.Fatalf("GET /admin/v1/alerts: %d %s", code, b)
		}
		var out []string
		for _, v := range gjson.GetBytes(b, "data.#.groups|@flatten|#.labels.consumer").Array() {
			out = append(out, v.Str)
		}
		slices.Sort(out)
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(groups(adminToken)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := groups(adminToken); strings.Join(got, ",") != "other,shop" {
		t.Fatalf("admin sees firing groups %v, want other and shop", got)
	}
	if got := groups(e.tokens["viewer"]); strings.Join(got, ",") != "shop" {
		t.Errorf("payments' viewer sees %v, want shop only", got)
	}
	if got := groups(e.tokens["consumer"]); strings.Join(got, ",") != "shop" {
		t.Errorf("shop's consumer token sees %v, want shop only", got)
	}
	silence := func(matchers string) string {
		return `{"matchers":` + matchers + `,"duration":"1h","comment":"scope"}`
	}
	ta := e.tokens["team_admin"]
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"its own consumer", silence(`[{"name":"consumer","value":"shop"}]`), 201},
		{"another team's consumer", silence(`[{"name":"consumer","value":"other"}]`), 403},
		{"a whole rule", silence(`[{"name":"rule","value":"errors-high"}]`), 403},
		{"its consumer as a pattern", silence(`[{"name":"consumer","value":"sh.*","regex":true}]`), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, b := e.as(ta, "POST", "/admin/v1/silences", tc.body, "Content-Type", "application/json"); code != tc.want {
				t.Errorf("%d %s, want %d", code, b, tc.want)
			}
		})
	}
	other := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/silences", silence(`[{"name":"consumer","value":"other"}]`)), "id").Str
	if code, _ := e.as(ta, "DELETE", "/admin/v1/silences/"+other, ""); code != 404 {
		t.Errorf("team admin deleting another team's silence: %d, want 404", code)
	}
	code, b := e.as(ta, "GET", "/admin/v1/silences", "")
	if n := len(gjson.GetBytes(b, "data").Array()); code != 200 || n != 1 {
		t.Errorf("team admin lists %d silences (%d), want its own one", n, code)
	}
}
