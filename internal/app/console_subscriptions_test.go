package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestConsoleSubscriptions(t *testing.T) {
	e := portalEnv(t)
	ask := func(consumer string) string {
		b := e.mustDo(201, "POST", "/admin/v1/subscriptions", `{"consumer":"`+consumer+`","service":"orders-api"}`)
		return gjson.GetBytes(b, "id").Str
	}
	shopSub, otherSub := ask("shop"), ask("other")
	// An approved subscription to a service of team search, which
	// payments' approvers do not decide.
	e.mustDo(201, "POST", "/admin/v1/subscriptions", `{"consumer":"other","service":"search-api"}`)

	signin := func(email string) *browser {
		b := e.browser()
		if resp := b.signin(email, portalPassword); resp.StatusCode != 303 {
			t.Fatalf("console sign-in of %s: %d", email, resp.StatusCode)
		}
		return b
	}
	payAdmin, payView, dev := signin("payadmin@example.com"), signin("payview@example.com"), signin("dev@example.com")
	state := func(id string) string {
		return gjson.GetBytes(e.mustDo(200, "GET", "/admin/v1/subscriptions/"+id, ""), "state").Str
	}

	if resp, _ := e.browser().get("/subscriptions"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, c := range []struct {
		name    string
		b       *browser
		want    []string
		not     []string
		buttons bool
	}{
		{"the owning team's approver", payAdmin, []string{"2</strong> waiting", `action="/subscriptions/` + shopSub + `/approve"`,
			`action="/subscriptions/` + otherSub + `/reject"`, `aria-current="page">Subscriptions`}, []string{"search-api"}, true},
		{"a viewer of the owning team", payView, []string{"shop", "other", "pending"}, []string{"/approve"}, false},
		{"the consumer's team", dev, []string{"shop", "orders-api", "search-api"}, []string{"/approve"}, false},
	} {
		t.Run("page for "+c.name, func(t *testing.T) {
			resp, body := c.b.get("/subscriptions")
			checkPage(t, "/subscriptions", resp, body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(body, w) {
					t.Errorf("has %q", w)
				}
			}
			if got := strings.Contains(body, ">Approve "); got != c.buttons {
				t.Errorf("approve buttons shown: %v, want %v", got, c.buttons)
			}
		})
	}

	t.Run("state filter", func(t *testing.T) {
		if _, body := dev.get("/subscriptions?state=pending"); strings.Contains(body, "search-api") || !strings.Contains(body, "orders-api") {
			t.Errorf("state filter: %s", body)
		}
	})

	for _, c := range []struct {
		name   string
		b      *browser
		id     string
		action string
		reason string
		status int
		state  string
	}{
		{"a viewer may not approve", payView, shopSub, "approve", "", 403, "pending"},
		{"the consumer's developer may not approve", dev, shopSub, "approve", "", 403, "pending"},
		{"the approver approves", payAdmin, shopSub, "approve", "", 303, "approved"},
		{"a rejection needs a reason", payAdmin, otherSub, "reject", "", 400, "pending"},
		{"the approver rejects with a reason", payAdmin, otherSub, "reject", "no production access yet", 303, "rejected"},
		{"an unknown action", payAdmin, shopSub, "delete", "", 404, "approved"},
		{"the approver revokes", payAdmin, shopSub, "revoke", "moved to v2", 303, "revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, page := c.b.get("/subscriptions")
			resp, body := c.b.post("/subscriptions/"+c.id+"/"+c.action, url.Values{"csrf_token": {formToken(t, page)}, "reason": {c.reason}})
			if resp.StatusCode != c.status {
				t.Errorf("%s: %d %s, want %d", c.action, resp.StatusCode, body, c.status)
			}
			if got := state(c.id); got != c.state {
				t.Errorf("state %s, want %s", got, c.state)
			}
		})
	}

	t.Run("without the anti-forgery token", func(t *testing.T) {
		id := ask("shop")
		if resp, _ := payAdmin.post("/subscriptions/"+id+"/approve", url.Values{}); resp.StatusCode != 403 || state(id) != "pending" {
			t.Errorf("approve without csrf_token: %d, state %s", resp.StatusCode, state(id))
		}
	})

	t.Run("decisions show with their reason", func(t *testing.T) {
		_, body := payAdmin.get("/subscriptions")
		// shop asked again after the revocation: pending, above the
		// rejected one.
		for _, w := range []string{"no production access yet", "user:payadmin@example.com"} {
			if !strings.Contains(body, w) {
				t.Errorf("lacks %q", w)
			}
		}
		if i, j := strings.Index(body, "state-pending"), strings.Index(body, "state-rejected"); i < 0 || j < 0 || i > j {
			t.Errorf("pending is not listed first")
		}
	})
}
