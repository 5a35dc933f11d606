// Package config is Hypergate's typed configuration and its YAML form, the
// declarative file operators write: decoding with line-accurate errors,
// defaults, validation, a canonical encoding, a human-readable diff between
// two configurations, and resolution of env:NAME secret references.
//
// The same structs are stored as JSON in configuration revisions and returned
// by the admin API, so YAML and JSON field names are identical.
package config

import (
	"cmp"
	"time"
)

// Config is everything an operator declares. The zero value is a valid, empty
// configuration.
type Config struct {
	Providers []Provider `yaml:"providers,omitempty" json:"providers"`
	Models    []Model    `yaml:"models,omitempty" json:"models"`
	Consumers []Consumer `yaml:"consumers,omitempty" json:"consumers"`
	Teams     []Team     `yaml:"teams,omitempty" json:"teams"`
	Services  []Service  `yaml:"services,omitempty" json:"services"`
	Prompts   []Prompt   `yaml:"prompts,omitempty" json:"prompts"`
	Notifiers []Notifier `yaml:"notifiers,omitempty" json:"notifiers"`
	Alerts    []Alert    `yaml:"alerts,omitempty" json:"alerts"`
	Probes    []Probe    `yaml:"probes,omitempty" json:"probes"`
	// Hypercare lists the hypercare windows (hypercare.go).
	Hypercare []Hypercare `yaml:"hypercare,omitempty" json:"hypercare"`
	// Scores define the feedback scores (scores.go).
	Scores []Score `yaml:"scores,omitempty" json:"scores"`
	// ReviewQueues are the queues of calls judged by hand (review.go).
	ReviewQueues []ReviewQueue `yaml:"review_queues,omitempty" json:"review_queues"`
	// Detectors tunes the anomaly detectors (detectors.go): one object, not
	// a list; absent, every detector runs with its defaults.
	Detectors *Detectors `yaml:"detectors,omitempty" json:"detectors,omitempty"`
	// Triage grades and announces incidents (triage.go): one object, not
	// a list; absent, default severities and no notifications.
	Triage *Triage `yaml:"triage,omitempty" json:"triage,omitempty"`
	// Status configures the public status page (status.go): one object,
	// not a list; absent, every service not retired, default thresholds.
	Status *StatusPage `yaml:"status,omitempty" json:"status,omitempty"`
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
	// APIVersion is the api-version of an azure-openai provider's
	// deployment URLs; a recent generally available one when unset.
	APIVersion string `yaml:"api_version,omitempty" json:"api_version,omitempty"`
}

