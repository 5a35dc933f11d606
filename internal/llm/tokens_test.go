package llm

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// The counts below are tiktoken's. "hello world" and "tiktoken is great!"
// are the token ids published in tiktoken's README and tests and in
// OpenAI's cookbook ("How to count tokens with tiktoken"): cl100k_base
// [15339 1917] and [83 1609 5963 374 2294 0], o200k_base [24912 2375] and
// [83 8251 2488 382 2212 0]. The others were counted with the library and
// differ between the encodings where the vocabularies differ.
func TestEstimateTokensOpenAI(t *testing.T) {
	const chinese = "你好，世界" // 3 tokens in o200k_base, 6 in cl100k_base
	tests := []struct {
		name  string
		model string
		text  string
		want  int
	}{
		{name: "empty o200k", model: "gpt-4o", text: "", want: 0},
		{name: "empty cl100k", model: "gpt-4", text: "", want: 0},
		{name: "hello world o200k", model: "gpt-4o", text: "hello world", want: 2},
		{name: "hello world cl100k", model: "gpt-4", text: "hello world", want: 2},
		{name: "cookbook o200k", model: "gpt-4o-mini", text: "tiktoken is great!", want: 6},
		{name: "cookbook cl100k", model: "gpt-3.5-turbo", text: "tiktoken is great!", want: 6},
		{name: "pangram", model: "gpt-4.1", text: "The quick brown fox jumps over the lazy dog.", want: 10},
		{name: "long word", model: "gpt-5", text: "antidisestablishmentarianism", want: 6},
		{name: "French", model: "o3", text: "Bonjour à tous, comment ça va ?", want: 8},
		{name: "code", model: "gpt-4o", text: "func main() {\n\tfmt.Println(\"hi\")\n}\n", want: 10},
		{name: "digits in threes", model: "gpt-4o", text: "1234567890", want: 4},
		{name: "emoji bytes", model: "gpt-4o", text: "🦊🦊", want: 6},
		// The API reads a prompt's special tokens as plain text, and so does
		// the estimate.
		{name: "special token as text", model: "gpt-4o", text: "<|endoftext|>", want: 7},

		// Which encoding each model uses, told apart by Chinese text.
		{name: "gpt-4o", model: "gpt-4o", text: chinese, want: 3},
		{name: "dated snapshot", model: "gpt-4o-mini-2024-07-18", text: chinese, want: 3},
		{name: "chatgpt-4o", model: "chatgpt-4o-latest", text: chinese, want: 3},
		{name: "gpt-4.1", model: "gpt-4.1-nano", text: chinese, want: 3},
		{name: "gpt-4.5", model: "gpt-4.5-preview", text: chinese, want: 3},
		{name: "gpt-5 with provider prefix", model: "openai/gpt-5-mini", text: chinese, want: 3},
		{name: "gpt-5.1", model: "gpt-5.1", text: chinese, want: 3},
		{name: "o1", model: "o1", text: chinese, want: 3},
		{name: "o3-mini", model: "o3-mini-2025-01-31", text: chinese, want: 3},
		{name: "o4-mini", model: "O4-Mini", text: chinese, want: 3},
		{name: "fine-tune", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123", text: chinese, want: 3},
		{name: "gpt-oss", model: "groq/openai/gpt-oss-120b", text: chinese, want: 3},
		{name: "gpt-oss on Bedrock", model: "us.openai.gpt-oss-20b-1:0", text: chinese, want: 3},
		{name: "gpt-4", model: "gpt-4-0613", text: chinese, want: 6},
		{name: "gpt-4-turbo", model: "gpt-4-turbo", text: chinese, want: 6},
		{name: "gpt-3.5", model: "gpt-3.5-turbo-0125", text: chinese, want: 6},
		{name: "Azure gpt-35", model: "azure/gpt-35-turbo", text: chinese, want: 6},
		{name: "embedding 3", model: "text-embedding-3-small", text: chinese, want: 6},
		{name: "embedding ada", model: "text-embedding-ada-002", text: chinese, want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, exact := EstimateTokens(tt.model, tt.text)
			if n != tt.want || !exact {
				t.Errorf("EstimateTokens(%q, %q) = %d, %v; want %d, true", tt.model, tt.text, n, exact, tt.want)
			}
		})
	}
}

