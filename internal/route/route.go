// Package route is the data plane's route table: every service's routes
// compiled into an immutable structure that finds, for a request's host,
// path and method, the route that serves it, its service and the values of
// the path's {parameters}, without allocating. A new table is compiled off
// the hot path whenever the configuration changes and swapped in whole.
//
// Precedence, most specific first:
//
//   - host: routes listing the exact host, then routes listing a "*."
//     wildcard that covers it (the longest suffix first), then routes that
//     list no host;
//   - path, within one host group: exact paths, then paths with
//     parameters (more segments first, then exact before prefix, then a
//     literal segment before a parameter at the first place they differ),
//     then prefixes, the longest first; a prefix matches at segment
//     boundaries only (/orders matches /orders/1, never /ordersx);
//   - method: a route that lists methods answers only those. When a path
//     matches but no route for it allows the method, the search goes on to
//     less specific routes; if none takes the request, the answer is 405
//     with the methods of the most specific route whose path matched.
package route

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// MaxParams is the most {parameters} one route path may have.
const MaxParams = 16

// maxHost is the longest host name matched against host routes (DNS's
// limit); longer Host headers only reach routes that list no host.
const maxHost = 253

// Route is one compiled route of a service.
type Route struct {
	// ID is the route's index in Table.Routes: callers keep their own
	// per-route data in a slice indexed by it.
	ID int
	// Service is the route's service, and ServiceIndex its position in the
	// compiled configuration.
	Service      *config.Service
	ServiceIndex int
	// Config is the route as configured, and Index its position among the
	// service's routes.
	Config *config.Route
	Index  int
	// Name is the route's configured name, or its index when it has none:
	// what call records and policies call it.
	Name string
	// Params are the names of the path's parameters, in path order.
	Params []string

	methods []string // nil: any
}

// allows reports whether the route takes method.
func (r *Route) allows(method string) bool {
	if r.methods == nil {
		return true
	}
	for _, m := range r.methods {
		if m == method {
			return true
		}
	}
	return false
}

// Match is the result of a lookup. Its values are substrings of the path
// looked up and are valid as long as that path is.
type Match struct {
	// Route is the matching route, or nil.
	Route *Route
	// Allow, when Route is nil, is non-empty if a route's path matched but
	// no route took the method: the methods to list in a 405's Allow header.
	Allow string
	// Matched is how many bytes at the start of the path the route's path
	// matched; what follows (for a prefix route) is the part under it.
	// It is 0 for the root prefix "/".
	Matched int

	n      int
	values [MaxParams]string
}

// Param returns the value of the named parameter, or "".
func (m *Match) Param(name string) string {
	if m.Route == nil {
		return ""
	}
	for i, p := range m.Route.Params {
		if p == name && i < m.n {
			return m.values[i]
		}
	}
	return ""
}

// ParamAt returns the value of the i-th parameter, in path order.
func (m *Match) ParamAt(i int) string {
	if i < 0 || i >= m.n {
		return ""
	}
	return m.values[i]
}

// NumParams is the number of parameter values captured.
func (m *Match) NumParams() int { return m.n }

// Table is a compiled, immutable route table; it is safe for concurrent use.
type Table struct {
	routes    []*Route
	hosts     map[string]*group
	wildcards map[string]*group // by the suffix after "*."
	any       *group
}

// group holds the routes of one host key.
type group struct {
	exact  map[string]*node
	prefix map[string]*node
	root   *node // the prefix "/"
	// Parameter paths, indexed by their first segment when it is literal;
	// paramAny holds those starting with a parameter. Both are sorted by
	// rank.
	paramFirst map[string][]*node
	paramAny   []*node
}

// node is one path key (shape and match type) within a group: routes with
// disjoint methods share it.
type node struct {
	routes []*Route
	segs   []segment // parameter paths only
	exact  bool
	rank   int // parameter paths: position in precedence order, lower first
	// allow lists the methods of the node's routes, for a 405's Allow
	// header; "" when one of them takes any method.
	allow string
}

type segment struct {
	lit   string
	param bool
}

// Compile builds the table of every route of services. It keeps pointers
// into services, which must not change afterwards. Services are expected
// to be validated (config.Config.Validate); Compile still refuses what
// would make matching ambiguous or impossible.
func Compile(services []config.Service) (*Table, error) {
	t := &Table{hosts: map[string]*group{}, wildcards: map[string]*group{}, any: newGroup()}
	var paramNodes []*node
	for si := range services {
		svc := &services[si]
		for ri := range svc.Routes {
			rc := &svc.Routes[ri]
			r := &Route{
				ID: len(t.routes), Service: svc, ServiceIndex: si, Config: rc, Index: ri,
				Name: rc.Name, methods: normMethods(rc.Methods),
			}
			if r.Name == "" {
				r.Name = strconv.Itoa(ri)
			}
			segs, params, err := parsePath(rc.Path)
			if err != nil {
				return nil, fmt.Errorf("service %q: route %s: %w", svc.Name, r.Name, err)
			}
			r.Params = params
			exact := rc.Match == config.MatchExact
			hosts := rc.Hosts
			if len(hosts) == 0 {
				hosts = []string{""}
			}
			for _, h := range hosts {
				g := t.groupFor(strings.ToLower(strings.TrimSuffix(h, ".")))
				n, created, err := g.add(rc.Path, segs, params != nil, exact, r)
				if err != nil {
					return nil, fmt.Errorf("service %q: route %s: %w", svc.Name, r.Name, err)
				}
				if created && params != nil {
					paramNodes = append(paramNodes, n)
				}
			}
			t.routes = append(t.routes, r)
		}
	}
	// Rank parameter paths once, across groups: only the relative order
	// within a group matters.
	sort.SliceStable(paramNodes, func(i, j int) bool { return paramLess(paramNodes[i], paramNodes[j]) })
	for i, n := range paramNodes {
		n.rank = i
	}
	for _, g := range t.allGroups() {
		for k := range g.paramFirst {
			sortByRank(g.paramFirst[k])
		}
		sortByRank(g.paramAny)
		g.eachNode(setAllow)
	}
	return t, nil
}

