package openaispec

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestPrepare(t *testing.T) {
	tests := []struct {
		name string
		self string
		in   string
		want string
	}{
		{
			name: "nullable string gains null type",
			in:   `{"type":"string","nullable":true}`,
			want: `{"type":["string","null"]}`,
		},
		{
			name: "nullable enum gains null member",
			in:   `{"type":"string","enum":["stop","length"],"nullable":true}`,
			want: `{"type":["string","null"],"enum":["stop","length",null]}`,
		},
		{
			name: "nullable type list gains null once",
			in:   `{"type":["string","null"],"nullable":true}`,
			want: `{"type":["string","null"]}`,
		},
		{
			name: "nullable false is dropped",
			in:   `{"type":"integer","nullable":false}`,
			want: `{"type":"integer"}`,
		},
		{
			name: "nullable ref is wrapped and keeps its description outside",
			in:   `{"$ref":"#/components/schemas/U","nullable":true,"description":"d","x-k":1}`,
			want: `{"description":"d","x-k":1,"anyOf":[{"$ref":"#/components/schemas/U"},{"type":"null"}]}`,
		},
		{
			name: "nullable anyOf gains a null alternative",
			in:   `{"anyOf":[{"type":"string"},{"type":"integer"}],"nullable":true,"title":"t"}`,
			want: `{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"null"}],"title":"t"}`,
		},
		{
			name: "nullable anyOf already allowing null is unchanged",
			in:   `{"anyOf":[{"type":"string"},{"type":"null"}],"nullable":true}`,
			want: `{"anyOf":[{"type":"string"},{"type":"null"}]}`,
		},
		{
			name: "nullable oneOf is wrapped so null cannot match twice",
			in:   `{"oneOf":[{"type":"string"},{"type":"integer"}],"nullable":true}`,
			want: `{"anyOf":[{"oneOf":[{"type":"string"},{"type":"integer"}]},{"type":"null"}]}`,
		},
		{
			name: "nullable without type or enum already admits null",
			in:   `{"description":"anything","nullable":true}`,
			want: `{"description":"anything"}`,
		},
		{
			name: "nested property schemas are rewritten",
			in:   `{"type":"object","properties":{"a":{"type":"array","items":{"type":"number","nullable":true},"nullable":true}}}`,
			want: `{"type":"object","properties":{"a":{"type":["array","null"],"items":{"type":["number","null"]}}}}`,
		},
		{
			name: "a property named nullable is a schema, not the keyword",
			in:   `{"type":"object","properties":{"nullable":{"type":"boolean"}}}`,
			want: `{"type":"object","properties":{"nullable":{"type":"boolean"}}}`,
		},
		{
			name: "examples and enums are data and stay untouched",
			in:   `{"type":"object","example":{"type":"string","nullable":true},"default":{"nullable":true}}`,
			want: `{"type":"object","example":{"type":"string","nullable":true},"default":{"nullable":true}}`,
		},
		{
			name: "boolean exclusiveMinimum becomes the bound",
			in:   `{"type":"number","minimum":0,"maximum":2,"exclusiveMinimum":true}`,
			want: `{"type":"number","exclusiveMinimum":0,"maximum":2}`,
		},
		{
			name: "false exclusiveMaximum is dropped",
			in:   `{"type":"number","maximum":2,"exclusiveMaximum":false}`,
			want: `{"type":"number","maximum":2}`,
		},
		{
			name: "numeric exclusiveMinimum is already 2020-12",
			in:   `{"type":"number","exclusiveMinimum":1}`,
			want: `{"type":"number","exclusiveMinimum":1}`,
		},
		{
			name: "duplicate required entries are dropped",
			in:   `{"type":"object","required":["id","object","id"]}`,
			want: `{"type":"object","required":["id","object"]}`,
		},
		{
			name: "recursive anchor becomes a ref to the enclosing component",
			self: "CompoundFilter",
			in:   `{"$recursiveAnchor":true,"type":"object","properties":{"filters":{"type":"array","items":{"oneOf":[{"type":"string"},{"$recursiveRef":"#"}]}}}}`,
			want: `{"type":"object","properties":{"filters":{"type":"array","items":{"oneOf":[{"type":"string"},{"$ref":"#/components/schemas/CompoundFilter"}]}}}}`,
		},
		{
			name: "boolean schema is left alone",
			in:   `true`,
			want: `true`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in, want any
			if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
				t.Fatalf("bad input: %v", err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			got := prepare(in, tt.self)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				t.Errorf("prepare(%s)\n got %s\nwant %s", tt.in, g, tt.want)
			}
		})
	}
}

func TestToJSON(t *testing.T) {
	stamp := time.Date(2025, 10, 6, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr bool
	}{
		{name: "int becomes exact number", in: 3, want: json.Number("3")},
		{name: "large uint stays exact", in: uint64(math.MaxUint64), want: json.Number("18446744073709551615")},
		{name: "float stays float", in: 1e-05, want: 1e-05},
		{name: "timestamp becomes text", in: stamp, want: "2025-10-06T00:00:00Z"},
		{name: "non-string keys become text", in: map[any]any{200: "ok", true: 1}, want: map[string]any{"200": "ok", "true": json.Number("1")}},
		{name: "nested list", in: []any{nil, false, map[string]any{"a": 1}}, want: []any{nil, false, map[string]any{"a": json.Number("1")}}},
		{name: "infinity has no JSON form", in: math.Inf(1), wantErr: true},
		{name: "not-a-number has no JSON form", in: []any{math.NaN()}, wantErr: true},
		{name: "foreign type is refused", in: struct{}{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toJSON(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("toJSON(%v) = %v, want error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("toJSON(%v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("toJSON(%v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}
