package gateway

import (
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
)

// failure is an attempt that produced no answer for the client: either no
// HTTP answer at all (err) or an upstream error status with its body.
type failure struct {
	err         *apiError // transport failure: unreachable, timeout
	status      int
	contentType []byte
	body        []byte
	headers     [][2]string // the passed-on upstream headers (Retry-After, x-ratelimit-*)
}

// newFailure copies an upstream error answer; the caller's buffers are reused.
func newFailure(status int, contentType, body []byte, header func(string) string) *failure {
	f := &failure{status: status, contentType: copyBytes(contentType), body: copyBytes(body)}
	for _, h := range passedHeaders {
		if v := header(h); v != "" {
			f.headers = append(f.headers, [2]string{h, v})
		}
	}
	return f
}

// errorType names the failure in an attempt record.
func (f *failure) errorType() string {
	if f.err != nil {
		return f.err.Code
	}
	return upstreamErrorType(f.status, f.body)
}

// reportFailure answers the client with the last failure.
func (g *Gateway) reportFailure(c *call, f *failure) {
	if f.err != nil {
		c.fail(f.err)
		return
	}
	for _, h := range f.headers {
		c.ctx.Response.Header.Set(h[0], h[1])
	}
	g.passUpstreamError(c, f.status, f.contentType, f.body, g.Secrets())
}

// addAttempt records one try of the call.
func (c *call) addAttempt(t target, keyID string, started time.Time, f *failure) {
	a := calllog.Attempt{
		Provider: t.up.Name, UpstreamModel: t.model, KeyID: keyID,
		LatencyUS: time.Since(started).Microseconds(),
	}
	if f == nil {
		a.Status = 200
	} else {
		a.Status = f.status
		a.ErrorType = f.errorType()
	}
	c.rec.Attempts = append(c.rec.Attempts, a)
}
