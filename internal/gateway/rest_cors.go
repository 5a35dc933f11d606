package gateway

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
)

// corsPolicy is a route's compiled CORS configuration. The gateway owns
// CORS on such a route: it answers preflights itself and replaces any
// Access-Control-* headers of the upstream's answers.
type corsPolicy struct {
	anyOrigin   bool
	origins     map[string]bool
	methods     []string // allowed methods; nil: the route's, or any
	methodsText string
	headers     []string // allowed request headers, lower case; nil: whatever is asked
	headersText string
	expose      string
	credentials bool
	maxAge      string // seconds; "" when unset
}

func compileCORS(c *config.CORS, routeMethods []string) *corsPolicy {
	p := &corsPolicy{origins: map[string]bool{}, credentials: c.Credentials, expose: strings.Join(c.Expose, ", ")}
	for _, o := range c.Origins {
		if o == "*" {
			p.anyOrigin = true
		}
		p.origins[strings.ToLower(o)] = true
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = routeMethods
	}
	for _, m := range methods {
		p.methods = append(p.methods, strings.ToUpper(m))
	}
	p.methodsText = strings.Join(p.methods, ", ")
	for _, h := range c.Headers {
		if h == "*" {
			p.headers = nil
			break
		}
		p.headers = append(p.headers, strings.ToLower(h))
	}
	if p.headers != nil {
		p.headersText = strings.Join(c.Headers, ", ")
	}
	if c.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(time.Duration(c.MaxAge)/time.Second), 10)
	}
	return p
}

// allowsOrigin reports whether a browser page from origin may call.
func (p *corsPolicy) allowsOrigin(origin []byte) bool {
	if len(origin) == 0 {
		return false
	}
	return p.anyOrigin || p.origins[strings.ToLower(string(origin))]
}

// isPreflight reports whether the request is a CORS preflight: an OPTIONS
// with an Origin and the method the page wants to use.
func isPreflight(ctx *fasthttp.RequestCtx) bool {
	return ctx.IsOptions() && len(ctx.Request.Header.Peek("Origin")) > 0 &&
		len(ctx.Request.Header.Peek("Access-Control-Request-Method")) > 0
}

// preflight answers a CORS preflight for the route, without reaching the
// upstream or asking for a key (browsers send none with a preflight).
func (p *corsPolicy) preflight(c *call) {
	ctx := c.ctx
	h := &ctx.Request.Header
	origin := h.Peek("Origin")
	method := string(h.Peek("Access-Control-Request-Method"))
	asked := h.Peek("Access-Control-Request-Headers")
	rh := &ctx.Response.Header
	rh.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	if !p.allowsOrigin(origin) {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_origin_not_allowed",
			Message: fmt.Sprintf("origin %s may not call this route from a browser", truncate(string(origin), 256))})
		return
	}
	if p.methods != nil && !containsFold(p.methods, method) {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_method_not_allowed",
			Message: fmt.Sprintf("method %s may not be used on this route from a browser; allowed: %s", truncate(method, 32), p.methodsText)})
		return
	}
	if p.headers != nil {
		for _, a := range bytes.Split(asked, []byte(",")) {
			name := strings.ToLower(string(bytes.TrimSpace(a)))
			if name != "" && !containsFold(p.headers, name) {
				c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_header_not_allowed",
					Message: fmt.Sprintf("header %s may not be sent to this route from a browser; allowed: %s", truncate(name, 64), p.headersText)})
				return
			}
		}
	}
	p.allowOriginHeaders(rh, origin)
	if p.methods != nil {
		rh.Set("Access-Control-Allow-Methods", p.methodsText)
	} else {
		rh.Set("Access-Control-Allow-Methods", method)
	}
	switch {
	case p.headers != nil:
		rh.Set("Access-Control-Allow-Headers", p.headersText)
	case len(asked) > 0:
		rh.SetBytesV("Access-Control-Allow-Headers", asked)
	}
	if p.maxAge != "" {
		rh.Set("Access-Control-Max-Age", p.maxAge)
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	c.finish(fasthttp.StatusNoContent)
}

// decorate puts the CORS headers on an answer to a page from an allowed
// origin, in place of any the upstream sent.
func (p *corsPolicy) decorate(ctx *fasthttp.RequestCtx) {
	rh := &ctx.Response.Header
	for _, name := range corsResponseHeaders {
		rh.Del(name)
	}
	rh.Add("Vary", "Origin")
	origin := ctx.Request.Header.Peek("Origin")
	if !p.allowsOrigin(origin) {
		return
	}
	p.allowOriginHeaders(rh, origin)
	if p.expose != "" {
		rh.Set("Access-Control-Expose-Headers", p.expose)
	}
}

func (p *corsPolicy) allowOriginHeaders(rh *fasthttp.ResponseHeader, origin []byte) {
	if p.anyOrigin && !p.credentials {
		rh.Set("Access-Control-Allow-Origin", "*")
	} else {
		rh.SetBytesV("Access-Control-Allow-Origin", origin)
	}
	if p.credentials {
		rh.Set("Access-Control-Allow-Credentials", "true")
	}
}

var corsResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
