package gateway

import (
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// countTokens answers Anthropic's POST /v1/messages/count_tokens. An
// Anthropic upstream counts exactly; for any other the count is estimated
// from the request's text with llm.EstimateTokens, and the answer says so
// in X-Hypergate-Estimated, since Anthropic's body has no field for it.
func (g *Gateway) countTokens(c *call) {
	c.in = anthropicInbound
	s, cons, ok := g.admit(c)
	if !ok {
		return
	}
	body := c.ctx.Request.Body()
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		c.fail(badRequest("", "the request body must be a JSON object"))
		return
	}
	name := gjson.GetBytes(body, "model").Str
	if name == "" {
		c.fail(badRequest("model", "model: a model name is required"))
		return
	}
	c.rec.Model = truncate(name, 256)
	m := s.models[name]
	if m == nil {
		c.fail(&apiError{Status: 404, Type: errNotFound, Code: "model_not_found", Param: "model",
			Message: fmt.Sprintf("The model '%s' does not exist.", truncate(name, 256))})
		return
	}
	if !cons.allows(name) {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "model_not_allowed", Param: "model",
			Message: fmt.Sprintf("This key may not use the model '%s'.", name)})
		return
	}
	c.model = m
	t := m.targets[0]
	if t.up.Supports(provider.CountTokens) && t.up.Format() == anthropicInbound.format {
		out := body
		if t.model != name {
			var err error
			if out, err = sjson.SetBytes(copyBytes(body), "model", t.model); err != nil {
				c.fail(badRequest("model", "cannot rewrite the model name: %v", err))
				return
			}
		}
		key := t.pool.Next()
		c.startAttempt(t, key.ID)
		if f := g.forward(c, t, key.Secret(), provider.CountTokens, out, t.up.Timeout); f != nil {
			g.reportFailure(c, f)
		}
		return
	}
	// The neutral decoder wants max_tokens, which count_tokens requests lack.
	withMax, err := sjson.SetBytes(copyBytes(body), "max_tokens", 1)
	if err != nil {
		c.fail(badRequest("", "%v", err))
		return
	}
	req, err := anthropicInbound.codec.DecodeRequest(withMax)
	if err != nil {
		c.failTranslated(err)
		return
	}
	n := llm.EstimateMessagesTokens(t.model, requestTexts(req))
	c.usage = llm.Usage{InputTokens: int64(n), Present: true}
	c.rec.Provider, c.rec.UpstreamModel, c.rec.UsageEstimated = t.up.Name, t.model, true
	out, _ := json.Marshal(map[string]int{"input_tokens": n})
	c.ctx.Response.Header.Set("X-Hypergate-Estimated", "true")
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(out)
	c.finish(200)
}

// requestTexts lists the texts of a request that count as input: system
// prompt, messages (text, thinking, tool calls and results) and tool
// definitions.
func requestTexts(r *llm.Request) []string {
	var out []string
	var sys string
	for _, p := range r.System {
		sys += p.Text
	}
	if sys != "" {
		out = append(out, sys)
	}
	for _, m := range r.Messages {
		text := ""
		for _, p := range m.Parts {
			text += p.Text
		}
		for _, tc := range m.ToolCalls {
			text += tc.Name + tc.Arguments
		}
		out = append(out, text)
	}
	for _, t := range r.Tools {
		out = append(out, t.Name+t.Description+string(t.Parameters))
	}
	return out
}
