package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestBrowserPortal drives the developer portal and the console's approval
// page in headless Chromium through e2e/portal.mjs: the consumer-role user
// of application "other" signs in on the data plane, searches the catalog,
// reads orders-api's documentation, says it was helpful and subscribes its
// application; payments' team admin approves in the console; the consumer
// sees it approved, creates a
// key (shown once) and calls orders-api with "try it". What the browser did
// must be stored: the subscription approved, the page feedback recorded.
func TestBrowserPortal(t *testing.T) {
	node, root := browserTools(t)
	shots := screenshotsDir(t, root)
	e := portalEnv(t)

	runBrowserScript(t, node, root, "portal.mjs",
		"HG_PORTAL_URL="+e.data+"/portal",
		"HG_CONSOLE_URL="+e.admin,
		"HG_DEV_EMAIL=app@example.com",
		"HG_APPROVER_EMAIL=payadmin@example.com",
		"HG_PASSWORD="+portalPassword,
		"HG_APP=other",
		"HG_SERVICE=orders-api",
		"HG_SCREENSHOTS="+shots,
	)

	subs := e.mustDo(200, "GET", "/admin/v1/subscriptions?consumer=other&service=orders-api", "")
	if s := gjson.GetBytes(subs, "data.0"); s.Get("state").Str != "approved" || s.Get("requested_by").Str != "user:app@example.com" ||
		s.Get("decided_by").Str != "user:payadmin@example.com" {
		t.Errorf("subscription after the browser: %s", subs)
	}
	fb := e.mustDo(200, "GET", "/admin/v1/page-feedback?page=/portal/services/orders-api", "")
	if !strings.Contains(string(fb), "clear examples, from the browser test") || !strings.Contains(string(fb), "user:app@example.com") {
		t.Errorf("page feedback after the browser: %s", fb)
	}
	keys := e.mustDo(200, "GET", "/admin/v1/keys?consumer=other", "")
	if gjson.GetBytes(keys, `data.#(name=="from-the-browser").prefix`).Str == "" {
		t.Errorf("the browser's key is not stored: %s", keys)
	}
	for _, name := range []string{"portal-catalog.png", "portal-service.png", "portal-app.png", "subscriptions.png"} {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
