package gateway

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/feedback"
)

func widgetRequest(t *testing.T, g *Gateway, method string, hdr ...string) *fasthttp.RequestCtx {
	t.Helper()
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI("/widget.js")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, nil)
	g.Handle(ctx)
	return ctx
}

// TestWidgetServed checks /widget.js: JavaScript with caching and
// revalidation headers, loadable from any page, small.
func TestWidgetServed(t *testing.T) {
	g := New(Options{})
	for _, tc := range []struct {
		name, method string
		hdr          []string
		status       int
		body         bool
	}{
		{"GET", "GET", nil, 200, true},
		{"HEAD", "HEAD", nil, 200, true}, // the server leaves the body out of the answer to a HEAD
		{"revalidated", "GET", []string{"If-None-Match", feedback.WidgetETag}, 304, false},
		{"revalidated, weak", "GET", []string{"If-None-Match", `"other", W/` + feedback.WidgetETag}, 304, false},
		{"stale tag", "GET", []string{"If-None-Match", `"other"`}, 200, true},
		{"POST", "POST", nil, 405, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := widgetRequest(t, g, tc.method, tc.hdr...)
			h := &ctx.Response.Header
			if got := ctx.Response.StatusCode(); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			if tc.status >= 400 {
				return
			}
			for name, want := range map[string]string{
				"Content-Type":                 "text/javascript; charset=utf-8",
				"ETag":                         feedback.WidgetETag,
				"X-Content-Type-Options":       "nosniff",
				"Cross-Origin-Resource-Policy": "cross-origin",
			} {
				if got := string(h.Peek(name)); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if cc := string(h.Peek("Cache-Control")); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
				t.Errorf("Cache-Control = %q", cc)
			}
			if got := len(ctx.Response.Body()) > 0; got != tc.body {
				t.Errorf("body present = %v, want %v", got, tc.body)
			}
		})
	}
}

// TestWidgetStrictCSP checks the widget's source against what a strict
// Content-Security-Policy forbids and against its size budget.
func TestWidgetStrictCSP(t *testing.T) {
	src := string(feedback.Widget)
	if n := len(src); n >= 8<<10 {
		t.Errorf("widget.js is %d bytes, over the 8 KiB budget", n)
	}
	for _, tc := range []struct {
		name string
		re   string
	}{
		{"eval", `\beval\s*\(`},
		{"Function constructor", `\bnew\s+Function\b|\bFunction\s*\(`},
		{"string timers", `set(Timeout|Interval)\s*\(\s*["']`},
		{"inline handler attributes", `setAttribute\(\s*["']on|\bon[a-z]+\s*=\s*["']`},
		{"inline style attributes", `setAttribute\(\s*["']style|\.style\s*=|\.cssText`},
		{"HTML injection", `innerHTML|outerHTML|insertAdjacentHTML|document\.write`},
		{"inline style elements", `createElement\(\s*["']style`},
		{"javascript: URLs", `javascript:`},
		{"imports", `\bimport\s*\(|\brequire\s*\(`},
	} {
		if regexp.MustCompile(tc.re).MatchString(src) {
			t.Errorf("widget.js uses %s (%s)", tc.name, tc.re)
		}
	}
	// What the widget promises: the toggle buttons, the key, the endpoint.
	for _, want := range []string{"aria-pressed", "data-hypergate-feedback", "data-request-id", "data-key", "/v1/feedback", "Was this helpful?"} {
		if !strings.Contains(src, want) {
			t.Errorf("widget.js does not mention %q", want)
		}
	}
}
