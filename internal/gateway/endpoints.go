package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/feedback"
)

// listModels answers GET /v1/models with the models this key may use.
func (g *Gateway) listModels(c *call) {
	s, cons, ok := g.admit(c)
	if !ok {
		return
	}
	type entry struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []entry `json:"data"`
	}{Object: "list", Data: []entry{}}
	for _, name := range s.modelList {
		if cons.allows(name) {
			out.Data = append(out.Data, entry{ID: name, Object: "model", Created: s.created, OwnedBy: s.models[name].targets[0].up.Name})
		}
	}
	b, _ := json.Marshal(out)
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(b)
	c.rec.ResponseBytes = int64(len(b))
	c.finish(200)
}

// postFeedback answers POST /v1/feedback. It is acknowledged only once the
// feedback is stored.
func (g *Gateway) postFeedback(c *call) {
	if g.o.Feedback == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, Message: "feedback is not available on this gateway"})
		return
	}
	_, cons, ok := g.admit(c)
	if !ok {
		return
	}
	var in feedback.Input
	dec := json.NewDecoder(strings.NewReader(string(c.ctx.Request.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var ve *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ve):
			c.fail(&apiError{Status: 422, Type: errInvalidRequest, Code: "invalid_value", Param: ve.Field,
				Message: ve.Field + ": must be a " + ve.Type.String()})
		case strings.Contains(err.Error(), "value"):
			c.fail(&apiError{Status: 422, Type: errInvalidRequest, Code: "invalid_value", Param: "value", Message: err.Error()})
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			c.fail(badRequest(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "%s", strings.TrimPrefix(err.Error(), "json: ")))
		default:
			c.fail(badRequest("", "We could not parse the JSON body of your request: %v", err))
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, created, err := g.o.Feedback.Submit(ctx, cons.name, in)
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
			Message: "feedback id '" + in.ID + "' is already used for another call"})
		return
	case err != nil:
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, cause: err,
			Message: "the feedback could not be stored; nothing was saved, please retry"})
		return
	}
	g.traceFeedback(f)
	b, _ := json.Marshal(f)
	c.ctx.SetContentType("application/json")
	if created {
		c.ctx.SetStatusCode(201)
	}
	c.ctx.SetBody(b)
}
