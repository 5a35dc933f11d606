package gateway

import (
	"errors"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/balance"
	"github.com/hypergate/hypergate/internal/llm"

	"github.com/hypergate/hypergate/internal/calllog"
)

// failure is an attempt that produced no answer for the client: either no
// HTTP answer at all (err) or an upstream error status with its body.
type failure struct {
	err         *apiError // transport failure (unreachable, timeout) or a request the gateway cannot send
	status      int
	contentType []byte
	body        []byte
	headers     [][2]string // the passed-on upstream headers (Retry-After, x-ratelimit-*)
	// translated is the upstream's error in neutral form, when the upstream
	// speaks another format than the client: it is answered in the client's.
	translated *llm.Error
	// outcome, when set, overrides the classification of err and status.
	outcome balance.Outcome
}

// classify says how the attempt failed, for retries, fallbacks and breakers.
func (f *failure) classify() balance.Outcome {
	if f.outcome != 0 {
		return f.outcome
	}
	if f.err != nil {
		switch f.err.Code {
		case errTimeout:
			return balance.Timeout
		case errUnreachable:
			return balance.ConnectionError
		}
		return balance.Classify(f.err.Status, f.err.cause)
	}
	return balance.Classify(f.status, nil)
}

// retryAfter is how long the upstream asked to wait, if it said.
func (f *failure) retryAfter() time.Duration {
	for _, h := range f.headers {
		switch h[0] {
		case "retry-after-ms":
			if d, ok := balance.ParseRetryAfterMS(h[1]); ok {
				return d
			}
		case "retry-after":
			if d, ok := balance.ParseRetryAfter(h[1], time.Now()); ok {
				return d
			}
		}
	}
	return 0
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
	if f.translated != nil {
		return firstNonEmpty(f.translated.Code, f.translated.Type)
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
	if f.translated != nil {
		e := *f.translated
		e.Message = scrub(e.Message, g.Secrets())
		c.rec.ResponseBody = calllog.Cap(f.body, c.capBytes)
		c.rec.ErrorType = firstNonEmpty(e.Code, e.Type)
		c.rec.ErrorMessage = truncate(e.Message, 1024)
		c.ctx.Response.ResetBody()
		c.ctx.SetStatusCode(e.Status)
		c.ctx.SetContentType("application/json")
		c.ctx.SetBody(c.in.codec.EncodeError(&e))
		c.finish(e.Status)
		return
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
	c.curAttempt = attempt{t: t, keyID: keyID, started: time.Now()}
	c.cur = &c.curAttempt // points into the call: no allocation per attempt
	c.traceAttemptStart(t, keyID)
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
	var outcome balance.Outcome
	switch {
	case f != nil:
		outcome = f.classify()
	case a.Status >= 400:
		outcome = balance.Classify(a.Status, nil)
	}
	c.observeAttempt(&a, c.cur.t.up.Type, outcome.String())
	c.cur = nil
}

// observeAttempt counts an attempt in the metrics and ends its span.
func (c *call) observeAttempt(a *calllog.Attempt, provType, outcome string) {
	m := c.g.o.Metrics
	m.Attempts.WithLabelValues(a.Provider, outcome).Inc()
	if provType != "" { // AI attempts: the gateway as a GenAI client
		op := operationName(c.rec.Endpoint)
		if op == "" {
			op = "chat"
		}
		m.Operation.WithLabelValues(op, a.Provider, a.UpstreamModel, m.ErrorType(a.ErrorType)).Observe(float64(a.LatencyUS) / 1e6)
	}
	c.traceAttemptEnd(a, outcome)
}

// scrub removes configured secrets an upstream may echo in a message.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 8 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// failTranslated answers a request the inbound codec refused (an *llm.Error,
// 400) in the client's format.
func (c *call) failTranslated(err error) {
	var le *llm.Error
	if !errors.As(err, &le) {
		le = &llm.Error{Status: 400, Type: errInvalidRequest, Message: err.Error()}
	}
	c.fail(&apiError{Status: le.Status, Type: le.Type, Code: le.Code, Message: le.Message})
}
