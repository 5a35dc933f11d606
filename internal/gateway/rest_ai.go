package gateway

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/provider"
	"github.com/hypergate/hypergate/internal/route"
)

// aiEndpoint is one of the gateway's AI endpoints as an AI service exposes
// it under its own path.
type aiEndpoint struct {
	method string
	op     provider.Operation
	in     *inbound
	serve  func(g *Gateway, c *call, op provider.Operation, in *inbound)
}

func proxyEndpoint(g *Gateway, c *call, op provider.Operation, in *inbound) { g.proxy(c, op, in) }

func countTokensEndpoint(g *Gateway, c *call, _ provider.Operation, _ *inbound) { g.countTokens(c) }

// aiEndpoints are the endpoints an AI service exposes, by path under the
// service's route: /support-bot/v1/chat/completions is the gateway's
// /v1/chat/completions restricted to the service's models.
var aiEndpoints = map[string]aiEndpoint{
	"/v1/chat/completions":      {method: fasthttp.MethodPost, op: opChat, in: openaiInbound, serve: proxyEndpoint},
	"/v1/messages":              {method: fasthttp.MethodPost, op: opChat, in: anthropicInbound, serve: proxyEndpoint},
	"/v1/messages/count_tokens": {method: fasthttp.MethodPost, in: anthropicInbound, serve: countTokensEndpoint},
	"/v1/responses":             {method: fasthttp.MethodPost, op: provider.Responses, in: responsesInbound, serve: proxyEndpoint},
	"/v1/embeddings":            {method: fasthttp.MethodPost, op: opEmbeddings, in: openaiInbound, serve: proxyEndpoint},
	"/v1/models":                {method: fasthttp.MethodGet},
}

// serveAIService serves a call to an AI service: the part of the path under
// the route (or the route's rewrite) names one of the gateway's AI
// endpoints, which then runs as usual for the models the service offers
// only. The consumer is authenticated and subscribed already; the model
// pipeline authenticates again (a lookup in memory) and applies the
// consumer's own model allow-list on top of the service's.
func (g *Gateway) serveAIService(c *call, rr *restRoute, path string, m *route.Match) {
	endpoint := path[m.Matched:]
	if rr.rewrite != nil {
		buf := restBufs.Get().(*restBuf)
		defer restBufs.Put(buf)
		buf.b = rr.appendForwardPath(buf.b[:0], path, m)
		endpoint = b2s(buf.b)
	}
	ep, ok := aiEndpoints[endpoint]
	if !ok {
		c.fail(&apiError{Status: 404, Type: errInvalidRequest, Code: "unknown_url",
			Message: fmt.Sprintf("service %q offers the AI endpoints under its path, like %s/v1/chat/completions; %s is not one of them",
				rr.svc.name, strings.TrimSuffix(path[:m.Matched], "/"), truncate(endpoint, 256))})
		return
	}
	if ep.in != nil {
		c.in = ep.in
	}
	if !c.method(ep.method) {
		return
	}
	if ep.serve == nil {
		g.listServiceModels(c, rr.svc)
		return
	}
	// The model is checked against the service here; the pipeline reads the
	// body again with the checks of its own (a malformed body is its to
	// refuse).
	if name := gjson.GetBytes(c.ctx.Request.Body(), "model"); name.Type == gjson.String && !rr.svc.models[name.Str] {
		c.rec.Model = truncate(name.Str, 256)
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "model_not_allowed", Param: "model",
			Message: fmt.Sprintf("service %q does not offer the model '%s'; it offers: %s",
				rr.svc.name, truncate(name.Str, 256), strings.Join(rr.svc.modelList, ", "))})
		return
	}
	ep.serve(g, c, ep.op, ep.in)
}

// listServiceModels answers GET {service}/v1/models with the service's
// models that the consumer may use.
func (g *Gateway) listServiceModels(c *call, svc *restService) {
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
	for _, name := range svc.modelList {
		if m := s.models[name]; m != nil && cons.allows(name) {
			out.Data = append(out.Data, entry{ID: name, Object: "model", Created: s.created, OwnedBy: m.targets[0].up.Name})
		}
	}
	b, _ := json.Marshal(out)
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(b)
	c.rec.ResponseBytes = int64(len(b))
	c.finish(200)
}
