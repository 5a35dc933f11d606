package gateway

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/policy"
)

// This file connects the data plane to the policy engine (internal/policy).
//
// The engine lives in the State, so its counters outlive snapshots. Sets
// are compiled into a snapshot with State.compilePolicy: the consumer's in
// CompileWith; services and routes compile theirs the same way, with
// policy.KindService and policy.KindRoute subjects. A call is admitted with
// Gateway.checkPolicies after authentication and before routing, against
// every set that applies to it; the sets admitted are kept on the call and
// charged with its tokens and cost when its record is finished (for a
// stream, after its last event).

// UsageSkippedEndpoints are the data-plane endpoints whose calls policies
// do not count (model lists, token counts). Seeding counters from call
// records (Gateway.SeedUsage) must leave them out, as must it leave out
// calls refused by a policy (policy.RefusalCodes).
var UsageSkippedEndpoints = []string{"/v1/models", "/v1/messages/count_tokens"}

// newPolicyEngine builds the gateway's policy engine, its metrics on the
// gateway's registry.
func newPolicyEngine(o Options) *policy.Engine {
	return policy.NewEngine(policy.Options{Counters: o.PolicyCounters, Logger: o.Logger, Registerer: o.Metrics.Registry})
}

// Policy returns the engine that enforces the gateway's policies.
func (g *Gateway) Policy() *policy.Engine { return g.state.policy }

// Policy returns the engine the state compiles policy sets with.
func (st *State) Policy() *policy.Engine { return st.policy }

// compilePolicy compiles subj's policies into a set for snapshot s. For a
// consumer it also notes on s the day and month counters that the snapshot
// in service does not count yet: those SeedUsage fills from call records.
// The caller holds st.mu (CompileWith does).
func (st *State) compilePolicy(s *Snapshot, subj policy.Subject, p *config.Policies) (*policy.Set, error) {
	set, err := st.policy.Compile(subj, p)
	if err != nil || set == nil || subj.Kind != policy.KindConsumer {
		return set, err
	}
	for _, k := range set.Keys() {
		if s.policyKeys == nil {
			s.policyKeys = map[string]bool{}
		}
		s.policyKeys[k] = true
		if !st.policyKeys[k] {
			if s.policyFresh == nil {
				s.policyFresh = map[string]bool{}
			}
			s.policyFresh[k] = true
		}
	}
	return set, nil
}

// NeedsUsage reports whether the snapshot has consumer quotas or budgets
// whose counters should be seeded from call records (SeedUsage) before it
// is put in service.
func (s *Snapshot) NeedsUsage() bool { return len(s.policyFresh) > 0 }

// SeedUsage sets the day and month counters of s's consumer quotas and
// budgets that no snapshot in service counted yet, from totals of the call
// records taken at at (by consumer name: day since the start of at's UTC
// day, month since the start of its month), so that quotas and budgets
// hold across restarts and reloads. Call it before s is put in service.
func (g *Gateway) SeedUsage(s *Snapshot, at time.Time, day, month map[string]policy.Usage) {
	fresh := func(k string) bool { return s.policyFresh[k] }
	for name, c := range s.consumers {
		if c.policy != nil {
			g.state.policy.Seed(c.policy, at, day[name], month[name], fresh)
		}
	}
}

// callPolicies are the sets a call was admitted against, charged when it
// ends.
type callPolicies struct {
	buf  [4]*policy.Set
	sets []*policy.Set
	// limit is the tightest request limit reported in the headers so far,
	// when admission goes in steps.
	limit policy.Allowance
}

// checkPolicies admits c against sets (nil entries are skipped, sets the
// call was already admitted against too): the consumer's, and for a call
// of a service the service's and the route's. Admitted, the answer gets
// the tightest request limit's X-RateLimit-* headers (and a budget warning
// when one is past its level), and the sets are charged when the call
// ends. Refused, the call is answered — 429 with Retry-After, 403 or 413,
// in the client's error format — and recorded, whatever sets it passed
// before give back what they took, and checkPolicies returns false.
func (g *Gateway) checkPolicies(c *call, sets ...*policy.Set) bool {
	var buf [4]*policy.Set
	fresh := buf[:0]
	for _, s := range sets {
		if s != nil && !c.pol.has(s) && !slices.Contains(fresh, s) {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) == 0 {
		return true
	}
	e := g.state.policy
	ip, _ := netip.AddrFromSlice(c.ctx.RemoteIP())
	d := e.Admit(policy.Request{ClientIP: ip, BodyBytes: int64(len(c.ctx.Request.Body()))}, fresh...)
	h := &c.ctx.Response.Header
	if r := d.Refused; r != nil {
		if len(c.pol.sets) > 0 {
			e.Cancel(c.pol.sets...)
			c.pol.sets = nil
		}
		if r.Status == fasthttp.StatusTooManyRequests {
			var b [24]byte
			h.SetBytesV(policy.HeaderRetryAfter, strconv.AppendInt(b[:0], r.RetryAfterSeconds(), 10))
			setAllowance(h, r.Allowance)
		}
		if c.in != nil && c.rec.Model == "" {
			// Refused before the body is read: the record still says which
			// model was asked for.
			c.rec.Model = truncate(gjson.GetBytes(c.ctx.Request.Body(), "model").Str, 256)
		}
		c.fail(&apiError{Status: r.Status, Type: refusalType(r.Code), Code: r.Code, Message: r.Message})
		return false
	}
	if l := d.Limit; !l.IsZero() && (c.pol.limit.IsZero() || l.Remaining < c.pol.limit.Remaining) {
		c.pol.limit = l
		setAllowance(h, l)
	}
	if w := d.BudgetWarning(); w != "" {
		h.Set(policy.HeaderBudgetWarning, w)
	}
	if c.pol.sets == nil {
		c.pol.sets = c.pol.buf[:0]
	}
	c.pol.sets = append(c.pol.sets, fresh...)
	return true
}

func (p *callPolicies) has(s *policy.Set) bool { return slices.Contains(p.sets, s) }

// setAllowance writes a limit's X-RateLimit-* headers, if it describes one.
func setAllowance(h *fasthttp.ResponseHeader, a policy.Allowance) {
	if a.IsZero() {
		return
	}
	var b [32]byte
	h.SetBytesV(policy.HeaderLimit, a.FormatLimit(b[:0]))
	h.SetBytesV(policy.HeaderRemaining, a.FormatRemaining(b[:0]))
	reset := a.Reset.Unix()
	if a.Reset.Nanosecond() > 0 {
		reset++ // whole seconds, rounded up: the limit is whole by then
	}
	h.SetBytesV(policy.HeaderReset, strconv.AppendInt(b[:0], reset, 10))
}

// refusalType is the OpenAI error type of a refusal code; Anthropic's
// shape takes its type from the status.
func refusalType(code string) string {
	switch code {
	case policy.CodeRateLimited, policy.CodeQuota:
		return "rate_limit_error"
	case policy.CodeBudget:
		return "insufficient_quota"
	case policy.CodeIPDenied:
		return errPermission
	}
	return errInvalidRequest
}

// chargePolicies charges the call's tokens and cost to the sets it was
// admitted against; finish calls it once the record is complete.
func (c *call) chargePolicies() {
	if len(c.pol.sets) == 0 {
		return
	}
	c.g.state.policy.Charge(c.rec.InputTokens+c.rec.OutputTokens, c.rec.CostUSD, c.pol.sets...)
}
