package gateway

import (
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/policy"
	"github.com/hypergate/hypergate/internal/route"
)

// serviceTable is the compiled services section of a snapshot: the route
// table, what each route does with a request (by route ID), the upstream
// pools and who is subscribed to what.
type serviceTable struct {
	routes *route.Table
	byID   []*restRoute
	pools  []*upstreamPool
	// subs maps a consumer to the services it is subscribed to.
	subs map[string]map[string]bool
	// subPolicy holds the policy sets of subscriptions, by consumer then
	// service; nil when none is declared.
	subPolicy map[string]map[string]*policy.Set
	secrets   []string // resolved env:NAME header values, for redaction
}

// restService is one compiled service.
type restService struct {
	name   string
	kind   string
	public bool
	// AI services: the models exposed, as a set and in declared order.
	models    map[string]bool
	modelList []string
	// REST services: the pool of upstream targets.
	pool *upstreamPool
	// policy is the service's policy set (every consumer's calls counted
	// together); nil when it has none.
	policy *policy.Set
	// release is the number of the release this definition is (0: not
	// known); canary, when set, serves a share of the calls with another
	// release (rest_release.go).
	release int
	canary  *canary
	// retired services answer 410; deprecation and sunset are the values
	// of the Deprecation and Sunset headers, "" for none.
	retired             bool
	deprecation, sunset string
}

// restRoute is what a route does with the requests it takes.
type restRoute struct {
	r       *route.Route
	svc     *restService
	strip   bool
	rewrite []rewritePart // nil: no rewrite
	// Header rules, names canonical and env:NAME values resolved.
	reqSet, respSet       []header
	reqRemove, respRemove []string
	maxBody               int64 // 0: the gateway's limit
	cors                  *corsPolicy
	policy                *policy.Set // the route's own policies; nil: none
}

type header struct{ name, value string }

// rewritePart is a piece of a rewrite template: a literal, or the value of
// the route's param-th parameter.
type rewritePart struct {
	lit   string
	param int // -1 for a literal
}

// balanceKind is a pool's balancing algorithm.
type balanceKind uint8

const (
	balanceRoundRobin balanceKind = iota
	balanceWeighted
	balanceLeastConn
	balanceHash
)

// upstreamPool is a REST service's targets and how calls are spread over
// them. Its targets' health lives in targetState, which outlives the pool
// across configuration changes.
type upstreamPool struct {
	service    string
	balance    balanceKind
	hashHeader string // balance hash: the header hashed; "" hashes the client IP
	targets    []*upstreamTarget
	timeout    time.Duration
	retries    int
	ejectAfter int32 // passive ejection: consecutive failures; 0 turns it off
	ejectFor   time.Duration
	// health is the active check, nil when off; healthKey identifies the
	// checker that runs it, so that an unchanged one keeps running across
	// reloads.
	health    *config.HealthCheck
	healthKey string

	next atomic.Uint64 // round robin position and tie breaks
	mu   sync.Mutex    // guards current
	// current holds the smooth weighted round robin's running weights.
	current []int
}

// upstreamTarget is one base URL of a pool.
type upstreamTarget struct {
	url      string // as configured, for records and logs
	index    int
	host     string // the Host header the upstream expects
	prefix   string // scheme://host, the start of every URL sent
	basePath string // the URL's path without a trailing slash; requests' paths follow it
	tls      bool
	weight   int
	seed     uint64 // the target's hash, for rendezvous hashing
	client   *fasthttp.HostClient
	st       *targetState
}

// targetState is what the gateway learns about a target at run time: its
// health by active checks, consecutive failed calls and ejection, and the
// calls in flight. It is kept across reloads while the service keeps the
// target.
type targetState struct {
	down         atomic.Bool  // active checks judged it unhealthy
	okRun        atomic.Int32 // consecutive passed checks
	failRun      atomic.Int32 // consecutive failed checks
	fails        atomic.Int32 // consecutive failed calls (passive)
	ejectedUntil atomic.Int64 // unix nanoseconds; passive ejection
	inflight     atomic.Int64
}

// restState is the part of State that REST services keep across reloads:
// target states, connection pools and the running health checkers.
type restState struct {
	targets map[string]*targetState         // service \x00 url
	clients map[string]*fasthttp.HostClient // url \x00 timeout

	mu       sync.Mutex // guards checkers and health (activation runs outside Compile, without State.mu)
	checkers map[string]*checker
	health   *fasthttp.Client
}

// restUsed is what a compiled configuration uses of restState, to become
// the kept state once the compilation succeeds.
type restUsed struct {
	targets map[string]*targetState
	clients map[string]*fasthttp.HostClient
}

