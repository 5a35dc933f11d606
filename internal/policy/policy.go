// Package policy enforces the limits operators put on calls: rate limits
// (requests per second or minute, tokens per minute), quotas (requests or
// tokens per UTC day or month), budgets (US dollars per UTC day or month,
// with a warning before the hard stop), IP allow and deny lists and a
// maximum body size.
//
// Configuration is compiled into immutable Sets, one per subject (a
// consumer, a service, a route), which are rebuilt on every configuration
// change. The counts live apart from them, in an Engine's Counters, keyed
// by subject name and limit: a reload keeps them, and a shared store can
// later hold them for several nodes. A call is admitted against the sets
// that apply to it (Engine.Admit) before it is routed, and charged with
// its tokens and cost when it ends (Engine.Charge). Admission reads and
// writes memory only; it never waits on the database.
package policy

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// Subject kinds: what a set of policies is attached to.
const (
	// KindConsumer counts one consumer's calls, whatever it calls.
	KindConsumer = "consumer"
	// KindService counts every consumer's calls of a service together.
	KindService = "service"
	// KindRoute counts every consumer's calls of one route of a service.
	KindRoute = "route"
	// KindSubscription counts one consumer's calls of one service.
	KindSubscription = "subscription"
)

// Subject is what a set of policies is attached to. Its kind and name make
// the counters' keys, so two subjects must not share both.
type Subject struct {
	Kind string // KindConsumer, KindService, KindRoute, KindSubscription (or another)
	// Name is the consumer's or service's name; for a route, something that
	// tells it apart from every other route, such as "orders-api/list".
	Name string
}

// String is how the subject is named in messages: "consumer web-shop".
func (s Subject) String() string { return s.Kind + " " + s.Name }

// Set is the compiled, immutable form of one subject's policies. A nil
// *Set is a valid set with no policies.
type Set struct {
	subject Subject
	name    string // Subject.String, kept so refusals do not rebuild it
	allow   []netip.Prefix
	deny    []netip.Prefix
	maxBody int64
	// requests are taken one per call at admission.
	requests []*limit
	// spent are read at admission (refused while used up) and charged when
	// a call ends: tokens and dollars.
	spent []*limit
}

// Subject returns the subject the set belongs to.
func (s *Set) Subject() Subject { return s.subject }

// Keys lists the counter keys of the set's calendar limits (quotas and
// budgets): those that Engine.Seed fills from past calls.
func (s *Set) Keys() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, ls := range [][]*limit{s.requests, s.spent} {
		for _, l := range ls {
			if !l.window.IsSliding() {
				out = append(out, l.key)
			}
		}
	}
	return out
}

// metric is what a limit counts.
type metric uint8

const (
	requests metric = iota
	tokens
	dollars // counted in nano-dollars, so that counters stay integers
)

func (m metric) String() string {
	return [...]string{"requests", "tokens", "usd"}[m]
}

// limit is one compiled limit of a set.
type limit struct {
	key    string
	metric metric
	window Window
	max    int64 // in counted units: requests, tokens, nano-dollars
	code   string
	label  string // how messages name it: "100 requests per minute"
	// warn is the budget's warning level in nano-dollars; 0: none.
	warn int64
	// warned holds the start (Unix nanoseconds) of the last period whose
	// warning was logged; shared by every compilation of the same key.
	warned *atomic.Int64
}

const nanosPerDollar = 1e9

// maxNanoDollars keeps budgets (and 100 times them, for percentages) within
// int64: about 92 million dollars, beyond which a budget is no limit.
const maxNanoDollars = math.MaxInt64 / 100

func toNanoDollars(usd float64) int64 {
	n := math.Round(usd * nanosPerDollar)
	if n >= maxNanoDollars {
		return maxNanoDollars
	}
	return int64(n)
}

