package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// Rollups is the conformance case of the analytics rollups: over random
// call sets written in batches (some replayed, as after a spill), the
// rollups equal the aggregates computed directly from the raw records —
// counts and sums exactly, percentiles within the sketch's relative
// accuracy — at every resolution; rebuilding is idempotent; filters and
// scopes select the right rows; pruning honours the resolution.
func Rollups(t *testing.T, db *store.DB) {
	ctx := t.Context()
	start := time.Date(2026, 3, 14, 22, 50, 0, 0, time.UTC) // the range crosses midnight
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		recs := randomCalls(rng, fmt.Sprintf("s%d-", seed), start.Add(time.Duration(seed)*72*time.Hour), 400)
		// Written in random batches, each batch then replayed whole or in
		// part as a spill file would be: nothing may be counted twice.
		for i := 0; i < len(recs); {
			n := 1 + rng.IntN(120)
			batch := slices.Clone(recs[i:min(i+n, len(recs))])
			i += n
			if len(batch) > 1 {
				batch = append(batch, batch[0]) // a duplicate within a batch
			}
			if err := db.InsertCallsAndRollups(ctx, batch); err != nil {
				t.Fatalf("InsertCallsAndRollups: %v", err)
			}
			if rng.IntN(2) == 0 {
				if err := db.InsertCallsAndRollups(ctx, batch[:1+rng.IntN(len(batch))]); err != nil {
					t.Fatalf("replaying batch: %v", err)
				}
			}
		}
		checkRollups(t, db, recs, fmt.Sprintf("seed %d after inserts", seed))
	}

	// Rebuilding from the raw records gives the same rollups, twice over.
	all := start.Add(-48 * time.Hour)
	end := start.Add(20 * 24 * time.Hour)
	var every []calllog.Record
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		every = append(every, randomCalls(rng, fmt.Sprintf("s%d-", seed), start.Add(time.Duration(seed)*72*time.Hour), 400)...)
	}
	for i := range 2 {
		if err := db.RebuildRollups(ctx, all, end); err != nil {
			t.Fatalf("RebuildRollups #%d: %v", i+1, err)
		}
		checkRollups(t, db, every, fmt.Sprintf("after rebuild #%d", i+1))
	}
	if err := db.RebuildRollups(ctx, end, all); err == nil {
		t.Error("RebuildRollups of a reversed range: no error")
	}

	// Filters and scopes.
	sel := analytics.Selection{Resolution: analytics.Day, From: all, To: end}
	count := func(sel analytics.Selection) int64 {
		t.Helper()
		rows, err := db.ReadRollups(ctx, sel)
		if err != nil {
			t.Fatalf("ReadRollups: %v", err)
		}
		var n int64
		for _, r := range rows {
			n += r.Requests
		}
		return n
	}
	want := func(keep func(r *calllog.Record) bool) int64 {
		var n int64
		for i := range every {
			if !every[i].Synthetic && keep(&every[i]) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		name   string
		filter map[analytics.Dimension]string
		scope  *analytics.Scope
		keep   func(r *calllog.Record) bool
	}{
		{"everything", nil, nil, func(*calllog.Record) bool { return true }},
		{"one model", map[analytics.Dimension]string{analytics.DimModel: "gpt-4o"}, nil,
			func(r *calllog.Record) bool { return r.Model == "gpt-4o" }},
		{"model and status class", map[analytics.Dimension]string{analytics.DimModel: "gpt-4o", analytics.DimStatusClass: "5xx"}, nil,
			func(r *calllog.Record) bool { return r.Model == "gpt-4o" && r.Status >= 500 }},
		{"scope of a consumer or a service", nil, &analytics.Scope{Consumers: []string{"web-shop"}, Services: []string{"orders-api"}},
			func(r *calllog.Record) bool { return r.Consumer == "web-shop" || r.Service == "orders-api" }},
		{"empty scope", nil, &analytics.Scope{}, func(*calllog.Record) bool { return false }},
		{"scope and filter", map[analytics.Dimension]string{analytics.DimProvider: "anthropic"}, &analytics.Scope{Consumers: []string{"batch"}},
			func(r *calllog.Record) bool { return r.Consumer == "batch" && r.Provider == "anthropic" }},
	}
	for _, tc := range cases {
		s := sel
		s.Filter, s.Scope = tc.filter, tc.scope
		if got, w := count(s), want(tc.keep); got != w {
			t.Errorf("%s: %d requests, want %d", tc.name, got, w)
		}
	}

	// Pruning one resolution leaves the others.
	n, err := db.PruneRollups(ctx, analytics.Minute, end)
	if err != nil || n == 0 {
		t.Fatalf("PruneRollups(minute) = %d, %v; want rows deleted", n, err)
	}
	if got := count(analytics.Selection{Resolution: analytics.Minute, From: all, To: end}); got != 0 {
		t.Errorf("after pruning minutes: %d requests left at minute resolution", got)
	}
	if got, w := count(sel), want(func(*calllog.Record) bool { return true }); got != w {
		t.Errorf("after pruning minutes: %d requests at day resolution, want %d", got, w)
	}
}