// keep makes the entries a successful compilation used the state, and
// releases the idle connections of clients it no longer uses (calls in
// flight on an older snapshot keep working).
func (rs *restState) keep(u restUsed) {
	for k, c := range rs.clients {
		if u.clients[k] != c {
			c.CloseIdleConnections()
		}
	}
	rs.targets, rs.clients = u.targets, u.clients
}

// compileServices compiles the services section with the state st (whose
// mutex the caller holds) and what rel says of the services' releases.
// Header values that are env:NAME references are resolved here, once.
func compileServices(cfg *config.Config, st *State, rel Releases) (*serviceTable, restUsed, error) {
	used := restUsed{targets: map[string]*targetState{}, clients: map[string]*fasthttp.HostClient{}}
	t := &serviceTable{subs: map[string]map[string]bool{}}
	for _, c := range cfg.Consumers {
		if len(c.Subscriptions) > 0 {
			set := make(map[string]bool, len(c.Subscriptions))
			for _, s := range c.Subscriptions {
				set[s] = true
			}
			t.subs[c.Name] = set
		}
		for svc, p := range c.SubscriptionPolicies {
			subject := policy.Subject{Kind: policy.KindSubscription, Name: c.Name + "/" + svc}
			set, err := st.policy.Compile(subject, p)
			if err != nil {
				return nil, used, fmt.Errorf("consumer %q: subscription_policies %q: %w", c.Name, svc, err)
			}
			if set == nil {
				continue
			}
			if t.subPolicy == nil {
				t.subPolicy = map[string]map[string]*policy.Set{}
			}
			if t.subPolicy[c.Name] == nil {
				t.subPolicy[c.Name] = map[string]*policy.Set{}
			}
			t.subPolicy[c.Name][svc] = set
		}
	}
	// The route table keeps pointers into the services: give it a copy the
	// caller cannot change under it.
	services := slices.Clone(cfg.Services)
	table, err := route.Compile(services)
	if err != nil {
		return nil, used, err
	}
	t.routes = table
	compiled := make([]*restService, len(services))
	for i := range services {
		s := &services[i]
		rs, err := compileService(s, st, used)
		if err != nil {
			return nil, used, err
		}
		if rs.pool != nil {
			t.pools = append(t.pools, rs.pool)
		}
		rs.setLifecycle(s, rel)
		if s.Canary != nil && !rs.retired {
			def, ok := rel.Canaries[s.Name]
			if !ok {
				return nil, used, fmt.Errorf("service %q: canary release %d was not loaded", s.Name, s.Canary.Release)
			}
			cn, pool, secrets, err := compileCanary(s, rs, def, st, used)
			if err != nil {
				return nil, used, err
			}
			rs.canary = cn
			if pool != nil {
				t.pools = append(t.pools, pool)
			}
			t.secrets = append(t.secrets, secrets...)
		}
		compiled[i] = rs
	}
	byID, secrets, err := compileRoutes(table, compiled, st)
	if err != nil {
		return nil, used, err
	}
	t.byID = byID
	t.secrets = append(t.secrets, secrets...)
	return t, used, nil
}

// compileService compiles a service but its routes: its kind, models or
// upstream pool, and its policies.
func compileService(s *config.Service, st *State, used restUsed) (*restService, error) {
	rs := &restService{name: s.Name, kind: s.Kind, public: s.Public}
	var err error
	if rs.policy, err = st.policy.Compile(policy.Subject{Kind: policy.KindService, Name: s.Name}, s.Policies); err != nil {
		return nil, fmt.Errorf("service %q: policies: %w", s.Name, err)
	}
	if rs.kind == "" {
		rs.kind = config.KindREST
	}
	switch rs.kind {
	case config.KindAI:
		rs.models = map[string]bool{}
		for _, m := range s.Models {
			rs.models[m] = true
		}
		rs.modelList = slices.Clone(s.Models)
	default:
		if s.Upstream == nil || len(s.Upstream.Targets) == 0 {
			return nil, fmt.Errorf("service %q: a rest service needs an upstream with at least one target", s.Name)
		}
		p, err := compilePool(s.Name, s.Upstream, st, used)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
		rs.pool = p
	}
	return rs, nil
}

// compileRoutes compiles what each route of table does, by route ID, and
// returns the secrets their header rules resolved. compiled are the
// table's services, by their index.
func compileRoutes(table *route.Table, compiled []*restService, st *State) ([]*restRoute, []string, error) {
	var byID []*restRoute
	var all []string
	for _, r := range table.Routes() {
		rr, secrets, err := compileRoute(r, compiled[r.ServiceIndex])
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: route %s: %w", r.Service.Name, r.Name, err)
		}
		subject := policy.Subject{Kind: policy.KindRoute, Name: r.Service.Name + "/" + r.Name}
		if rr.policy, err = st.policy.Compile(subject, r.Config.Policies); err != nil {
			return nil, nil, fmt.Errorf("service %q: route %s: policies: %w", r.Service.Name, r.Name, err)
		}
		byID = append(byID, rr)
		all = append(all, secrets...)
	}
	return byID, all, nil
}

