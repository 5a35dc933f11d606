// Package provider knows how to reach each family of upstream: where an
// operation lives under a provider's base URL and how its key is presented.
// Adapters register themselves by type name, so adding a provider family is
// one sub-package and one blank import.
package provider

import (
	"github.com/hypergate/hypergate/internal/llm"

	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Operation is what a client asked the gateway to do.
type Operation string

// The operations of the OpenAI-compatible surface.
const (
	Chat       Operation = "chat"
	Embeddings Operation = "embeddings"
	// CountTokens is Anthropic's /v1/messages/count_tokens.
	CountTokens Operation = "count_tokens"
	// Responses is OpenAI's Responses API, passed through to the OpenAI family.
	Responses Operation = "responses"
)

// Header is one HTTP header to send upstream.
type Header struct{ Name, Value string }

// Adapter is the per-family knowledge the gateway needs to send a request
// that passes through unchanged.
type Adapter interface {
	// DefaultBaseURL is used when a provider's configuration names none.
	DefaultBaseURL() string
	// URL returns the upstream URL for op under baseURL (no trailing slash).
	// Some families put the model or the stream flag in the URL (Gemini,
	// Bedrock, Azure deployments); the others ignore them.
	URL(baseURL string, op Operation, model string, stream bool) string
	// Credentials returns the headers that carry key; none when key is empty.
	Credentials(key string) []Header
}

var (
	mu       sync.RWMutex
	adapters = map[string]Adapter{}
)

// Register makes an adapter available under a type name. It panics on a
// duplicate, which can only be a programming error at init time.
func Register(typ string, a Adapter) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := adapters[typ]; dup {
		panic("provider: duplicate registration of type " + typ)
	}
	adapters[typ] = a
}

// Lookup returns the adapter registered for typ.
func Lookup(typ string) (Adapter, bool) {
	mu.RLock()
	defer mu.RUnlock()
	a, ok := adapters[typ]
	return a, ok
}

// Types lists the registered type names, sorted.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(adapters))
	for t := range adapters {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Upstream is one configured provider, compiled and ready to send to: its
// secrets are resolved and held only in memory.
type Upstream struct {
	Name    string
	Type    string
	BaseURL string
	Headers []Header // extra headers from the configuration, values resolved
	Timeout time.Duration
	Adapter Adapter

	keys []string
	next atomic.Uint64
}

// NewUpstream builds an Upstream; keys is the resolved key pool (may be empty).
func NewUpstream(name, typ, baseURL string, keys []string, headers []Header, timeout time.Duration) (*Upstream, error) {
	a, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("provider %q: unknown type %q (known: %s)", name, typ, strings.Join(Types(), ", "))
	}
	if baseURL == "" {
		baseURL = a.DefaultBaseURL()
	}
	return &Upstream{
		Name:    name,
		Type:    typ,
		BaseURL: strings.TrimRight(baseURL, "/"),
		Headers: headers,
		Timeout: timeout,
		Adapter: a,
		keys:    keys,
	}, nil
}

// Key returns the next key of the pool, round robin, with its id — the
// provider's name and the key's 1-based place in the pool, which is what
// records and logs may show — or "" and "" when there is none.
func (u *Upstream) Key() (key, id string) {
	switch len(u.keys) {
	case 0:
		return "", ""
	case 1:
		return u.keys[0], u.Name + "#1"
	}
	i := (u.next.Add(1) - 1) % uint64(len(u.keys))
	return u.keys[i], u.Name + "#" + strconv.FormatUint(i+1, 10)
}

// Secrets returns the upstream's resolved secrets (keys and header values
// that came from references), for redaction.
func (u *Upstream) Secrets() []string { return u.keys }

// URL returns the upstream URL for op on model.
func (u *Upstream) URL(op Operation, model string, stream bool) string {
	return u.Adapter.URL(u.BaseURL, op, model, stream)
}

// Translator is implemented by adapters whose upstream the gateway can
// reach through the neutral llm model: Format names the wire format (equal
// formats pass bodies through untouched), Codec translates to and from it.
type Translator interface {
	Format() string
	Codec() llm.UpstreamCodec
}

// Supporter is implemented by adapters that offer only some operations
// (Anthropic has no embeddings).
type Supporter interface {
	Supports(op Operation) bool
}

// Format returns the upstream's wire format ("" when it has no codec).
func (u *Upstream) Format() string {
	if t, ok := u.Adapter.(Translator); ok {
		return t.Format()
	}
	return ""
}

// Codec returns the upstream's codec, or nil.
func (u *Upstream) Codec() llm.UpstreamCodec {
	if t, ok := u.Adapter.(Translator); ok {
		return t.Codec()
	}
	return nil
}

// Supports reports whether the upstream offers op.
func (u *Upstream) Supports(op Operation) bool {
	if s, ok := u.Adapter.(Supporter); ok {
		return s.Supports(op)
	}
	return true
}

// Options are per-provider settings that only some families take.
type Options struct {
	// APIVersion is Azure OpenAI's api-version query parameter.
	APIVersion string
}

// Configurable is implemented by adapters that take Options. Configure
// returns a configured copy: the registered adapter is shared by every
// provider of its type and never changes.
type Configurable interface {
	Configure(o Options) (Adapter, error)
}

// Configure applies per-provider options. Options an adapter does not take
// must be empty (configuration validation sees to that).
func (u *Upstream) Configure(o Options) error {
	if o == (Options{}) {
		return nil
	}
	c, ok := u.Adapter.(Configurable)
	if !ok {
		return fmt.Errorf("provider %q: type %q takes no options", u.Name, u.Type)
	}
	a, err := c.Configure(o)
	if err != nil {
		return fmt.Errorf("provider %q: %w", u.Name, err)
	}
	u.Adapter = a
	return nil
}

// Signer is implemented by adapters whose credentials depend on the whole
// request — AWS Signature Version 4 for Bedrock. The gateway calls Sign
// after Credentials, with the final method, URL and body, and sets the
// headers it returns.
type Signer interface {
	Sign(method, url string, body []byte, key string, now time.Time) ([]Header, error)
}

// Sign returns the signature headers for a request, or nil when the
// upstream's adapter does not sign.
func (u *Upstream) Sign(method, url string, body []byte, key string) ([]Header, error) {
	if s, ok := u.Adapter.(Signer); ok {
		return s.Sign(method, url, body, key, time.Now())
	}
	return nil, nil
}
