package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// reservedPaths are the data plane's own: a route there would shadow the
// gateway's API, portal or status page.
var reservedPaths = []string{"/v1", "/healthz", "/portal", "/status", "/widget.js"}

// httpMethods are the methods a route may list.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// MaxRetries bounds ServiceUpstream.Retries.
const MaxRetries = 10

// validateSections checks teams and services, and the parts of consumers
// that refer to them.
func (v *validator) validateSections(c *Config, models map[string]bool) {
	teams := map[string]bool{}
	for i, t := range c.Teams {
		path := fmt.Sprintf("teams[%d]", i)
		v.name(t.Name, path+".name")
		v.unique(teams, t.Name, path, "team")
	}
	services := map[string]bool{}
	var routes []routeKey
	for i, s := range c.Services {
		path := fmt.Sprintf("services[%d]", i)
		v.service(s, path, teams, models)
		v.unique(services, s.Name, path, "service")
		routes = v.routeConflicts(s, path, routes)
	}
	v.prompts(c.Prompts, models, teams)
	v.alerts(c.Alerts, v.notifiers(c.Notifiers))
	v.probes(c.Probes, models, c.Consumers)
	v.detectors(c.Detectors)
	v.triage(c.Triage, c.Notifiers)
	v.statusPage(c.Status, c.Services)
	v.hypercare(c.Hypercare, c, models)
	v.scores(c.Scores)
	v.reviewQueues(c.ReviewQueues, teams)
	issuers := map[string]string{}
	for i, k := range c.Consumers {
		path := fmt.Sprintf("consumers[%d]", i)
		v.team(k.Team, path+".team", teams)
		v.consumerJWT(k.JWT, path+".jwt", issuers)
		seen := map[string]bool{}
		for j, name := range k.Subscriptions {
			sp := fmt.Sprintf("%s.subscriptions[%d]", path, j)
			switch {
			case !services[name]:
				v.fail(sp, "unknown service %q", name)
			case seen[name]:
				v.fail(sp, "service %q is listed twice", name)
			}
			seen[name] = true
		}
		v.policies(k.Policies, path+".policies")
		names := make([]string, 0, len(k.SubscriptionPolicies))
		for name := range k.SubscriptionPolicies {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			sp := path + ".subscription_policies." + name
			if !services[name] {
				v.fail(sp, "unknown service %q", name)
				continue
			}
			if p := k.SubscriptionPolicies[name]; p == nil || *p == (Policies{}) {
				v.fail(sp, "set at least one policy")
				continue
			}
			v.policies(k.SubscriptionPolicies[name], sp)
		}
	}
}

func (v *validator) team(name, path string, teams map[string]bool) {
	if name != "" && !teams[name] {
		v.fail(path, "unknown team %q: declare it under teams", name)
	}
}

func (v *validator) service(s Service, path string, teams, models map[string]bool) {
	v.name(s.Name, path+".name")
	v.team(s.Team, path+".team", teams)
	if s.Kind != "" && !slices.Contains(serviceKinds, s.Kind) {
		v.fail(path+".kind", "unknown kind %q (one of: %s)", s.Kind, strings.Join(serviceKinds, ", "))
	}
	if s.Approval != "" && !slices.Contains(approvals, s.Approval) {
		v.fail(path+".approval", "unknown approval %q (one of: %s)", s.Approval, strings.Join(approvals, ", "))
	}
	for i, tag := range s.Tags {
		if strings.TrimSpace(tag) == "" || len(tag) > 64 || !isHeaderValue(tag) {
			v.fail(fmt.Sprintf("%s.tags[%d]", path, i), "a tag is 1 to 64 printable characters")
		}
	}
	if s.OpenAPIURL != "" {
		v.baseURL(s.OpenAPIURL, path+".openapi_url")
	}
	switch s.Kind {
	case KindAI:
		if s.Upstream != nil {
			v.fail(path+".upstream", "an ai service routes to its models, not to an upstream")
		}
		if len(s.Models) == 0 {
			v.fail(path+".models", "an ai service exposes at least one model")
		}
		for i, m := range s.Models {
			if !models[m] {
				v.fail(fmt.Sprintf("%s.models[%d]", path, i), "unknown model %q", m)
			}
		}
	default:
		if len(s.Models) > 0 {
			v.fail(path+".models", "only ai services expose models")
		}
		if s.Upstream == nil {
			v.fail(path+".upstream", "a rest service needs an upstream with at least one target")
		} else {
			v.serviceUpstream(*s.Upstream, path+".upstream")
		}
	}
	if len(s.Routes) == 0 {
		v.fail(path+".routes", "a service needs at least one route")
	}
	names := map[string]bool{}
	for i, r := range s.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", path, i)
		v.route(r, rp)
		if r.Name != "" {
			if names[r.Name] {
				v.fail(rp+".name", "duplicate route name %q", r.Name)
			}
			names[r.Name] = true
		}
	}
	v.policies(s.Policies, path+".policies")
	v.webhook(s.Webhook, path+".webhook")
	v.lifecycle(s, path)
}