func compilePool(service string, u *config.ServiceUpstream, st *State, used restUsed) (*upstreamPool, error) {
	if len(u.Targets) > 64 { // tried-target sets are 64-bit masks
		return nil, fmt.Errorf("at most 64 targets, got %d", len(u.Targets))
	}
	p := &upstreamPool{service: service, timeout: time.Duration(u.Timeout), retries: u.Retries}
	if p.timeout <= 0 {
		p.timeout = time.Duration(config.DefaultTimeout)
	}
	switch u.Balance {
	case config.BalanceWeighted:
		p.balance = balanceWeighted
	case config.BalanceLeastConn:
		p.balance = balanceLeastConn
	case config.BalanceHash:
		p.balance = balanceHash
		if name, ok := strings.CutPrefix(u.HashOn, "header:"); ok {
			p.hashHeader = name
		}
	}
	h := u.Health
	if h == nil {
		h = &config.HealthCheck{}
	}
	switch {
	case h.EjectAfter > 0:
		p.ejectAfter = int32(h.EjectAfter)
	case h.EjectAfter == 0: // defaults not applied (a configuration built in Go)
		p.ejectAfter = config.DefaultEjectAfter
	}
	p.ejectFor = time.Duration(h.EjectFor)
	if p.ejectFor <= 0 {
		p.ejectFor = time.Duration(config.DefaultEjectFor)
	}
	if h.Path != "" {
		hc := *h
		if hc.Interval <= 0 {
			hc.Interval = config.DefaultHealthInterval
		}
		if hc.Timeout <= 0 {
			hc.Timeout = config.DefaultHealthTimeout
		}
		hc.HealthyAfter = max(hc.HealthyAfter, 1)
		hc.UnhealthyAfter = max(hc.UnhealthyAfter, 1)
		p.health = &hc
		var key strings.Builder
		fmt.Fprintf(&key, "%s\x00%s\x00%d\x00%d\x00%d\x00%d", service, hc.Path, hc.Interval, hc.Timeout, hc.HealthyAfter, hc.UnhealthyAfter)
		for _, t := range u.Targets {
			key.WriteString("\x00" + t.URL)
		}
		p.healthKey = key.String()
	}
	for i, tc := range u.Targets {
		t, err := newTarget(tc.URL, i)
		if err != nil {
			return nil, err
		}
		t.weight = 1
		if tc.Weight != nil {
			t.weight = *tc.Weight
		}
		sk := service + "\x00" + tc.URL
		if t.st = st.rest.targets[sk]; t.st == nil {
			t.st = &targetState{}
		}
		used.targets[sk] = t.st
		ck := tc.URL + "\x00" + p.timeout.String()
		if t.client = st.rest.clients[ck]; t.client == nil {
			t.client = newHostClient(t, p.timeout)
		}
		used.clients[ck] = t.client
		p.targets = append(p.targets, t)
	}
	p.current = make([]int, len(p.targets))
	return p, nil
}

// newTarget parses a target's base URL.
func newTarget(raw string, index int) (*upstreamTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q: want an absolute http or https URL", raw)
	}
	return &upstreamTarget{
		url: raw, index: index, host: u.Host, tls: u.Scheme == "https",
		prefix:   u.Scheme + "://" + u.Host,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		seed:     fnv64a(raw),
	}, nil
}

// restClientRead is the read buffer of upstream connections: room for
// large response headers.
const restClientRead = 16 << 10

// newHostClient builds the connection pool of one target. Its connections
// bound every read by timeout, so the timeout is the longest an upstream
// may stay silent — before its answer's headers and between any two reads
// of its body — rather than a cap on the whole exchange, which would cut
// long streams and downloads that are still making progress.
func newHostClient(t *upstreamTarget, timeout time.Duration) *fasthttp.HostClient {
	addr := t.host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		port := "80"
		if t.tls {
			port = "443"
		}
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), port)
	}
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	return &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    t.tls,
		Name:                     "hypergate",
		NoDefaultUserAgentHeader: true,
		MaxConns:                 4096,
		MaxConnWaitTimeout:       5 * time.Second,
		// Below common upstream keep-alive timeouts (5 s for Node.js), so
		// a pooled connection is rarely closed under a request.
		MaxIdleConnDuration:    4 * time.Second,
		ReadBufferSize:         restClientRead,
		WriteTimeout:           timeout,
		DisablePathNormalizing: true, // the gateway sends the path it matched, already escaped
		StreamResponseBody:     true,
		// The gateway decides about retries itself: on another target,
		// for idempotent methods only.
		MaxIdemponentCallAttempts: 1,
		Dial: func(addr string) (net.Conn, error) {
			c, err := dialer.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: timeout}, nil
		},
	}
}

