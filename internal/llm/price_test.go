package llm

import (
	"math"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLookupPrice(t *testing.T) {
	tests := []struct {
		name  string
		model string
		want  string // the table key expected to match; "" for unknown
	}{
		{name: "exact", model: "gpt-4o-mini", want: "gpt-4o-mini"},
		{name: "OpenAI dated snapshot", model: "gpt-4o-mini-2024-07-18", want: "gpt-4o-mini"},
		{name: "exact snapshot with its own price wins", model: "gpt-4o-2024-05-13", want: "gpt-4o-2024-05-13"},
		{name: "later gpt-4o snapshot", model: "gpt-4o-2024-11-20", want: "gpt-4o"},
		{name: "provider prefix", model: "openai/gpt-4.1-nano", want: "gpt-4.1-nano"},
		{name: "prefix and date", model: "openai/gpt-5-mini-2025-08-07", want: "gpt-5-mini"},
		{name: "nested routing prefix", model: "openrouter/openai/o4-mini", want: "o4-mini"},
		{name: "prefixed snapshot with its own price", model: "azure/gpt-4o-2024-05-13", want: "gpt-4o-2024-05-13"},
		{name: "upper case", model: "GPT-4o", want: "gpt-4o"},
		{name: "surrounding space", model: " o3 ", want: "o3"},
		{name: "four-digit snapshot", model: "gpt-4-0613", want: "gpt-4"},
		{name: "preview listed exactly", model: "gpt-4-1106-preview", want: "gpt-4-1106-preview"},
		{name: "o-series snapshot", model: "o3-mini-2025-01-31", want: "o3-mini"},
		{name: "latest alias", model: "chatgpt-4o-latest", want: "chatgpt-4o-latest"},
		{name: "embedding", model: "text-embedding-3-large", want: "text-embedding-3-large"},
		{name: "embedding ada with prefix", model: "openai/text-embedding-ada-002", want: "text-embedding-ada-002"},
		{name: "Anthropic dated", model: "claude-sonnet-4-5-20250929", want: "claude-sonnet-4-5"},
		{name: "Anthropic opus 4.1", model: "claude-opus-4-1-20250805", want: "claude-opus-4-1"},
		{name: "Anthropic opus 4", model: "claude-opus-4-20250514", want: "claude-opus-4"},
		{name: "Anthropic latest", model: "claude-3-5-sonnet-latest", want: "claude-3-5-sonnet"},
		{name: "Anthropic dotted on OpenRouter", model: "anthropic/claude-3.7-sonnet", want: "claude-3-7-sonnet"},
		{name: "Anthropic dotted 4.5", model: "anthropic/claude-haiku-4.5", want: "claude-haiku-4-5"},
		{name: "Bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", want: "claude-3-5-haiku"},
		{name: "Bedrock cross-region", model: "us.anthropic.claude-sonnet-4-20250514-v1:0", want: "claude-sonnet-4"},
		{name: "Vertex", model: "claude-sonnet-4@20250514", want: "claude-sonnet-4"},
		{name: "Vertex v2", model: "claude-3-5-sonnet-v2@20241022", want: "claude-3-5-sonnet"},
		{name: "Gemini API prefix", model: "models/gemini-2.5-pro", want: "gemini-2.5-pro"},
		{name: "Gemini numbered version", model: "gemini-1.5-flash-002", want: "gemini-1.5-flash"},
		{name: "Gemini flash-lite version", model: "gemini-2.0-flash-lite-001", want: "gemini-2.0-flash-lite"},
		{name: "Gemini 2.5 flash", model: "google/gemini-2.5-flash", want: "gemini-2.5-flash"},
		{name: "Mistral latest alias moved to Large 3", model: "mistral-large-latest", want: "mistral-large-2512"},
		{name: "Mistral Large 2 snapshot", model: "mistral-large-2411", want: "mistral-large"},
		{name: "Mistral dated", model: "mistral-small-2503", want: "mistral-small"},
		{name: "Mistral old small priced on its own", model: "mistral-small-2409", want: "mistral-small-2409"},
		{name: "Groq Llama", model: "groq/llama-3.3-70b-versatile", want: "llama-3.3-70b-versatile"},
		{name: "Groq Llama 8B", model: "llama-3.1-8b-instant", want: "llama-3.1-8b-instant"},
		{name: "Groq legacy name", model: "llama3-8b-8192", want: "llama3-8b-8192"},

		{name: "unknown", model: "my-finetune", want: ""},
		{name: "empty", model: "", want: ""},
		{name: "only a prefix", model: "openai/", want: ""},
		{name: "similar name is not guessed", model: "o4", want: ""},
		{name: "variant is not guessed", model: "gpt-4o-mini-search-preview", want: ""},
		{name: "size suffix is not a version", model: "gpt-4-32k", want: ""},
		{name: "other vendor on Bedrock at Bedrock's price", model: "meta.llama3-70b-instruct-v1:0", want: "meta.llama3-70b-instruct"},
		{name: "other vendor on Bedrock cross-region", model: "us.meta.llama3-3-70b-instruct-v1:0", want: "meta.llama3-3-70b-instruct"},
		{name: "Bedrock Nova", model: "amazon.nova-pro-v1:0", want: "amazon.nova-pro"},
		{name: "Bedrock Nova cross-region", model: "eu.amazon.nova-lite-v1:0", want: "amazon.nova-lite"},
		{name: "Bedrock Mistral with v0 version", model: "mistral.mistral-7b-instruct-v0:2", want: "mistral.mistral-7b-instruct"},
		{name: "Bedrock dated Mistral", model: "mistral.mistral-large-2402-v1:0", want: "mistral.mistral-large-2402"},
		{name: "Bedrock Cohere", model: "cohere.command-r-plus-v1:0", want: "cohere.command-r-plus"},
		{name: "Bedrock gpt-oss named in full", model: "openai.gpt-oss-120b-1:0", want: "openai.gpt-oss-120b-1:0"},
		{name: "Bedrock embedding version named in full", model: "amazon.titan-embed-text-v2:0", want: "amazon.titan-embed-text-v2:0"},
		{name: "Bedrock Japan region", model: "jp.anthropic.claude-sonnet-4-5-20250929-v1:0", want: "claude-sonnet-4-5"},
		{name: "Bedrock GovCloud region", model: "us-gov.anthropic.claude-3-haiku-20240307-v1:0", want: "claude-3-haiku"},
		{name: "Cohere dated", model: "command-r-plus-08-2024", want: "command-r-plus-08-2024"},
		{name: "Cohere alias", model: "command-a", want: "command-a-03-2025"},
		{name: "DeepSeek reasoner", model: "deepseek-reasoner", want: "deepseek-chat"},
		{name: "xAI snapshot", model: "grok-4-0709", want: "grok-4"},
		{name: "xAI dotted version", model: "xai/grok-4.3-latest", want: "grok-4.3"},
		{name: "xAI alias", model: "grok-4-fast-non-reasoning", want: "grok-4-fast-reasoning"},
		{name: "GPT-5.1 snapshot", model: "gpt-5.1-2025-11-13", want: "gpt-5.1"},
		{name: "Gemini 3 preview", model: "google/gemini-3-pro-preview", want: "gemini-3-pro-preview"},
		{name: "Claude 4.6 dotted", model: "anthropic/claude-opus-4.6", want: "claude-opus-4-6"},
		{name: "Mistral medium latest", model: "mistral-medium-latest", want: "mistral-medium-3.5"},
		{name: "Mistral medium 3.1", model: "mistral-medium-2508", want: "mistral-medium"},
		{name: "Ministral latest moved", model: "ministral-8b-latest", want: "ministral-8b-2512"},
		{name: "Ministral old snapshot", model: "ministral-8b-2410", want: "ministral-8b"},
		{name: "Together id", model: "meta-llama/Llama-3.3-70B-Instruct-Turbo", want: "meta-llama/llama-3.3-70b-instruct-turbo"},
		{name: "Together id behind a router prefix", model: "together_ai/deepseek-ai/DeepSeek-V3", want: "deepseek-ai/deepseek-v3"},
		{name: "Fireworks id", model: "accounts/fireworks/models/deepseek-v3", want: "accounts/fireworks/models/deepseek-v3"},
		{name: "host id is not priced without its host", model: "deepseek-v3", want: ""},
		{name: "open model at an unlisted host", model: "openrouter/meta-llama/llama-4-scout-17b-16e-instruct", want: ""},
		{name: "preview date is not a snapshot", model: "gemini-2.5-pro-preview-05-06", want: ""},
		{name: "fine-tune", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123", want: ""},
		{name: "Gemini 2.0 Pro has no list price", model: "gemini-2.0-pro-exp-02-05", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LookupPrice(tt.model)
			if tt.want == "" {
				if ok {
					t.Errorf("LookupPrice(%q) = %+v, want unknown", tt.model, got)
				}
				return
			}
			if want, listed := BuiltinPrices().prices[tt.want]; !listed || !ok || got != want {
				t.Errorf("LookupPrice(%q) = %+v, %v; want %+v (%s)", tt.model, got, ok, want, tt.want)
			}
		})
	}
}

// TestBuiltinPriceTable guards against mistakes in prices.yaml: it parses
// (so no name is listed twice and no price is negative or missing), it says
// where and when its prices were taken, every name is reachable by
// LookupPrice, the prices are plausible, and every family the gateway
// serves has its popular models.
func TestBuiltinPriceTable(t *testing.T) {
	table, err := LoadPrices(builtinPricesYAML)
	if err != nil {
		t.Fatalf("LoadPrices(prices.yaml): %v", err)
	}
	if table.Taken() != "2026-11-27" {
		t.Errorf("taken = %q, want the date the prices were taken", table.Taken())
	}

	var f priceFile
	if err := yaml.Unmarshal(builtinPricesYAML, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Models) != 0 || f.Replace {
		t.Error("the built-in table groups every model under a family and replaces nothing")
	}
	for _, fam := range f.Families {
		if !strings.HasPrefix(fam.Source, "https://") {
			t.Errorf("family %q: source %q is not a pricing page", fam.Name, fam.Source)
		}
		if len(fam.Models) == 0 {
			t.Errorf("family %q has no models", fam.Name)
		}
	}

	for name, p := range table.prices {
		if name != strings.ToLower(name) || strings.ContainsAny(name, "@ ") {
			t.Errorf("%s: names must be lower case, without Vertex versions or spaces", name)
		}
		if p.InputPerMTok <= 0 {
			t.Errorf("%s: input price %v must be positive", name, p.InputPerMTok)
		}
		if p.CachedInputPerMTok > p.InputPerMTok {
			t.Errorf("%s: cached input %v dearer than input %v", name, p.CachedInputPerMTok, p.InputPerMTok)
		}
		if p.CacheWritePerMTok != 0 && p.CacheWritePerMTok < p.InputPerMTok {
			t.Errorf("%s: a cache write %v is a surcharge on input %v", name, p.CacheWritePerMTok, p.InputPerMTok)
		}
		if p.OutputPerMTok == 0 && !strings.Contains(name, "embed") {
			t.Errorf("%s: only embedding models may have no output price", name)
		}
		if p.OutputPerMTok != 0 && p.OutputPerMTok < p.InputPerMTok/2 {
			t.Errorf("%s: output %v implausibly cheaper than input %v", name, p.OutputPerMTok, p.InputPerMTok)
		}
		if got, ok := table.Lookup(name); !ok || got != p {
			t.Errorf("%s: Lookup of the name itself = %+v, %v", name, got, ok)
		}
		if got, ok := LookupPrice(name); !ok || got != p {
			t.Errorf("%s: LookupPrice of the name itself = %+v, %v", name, got, ok)
		}
	}

	required := []string{
		// OpenAI
		"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
		"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "text-embedding-3-small", "text-embedding-3-large",
		"text-embedding-ada-002",
		// Anthropic
		"claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet", "claude-sonnet-4", "claude-opus-4",
		"claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1", "claude-opus-4-5",
		// Google Gemini
		"gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro",
		"gemini-3-pro-preview",
		// AWS Bedrock
		"amazon.nova-micro", "amazon.nova-lite", "amazon.nova-pro", "meta.llama3-70b-instruct",
		"meta.llama3-1-70b-instruct", "meta.llama3-3-70b-instruct", "mistral.mistral-large-2402",
		// Cohere
		"command-r", "command-r-plus", "command-a",
		// Mistral
		"mistral-large", "mistral-small", "mistral-medium", "codestral",
		// Groq-hosted Llama
		"llama-3.3-70b-versatile", "llama-3.1-8b-instant",
		// DeepSeek
		"deepseek-chat", "deepseek-reasoner",
		// xAI
		"grok-3", "grok-4", "grok-3-mini",
		// Together and Fireworks
		"meta-llama/llama-3.3-70b-instruct-turbo", "deepseek-ai/deepseek-v3",
		"accounts/fireworks/models/llama-v3p3-70b-instruct", "accounts/fireworks/models/deepseek-v3",
	}
	for _, m := range required {
		if _, ok := table.prices[m]; !ok {
			t.Errorf("%s is missing from the table", m)
		}
	}
}

// TestBuiltinPriceValues pins a few prices as a check that the file is read
// into the right fields.
func TestBuiltinPriceValues(t *testing.T) {
	tests := []struct {
		model string
		want  Price
	}{
		{"gpt-4o-mini", Price{InputPerMTok: 0.15, CachedInputPerMTok: 0.075, OutputPerMTok: 0.60}},
		{"claude-sonnet-4-5-20250929", Price{InputPerMTok: 3, CachedInputPerMTok: 0.30, CacheWritePerMTok: 3.75, OutputPerMTok: 15}},
		{"text-embedding-3-small", Price{InputPerMTok: 0.02}},
		{"us.amazon.nova-micro-v1:0", Price{InputPerMTok: 0.035, CachedInputPerMTok: 0.00875, OutputPerMTok: 0.14}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got, ok := LookupPrice(tt.model); !ok || got != tt.want {
				t.Errorf("LookupPrice(%q) = %+v, %v; want %+v", tt.model, got, ok, tt.want)
			}
		})
	}
}