// lifecycle checks a service's state, sunset and canary.
func (v *validator) lifecycle(s Service, path string) {
	if s.State != "" && !slices.Contains(serviceStates, s.State) {
		v.fail(path+".state", "unknown state %q (one of: %s)", s.State, strings.Join(serviceStates, ", "))
	}
	if s.Sunset != nil {
		switch {
		case s.State != StateDeprecated && s.State != StateRetired:
			v.fail(path+".sunset", "only a deprecated or retired service has a sunset; set state: deprecated")
		case s.Sunset.IsZero():
			v.fail(path+".sunset", "want a date-time like 2027-01-31T00:00:00Z")
		}
	}
	if c := s.Canary; c != nil {
		if c.Release < 1 {
			v.fail(path+".canary.release", "must be a release number (1 or more)")
		}
		if !(c.Percent > 0 && c.Percent < 100) {
			v.fail(path+".canary.percent", "must be above 0 and below 100")
		}
		if s.State == StateRetired {
			v.fail(path+".canary", "a retired service answers no calls, so it takes no canary")
		}
	}
}

func (v *validator) serviceUpstream(u ServiceUpstream, path string) {
	if u.Balance != "" && !slices.Contains(balances, u.Balance) {
		v.fail(path+".balance", "unknown balance %q (one of: %s)", u.Balance, strings.Join(balances, ", "))
	}
	if u.HashOn != "" {
		name, isHeader := strings.CutPrefix(u.HashOn, "header:")
		switch {
		case u.Balance != BalanceHash:
			v.fail(path+".hash_on", "only balance: hash uses hash_on")
		case u.HashOn != "client_ip" && (!isHeader || !isToken(name)):
			v.fail(path+".hash_on", "want client_ip or header:NAME, got %q", u.HashOn)
		}
	}
	switch n := len(u.Targets); {
	case n == 0:
		v.fail(path+".targets", "at least one target is required")
	case n > MaxTargets:
		v.fail(path+".targets", "at most %d targets", MaxTargets)
	}
	seen := map[string]bool{}
	live := 0
	for i, t := range u.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", path, i)
		if t.URL == "" {
			v.fail(tp+".url", "is required")
		} else {
			v.baseURL(t.URL, tp+".url")
			if seen[t.URL] {
				v.fail(tp+".url", "target %s is listed twice", t.URL)
			}
			seen[t.URL] = true
		}
		switch {
		case t.Weight == nil:
			live++
		case *t.Weight < 0 || *t.Weight > 1000:
			v.fail(tp+".weight", "must be between 0 and 1000")
		case *t.Weight > 0:
			live++
		}
	}
	if len(u.Targets) > 0 && live == 0 {
		v.fail(path+".targets", "every target has weight 0: at least one must take traffic")
	}
	v.positiveDuration(u.Timeout, path+".timeout")
	if u.Retries < 0 || u.Retries > MaxRetries {
		v.fail(path+".retries", "must be between 0 and %d", MaxRetries)
	}
	if h := u.Health; h != nil {
		hp := path + ".health"
		if h.Path != "" && (!strings.HasPrefix(h.Path, "/") || !isHeaderValue(h.Path) || strings.ContainsAny(h.Path, " #")) {
			v.fail(hp+".path", "must be a path starting with /")
		}
		v.positiveDuration(h.Interval, hp+".interval")
		v.positiveDuration(h.Timeout, hp+".timeout")
		v.positiveDuration(h.EjectFor, hp+".eject_for")
		if h.Interval > 0 && h.Timeout > h.Interval {
			v.fail(hp+".timeout", "must not be longer than the interval")
		}
		if h.HealthyAfter < 0 || h.HealthyAfter > 100 {
			v.fail(hp+".healthy_after", "must be between 1 and 100")
		}
		if h.UnhealthyAfter < 0 || h.UnhealthyAfter > 100 {
			v.fail(hp+".unhealthy_after", "must be between 1 and 100")
		}
		if h.EjectAfter < -1 || h.EjectAfter > 1000 {
			v.fail(hp+".eject_after", "must be -1 (off) or between 1 and 1000")
		}
	}
}

