package llm

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// Price is a model's list price in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
	// CachedInputPerMTok is the price of input tokens served from the
	// provider's prompt cache; zero means not known, and such tokens are
	// then priced as ordinary input.
	CachedInputPerMTok float64
	// CacheWritePerMTok is the price of input tokens written to the prompt
	// cache where the provider charges extra for it (Anthropic); zero means
	// no surcharge, and such tokens are priced as ordinary input.
	CacheWritePerMTok float64
}

// Cost returns the cost in US dollars of a call with usage u. Cached input
// tokens and cache writes, which Usage counts inside the input tokens, are
// priced at their own rates when those are known. Reasoning tokens are part
// of the output tokens and cost no extra.
func (p Price) Cost(u Usage) float64 {
	input := max(u.InputTokens, 0)
	cached := min(max(u.CachedInputTokens, 0), input)
	written := min(max(u.CacheWriteInputTokens, 0), input-cached)
	plain := input - cached - written
	return (float64(plain)*p.InputPerMTok +
		float64(cached)*orRate(p.CachedInputPerMTok, p.InputPerMTok) +
		float64(written)*orRate(p.CacheWritePerMTok, p.InputPerMTok) +
		float64(max(u.OutputTokens, 0))*p.OutputPerMTok) / 1e6
}

// orRate is rate when the price list knows it, else the fallback rate.
func orRate(rate, fallback float64) float64 {
	if rate == 0 {
		return fallback
	}
	return rate
}

// builtinPricesYAML is the built-in price table: the popular models of each
// provider family, with the pricing page each family's prices were taken
// from and the date they were taken. It is data rather than code so that
// a price update is a reviewable one-line change and so that operators can
// supply a file of the same format.
//
//go:embed prices.yaml
var builtinPricesYAML []byte

// PriceTable is a parsed price file, immutable once loaded. The zero value
// is an empty table.
type PriceTable struct {
	// prices maps lower-case model names and aliases to their price.
	prices map[string]Price
	// taken is the date the prices were taken, YYYY-MM-DD, or "".
	taken string
	// replace makes the table, used as overrides, stand in for the
	// built-in table instead of extending it.
	replace bool
}

var (
	// builtinPrices parses the embedded table on first use rather than at
	// start-up, so that a binary that never prices a call pays nothing.
	// The file is validated by TestBuiltinPriceTable, so a failure here is
	// a build that skipped its tests.
	builtinPrices = sync.OnceValue(func() *PriceTable {
		t, err := LoadPrices(builtinPricesYAML)
		if err != nil {
			panic(fmt.Sprintf("llm: built-in prices.yaml: %v", err))
		}
		return t
	})

	// activePrices is the built-in table merged with the operator's
	// overrides, or nil when there are none. An atomic pointer keeps
	// LookupPrice lock-free on the hot path while the gateway swaps it.
	activePrices atomic.Pointer[PriceTable]
)

// BuiltinPrices returns the built-in price table, without overrides.
func BuiltinPrices() *PriceTable {
	return builtinPrices()
}

// SetPriceOverrides makes LookupPrice consult t before the built-in table:
// t's entries replace built-in entries of the same name and add the models
// the built-in table lacks. When t was loaded from a file with "replace:
// true", the built-in table is not consulted at all. A nil t removes the
// overrides. It is safe to call while other goroutines look prices up.
func SetPriceOverrides(t *PriceTable) {
	if t == nil {
		activePrices.Store(nil)
		return
	}
	activePrices.Store(mergePrices(builtinPrices(), t))
}

// mergePrices returns base with over's entries laid on top, by name.
// Merging by name, rather than consulting over first on every lookup, keeps
// the most specific match winning: an override of "gpt-4o" does not hide
// the built-in entry of the snapshot "gpt-4o-2024-05-13".
func mergePrices(base, over *PriceTable) *PriceTable {
	if over.replace {
		return over
	}
	merged := &PriceTable{prices: make(map[string]Price, len(base.prices)+len(over.prices)), taken: base.taken}
	for name, p := range base.prices {
		merged.prices[name] = p
	}
	for name, p := range over.prices {
		merged.prices[name] = p
	}
	if over.taken != "" {
		merged.taken = over.taken
	}
	return merged
}