func TestLoadPrices(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    map[string]Price // checked when the file is valid
		wantErr []string         // each must appear in the error
	}{
		{
			name: "flat models list",
			file: `
taken: 2026-01-31
models:
  - {name: My-Finetune, input_per_mtok: 1.5, output_per_mtok: 3, aliases: [ft-alias]}
  - name: embedder
    input_per_mtok: 0.01
    output_per_mtok: 0
`,
			want: map[string]Price{
				"my-finetune": {InputPerMTok: 1.5, OutputPerMTok: 3},
				"ft-alias":    {InputPerMTok: 1.5, OutputPerMTok: 3},
				"embedder":    {InputPerMTok: 0.01},
			},
		},
		{
			name: "families with every field",
			file: `
families:
  - name: Acme
    source: https://acme.example/pricing
    models:
      - {name: acme-1, input_per_mtok: 2, cached_input_per_mtok: 0.2, cache_write_per_mtok: 2.5, output_per_mtok: 8}
`,
			want: map[string]Price{"acme-1": {InputPerMTok: 2, CachedInputPerMTok: 0.2, CacheWritePerMTok: 2.5, OutputPerMTok: 8}},
		},
		{name: "empty file", file: "", wantErr: []string{"no content"}},
		{name: "only comments", file: "# nothing yet\n", wantErr: []string{"no content"}},
		{name: "broken second document", file: "models: []\n---\nmodels: [\n", wantErr: []string{"parsing price file"}},
		{name: "not YAML", file: "models: [", wantErr: []string{"parsing price file"}},
		{name: "unknown key names its line", file: "models:\n  - {name: a, input_per_mtok: 1, output_per_mtok: 1, colour: red}\n", wantErr: []string{"line 2", "colour"}},
		{name: "unknown top-level key", file: "prices: []\n", wantErr: []string{"line 1", "prices"}},
		{name: "two documents", file: "models: []\n---\nmodels: []\n", wantErr: []string{"more than one"}},
		{name: "duplicate name", file: "models:\n  - {name: a, input_per_mtok: 1, output_per_mtok: 1}\n  - {name: A, input_per_mtok: 2, output_per_mtok: 2}\n", wantErr: []string{`"a" is listed more than once`}},
		{name: "alias repeats a name", file: "models:\n  - {name: a, input_per_mtok: 1, output_per_mtok: 1}\n  - {name: b, input_per_mtok: 2, output_per_mtok: 2, aliases: [a]}\n", wantErr: []string{`"a" is listed more than once`}},
		{name: "negative price", file: "models:\n  - {name: a, input_per_mtok: -1, output_per_mtok: 1}\n", wantErr: []string{`model "a": input_per_mtok is negative`}},
		{name: "missing output", file: "models:\n  - {name: a, input_per_mtok: 1}\n", wantErr: []string{"output_per_mtok is missing"}},
		{name: "missing input", file: "models:\n  - {name: a, output_per_mtok: 1}\n", wantErr: []string{"input_per_mtok is missing"}},
		{name: "not a number", file: "models:\n  - {name: a, input_per_mtok: .nan, output_per_mtok: .inf}\n", wantErr: []string{"input_per_mtok is not a number", "output_per_mtok is not a number"}},
		{name: "price is text", file: "models:\n  - {name: a, input_per_mtok: cheap, output_per_mtok: 1}\n", wantErr: []string{"line 2", "cheap"}},
		{name: "empty name", file: "models:\n  - {input_per_mtok: 1, output_per_mtok: 1}\n", wantErr: []string{"models, model 1: a model name is empty"}},
		{name: "name with space", file: "models:\n  - {name: my model, input_per_mtok: 1, output_per_mtok: 1}\n", wantErr: []string{"white space"}},
		{name: "Vertex version in name", file: "models:\n  - {name: a@1, input_per_mtok: 1, output_per_mtok: 1}\n", wantErr: []string{"'@'"}},
		{name: "bad date", file: "taken: last week\nmodels: []\n", wantErr: []string{"YYYY-MM-DD"}},
		{name: "family without name", file: "families:\n  - models: []\n", wantErr: []string{"family 1 has no name"}},
		{
			name:    "every problem is reported",
			file:    "models:\n  - {name: a, input_per_mtok: -1, output_per_mtok: 1}\n  - {name: b, input_per_mtok: 1}\n",
			wantErr: []string{`model "a": input_per_mtok is negative`, `model "b": output_per_mtok is missing`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := LoadPrices([]byte(tt.file))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("LoadPrices succeeded with %d prices, want an error", table.Len())
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPrices: %v", err)
			}
			if table.Len() != len(tt.want) {
				t.Errorf("Len = %d, want %d", table.Len(), len(tt.want))
			}
			for name, want := range tt.want {
				if got, ok := table.Lookup(name); !ok || got != want {
					t.Errorf("Lookup(%q) = %+v, %v; want %+v", name, got, ok, want)
				}
			}
		})
	}
}

