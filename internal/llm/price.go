package llm

import "strings"

// Price is a model's list price in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
	// CachedInputPerMTok is the price of input tokens served from the
	// provider's prompt cache; zero means not known, and such tokens are
	// then priced as ordinary input.
	CachedInputPerMTok float64
}

// Cost returns the cost in US dollars of a call with usage u. Cached input
// tokens, which OpenAI counts inside the input tokens, are priced at the
// cached rate when it is known. Reasoning tokens are part of the output
// tokens and cost no extra.
func (p Price) Cost(u Usage) float64 {
	cached := min(max(u.CachedInputTokens, 0), max(u.InputTokens, 0))
	uncached := max(u.InputTokens, 0) - cached
	cachedRate := p.CachedInputPerMTok
	if cachedRate == 0 {
		cachedRate = p.InputPerMTok
	}
	return (float64(uncached)*p.InputPerMTok +
		float64(cached)*cachedRate +
		float64(max(u.OutputTokens, 0))*p.OutputPerMTok) / 1e6
}

// prices is the built-in table, written on 2026-11-27 from the providers'
// published list prices for standard (not batch, not priority) processing
// and prompts within the base context tier: Gemini 1.5 up to 128K tokens,
// Gemini 2.5 Pro up to 200K. Anthropic's cached rate is the cache-read price;
// cache writes are billed as ordinary input here. Operators override any
// entry per model in the configuration (models[].price), which is also the
// way to price models missing from this table. Keys are lower case; dated
// snapshots that share their model's price are found by LookupPrice and are
// listed only when their price differs.
//
// Gemini 2.0 Pro is absent on purpose: it only ever shipped as a free
// experimental model, without a list price.
var prices = map[string]Price{
	// OpenAI chat and reasoning models.
	"gpt-4o":              {InputPerMTok: 2.50, CachedInputPerMTok: 1.25, OutputPerMTok: 10.00},
	"gpt-4o-2024-05-13":   {InputPerMTok: 5.00, OutputPerMTok: 15.00},
	"chatgpt-4o-latest":   {InputPerMTok: 5.00, OutputPerMTok: 15.00},
	"gpt-4o-mini":         {InputPerMTok: 0.15, CachedInputPerMTok: 0.075, OutputPerMTok: 0.60},
	"gpt-4.1":             {InputPerMTok: 2.00, CachedInputPerMTok: 0.50, OutputPerMTok: 8.00},
	"gpt-4.1-mini":        {InputPerMTok: 0.40, CachedInputPerMTok: 0.10, OutputPerMTok: 1.60},
	"gpt-4.1-nano":        {InputPerMTok: 0.10, CachedInputPerMTok: 0.025, OutputPerMTok: 0.40},
	"gpt-4-turbo":         {InputPerMTok: 10.00, OutputPerMTok: 30.00},
	"gpt-4-turbo-preview": {InputPerMTok: 10.00, OutputPerMTok: 30.00},
	"gpt-4-0125-preview":  {InputPerMTok: 10.00, OutputPerMTok: 30.00},
	"gpt-4-1106-preview":  {InputPerMTok: 10.00, OutputPerMTok: 30.00},
	"gpt-4":               {InputPerMTok: 30.00, OutputPerMTok: 60.00},
	"o1":                  {InputPerMTok: 15.00, CachedInputPerMTok: 7.50, OutputPerMTok: 60.00},
	"o1-preview":          {InputPerMTok: 15.00, CachedInputPerMTok: 7.50, OutputPerMTok: 60.00},
	"o1-mini":             {InputPerMTok: 1.10, CachedInputPerMTok: 0.55, OutputPerMTok: 4.40},
	"o3":                  {InputPerMTok: 2.00, CachedInputPerMTok: 0.50, OutputPerMTok: 8.00},
	"o3-mini":             {InputPerMTok: 1.10, CachedInputPerMTok: 0.55, OutputPerMTok: 4.40},
	"o4-mini":             {InputPerMTok: 1.10, CachedInputPerMTok: 0.275, OutputPerMTok: 4.40},
	"gpt-5":               {InputPerMTok: 1.25, CachedInputPerMTok: 0.125, OutputPerMTok: 10.00},
	"gpt-5-chat-latest":   {InputPerMTok: 1.25, CachedInputPerMTok: 0.125, OutputPerMTok: 10.00},
	"gpt-5-mini":          {InputPerMTok: 0.25, CachedInputPerMTok: 0.025, OutputPerMTok: 2.00},
	"gpt-5-nano":          {InputPerMTok: 0.05, CachedInputPerMTok: 0.005, OutputPerMTok: 0.40},

	// OpenAI embeddings: input only.
	"text-embedding-3-small": {InputPerMTok: 0.02},
	"text-embedding-3-large": {InputPerMTok: 0.13},
	"text-embedding-ada-002": {InputPerMTok: 0.10},

	// Anthropic.
	"claude-3-haiku":    {InputPerMTok: 0.25, CachedInputPerMTok: 0.03, OutputPerMTok: 1.25},
	"claude-3-opus":     {InputPerMTok: 15.00, CachedInputPerMTok: 1.50, OutputPerMTok: 75.00},
	"claude-3-5-haiku":  {InputPerMTok: 0.80, CachedInputPerMTok: 0.08, OutputPerMTok: 4.00},
	"claude-3-5-sonnet": {InputPerMTok: 3.00, CachedInputPerMTok: 0.30, OutputPerMTok: 15.00},
	"claude-3-7-sonnet": {InputPerMTok: 3.00, CachedInputPerMTok: 0.30, OutputPerMTok: 15.00},
	"claude-sonnet-4":   {InputPerMTok: 3.00, CachedInputPerMTok: 0.30, OutputPerMTok: 15.00},
	"claude-opus-4":     {InputPerMTok: 15.00, CachedInputPerMTok: 1.50, OutputPerMTok: 75.00},
	"claude-opus-4-1":   {InputPerMTok: 15.00, CachedInputPerMTok: 1.50, OutputPerMTok: 75.00},
	"claude-haiku-4-5":  {InputPerMTok: 1.00, CachedInputPerMTok: 0.10, OutputPerMTok: 5.00},
	"claude-sonnet-4-5": {InputPerMTok: 3.00, CachedInputPerMTok: 0.30, OutputPerMTok: 15.00},
	"claude-opus-4-5":   {InputPerMTok: 5.00, CachedInputPerMTok: 0.50, OutputPerMTok: 25.00},

	// Google Gemini.
	"gemini-1.5-flash":      {InputPerMTok: 0.075, CachedInputPerMTok: 0.01875, OutputPerMTok: 0.30},
	"gemini-1.5-flash-8b":   {InputPerMTok: 0.0375, CachedInputPerMTok: 0.01, OutputPerMTok: 0.15},
	"gemini-1.5-pro":        {InputPerMTok: 1.25, CachedInputPerMTok: 0.3125, OutputPerMTok: 5.00},
	"gemini-2.0-flash":      {InputPerMTok: 0.10, CachedInputPerMTok: 0.025, OutputPerMTok: 0.40},
	"gemini-2.0-flash-lite": {InputPerMTok: 0.075, OutputPerMTok: 0.30},
	"gemini-2.5-flash":      {InputPerMTok: 0.30, CachedInputPerMTok: 0.03, OutputPerMTok: 2.50},
	"gemini-2.5-flash-lite": {InputPerMTok: 0.10, CachedInputPerMTok: 0.01, OutputPerMTok: 0.40},
	"gemini-2.5-pro":        {InputPerMTok: 1.25, CachedInputPerMTok: 0.125, OutputPerMTok: 10.00},

	// Mistral. mistral-small-2409 predates the price cut of Small 3.
	"mistral-large":      {InputPerMTok: 2.00, OutputPerMTok: 6.00},
	"mistral-small":      {InputPerMTok: 0.10, OutputPerMTok: 0.30},
	"mistral-small-2409": {InputPerMTok: 0.20, OutputPerMTok: 0.60},

	// Meta Llama 3.x under Groq's model names and prices.
	"llama-3.3-70b-versatile": {InputPerMTok: 0.59, OutputPerMTok: 0.79},
	"llama-3.1-70b-versatile": {InputPerMTok: 0.59, OutputPerMTok: 0.79},
	"llama-3.1-8b-instant":    {InputPerMTok: 0.05, OutputPerMTok: 0.08},
	"llama3-70b-8192":         {InputPerMTok: 0.59, OutputPerMTok: 0.79},
	"llama3-8b-8192":          {InputPerMTok: 0.05, OutputPerMTok: 0.08},
}

