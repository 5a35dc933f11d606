package app_test

import (
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// digestField identifies the text a preview showed.
var digestField = regexp.MustCompile(`name="digest" value="([0-9a-f]{64})"`)

func TestConsoleConfig(t *testing.T) {
	e := start(t)
	op, viewer, app := consoleUsers(t, e)
	first, _ := e.liveConfig()
	// A second revision, so that the first one differs from the one in
	// service.
	e.apply(fmtBase(e) + "  - name: added-later\n")
	second, _ := e.liveConfig()
	firstPath := "/config/revisions/" + strconv.FormatInt(first, 10)

	t.Run("pages", func(t *testing.T) {
		for _, c := range []struct {
			name, path string
			b          *browser
			status     int
			want, not  []string
		}{
			{"configuration as admin", "/config", op, 200,
				[]string{`<a href="/config" aria-current="page">Configuration</a>`, "api_key: env:TEST_UPSTREAM_KEY", "name: added-later",
					`<a href="` + firstPath + `">`, `<span class="flag">in service</span>`, `action="/config"`, `<label for="yaml">`, "Preview changes"},
				[]string{upstreamKey, shopKey, otherKey, `value="apply"`}},
			{"revision as admin", firstPath, op, 200,
				[]string{"Against the configuration in service", `<span class="diff-line diff-del">-   - name: added-later</span>`,
					`action="` + firstPath + `/restore"`, `<label for="confirm" class="inline">`, "env:TEST_UPSTREAM_KEY"},
				[]string{upstreamKey}},
			{"revision in service has no restore", "/config/revisions/" + strconv.FormatInt(second, 10), op, 200,
				[]string{"is the same as this revision", "&#43; consumer added-later"}, []string{"/restore"}},
			{"configuration as viewer: no forms", "/config", viewer, 200, []string{"env:TEST_UPSTREAM_KEY", firstPath},
				[]string{`action="/config"`, upstreamKey}},
			{"revision as viewer: no restore", firstPath, viewer, 200, []string{"diff-del"}, []string{"/restore"}},
			{"configuration as consumer: not allowed", "/config", app, 403, nil, []string{"TEST_UPSTREAM_KEY"}},
			{"revision as consumer: not allowed", firstPath, app, 403, nil, []string{"TEST_UPSTREAM_KEY"}},
			{"no such revision", "/config/revisions/999", op, 404, nil, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := c.b.get(c.path)
				checkPage(t, c.path, resp, body)
				if resp.StatusCode != c.status {
					t.Fatalf("%s: %d, want %d", c.path, resp.StatusCode, c.status)
				}
				for _, w := range c.want {
					if !strings.Contains(body, w) && !strings.Contains(body, html.EscapeString(w)) {
						t.Errorf("%s lacks %q", c.path, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s shows %q", c.path, n)
					}
				}
			})
		}
	})

	_, page := op.get("/config")
	tok := formToken(t, page)
	withModel := fmtBase(e) + "  - name: added-later\n"
	withModel = strings.Replace(withModel, "models:\n", "models:\n  - { name: pasted-model, targets: [ { provider: fake } ] }\n", 1)

	t.Run("preview, then apply", func(t *testing.T) {
		resp, body := op.post("/config", url.Values{"csrf_token": {tok}, "revision": {strconv.FormatInt(second, 10)}, "yaml": {withModel}, "action": {"preview"}})
		checkPage(t, "preview", resp, body)
		if resp.StatusCode != 200 || !strings.Contains(body, "Preview against revision "+strconv.FormatInt(second, 10)) ||
			!strings.Contains(body, "&#43; model pasted-model") || !strings.Contains(body, `value="apply"`) || !strings.Contains(body, "pasted-model, targets") {
			t.Fatalf("preview: %d %s", resp.StatusCode, body)
		}
		if now, cfg := e.liveConfig(); now != second || findModel(cfg, "pasted-model") != nil {
			t.Fatalf("the preview applied something")
		}
		rev := formRevisionOf(t, body[strings.Index(body, `action="/config"`):])
		dg := digestField.FindStringSubmatch(body)
		if dg == nil {
			t.Fatalf("the preview has no digest field")
		}
		// Text edited after its preview is previewed again, not applied.
		edited := strings.Replace(withModel, "pasted-model", "edited-model", 1)
		resp, body = op.post("/config", url.Values{"csrf_token": {tok}, "revision": {rev}, "digest": {dg[1]}, "yaml": {edited}, "action": {"apply"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "The text changed since its preview") || !strings.Contains(body, "&#43; model edited-model") {
			t.Fatalf("apply of edited text: %d %s", resp.StatusCode, body)
		}
		if now, _ := e.liveConfig(); now != second {
			t.Fatalf("edited text was applied without a preview")
		}
		// Browsers post textareas with CRLF line endings.
		crlf := strings.ReplaceAll(withModel, "\n", "\r\n")
		resp, body = op.post("/config", url.Values{"csrf_token": {tok}, "revision": {rev}, "digest": {dg[1]}, "yaml": {crlf}, "action": {"apply"}, "message": {"add a pasted model"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/config?applied=1" {
			t.Fatalf("apply: %d %s", resp.StatusCode, body)
		}
		now, cfg := e.liveConfig()
		if now != second+1 || findModel(cfg, "pasted-model") == nil {
			t.Fatalf("after apply: revision %d, pasted-model %v", now, findModel(cfg, "pasted-model"))
		}
		_, page := op.get("/config?applied=1")
		if !strings.Contains(page, "console: add a pasted model") || !strings.Contains(page, "The configuration was applied.") {
			t.Errorf("the revisions list lacks the console's message")
		}
	})

	t.Run("refused applies", func(t *testing.T) {
		// A preview made at the revision before the last apply.
		_, body := op.post("/config", url.Values{"csrf_token": {tok}, "revision": {"0"}, "yaml": {withModel}, "action": {"preview"}})
		staleDigest := digestField.FindStringSubmatch(body)[1]
		cur, _ := e.liveConfig()
		r := strconv.FormatInt(cur, 10)
		for _, c := range []struct {
			name   string
			f      url.Values
			status int
			msg    string
		}{
			{"unknown key names its line", url.Values{"yaml": {"providers:\n  - name: x\n    typo: openai\n"}, "action": {"preview"}}, 422, "line 3"},
			{"invalid model", url.Values{"yaml": {"models:\n  - { name: m, targets: [ { provider: missing } ] }\n"}, "action": {"apply"}}, 422, "models[0].targets[0].provider"},
			{"stale apply", url.Values{"yaml": {withModel}, "action": {"apply"}, "revision": {strconv.FormatInt(second, 10)}, "digest": {staleDigest}},
				409, "the configuration changed while you were editing"},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.f.Set("csrf_token", tok)
				if c.f.Get("revision") == "" {
					c.f.Set("revision", r)
				}
				resp, body := op.post("/config", c.f)
				checkPage(t, c.name, resp, body)
				if resp.StatusCode != c.status || !strings.Contains(body, `class="form-errors"`) || !strings.Contains(body, html.EscapeString(c.msg)) {
					t.Errorf("%s: %d, want %d with %q", c.name, resp.StatusCode, c.status, c.msg)
				}
				if !strings.Contains(body, html.EscapeString(c.f.Get("yaml"))+"</textarea>") {
					t.Errorf("%s: the pasted text was not kept", c.name)
				}
				if now, _ := e.liveConfig(); now != cur {
					t.Errorf("%s: revision %d → %d", c.name, cur, now)
				}
			})
		}
	})

	t.Run("restore a revision", func(t *testing.T) {
		resp, _ := op.post(firstPath+"/restore", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != 400 {
			t.Errorf("restore without confirmation: %d", resp.StatusCode)
		}
		before, _ := e.liveConfig()
		resp, body := op.post(firstPath+"/restore", url.Values{"csrf_token": {tok}, "confirm": {"yes"}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/config?restored="+strconv.FormatInt(first, 10) {
			t.Fatalf("restore: %d %s", resp.StatusCode, body)
		}
		now, cfg := e.liveConfig()
		if now != before+1 || findModel(cfg, "pasted-model") != nil {
			t.Fatalf("after restore: revision %d, pasted-model %v", now, findModel(cfg, "pasted-model"))
		}
		for _, c := range cfg.Consumers {
			if c.Name == "added-later" {
				t.Errorf("the restored configuration still has added-later")
			}
		}
		if _, page := op.get("/config?restored=1"); !strings.Contains(page, "Revision 1 was restored") {
			t.Errorf("no notice after the restore")
		}
		if _, page := op.get(firstPath); !strings.Contains(page, "is the same as this revision") {
			t.Errorf("the restored revision differs from the one in service")
		}
	})

	t.Run("who may not act", func(t *testing.T) {
		_, vp := viewer.get("/config")
		vtok := formToken(t, vp)
		cur, _ := e.liveConfig()
		r := strconv.FormatInt(cur, 10)
		for _, c := range []struct {
			name string
			b    *browser
			path string
			f    url.Values
		}{
			{"viewer previews", viewer, "/config", url.Values{"csrf_token": {vtok}, "revision": {r}, "yaml": {withModel}, "action": {"preview"}}},
			{"viewer applies", viewer, "/config", url.Values{"csrf_token": {vtok}, "revision": {r}, "yaml": {withModel}, "action": {"apply"}}},
			{"viewer restores", viewer, "/config/revisions/2/restore", url.Values{"csrf_token": {vtok}, "confirm": {"yes"}}},
			{"no anti-forgery token, apply", op, "/config", url.Values{"revision": {r}, "yaml": {withModel}, "action": {"apply"}}},
			{"no anti-forgery token, restore", op, "/config/revisions/2/restore", url.Values{"confirm": {"yes"}}},
		} {
			resp, body := c.b.post(c.path, c.f)
			checkPage(t, c.name, resp, body)
			if resp.StatusCode != 403 {
				t.Errorf("%s: %d, want 403", c.name, resp.StatusCode)
			}
		}
		if now, _ := e.liveConfig(); now != cur {
			t.Errorf("refused posts changed the configuration: %d → %d", cur, now)
		}
	})
}