// randomCalls returns n distinct records over about two days from start.
func randomCalls(rng *rand.Rand, prefix string, start time.Time, n int) []calllog.Record {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	statuses := []int{200, 200, 200, 201, 400, 429, 500, 502, 0}
	out := make([]calllog.Record, n)
	for i := range out {
		r := calllog.Record{
			ID:       fmt.Sprintf("%s%04d", prefix, i),
			Time:     start.Add(time.Duration(rng.Int64N(int64(40 * time.Hour)))),
			Endpoint: "/v1/chat/completions",
			Service:  pick("", "", "orders-api", "support-bot"),
			Route:    pick("", "0", "orders"),
			Model:    pick("gpt-4o", "gpt-4o-mini", "claude-haiku", ""),
			Provider: pick("openai", "anthropic"),
			Consumer: pick("web-shop", "batch", "mobile", ""),
			Status:   statuses[rng.IntN(len(statuses))],
			// Log-uniform latencies from 1 ms to 100 s.
			LatencyUS:    int64(1000 * math.Pow(10, 5*rng.Float64())),
			InputTokens:  rng.Int64N(5000),
			OutputTokens: rng.Int64N(2000),
			CostUSD:      float64(rng.IntN(1000)) / 1024, // exact in binary, so sums compare exactly
			CacheHit:     rng.IntN(5) == 0,
			// Probe calls are stored but never counted in the rollups.
			Synthetic: rng.IntN(8) == 0,
		}
		if r.Synthetic {
			r.Probe = "canary"
		}
		switch rng.IntN(6) {
		case 0:
			r.Flags = []string{"refusal"}
		case 1:
			r.Flags = []string{"empty_output", "truncated"}
		}
		if rng.IntN(2) == 0 {
			r.Stream, r.TTFTUS = true, 1+r.LatencyUS/int64(1+rng.IntN(10))
		}
		out[i] = r
	}
	return out
}

// checkRollups compares the stored rollups of recs, at every resolution,
// per bucket and key, with aggregates computed from recs directly.
func checkRollups(t *testing.T, db *store.DB, recs []calllog.Record, when string) {
	t.Helper()
	type agg struct {
		requests, errors, hits, in, out, latSum, limited, flagged int64
		cost                                                      float64
		lat, ttft                                                 []float64
	}
	for _, res := range analytics.Resolutions {
		want := map[string]*agg{}
		var from, to time.Time
		for i := range recs {
			r := &recs[i]
			if r.Synthetic {
				continue
			}
			b := res.Truncate(r.Time)
			if from.IsZero() || b.Before(from) {
				from = b
			}
			if e := b.Add(time.Duration(res)); e.After(to) {
				to = e
			}
			k := fmt.Sprint(b.Unix(), analytics.KeyOf(r))
			a := want[k]
			if a == nil {
				a = &agg{}
				want[k] = a
			}
			a.requests++
			if r.Status < 100 || r.Status >= 400 {
				a.errors++
			}
			if r.CacheHit {
				a.hits++
			}
			if r.Status == 429 {
				a.limited++
			}
			if len(r.Flags) > 0 {
				a.flagged++
			}
			a.in += r.InputTokens
			a.out += r.OutputTokens
			a.latSum += r.LatencyUS
			a.cost += r.CostUSD
			a.lat = append(a.lat, float64(r.LatencyUS))
			if r.TTFTUS > 0 {
				a.ttft = append(a.ttft, float64(r.TTFTUS))
			}
		}
		rows, err := db.ReadRollups(t.Context(), analytics.Selection{Resolution: res, From: from, To: to, Sketches: true})
		if err != nil {
			t.Fatalf("%s: ReadRollups(%s): %v", when, res, err)
		}
		// Rows that hold only feedback (given in a bucket where the call's
		// key had no calls) are FeedbackRollups' concern.
		rows = slices.DeleteFunc(rows, func(r *analytics.Row) bool { return r.Requests == 0 && r.Feedback != (analytics.Feedback{}) })
		if len(rows) != len(want) {
			t.Fatalf("%s: %d %s rollups, want %d", when, len(rows), res, len(want))
		}
		for _, r := range rows {
			k := fmt.Sprint(r.Bucket.Unix(), r.Key)
			a := want[k]
			if a == nil {
				t.Fatalf("%s: unexpected %s rollup %s", when, res, k)
			}
			got := [8]int64{r.Requests, r.Errors, r.CacheHits, r.InputTokens, r.OutputTokens, r.LatencySumUS, r.RateLimited, r.Anomalies}
			exp := [8]int64{a.requests, a.errors, a.hits, a.in, a.out, a.latSum, a.limited, a.flagged}
			if got != exp || r.CostUSD != a.cost {
				t.Fatalf("%s: %s rollup %s: counts %v cost %v, want %v cost %v", when, res, k, got, r.CostUSD, exp, a.cost)
			}
			if r.Latency.Count() != a.requests || r.TTFT.Count() != int64(len(a.ttft)) {
				t.Fatalf("%s: %s rollup %s: sketch counts %d, %d; want %d, %d", when, res, k, r.Latency.Count(), r.TTFT.Count(), a.requests, len(a.ttft))
			}
			for _, q := range []float64{0.5, 0.95, 0.99} {
				checkQuantile(t, fmt.Sprintf("%s: %s rollup %s latency", when, res, k), r.Latency, a.lat, q)
				checkQuantile(t, fmt.Sprintf("%s: %s rollup %s ttft", when, res, k), r.TTFT, a.ttft, q)
			}
		}
	}
}

// checkQuantile checks that the sketch's q-quantile is within the relative
// accuracy of the exact value of the same rank (DDSketch's lower-rank
// convention: index floor(q·(n−1)) of the sorted values).
func checkQuantile(t *testing.T, what string, s *analytics.Sketch, values []float64, q float64) {
	t.Helper()
	if len(values) == 0 {
		return
	}
	sorted := slices.Clone(values)
	sort.Float64s(sorted)
	exact := sorted[int(q*float64(len(sorted)-1))]
	got := s.Quantile(q)
	if math.Abs(got-exact) > analytics.RelativeAccuracy*exact*(1+1e-9) {
		t.Fatalf("%s p%g = %g, exact %g: beyond %g relative error", what, q*100, got, exact, analytics.RelativeAccuracy)
	}
}
