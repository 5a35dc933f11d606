package app_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHypercareExample keeps the README's hypercare walkthrough honest: its
// declarative file applies to a running gateway as written, and its help
// page loads the widget under a policy without inline script or style.
func TestHypercareExample(t *testing.T) {
	file, err := os.ReadFile("../../examples/hypercare/hypergate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOCK_KEY", "sk-mock")
	t.Setenv("HELP_CENTER_KEY", "hg-help-center-walkthrough-key")
	e := start(t)
	e.apply(string(file))

	page, err := os.ReadFile("../../examples/hypercare/page.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	csp := regexp.MustCompile(`content="(default-src[^"]*)"`).FindStringSubmatch(html)
	if csp == nil || strings.Contains(csp[1], "unsafe-inline") || !strings.Contains(csp[1], "script-src http://127.0.0.1:8080") {
		t.Errorf("page policy %v: want a strict one allowing the gateway's script", csp)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "style=") || !strings.Contains(html, `src="http://127.0.0.1:8080/widget.js"`) ||
		!strings.Contains(html, "data-hypergate-feedback") {
		t.Error("the page must load /widget.js and hold no inline script or style")
	}
}
