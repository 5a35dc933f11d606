package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/triage"
)

// chromiumPath is where Debian's chromium package installs the browser;
// scripts/test.sh installs it there when it is missing.
const chromiumPath = "/usr/bin/chromium"

// browserTools returns the node binary and the repository root, or skips
// the test when the browser tests' tools are missing — except in CI, where
// a silently skipped browser run would hide regressions, so it fails.
func browserTools(t *testing.T) (node, root string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	node, err = exec.LookPath("node")
	switch {
	case err != nil:
		missing = "node is not on PATH"
	case !exists(filepath.Join(root, "e2e", "node_modules", "playwright-core")):
		missing = "e2e/node_modules/playwright-core is not installed (npm install in e2e/)"
	case !exists(chromiumPath):
		missing = chromiumPath + " is missing (apt-get install chromium)"
	}
	if missing == "" {
		return node, root
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: CI requires the browser tests (bash scripts/test.sh installs what they need)", missing)
	}
	t.Skipf("%s: the browser tests did not run (bash scripts/test.sh installs what they need)", missing)
	return "", ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// screenshotsDir is where a browser test's script writes its screenshots:
// a temporary directory, so that an ordinary test run leaves the tree as it
// was, or with HYPERGATE_SCREENSHOTS=1 docs/screenshots, refreshing the ones
// the README shows.
func screenshotsDir(t *testing.T, root string) string {
	t.Helper()
	if os.Getenv("HYPERGATE_SCREENSHOTS") == "1" {
		return filepath.Join(root, "docs", "screenshots")
	}
	return t.TempDir()
}

// runBrowserScript runs e2e/<script> with node (as browserTools found them)
// and env added to this process's environment, logs what it printed and how
// long it took, and fails the test unless it exits 0 within two minutes.
// It returns what the script printed.
func runBrowserScript(t *testing.T, node, root, script string, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", script))
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "HG_CHROMIUM="+chromiumPath), env...)
	// Chromium keeps helper processes that may hold the output pipes open
	// after node is killed; WaitDelay bounds how long Wait waits for them.
	cmd.WaitDelay = 5 * time.Second
	began := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node e2e/%s (%s):\n%s", script, time.Since(began).Round(time.Millisecond), out)
	if ctx.Err() != nil {
		t.Fatalf("node e2e/%s did not finish in time: %v", script, ctx.Err())
	}
	if err != nil {
		t.Fatalf("node e2e/%s failed: %v", script, err)
	}
	return out
}

// TestBrowser drives the console in headless Chromium through
// e2e/console.mjs: sign in, overview, explorer filtered by model, call page,
// feedback through the form, an incident acknowledged and resolved from the
// triage board, CSP and no console errors. Its screenshots go where
// screenshotsDir says.
func TestBrowser(t *testing.T) {
	node, root := browserTools(t)
	shots := screenshotsDir(t, root)
	e := start(t)
	const (
		email = "operator@example.com"
		pw    = "a long browser passphrase"
	)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"`+email+`","role":"admin","password":"`+pw+`"}`)

	send := func(key, model, prompt string) string {
		resp, b := e.do("POST", "/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"`+prompt+`"}]}`)
		id := resp.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatalf("no request id: %d %s", resp.StatusCode, b)
		}
		e.call(id)
		return id
	}
	send(shopKey, "gpt-4o-mini", "What is the capital of France?")
	send(otherKey, "gpt-4o-mini", "Summarise our refund policy in one line.")
	other := send(shopKey, "error-500", "This one fails upstream.")
	call := send(shopKey, "gpt-4o-mini", "Write a haiku about gateways.")
	// Two failing calls of gpt-4o-mini make the incident the browser
	// acknowledges and resolves.
	e.failCalls("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 2)
	incident := e.waitIncident("gpt-4o-mini", 2)

	runBrowserScript(t, node, root, "console.mjs",
		"HG_CONSOLE_URL="+e.admin,
		"HG_EMAIL="+email,
		"HG_PASSWORD="+pw,
		"HG_CALL_ID="+call,
		"HG_OTHER_CALL_ID="+other,
		"HG_MODEL=gpt-4o-mini",
		"HG_INCIDENT_ID="+incident.ID,
		"HG_SCREENSHOTS="+shots,
	)

	// What the browser submitted must be stored, not only shown.
	var page struct{ Data []struct{ ID string } }
	if code := e.adminDo("GET", "/admin/v1/calls?feedback=helpful:true", "", &page); code != 200 {
		t.Fatalf("GET /admin/v1/calls?feedback=helpful:true: %d", code)
	}
	if len(page.Data) != 1 || page.Data[0].ID != call {
		t.Errorf("calls rated helpful:true: %+v, want only %s", page.Data, call)
	}
	var d triage.Detail
	if code := e.adminDo("GET", "/admin/v1/incidents/"+incident.ID, "", &d); code != 200 || d.State != triage.StateResolved || d.StateBy != "user:"+email {
		t.Errorf("incident after the browser: %d, state %q by %q; want resolved by user:%s", code, d.State, d.StateBy, email)
	}
	for _, name := range []string{"overview.png", "explorer.png", "call.png", "incidents.png"} {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
