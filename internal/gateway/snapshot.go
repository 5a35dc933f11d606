package gateway

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/balance"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/policy"
	"github.com/hypergate/hypergate/internal/prompt"
	"github.com/hypergate/hypergate/internal/provider"
)

// Snapshot is the compiled, immutable form of a configuration that the data
// plane reads. A new one is built off the hot path and swapped in atomically;
// requests in flight keep the one they started with.
type Snapshot struct {
	Revision  int64
	models    map[string]*model
	modelList []string // sorted, for GET /v1/models
	consumers map[string]*consumer
	keys      map[string]keyRef // SHA-256 of a key declared in the file → its owner
	secrets   []string          // every resolved secret, for redaction
	services  *serviceTable     // the services section: route table and upstream pools
	created   int64             // unix seconds, reported as models' "created"
	// policyKeys are the consumers' quota and budget counters, policyFresh
	// those of them to seed before the snapshot is put in service (policy.go).
	policyKeys, policyFresh map[string]bool
	// prompts are the prompt APIs by name, promptList their names sorted (prompt.go).
	prompts    map[string]*prompt.Prompt
	promptList []string
	// jwt are the consumers that accept JSON Web Tokens, by issuer (jwt.go).
	jwt map[string]*jwtIssuer
}

type model struct {
	name      string
	targets   []target // index-aligned with route.Targets()
	route     *balance.Route
	price     *llm.Price // nil: the built-in table
	logBodies *bool
	cache     *modelCache // nil: no response cache (cache.go)
}

type target struct {
	up    *provider.Upstream
	model string
	pool  *balance.KeyPool
}

// State is what routing learns at run time — breakers, latency estimates,
// keys set aside — kept across configuration snapshots so that a reload
// does not forget which targets are failing. Entries are keyed by what
// they describe; one that a new configuration no longer names is dropped.
type State struct {
	mu        sync.Mutex
	breakers  map[string]*balance.Breaker
	latencies map[string]*balance.Latency
	pools     map[string]*balance.KeyPool
	rest      restState // REST services' targets, connections and health checks
	// policy holds the counts of rate limits, quotas and budgets; policyKeys
	// the consumer counters the snapshot in service counts (policy.go).
	policy     *policy.Engine
	policyKeys map[string]bool
	// jwks are the JWT issuers' key sets by URL, fetched once and kept
	// across reloads (jwt.go); log reports their fetch failures.
	jwks map[string]*jwksSource
	log  *slog.Logger
}

// NewState returns an empty routing state.
func NewState() *State {
	return &State{breakers: map[string]*balance.Breaker{}, latencies: map[string]*balance.Latency{}, pools: map[string]*balance.KeyPool{},
		policy: policy.NewEngine(policy.Options{})}
}

type consumer struct {
	name      string
	allowed   map[string]bool // nil: every model
	logBodies *bool
	bodyMax   *int
	policy    *policy.Set // nil: no policies
}

type keyRef struct {
	consumer string
	keyID    string
	expires  int64 // unix nanoseconds; 0: never
}

// Compile resolves the configuration's secrets and builds a Snapshot with
// fresh routing state. It fails if a referenced environment variable is
// missing, naming it.
func Compile(cfg *config.Config, revision int64) (*Snapshot, error) {
	return CompileWith(cfg, revision, NewState())
}

// CompileWith is Compile reusing (and pruning) the routing state st.
func CompileWith(cfg *config.Config, revision int64, st *State) (*Snapshot, error) {
	return CompileReleases(cfg, revision, st, Releases{})
}

