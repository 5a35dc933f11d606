package gateway

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/feedback"
)

// serveWidget answers GET /widget.js with the feedback widget. Its URL is
// not versioned, so caches keep it briefly and then revalidate by ETag; it
// is public and may be loaded from any page (CORP cross-origin), but never
// sniffed as anything but JavaScript.
func (g *Gateway) serveWidget(c *call) {
	ctx := c.ctx
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		c.fail(&apiError{Status: 405, Type: errInvalidRequest, Code: "method_not_allowed",
			Message: "method " + string(ctx.Method()) + " is not allowed here; use GET"})
		return
	}
	h := &ctx.Response.Header
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300, stale-while-revalidate=86400")
	h.Set("ETag", feedback.WidgetETag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if inm := ctx.Request.Header.Peek("If-None-Match"); len(inm) > 0 && etagMatches(inm, feedback.WidgetETag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetBody(feedback.Widget)
}

// etagMatches reports whether an If-None-Match value lists etag (or *),
// weak or strong.
func etagMatches(inm []byte, etag string) bool {
	for _, t := range bytes.Split(inm, []byte(",")) {
		t = bytes.TrimPrefix(bytes.TrimSpace(t), []byte("W/"))
		if string(t) == etag || string(t) == "*" {
			return true
		}
	}
	return false
}
