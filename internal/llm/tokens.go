package llm

import (
	"math"
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer/codec"
)

// Token estimation stands in for the usage an upstream did not report, as
// when a client aborts a stream before its final usage chunk. OpenAI's
// models are counted exactly with their own byte-pair encodings; the
// vocabularies (o200k_base and cl100k_base) are compiled into the binary by
// github.com/tiktoken-go/tokenizer, so nothing is fetched at run time. Each
// vocabulary is built on its first use, not at start-up, so a gateway that
// never estimates never pays the milliseconds and megabytes of memory it
// takes. They are reached only through functions, not package variables, so
// that the linker leaves their 9 MB of tables out of a binary that never
// calls EstimateTokens.
var (
	o200kOnce, cl100kOnce sync.Once
	o200k, cl100k         *codec.Codec
)

func o200kBase() *codec.Codec {
	o200kOnce.Do(func() { o200k = codec.NewO200kBase() })
	return o200k
}

func cl100kBase() *codec.Codec {
	cl100kOnce.Do(func() { cl100k = codec.NewCl100kBase() })
	return cl100k
}

// Per-message framing of OpenAI chat prompts, from OpenAI's cookbook "How
// to count tokens with tiktoken" (tokens_per_message = 3, and 3 for "every
// reply is primed with <|start|>assistant<|message|>"): every message costs
// 3 tokens of framing around its role and content, plus its role name, which
// the cookbook encodes with the content and which is a single token for
// every chat role — system, developer, user, assistant, tool — in both
// encodings.
const (
	tokensPerMessage   = 3
	tokensPerRole      = 1
	tokensReplyPriming = 3
)

// claudeTokenFactor scales an o200k_base count to Claude's tokenizer, which
// Anthropic does not publish. A published comparison of Claude 3.5 Sonnet
// with GPT-4o (VentureBeat, "Hidden costs in AI deployment: Why Claude
// models may be 20-30% more expensive than GPT in enterprise settings", May
// 2025) found Claude's tokenizer used 16% more tokens for English articles,
// 21% more for mathematics and 30% more for Python code; 1.2 lies in that
// range, weighted towards prose.
const claudeTokenFactor = 1.2

// encoding is how the tokens of a model family are counted.
type encoding struct {
	codec *codec.Codec // nil means o200k_base scaled by factor
	// factor scales the o200k_base count of a family whose tokenizer is not
	// available; 1 for the exact encodings.
	factor float64
}

// EstimateTokens returns the number of tokens text makes for model, and
// whether that number is exact. It is exact for OpenAI's models, counted
// with o200k_base (GPT-4o, GPT-4.1, GPT-4.5, GPT-5, the o-series,
// gpt-oss) or cl100k_base (GPT-4, GPT-3.5, text-embedding-3 and ada-002),
// and an approximation for every other model.
//
// The approximation is the o200k_base count, scaled for Claude by
// claudeTokenFactor. The other families' tokenizers are byte-level BPE or
// SentencePiece vocabularies of 128K to 262K entries trained on similar
// multilingual web text — Llama 3's is cl100k_base's 100K tokens plus 28K
// more, Mistral's Tekken is a tiktoken-style BPE of 131K, DeepSeek V3's a
// byte-level BPE of 128K, Gemini's a SentencePiece of 256K — and they land
// close to o200k_base on prose: Google documents about 4 characters per
// token for Gemini, and o200k_base makes 4 to 5 characters per token of
// English prose. A real BPE count follows code, digits and non-Latin
// scripts, which take several times more tokens per byte than English; a
// rule such as bytes/4 would miss them by that much.
func EstimateTokens(model, text string) (n int, exact bool) {
	enc := tokenEncoding(model)
	exact = enc.codec != nil
	if text == "" {
		return 0, exact
	}
	c := enc.codec
	if c == nil {
		c = o200kBase()
	}
	count, err := c.Count(text)
	if err != nil {
		// The split expression has no match timeout, so this does not
		// happen; should it, a bytes/4 guess beats no estimate.
		return (len(text) + 3) / 4, false
	}
	// The library's split expression skips DEL (U+007F), which tiktoken
	// encodes as a token of its own, alone or beside a neighbour; it is
	// the only character so affected. Each DEL is counted as one more
	// token, and the count is no longer exact.
	if dels := strings.Count(text, "\x7f"); dels > 0 {
		count += dels
		exact = false
	}
	if enc.factor != 1 {
		return int(math.Ceil(float64(count) * enc.factor)), false
	}
	return count, exact
}

// EstimateMessagesTokens returns the estimated prompt tokens of a chat
// request for model whose messages have the contents texts (one text per
// message; a message of several text parts is their concatenation). It adds
// OpenAI's framing to the tokens of each text: 3 tokens and the role name
// per message, and 3 that prime the reply. Other providers frame messages
// differently and do not document how; the same overhead stands in for
// theirs. No messages make no prompt and cost 0.
func EstimateMessagesTokens(model string, texts []string) int {
	if len(texts) == 0 {
		return 0
	}
	total := tokensReplyPriming
	for _, text := range texts {
		n, _ := EstimateTokens(model, text)
		total += tokensPerMessage + tokensPerRole + n
	}
	return total
}

// tokenEncoding returns how model's tokens are counted, following the model
// prefixes of OpenAI's tiktoken (tiktoken/model.py).
func tokenEncoding(model string) encoding {
	name := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimPrefix(name, "ft:")
	// Bedrock serves gpt-oss as "openai.gpt-oss-120b-1:0", in a region
	// ("us.openai.…") or not.
	if rest, ok := strings.CutPrefix(trimBedrockRegion(name), "openai."); ok {
		name = rest
	}
	switch {
	case isModel(name, "o1"), isModel(name, "o3"), isModel(name, "o4"),
		strings.HasPrefix(name, "gpt-4o"), strings.HasPrefix(name, "chatgpt-4o"),
		strings.HasPrefix(name, "gpt-4.1"), strings.HasPrefix(name, "gpt-4.5"),
		strings.HasPrefix(name, "gpt-5"), strings.HasPrefix(name, "gpt-oss"),
		strings.HasPrefix(name, "codex-"):
		return encoding{codec: o200kBase(), factor: 1}
	case strings.HasPrefix(name, "gpt-4"), strings.HasPrefix(name, "gpt-3.5"),
		strings.HasPrefix(name, "gpt-35"), // Azure's spelling
		strings.HasPrefix(name, "text-embedding-3"), name == "text-embedding-ada-002",
		name == "davinci-002", name == "babbage-002":
		return encoding{codec: cl100kBase(), factor: 1}
	case strings.Contains(name, "claude"):
		return encoding{factor: claudeTokenFactor}
	}
	return encoding{factor: 1}
}

// isModel reports whether name is base or one of its variants ("o3",
// "o3-mini", "o3-2025-04-16"), but not another model that begins alike
// ("o3x").
func isModel(name, base string) bool {
	rest, ok := strings.CutPrefix(name, base)
	return ok && (rest == "" || rest[0] == '-')
}
