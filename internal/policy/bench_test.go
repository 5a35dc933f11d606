package policy

import (
	"log/slog"
	"net/netip"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

// benchPolicies is a consumer with one limit of every kind admission
// checks: two rate limits, a token limit, quotas, a budget and IP rules.
var benchPolicies = &config.Policies{
	RateLimit: &config.RateLimit{RequestsPerSecond: 1e9, RequestsPerMinute: 1e9, TokensPerMinute: 1e12},
	Quota:     &config.Quota{RequestsPerDay: 1e15, TokensPerMonth: 1e15},
	Budget:    &config.Budget{USDPerMonth: 1e6, WarnAt: 0.8},
	IP:        &config.IPRules{Allow: []string{"10.0.0.0/8", "192.168.0.0/16"}, Deny: []string{"10.9.0.0/16"}},
}

// BenchmarkAdmit measures admission of one call against a consumer's
// policies with the in-memory counters: what the data plane adds to every
// call of a consumer with limits.
func BenchmarkAdmit(b *testing.B) {
	e := NewEngine(Options{Logger: slog.New(slog.DiscardHandler)})
	set, err := e.Compile(shop, benchPolicies)
	if err != nil {
		b.Fatal(err)
	}
	r := Request{ClientIP: netip.MustParseAddr("10.1.2.3"), BodyBytes: 512}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := e.Admit(r, set); d.Refused != nil {
				b.Fatal(d.Refused.Message)
			}
		}
	})
	b.Run("parallel one consumer", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if d := e.Admit(r, set); d.Refused != nil {
					b.Fatal(d.Refused.Message)
				}
			}
		})
	})
	b.Run("no policies", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Admit(r, nil)
		}
	})
}

// BenchmarkCharge measures charging an ended call's tokens and cost.
func BenchmarkCharge(b *testing.B) {
	e := NewEngine(Options{Logger: slog.New(slog.DiscardHandler)})
	set, _ := e.Compile(shop, benchPolicies)
	b.ReportAllocs()
	for b.Loop() {
		e.Charge(17, 1e-6, set)
	}
}
