package app

import (
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/hypergate/hypergate/internal/console"
)

// portalWrap serves the developer portal's prefix on the data plane in
// front of the gateway, as the status page is served: with an X-Request-Id
// as on every data-plane answer, and not recorded as a call.
func portalWrap(p *console.Portal, next fasthttp.RequestHandler) fasthttp.RequestHandler {
	serve := fasthttpadaptor.NewFastHTTPHandler(p.Handler())
	return func(ctx *fasthttp.RequestCtx) {
		if !p.Owns(string(ctx.Path())) {
			next(ctx)
			return
		}
		id := newStatusRequestID(ctx)
		ctx.Request.Header.Set("X-Request-Id", id)
		ctx.Response.Header.Set("X-Request-Id", id)
		serve(ctx)
	}
}
