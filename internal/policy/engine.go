package policy

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Refusal codes: the error code a client reads and the call record's
// error_type.
const (
	CodeRateLimited  = "rate_limit_exceeded"
	CodeQuota        = "quota_exceeded"
	CodeBudget       = "budget_exceeded"
	CodeIPDenied     = "ip_denied"
	CodeBodyTooLarge = "body_too_large"
)

// RefusalCodes lists every refusal code. Calls recorded with one of them
// were refused at admission and counted nowhere, which is what seeding
// counts from call records must know.
var RefusalCodes = []string{CodeRateLimited, CodeQuota, CodeBudget, CodeIPDenied, CodeBodyTooLarge}

// Response headers that carry decisions, the X-RateLimit-* ones as GitHub
// and Kong send them.
const (
	// HeaderRetryAfter is the whole seconds until a refused call would pass.
	HeaderRetryAfter = "Retry-After"
	// HeaderLimit is the size of the limit reported.
	HeaderLimit = "X-RateLimit-Limit"
	// HeaderRemaining is what is left of it.
	HeaderRemaining = "X-RateLimit-Remaining"
	// HeaderReset is when it is whole again, in Unix seconds (as GitHub).
	HeaderReset = "X-RateLimit-Reset"
	// HeaderBudgetWarning is set on calls admitted past a budget's warning
	// level; it says which budget and how much of it is spent.
	HeaderBudgetWarning = "X-Hypergate-Budget-Warning"
)

// Options configures an Engine. Zero values get the documented defaults.
type Options struct {
	// Counters hold the counts; NewMemory() when nil.
	Counters Counters
	// Now is the clock; time.Now when nil. Tests pass a fake one.
	Now func() time.Time
	// Logger gets one line per budget per period when its warning level is
	// passed; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer, when set, gets the engine's metrics:
	// hypergate_policy_refusals_total{code} and
	// hypergate_policy_budget_warnings_total{subject_kind,subject,period}.
	Registerer prometheus.Registerer
}

// Engine admits and charges calls against compiled Sets. It is safe for
// concurrent use; one engine serves every configuration the gateway loads,
// so that counts carry over reloads.
type Engine struct {
	counters Counters
	now      func() time.Time
	log      *slog.Logger
	refusals map[string]prometheus.Counter
	warnings *prometheus.CounterVec

	mu     sync.Mutex
	warned map[string]*atomic.Int64 // budget key → last period warned
}

// NewEngine returns an engine with the given options.
func NewEngine(o Options) *Engine {
	e := &Engine{counters: o.Counters, now: o.Now, log: o.Logger, warned: map[string]*atomic.Int64{}}
	if e.counters == nil {
		e.counters = NewMemory()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	refusals := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_policy_refusals_total",
		Help: "Calls refused by a policy, by refusal code.",
	}, []string{"code"})
	e.warnings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_policy_budget_warnings_total",
		Help: "Budgets that passed their warning level, once per budget and period.",
	}, []string{"subject_kind", "subject", "period"})
	e.refusals = map[string]prometheus.Counter{}
	for _, c := range RefusalCodes {
		e.refusals[c] = refusals.WithLabelValues(c) // resolved once: refusals stay off the label map
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(refusals, e.warnings)
	}
	return e
}

// Counters returns the counters the engine uses.
func (e *Engine) Counters() Counters { return e.counters }

// warnedFor returns the warning state of a budget key, the same one for
// every compilation, so that a reload does not log the warning again.
func (e *Engine) warnedFor(key string) *atomic.Int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.warned[key]
	if w == nil {
		w = &atomic.Int64{}
		e.warned[key] = w
	}
	return w
}

// Request is what admission needs to know of a call.
type Request struct {
	// ClientIP is the caller's address (IPv4-mapped addresses are unmapped
	// before matching); the zero Addr matches no rule, so an allow list
	// refuses it.
	ClientIP netip.Addr
	// BodyBytes is the size of the request body.
	BodyBytes int64
}

