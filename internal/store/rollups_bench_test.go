package store_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
)

// BenchmarkAnalytics30Days answers 30-day analytics queries over rollups
// holding 10 million calls: 500 keys (services × routes × models ×
// consumers × status classes) a day for 30 days, laid out directly as day
// rollups, which is what a 30-day range reads. The figure is in
// docs/benchmarks.md; the budget is 100 ms a query.
func BenchmarkAnalytics30Days(b *testing.B) {
	const (
		keys  = 500
		days  = 30
		calls = 10_000_000
	)
	db := openSQLite(b)
	ctx := b.Context()
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	from := end.Add(-days * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	per := calls / (keys * days)
	var rows []*analytics.Row
	for d := range days {
		for k := range keys {
			key := analytics.Key{Service: fmt.Sprintf("svc-%d", k%5), Route: fmt.Sprintf("r%d", k%4), Model: fmt.Sprintf("model-%d", k%5),
				Provider: "openai", Consumer: fmt.Sprintf("consumer-%d", k/5%20), StatusClass: []string{"2xx", "4xx", "5xx"}[k%3]}
			r := analytics.NewRow(analytics.Day, from.Add(time.Duration(d)*24*time.Hour), key)
			r.Requests, r.InputTokens, r.OutputTokens, r.CostUSD = int64(per), int64(per*500), int64(per*200), float64(per)/100
			if key.StatusClass != "2xx" {
				r.Errors = int64(per)
			}
			for range per {
				v := 1000 + rng.ExpFloat64()*800_000
				r.Latency.Add(v)
				r.TTFT.Add(v / 4)
				r.LatencySumUS += int64(v)
			}
			rows = append(rows, r)
		}
	}
	if err := db.MergeRollups(ctx, rows); err != nil {
		b.Fatal(err)
	}
	qr := &analytics.Querier{R: db}
	q := analytics.Query{From: from, To: end}
	total := 0.0
	b.Run("timeseries", func(b *testing.B) {
		for b.Loop() {
			s, err := qr.Timeseries(ctx, q, []analytics.Metric{analytics.Requests, analytics.ErrorRate, analytics.LatencyP95, analytics.TTFTP95})
			if err != nil {
				b.Fatal(err)
			}
			total = 0
			for _, p := range s.Points {
				total += *p.Values[analytics.Requests]
			}
		}
		if want := float64(per * keys * days); total != want {
			b.Fatalf("the series counts %g calls, want %g", total, want)
		}
	})
	b.Run("breakdown", func(b *testing.B) {
		for b.Loop() {
			if _, err := qr.Breakdown(ctx, q, analytics.DimConsumer, []analytics.Metric{analytics.Requests, analytics.Cost, analytics.LatencyP99}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("top-models-by-latency", func(b *testing.B) {
		for b.Loop() {
			if _, err := qr.Top(ctx, q, analytics.DimModel, analytics.LatencyP95, 10, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scoped-totals", func(b *testing.B) {
		sq := q
		sq.Scope = &analytics.Scope{Consumers: []string{"consumer-1", "consumer-2"}, Services: []string{"svc-3"}}
		for b.Loop() {
			if _, err := qr.Totals(ctx, sq, []analytics.Metric{analytics.Requests, analytics.LatencyP95}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
