package gateway

import (
	"encoding/json"
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