// idleConn bounds each read by the idle timeout, on top of any deadline
// set on it.
type idleConn struct {
	net.Conn
	idle time.Duration
	hard atomic.Int64 // unix nanoseconds of the read deadline set, 0 for none
}

func (c *idleConn) Read(p []byte) (int, error) {
	d := time.Now().Add(c.idle)
	if h := c.hard.Load(); h != 0 && h < d.UnixNano() {
		d = time.Unix(0, h)
	}
	if err := c.Conn.SetReadDeadline(d); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.setHard(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *idleConn) SetDeadline(t time.Time) error {
	c.setHard(t)
	return c.Conn.SetDeadline(t)
}

func (c *idleConn) setHard(t time.Time) {
	if t.IsZero() {
		c.hard.Store(0)
	} else {
		c.hard.Store(t.UnixNano())
	}
}

// compileRoute compiles what a route does with a request and returns the
// secrets its header rules resolved.
func compileRoute(r *route.Route, svc *restService) (*restRoute, []string, error) {
	rc := r.Config
	rr := &restRoute{r: r, svc: svc, strip: rc.StripPrefix, maxBody: rc.MaxBodyBytes}
	if rc.Rewrite != "" {
		rr.rewrite = compileRewrite(rc.Rewrite, r.Params)
	}
	var secrets []string
	var err error
	if rc.RequestHeaders != nil {
		if rr.reqSet, err = resolveHeaders(rc.RequestHeaders.Set, &secrets); err != nil {
			return nil, nil, fmt.Errorf("request_headers: %w", err)
		}
		rr.reqRemove = canonicalNames(rc.RequestHeaders.Remove)
	}
	if rc.ResponseHeaders != nil {
		if rr.respSet, err = resolveHeaders(rc.ResponseHeaders.Set, &secrets); err != nil {
			return nil, nil, fmt.Errorf("response_headers: %w", err)
		}
		rr.respRemove = canonicalNames(rc.ResponseHeaders.Remove)
	}
	if rc.CORS != nil {
		rr.cors = compileCORS(rc.CORS, rc.Methods)
	}
	return rr, secrets, nil
}

// compileRewrite splits a rewrite template into literals and parameters.
func compileRewrite(tmpl string, params []string) []rewritePart {
	var parts []rewritePart
	var lit strings.Builder
	for i, seg := range strings.Split(tmpl, "/") {
		if i > 0 {
			lit.WriteByte('/')
		}
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			if p := slices.Index(params, seg[1:len(seg)-1]); p >= 0 {
				if lit.Len() > 0 {
					parts = append(parts, rewritePart{lit: lit.String(), param: -1})
					lit.Reset()
				}
				parts = append(parts, rewritePart{param: p})
				continue
			}
		}
		lit.WriteString(seg)
	}
	if lit.Len() > 0 || len(parts) == 0 {
		parts = append(parts, rewritePart{lit: lit.String(), param: -1})
	}
	return parts
}

func resolveHeaders(set map[string]string, secrets *[]string) ([]header, error) {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]header, 0, len(names))
	for _, n := range names {
		v := set[n]
		if config.IsSecretRef(v) {
			r, err := config.ResolveSecret(v)
			if err != nil {
				return nil, fmt.Errorf("header %q: %w", n, err)
			}
			v = r
			*secrets = append(*secrets, r)
		}
		out = append(out, header{name: textproto.CanonicalMIMEHeaderKey(n), value: v})
	}
	return out, nil
}

func canonicalNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = textproto.CanonicalMIMEHeaderKey(n)
	}
	return out
}

// subscriptionPolicy is the policy set of a consumer's subscription to a
// service, or nil.
func (t *serviceTable) subscriptionPolicy(consumer, service string) *policy.Set {
	return t.subPolicy[consumer][service]
}

// subscribed reports whether the consumer may call the service.
func (t *serviceTable) subscribed(consumer, service string) bool {
	return t.subs[consumer][service]
}

// fnv64a hashes s (FNV-1a, 64 bits): stable across processes and nodes, so
// every gateway node hashes a key to the same target.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func fnv64aBytes(b []byte) uint64 { return fnv64a(b2s(b)) }

// statusLabel is a status code as text, without allocating for valid ones.
func statusLabel(s int) string {
	if t, ok := statusTexts[s]; ok {
		return t
	}
	return strconv.Itoa(s)
}
