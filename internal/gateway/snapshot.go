package gateway

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/llm"
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
	created   int64             // unix seconds, reported as models' "created"
}

type model struct {
	name        string
	targets     []target
	totalWeight int
	timeout     time.Duration // 0: the provider's
	price       *llm.Price    // nil: the built-in table
	logBodies   *bool
}

type target struct {
	up     *provider.Upstream
	model  string
	weight int
}

type consumer struct {
	name      string
	allowed   map[string]bool // nil: every model
	logBodies *bool
	bodyMax   *int
}

type keyRef struct {
	consumer string
	keyID    string
}

// Compile resolves the configuration's secrets and builds a Snapshot. It
// fails if a referenced environment variable is missing, naming it.
func Compile(cfg *config.Config, revision int64) (*Snapshot, error) {
	s := &Snapshot{
		Revision:  revision,
		models:    map[string]*model{},
		consumers: map[string]*consumer{},
		keys:      map[string]keyRef{},
		created:   time.Now().Unix(),
	}
	ups := map[string]*provider.Upstream{}
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
		ups[p.Name] = up
	}
	for _, m := range cfg.Models {
		cm := &model{name: m.Name, timeout: time.Duration(m.Timeout), logBodies: m.LogBodies}
		if m.Price != nil {
			cm.price = &llm.Price{InputPerMTok: m.Price.InputPerMTok, OutputPerMTok: m.Price.OutputPerMTok}
		}
		for _, t := range m.Targets {
			up, ok := ups[t.Provider]
			if !ok {
				return nil, fmt.Errorf("model %q: unknown provider %q", m.Name, t.Provider)
			}
			name := t.Model
			if name == "" {
				name = m.Name
			}
			w := t.Weight
			if m.Strategy == "priority" {
				// Priority sends everything to the first target; the others
				// are reached by fallback, not by chance.
				w = 0
				if len(cm.targets) == 0 {
					w = 1
				}
			}
			cm.targets = append(cm.targets, target{up: up, model: name, weight: w})
			cm.totalWeight += w
		}
		if cm.totalWeight <= 0 {
			return nil, fmt.Errorf("model %q: no target has a positive weight", m.Name)
		}
		s.models[m.Name] = cm
		s.modelList = append(s.modelList, m.Name)
	}
	sort.Strings(s.modelList)
	for _, c := range cfg.Consumers {
		cc := &consumer{name: c.Name, logBodies: c.LogBodies, bodyMax: c.BodyMaxBytes}
		if len(c.Models) > 0 {
			cc.allowed = map[string]bool{}
			for _, m := range c.Models {
				cc.allowed[m] = true
			}
		}
		s.consumers[c.Name] = cc
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
	return s, nil
}

// pick chooses a target by weight.
func (m *model) pick() target {
	if len(m.targets) == 1 {
		return m.targets[0]
	}
	n := rand.IntN(m.totalWeight)
	for _, t := range m.targets {
		if n < t.weight {
			return t
		}
		n -= t.weight
	}
	return m.targets[0]
}

// plan is the ordered list of targets to try for one call. Retries,
// fallbacks and breakers extend it (issue 3); today it is one weighted pick.
func (m *model) plan() []target { return []target{m.pick()} }

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
			t[k.Hash] = keyRef{consumer: k.Consumer, keyID: k.ID}
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