// Compile builds the Set of subj's policies, or nil when p sets none. The
// configuration is expected to be valid (config.Config.Validate); an IP
// entry that does not parse is still reported.
func (e *Engine) Compile(subj Subject, p *config.Policies) (*Set, error) {
	if p == nil || *p == (config.Policies{}) {
		return nil, nil
	}
	s := &Set{subject: subj, name: subj.String(), maxBody: p.MaxBodyBytes}
	if ip := p.IP; ip != nil {
		for _, entry := range ip.Allow {
			pfx, err := config.ParseIPPrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("%s: ip.allow: %w", s.name, err)
			}
			s.allow = append(s.allow, pfx)
		}
		for _, entry := range ip.Deny {
			pfx, err := config.ParseIPPrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("%s: ip.deny: %w", s.name, err)
			}
			s.deny = append(s.deny, pfx)
		}
	}
	add := func(list *[]*limit, m metric, w Window, max int64, code, label string) *limit {
		l := &limit{
			key:    subj.Kind + ":" + subj.Name + ":" + m.String() + ":" + w.String(),
			metric: m, window: w, max: max, code: code, label: label,
		}
		*list = append(*list, l)
		return l
	}
	if r := p.RateLimit; r != nil {
		if r.RequestsPerSecond > 0 {
			w, n := rateWindow(r.RequestsPerSecond, time.Second)
			add(&s.requests, requests, w, n, CodeRateLimited, formatRate(r.RequestsPerSecond, "request")+" per second")
		}
		if r.RequestsPerMinute > 0 {
			w, n := rateWindow(r.RequestsPerMinute, time.Minute)
			add(&s.requests, requests, w, n, CodeRateLimited, formatRate(r.RequestsPerMinute, "request")+" per minute")
		}
		if r.TokensPerMinute > 0 {
			add(&s.spent, tokens, Sliding(time.Minute), r.TokensPerMinute, CodeRateLimited,
				formatRate(float64(r.TokensPerMinute), "token")+" per minute")
		}
	}
	if q := p.Quota; q != nil {
		for _, c := range []struct {
			n      int64
			m      metric
			w      Window
			unit   string
			period string
		}{
			{q.RequestsPerDay, requests, Day, "request", "day"},
			{q.RequestsPerMonth, requests, Month, "request", "month"},
			{q.TokensPerDay, tokens, Day, "token", "day"},
			{q.TokensPerMonth, tokens, Month, "token", "month"},
		} {
			if c.n <= 0 {
				continue
			}
			list := &s.spent
			if c.m == requests {
				list = &s.requests
			}
			add(list, c.m, c.w, c.n, CodeQuota, "quota of "+formatRate(float64(c.n), c.unit)+" per "+c.period)
		}
	}
	if b := p.Budget; b != nil {
		for _, c := range []struct {
			usd   float64
			w     Window
			label string
		}{{b.USDPerDay, Day, "daily"}, {b.USDPerMonth, Month, "monthly"}} {
			if c.usd <= 0 {
				continue
			}
			l := add(&s.spent, dollars, c.w, toNanoDollars(c.usd), CodeBudget,
				c.label+" budget of "+strconv.FormatFloat(c.usd, 'f', 2, 64)+" USD")
			if b.WarnAt > 0 && b.WarnAt < 1 {
				l.warn = int64(math.Round(float64(l.max) * b.WarnAt))
				l.warned = e.warnedFor(l.key)
			}
		}
	}
	return s, nil
}

// rateWindow turns "r per period" into a sliding window holding a whole
// number of requests: r itself over the period when r is whole; otherwise
// floor(r) (at least 1) over a window scaled to match, so 0.5 per second
// is 1 per 2 s and 2.5 per second 2 per 800 ms.
func rateWindow(r float64, per time.Duration) (Window, int64) {
	n := math.Floor(r)
	if n < 1 {
		n = 1
	}
	if n > 1<<53 { // any more is no limit, and would overflow the counts
		n = 1 << 53
	}
	d := time.Duration(math.Round(float64(per) * n / r))
	if d <= 0 {
		d = 1
	}
	return Sliding(d), int64(n)
}

// formatRate writes an amount of a unit: "100 requests", "1 token",
// "0.5 requests".
func formatRate(r float64, unit string) string {
	s := strconv.FormatFloat(r, 'f', -1, 64) + " " + unit
	if r != 1 {
		s += "s"
	}
	return s
}
