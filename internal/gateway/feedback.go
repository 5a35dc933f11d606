package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/feedback"
)

// PublishableKeyTable maps the hashes of publishable keys to their
// consumer and origins. Like KeyTable it is swapped whole, apart from the
// snapshot.
type PublishableKeyTable struct {
	byHash map[string]publishableRef
	// origins is every origin some key lists: a preflight, which carries
	// no key, is answered for these and refused for the rest.
	origins map[string]bool
}

type publishableRef struct {
	consumer, keyID string
	origins         map[string]bool
}

// NewPublishableKeyTable builds the table of the active publishable keys.
func NewPublishableKeyTable(keys []feedback.PublishableKey) *PublishableKeyTable {
	t := &PublishableKeyTable{byHash: make(map[string]publishableRef, len(keys)), origins: map[string]bool{}}
	for _, k := range keys {
		if k.RevokedAt != nil {
			continue
		}
		ref := publishableRef{consumer: k.Consumer, keyID: k.ID, origins: make(map[string]bool, len(k.Origins))}
		for _, o := range k.Origins {
			o = strings.ToLower(o)
			ref.origins[o] = true
			t.origins[o] = true
		}
		t.byHash[k.Hash] = ref
	}
	return t
}

// SetPublishableKeys swaps in the publishable keys.
func (g *Gateway) SetPublishableKeys(t *PublishableKeyTable) { g.pkeys.Store(t) }

// isPublishable reports whether key is an active publishable key.
func (g *Gateway) isPublishable(key, hash string) bool {
	if !strings.HasPrefix(key, feedback.PublishablePrefix) {
		return false
	}
	_, ok := g.pkeys.Load().byHash[hash]
	return ok
}

// errPublishableOnly refuses a publishable key anywhere but POST /v1/feedback.
var errPublishableOnly = &apiError{Status: 403, Type: errPermission, Code: "publishable_key_not_allowed",
	Message: "This is a publishable key (pk_…): it may only post feedback to POST /v1/feedback. Use a secret consumer key for anything else."}

// feedbackHeaders are the request headers a page may send with feedback.
const feedbackHeaders = "Authorization, Content-Type, api-key, x-api-key"

// feedbackPreflight answers the CORS preflight of POST /v1/feedback. A
// preflight carries no key, so it is answered for any origin that some
// publishable key lists; the post itself is then checked against its own
// key's origins.
func (g *Gateway) feedbackPreflight(c *call) {
	if !isPreflight(c.ctx) {
		c.ctx.Response.Header.Set("Allow", "POST, OPTIONS")
		c.fail(&apiError{Status: 405, Type: errInvalidRequest, Code: "method_not_allowed",
			Message: "method OPTIONS is only for CORS preflights here; post feedback with POST"})
		return
	}
	h := &c.ctx.Request.Header
	rh := &c.ctx.Response.Header
	rh.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := strings.ToLower(string(h.Peek("Origin")))
	if !g.pkeys.Load().origins[origin] {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_origin_not_allowed",
			Message: fmt.Sprintf("origin %s may not post feedback from a browser: list it in the origins of a publishable key", truncate(origin, 256))})
		return
	}
	if m := string(h.Peek("Access-Control-Request-Method")); m != fasthttp.MethodPost {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_method_not_allowed",
			Message: fmt.Sprintf("method %s may not be used here from a browser; allowed: POST", truncate(m, 32))})
		return
	}
	rh.Set("Access-Control-Allow-Origin", string(h.Peek("Origin")))
	rh.Set("Access-Control-Allow-Methods", "POST")
	rh.Set("Access-Control-Allow-Headers", feedbackHeaders)
	rh.Set("Access-Control-Max-Age", "600")
	c.ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// requestKey is the key a request presents, as authenticate reads it.
func requestKey(h *fasthttp.RequestHeader) string {
	if v := h.Peek("Authorization"); len(v) > 0 {
		return trimBearer(string(v))
	} else if v := h.Peek("api-key"); len(v) > 0 {
		return string(v)
	} else if v := h.Peek("x-api-key"); len(v) > 0 {
		return string(v)
	}
	return ""
}

