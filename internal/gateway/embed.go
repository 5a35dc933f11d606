package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/balance"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
)

// embedDecode is the client's embeddings request in neutral form, decoded
// once per call on the first attempt that translates: the request, or why
// it could not be decoded.
type embedDecode struct {
	done bool
	req  *llm.EmbedRequest
	err  error
}

// embeddingsCodec returns the target's embeddings codec, or nil when its
// family has none.
func embeddingsCodec(t target) llm.EmbeddingsCodec {
	ec, _ := t.up.Codec().(llm.EmbeddingsCodec)
	return ec
}

// translateEmbeddings answers an OpenAI embeddings call from an upstream of
// another family: the request is decoded once (into d), encoded for the
// target, sent, and the answer read back into OpenAI's shape. Usage the
// upstream does not report (Gemini never does) is estimated from the inputs
// and the call record says so. The bool is true when the call has been
// answered with the client's own error (a malformed request), which no
// other target could change; otherwise the failure, if any, lets the plan
// move on.
func (g *Gateway) translateEmbeddings(c *call, t target, key string, body []byte, d *embedDecode, timeout time.Duration) (*failure, bool) {
	ec := embeddingsCodec(t)
	in, ok := c.in.codec.(llm.InboundEmbeddingsCodec)
	if ec == nil || !ok {
		return &failure{err: &apiError{Status: 400, Type: errInvalidRequest, Code: "operation_not_supported",
			Message: fmt.Sprintf("provider %q cannot serve %s in this API format", t.up.Name, opEmbeddings)}, outcome: balance.Unsupported}, false
	}
	if !d.done {
		d.done = true
		d.req, d.err = in.DecodeEmbeddingsRequest(body)
	}
	if d.err != nil {
		if errors.Is(d.err, llm.ErrTokenInput) {
			// Only this family cannot take token ids: an OpenAI-format
			// target of the model still can.
			e := *llm.ErrTokenInput
			return &failure{translated: &e, status: e.Status, outcome: balance.Unsupported}, false
		}
		c.endAttempt(0, nil)
		c.failTranslated(d.err)
		return nil, true
	}
	r := *d.req // shallow: the codec may append to Dropped, never write to Inputs
	r.Dropped = append([]string(nil), d.req.Dropped...)
	r.Model = t.model
	out, err := ec.EncodeEmbeddings(&r)
	c.rec.Dropped = r.Dropped
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) {
			// This family cannot express the request (too many inputs, a
			// model it cannot embed with); another target's may.
			return &failure{translated: le, status: le.Status, outcome: balance.Unsupported}, false
		}
		return &failure{err: &apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err,
			Message: "the request could not be translated for the upstream"}, outcome: balance.ServerError}, false
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if f := g.send(c, t, key, t.up.URL(opEmbeddings, t.model, false), out, timeout, resp); f != nil {
		if f.err == nil {
			f.translated = t.up.Codec().DecodeError(f.status, f.body)
		}
		return f, false
	}
	rb := resp.Body()
	answer, err := ec.DecodeEmbeddings(rb)
	if err == nil && len(answer.Vectors) != len(r.Inputs) {
		err = fmt.Errorf("%d vectors for %d inputs", len(answer.Vectors), len(r.Inputs))
	}
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) { // an error the upstream reported inside a 200
			return &failure{translated: le, status: le.Status, body: copyBytes(rb)}, false
		}
		return &failure{err: &apiError{Status: http.StatusBadGateway, Type: errUpstream, Code: "upstream_unreadable", cause: err,
			Message: fmt.Sprintf("upstream %q answered in a form the gateway could not read", t.up.Name)}}, false
	}
	if answer.Model == "" {
		answer.Model = t.model
	}
	if !answer.Usage.Present {
		answer.Usage = llm.Usage{InputTokens: llm.EstimateEmbeddingTokens(t.model, r.Inputs), Present: true}
		c.rec.UsageEstimated = true
	}
	c.usage = answer.Usage
	encoded, err := in.EncodeEmbeddingsResponse(answer, r.EncodingFormat)
	if err != nil {
		return &failure{err: &apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err,
			Message: "the upstream's answer could not be translated"}, outcome: balance.ServerError}, false
	}
	c.rec.ResponseBody = calllog.Cap(encoded, c.capBytes)
	c.ctx.SetStatusCode(200)
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(encoded)
	c.finish(200)
	return nil, false
}
