package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	shots := t.TempDir()
	if os.Getenv("HYPERGATE_SCREENSHOTS") == "1" {
		shots = filepath.Join(root, "docs", "screenshots")
	}
	e := portalEnv(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "portal.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HG_PORTAL_URL="+e.data+"/portal",
		"HG_CONSOLE_URL="+e.admin,
		"HG_DEV_EMAIL=app@example.com",
		"HG_APPROVER_EMAIL=payadmin@example.com",
		"HG_PASSWORD="+portalPassword,
		"HG_APP=other",
		"HG_SERVICE=orders-api",
		"HG_SCREENSHOTS="+shots,
		"HG_CHROMIUM="+chromiumPath,
	)
	cmd.WaitDelay = 5 * time.Second
	began := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node e2e/portal.mjs (%s):\n%s", time.Since(began).Round(time.Millisecond), out)
	if ctx.Err() != nil {
		t.Fatalf("the browser test did not finish in time: %v", ctx.Err())
	}
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}

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
