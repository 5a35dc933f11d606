package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowserModels drives e2e/models.mjs in headless Chromium: a newcomer
// connects a provider pointing at the fake upstream, creates a model on it,
// an application and a key, reads the key from the page that shows it
// once, and — after this test has called the model with that key on the
// data plane — finds the call in the explorer and opens it.
func TestBrowserModels(t *testing.T) {
	node, root := browserTools(t)
	shots := screenshotsDir(t, root)
	e := start(t)
	const (
		email    = "newcomer@example.com"
		pw       = "a long browser passphrase"
		provider = "browser-upstream"
		model    = "browser-model"
		upstream = "gpt-4o-mini-2024-07-18"
		appName  = "browser-app"
	)
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"`+email+`","role":"admin","password":"`+pw+`"}`)
	out := t.TempDir()

	run := func(phase string, extra ...string) {
		t.Helper()
		printed := runBrowserScript(t, node, root, "models.mjs", append([]string{
			"HG_PHASE=" + phase,
			"HG_CONSOLE_URL=" + e.admin,
			"HG_EMAIL=" + email,
			"HG_PASSWORD=" + pw,
			"HG_UPSTREAM_URL=" + e.up.BaseURL(),
			// The harness puts the upstream's key in this variable of the
			// gateway's environment; the browser only ever types its name.
			"HG_KEY_ENV=TEST_UPSTREAM_KEY",
			"HG_PROVIDER=" + provider,
			"HG_MODEL=" + model,
			"HG_UPSTREAM_MODEL=" + upstream,
			"HG_APP=" + appName,
			"HG_OUT=" + out,
			"HG_SCREENSHOTS=" + shots,
		}, extra...)...)
		if strings.Contains(string(printed), upstreamKey) {
			t.Errorf("the browser saw the upstream key's value")
		}
	}

	run("setup")

	// What the browser did must be in the configuration, with the key as
	// a reference only.
	_, cfg := e.liveConfig()
	var found bool
	for _, p := range cfg.Providers {
		if p.Name == provider {
			found = true
			if p.APIKey != "env:TEST_UPSTREAM_KEY" || p.BaseURL != e.up.BaseURL() {
				t.Errorf("provider %s: key %q, base URL %q", provider, p.APIKey, p.BaseURL)
			}
		}
	}
	if md := findModel(cfg, model); !found || md == nil || len(md.Targets) != 1 || md.Targets[0].Provider != provider || md.Targets[0].Model != upstream {
		t.Fatalf("after the browser: provider found %v, model %+v", found, md)
	}

	key, err := os.ReadFile(filepath.Join(out, "key"))
	if err != nil || len(key) == 0 {
		t.Fatalf("the browser handed back no key: %v", err)
	}
	resp, body := e.do("POST", "/v1/chat/completions", string(key), `{"model":"`+model+`","messages":[{"role":"user","content":"hello from the browser test"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("a call with the key the browser created: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	if rec := e.call(id); rec.Consumer != appName || rec.Model != model {
		t.Errorf("the call's record: consumer %q, model %q", rec.Consumer, rec.Model)
	}

	run("explore", "HG_CALL_ID="+id)

	for _, name := range []string{"models.png", "application.png", "config.png"} {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
