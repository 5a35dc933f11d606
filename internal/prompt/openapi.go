package prompt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// obj is a JSON object of the OpenAPI document; encoding/json writes its
// keys sorted, which keeps the document byte-for-byte stable.
type obj = map[string]any

// Path is the URL path of a prompt's endpoint.
func Path(name string) string { return "/v1/prompts/" + name }

// document builds the prompt's OpenAPI 3.1 document: its one endpoint, the
// variables as a JSON Schema, and OpenAI's chat completion as the answer.
func (p *Prompt) document() obj {
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Prompt API " + p.Name,
			"version":     strconv.Itoa(p.Release.Number),
			"description": p.summary(),
		},
		"paths": obj{
			Path(p.Name): obj{
				"post": obj{
					"operationId": "call_" + strings.NewReplacer("-", "_", ".", "_").Replace(p.Name),
					"summary":     firstNonEmpty(p.Description, "Call the prompt "+p.Name),
					"description": p.summary(),
					"security":    []any{obj{"bearerAuth": []any{}}},
					"requestBody": obj{
						"required": true,
						"content": obj{"application/json": obj{
							"schema": ref("PromptCall"),
						}},
					},
					"responses": obj{
						"200": obj{
							"description": "The model's answer: a chat completion, or with \"stream\": true a stream of chat completion chunks as server-sent events, ending with \"data: [DONE]\".",
							"headers": obj{"X-Request-Id": obj{
								"description": "The call's id; feedback on the answer refers to it.",
								"schema":      obj{"type": "string"},
							}},
							"content": obj{
								"application/json": obj{"schema": ref("ChatCompletion")},
								"text/event-stream": obj{"schema": obj{
									"type":        "string",
									"description": "Server-sent events; the data of each is a ChatCompletionChunk.",
								}},
							},
						},
						"400":     errorResponse("The body is not a valid call: a variable is missing, unknown or of the wrong type, or a field is unknown. The error's param names it, as in variables.text."),
						"401":     errorResponse("No API key, or one the gateway does not know."),
						"403":     errorResponse("This key may not call the prompt (its models are not allowed)."),
						"404":     errorResponse("No prompt of this name."),
						"429":     errorResponse("A rate limit, quota or budget was reached; Retry-After says when to try again."),
						"default": errorResponse("The model's upstream failed or could not be reached."),
					},
				},
			},
		},
		"components": obj{
			"securitySchemes": obj{"bearerAuth": obj{
				"type": "http", "scheme": "bearer",
				"description": "A consumer key of the gateway.",
			}},
			"schemas": obj{
				"PromptCall":          p.callSchema(),
				"Variables":           p.variablesSchema(),
				"ChatMessage":         chatMessageSchema,
				"ChatCompletion":      chatCompletionSchema,
				"ChatCompletionChunk": chatCompletionChunkSchema,
				"Error":               errorSchema,
			},
		},
	}
}

// summary describes what a call does, for people reading the document.
func (p *Prompt) summary() string {
	var b strings.Builder
	if p.Description != "" {
		b.WriteString(strings.TrimRight(p.Description, ". ") + ".\n\n")
	}
	fmt.Fprintf(&b, "Renders the prompt's template with the variables and sends it to the model %s (version %d).", p.Release.Model, p.Release.Number)
	if p.Canary != nil {
		fmt.Fprintf(&b, " Version %d (model %s) answers %s %% of the calls.", p.Canary.Number, p.Canary.Model,
			strconv.FormatFloat(p.CanaryPercent, 'f', -1, 64))
	}
	b.WriteString(" Extra messages go after the rendered user message. The answer is an OpenAI chat completion.")
	return b.String()
}

func (p *Prompt) callSchema() obj {
	s := obj{
		"type":                 "object",
		"additionalProperties": false,
		"properties": obj{
			"variables": ref("Variables"),
			"messages": obj{
				"type":        "array",
				"description": "OpenAI-format chat messages sent after the rendered user message.",
				"items":       ref("ChatMessage"),
			},
			"stream": obj{
				"type":        "boolean",
				"default":     false,
				"description": "Answer with server-sent events.",
			},
		},
	}
	for _, cv := range p.contract {
		if cv.required() {
			s["required"] = []string{"variables"}
			break
		}
	}
	return s
}