// Allowance is where one limit stands: its size, what is left of it and
// when it is whole again. Requests and tokens are whole numbers; a budget's
// are US dollars (Dollars set).
type Allowance struct {
	Limit     float64
	Remaining float64
	Reset     time.Time
	Dollars   bool
}

// IsZero reports whether no limit is described.
func (a Allowance) IsZero() bool { return a.Limit == 0 }

// FormatLimit appends Limit as the X-RateLimit-Limit header writes it: a
// whole number, or dollars with cents.
func (a Allowance) FormatLimit(b []byte) []byte { return a.format(b, a.Limit) }

// FormatRemaining appends Remaining as X-RateLimit-Remaining writes it.
func (a Allowance) FormatRemaining(b []byte) []byte { return a.format(b, a.Remaining) }

func (a Allowance) format(b []byte, v float64) []byte {
	if a.Dollars {
		return strconv.AppendFloat(b, v, 'f', 2, 64)
	}
	return strconv.AppendInt(b, int64(v), 10)
}

// Refusal says why a call may not go ahead.
type Refusal struct {
	// Code is one of the Code* constants.
	Code string
	// Status is the HTTP status to answer with: 429 for rate limits,
	// quotas and budgets, 403 for an IP refused, 413 for a body too large.
	Status int
	// Message names the subject and the limit, for the client and the
	// call record: "consumer web-shop: 100 requests per minute exceeded;
	// retry in 12s".
	Message string
	// RetryAfter is how long until the call would pass (429 only).
	RetryAfter time.Duration
	// Allowance is the refusing limit's standing (429 only).
	Allowance Allowance
	// Subject is whose policy refused.
	Subject Subject
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1:
// the Retry-After header's value.
func (r *Refusal) RetryAfterSeconds() int64 { return ceilSeconds(r.RetryAfter) }

// ceilSeconds rounds d up to whole seconds, at least 1. Less than a
// millisecond over a whole second is rounded down: a window passes calls
// again a nanosecond after its boundary, and no retry arrives sooner than
// a millisecond after it is told to.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d - time.Millisecond + time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// Decision is the outcome of Admit.
type Decision struct {
	// Refused is nil when the call may go ahead.
	Refused *Refusal
	// Limit is the tightest request limit that admitted the call (the one
	// with the fewest requests left), for X-RateLimit-* headers on the
	// answer; zero when no request limit applies.
	Limit Allowance
	// warning is the most spent budget past its warning level, if any.
	warning     *limit
	warningSet  *Set
	warningUsed int64
}

// BudgetWarning is the X-Hypergate-Budget-Warning value when the call was
// admitted past a budget's warning level ("consumer web-shop: 85% of the
// daily budget of 10.00 USD spent"), else "".
func (d *Decision) BudgetWarning() string {
	if d.warning == nil {
		return ""
	}
	pct := 100 * d.warningUsed / d.warning.max
	return d.warningSet.name + ": " + strconv.FormatInt(pct, 10) + "% of the " + d.warning.label + " spent"
}

// Admit decides whether a call may go ahead under every one of sets (nil
// entries are skipped): typically the consumer's, and for a call of a
// service the service's and the route's. It checks, in this order, IP
// rules and body size; then whether any token limit, token quota or budget
// is used up; then takes one request from every request limit and quota,
// giving them all back if one refuses. Nothing is counted for a refused
// call.
//
// An admitted call must be charged with Charge, with the same sets, when
// it ends. Admit touches memory only (with the in-memory counters) and
// does not allocate unless it refuses or reports a budget warning.
func (e *Engine) Admit(r Request, sets ...*Set) Decision {
	var d Decision
	ip := r.ClientIP.Unmap()
	for _, s := range sets {
		if s == nil {
			continue
		}
		if len(s.deny) > 0 || len(s.allow) > 0 {
			if !s.allows(ip) {
				d.Refused = e.refuse(&Refusal{Code: CodeIPDenied, Status: 403, Subject: s.subject,
					Message: s.name + ": client address " + addrString(ip) + " is not allowed"})
				return d
			}
		}
		if s.maxBody > 0 && r.BodyBytes > s.maxBody {
			d.Refused = e.refuse(&Refusal{Code: CodeBodyTooLarge, Status: 413, Subject: s.subject,
				Message: fmt.Sprintf("%s: the request body (%d bytes) is over the limit of %d bytes", s.name, r.BodyBytes, s.maxBody)})
			return d
		}
	}
	now := e.now()
	for _, s := range sets {
		if s == nil {
			continue
		}
		for _, l := range s.spent {
			c := e.counters.Add(l.key, l.window, 0, now)
			used := l.window.Used(c, now)
			if used >= l.max {
				d.Refused = e.refuse(l.refusal(s, c, now, l.max-1))
				return d
			}
			if l.warn > 0 && used >= l.warn {
				e.warnOnce(s, l, c, used)
				if d.warning == nil || float64(used)/float64(l.max) > float64(d.warningUsed)/float64(d.warning.max) {
					d.warning, d.warningSet, d.warningUsed = l, s, used
				}
			}
		}
	}
	var tightest *limit
	var tightC Count
	var left int64
	for i, s := range sets {
		if s == nil {
			continue
		}
		for j, l := range s.requests {
			c, ok := e.counters.Take(l.key, l.window, 1, l.max, now)
			if !ok {
				e.giveBack(sets, i, j, now)
				d.Refused = e.refuse(l.refusal(s, c, now, l.max-1))
				return d
			}
			if r := l.max - l.window.Used(c, now); tightest == nil || r < left {
				tightest, tightC, left = l, c, r
			}
		}
	}
	if tightest != nil {
		d.Limit = tightest.allowance(tightC, now)
	}
	return d
}

// giveBack returns the requests Admit took before sets[i].requests[j] refused.
func (e *Engine) giveBack(sets []*Set, i, j int, now time.Time) {
	for si, s := range sets[:i+1] {
		if s == nil {
			continue
		}
		for lj, l := range s.requests {
			if si == i && lj == j {
				return
			}
			e.counters.Add(l.key, l.window, -1, now)
		}
	}
}

// Cancel gives back the requests that admitting a call took from the
// request limits and quotas of sets, for a call that another check refuses
// after it was admitted; such a call must not be charged.
func (e *Engine) Cancel(sets ...*Set) {
	now := e.now()
	for _, s := range sets {
		if s == nil {
			continue
		}
		for _, l := range s.requests {
			e.counters.Add(l.key, l.window, -1, now)
		}
	}
}

func (e *Engine) refuse(r *Refusal) *Refusal {
	if c := e.refusals[r.Code]; c != nil {
		c.Inc()
	}
	return r
}

// allows applies the IP rules: deny wins, and an allow list refuses
// everything not on it.
func (s *Set) allows(ip netip.Addr) bool {
	for _, p := range s.deny {
		if p.Contains(ip) {
			return false
		}
	}
	if len(s.allow) == 0 {
		return true
	}
	for _, p := range s.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func addrString(ip netip.Addr) string {
	if !ip.IsValid() {
		return "(unknown)"
	}
	return ip.String()
}

// allowance is l's standing from count c.
func (l *limit) allowance(c Count, now time.Time) Allowance {
	used := l.window.Used(c, now)
	a := Allowance{Limit: float64(l.max), Remaining: float64(l.max - used), Reset: l.window.Until(c, now, 0)}
	if l.metric == dollars {
		a.Limit /= nanosPerDollar
		a.Remaining /= nanosPerDollar
		a.Dollars = true
	}
	if a.Remaining < 0 {
		a.Remaining = 0
	}
	return a
}

// refusal describes l refusing a call, which could pass once the window's
// Used is at most passAt.
func (l *limit) refusal(s *Set, c Count, now time.Time, passAt int64) *Refusal {
	retry := l.window.Until(c, now, passAt).Sub(now)
	a := l.allowance(c, now)
	a.Remaining = 0
	wait := formatWait(retry)
	var msg string
	switch {
	case l.code == CodeRateLimited && l.metric == requests:
		msg = s.name + ": " + l.label + " exceeded; retry in " + wait
	case l.code == CodeRateLimited:
		msg = s.name + ": " + l.label + " used up; retry in " + wait
	case l.code == CodeQuota:
		msg = s.name + ": " + l.label + " (UTC) used up; it resets in " + wait
	default:
		msg = s.name + ": " + l.label + " spent; it resets in " + wait
	}
	return &Refusal{Code: l.code, Status: 429, Message: msg, RetryAfter: retry, Allowance: a, Subject: s.subject}
}

// formatWait renders a wait in whole seconds, rounded up: "12s", "1m30s",
// "5h12m".
func formatWait(d time.Duration) string {
	s := ceilSeconds(d)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		out := strconv.FormatInt(s/60, 10) + "m"
		if s%60 != 0 {
			out += strconv.FormatInt(s%60, 10) + "s"
		}
		return out
	}
	h, m := s/3600, (s%3600+59)/60
	if m == 60 {
		h, m = h+1, 0
	}
	out := strconv.FormatInt(h, 10) + "h"
	if m != 0 {
		out += strconv.FormatInt(m, 10) + "m"
	}
	return out
}

// Charge counts an admitted call's tokens (input and output) and cost
// against the token limits, token quotas and budgets of sets, when the call
// has ended (for a stream, after its last event). A budget passing its
// warning level is logged and counted once per period.
func (e *Engine) Charge(tokenCount int64, costUSD float64, sets ...*Set) {
	if tokenCount <= 0 && costUSD <= 0 {
		return
	}
	var now time.Time
	for _, s := range sets {
		if s == nil {
			continue
		}
		for _, l := range s.spent {
			var n int64
			switch l.metric {
			case tokens:
				n = tokenCount
			case dollars:
				n = toNanoDollars(costUSD)
			}
			if n <= 0 {
				continue
			}
			if now.IsZero() {
				now = e.now()
			}
			c := e.counters.Add(l.key, l.window, n, now)
			if l.warn > 0 {
				if used := l.window.Used(c, now); used >= l.warn {
					e.warnOnce(s, l, c, used)
				}
			}
		}
	}
}

// warnOnce logs and counts a budget past its warning level, once per
// budget and period (a restart may log it once more).
func (e *Engine) warnOnce(s *Set, l *limit, c Count, used int64) {
	period := c.Start.UnixNano()
	old := l.warned.Load()
	if old == period || !l.warned.CompareAndSwap(old, period) {
		return
	}
	e.warnings.WithLabelValues(s.subject.Kind, s.subject.Name, l.window.String()).Inc()
	e.log.Warn("budget warning level passed", "subject", s.name, "budget", l.label,
		"spent_usd", float64(used)/nanosPerDollar, "limit_usd", float64(l.max)/nanosPerDollar,
		"percent", 100*used/l.max)
}

// Usage is what calls added up to over a period.
type Usage struct {
	Requests int64
	Tokens   int64
	CostUSD  float64
}

// Seed sets the set's day and month counters (those listed by Set.Keys)
// to totals taken at the instant at from past calls, so that quotas and
// budgets hold across restarts: day and month are the totals since the
// start of at's UTC day and month. Only counters whose key fresh reports
// true are set (nil: all), so that a counter already counting in service
// is not counted twice; a total of a day or month that is over by now is
// ignored.
func (e *Engine) Seed(s *Set, at time.Time, day, month Usage, fresh func(key string) bool) {
	if s == nil {
		return
	}
	now := e.now()
	for _, ls := range [][]*limit{s.requests, s.spent} {
		for _, l := range ls {
			if l.window.IsSliding() || (fresh != nil && !fresh(l.key)) {
				continue
			}
			current, _ := l.window.Period(now)
			if taken, _ := l.window.Period(at); !taken.Equal(current) {
				continue
			}
			u := day
			if l.window == Month {
				u = month
			}
			var n int64
			switch l.metric {
			case requests:
				n = u.Requests
			case tokens:
				n = u.Tokens
			case dollars:
				n = toNanoDollars(u.CostUSD)
			}
			cur := e.counters.Add(l.key, l.window, 0, now)
			e.counters.Add(l.key, l.window, n-cur.Cur, now)
		}
	}
}