func TestEstimateTokensApproximate(t *testing.T) {
	const pangram = "The quick brown fox jumps over the lazy dog." // 10 tokens in o200k_base
	tests := []struct {
		name  string
		model string
		text  string
		want  int
	}{
		{name: "empty", model: "claude-sonnet-4-5", text: "", want: 0},
		{name: "Claude scaled", model: "claude-sonnet-4-5", text: pangram, want: 12},
		{name: "Claude on Bedrock", model: "us.anthropic.claude-3-5-haiku-20241022-v1:0", text: pangram, want: 12},
		{name: "Claude rounds up", model: "claude-haiku-4-5", text: "hello world", want: 3},
		{name: "Gemini", model: "gemini-2.5-pro", text: pangram, want: 10},
		{name: "Llama", model: "llama-3.3-70b-versatile", text: pangram, want: 10},
		{name: "Mistral", model: "mistral-large-latest", text: pangram, want: 10},
		{name: "DeepSeek", model: "deepseek-chat", text: pangram, want: 10},
		{name: "unknown model", model: "my-finetune", text: pangram, want: 10},
		{name: "no model", model: "", text: pangram, want: 10},
		{name: "named like o3 but not", model: "o3x-large", text: pangram, want: 10},
		{name: "named like gpt-4 but not", model: "gpt4all", text: pangram, want: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, exact := EstimateTokens(tt.model, tt.text)
			if n != tt.want || exact {
				t.Errorf("EstimateTokens(%q, %q) = %d, %v; want %d, false", tt.model, tt.text, n, exact, tt.want)
			}
		})
	}
}

// englishProse is a paragraph of ordinary English for rate checks.
const englishProse = `When a customer cancels a streamed answer halfway through, the gateway
still owes the team that owns the key an honest account of what the call cost.
The provider never sends its usage figures in that case, so the gateway counts
the tokens of the prompt it forwarded and of the text it relayed before the
connection closed. For the models whose tokenizer is public the count is exact;
for the others it is an estimate, and the call record says so, which lets a
reviewer tell a measured cost from an inferred one when a budget alarm fires.`

// TestApproximationRate backs the claim in EstimateTokens' documentation
// that o200k_base makes 4 to 5 characters per token of English prose, the
// rate Google documents for Gemini ("about 4 characters").
func TestApproximationRate(t *testing.T) {
	n, _ := EstimateTokens("gemini-2.5-flash", englishProse)
	rate := float64(utf8.RuneCountInString(englishProse)) / float64(n)
	if rate < 4 || rate > 5 {
		t.Errorf("%.2f characters per token (%d tokens), want between 4 and 5", rate, n)
	}
	claude, _ := EstimateTokens("claude-sonnet-4-5", englishProse)
	if want := int(math.Ceil(float64(n) * claudeTokenFactor)); claude != want {
		t.Errorf("Claude estimate = %d, want %d", claude, want)
	}
}

// TestEstimateTokensDEL covers the one character the library's split
// expression skips; tiktoken splits "a\x7fb" into "a" and "\x7fb", which
// is not in the vocabulary, so makes 3 tokens.
func TestEstimateTokensDEL(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"\x7f", 1},
		{"\x7f\x7f", 2},
		{"a\x7fb", 3},
	}
	for _, tt := range tests {
		n, exact := EstimateTokens("gpt-4o", tt.text)
		if n != tt.want || exact {
			t.Errorf("EstimateTokens(gpt-4o, %q) = %d, %v; want %d, false", tt.text, n, exact, tt.want)
		}
	}
}

func TestEstimateTokensInvalidUTF8(t *testing.T) {
	for _, model := range []string{"gpt-4o", "gpt-4", "claude-opus-4-5"} {
		n, _ := EstimateTokens(model, "ok \xff\xfe\x80 done")
		if n <= 0 {
			t.Errorf("%s: %d tokens for text with invalid UTF-8", model, n)
		}
	}
}