func (p *Prompt) variablesSchema() obj {
	props := obj{}
	required := []string{}
	for _, cv := range p.contract {
		props[cv.name] = cv.schema()
		if cv.required() {
			required = append(required, cv.name)
		}
	}
	s := obj{
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// schema is the variable's JSON Schema. When the live versions declare it
// differently a value must suit each of them (Bind checks them all), which
// is what allOf says.
func (cv *contractVar) schema() obj {
	first := cv.decls[0].schema()
	fb, _ := json.Marshal(first)
	var all []any
	same := true
	for _, d := range cv.decls {
		s := d.schema()
		b, _ := json.Marshal(s)
		same = same && bytes.Equal(b, fb)
		all = append(all, s)
	}
	if same {
		return first
	}
	return obj{
		"description": "Declared differently by the versions that answer; a value must suit each.",
		"allOf":       all,
	}
}

func (d *Variable) schema() obj {
	s := obj{"type": d.Type}
	if d.Description != "" {
		s["description"] = d.Description
	}
	if len(d.Enum) > 0 {
		vals := make([]any, len(d.Enum))
		for i, e := range d.Enum {
			vals[i] = d.typed(e)
		}
		s["enum"] = vals
	}
	if d.MaxLength > 0 {
		s["maxLength"] = d.MaxLength
	}
	if d.Default != "" {
		s["default"] = d.typed(d.Default)
	}
	return s
}

// typed turns a value written in the configuration (checked at Compile)
// into a JSON value of the variable's type.
func (d *Variable) typed(s string) any {
	switch d.Type {
	case config.VarInteger:
		n, _, _ := parseInteger(s)
		return n
	case config.VarNumber:
		return json.Number(s)
	case config.VarBoolean:
		return s == "true"
	}
	return s
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func errorResponse(desc string) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The schemas below are OpenAI's, trimmed to what a client of a prompt
// reads; the gateway passes the model's answer through in this shape
// whatever the upstream's own format.

var nullableString = obj{"type": []string{"string", "null"}}

var chatMessageSchema = obj{
	"type":                 "object",
	"required":             []string{"role"},
	"additionalProperties": true,
	"properties": obj{
		"role": obj{"type": "string", "description": "user, assistant, system, developer or tool"},
		"content": obj{
			"description": "The text, or an array of content parts.",
			"type":        []string{"string", "array", "null"},
		},
		"name":         obj{"type": "string"},
		"tool_call_id": obj{"type": "string"},
		"tool_calls":   obj{"type": "array", "items": obj{"type": "object"}},
	},
}

var usageSchema = obj{
	"type":     "object",
	"required": []string{"prompt_tokens", "completion_tokens", "total_tokens"},
	"properties": obj{
		"prompt_tokens":     obj{"type": "integer"},
		"completion_tokens": obj{"type": "integer"},
		"total_tokens":      obj{"type": "integer"},
	},
}

var chatCompletionSchema = obj{
	"type":     "object",
	"required": []string{"id", "object", "created", "model", "choices"},
	"properties": obj{
		"id":                 obj{"type": "string"},
		"object":             obj{"const": "chat.completion"},
		"created":            obj{"type": "integer"},
		"model":              obj{"type": "string"},
		"system_fingerprint": nullableString,
		"choices": obj{
			"type": "array",
			"items": obj{
				"type":     "object",
				"required": []string{"index", "message", "finish_reason"},
				"properties": obj{
					"index": obj{"type": "integer"},
					"message": obj{
						"type":     "object",
						"required": []string{"role", "content"},
						"properties": obj{
							"role":       obj{"const": "assistant"},
							"content":    nullableString,
							"refusal":    nullableString,
							"tool_calls": obj{"type": "array", "items": obj{"type": "object"}},
						},
					},
					"finish_reason": nullableString,
					"logprobs":      obj{"type": []string{"object", "null"}},
				},
			},
		},
		"usage": usageSchema,
	},
}

var chatCompletionChunkSchema = obj{
	"type":     "object",
	"required": []string{"id", "object", "created", "model", "choices"},
	"properties": obj{
		"id":      obj{"type": "string"},
		"object":  obj{"const": "chat.completion.chunk"},
		"created": obj{"type": "integer"},
		"model":   obj{"type": "string"},
		"choices": obj{
			"type": "array",
			"items": obj{
				"type":     "object",
				"required": []string{"index", "delta"},
				"properties": obj{
					"index": obj{"type": "integer"},
					"delta": obj{
						"type": "object",
						"properties": obj{
							"role":       obj{"type": "string"},
							"content":    nullableString,
							"tool_calls": obj{"type": "array", "items": obj{"type": "object"}},
						},
					},
					"finish_reason": nullableString,
				},
			},
		},
		"usage": obj{"oneOf": []any{usageSchema, obj{"type": "null"}}},
	},
}

var errorSchema = obj{
	"type":     "object",
	"required": []string{"error"},
	"properties": obj{
		"error": obj{
			"type":     "object",
			"required": []string{"message", "type"},
			"properties": obj{
				"message": obj{"type": "string"},
				"type":    obj{"type": "string"},
				"param":   obj{"type": []string{"string", "null"}, "description": "What the error is about, as variables.text."},
				"code":    nullableString,
			},
		},
	},
}