// CompileReleases is CompileWith knowing the services' releases: the
// release each published definition is, the definitions canaries serve
// and when deprecations began. A service with a canary needs its release
// in rel.
func CompileReleases(cfg *config.Config, revision int64, st *State, rel Releases) (*Snapshot, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := &Snapshot{
		Revision:  revision,
		models:    map[string]*model{},
		consumers: map[string]*consumer{},
		keys:      map[string]keyRef{},
		created:   time.Now().Unix(),
	}
	ups := map[string]*provider.Upstream{}
	pools := map[string]*balance.KeyPool{}
	usedPools := map[string]*balance.KeyPool{}
	for _, p := range cfg.Providers {
		var keys []string
		refs := p.APIKeys
		if p.APIKey != "" {
			refs = append([]string{p.APIKey}, refs...)
		}
		for _, ref := range refs {
			k, err := config.ResolveSecret(ref)
			if err != nil {
				return nil, fmt.Errorf("provider %q: %w", p.Name, err)
			}
			keys = append(keys, k)
		}
		s.secrets = append(s.secrets, keys...)
		for _, k := range keys {
			// Compound keys (Bedrock's ACCESS_KEY_ID:SECRET[:TOKEN]) are
			// redacted part by part too: a prompt may hold just the secret.
			if parts := strings.Split(k, ":"); len(parts) > 1 {
				s.secrets = append(s.secrets, parts...)
			}
		}
		var headers []provider.Header
		names := make([]string, 0, len(p.Headers))
		for n := range p.Headers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := p.Headers[n]
			if config.IsSecretRef(v) {
				r, err := config.ResolveSecret(v)
				if err != nil {
					return nil, fmt.Errorf("provider %q: header %q: %w", p.Name, n, err)
				}
				v = r
				s.secrets = append(s.secrets, r)
			}
			headers = append(headers, provider.Header{Name: n, Value: v})
		}
		timeout := time.Duration(p.Timeout)
		if timeout <= 0 {
			timeout = 60 * time.Second
		}
		up, err := provider.NewUpstream(p.Name, p.Type, p.BaseURL, keys, headers, timeout)
		if err != nil {
			return nil, err
		}
		if err := up.Configure(provider.Options{APIVersion: p.APIVersion}); err != nil {
			return nil, err
		}
		ups[p.Name] = up
		// A pool is kept while its provider keeps the same keys, so keys set
		// aside stay aside across reloads.
		pk := p.Name + "\x00" + auth.HashKey(strings.Join(keys, "\x00"))
		pool := st.pools[pk]
		if pool == nil {
			pool = balance.NewKeyPool(p.Name, keys, nil)
		}
		pools[p.Name], usedPools[pk] = pool, pool
	}
	usedBreakers := map[string]*balance.Breaker{}
	usedLatencies := map[string]*balance.Latency{}
	var specs []balance.RouteSpec
	for _, m := range cfg.Models {
		cm := &model{name: m.Name, logBodies: m.LogBodies, cache: modelCacheOf(m.Cache)}
		if m.Price != nil {
			cm.price = &llm.Price{InputPerMTok: m.Price.InputPerMTok, OutputPerMTok: m.Price.OutputPerMTok}
		}
		strategy, ok := balance.ParseStrategy(m.Strategy)
		if !ok {
			strategy = balance.StrategyWeighted
		}
		spec := balance.RouteSpec{Name: m.Name, Strategy: strategy, Policy: policyOf(m), Fallbacks: m.Fallbacks}
		bcfg := breakerConfigOf(m.Breaker)
		for i, t := range m.Targets {
			up, ok := ups[t.Provider]
			if !ok {
				return nil, fmt.Errorf("model %q: unknown provider %q", m.Name, t.Provider)
			}
			name := t.Model
			if name == "" {
				name = m.Name
			}
			cm.targets = append(cm.targets, target{up: up, model: name, pool: pools[t.Provider]})
			bt := &balance.Target{Name: t.Provider + "/" + name, Index: i, Weight: t.Weight}
			key := m.Name + "\x00" + bt.Name
			if bcfg != nil {
				bk := key + "\x00" + fmt.Sprint(*bcfg)
				if bt.Breaker = st.breakers[bk]; bt.Breaker == nil {
					bt.Breaker = balance.NewBreaker(*bcfg)
				}
				usedBreakers[bk] = bt.Breaker
			}
			if bt.Latency = st.latencies[key]; bt.Latency == nil {
				bt.Latency = balance.NewLatency(0, 0, nil)
			}
			usedLatencies[key] = bt.Latency
			spec.Targets = append(spec.Targets, bt)
		}
		specs = append(specs, spec)
		s.models[m.Name] = cm
		s.modelList = append(s.modelList, m.Name)
	}
	routes, err := balance.NewRoutes(specs)
	if err != nil {
		return nil, err
	}
	for name, r := range routes {
		s.models[name].route = r
	}
	sort.Strings(s.modelList)
	services, restUsed, err := compileServices(cfg, st, rel)
	if err != nil {
		return nil, err
	}
	s.services = services
	if s.prompts, s.promptList, err = compilePrompts(cfg); err != nil {
		return nil, err
	}
	s.secrets = append(s.secrets, services.secrets...)
	jwtSecrets, usedJWKS := []string(nil), map[string]*jwksSource(nil)
	if s.jwt, jwtSecrets, usedJWKS, err = compileJWT(cfg, st); err != nil {
		return nil, err
	}
	s.secrets = append(s.secrets, jwtSecrets...)
	for _, c := range cfg.Consumers {
		cc := &consumer{name: c.Name, logBodies: c.LogBodies, bodyMax: c.BodyMaxBytes}
		if len(c.Models) > 0 {
			cc.allowed = map[string]bool{}
			for _, m := range c.Models {
				cc.allowed[m] = true
			}
		}
		s.consumers[c.Name] = cc
		if cc.policy, err = st.compilePolicy(s, policy.Subject{Kind: policy.KindConsumer, Name: c.Name}, c.Policies); err != nil {
			return nil, err
		}
		for _, k := range c.Keys {
			secret, err := config.ResolveSecret(k.Key)
			if err != nil {
				return nil, fmt.Errorf("consumer %q: key %q: %w", c.Name, k.Name, err)
			}
			h := auth.HashKey(secret)
			if prev, dup := s.keys[h]; dup {
				return nil, fmt.Errorf("consumer %q: key %q has the same value as a key of consumer %q", c.Name, k.Name, prev.consumer)
			}
			s.keys[h] = keyRef{consumer: c.Name, keyID: "config:" + c.Name + "/" + k.Name}
			s.secrets = append(s.secrets, secret)
		}
	}
	st.breakers, st.latencies, st.pools = usedBreakers, usedLatencies, usedPools
	st.jwks = usedJWKS
	st.rest.keep(restUsed)
	st.policyKeys = s.policyKeys
	return s, nil
}