func TestEstimateMessagesTokens(t *testing.T) {
	// Each message: 3 framing tokens + 1 role token + its text; plus 3 that
	// prime the reply.
	tests := []struct {
		name  string
		model string
		texts []string
		want  int
	}{
		{name: "no messages", model: "gpt-4o", texts: nil, want: 0},
		{name: "one message", model: "gpt-4o", texts: []string{"hello world"}, want: 3 + (4 + 2)},
		{name: "empty message still framed", model: "gpt-4o", texts: []string{""}, want: 3 + 4},
		{
			name:  "system and user",
			model: "gpt-4o-mini",
			texts: []string{"tiktoken is great!", "The quick brown fox jumps over the lazy dog."},
			want:  3 + (4 + 6) + (4 + 10),
		},
		{name: "cl100k", model: "gpt-4", texts: []string{"你好，世界", "hello world"}, want: 3 + (4 + 6) + (4 + 2)},
		{name: "Claude", model: "claude-sonnet-4", texts: []string{"hello world"}, want: 3 + (4 + 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EstimateMessagesTokens(tt.model, tt.texts); got != tt.want {
				t.Errorf("EstimateMessagesTokens = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestRoleNamesAreOneToken checks the assumption behind tokensPerRole.
func TestRoleNamesAreOneToken(t *testing.T) {
	for _, model := range []string{"gpt-4o", "gpt-4"} {
		for _, role := range []string{"system", "developer", "user", "assistant", "tool"} {
			if n, _ := EstimateTokens(model, role); n != tokensPerRole {
				t.Errorf("%s: role %q is %d tokens", model, role, n)
			}
		}
	}
}

// TestEstimateTokensConcurrent counts from many goroutines at once, the
// first of them racing to build the vocabularies; run with -race.
func TestEstimateTokensConcurrent(t *testing.T) {
	models := []string{"gpt-4o", "gpt-4", "claude-sonnet-4-5", "gemini-2.5-pro"}
	texts := []string{"hello world", englishProse, "你好，世界", "func main() {}\n"}
	want := make(map[string]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				model, text := models[(g+i)%len(models)], texts[i%len(texts)]
				n, _ := EstimateTokens(model, text)
				key := model + "\x00" + text
				mu.Lock()
				if prev, seen := want[key]; seen && prev != n {
					t.Errorf("%s: %d tokens, earlier %d", model, n, prev)
				}
				want[key] = n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// FuzzEstimateTokens feeds upstream-like text of any bytes: the count never
// panics, is never negative, and — every token being at least one byte —
// never exceeds the byte length, scaled for Claude.
func FuzzEstimateTokens(f *testing.F) {
	f.Add("gpt-4o", "hello world")
	f.Add("gpt-4", "你好，世界 \xff")
	f.Add("claude-opus-4-5", englishProse)
	f.Add("gemini-2.5-pro", "    \n\n\t\t1234567890!!!")
	f.Fuzz(func(t *testing.T, model, text string) {
		n, _ := EstimateTokens(model, text)
		limit := int(math.Ceil(float64(len(text)) * claudeTokenFactor))
		if n < 0 || n > limit || (text == "") != (n == 0) {
			t.Fatalf("EstimateTokens(%q, %q) = %d for %d bytes", model, text, n, len(text))
		}
	})
}

// benchText is 2.7 KiB of mixed prose, code and non-Latin text.
var benchText = strings.Repeat(englishProse+"\n"+
	"func add(a, b int) int { return a + b } // 2024-07-18\n"+
	"Les modèles de langue comptent en jetons, pas en mots. 日本語のテキストも数えます。\n", 4)

// BenchmarkEstimateTokens reports the cost of counting: ns/op is per
// benchText; MB/s follows from SetBytes.
func BenchmarkEstimateTokens(b *testing.B) {
	for _, model := range []string{"gpt-4o", "gpt-4", "claude-sonnet-4-5"} {
		b.Run(model, func(b *testing.B) {
			EstimateTokens(model, "warm up") // build the vocabulary outside the timing
			b.SetBytes(int64(len(benchText)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n, _ = EstimateTokens(model, benchText)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(float64(len(benchText))/1024), "ns/KiB")
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

func ExampleEstimateTokens() {
	n, exact := EstimateTokens("gpt-4o", "hello world")
	fmt.Println(n, exact)
	n, exact = EstimateTokens("claude-sonnet-4-5", "hello world")
	fmt.Println(n, exact)
	// Output:
	// 2 true
	// 3 false
}
