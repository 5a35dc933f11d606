package route

import "strings"

// Match looks up the route for a request: host is its Host header (a port,
// a trailing dot and letter case do not matter), path its decoded path and
// method its method. It fills m and reports whether a route takes the
// request; when none does but a route's path matched, m.Allow lists the
// methods for a 405. It does not allocate.
func (t *Table) Match(host, path, method string, m *Match) bool {
	*m = Match{}
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	if len(t.hosts) > 0 || len(t.wildcards) > 0 {
		var buf [maxHost]byte
		if n := normHost(host, &buf); n > 0 {
			h := buf[:n]
			if g := t.hosts[string(h)]; g != nil && g.match(path, method, m) {
				return true
			}
			if len(t.wildcards) > 0 {
				// The longest suffix first: a.b.example.com tries
				// *.b.example.com, then *.example.com, then *.com.
				for i := 0; i < n; i++ {
					if h[i] == '.' {
						if g := t.wildcards[string(h[i+1:])]; g != nil && g.match(path, method, m) {
							return true
						}
					}
				}
			}
		}
	}
	return t.any.match(path, method, m)
}

// normHost copies host into buf without its port and trailing dot, in
// lower case, and returns its length: 0 when it is empty or too long to be
// a host name.
func normHost(host string, buf *[maxHost]byte) int {
	if len(host) > 0 && host[0] == '[' { // an IPv6 literal: [::1]:8080
		if i := strings.IndexByte(host, ']'); i > 0 {
			host = host[:i+1]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if len(host) > maxHost {
		return 0
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return len(host)
}

// match finds the route for path and method among the group's, in order of
// precedence; see the package documentation.
func (g *group) match(path, method string, m *Match) bool {
	if n := g.exact[path]; n != nil && n.pick(method, m) {
		m.Matched = len(path)
		return true
	}
	if len(g.paramAny) > 0 || len(g.paramFirst) > 0 {
		a, b := g.paramFirst[firstSegment(path)], g.paramAny
		for i, j := 0, 0; i < len(a) || j < len(b); {
			var n *node
			if j >= len(b) || i < len(a) && a[i].rank < b[j].rank {
				n, i = a[i], i+1
			} else {
				n, j = b[j], j+1
			}
			if end, ok := n.matchPath(path, &m.values); ok && n.pick(method, m) {
				m.Matched = end
				m.n = len(m.Route.Params)
				return true
			}
		}
	}
	if len(g.prefix) > 0 {
		// The candidates are the path itself and each of its prefixes that
		// ends before a "/", the longest first.
		for end := len(path); end > 1; {
			if n := g.prefix[path[:end]]; n != nil && n.pick(method, m) {
				m.Matched = end
				return true
			}
			end = strings.LastIndexByte(path[:end], '/')
		}
	}
	if g.root != nil && g.root.pick(method, m) {
		m.Matched = 0
		return true
	}
	return false
}

// pick sets m.Route to the node's route for method, or notes the node's
// methods for a 405 when it is the first path to match.
func (n *node) pick(method string, m *Match) bool {
	for _, r := range n.routes {
		if r.allows(method) {
			m.Route = r
			return true
		}
	}
	if m.Allow == "" {
		m.Allow = n.allow
	}
	return false
}

// matchPath matches a parameter path segment by segment, capturing the
// parameters' values, and returns where the match ends.
func (n *node) matchPath(path string, values *[MaxParams]string) (int, bool) {
	i, end, p := 1, 0, 0
	for _, s := range n.segs {
		if i > len(path) {
			return 0, false
		}
		e := len(path)
		if j := strings.IndexByte(path[i:], '/'); j >= 0 {
			e = i + j
		}
		seg := path[i:e]
		if s.param {
			if seg == "" {
				return 0, false
			}
			values[p] = seg
			p++
		} else if seg != s.lit {
			return 0, false
		}
		end, i = e, e+1
	}
	if n.exact {
		return end, end == len(path)
	}
	return end, end == len(path) || path[end] == '/'
}

// firstSegment is the path's first segment, without slashes.
func firstSegment(path string) string {
	s := path[1:]
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}
