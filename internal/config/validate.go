package config

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameRe is the shape of provider, consumer and key names: they appear in
// URLs, metrics labels and log queries, so they stay boring.
var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

const nameRule = "use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"

// modelNameRe is the shape of the model names clients send. It is looser than
// nameRe because clients already use names like "meta-llama/Llama-3-8B",
// "llama3:8b" or "claude-3-5-sonnet@20240620".
var modelNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}$`)

const modelNameRule = "use up to 256 letters, digits, '.', '_', ':', '/', '@', '+' or '-', starting with a letter or digit"

const (
	apiKeyMsg      = "api_key must be a secret reference like env:OPENAI_API_KEY; secrets are never stored in clear"
	apiKeysMsg     = "api_keys entries must be secret references like env:OPENAI_API_KEY; secrets are never stored in clear"
	consumerKeyMsg = "key must be a secret reference like env:WEB_SHOP_KEY; secrets are never stored in clear"
)

// credentialHeaders may only take env:NAME values: a literal there is a
// secret in clear.
var credentialHeaders = []string{"authorization", "proxy-authorization", "api-key", "x-api-key"}

// managedHeaders are set by the gateway itself for each request; overriding
// them would corrupt the upstream exchange.
var managedHeaders = []string{
	"connection", "content-length", "host", "keep-alive", "proxy-connection",
	"te", "trailer", "transfer-encoding", "upgrade",
}

// Validate checks the configuration as it is, with or without defaults
// applied (a zero duration or an empty strategy means "the default"), and
// returns every problem as *Errors, or nil. Errors carry paths but no lines;
// Parse adds the lines.
func (c *Config) Validate() error {
	return c.validate().asError()
}

type validator struct {
	errs Errors
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validate() Errors {
	var v validator
	providers := map[string]bool{}
	for i, p := range c.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		v.provider(p, path)
		v.unique(providers, p.Name, path, "provider")
	}
	models := map[string]bool{}
	for i, m := range c.Models {
		path := fmt.Sprintf("models[%d]", i)
		v.model(m, path, providers)
		v.uniqueModel(models, m.Name, path)
	}
	v.fallbacks(c.Models, models)
	consumers := map[string]bool{}
	keyRefs := map[string]string{}
	for i, k := range c.Consumers {
		path := fmt.Sprintf("consumers[%d]", i)
		v.consumer(k, path, models, keyRefs)
		v.unique(consumers, k.Name, path, "consumer")
	}
	v.validateSections(c, models)
	return v.errs
}

// unique records name in seen and reports a second use. Names already
// reported as missing or malformed are skipped to keep the report short.
func (v *validator) unique(seen map[string]bool, name, path, kind string) {
	if !nameRe.MatchString(name) {
		return
	}
	if seen[name] {
		v.fail(path+".name", "duplicate %s name %q", kind, name)
		return
	}
	seen[name] = true
}

func (v *validator) uniqueModel(seen map[string]bool, name, path string) {
	if !modelNameRe.MatchString(name) {
		return
	}
	if seen[name] {
		v.fail(path+".name", "duplicate model name %q", name)
		return
	}
	seen[name] = true
}

func (v *validator) name(name, path string) {
	switch {
	case name == "":
		v.fail(path, "is required")
	case !nameRe.MatchString(name):
		v.fail(path, "invalid name %q: %s", name, nameRule)
	}
}

func (v *validator) provider(p Provider, path string) {
	v.name(p.Name, path+".name")
	v.apiVersion(p, path)
	pt, known := lookupProviderType(p.Type)
	switch {
	case p.Type == "":
		v.fail(path+".type", "is required (one of: %s)", strings.Join(ProviderTypes(), ", "))
	case !known:
		v.fail(path+".type", "unknown provider type %q (one of: %s)", p.Type, strings.Join(ProviderTypes(), ", "))
	}
	switch {
	case p.BaseURL != "":
		v.baseURL(p.BaseURL, path+".base_url")
	case known && pt.defaultBaseURL == "":
		v.fail(path+".base_url", "is required for type %q", p.Type)
	}
	if p.APIKey != "" && len(p.APIKeys) > 0 {
		v.fail(path+".api_keys", "use either api_key or api_keys, not both")
	}
	if p.APIKey != "" && !IsSecretRef(p.APIKey) {
		v.fail(path+".api_key", "%s", apiKeyMsg)
	}
	seen := map[string]bool{}
	for i, ref := range p.APIKeys {
		kp := fmt.Sprintf("%s.api_keys[%d]", path, i)
		switch {
		case !IsSecretRef(ref):
			v.fail(kp, "%s", apiKeysMsg)
		case seen[ref]:
			v.fail(kp, "%s is listed twice", ref)
		}
		seen[ref] = true
	}
	v.headers(p.Headers, path+".headers")
	v.positiveDuration(p.Timeout, path+".timeout")
}

// apiVersionRe is Azure's api-version shape: a date, maybe "-preview".
var apiVersionRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

func (v *validator) apiVersion(p Provider, path string) {
	switch {
	case p.APIVersion == "":
	case p.Type != "azure-openai":
		v.fail(path+".api_version", "only azure-openai providers take an api_version")
	case !apiVersionRe.MatchString(p.APIVersion):
		v.fail(path+".api_version", "want an Azure api-version like 2024-10-21 or 2025-04-01-preview, got %q", p.APIVersion)
	}
}

func (v *validator) baseURL(raw, path string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.fail(path, "invalid URL: %s", strings.TrimPrefix(err.Error(), "parse "))
	case u.Scheme != "http" && u.Scheme != "https":
		v.fail(path, "must be an absolute http or https URL")
	case u.Host == "":
		v.fail(path, "must include a host")
	case u.User != nil:
		v.fail(path, "must not contain credentials: use api_key or headers with env:NAME references")
	case u.RawQuery != "" || u.Fragment != "":
		v.fail(path, "must not contain a query or fragment")
	}
}

func (v *validator) headers(h map[string]string, path string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	canonical := map[string]string{}
	for _, name := range names {
		value := h[name]
		hp := path + "." + name
		lower := strings.ToLower(name)
		switch {
		case !isToken(name):
			v.fail(hp, "invalid header name")
			continue
		case slices.Contains(managedHeaders, lower):
			v.fail(hp, "header %s is managed by the gateway and cannot be set", name)
			continue
		case canonical[lower] != "":
			v.fail(hp, "header %s is also set as %s (header names are case-insensitive)", name, canonical[lower])
			continue
		}
		canonical[lower] = name
		switch {
		case strings.HasPrefix(value, secretPrefix) && !IsSecretRef(value):
			v.fail(hp, "malformed secret reference: want env:NAME")
		case IsSecretRef(value):
		case slices.Contains(credentialHeaders, lower):
			v.fail(hp, "header %s carries a credential: its value must be a secret reference like env:UPSTREAM_TOKEN; secrets are never stored in clear", name)
		case !isHeaderValue(value):
			v.fail(hp, "header value contains control characters")
		}
	}
}

// isToken reports whether s is an HTTP field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// isHeaderValue refuses control characters, CR and LF above all, which would
// let a value smuggle extra headers into the upstream request.
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// positiveDuration reports a negative duration. Zero means unset here, so
// that a configuration validates the same before and after ApplyDefaults;
// Parse reports an explicit zero in the file (see explicitZeros).
func (v *validator) positiveDuration(d Duration, path string) {
	if d < 0 {
		v.fail(path, "must be greater than 0")
	}
}

func (v *validator) model(m Model, path string, providers map[string]bool) {
	if c := m.Cache; c != nil {
		switch {
		case c.TTL <= 0:
			v.fail(path+".cache.ttl", "is required: how long an answer is reused, like 10m")
		case c.TTL > MaxCacheTTL:
			v.fail(path+".cache.ttl", "must be at most 720h (30 days)")
		}
	}
	switch {
	case m.Name == "":
		v.fail(path+".name", "is required")
	case !modelNameRe.MatchString(m.Name):
		v.fail(path+".name", "invalid model name %q: %s", m.Name, modelNameRule)
	}
	if m.Strategy != "" && !slices.Contains(strategies, m.Strategy) {
		v.fail(path+".strategy", "unknown strategy %q (one of: %s)", m.Strategy, strings.Join(strategies, ", "))
	}
	switch {
	case len(m.Targets) == 0:
		v.fail(path+".targets", "at least one target is required")
	case len(m.Targets) > MaxTargets:
		v.fail(path+".targets", "at most %d targets are allowed, got %d", MaxTargets, len(m.Targets))
	}
	positive := false
	seen := map[Target]bool{}
	for i, t := range m.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", path, i)
		switch {
		case t.Provider == "":
			v.fail(tp+".provider", "is required")
		case !providers[t.Provider]:
			v.fail(tp+".provider", "unknown provider %q", t.Provider)
		}
		upstream := cmp.Or(t.Model, m.Name)
		// An empty name here means the model has no name, reported above.
		if upstream != "" && !isUpstreamModel(upstream) {
			v.fail(tp+".model", "invalid upstream model name %q: use up to 256 characters without spaces or control characters", upstream)
		}
		if t.Weight < 0 {
			v.fail(tp+".weight", "must be 0 or more")
		}
		positive = positive || t.Weight > 0
		key := Target{Provider: t.Provider, Model: upstream}
		if seen[key] {
			v.fail(tp, "duplicate target %s/%s", t.Provider, upstream)
		}
		seen[key] = true
	}
	if len(m.Targets) > 0 && !positive {
		v.fail(path+".targets", "at least one target needs a weight greater than 0")
	}
	v.positiveDuration(m.Timeout, path+".timeout")
	v.positiveDuration(m.AttemptTimeout, path+".attempt_timeout")
	if m.Timeout > 0 && m.AttemptTimeout > m.Timeout {
		v.fail(path+".attempt_timeout", "must not exceed timeout (%s), which bounds the whole call", m.Timeout)
	}
	if m.Retry != nil {
		v.retry(*m.Retry, path+".retry")
	}
	if m.Breaker != nil {
		v.breaker(*m.Breaker, path+".breaker")
	}
	if m.Price != nil {
		v.price(m.Price.InputPerMTok, path+".price.input_per_mtok")
		v.price(m.Price.OutputPerMTok, path+".price.output_per_mtok")
	}
}

func (v *validator) retry(r Retry, path string) {
	if r.Attempts < 0 || r.Attempts > MaxRetryAttempts {
		v.fail(path+".attempts", "must be 0 to %d (retries after one try per target)", MaxRetryAttempts)
	}
	v.positiveDuration(r.Backoff, path+".backoff")
	v.positiveDuration(r.MaxBackoff, path+".max_backoff")
	if r.MaxBackoff > 0 && r.MaxBackoff < cmp.Or(r.Backoff, DefaultBackoff) {
		v.fail(path+".max_backoff", "must be at least backoff (%s)", cmp.Or(r.Backoff, DefaultBackoff))
	}
	seen := map[string]bool{}
	for i, cond := range r.RetryOn {
		cp := fmt.Sprintf("%s.retry_on[%d]", path, i)
		switch {
		case !slices.Contains(retryConditions, cond):
			v.fail(cp, "unknown condition %q (one of: %s)", cond, strings.Join(retryConditions, ", "))
		case seen[cond]:
			v.fail(cp, "%s is listed twice", cond)
		}
		seen[cond] = true
	}
}

func (v *validator) breaker(b Breaker, path string) {
	if b.Failures < 0 {
		v.fail(path+".failures", "must be 1 or more")
	}
	if r := b.ErrorRatio; math.IsNaN(r) || r < 0 || r > 1 {
		v.fail(path+".error_ratio", "must be a number above 0 and at most 1")
	}
	if b.MinRequests < 0 {
		v.fail(path+".min_requests", "must be 1 or more")
	}
	v.positiveDuration(b.Window, path+".window")
	v.positiveDuration(b.Cooldown, path+".cooldown")
}

// fallbacks checks every model's fallbacks once all model names are known:
// each must name another declared model, once, and following them must
// never lead back to where it started, since a fallback's own fallbacks are
// tried after it.
func (v *validator) fallbacks(ms []Model, models map[string]bool) {
	index := map[string]int{}
	for i, m := range ms {
		if _, dup := index[m.Name]; !dup {
			index[m.Name] = i
		}
	}
	for i, m := range ms {
		listed := map[string]bool{}
		for j, name := range m.Fallbacks {
			fp := fmt.Sprintf("models[%d].fallbacks[%d]", i, j)
			switch {
			case name == m.Name:
				v.fail(fp, "a model cannot fall back to itself")
			case !models[name]:
				v.fail(fp, "unknown model %q", name)
			case listed[name]:
				v.fail(fp, "model %q is listed twice", name)
			}
			listed[name] = true
		}
	}
	// Depth-first search for cycles, each reported once, at the fallback
	// that closes it. Self-references are reported above.
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]int, len(ms))
	var path []string
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		path = append(path, ms[i].Name)
		for j, name := range ms[i].Fallbacks {
			k, ok := index[name]
			if !ok || name == ms[i].Name {
				continue
			}
			switch state[k] {
			case onPath:
				start := slices.Index(path, name)
				cycle := append(slices.Clone(path[start:]), name)
				v.fail(fmt.Sprintf("models[%d].fallbacks[%d]", i, j), "fallbacks form a cycle: %s", strings.Join(cycle, " -> "))
			case unvisited:
				visit(k)
			}
		}
		path = path[:len(path)-1]
		state[i] = done
	}
	for i := range ms {
		if state[i] == unvisited {
			visit(i)
		}
	}
}

// isUpstreamModel accepts whatever an upstream may call its models (Azure
// deployment names, "models/gemini-1.5-pro", fine-tune ids) short of spaces
// and control characters, which no upstream uses and which would break logs.
func isUpstreamModel(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (v *validator) price(p float64, path string) {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		v.fail(path, "must be a number, 0 or more")
	}
}

func (v *validator) consumer(k Consumer, path string, models map[string]bool, keyRefs map[string]string) {
	v.name(k.Name, path+".name")
	names := map[string]bool{}
	for i, key := range k.Keys {
		kp := fmt.Sprintf("%s.keys[%d]", path, i)
		v.name(key.Name, kp+".name")
		if nameRe.MatchString(key.Name) {
			if names[key.Name] {
				v.fail(kp+".name", "duplicate key name %q", key.Name)
			}
			names[key.Name] = true
		}
		switch {
		case key.Key == "":
			v.fail(kp+".key", "is required")
		case !IsSecretRef(key.Key):
			v.fail(kp+".key", "%s", consumerKeyMsg)
		case keyRefs[key.Key] != "":
			// The same secret for two keys would make calls impossible to
			// attribute.
			v.fail(kp+".key", "%s is already used by %s", key.Key, keyRefs[key.Key])
		default:
			keyRefs[key.Key] = kp
		}
	}
	listed := map[string]bool{}
	for i, name := range k.Models {
		mp := fmt.Sprintf("%s.models[%d]", path, i)
		switch {
		case !models[name]:
			v.fail(mp, "unknown model %q", name)
		case listed[name]:
			v.fail(mp, "model %q is listed twice", name)
		}
		listed[name] = true
	}
	if k.BodyMaxBytes != nil && *k.BodyMaxBytes < 0 {
		v.fail(path+".body_max_bytes", "must be 0 or more")
	}
}
