package config

import (
	"strings"
	"time"
)

// Team owns services and consumers; roles can be scoped to one team, so a
// team's members see and change only what their team owns.
type Team struct {
	// Name identifies the team; unique, lowercase.
	Name string `yaml:"name" json:"name"`
	// Description says what the team does, for the catalog and console.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Service kinds.
const (
	// KindREST is an ordinary HTTP API proxied to its upstream targets.
	KindREST = "rest"
	// KindAI exposes a set of models under the service's own path.
	KindAI = "ai"
)

var serviceKinds = []string{KindREST, KindAI}

// Subscription approval modes.
const (
	// ApprovalAuto grants a subscription as soon as it is asked for.
	ApprovalAuto = "auto"
	// ApprovalManual waits for an approver of the owning team.
	ApprovalManual = "manual"
)

var approvals = []string{ApprovalAuto, ApprovalManual}

// Upstream balancing algorithms of REST services.
const (
	BalanceRoundRobin = "round_robin"
	BalanceWeighted   = "weighted"
	BalanceLeastConn  = "least_conn"
	// BalanceHash sends equal keys (a header, or the client's IP) to the
	// same target while the set of healthy targets is unchanged.
	BalanceHash = "hash"
)

var balances = []string{BalanceRoundRobin, BalanceWeighted, BalanceLeastConn, BalanceHash}

// Service is an API published through the gateway: a REST service proxied
// to its own upstream, or an AI service exposing some of the models.
type Service struct {
	// Name identifies the service; unique, lowercase.
	Name string `yaml:"name" json:"name"`
	// Team is the owning team; it must be declared under teams.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
	// Kind is KindREST (default) or KindAI.
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Description and Tags describe the service in the catalog.
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Tags        []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// OpenAPIURL is where the service's OpenAPI document can be imported
	// from; a document can also be uploaded through the admin API.
	OpenAPIURL string `yaml:"openapi_url,omitempty" json:"openapi_url,omitempty"`
	// Approval is how subscriptions are granted: ApprovalAuto (default) or
	// ApprovalManual.
	Approval string `yaml:"approval,omitempty" json:"approval,omitempty"`
	// Public services can be called without a subscription by any consumer
	// with a key (the catalog still lists them).
	Public bool `yaml:"public,omitempty" json:"public,omitempty"`
	// Upstream is where a REST service's calls go; required for KindREST.
	Upstream *ServiceUpstream `yaml:"upstream,omitempty" json:"upstream,omitempty"`
	// Models are the model names an AI service exposes; required for KindAI.
	Models []string `yaml:"models,omitempty" json:"models,omitempty"`
	// Routes say which requests reach the service.
	Routes []Route `yaml:"routes,omitempty" json:"routes,omitempty"`
	// Policies apply to every call of the service.
	Policies *Policies `yaml:"policies,omitempty" json:"policies,omitempty"`
	// Webhook, when set, is told about every subscription request and
	// decision.
	Webhook *Webhook `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// State is where the service is in its lifecycle: StatePublished (the
	// default, also when empty), StateDeprecated (it answers as usual, with
	// Deprecation and Sunset headers) or StateRetired (it answers 410 Gone).
	State string `yaml:"state,omitempty" json:"state,omitempty"`
	// Sunset is when a deprecated service is to stop answering, announced
	// in the Sunset header; only with StateDeprecated or StateRetired.
	Sunset *time.Time `yaml:"sunset,omitempty" json:"sunset,omitempty"`
	// Canary serves a share of the service's calls with the definition of
	// one of its releases, to try a change on a little traffic first.
	Canary *ServiceCanary `yaml:"canary,omitempty" json:"canary,omitempty"`
}

// Service lifecycle states.
const (
	// StatePublished is a service in normal service.
	StatePublished = "published"
	// StateDeprecated still answers, but tells its callers it is going away.
	StateDeprecated = "deprecated"
	// StateRetired no longer answers its routes: every call gets 410 Gone.
	StateRetired = "retired"
)

var serviceStates = []string{StatePublished, StateDeprecated, StateRetired}

// ServiceCanary sends Percent of a service's calls to the definition of
// release Release of the service (kept by the gateway's store); the other
// calls get the published definition. Which calls go is decided by a hash
// of the request id, so a retried request that keeps its id lands on the
// same side.
type ServiceCanary struct {
	// Release is the number of the service's release that serves the
	// canary's share.
	Release int `yaml:"release" json:"release"`
	// Percent is the canary's share of the calls, above 0 and below 100.
	Percent float64 `yaml:"percent" json:"percent"`
}

// ServiceUpstream is a REST service's pool of targets.
type ServiceUpstream struct {
	// Balance picks a target: round_robin (default), weighted, least_conn
	// or hash.
	Balance string `yaml:"balance,omitempty" json:"balance,omitempty"`
	// HashOn is what BalanceHash hashes: "client_ip" (default) or
	// "header:NAME".
	HashOn string `yaml:"hash_on,omitempty" json:"hash_on,omitempty"`
	// Targets are the upstream base URLs; 1 to MaxTargets.
	Targets []UpstreamTarget `yaml:"targets" json:"targets"`
	// Health configures active checks and passive ejection.
	Health *HealthCheck `yaml:"health,omitempty" json:"health,omitempty"`
	// Timeout bounds one upstream request; DefaultTimeout when unset.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Retries is how many more targets an idempotent request (GET, HEAD,
	// OPTIONS, PUT, DELETE) may try after a connection error or a 502, 503
	// or 504. Other methods are never retried: the first attempt may have
	// taken effect.
	Retries int `yaml:"retries,omitempty" json:"retries,omitempty"`
}

// UpstreamTarget is one upstream base URL of a REST service.
type UpstreamTarget struct {
	URL string `yaml:"url" json:"url"`
	// Weight is relative to the other targets' (default 1); 0 takes the
	// target out of rotation.
	Weight *int `yaml:"weight,omitempty" json:"weight,omitempty"`
}

// HealthCheck configures how a REST service's targets are judged healthy.
type HealthCheck struct {
	// Path, when set, turns on active checks: a GET every Interval, healthy
	// on a 2xx or 3xx within Timeout.
	Path     string   `yaml:"path,omitempty" json:"path,omitempty"`
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	Timeout  Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// HealthyAfter and UnhealthyAfter are the consecutive check results
	// that change a target's state (defaults 2 and 3).
	HealthyAfter   int `yaml:"healthy_after,omitempty" json:"healthy_after,omitempty"`
	UnhealthyAfter int `yaml:"unhealthy_after,omitempty" json:"unhealthy_after,omitempty"`
	// EjectAfter consecutive failed calls (connection errors, 5xx) take a
	// target out of rotation for EjectFor: passive checks, on by default
	// (5 failures, 30s); EjectAfter -1 turns them off.
	EjectAfter int      `yaml:"eject_after,omitempty" json:"eject_after,omitempty"`
	EjectFor   Duration `yaml:"eject_for,omitempty" json:"eject_for,omitempty"`
}

// Route path match types.
const (
	// MatchPrefix matches the path and everything under it at a segment
	// boundary: /orders matches /orders and /orders/1, not /ordersx.
	MatchPrefix = "prefix"
	// MatchExact matches the path only. A path with {parameters} always
	// matches exactly, segment by segment.
	MatchExact = "exact"
)

var matches = []string{MatchPrefix, MatchExact}

// Route says which requests reach a service and how they are changed on
// the way.
type Route struct {
	// Name tells a service's routes apart in records and policies; default
	// the route's index.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Hosts, when set, restrict the route to these Host headers; a leading
	// "*." matches any subdomain.
	Hosts []string `yaml:"hosts,omitempty" json:"hosts,omitempty"`
	// Path starts with "/"; segments written {name} match any one segment
	// and can be used in Rewrite.
	Path string `yaml:"path" json:"path"`
	// Match is MatchPrefix (default) or MatchExact.
	Match string `yaml:"match,omitempty" json:"match,omitempty"`
	// Methods allowed; empty means all.
	Methods []string `yaml:"methods,omitempty" json:"methods,omitempty"`
	// StripPrefix removes the matched path before forwarding.
	StripPrefix bool `yaml:"strip_prefix,omitempty" json:"strip_prefix,omitempty"`
	// Rewrite replaces the matched path; {name} inserts a parameter.
	Rewrite string `yaml:"rewrite,omitempty" json:"rewrite,omitempty"`
	// RequestHeaders and ResponseHeaders are set or removed on the way.
	RequestHeaders  *HeaderRules `yaml:"request_headers,omitempty" json:"request_headers,omitempty"`
	ResponseHeaders *HeaderRules `yaml:"response_headers,omitempty" json:"response_headers,omitempty"`
	// MaxBodyBytes caps the request body (413 above it); 0 means the
	// gateway's limit.
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty" json:"max_body_bytes,omitempty"`
	// CORS answers preflight requests and adds the CORS headers.
	CORS *CORS `yaml:"cors,omitempty" json:"cors,omitempty"`
	// Policies apply to calls of this route, on top of the service's.
	Policies *Policies `yaml:"policies,omitempty" json:"policies,omitempty"`
}

// HeaderRules change headers: Set replaces (or adds) a header, Remove
// deletes it. A Set value may be an env:NAME reference.
type HeaderRules struct {
	Set    map[string]string `yaml:"set,omitempty" json:"set,omitempty"`
	Remove []string          `yaml:"remove,omitempty" json:"remove,omitempty"`
}

// CORS is a route's cross-origin policy.
type CORS struct {
	// Origins allowed; "*" allows any (never with Credentials).
	Origins     []string `yaml:"origins" json:"origins"`
	Methods     []string `yaml:"methods,omitempty" json:"methods,omitempty"`
	Headers     []string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Expose      []string `yaml:"expose,omitempty" json:"expose,omitempty"`
	Credentials bool     `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	MaxAge      Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
}

// Policies limit calls. On a consumer they count that consumer's calls; on
// a service or route, every consumer's calls together.
type Policies struct {
	RateLimit *RateLimit `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`
	Quota     *Quota     `yaml:"quota,omitempty" json:"quota,omitempty"`
	Budget    *Budget    `yaml:"budget,omitempty" json:"budget,omitempty"`
	IP        *IPRules   `yaml:"ip,omitempty" json:"ip,omitempty"`
	// MaxBodyBytes caps request bodies (413 above it).
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty" json:"max_body_bytes,omitempty"`
}

// RateLimit caps the pace of calls. Any combination may be set; each is
// enforced on its own.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second,omitempty" json:"requests_per_second,omitempty"`
	RequestsPerMinute float64 `yaml:"requests_per_minute,omitempty" json:"requests_per_minute,omitempty"`
	// TokensPerMinute counts the tokens of AI calls (input and output),
	// charged when a call ends; a call is refused while the minute's
	// tokens are spent.
	TokensPerMinute int64 `yaml:"tokens_per_minute,omitempty" json:"tokens_per_minute,omitempty"`
}

