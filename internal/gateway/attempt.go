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

// attempt is the try in progress: it becomes a calllog.Attempt when it
// fails (endAttempt) or when the call finishes with its answer (finish).
type attempt struct {
	t       target
	keyID   string
	started time.Time
}

func (c *call) startAttempt(t target, keyID string) {
	c.rec.Provider, c.rec.UpstreamModel = t.up.Name, t.model
	c.cur = &attempt{t: t, keyID: keyID, started: time.Now()}
}

// endAttempt records the try in progress; f is nil when it answered.
func (c *call) endAttempt(status int, f *failure) {
	if c.cur == nil {
		return
	}
	a := calllog.Attempt{
		Provider: c.cur.t.up.Name, UpstreamModel: c.cur.t.model, KeyID: c.cur.keyID,
		Status: status, LatencyUS: time.Since(c.cur.started).Microseconds(),
	}
	if f != nil {
		a.Status = f.status
		a.ErrorType = f.errorType()
	} else {
		a.ErrorType = c.rec.ErrorType // a stream that broke off after it was committed
	}
	c.rec.Attempts = append(c.rec.Attempts, a)
	c.cur = nil
}