// Model is a model name clients send and how it maps onto providers.
type Model struct {
	// Name is what clients put in the request's "model" field; unique.
	Name string `yaml:"name" json:"name"`
	// Strategy picks among Targets: StrategyWeighted (default),
	// StrategyPriority or StrategyLatency. Whatever the strategy, a call
	// that fails on one target goes on to the others, at once, before any
	// retry or fallback.
	Strategy string `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	// Targets are the upstream models serving this name; 1 to MaxTargets.
	Targets []Target `yaml:"targets" json:"targets"`
	// Fallbacks are other models tried in this order once every target
	// and retry of this one has failed in a way listed in retry_on. A
	// fallback's own fallbacks follow it, so the chain must not loop.
	Fallbacks []string `yaml:"fallbacks,omitempty" json:"fallbacks,omitempty"`
	// Retry says when and how often a failed call is tried again; the
	// defaults apply when it is absent.
	Retry *Retry `yaml:"retry,omitempty" json:"retry,omitempty"`
	// Timeout bounds the whole call: every attempt, backoff and fallback.
	// Unset, only each attempt is bounded. Before attempt_timeout existed
	// it bounded one upstream call in place of the provider's timeout, and
	// it still does when attempt_timeout is unset, so that older files keep
	// their meaning.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// AttemptTimeout bounds each attempt (one upstream call); unset, it is
	// Timeout if set, else the provider's timeout. It may not exceed
	// Timeout.
	AttemptTimeout Duration `yaml:"attempt_timeout,omitempty" json:"attempt_timeout,omitempty"`
	// Breaker is the circuit breaker of each target: on by default, with
	// the defaults below, and turned off with disabled: true.
	Breaker *Breaker `yaml:"breaker,omitempty" json:"breaker,omitempty"`
	// Price, when set, overrides the built-in price table.
	Price *Price `yaml:"price,omitempty" json:"price,omitempty"`
	// LogBodies set to false turns off body capture for this model.
	LogBodies *bool `yaml:"log_bodies,omitempty" json:"log_bodies,omitempty"`
	// Cache turns on the exact response cache for this model (opt-in).
	Cache *Cache `yaml:"cache,omitempty" json:"cache,omitempty"`
}

// Cache is a model's exact response cache: an answer is reused for a
// request equal to an earlier one (same model, same normalised body) until
// TTL has passed.
type Cache struct {
	// TTL is how long an answer is reused; required.
	TTL Duration `yaml:"ttl" json:"ttl"`
	// Shared lets every consumer reuse every consumer's answers. Off (the
	// default), answers are reused only by the consumer that got them, so
	// no application sees another's data.
	Shared bool `yaml:"shared,omitempty" json:"shared,omitempty"`
}

// MaxCacheTTL bounds Cache.TTL.
const MaxCacheTTL = Duration(30 * 24 * time.Hour)

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
	// Under every strategy, a target of weight 0 is a standby: a call
	// reaches it only after every target with a weight has failed.
	Weight int `yaml:"weight" json:"weight"`
}

// Retry is how a model's failed calls are tried again. A call first goes
// through the model's targets, one try each, without waiting; retries then
// come back to targets already tried, after an exponential backoff with
// full jitter, or after the wait an upstream asked for (Retry-After) when
// it is longer and the deadline allows it.
type Retry struct {
	// Attempts is the number of retries beyond one try per target, 0 to
	// MaxRetryAttempts: "attempts: 2" on a model with one target makes
	// three tries in all. 0 (the default) retries nothing, but the
	// model's other targets and its fallbacks are still tried.
	Attempts int `yaml:"attempts" json:"attempts"`
	// Backoff is the base of the exponential backoff: the first retry
	// waits up to Backoff, the second up to twice that, and so on.
	// DefaultBackoff when unset.
	Backoff Duration `yaml:"backoff,omitempty" json:"backoff,omitempty"`
	// MaxBackoff caps the backoff (not the upstream's Retry-After);
	// DefaultMaxBackoff when unset.
	MaxBackoff Duration `yaml:"max_backoff,omitempty" json:"max_backoff,omitempty"`
	// RetryOn lists the failures that move a call on, to a retry, another
	// target or a fallback: RetryOnServerError (5xx), RetryOnRateLimited
	// (429), RetryOnTimeout and RetryOnConnectionError; all four when
	// unset. Any other failure goes back to the client as it is, except
	// an upstream refusing the gateway's own key (401, 402, 403), which
	// always moves on since the client can do nothing about it.
	RetryOn []string `yaml:"retry_on,omitempty" json:"retry_on,omitempty"`
}

// Breaker is the circuit breaker each target of a model gets: it opens after
// Failures failures in a row, or when failures make up ErrorRatio of at
// least MinRequests calls in the last Window; it then refuses calls, which
// go at once to other targets, for Cooldown (doubling on each failed probe,
// up to ten times Cooldown), and lets a probe through to decide whether to
// close. Zero fields take the defaults.
type Breaker struct {
	// Failures in a row that open the breaker; DefaultBreakerFailures.
	Failures int `yaml:"failures,omitempty" json:"failures,omitempty"`
	// ErrorRatio of failed calls in Window that opens the breaker, above 0
	// and at most 1; DefaultBreakerErrorRatio.
	ErrorRatio float64 `yaml:"error_ratio,omitempty" json:"error_ratio,omitempty"`
	// MinRequests in Window before ErrorRatio counts;
	// DefaultBreakerMinRequests.
	MinRequests int `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	// Window is the span of ErrorRatio; DefaultBreakerWindow.
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Cooldown is how long the breaker stays open at first;
	// DefaultBreakerCooldown.
	Cooldown Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// Disabled turns the breaker off: every call goes to the targets the
	// strategy picks, however they fare.
	Disabled bool `yaml:"disabled,omitempty" json:"disabled,omitempty"`
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
	// Team is the owning team; it must be declared under teams.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
	// Keys declared in the file; more can be created through the admin API.
	Keys []ConsumerKey `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Models is an allow-list of model names; empty means every model.
	Models []string `yaml:"models,omitempty" json:"models,omitempty"`
	// LogBodies set to false turns off body capture for this consumer.
	LogBodies *bool `yaml:"log_bodies,omitempty" json:"log_bodies,omitempty"`
	// BodyMaxBytes caps the size of each captured body.
	BodyMaxBytes *int `yaml:"body_max_bytes,omitempty" json:"body_max_bytes,omitempty"`
	// Subscriptions are the services this consumer may call; declared
	// here, they count as approved.
	Subscriptions []string `yaml:"subscriptions,omitempty" json:"subscriptions,omitempty"`
	// Policies limit this consumer's calls, whatever it calls.
	Policies *Policies `yaml:"policies,omitempty" json:"policies,omitempty"`
	// SubscriptionPolicies limit this consumer's calls of one service (its
	// subscription to it, declared here or approved through the API),
	// keyed by service name: the terms of one application's access, on top
	// of the consumer's and the service's own policies.
	SubscriptionPolicies map[string]*Policies `yaml:"subscription_policies,omitempty" json:"subscription_policies,omitempty"`
	// JWT, when set, also authenticates the consumer by tokens its own
	// identity provider issues.
	JWT *ConsumerJWT `yaml:"jwt,omitempty" json:"jwt,omitempty"`
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
	// StrategyLatency sends each call to the quicker of two targets picked
	// at random, judged by their recent latency and the calls they have in
	// flight ("peak EWMA" with the power of two choices).
	StrategyLatency = "latency"
)

// strategies lists the valid Model.Strategy values, in the order shown in
// error messages.
var strategies = []string{StrategyWeighted, StrategyPriority, StrategyLatency}

// The failures a Retry may list in RetryOn.
const (
	// RetryOnServerError is a 5xx answer (and 409, which upstreams use for
	// transient conflicts).
	RetryOnServerError = "server_error"
	// RetryOnRateLimited is a 429 answer.
	RetryOnRateLimited = "rate_limited"
	// RetryOnTimeout is an attempt that ran out of time, or a 408.
	RetryOnTimeout = "timeout"
	// RetryOnConnectionError is an upstream that could not be reached or
	// broke the connection before answering.
	RetryOnConnectionError = "connection_error"
)

// retryConditions lists the valid RetryOn values, in the order shown in
// error messages and used as the default.
var retryConditions = []string{RetryOnServerError, RetryOnRateLimited, RetryOnTimeout, RetryOnConnectionError}

// RetryConditions returns the valid Retry.RetryOn values.
func RetryConditions() []string { return append([]string(nil), retryConditions...) }

// Limits and defaults of model routing.
const (
	// MaxTargets is the most targets a model may have.
	MaxTargets = 64
	// MaxRetryAttempts is the most retries a model may make.
	MaxRetryAttempts = 10
	// DefaultBackoff is Retry.Backoff when unset.
	DefaultBackoff = Duration(200 * time.Millisecond)
	// DefaultMaxBackoff is Retry.MaxBackoff when unset.
	DefaultMaxBackoff = Duration(5 * time.Second)
	// DefaultBreakerFailures is Breaker.Failures when unset.
	DefaultBreakerFailures = 5
	// DefaultBreakerErrorRatio is Breaker.ErrorRatio when unset.
	DefaultBreakerErrorRatio = 0.5
	// DefaultBreakerMinRequests is Breaker.MinRequests when unset.
	DefaultBreakerMinRequests = 20
	// DefaultBreakerWindow is Breaker.Window when unset.
	DefaultBreakerWindow = Duration(30 * time.Second)
	// DefaultBreakerCooldown is Breaker.Cooldown when unset.
	DefaultBreakerCooldown = Duration(30 * time.Second)
)

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
	{name: "anthropic", defaultBaseURL: "https://api.anthropic.com/v1"},
	{name: "gemini", defaultBaseURL: "https://generativelanguage.googleapis.com/v1beta"},
	{name: "azure-openai"}, // every resource has its own host: base_url is required
	{name: "bedrock", defaultBaseURL: "https://bedrock-runtime.us-east-1.amazonaws.com"},
	{name: "cohere", defaultBaseURL: "https://api.cohere.com/v2"},
	// Presets of the OpenAI family (the same list as provider/openai.Presets).
	{name: "mistral", defaultBaseURL: "https://api.mistral.ai/v1"},
	{name: "groq", defaultBaseURL: "https://api.groq.com/openai/v1"},
	{name: "deepseek", defaultBaseURL: "https://api.deepseek.com/v1"},
	{name: "together", defaultBaseURL: "https://api.together.xyz/v1"},
	{name: "openrouter", defaultBaseURL: "https://openrouter.ai/api/v1"},
	{name: "xai", defaultBaseURL: "https://api.x.ai/v1"},
	{name: "fireworks", defaultBaseURL: "https://api.fireworks.ai/inference/v1"},
	{name: "ollama", defaultBaseURL: "http://127.0.0.1:11434/v1"},
	{name: "vllm", defaultBaseURL: "http://127.0.0.1:8000/v1"},
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
// strategy, retry and breaker settings, target model name. It also turns empty lists and maps into nil so
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
		m.Fallbacks = nilIfEmpty(m.Fallbacks)
		m.Retry = m.Retry.withDefaults()
		m.Breaker = m.Breaker.withDefaults()
	}
	for i := range c.Consumers {
		k := &c.Consumers[i]
		k.Keys = nilIfEmpty(k.Keys)
		k.Models = nilIfEmpty(k.Models)
		k.Subscriptions = nilIfEmpty(k.Subscriptions)
		k.Policies = k.Policies.withDefaults()
		if len(k.SubscriptionPolicies) == 0 {
			k.SubscriptionPolicies = nil
		}
		for name, p := range k.SubscriptionPolicies {
			if p != nil && *p != (Policies{}) {
				k.SubscriptionPolicies[name] = p.withDefaults()
			}
		}
	}
	c.Teams = nilIfEmpty(c.Teams)
	c.Services = nilIfEmpty(c.Services)
	c.Prompts = nilIfEmpty(c.Prompts)
	for i := range c.Prompts {
		p := &c.Prompts[i]
		p.Variables = nilIfEmpty(p.Variables)
		p.Versions = nilIfEmpty(p.Versions)
		for j := range p.Versions {
			p.Versions[j].Variables = nilIfEmpty(p.Versions[j].Variables)
		}
	}
	for i := range c.Services {
		c.Services[i].applyDefaults()
	}
	c.Notifiers = nilIfEmpty(c.Notifiers)
	c.Alerts = nilIfEmpty(c.Alerts)
	c.Probes = nilIfEmpty(c.Probes)
	c.Detectors = c.Detectors.normalize()
	c.Triage = c.Triage.normalize()
	c.Status = c.Status.normalize()
	c.Hypercare = nilIfEmpty(c.Hypercare)
	for i := range c.Hypercare {
		c.Hypercare[i].applyDefaults()
	}
	c.Scores = nilIfEmpty(c.Scores)
	c.ReviewQueues = nilIfEmpty(c.ReviewQueues)
	for i := range c.ReviewQueues {
		c.ReviewQueues[i].applyDefaults()
	}
	for i := range c.Scores {
		c.Scores[i].applyDefaults()
	}
	for i := range c.Probes {
		c.Probes[i].applyDefaults()
	}
	for i := range c.Alerts {
		c.Alerts[i].applyDefaults()
	}
}

// withDefaults returns a copy of r, or of an empty Retry when r is nil, with
// its unset fields filled in. A copy, so that two models built in Go sharing
// one *Retry never see each other's defaults.
func (r *Retry) withDefaults() *Retry {
	var d Retry
	if r != nil {
		d = *r
	}
	d.Backoff = cmp.Or(d.Backoff, DefaultBackoff)
	d.MaxBackoff = cmp.Or(d.MaxBackoff, DefaultMaxBackoff)
	if len(d.RetryOn) == 0 {
		d.RetryOn = RetryConditions()
	}
	return &d
}

// withDefaults returns a copy of b, or of an empty Breaker when b is nil,
// with its unset fields filled in.
func (b *Breaker) withDefaults() *Breaker {
	var d Breaker
	if b != nil {
		d = *b
	}
	d.Failures = cmp.Or(d.Failures, DefaultBreakerFailures)
	d.ErrorRatio = cmp.Or(d.ErrorRatio, DefaultBreakerErrorRatio)
	d.MinRequests = cmp.Or(d.MinRequests, DefaultBreakerMinRequests)
	d.Window = cmp.Or(d.Window, DefaultBreakerWindow)
	d.Cooldown = cmp.Or(d.Cooldown, DefaultBreakerCooldown)
	return &d
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