func TestSetPriceOverrides(t *testing.T) {
	t.Cleanup(func() { SetPriceOverrides(nil) })
	builtinMini, _ := LookupPrice("gpt-4o-mini")
	builtinSnapshot, _ := LookupPrice("gpt-4o-2024-05-13")

	over, err := LoadPrices([]byte(`
taken: 2026-12-01
models:
  - {name: gpt-4o, input_per_mtok: 1, output_per_mtok: 4}
  - {name: house-model, input_per_mtok: 0.5, output_per_mtok: 0.5}
`))
	if err != nil {
		t.Fatal(err)
	}
	SetPriceOverrides(over)
	tests := []struct {
		model string
		want  Price
		ok    bool
	}{
		{"gpt-4o", Price{InputPerMTok: 1, OutputPerMTok: 4}, true},
		{"openai/gpt-4o-2024-11-20", Price{InputPerMTok: 1, OutputPerMTok: 4}, true},
		{"gpt-4o-2024-05-13", builtinSnapshot, true}, // a more specific built-in name still wins
		{"gpt-4o-mini", builtinMini, true},
		{"house-model", Price{InputPerMTok: 0.5, OutputPerMTok: 0.5}, true},
	}
	for _, tt := range tests {
		if got, ok := LookupPrice(tt.model); ok != tt.ok || got != tt.want {
			t.Errorf("with overrides, LookupPrice(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	if BuiltinPrices().prices["gpt-4o"] == over.prices["gpt-4o"] {
		t.Error("overrides changed the built-in table")
	}

	replace, err := LoadPrices([]byte("replace: true\nmodels:\n  - {name: house-model, input_per_mtok: 2, output_per_mtok: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	SetPriceOverrides(replace)
	if _, ok := LookupPrice("gpt-4o-mini"); ok {
		t.Error("a replacing table still priced a built-in model")
	}
	if got, _ := LookupPrice("house-model"); got.InputPerMTok != 2 {
		t.Errorf("replacing table: house-model = %+v", got)
	}

	SetPriceOverrides(nil)
	if got, ok := LookupPrice("gpt-4o-mini"); !ok || got != builtinMini {
		t.Errorf("after removing overrides, gpt-4o-mini = %+v, %v", got, ok)
	}
	if _, ok := LookupPrice("house-model"); ok {
		t.Error("after removing overrides, house-model is still priced")
	}
}

// TestPriceOverridesConcurrent swaps overrides while other goroutines look
// prices up; run with -race.
func TestPriceOverridesConcurrent(t *testing.T) {
	t.Cleanup(func() { SetPriceOverrides(nil) })
	over, err := LoadPrices([]byte("models:\n  - {name: gpt-4o, input_per_mtok: 1, output_per_mtok: 4}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2000 {
				p, ok := LookupPrice("gpt-4o")
				if !ok || (p.InputPerMTok != 1 && p.InputPerMTok != 2.5) {
					t.Errorf("LookupPrice(gpt-4o) = %+v, %v mid-swap", p, ok)
					return
				}
			}
		})
	}
	for i := range 200 {
		if i%2 == 0 {
			SetPriceOverrides(over)
		} else {
			SetPriceOverrides(nil)
		}
	}
	wg.Wait()
}

// FuzzLoadPrices checks that an operator's price file never crashes the
// parser, and that whatever it accepts is well formed: every name reachable
// and every price finite and not negative.
func FuzzLoadPrices(f *testing.F) {
	f.Add(builtinPricesYAML)
	f.Add([]byte("models:\n  - {name: a, input_per_mtok: 1, output_per_mtok: 2, aliases: [b]}\n"))
	f.Add([]byte("replace: true\ntaken: 2026-01-01\nfamilies: [{name: x, source: y, models: []}]\n"))
	f.Add([]byte("models:\n  - {name: a, input_per_mtok: -1, output_per_mtok: .nan}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := LoadPrices(data)
		if err != nil {
			return
		}
		for name, p := range table.prices {
			for _, v := range []float64{p.InputPerMTok, p.OutputPerMTok, p.CachedInputPerMTok, p.CacheWritePerMTok} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%q: accepted price %+v", name, p)
				}
			}
			if got, ok := table.Lookup(name); !ok || got != p {
				t.Fatalf("%q: Lookup of an accepted name = %+v, %v", name, got, ok)
			}
		}
	})
}