// policyOf turns a model's retry settings into a balance.Policy. timeout
// bounds the whole call; attempt_timeout (else timeout) each attempt, and
// when both are unset the provider's timeout applies per attempt.
func policyOf(m config.Model) balance.Policy {
	p := balance.Policy{
		Deadline:       time.Duration(m.Timeout),
		AttemptTimeout: time.Duration(m.AttemptTimeout),
		RetryOn:        balance.DefaultRetryOn,
	}
	if p.AttemptTimeout == 0 {
		p.AttemptTimeout = p.Deadline
	}
	if m.Retry != nil {
		p.Attempts = m.Retry.Attempts
		p.Backoff = time.Duration(m.Retry.Backoff)
		p.MaxBackoff = time.Duration(m.Retry.MaxBackoff)
		if len(m.Retry.RetryOn) > 0 {
			var os []balance.Outcome
			for _, name := range m.Retry.RetryOn {
				if o, ok := balance.ParseOutcome(name); ok {
					os = append(os, o)
				}
			}
			p.RetryOn = balance.NewOutcomeSet(os...)
		}
	}
	return p
}

// breakerConfigOf turns a model's breaker settings into a BreakerConfig, or
// nil when the breaker is disabled.
func breakerConfigOf(b *config.Breaker) *balance.BreakerConfig {
	if b == nil || b.Disabled {
		return nil
	}
	return &balance.BreakerConfig{
		Failures: b.Failures, ErrorRatio: b.ErrorRatio, MinRequests: b.MinRequests,
		Window: time.Duration(b.Window), Cooldown: time.Duration(b.Cooldown),
	}
}

// allows reports whether the consumer may use the named model.
func (c *consumer) allows(model string) bool { return c.allowed == nil || c.allowed[model] }

// Secrets returns every secret the snapshot resolved, for redaction.
func (s *Snapshot) Secrets() []string { return s.secrets }

// KeyTable maps key hashes to owners for keys created through the admin API;
// it is swapped separately from the snapshot so that creating a key does not
// recompile the configuration.
type KeyTable map[string]keyRef

// NewKeyTable builds a KeyTable from stored keys.
func NewKeyTable(keys []auth.Key) KeyTable {
	t := make(KeyTable, len(keys))
	for _, k := range keys {
		if k.RevokedAt == nil {
			ref := keyRef{consumer: k.Consumer, keyID: k.ID}
			if k.ExpiresAt != nil {
				ref.expires = k.ExpiresAt.UnixNano()
			}
			t[k.Hash] = ref
		}
	}
	return t
}

// trimBearer extracts the token of an Authorization header value.
func trimBearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}
