package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/prompt"
)

// This file serves the prompt APIs (the configuration's prompts section):
//
//	POST /v1/prompts/{name}               call a prompt
//	GET  /v1/prompts/{name}/openapi.json  its generated OpenAPI document
//	GET  /v1/prompts                      the prompts this key may call
//
// A call is turned into an OpenAI chat completion request for the model of
// the version that answers, and that request replaces the body of the
// client's request before the ordinary chat pipeline (proxy) runs: routing,
// fallbacks, translation, streaming, policies, cache and call records are
// the same as for /v1/chat/completions, with no second copy of them. The
// call record's request body is therefore the rendered chat request — what
// the model was asked, which is what reviewers and detectors read — and
// its request_bytes the size of the body the client sent; prompt and
// prompt_version say which template produced it.

const promptsPath = "/v1/prompts"

// isPromptPath reports whether path is one of the prompt APIs'.
func isPromptPath(path []byte) bool {
	p := string(path)
	return p == promptsPath || strings.HasPrefix(p, promptsPath+"/")
}

// compilePrompts compiles the configuration's prompts by name.
func compilePrompts(cfg *config.Config) (map[string]*prompt.Prompt, []string, error) {
	out := make(map[string]*prompt.Prompt, len(cfg.Prompts))
	names := make([]string, 0, len(cfg.Prompts))
	for _, p := range cfg.Prompts {
		cp, err := prompt.Compile(p)
		if err != nil {
			return nil, nil, err
		}
		out[p.Name] = cp
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return out, names, nil
}

// servePrompt routes a request under /v1/prompts.
func (g *Gateway) servePrompt(c *call) {
	c.in = openaiInbound
	rest := strings.TrimPrefix(string(c.ctx.Path()), promptsPath)
	switch {
	case rest == "" || rest == "/":
		if c.method(fasthttp.MethodGet) {
			g.listPrompts(c)
		}
	case strings.HasSuffix(rest, "/openapi.json") && strings.Count(rest, "/") == 2:
		if c.method(fasthttp.MethodGet) {
			g.promptOpenAPI(c, strings.TrimSuffix(rest[1:], "/openapi.json"))
		}
	case strings.Count(rest, "/") == 1:
		if c.method(fasthttp.MethodPost) {
			g.callPrompt(c, rest[1:])
		}
	default:
		g.serveRoute(c) // not a prompt API's shape: the services' routes, or 404
	}
}

// findPrompt authenticates the request and finds the prompt it names,
// answering 401, 404 or 403 itself. A key may use a prompt when it may use
// the models of every version that can answer: which of them answers a
// given call is the split's choice, not the client's. Only calls (not
// fetches of the document) are attributed to the prompt in their record,
// so that listing a prompt's calls lists calls of its model.
func (g *Gateway) findPrompt(c *call, name string, calling bool) (*prompt.Prompt, bool) {
	s, cons, ok := g.admit(c)
	if !ok {
		return nil, false
	}
	p := s.prompts[name]
	if p == nil {
		c.fail(&apiError{Status: 404, Type: errNotFound, Code: "prompt_not_found",
			Message: fmt.Sprintf("The prompt '%s' does not exist.", truncate(name, 256))})
		return nil, false
	}
	if calling {
		c.rec.Prompt = p.Name
	}
	if !consumerMayCall(cons, p) {
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "prompt_not_allowed",
			Message: fmt.Sprintf("This key may not use the prompt '%s'.", p.Name)})
		return nil, false
	}
	return p, true
}

func consumerMayCall(cons *consumer, p *prompt.Prompt) bool {
	for _, m := range p.Models() {
		if !cons.allows(m) {
			return false
		}
	}
	return true
}

// callPrompt answers POST /v1/prompts/{name}: the version is picked by the
// request id (a client that retries with the same X-Request-Id reaches the
// same version), the variables are checked against every live version, and
// the rendered chat request goes through proxy.
func (g *Gateway) callPrompt(c *call, name string) {
	p, ok := g.findPrompt(c, name, true)
	if !ok {
		return
	}
	v := p.Pick(c.rec.ID)
	c.rec.PromptVersion = v.Number
	c.rec.Model = v.Model
	in, err := prompt.ParseCall(c.ctx.Request.Body())
	var vals prompt.Values
	if err == nil {
		vals, err = p.Bind(in.Variables)
	}
	var body []byte
	if err == nil {
		body, err = v.ChatRequest(vals, in.Messages, in.Stream)
	}
	if err != nil {
		var pe *prompt.Error
		if errors.As(err, &pe) {
			c.fail(&apiError{Status: 400, Type: errInvalidRequest, Code: pe.Code, Param: pe.Path, Message: pe.Error()})
		} else {
			c.fail(&apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err, Message: "the prompt could not be rendered"})
		}
		return
	}
	c.ctx.Request.SetBody(body)
	g.proxy(c, opChat, openaiInbound)
}

// promptOpenAPI answers GET /v1/prompts/{name}/openapi.json.
func (g *Gateway) promptOpenAPI(c *call, name string) {
	p, ok := g.findPrompt(c, name, false)
	if !ok {
		return
	}
	doc := p.OpenAPI()
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(doc)
	c.rec.ResponseBytes = int64(len(doc))
	c.finish(200)
}

// listPrompts answers GET /v1/prompts with the prompts this key may call,
// in OpenAI's list shape.
func (g *Gateway) listPrompts(c *call) {
	s, cons, ok := g.admit(c)
	if !ok {
		return
	}
	type entry struct {
		Name        string `json:"name"`
		Object      string `json:"object"`
		Description string `json:"description,omitempty"`
		Team        string `json:"team,omitempty"`
		Version     int    `json:"version"`
		Model       string `json:"model"`
		URL         string `json:"url"`
		OpenAPI     string `json:"openapi_url"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []entry `json:"data"`
	}{Object: "list", Data: []entry{}}
	for _, name := range s.promptList {
		p := s.prompts[name]
		if !consumerMayCall(cons, p) {
			continue
		}
		out.Data = append(out.Data, entry{Name: p.Name, Object: "prompt", Description: p.Description, Team: p.Team,
			Version: p.Release.Number, Model: p.Release.Model, URL: prompt.Path(p.Name), OpenAPI: prompt.Path(p.Name) + "/openapi.json"})
	}
	b, _ := json.Marshal(out)
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(b)
	c.rec.ResponseBytes = int64(len(b))
	c.finish(200)
}
