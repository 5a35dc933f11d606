package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleSetup is how a newcomer gets in: the first administrator is
// created on the console with the admin token printed at first start.
func TestConsoleSetup(t *testing.T) {
	e := start(t)
	const pw = "a long first passphrase"
	cases := []struct {
		name, token, email, pw, again string
		status                        int
		want                          string
	}{
		{"missing token", "", "root@example.com", pw, pw, 400, "admin token: required"},
		{"wrong token", "hga-not-the-token-0123456789", "root@example.com", pw, pw, 401, "not this gateway&#39;s admin token"},
		{"passwords differ", adminToken, "root@example.com", pw, pw + "x", 400, "the two passwords differ"},
		{"weak password", adminToken, "root@example.com", "short", "short", 400, "12 to"},
		{"bad email", adminToken, "not-an-email", pw, pw, 400, "email"},
		{"created and signed in", adminToken, "root@example.com", pw, pw, 303, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			resp, page := b.get("/signin")
			if !strings.Contains(page, `href="/signin/setup"`) {
				t.Fatalf("the sign-in page does not link to setup: %s", page)
			}
			resp, page = b.get("/signin/setup")
			checkPage(t, "setup", resp, page)
			resp, page = b.post("/signin/setup", url.Values{"csrf_token": {formToken(t, page)}, "admin_token": {c.token},
				"email": {c.email}, "password": {c.pw}, "password_again": {c.again}})
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, page)
			}
			if c.status != 303 {
				if !strings.Contains(page, c.want) || strings.Contains(page, c.pw) && c.pw != "" {
					t.Errorf("page does not say %q (or echoes the password): %s", c.want, page)
				}
				if strings.Contains(page, adminToken) {
					t.Error("the page echoes the admin token")
				}
				return
			}
			if loc := resp.Header.Get("Location"); loc != "/" {
				t.Fatalf("redirect to %q, want /", loc)
			}
			resp, page = b.get("/")
			if resp.StatusCode != 200 || !strings.Contains(page, "root@example.com") || !strings.Contains(page, "(admin)") {
				t.Errorf("after setup, overview %d: %s", resp.StatusCode, page)
			}
		})
	}
	t.Run("forged post", func(t *testing.T) {
		b := e.browser()
		resp, _ := b.post("/signin/setup", url.Values{"csrf_token": {"x"}, "admin_token": {adminToken},
			"email": {"evil@example.com"}, "password": {pw}, "password_again": {pw}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
		if code := e.adminDo("GET", "/admin/v1/users/evil@example.com", "", nil); code != 404 {
			t.Errorf("forged setup created a user: %d", code)
		}
	})
}