// postFeedback answers POST /v1/feedback: feedback on a call (request_id)
// or on a documentation page (page), with a consumer key (source api) or a
// publishable key (source user, from a browser page of one of the key's
// origins). It is acknowledged only once the feedback is stored.
func (g *Gateway) postFeedback(c *call) {
	if g.o.Feedback == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, Message: "feedback is not available on this gateway"})
		return
	}
	by, ok := g.feedbackAuthor(c)
	if !ok {
		return
	}
	var in feedback.Input
	if e := decodeFeedback(c.ctx.Request.Body(), &in); e != nil {
		c.fail(e)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		out     any
		created bool
		err     error
	)
	if in.Page != "" {
		out, created, err = g.o.Feedback.SubmitPage(ctx, by, in)
	} else {
		var f feedback.Feedback
		f, created, err = g.o.Feedback.SubmitAs(ctx, by, in)
		if err == nil {
			g.traceFeedback(f)
		}
		out = f
	}
	var inv *feedback.InvalidError
	switch {
	case errors.As(err, &inv):
		c.fail(&apiError{Status: 422, Type: errInvalidRequest, Code: "invalid_value", Param: inv.Field, Message: inv.Error()})
		return
	case errors.Is(err, feedback.ErrCallNotFound):
		c.fail(&apiError{Status: 404, Type: errInvalidRequest, Code: "call_not_found", Param: "request_id",
			Message: "no call with request_id '" + in.RequestID + "' was made with this key's consumer"})
		return
	case errors.Is(err, feedback.ErrConflict):
		c.fail(&apiError{Status: 409, Type: errInvalidRequest, Code: "feedback_id_conflict", Param: "id",
			Message: "feedback id '" + in.ID + "' is already used for another call, page or consumer"})
		return
	case err != nil:
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, cause: err,
			Message: "the feedback could not be stored; nothing was saved, please retry"})
		return
	}
	b, _ := json.Marshal(out)
	c.ctx.SetContentType("application/json")
	if created {
		c.ctx.SetStatusCode(201)
	}
	c.ctx.SetBody(b)
}

// feedbackAuthor authenticates a feedback post and says who posts it,
// answering the call itself when it is refused. A publishable key from a
// browser must come from one of its origins; its answers, errors
// included, carry the CORS headers so that the page can read them.
func (g *Gateway) feedbackAuthor(c *call) (feedback.Submitter, bool) {
	h := &c.ctx.Request.Header
	key := requestKey(h)
	hash := auth.HashKey(key)
	ref, ok := g.pkeys.Load().byHash[hash]
	if !ok || !strings.HasPrefix(key, feedback.PublishablePrefix) {
		_, cons, ok := g.admit(c)
		if !ok {
			return feedback.Submitter{}, false
		}
		return feedback.Submitter{Consumer: cons.name, Source: feedback.SourceAPI, Author: c.rec.KeyID}, true
	}
	c.ctx.Response.Header.Add("Vary", "Origin")
	if origin := h.Peek("Origin"); len(origin) > 0 {
		if !ref.origins[strings.ToLower(string(origin))] {
			c.fail(&apiError{Status: 403, Type: errPermission, Code: "cors_origin_not_allowed",
				Message: fmt.Sprintf("origin %s may not post feedback with this publishable key (%s): add it to the key's origins",
					truncate(string(origin), 256), ref.keyID)})
			return feedback.Submitter{}, false
		}
		c.ctx.Response.Header.SetBytesV("Access-Control-Allow-Origin", origin)
	}
	s := g.snap.Load()
	if s == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, Message: "the gateway has no configuration loaded yet"})
		return feedback.Submitter{}, false
	}
	if s.consumers[ref.consumer] == nil {
		c.fail(&apiError{Status: 401, Type: errInvalidRequest, Code: "invalid_api_key", Message: "Incorrect API key provided."})
		return feedback.Submitter{}, false
	}
	c.rec.Consumer, c.rec.KeyID = ref.consumer, ref.keyID
	return feedback.Submitter{Consumer: ref.consumer, Source: feedback.SourceUser, Author: ref.keyID}, true
}

// decodeFeedback reads the JSON body of a feedback post strictly.
func decodeFeedback(body []byte, in *feedback.Input) *apiError {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(in)
	if err == nil {
		return nil
	}
	var ve *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ve):
		return &apiError{Status: 422, Type: errInvalidRequest, Code: "invalid_value", Param: ve.Field,
			Message: ve.Field + ": must be a " + ve.Type.String()}
	case strings.Contains(err.Error(), "value"):
		return &apiError{Status: 422, Type: errInvalidRequest, Code: "invalid_value", Param: "value", Message: err.Error()}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return badRequest(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("", "We could not parse the JSON body of your request: %v", err)
}