func TestPriceCost(t *testing.T) {
	gpt4oMini := Price{InputPerMTok: 0.15, CachedInputPerMTok: 0.075, OutputPerMTok: 0.60}
	mistral := Price{InputPerMTok: 2, OutputPerMTok: 6}
	sonnet := Price{InputPerMTok: 3.00, CachedInputPerMTok: 0.30, CacheWritePerMTok: 3.75, OutputPerMTok: 15.00}
	tests := []struct {
		name  string
		price Price
		usage Usage
		want  float64
	}{
		{name: "no usage", price: gpt4oMini, usage: Usage{}, want: 0},
		{name: "input and output", price: gpt4oMini, usage: Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, want: 0.75},
		{
			name:  "cached input at the cached rate",
			price: gpt4oMini,
			usage: Usage{InputTokens: 2_000_000, CachedInputTokens: 1_000_000, OutputTokens: 0},
			want:  0.15 + 0.075,
		},
		{
			name:  "cached input at the input rate when no cached rate",
			price: mistral,
			usage: Usage{InputTokens: 1_000_000, CachedInputTokens: 500_000, OutputTokens: 500_000},
			want:  2 + 3,
		},
		{
			name:  "reasoning tokens are inside output",
			price: Price{InputPerMTok: 1.10, CachedInputPerMTok: 0.275, OutputPerMTok: 4.40},
			usage: Usage{InputTokens: 1000, OutputTokens: 5000, ReasoningTokens: 4000},
			want:  (1000*1.10 + 5000*4.40) / 1e6,
		},
		{name: "small call", price: gpt4oMini, usage: Usage{InputTokens: 1200, CachedInputTokens: 1024, OutputTokens: 10}, want: (176*0.15 + 1024*0.075 + 10*0.60) / 1e6},
		{name: "cached above input is capped", price: gpt4oMini, usage: Usage{InputTokens: 100, CachedInputTokens: 1000}, want: 100 * 0.075 / 1e6},
		{name: "negative counts cost nothing", price: gpt4oMini, usage: Usage{InputTokens: -100, CachedInputTokens: -5, OutputTokens: -1}, want: 0},
		{name: "embedding", price: Price{InputPerMTok: 0.02}, usage: Usage{InputTokens: 8}, want: 8 * 0.02 / 1e6},
		{
			name:  "cache writes at the write rate",
			price: sonnet,
			usage: Usage{InputTokens: 2098, CachedInputTokens: 1800, CacheWriteInputTokens: 248, OutputTokens: 503},
			want:  (50*3.00 + 1800*0.30 + 248*3.75 + 503*15.00) / 1e6,
		},
		{
			name:  "cache writes at the input rate when no write rate",
			price: gpt4oMini,
			usage: Usage{InputTokens: 1000, CacheWriteInputTokens: 400},
			want:  1000 * 0.15 / 1e6,
		},
		{
			name:  "cache writes beyond the uncached input are capped",
			price: sonnet,
			usage: Usage{InputTokens: 100, CachedInputTokens: 80, CacheWriteInputTokens: 50},
			want:  (80*0.30 + 20*3.75) / 1e6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Cost = %.12f, want %.12f", got, tt.want)
			}
		})
	}
}

// BenchmarkLookupPrice covers the cases the gateway meets per call: an
// exact name, a dated snapshot, and a prefixed Bedrock id.
func BenchmarkLookupPrice(b *testing.B) {
	for _, model := range []string{"gpt-4o-mini", "gpt-4o-mini-2024-07-18", "us.anthropic.claude-sonnet-4-20250514-v1:0"} {
		b.Run(model, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := LookupPrice(model); !ok {
					b.Fatal("unknown")
				}
			}
		})
	}
}
