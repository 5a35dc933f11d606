package gateway

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/policy"
)

type recordSink struct{ recs []calllog.Record }

func (r *recordSink) Record(rec calllog.Record) { r.recs = append(r.recs, rec) }

// policyCall is a data-plane call from 192.0.2.1 with the given body, as
// the handler starts it.
func policyCall(g *Gateway, body string) *call {
	ctx := &fasthttp.RequestCtx{}
	var req fasthttp.Request
	req.SetBodyString(body)
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}, nil)
	return g.newCall(ctx)
}

// dayCount reads a subject's requests-per-day counter.
func dayCount(g *Gateway, kind, name string) int64 {
	return g.Policy().Counters().Add(kind+":"+name+":requests:day", policy.Day, 0, time.Now()).Cur
}

// TestCheckPolicies covers what services and routes rely on: admission in
// several steps, sets admitted once per call, refusals giving back what
// earlier steps took, and charging when the record is finished.
func TestCheckPolicies(t *testing.T) {
	sink := &recordSink{}
	g := New(Options{Logger: slog.New(slog.DiscardHandler), Recorder: sink})
	cfg := &config.Config{Consumers: []config.Consumer{{Name: "shop", Policies: &config.Policies{
		Quota:     &config.Quota{RequestsPerDay: 100},
		RateLimit: &config.RateLimit{TokensPerMinute: 30},
	}}}}
	snap, err := g.Compile(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.NeedsUsage() {
		t.Fatal("a new consumer quota needs seeding")
	}
	g.SetSnapshot(snap)
	cons := snap.consumers["shop"].policy
	svc, _ := g.Policy().Compile(policy.Subject{Kind: policy.KindService, Name: "orders"},
		&config.Policies{Quota: &config.Quota{RequestsPerDay: 1}})

	// A call admitted by the service, then by the consumer (the service's
	// set passed again is not counted twice).
	c := policyCall(g, `{}`)
	if !g.checkPolicies(c, svc) || !g.checkPolicies(c, cons, svc, nil) {
		t.Fatal("first call refused")
	}
	if dayCount(g, "service", "orders") != 1 || dayCount(g, "consumer", "shop") != 1 {
		t.Fatalf("counts after one call: service %d, consumer %d", dayCount(g, "service", "orders"), dayCount(g, "consumer", "shop"))
	}
	if got := string(c.ctx.Response.Header.Peek(policy.HeaderRemaining)); got != "0" {
		t.Fatalf("X-RateLimit-Remaining %q, want the service's 0 (the tightest)", got)
	}
	first := c

	// The next call passes the consumer and is refused by the service: the
	// consumer's count is given back, and the record says why.
	c = policyCall(g, `{"model":"gpt-4o-mini"}`)
	c.in = anthropicInbound
	if !g.checkPolicies(c, cons) {
		t.Fatal("consumer refused the second call")
	}
	if g.checkPolicies(c, svc) {
		t.Fatal("service admitted a second call over its quota")
	}
	if n := dayCount(g, "consumer", "shop"); n != 1 {
		t.Fatalf("consumer count %d after a refusal, want 1", n)
	}
	resp := &c.ctx.Response
	if resp.StatusCode() != 429 || len(resp.Header.Peek(policy.HeaderRetryAfter)) == 0 ||
		gjson.GetBytes(resp.Body(), "error.type").Str != "rate_limit_error" {
		t.Fatalf("refusal: %d %s %s", resp.StatusCode(), resp.Header.String(), resp.Body())
	}
	rec := sink.recs[len(sink.recs)-1]
	if rec.Status != 429 || rec.ErrorType != policy.CodeQuota || rec.Model != "gpt-4o-mini" ||
		!strings.HasPrefix(rec.ErrorMessage, "service orders: quota of 1 request per day (UTC) used up; it resets in ") {
		t.Fatalf("record: %+v", rec)
	}

	// The first call's 35 tokens are charged as it finishes: the
	// consumer's token limit then refuses.
	first.usage = llm.Usage{InputTokens: 20, OutputTokens: 15, Present: true}
	first.finish(200)
	c = policyCall(g, `{}`)
	if g.checkPolicies(c, cons) || c.rec.ErrorType != policy.CodeRateLimited {
		t.Fatalf("tokens of a finished call not charged: %q", c.rec.ErrorType)
	}

	// A reload keeps the counters and has nothing new to seed.
	snap, err = g.Compile(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if snap.NeedsUsage() {
		t.Fatal("a quota already in service needs no seeding")
	}
	g.SetSnapshot(snap)
	if n := dayCount(g, "consumer", "shop"); n != 1 {
		t.Fatalf("consumer count %d after a reload, want 1", n)
	}
}

// BenchmarkCheckPolicies measures the data plane's policy hook: admission
// against a consumer's rate limit, quota and budget, and the X-RateLimit-*
// headers written on the answer.
func BenchmarkCheckPolicies(b *testing.B) {
	g := New(Options{Logger: slog.New(slog.DiscardHandler)})
	cfg := &config.Config{Consumers: []config.Consumer{{Name: "shop", Policies: &config.Policies{
		RateLimit: &config.RateLimit{RequestsPerMinute: 1e12},
		Quota:     &config.Quota{RequestsPerDay: 1e15},
		Budget:    &config.Budget{USDPerMonth: 1e6, WarnAt: 0.8},
	}}}}
	snap, err := g.Compile(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	g.SetSnapshot(snap)
	set := snap.consumers["shop"].policy
	c := policyCall(g, `{"model":"gpt-4o-mini","messages":[]}`)
	b.ReportAllocs()
	for b.Loop() {
		c.pol = callPolicies{}
		if !g.checkPolicies(c, set) {
			b.Fatal("refused")
		}
	}
}