// Quota caps calls or tokens per calendar day or month (UTC).
type Quota struct {
	RequestsPerDay   int64 `yaml:"requests_per_day,omitempty" json:"requests_per_day,omitempty"`
	RequestsPerMonth int64 `yaml:"requests_per_month,omitempty" json:"requests_per_month,omitempty"`
	TokensPerDay     int64 `yaml:"tokens_per_day,omitempty" json:"tokens_per_day,omitempty"`
	TokensPerMonth   int64 `yaml:"tokens_per_month,omitempty" json:"tokens_per_month,omitempty"`
}

// Budget caps spending per calendar day or month (UTC), in US dollars: a
// warning when WarnAt of it is spent (default 0.8), refusal at 100 %.
type Budget struct {
	USDPerDay   float64 `yaml:"usd_per_day,omitempty" json:"usd_per_day,omitempty"`
	USDPerMonth float64 `yaml:"usd_per_month,omitempty" json:"usd_per_month,omitempty"`
	WarnAt      float64 `yaml:"warn_at,omitempty" json:"warn_at,omitempty"`
}

// IPRules allow or deny clients by address. Entries are addresses or CIDR
// prefixes. Deny wins; when Allow is set, anything not in it is denied.
type IPRules struct {
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	Deny  []string `yaml:"deny,omitempty" json:"deny,omitempty"`
}