// Len returns the number of names, aliases included, that t prices.
func (t *PriceTable) Len() int {
	return len(t.prices)
}

// Taken returns the date, YYYY-MM-DD, on which t's prices were taken, or ""
// when its file did not say.
func (t *PriceTable) Taken() string {
	return t.taken
}

// The price file format, decoded strictly: an unknown key is an error that
// names its line.
type (
	priceFile struct {
		// Taken is the date the prices were taken, YYYY-MM-DD.
		Taken string `yaml:"taken"`
		// Replace, in an operator's file, drops the built-in table.
		Replace  bool          `yaml:"replace"`
		Families []priceFamily `yaml:"families"`
		// Models is for files that do not group their entries by family.
		Models []priceEntry `yaml:"models"`
	}
	priceFamily struct {
		Name string `yaml:"name"`
		// Source is the pricing page the family's prices were taken from.
		Source string       `yaml:"source"`
		Models []priceEntry `yaml:"models"`
	}
	priceEntry struct {
		Name    string   `yaml:"name"`
		Aliases []string `yaml:"aliases"`
		// Pointers tell a price left out, which is an error for input and
		// output, from a price of zero.
		Input       *float64 `yaml:"input_per_mtok"`
		CachedInput *float64 `yaml:"cached_input_per_mtok"`
		CacheWrite  *float64 `yaml:"cache_write_per_mtok"`
		Output      *float64 `yaml:"output_per_mtok"`
	}
)

// LoadPrices parses a price file in the format of the built-in table
// (prices.yaml): an optional "taken" date, an optional "replace" flag, and
// models, grouped under "families" or listed under "models", each with a
// name, optional aliases, input_per_mtok and output_per_mtok (both required,
// zero allowed), and optional cached_input_per_mtok and
// cache_write_per_mtok. Names are matched case-insensitively. It reports
// every problem it finds: unknown keys, names given twice, and prices that
// are missing, negative or not finite.
func LoadPrices(data []byte) (*PriceTable, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f priceFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parsing price file: the file has no content")
		}
		return nil, fmt.Errorf("parsing price file: %w", err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, errors.New("parsing price file: more than one YAML document")
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("parsing price file: %w", err)
	}

	var problems []error
	if f.Taken != "" {
		if _, err := time.Parse(time.DateOnly, f.Taken); err != nil {
			problems = append(problems, fmt.Errorf("taken %q is not a date in the form YYYY-MM-DD", f.Taken))
		}
	}
	t := &PriceTable{prices: make(map[string]Price), taken: f.Taken, replace: f.Replace}
	add := func(where string, e priceEntry) {
		p, errs := e.price()
		for _, err := range errs {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
		}
		for _, name := range append([]string{e.Name}, e.Aliases...) {
			key := strings.ToLower(strings.TrimSpace(name))
			if err := checkPriceName(key); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", where, err))
				continue
			}
			if _, dup := t.prices[key]; dup {
				problems = append(problems, fmt.Errorf("%s: %q is listed more than once", where, key))
				continue
			}
			t.prices[key] = p
		}
	}
	for i, fam := range f.Families {
		if strings.TrimSpace(fam.Name) == "" {
			problems = append(problems, fmt.Errorf("family %d has no name", i+1))
		}
		for j, e := range fam.Models {
			add(entryLabel(fmt.Sprintf("family %q", fam.Name), j, e), e)
		}
	}
	for j, e := range f.Models {
		add(entryLabel("models", j, e), e)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("invalid price file: %w", err)
	}
	return t, nil
}

func entryLabel(group string, index int, e priceEntry) string {
	if e.Name != "" {
		return fmt.Sprintf("%s, model %q", group, e.Name)
	}
	return fmt.Sprintf("%s, model %d", group, index+1)
}