// LookupPrice returns the built-in list price of model. It tries the exact
// name first, then a normalised one: lower case; without a provider or
// routing prefix ("openai/gpt-4o", "models/gemini-2.5-pro"); without
// Bedrock's region and vendor prefix ("us.anthropic.") or Vertex's
// "@version"; with Claude's dotted versions as dashes ("claude-3.5-sonnet");
// and then with version suffixes removed one at a time — "-latest",
// "-v2:0", dates such as "-2024-07-18" or "-20250514", and numeric
// snapshots such as "-0613", "-2411" or "-002". Nothing else is guessed, so
// a model that is merely named like a known one is reported as unknown
// rather than priced wrongly.
func LookupPrice(model string) (Price, bool) {
	if p, ok := prices[model]; ok {
		return p, true
	}
	name := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = trimBedrockPrefix(name)
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if strings.HasPrefix(name, "claude-") && strings.Contains(name, ".") {
		name = strings.ReplaceAll(name, ".", "-")
	}
	for {
		if p, ok := prices[name]; ok {
			return p, true
		}
		var ok bool
		if name, ok = trimVersionSuffix(name); !ok {
			return Price{}, false
		}
	}
}

// trimBedrockPrefix removes the cross-region inference prefix and the vendor
// of a Bedrock model ID. Only Anthropic's is removed: Bedrock charges its
// list prices, while other vendors' models cost differently there.
func trimBedrockPrefix(name string) string {
	for _, region := range []string{"us.", "eu.", "apac.", "global."} {
		if rest, ok := strings.CutPrefix(name, region); ok {
			name = rest
			break
		}
	}
	if rest, ok := strings.CutPrefix(name, "anthropic."); ok {
		return rest
	}
	return name
}

// trimVersionSuffix removes one version suffix from name, reporting whether
// there was one.
func trimVersionSuffix(name string) (string, bool) {
	// An ISO date, -YYYY-MM-DD, is three dash-separated parts.
	if n := len(name); n > 11 && name[n-11] == '-' && name[n-6] == '-' && name[n-3] == '-' &&
		allDigits(name[n-10:n-6]) && allDigits(name[n-5:n-3]) && allDigits(name[n-2:]) {
		return name[:n-11], true
	}
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return name, false
	}
	last := name[i+1:]
	switch {
	case last == "latest":
	case allDigits(last) && (len(last) == 3 || len(last) == 4 || len(last) == 8):
	case isBedrockVersion(last):
	default:
		return name, false
	}
	return name[:i], true
}

// isBedrockVersion matches "v2" and "v2:0".
func isBedrockVersion(s string) bool {
	major, minor, hasMinor := strings.Cut(strings.TrimPrefix(s, "v"), ":")
	return len(s) > 1 && s[0] == 'v' && allDigits(major) && (!hasMinor || allDigits(minor))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