// Routes returns every route, indexed by Route.ID. The slice must not be
// modified.
func (t *Table) Routes() []*Route { return t.routes }

// Len is the number of routes.
func (t *Table) Len() int { return len(t.routes) }

func newGroup() *group {
	return &group{exact: map[string]*node{}, prefix: map[string]*node{}, paramFirst: map[string][]*node{}}
}

func (t *Table) groupFor(host string) *group {
	m, key := t.hosts, host
	switch {
	case host == "":
		return t.any
	case strings.HasPrefix(host, "*."):
		m, key = t.wildcards, host[2:]
	}
	g := m[key]
	if g == nil {
		g = newGroup()
		m[key] = g
	}
	return g
}

func (t *Table) allGroups() []*group {
	gs := []*group{t.any}
	for _, g := range t.hosts {
		gs = append(gs, g)
	}
	for _, g := range t.wildcards {
		gs = append(gs, g)
	}
	return gs
}

// add puts r under its path key in g, refusing a route whose methods
// overlap another's with the same key.
func (g *group) add(path string, segs []segment, hasParams, exact bool, r *Route) (*node, bool, error) {
	var n *node
	created := false
	switch {
	case hasParams:
		shape := shapeOf(segs, exact)
		list := g.paramAny
		if !segs[0].param {
			list = g.paramFirst[segs[0].lit]
		}
		for _, x := range list {
			if shapeOf(x.segs, x.exact) == shape {
				n = x
			}
		}
		if n == nil {
			n = &node{segs: segs, exact: exact}
			created = true
			if segs[0].param {
				g.paramAny = append(g.paramAny, n)
			} else {
				g.paramFirst[segs[0].lit] = append(list, n)
			}
		}
	case path == "/" && !exact:
		if g.root == nil {
			g.root = &node{}
			created = true
		}
		n = g.root
	default:
		m := g.prefix
		if exact {
			m = g.exact
		}
		if n = m[path]; n == nil {
			n = &node{exact: exact}
			m[path] = n
			created = true
		}
	}
	for _, o := range n.routes {
		if methodsOverlap(o.methods, r.methods) {
			return nil, false, fmt.Errorf("path %s conflicts with route %s of service %q: same host, path and methods", path, o.Name, o.Service.Name)
		}
	}
	n.routes = append(n.routes, r)
	return n, created, nil
}

func (g *group) eachNode(f func(*node)) {
	for _, n := range g.exact {
		f(n)
	}
	for _, n := range g.prefix {
		f(n)
	}
	if g.root != nil {
		f(g.root)
	}
	for _, l := range g.paramFirst {
		for _, n := range l {
			f(n)
		}
	}
	for _, n := range g.paramAny {
		f(n)
	}
}

// methodOrder is the order methods are listed in an Allow header.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// setAllow lists the methods the node's routes take, in the usual order.
func setAllow(n *node) {
	var ms []string
	for _, r := range n.routes {
		if r.methods == nil {
			return
		}
		ms = append(ms, r.methods...)
	}
	slices.SortFunc(ms, func(a, b string) int { return methodRank(a) - methodRank(b) })
	n.allow = strings.Join(slices.Compact(ms), ", ")
}

func methodRank(m string) int {
	if i := slices.Index(methodOrder, m); i >= 0 {
		return i
	}
	return len(methodOrder)
}

func normMethods(ms []string) []string {
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = strings.ToUpper(m)
	}
	return out
}

func methodsOverlap(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return true
		}
	}
	return false
}

// parsePath splits a route path into segments and returns its parameter
// names; segments are nil for a path without parameters.
func parsePath(p string) ([]segment, []string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, nil, fmt.Errorf("path %q must start with /", p)
	}
	if p == "/" {
		return nil, nil, nil
	}
	if strings.HasSuffix(p, "/") {
		return nil, nil, fmt.Errorf("path %q must not end with /", p)
	}
	var segs []segment
	var params []string
	for _, s := range strings.Split(p[1:], "/") {
		if s == "" {
			return nil, nil, fmt.Errorf("path %q has an empty segment", p)
		}
		if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
			name := s[1 : len(s)-1]
			if slices.Contains(params, name) {
				return nil, nil, fmt.Errorf("path %q repeats parameter {%s}", p, name)
			}
			params = append(params, name)
			segs = append(segs, segment{lit: name, param: true})
			continue
		}
		segs = append(segs, segment{lit: s})
	}
	if len(params) > MaxParams {
		return nil, nil, fmt.Errorf("path %q has %d parameters; at most %d", p, len(params), MaxParams)
	}
	if params == nil {
		return nil, nil, nil
	}
	return segs, params, nil
}

// shapeOf is a parameter path's key: parameter names do not matter.
func shapeOf(segs []segment, exact bool) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.param {
			b.WriteString("{}")
		} else {
			b.WriteString(s.lit)
		}
	}
	if exact {
		b.WriteString(" exact")
	}
	return b.String()
}

// paramLess orders parameter paths by precedence: more segments, then
// exact before prefix, then a literal before a parameter at the first
// place they differ.
func paramLess(a, b *node) bool {
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	if a.exact != b.exact {
		return a.exact
	}
	for i := range a.segs {
		if a.segs[i].param != b.segs[i].param {
			return !a.segs[i].param
		}
	}
	return false
}

func sortByRank(ns []*node) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].rank < ns[j].rank })
}