// price checks e's prices and returns them.
func (e priceEntry) price() (Price, []error) {
	var errs []error
	get := func(field string, v *float64, required bool) float64 {
		switch {
		case v == nil:
			if required {
				errs = append(errs, fmt.Errorf("%s is missing", field))
			}
			return 0
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			errs = append(errs, fmt.Errorf("%s is not a number", field))
			return 0
		case *v < 0:
			errs = append(errs, fmt.Errorf("%s is negative", field))
			return 0
		}
		return *v
	}
	return Price{
		InputPerMTok:       get("input_per_mtok", e.Input, true),
		OutputPerMTok:      get("output_per_mtok", e.Output, true),
		CachedInputPerMTok: get("cached_input_per_mtok", e.CachedInput, false),
		CacheWritePerMTok:  get("cache_write_per_mtok", e.CacheWrite, false),
	}, errs
}

// checkPriceName rejects names LookupPrice could never match: empty ones,
// those with spaces, and those with Vertex's "@version", which lookups cut
// off.
func checkPriceName(key string) error {
	switch {
	case key == "":
		return errors.New("a model name is empty")
	case strings.ContainsFunc(key, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }):
		return fmt.Errorf("model name %q contains white space", key)
	case strings.Contains(key, "@"):
		return fmt.Errorf("model name %q contains '@', which lookups treat as a Vertex version", key)
	case strings.HasSuffix(key, "/"):
		return fmt.Errorf("model name %q ends with '/'", key)
	}
	return nil
}

// LookupPrice returns the list price of model from the built-in table, or
// from the operator's table when SetPriceOverrides installed one. See
// PriceTable.Lookup for how names are matched.
func LookupPrice(model string) (Price, bool) {
	t := activePrices.Load()
	if t == nil {
		t = builtinPrices()
	}
	return t.Lookup(model)
}

// Lookup returns the price of model. It tries the exact name first, then a
// normalised one: lower case; a hosting service's full id such as
// "meta-llama/llama-3.3-70b-instruct-turbo", also after routing prefixes
// ("together_ai/meta-llama/..."); the name after the last "/"
// ("openai/gpt-4o", "models/gemini-2.5-pro"); without Bedrock's region and
// Anthropic vendor prefix ("us.anthropic.") or Vertex's "@version"; with
// Claude's dotted versions as dashes ("claude-3.5-sonnet"); and then with
// version suffixes removed one at a time — "-latest", "-v2:0", dates such as
// "-2024-07-18" or "-20250514", and numeric snapshots such as "-0613",
// "-2411" or "-002". Nothing else is guessed, so a model that is merely
// named like a known one is reported as unknown rather than priced wrongly.
func (t *PriceTable) Lookup(model string) (Price, bool) {
	if p, ok := t.prices[model]; ok {
		return p, true
	}
	name := strings.ToLower(strings.TrimSpace(model))
	if name != model {
		if p, ok := t.prices[name]; ok {
			return p, true
		}
	}
	// Hosting services' ids contain "/"; routers put their own prefix in
	// front. Each suffix that still holds a "/" may be such an id.
	for {
		i := strings.IndexByte(name, '/')
		if i < 0 {
			break
		}
		name = name[i+1:]
		if strings.IndexByte(name, '/') < 0 {
			break
		}
		if p, ok := t.prices[name]; ok {
			return p, true
		}
	}
	name = trimBedrockPrefix(name)
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if strings.HasPrefix(name, "claude-") && strings.Contains(name, ".") {
		name = strings.ReplaceAll(name, ".", "-")
	}
	for {
		if p, ok := t.prices[name]; ok {
			return p, true
		}
		var ok bool
		if name, ok = trimVersionSuffix(name); !ok {
			return Price{}, false
		}
	}
}

// trimBedrockPrefix removes the cross-region inference prefix and the vendor
// of a Bedrock model ID. Only Anthropic's vendor prefix is removed: Bedrock
// charges Anthropic's list prices, while other vendors' models cost
// differently there and are listed under their Bedrock ids.
func trimBedrockPrefix(name string) string {
	name = trimBedrockRegion(name)
	if rest, ok := strings.CutPrefix(name, "anthropic."); ok {
		return rest
	}
	return name
}

// trimBedrockRegion removes the prefix of a Bedrock cross-region inference
// profile ("us.", "global.") from a model ID.
func trimBedrockRegion(name string) string {
	for _, region := range []string{"us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "global."} {
		if rest, ok := strings.CutPrefix(name, region); ok {
			return rest
		}
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
