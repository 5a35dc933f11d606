package console

import (
	"strings"
	"testing"
)

func TestParseAPIDoc(t *testing.T) {
	const yamlDoc = `
openapi: 3.0.3
info: { title: Pets, version: "1" }
servers: [ { url: /pets-api } ]
paths:
  /pets/{id}:
    parameters:
      - { name: id, in: path, schema: { type: string } }
    get:
      summary: Read a pet
      responses:
        200:
          description: A pet
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
    delete:
      tags: [admin]
      responses: { 204: { description: Gone } }
components:
  schemas:
    Pet:
      allOf:
        - { $ref: "#/components/schemas/Named" }
        - type: object
          properties:
            kind: { type: string, enum: [cat, dog] }
            friends: { type: array, items: { $ref: "#/components/schemas/Pet" } }
            tag: { oneOf: [ { type: string }, { type: integer } ] }
    Named:
      type: object
      required: [name]
      properties: { name: { type: [string, "null"] } }
`
	d, err := parseAPIDoc([]byte(yamlDoc))
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "Pets" || d.Base != "/pets-api" || len(d.Groups) != 2 || d.Groups[0].Tag != "Operations" || d.Groups[1].Tag != "admin" {
		t.Fatalf("doc: %+v", d)
	}
	get := d.Groups[0].Ops[0]
	if get.Method != "GET" || len(get.Params) != 1 || !get.Params[0].Required || get.ID != "op-GET-pets-id" {
		t.Errorf("GET: %+v", get)
	}
	if len(get.Responses) != 1 || get.Responses[0].Code != "200" || get.Responses[0].Schema == nil {
		t.Fatalf("responses: %+v", get.Responses)
	}
	var got []string
	for _, f := range get.Responses[0].Schema.Fields {
		got = append(got, strings.Repeat(">", f.Depth)+f.Name+":"+f.Type)
	}
	// Pet's friends are Pets: not shown again inside Pet.
	want := "friends:array of Pet|kind:string; one of cat, dog|name:string or null|tag:one of: string, integer"
	if strings.Join(got, "|") != want {
		t.Errorf("fields:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	if del := d.Groups[1].Ops[0]; del.Responses[0].Description != "Gone" {
		t.Errorf("DELETE: %+v", del)
	}
}

func FuzzParseAPIDoc(f *testing.F) {
	f.Add([]byte(`{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}}`))
	f.Add([]byte("openapi: 3.0.0\npaths: {/a: {post: {requestBody: {$ref: '#/components/requestBodies/B'}}}}\ncomponents: {requestBodies: {B: {$ref: '#/components/requestBodies/B'}}}"))
	f.Add([]byte(`{"paths":{"/a":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}},"components":{"schemas":{"A":{"allOf":[{"$ref":"#/components/schemas/A"}]}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseAPIDoc(b) // must end, without panicking
	})
}