// Defaults of the services section.
const (
	DefaultHealthInterval = Duration(10 * time.Second)
	DefaultHealthTimeout  = Duration(2 * time.Second)
	DefaultEjectAfter     = 5
	DefaultEjectFor       = Duration(30 * time.Second)
	DefaultBudgetWarnAt   = 0.8
)

func (s *Service) applyDefaults() {
	if s.Kind == "" {
		s.Kind = KindREST
	}
	if s.Approval == "" {
		s.Approval = ApprovalAuto
	}
	s.Tags = nilIfEmpty(s.Tags)
	s.Models = nilIfEmpty(s.Models)
	s.Routes = nilIfEmpty(s.Routes)
	s.Policies = s.Policies.withDefaults()
	for i := range s.Routes {
		r := &s.Routes[i]
		if r.Match == "" {
			r.Match = MatchPrefix
		}
		r.Hosts = nilIfEmpty(r.Hosts)
		r.Methods = nilIfEmpty(r.Methods)
		for j, m := range r.Methods {
			r.Methods[j] = strings.ToUpper(m)
		}
		r.Policies = r.Policies.withDefaults()
	}
	if u := s.Upstream; u != nil {
		if u.Balance == "" {
			u.Balance = BalanceRoundRobin
		}
		if u.Balance == BalanceHash && u.HashOn == "" {
			u.HashOn = "client_ip"
		}
		if u.Timeout == 0 {
			u.Timeout = DefaultTimeout
		}
		u.Targets = nilIfEmpty(u.Targets)
		if u.Health == nil {
			u.Health = &HealthCheck{}
		}
		h := u.Health
		if h.Path != "" {
			if h.Interval == 0 {
				h.Interval = DefaultHealthInterval
			}
			if h.Timeout == 0 {
				h.Timeout = DefaultHealthTimeout
			}
			if h.HealthyAfter == 0 {
				h.HealthyAfter = 2
			}
			if h.UnhealthyAfter == 0 {
				h.UnhealthyAfter = 3
			}
		}
		if h.EjectAfter == 0 {
			h.EjectAfter = DefaultEjectAfter
		}
		if h.EjectFor == 0 && h.EjectAfter > 0 {
			h.EjectFor = DefaultEjectFor
		}
	}
}

// withDefaults fills in a policy set's defaults; a nil or empty set stays
// nil, so that an empty "policies:" and none compare equal.
func (p *Policies) withDefaults() *Policies {
	if p == nil || *p == (Policies{}) {
		return nil
	}
	if b := p.Budget; b != nil && b.WarnAt == 0 {
		b.WarnAt = DefaultBudgetWarnAt
	}
	return p
}
