package route

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

// svc builds a service from routes written as "[host,host ]METHODS path[ exact]",
// e.g. "GET,POST /orders", "* /orders/{id} exact", "api.example.com * /".
func svc(name string, routes ...string) config.Service {
	s := config.Service{Name: name, Kind: config.KindREST}
	for i, spec := range routes {
		f := strings.Fields(spec)
		var r config.Route
		if len(f) > 2 && !strings.HasPrefix(f[1], "/") {
			r.Hosts = strings.Split(f[0], ",")
			f = f[1:]
		}
		if f[0] != "*" {
			r.Methods = strings.Split(f[0], ",")
		}
		r.Path = f[1]
		r.Match = config.MatchPrefix
		if len(f) > 2 && f[2] == "exact" {
			r.Match = config.MatchExact
		}
		r.Name = fmt.Sprintf("%s-%d", name, i)
		s.Routes = append(s.Routes, r)
	}
	return s
}

func mustCompile(t testing.TB, services ...config.Service) *Table {
	t.Helper()
	tab, err := Compile(services)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tab
}

func TestMatch(t *testing.T) {
	tab := mustCompile(t,
		svc("orders",
			"GET,POST /orders",
			"* /orders/export exact",
			"GET /orders/{id} exact",
			"DELETE /orders/{id} exact",
			"GET /orders/{id}/items/{item}",
			"GET /orders/{id}/items/first exact",
			"GET /orders/special/{x} exact",
		),
		svc("users",
			"GET /users/{id}",
			"GET /users/me exact",
			"* /{tenant}/reports exact",
		),
		svc("hosted",
			"api.example.com * /orders",
			"*.example.com * /",
			"*.eu.example.com GET /",
			"shop.test,admin.test * /admin",
		),
		svc("root", "* /"),
	)
	tests := []struct {
		name, host, path, method string
		want                     string // route name; "405:Allow" or "" for none
		matched                  int
		params                   map[string]string
	}{
		{name: "prefix itself", path: "/orders", method: "GET", want: "orders-0", matched: 7},
		{name: "exact beats prefix", path: "/orders/export", method: "PUT", want: "orders-1", matched: 14},
		{name: "parameter beats prefix", path: "/orders/42", method: "GET", want: "orders-2", matched: 10, params: map[string]string{"id": "42"}},
		{name: "same path other method", path: "/orders/42", method: "DELETE", want: "orders-3", params: map[string]string{"id": "42"}, matched: 10},
		{name: "parameter method falls to prefix", path: "/orders/42", method: "POST", want: "orders-0", matched: 7},
		{name: "prefix at segment boundary", path: "/ordersx", method: "GET", want: "root-0", matched: 0},
		{name: "prefix under", path: "/orders/42/notes", method: "POST", want: "orders-0", matched: 7},
		{name: "literal beats parameter", path: "/orders/special/1", method: "GET", want: "orders-6", matched: 17, params: map[string]string{"x": "1"}},
		{name: "exact literal beats parameter exact", path: "/orders/1/items/first", method: "GET", want: "orders-5", matched: 21, params: map[string]string{"id": "1"}},
		{name: "parameter prefix", path: "/orders/1/items/2/detail", method: "GET", want: "orders-4", matched: 17, params: map[string]string{"id": "1", "item": "2"}},
		{name: "exact literal wins", path: "/users/me", method: "GET", want: "users-1", matched: 9},
		{name: "parameter prefix under", path: "/users/7/posts", method: "GET", want: "users-0", matched: 8, params: map[string]string{"id": "7"}},
		{name: "leading parameter", path: "/acme/reports", method: "GET", want: "users-2", matched: 13, params: map[string]string{"tenant": "acme"}},
		{name: "trailing slash under prefix", path: "/orders/", method: "GET", want: "orders-0", matched: 7},
		{name: "method not allowed anywhere", path: "/users/7", method: "POST", want: "root-0"},
		{name: "exact host", host: "api.example.com", path: "/orders/1", method: "PATCH", want: "hosted-0", matched: 7},
		{name: "exact host with port and case", host: "API.Example.com:8443", path: "/orders", method: "GET", want: "hosted-0", matched: 7},
		{name: "wildcard host", host: "www.example.com", path: "/orders", method: "GET", want: "hosted-1", matched: 0},
		{name: "exact host falls to wildcard", host: "api.example.com", path: "/other", method: "GET", want: "hosted-1", matched: 0},
		{name: "longest wildcard first", host: "a.eu.example.com", path: "/x", method: "GET", want: "hosted-2", matched: 0},
		{name: "longer wildcard method falls to shorter", host: "a.eu.example.com", path: "/x", method: "POST", want: "hosted-1", matched: 0},
		{name: "wildcard needs a subdomain", host: "example.com", path: "/orders", method: "GET", want: "orders-0", matched: 7},
		{name: "trailing dot host", host: "shop.test.", path: "/admin/x", method: "GET", want: "hosted-3", matched: 6},
		{name: "second host of a route", host: "admin.test", path: "/admin", method: "GET", want: "hosted-3", matched: 6},
		{name: "unknown host to any-host routes", host: "other.test", path: "/orders", method: "POST", want: "orders-0", matched: 7},
		{name: "root", path: "/", method: "GET", want: "root-0"},
		{name: "not a path", path: "orders", method: "GET", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Match
			ok := tab.Match(tc.host, tc.path, tc.method, &m)
			got := ""
			switch {
			case ok:
				got = m.Route.Name
			case m.Allow != "":
				got = "405:" + m.Allow
			}
			if got != tc.want {
				t.Fatalf("Match(%q, %q, %s) = %q, want %q", tc.host, tc.path, tc.method, got, tc.want)
			}
			if !ok {
				return
			}
			if m.Matched != tc.matched {
				t.Errorf("Matched = %d, want %d", m.Matched, tc.matched)
			}
			if m.NumParams() != len(tc.params) {
				t.Errorf("NumParams = %d, want %d", m.NumParams(), len(tc.params))
			}
			for k, v := range tc.params {
				if got := m.Param(k); got != v {
					t.Errorf("Param(%q) = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	tab := mustCompile(t,
		svc("a", "GET,POST /orders", "DELETE /orders/{id} exact", "GET /orders/{id} exact"),
		svc("b", "h.test PUT /orders"),
	)
	tests := []struct {
		name, host, path, method, allow string
	}{
		{"prefix", "", "/orders/1/x", "PUT", "GET, POST"},
		{"parameter routes share a path", "", "/orders/1", "PATCH", "GET, DELETE"},
		{"most specific host first", "h.test", "/orders", "PATCH", "PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Match
			if tab.Match(tc.host, tc.path, tc.method, &m) {
				t.Fatalf("matched %s, want 405", m.Route.Name)
			}
			if m.Allow != tc.allow {
				t.Fatalf("Allow = %q, want %q", m.Allow, tc.allow)
			}
		})
	}
	var m Match
	if tab.Match("", "/nothing", "GET", &m) || m.Allow != "" {
		t.Fatalf("unknown path: route %v, Allow %q; want neither", m.Route, m.Allow)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name     string
		services []config.Service
		want     string
	}{
		{"same path and methods", []config.Service{svc("a", "GET /x"), svc("b", "GET,POST /x")}, "conflicts"},
		{"same shape other names", []config.Service{svc("a", "* /x/{a} exact", "* /x/{b} exact")}, "conflicts"},
		{"same host", []config.Service{svc("a", "h.test GET /x", "h.test GET /x")}, "conflicts"},
		{"relative path", []config.Service{{Name: "a", Routes: []config.Route{{Path: "x"}}}}, "must start with /"},
		{"empty segment", []config.Service{{Name: "a", Routes: []config.Route{{Path: "/a//b"}}}}, "empty segment"},
		{"repeated parameter", []config.Service{{Name: "a", Routes: []config.Route{{Path: "/{a}/{a}"}}}}, "repeats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.services)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Disjoint methods on one path, or one path on different hosts, are fine.
	if _, err := Compile([]config.Service{svc("a", "GET /x", "POST /x", "h.test GET /x", "* /x exact")}); err != nil {
		t.Fatalf("Compile: %v", err)
	}
}

func TestRouteNames(t *testing.T) {
	s := config.Service{Name: "s", Routes: []config.Route{{Path: "/a"}, {Name: "named", Path: "/b"}}}
	tab := mustCompile(t, s)
	var names []string
	for i, r := range tab.Routes() {
		if r.ID != i || r.Service.Name != "s" {
			t.Errorf("route %d: ID %d, service %q", i, r.ID, r.Service.Name)
		}
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"0", "named"}) {
		t.Fatalf("names = %q, want [0 named]", names)
	}
}

// bigTable is a realistic table of a few hundred routes: services with
// literal prefixes, parameter paths, exact paths and host routes.
func bigTable(tb testing.TB, n int) (*Table, []string) {
	var services []config.Service
	var paths []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%03d", i)
		s := svc(name,
			fmt.Sprintf("GET,POST /%s", name),
			fmt.Sprintf("GET,PUT,DELETE /%s/items/{id} exact", name),
			fmt.Sprintf("GET /%s/items/{id}/parts/{part}", name),
			fmt.Sprintf("* /%s/health exact", name),
			fmt.Sprintf("%s.example.com * /api", name),
		)
		services = append(services, s)
		paths = append(paths, "/"+name+"/items/123", "/"+name+"/orders/9/x", "/"+name+"/health", "/"+name+"/items/1/parts/2/x")
	}
	tab, err := Compile(services)
	if err != nil {
		tb.Fatal(err)
	}
	return tab, paths
}

func TestMatchAllocs(t *testing.T) {
	tab, paths := bigTable(t, 60)
	var m Match
	allocs := testing.AllocsPerRun(200, func() {
		for _, p := range paths[:40] {
			tab.Match("Svc001.Example.com:443", p, "GET", &m)
			tab.Match("", p, "GET", &m)
		}
	})
	if allocs != 0 {
		t.Fatalf("Match allocates %.1f times per run, want 0", allocs)
	}
}

func BenchmarkMatch(b *testing.B) {
	tab, paths := bigTable(b, 80) // 400 routes
	b.Logf("%d routes", tab.Len())
	for _, bc := range []struct{ name, host string }{{"anyhost", "gateway.local"}, {"hostroute", "svc042.example.com"}} {
		b.Run(bc.name, func(b *testing.B) {
			var m Match
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tab.Match(bc.host, paths[i%len(paths)], "GET", &m)
				i++
			}
		})
	}
}

// reference is a slow, obviously correct matcher: it ranks every route
// against the request by the documented precedence and returns the best.
func reference(tab *Table, host, path, method string) (name string, allow bool, matched int, params map[string]string) {
	if path == "" || path[0] != '/' {
		return "", false, 0, nil
	}
	h := strings.ToLower(host)
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[:i+1]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if len(h) > maxHost {
		h = ""
	}
	type cand struct {
		r         *Route
		hostRank  int // 0 exact, 1.. wildcard by suffix length (shorter later), big: any
		pathClass int // 0 exact, 1 params, 2 prefix, 3 root
		segs      []segment
		exact     bool
		plen      int
		matched   int
		params    map[string]string
	}
	var cands []cand
	for _, r := range tab.Routes() {
		hostRank := -1
		hosts := r.Config.Hosts
		if len(hosts) == 0 {
			hostRank = 1 << 20
		}
		for _, rh := range hosts {
			switch {
			case h == "":
			case rh == h:
				hostRank = 0
			case strings.HasPrefix(rh, "*.") && strings.HasSuffix(h, rh[1:]):
				if rk := 1 + maxHost - len(rh); hostRank < 0 || rk < hostRank {
					hostRank = rk
				}
			}
		}
		if hostRank < 0 {
			continue
		}
		c := cand{r: r, hostRank: hostRank, exact: r.Config.Match == config.MatchExact, plen: len(r.Config.Path)}
		segs, _, _ := parsePath(r.Config.Path)
		rp := r.Config.Path
		switch {
		case segs != nil:
			c.pathClass, c.segs = 1, segs
			parts := strings.Split(path[1:], "/")
			if len(parts) < len(segs) || c.exact && len(parts) != len(segs) {
				continue
			}
			c.params = map[string]string{}
			ok := true
			for i, s := range segs {
				switch {
				case s.param && parts[i] == "":
					ok = false
				case s.param:
					c.params[s.lit] = parts[i]
				case parts[i] != s.lit:
					ok = false
				}
			}
			if !ok {
				continue
			}
			c.matched = len("/" + strings.Join(parts[:len(segs)], "/"))
		case rp == "/" && !c.exact:
			c.pathClass = 3
		case c.exact:
			if path != rp {
				continue
			}
			c.matched = len(path)
		default:
			if path != rp && !strings.HasPrefix(path, rp+"/") {
				continue
			}
			c.pathClass, c.matched = 2, len(rp)
		}
		cands = append(cands, c)
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.hostRank != b.hostRank {
			return a.hostRank - b.hostRank
		}
		if a.pathClass != b.pathClass {
			return a.pathClass - b.pathClass
		}
		switch a.pathClass {
		case 1:
			an, bn := &node{segs: a.segs, exact: a.exact}, &node{segs: b.segs, exact: b.exact}
			if paramLess(an, bn) {
				return -1
			}
			if paramLess(bn, an) {
				return 1
			}
		case 2:
			return b.plen - a.plen
		}
		return 0
	})
	for _, c := range cands {
		if c.r.allows(method) {
			return c.r.Name, false, c.matched, c.params
		}
	}
	return "", len(cands) > 0, 0, nil
}

func fuzzTable(tb testing.TB) *Table {
	return mustCompile(tb,
		svc("a", "GET,POST /a", "* /a/b exact", "GET /a/{x} exact", "PUT /a/{x}", "GET /a/{x}/c/{y}", "* /{t}/b/{u} exact"),
		svc("b", "h.test * /a", "*.h.test GET /", "*.test POST /a/{x}", "x.h.test,y.test DELETE /z"),
		svc("c", "GET /", "* /a/b/c", "PATCH /a/b/c/d exact"),
	)
}

// FuzzMatch checks the matcher against the reference on arbitrary hosts
// and paths: the same route, the same matched length and parameters, and
// a 405 exactly when some path matched.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"", "/a"}, {"h.test", "/a/1"}, {"x.h.test:80", "/z"}, {"Y.TEST.", "/a/b/c/d"},
		{"[::1]:8080", "/q/b/r"}, {"", "/a//c/1"}, {"a.b.h.test", "/a/b/"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	tab := fuzzTable(f)
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	f.Fuzz(func(t *testing.T, host, path string) {
		for _, method := range methods {
			var m Match
			ok := tab.Match(host, path, method, &m)
			name, allow, matched, params := reference(tab, host, path, method)
			got := ""
			if ok {
				got = m.Route.Name
			}
			if got != name {
				t.Fatalf("Match(%q, %q, %s) = %q, reference %q", host, path, method, got, name)
			}
			if !ok {
				if (m.Allow != "") != allow {
					t.Fatalf("Match(%q, %q, %s): Allow %q, reference says a path matched: %v", host, path, method, m.Allow, allow)
				}
				continue
			}
			if m.Matched != matched {
				t.Fatalf("Match(%q, %q, %s): Matched %d, reference %d", host, path, method, m.Matched, matched)
			}
			for k, v := range params {
				if m.Param(k) != v {
					t.Fatalf("Match(%q, %q, %s): Param(%q) = %q, reference %q", host, path, method, k, m.Param(k), v)
				}
			}
		}
	})
}

// TestMatchRandom runs the reference comparison over generated requests,
// so that plain test runs cover it without the fuzzer.
func TestMatchRandom(t *testing.T) {
	tab := fuzzTable(t)
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"", "h.test", "x.h.test", "a.b.h.test", "y.test", "other", "H.TEST:1"}
	segs := []string{"a", "b", "c", "d", "z", "1", ""}
	for i := 0; i < 20000; i++ {
		var p strings.Builder
		for n := rng.IntN(6); n >= 0; n-- {
			p.WriteByte('/')
			p.WriteString(segs[rng.IntN(len(segs))])
		}
		host, path := hosts[rng.IntN(len(hosts))], p.String()
		for _, method := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			var m Match
			ok := tab.Match(host, path, method, &m)
			name, allow, matched, _ := reference(tab, host, path, method)
			got := ""
			if ok {
				got = m.Route.Name
			}
			if got != name || !ok && (m.Allow != "") != allow || ok && m.Matched != matched {
				t.Fatalf("Match(%q, %q, %s) = %q (allow %q, matched %d), reference %q (allow %v, matched %d)",
					host, path, method, got, m.Allow, m.Matched, name, allow, matched)
			}
		}
	}
}
