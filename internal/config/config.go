// Package config is Hypergate's typed configuration and its YAML form, the
// declarative file operators write: decoding with line-accurate errors,
// defaults, validation, a canonical encoding, a human-readable diff between
// two configurations, and resolution of env:NAME secret references.
//
// The same structs are stored as JSON in configuration revisions and returned
// by the admin API, so YAML and JSON field names are identical.
package config

import "time"

// Config is everything an operator declares. The zero value is a valid, empty
// configuration.
type Config struct {
	Providers []Provider `yaml:"providers,omitempty" json:"providers"`
	Models    []Model    `yaml:"models,omitempty" json:"models"`
	Consumers []Consumer `yaml:"consumers,omitempty" json:"consumers"`
}

// Provider is an upstream API account the gateway forwards calls to.
type Provider struct {
	// Name identifies the provider in model targets; unique, lowercase.
	Name string `yaml:"name" json:"name"`
	// Type selects the wire protocol; see ProviderTypes.
	Type string `yaml:"type" json:"type"`
	// BaseURL defaults per type; self-hosted upstreams set their own.
	BaseURL string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	// APIKey is an env:NAME reference; empty for upstreams that need no key.
	APIKey string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	// APIKeys is a pool of env:NAME references used in rotation; exclusive
	// with APIKey.
	APIKeys []string `yaml:"api_keys,omitempty" json:"api_keys,omitempty"`
	// Headers are sent with every upstream request; a value is either a
	// literal or an env:NAME reference.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Timeout bounds one upstream call; DefaultTimeout when unset.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Model is a model name clients send and how it maps onto providers.
type Model struct {
	// Name is what clients put in the request's "model" field; unique.
	Name string `yaml:"name" json:"name"`
	// Strategy picks among Targets: StrategyWeighted (default) or
	// StrategyPriority.
	Strategy string `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	// Targets are the upstream models serving this name; at least one.
	Targets []Target `yaml:"targets" json:"targets"`
	// Timeout, when set, overrides the provider's timeout for this model.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Price, when set, overrides the built-in price table.
	Price *Price `yaml:"price,omitempty" json:"price,omitempty"`
	// LogBodies set to false turns off body capture for this model.
	LogBodies *bool `yaml:"log_bodies,omitempty" json:"log_bodies,omitempty"`
}

// Target is one upstream model behind a Model.
//
// Weight defaults to 1 when decoded from YAML or JSON without a weight key;
// a Target built in Go with Weight 0 really means weight 0 (never picked by
// the weighted strategy), which is why the default lives in the decoders and
// not in ApplyDefaults.
type Target struct {
	// Provider is the name of a declared Provider.
	Provider string `yaml:"provider" json:"provider"`
	// Model is the upstream model name; defaults to the Model's name.
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// Weight is the relative share of traffic under the weighted strategy.
	Weight int `yaml:"weight" json:"weight"`
}

// Price is a per-million-token price in US dollars.
type Price struct {
	// InputPerMTok is the price of one million input (prompt) tokens.
	InputPerMTok float64 `yaml:"input_per_mtok" json:"input_per_mtok"`
	// OutputPerMTok is the price of one million output (completion) tokens.
	OutputPerMTok float64 `yaml:"output_per_mtok" json:"output_per_mtok"`
}

// Consumer is an application that calls the gateway.
type Consumer struct {
	// Name identifies the consumer in call records; unique, lowercase.
	Name string `yaml:"name" json:"name"`
	// Team is the owning team.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
	// Keys declared in the file; more can be created through the admin API.
	Keys []ConsumerKey `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Models is an allow-list of model names; empty means every model.
	Models []string `yaml:"models,omitempty" json:"models,omitempty"`
	// LogBodies set to false turns off body capture for this consumer.
	LogBodies *bool `yaml:"log_bodies,omitempty" json:"log_bodies,omitempty"`
	// BodyMaxBytes caps the size of each captured body.
	BodyMaxBytes *int `yaml:"body_max_bytes,omitempty" json:"body_max_bytes,omitempty"`
}

// ConsumerKey is an API key declared in the file. Key is always an env:NAME
// reference: the file never holds the key itself.
type ConsumerKey struct {
	// Name tells the consumer's keys apart; unique per consumer.
	Name string `yaml:"name" json:"name"`
	// Key is the env:NAME reference holding the key.
	Key string `yaml:"key" json:"key"`
}

// Model routing strategies.
const (
	// StrategyWeighted spreads calls over targets in proportion to weight.
	StrategyWeighted = "weighted"
	// StrategyPriority uses the first target and the others in order when
	// it cannot be reached.
	StrategyPriority = "priority"
)

// strategies lists the valid Model.Strategy values, in the order shown in
// error messages.
var strategies = []string{StrategyWeighted, StrategyPriority}

// ProviderOpenAI is the type for any OpenAI-compatible upstream: OpenAI
// itself, vLLM, Ollama, LM Studio and the many hosted look-alikes.
const ProviderOpenAI = "openai"

// providerType describes what the configuration needs to know about a
// provider type; adding a type is one line in providerTypes.
type providerType struct {
	name           string
	defaultBaseURL string // "" makes base_url required
}

var providerTypes = []providerType{
	{name: ProviderOpenAI, defaultBaseURL: "https://api.openai.com/v1"},
}

// ProviderTypes returns the known provider types.
func ProviderTypes() []string {
	names := make([]string, len(providerTypes))
	for i, t := range providerTypes {
		names[i] = t.name
	}
	return names
}

func lookupProviderType(name string) (providerType, bool) {
	for _, t := range providerTypes {
		if t.name == name {
			return t, true
		}
	}
	return providerType{}, false
}

// DefaultTimeout is the provider timeout when none is configured.
const DefaultTimeout = Duration(60 * time.Second)

// ApplyDefaults fills in the defaults: provider base URL and timeout, model
// strategy, target model name. It also turns empty lists and maps into nil so
// that "models: []" and an absent key compare equal, which keeps round trips
// and Diff exact. It is idempotent.
func (c *Config) ApplyDefaults() {
	c.Providers = nilIfEmpty(c.Providers)
	c.Models = nilIfEmpty(c.Models)
	c.Consumers = nilIfEmpty(c.Consumers)
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.BaseURL == "" {
			if t, ok := lookupProviderType(p.Type); ok {
				p.BaseURL = t.defaultBaseURL
			}
		}
		if p.Timeout == 0 {
			p.Timeout = DefaultTimeout
		}
		p.APIKeys = nilIfEmpty(p.APIKeys)
		if len(p.Headers) == 0 {
			p.Headers = nil
		}
	}
	for i := range c.Models {
		m := &c.Models[i]
		if m.Strategy == "" {
			m.Strategy = StrategyWeighted
		}
		m.Targets = nilIfEmpty(m.Targets)
		for j := range m.Targets {
			if m.Targets[j].Model == "" {
				m.Targets[j].Model = m.Name
			}
		}
	}
	for i := range c.Consumers {
		k := &c.Consumers[i]
		k.Keys = nilIfEmpty(k.Keys)
		k.Models = nilIfEmpty(k.Models)
	}
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
