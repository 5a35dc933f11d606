package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		err              error
	}{
		{"already canonical", `{"a":1,"b":[true,false,null]}`, `{"a":1,"b":[true,false,null]}`, nil},
		{"key order", `{"model":"m","messages":[],"temperature":0}`, `{"messages":[],"model":"m","temperature":0}`, nil},
		{"nested key order", `{"x":{"b":1,"a":{"d":2,"c":3}}}`, `{"x":{"a":{"c":3,"d":2},"b":1}}`, nil},
		{"array order is kept", `{"a":[3,1,2]}`, `{"a":[3,1,2]}`, nil},
		{"whitespace", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":{ } }\n", `{"a":[1,2],"b":{}}`, nil},
		{"numbers kept as written", `{"a":1.0,"b":1e2,"c":-0,"d":10000000000000000000001}`, `{"a":1.0,"b":1e2,"c":-0,"d":10000000000000000000001}`, nil},
		{"string escapes unified", `{"a":"\u0041\/\u00e9","b":"tab\tquote\"nul\u0000"}`, `{"a":"A/é","b":"tab\tquote\"nul\u0000"}`, nil},
		{"escaped key is unescaped", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`, nil},
		{"duplicate key: the last wins", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`, nil},
		{"ignored fields left out", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"user":"u-1","metadata":{"user_id":"x"},"n":1}`, `{"model":"m","n":1}`, nil},
		{"ignored only at the top level", `{"tools":[{"user":1,"stream":2,"metadata":3}]}`, `{"tools":[{"metadata":3,"stream":2,"user":1}]}`, nil},
		{"escaped ignored field", `{"str\u0065am":true,"a":1}`, `{"a":1}`, nil},
		{"html is not escaped", `{"a":"<b>&amp;</b>"}`, `{"a":"<b>&amp;</b>"}`, nil},
		{"unicode kept raw", `{"a":"日本語 😀 \u2028"}`, "{\"a\":\"日本語 😀 \u2028\"}", nil},
		{"empty object", `{}`, `{}`, nil},
		{"array body", `[1]`, "", ErrNotObject},
		{"string body", `"x"`, "", ErrNotObject},
		{"truncated", `{"a":`, "", ErrInvalidJSON},
		{"trailing garbage", `{"a":1} x`, "", ErrInvalidJSON},
		{"empty", ``, "", ErrInvalidJSON},
		{"too deep", `{"a":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, "", ErrTooDeep},
		{"deep but allowed", `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`,
			`{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(nil, []byte(tc.body))
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if tc.err == nil && string(got) != tc.want {
				t.Fatalf("Normalize =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// key computes a key for a request with defaults for what a case leaves
// empty.
func key(t *testing.T, r Request) Key {
	t.Helper()
	if r.Model == "" {
		r.Model = "gpt-4o-mini"
	}
	if r.Format == "" {
		r.Format = OpenAIChat
	}
	if r.Consumer == "" {
		r.Consumer = "web-shop"
	}
	k, err := r.Key()
	if err != nil {
		t.Fatalf("Key(%+v): %v", r, err)
	}
	return k
}

const chat = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"temperature":0.7}`

func TestKeySameAnswer(t *testing.T) {
	base := Request{Body: []byte(chat)}
	for _, tc := range []struct {
		name string
		r    Request
	}{
		{"key order", Request{Body: []byte(`{"temperature":0.7,"messages":[{"content":"hello","role":"user"}],"model":"gpt-4o-mini"}`)}},
		{"whitespace", Request{Body: []byte("{ \"model\" : \"gpt-4o-mini\",\n \"messages\":[ {\"role\":\"user\", \"content\":\"hello\"} ],\n\t\"temperature\": 0.7 }")}},
		{"user and metadata", Request{Body: []byte(`{"model":"gpt-4o-mini","user":"end-user-7","metadata":{"ticket":"9"},"messages":[{"role":"user","content":"hello"}],"temperature":0.7}`)}},
		{"stream false is no stream", Request{Body: []byte(`{"model":"gpt-4o-mini","stream":false,"messages":[{"role":"user","content":"hello"}],"temperature":0.7}`)}},
		{"stream options on a whole answer", Request{Body: []byte(`{"model":"gpt-4o-mini","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}],"temperature":0.7}`)}},
		{"escapes", Request{Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"h\u0065llo"}],"temperature":0.7}`)}},
		{"shared ignores the consumer", Request{Body: []byte(chat), Shared: true, Consumer: "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := key(t, base)
			if tc.r.Shared {
				want = key(t, Request{Body: []byte(chat), Shared: true, Consumer: "b"})
			}
			if got := key(t, tc.r); got != want {
				t.Fatal("different keys for the same answer")
			}
		})
	}
}

func TestKeyDifferentAnswer(t *testing.T) {
	base := Request{Body: []byte(chat)}
	streamed := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}],"temperature":0.7}`
	for _, tc := range []struct {
		name string
		r    Request
	}{
		{"another model", Request{Model: "gpt-4o", Body: []byte(chat)}},
		{"another consumer", Request{Consumer: "mobile", Body: []byte(chat)}},
		{"shared and own", Request{Shared: true, Body: []byte(chat)}},
		{"anthropic format", Request{Format: AnthropicMessages, Body: []byte(chat)}},
		{"responses format", Request{Format: OpenAIResponses, Body: []byte(chat)}},
		{"embeddings format", Request{Format: OpenAIEmbeddings, Body: []byte(chat)}},
		{"streamed", Request{Stream: true, Body: []byte(streamed)}},
		{"another temperature", Request{Body: []byte(strings.Replace(chat, "0.7", "0.8", 1))}},
		{"number written otherwise", Request{Body: []byte(strings.Replace(chat, "0.7", "0.70", 1))}},
		{"another message", Request{Body: []byte(strings.Replace(chat, "hello", "hello!", 1))}},
		{"message order", Request{Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"},{"role":"user","content":"x"}],"temperature":0.7}`)}},
		{"a nested user field counts", Request{Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello","user":"x"}],"temperature":0.7}`)}},
		{"consumer name cannot run into the model", Request{Model: "gpt-4o-miniweb", Consumer: "-shop", Body: []byte(chat)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if key(t, tc.r) == key(t, base) {
				t.Fatal("same key for a different answer")
			}
		})
	}
}

func TestKeyStreamOptions(t *testing.T) {
	body := func(opts string) []byte {
		return []byte(`{"model":"m","stream":true,` + opts + `"messages":[{"role":"user","content":"x"}]}`)
	}
	plain := key(t, Request{Stream: true, Body: body("")})
	usage := key(t, Request{Stream: true, Body: body(`"stream_options":{"include_usage":true},`)})
	usageAgain := key(t, Request{Stream: true, Body: body(`"stream_options": { "include_usage" : true },`)})
	if plain == usage {
		t.Error("a stream with the usage chunk and one without share a key")
	}
	if usage != usageAgain {
		t.Error("stream_options written differently gave different keys")
	}
}

func TestKeySeveralChoices(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		err        error
	}{
		{"n absent", `{"model":"m"}`, nil},
		{"n 1", `{"model":"m","n":1}`, nil},
		{"n 2", `{"model":"m","n":2}`, ErrSeveralChoices},
		{"n 1.5", `{"model":"m","n":1.5}`, ErrSeveralChoices},
		{"n not a number", `{"model":"m","n":"2"}`, nil},
		{"nested n", `{"model":"m","x":{"n":5}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Request{Model: "m", Format: OpenAIChat, Body: []byte(tc.body)}).Key()
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestIgnoredIsSorted(t *testing.T) {
	if !slices.IsSorted(Ignored) {
		t.Fatal("Ignored should stay sorted: the documentation lists it in order")
	}
}

// FuzzNormalize feeds the normaliser untrusted bodies. Whatever it
// accepts, its output is valid JSON that means what the input meant, minus
// the ignored fields, and normalising it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		chat, `{}`, `{"a":1,"a":2}`, `{"b":{"d":[1,{"z":null,"y":true}],"c":"\u00e9\n"},"a":-1.5e-3}`,
		`{"stream":true,"user":"x","metadata":{},"stream_options":{"include_usage":true}}`,
		"{\"a\":\"\xff\xfe\"}", `{"\ud83d\ude00":"\ud800"}`, `[1]`, `{"a":`, ` { "a" : [ ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := Normalize(nil, body)
		if err != nil {
			if json.Valid(body) && bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) && !errors.Is(err, ErrTooDeep) {
				t.Fatalf("refused a valid object %q: %v", body, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %q from %q", out, body)
		}
		again, err := Normalize(nil, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q (%v)", out, again, err)
		}
		if !json.Valid(body) {
			return // gjson is more lenient in corners; meaning is only defined for valid JSON
		}
		want, got := decode(t, body), decode(t, out)
		if m, ok := want.(map[string]any); ok {
			for _, k := range Ignored {
				delete(m, k)
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("meaning changed:\n in  %q\n out %q", body, out)
		}
	})
}

func decode(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

func BenchmarkKey(b *testing.B) {
	r := Request{Model: "gpt-4o-mini", Consumer: "web-shop", Format: OpenAIChat,
		Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the following text in two sentences: the quick brown fox jumps over the lazy dog."}],"temperature":0,"max_tokens":200}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Key(); err != nil {
			b.Fatal(err)
		}
	}
}