func (v *validator) route(r Route, path string) {
	if r.Name != "" {
		v.name(r.Name, path+".name")
	}
	params, ok := v.routePath(r.Path, path+".path")
	if r.Match != "" && !slices.Contains(matches, r.Match) {
		v.fail(path+".match", "unknown match %q (one of: %s)", r.Match, strings.Join(matches, ", "))
	}
	if ok && len(params) > 0 && r.Match == MatchPrefix && r.StripPrefix {
		v.fail(path+".strip_prefix", "a path with parameters cannot be stripped; use rewrite")
	}
	for i, h := range r.Hosts {
		host := strings.TrimPrefix(h, "*.")
		if host == "" || strings.ContainsAny(host, "/:*@ ") || !isHeaderValue(host) || strings.ToLower(host) != host {
			v.fail(fmt.Sprintf("%s.hosts[%d]", path, i), "want a lowercase host name, optionally starting with *., got %q", h)
		}
	}
	seen := map[string]bool{}
	for i, m := range r.Methods {
		mp := fmt.Sprintf("%s.methods[%d]", path, i)
		switch {
		case !slices.Contains(httpMethods, m):
			v.fail(mp, "unknown method %q (one of: %s)", m, strings.Join(httpMethods, ", "))
		case seen[m]:
			v.fail(mp, "method %s is listed twice", m)
		}
		seen[m] = true
	}
	if r.Rewrite != "" {
		switch {
		case r.StripPrefix:
			v.fail(path+".rewrite", "use either rewrite or strip_prefix")
		case !strings.HasPrefix(r.Rewrite, "/") || !isHeaderValue(r.Rewrite) || strings.ContainsAny(r.Rewrite, " ?#"):
			v.fail(path+".rewrite", "must be a path starting with /")
		default:
			for _, seg := range strings.Split(r.Rewrite, "/") {
				if name, ok := paramName(seg); ok && !slices.Contains(params, name) {
					v.fail(path+".rewrite", "{%s} is not a parameter of the route's path", name)
				}
			}
		}
	}
	v.headerRules(r.RequestHeaders, path+".request_headers")
	v.headerRules(r.ResponseHeaders, path+".response_headers")
	if r.MaxBodyBytes < 0 {
		v.fail(path+".max_body_bytes", "must be 0 or more")
	}
	if c := r.CORS; c != nil {
		cp := path + ".cors"
		if len(c.Origins) == 0 {
			v.fail(cp+".origins", "at least one origin is required (\"*\" for any)")
		}
		for i, o := range c.Origins {
			op := fmt.Sprintf("%s.origins[%d]", cp, i)
			switch {
			case o == "*":
				if c.Credentials {
					v.fail(op, "\"*\" cannot be used with credentials: browsers refuse it; list the origins")
				}
			case !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2:
				v.fail(op, "want an origin like https://app.example.com (scheme and host, no path), got %q", o)
			}
		}
		for i, m := range c.Methods {
			if !slices.Contains(httpMethods, strings.ToUpper(m)) {
				v.fail(fmt.Sprintf("%s.methods[%d]", cp, i), "unknown method %q", m)
			}
		}
		for i, h := range append(append([]string(nil), c.Headers...), c.Expose...) {
			if !isToken(h) && h != "*" {
				v.fail(fmt.Sprintf("%s.headers[%d]", cp, i), "invalid header name %q", h)
			}
		}
		v.positiveDuration(c.MaxAge, cp+".max_age")
	}
	v.policies(r.Policies, path+".policies")
}

// routePath checks a route path and returns its parameter names.
func (v *validator) routePath(p, path string) ([]string, bool) {
	switch {
	case p == "":
		v.fail(path, "is required")
		return nil, false
	case !strings.HasPrefix(p, "/"):
		v.fail(path, "must start with /")
		return nil, false
	case strings.ContainsAny(p, " ?#%") || !isHeaderValue(p):
		v.fail(path, "must be a plain path: no spaces, query, fragment or escapes")
		return nil, false
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		v.fail(path, "must not end with / (prefix matching already covers what is under it)")
		return nil, false
	}
	for _, r := range reservedPaths {
		if p == r || strings.HasPrefix(p, r+"/") {
			v.fail(path, "%s is reserved for the gateway's own endpoints", r)
			return nil, false
		}
	}
	var params []string
	for _, seg := range strings.Split(p[1:], "/") {
		if name, ok := paramName(seg); ok {
			if !nameRe.MatchString(name) {
				v.fail(path, "invalid parameter {%s}: %s", name, nameRule)
				return nil, false
			}
			if slices.Contains(params, name) {
				v.fail(path, "parameter {%s} appears twice", name)
				return nil, false
			}
			params = append(params, name)
		} else if strings.ContainsAny(seg, "{}") {
			v.fail(path, "a parameter takes a whole segment, like /orders/{id}")
			return nil, false
		} else if seg == "" && p != "/" {
			v.fail(path, "empty segment (//)")
			return nil, false
		}
	}
	return params, true
}

