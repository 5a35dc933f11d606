package gateway

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/route"
)

// Releases and lifecycle of services on the data plane.
//
// Every call a service's route takes is recorded with the release that
// served it. A service with a canary has two definitions compiled into the
// snapshot: the published one, whose routes are in the snapshot's route
// table, and the canary release's, with a route table of its own. A call
// is matched in the main table first; when its service has a canary and a
// hash of the call's request id falls in the canary's share, it is matched
// again in the canary's table and served by the route found there. A call
// the canary's routes do not take stays with the published definition, so
// a canary can only take calls, never turn them into 404s.
//
// A deprecated service answers as usual, with a Deprecation header (RFC
// 9745: when it was deprecated) and a Sunset header (RFC 8594: when it is
// to stop answering) when a date is announced. A retired service answers
// every call 410 Gone, before authentication: there is nothing left to
// authenticate for.

// Releases is what a snapshot needs to know about the services' releases,
// which live in the store: compiling never reads the store, so the caller
// loads them.
type Releases struct {
	// Current is, by service name, the number of the release its
	// published definition is (0 or absent: not known).
	Current map[string]int
	// Canaries are, by service name, the release each service's canary
	// names, for the services that have one.
	Canaries map[string]ReleaseDefinition
	// DeprecatedAt is, by service name, when each deprecated service was
	// deprecated: the time of the release that deprecated it.
	DeprecatedAt map[string]time.Time
}

// ReleaseDefinition is a stored release of a service.
type ReleaseDefinition struct {
	Number int
	// Service is the release's definition. Only what a release changes is
	// taken from it — kind, upstream, models, routes and policies — the
	// service's name, team, lifecycle and subscription terms coming from
	// the published definition.
	Service config.Service
}

// canary is the compiled canary of a service: its release's own routes,
// and the share of calls it takes.
type canary struct {
	release int
	// threshold: a call whose request id hashes below it goes to the canary.
	threshold uint64
	routes    *route.Table
	byID      []*restRoute
}

// takes reports whether the call with request id id goes to the canary.
func (cn *canary) takes(id string) bool { return splitHash(id) < cn.threshold }

// canaryThreshold is the hash value below which percent % of uniformly
// spread hashes fall.
func canaryThreshold(percent float64) uint64 {
	switch {
	case percent <= 0:
		return 0
	case percent >= 100:
		return math.MaxUint64
	}
	return uint64(math.Ldexp(percent/100, 64))
}

// splitHash spreads a request id over 64 bits: FNV-1a, whose low bits
// follow the last bytes too closely for sequential ids, then the
// splitmix64 finaliser to spread every input bit over the whole word. It is
// the hash the prompt APIs split on, so that the two agree on what a share
// of the calls is.
func splitHash(key string) uint64 {
	h := fnv64a(key)
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// compileCanary compiles the canary release def of the published service
// pub, whose compiled form is svc.
func compileCanary(pub *config.Service, svc *restService, def ReleaseDefinition, st *State, used restUsed) (*canary, *upstreamPool, []string, error) {
	if def.Number != pub.Canary.Release {
		return nil, nil, nil, fmt.Errorf("service %q: canary release %d was not loaded (release %d was)", pub.Name, pub.Canary.Release, def.Number)
	}
	s := def.Service
	s.Name, s.Team, s.Public, s.Approval = pub.Name, pub.Team, pub.Public, pub.Approval
	s.State, s.Sunset, s.Canary = pub.State, pub.Sunset, nil
	// The route table keeps pointers into its services: its own copy.
	services := []config.Service{s}
	table, err := route.Compile(services)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("service %q: canary release %d: %w", pub.Name, def.Number, err)
	}
	rs, err := compileService(&services[0], st, used)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("canary release %d: %w", def.Number, err)
	}
	rs.release, rs.retired, rs.deprecation, rs.sunset = def.Number, svc.retired, svc.deprecation, svc.sunset
	byID, secrets, err := compileRoutes(table, []*restService{rs}, st)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("canary release %d: %w", def.Number, err)
	}
	cn := &canary{release: def.Number, threshold: canaryThreshold(pub.Canary.Percent), routes: table, byID: byID}
	return cn, rs.pool, secrets, nil
}

// setLifecycle compiles a service's release number and lifecycle headers.
func (rs *restService) setLifecycle(s *config.Service, rel Releases) {
	rs.release = rel.Current[s.Name]
	switch s.State {
	case config.StateRetired:
		rs.retired = true
	case config.StateDeprecated:
		if at, ok := rel.DeprecatedAt[s.Name]; ok && !at.IsZero() {
			rs.deprecation = "@" + strconv.FormatInt(at.Unix(), 10)
		}
	}
	if s.Sunset != nil && !s.Sunset.IsZero() {
		rs.sunset = s.Sunset.UTC().Format(http.TimeFormat)
	}
}

// pickRelease returns the route that serves the call: the published
// route rr found in the main table, or the canary's route for the same
// request when the call falls in the canary's share and its routes take
// it (for a CORS preflight, with a CORS policy to answer it). m is
// updated to the route returned.
func pickRelease(c *call, rr *restRoute, host, path, method string, preflight bool, m *route.Match) *restRoute {
	cn := rr.svc.canary
	if cn == nil || !cn.takes(c.rec.ID) {
		return rr
	}
	var cm route.Match
	if !cn.routes.Match(host, path, method, &cm) || preflight && cn.byID[cm.Route.ID].cors == nil {
		return rr
	}
	*m = cm
	return cn.byID[cm.Route.ID]
}

// lifecycle answers a call to a retired service, 410, and adds the
// headers of a deprecated one. It reports whether the call goes on.
func lifecycle(c *call, svc *restService) bool {
	if svc.retired {
		msg := fmt.Sprintf("service %q is retired and no longer answers", svc.name)
		if svc.sunset != "" {
			msg += " (sunset " + svc.sunset + ")"
		}
		c.fail(&apiError{Status: 410, Type: errInvalidRequest, Code: "service_retired", Message: msg})
		return false
	}
	h := &c.ctx.Response.Header
	if svc.deprecation != "" {
		h.Set("Deprecation", svc.deprecation)
	}
	if svc.sunset != "" {
		h.Set("Sunset", svc.sunset)
	}
	return true
}