// paramName reports whether a path segment is a {parameter}.
func paramName(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

func (v *validator) headerRules(h *HeaderRules, path string) {
	if h == nil {
		return
	}
	v.headers(h.Set, path+".set")
	for i, name := range h.Remove {
		rp := fmt.Sprintf("%s.remove[%d]", path, i)
		switch {
		case !isToken(name):
			v.fail(rp, "invalid header name %q", name)
		case slices.Contains(managedHeaders, strings.ToLower(name)):
			v.fail(rp, "header %s is managed by the gateway and cannot be removed", name)
		}
	}
}

// routeKey is what makes two routes ambiguous: the same host, path shape
// and match type with overlapping methods.
type routeKey struct {
	host, shape, match string
	methods            []string
	where              string
}

// routeConflicts reports a route that another route already answers for
// exactly, and returns the routes seen so far.
func (v *validator) routeConflicts(s Service, path string, seen []routeKey) []routeKey {
	for i, r := range s.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", path, i)
		// Parameter names do not matter: /a/{x} and /a/{y} match the same.
		var shape []string
		for _, seg := range strings.Split(r.Path, "/") {
			if _, ok := paramName(seg); ok {
				seg = "{}"
			}
			shape = append(shape, seg)
		}
		hosts := r.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		for _, h := range hosts {
			k := routeKey{host: h, shape: strings.Join(shape, "/"), match: cmpOr(r.Match, MatchPrefix), methods: r.Methods, where: rp}
			for _, o := range seen {
				if o.host == k.host && o.shape == k.shape && o.match == k.match && methodsOverlap(o.methods, k.methods) {
					v.fail(rp+".path", "route conflicts with %s: same host, path and methods", o.where)
				}
			}
			seen = append(seen, k)
		}
	}
	return seen
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func methodsOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return true
		}
	}
	return false
}

func (v *validator) policies(p *Policies, path string) {
	if p == nil {
		return
	}
	nonNegative := func(x float64, fp string) {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			v.fail(fp, "must be 0 (no limit) or more")
		}
	}
	if r := p.RateLimit; r != nil {
		rp := path + ".rate_limit"
		nonNegative(r.RequestsPerSecond, rp+".requests_per_second")
		nonNegative(r.RequestsPerMinute, rp+".requests_per_minute")
		nonNegative(float64(r.TokensPerMinute), rp+".tokens_per_minute")
		if *r == (RateLimit{}) {
			v.fail(rp, "set at least one of requests_per_second, requests_per_minute, tokens_per_minute")
		}
	}
	if q := p.Quota; q != nil {
		qp := path + ".quota"
		nonNegative(float64(q.RequestsPerDay), qp+".requests_per_day")
		nonNegative(float64(q.RequestsPerMonth), qp+".requests_per_month")
		nonNegative(float64(q.TokensPerDay), qp+".tokens_per_day")
		nonNegative(float64(q.TokensPerMonth), qp+".tokens_per_month")
		if *q == (Quota{}) {
			v.fail(qp, "set at least one of requests_per_day, requests_per_month, tokens_per_day, tokens_per_month")
		}
	}
	if b := p.Budget; b != nil {
		bp := path + ".budget"
		nonNegative(b.USDPerDay, bp+".usd_per_day")
		nonNegative(b.USDPerMonth, bp+".usd_per_month")
		if b.USDPerDay == 0 && b.USDPerMonth == 0 {
			v.fail(bp, "set usd_per_day or usd_per_month")
		}
		if b.WarnAt < 0 || b.WarnAt > 1 || math.IsNaN(b.WarnAt) {
			v.fail(bp+".warn_at", "must be a fraction between 0 and 1, like 0.8")
		}
	}
	if ip := p.IP; ip != nil {
		for i, e := range ip.Allow {
			v.ipEntry(e, fmt.Sprintf("%s.ip.allow[%d]", path, i))
		}
		for i, e := range ip.Deny {
			v.ipEntry(e, fmt.Sprintf("%s.ip.deny[%d]", path, i))
		}
	}
	if p.MaxBodyBytes < 0 {
		v.fail(path+".max_body_bytes", "must be 0 or more")
	}
}

func (v *validator) ipEntry(e, path string) {
	if _, err := ParseIPPrefix(e); err != nil {
		v.fail(path, "%v", err)
	}
}

// ParseIPPrefix reads an IP rule entry: an address (a /32 or /128) or a
// CIDR prefix.
func ParseIPPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("want an IP address or CIDR prefix like 10.0.0.0/8, got %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("want an IP address or CIDR prefix like 10.0.0.0/8, got %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
