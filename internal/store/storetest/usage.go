package storetest

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// Usage is the conformance case of DB.Usage, the totals that quotas and
// budgets are seeded from at start. It has the signature of the cases Run
// lists, so that it can be listed there as {"Usage", storetest.Usage}.
func Usage(t *testing.T, db *store.DB) {
	ctx := t.Context()
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	call := func(id string, at time.Time, consumer, endpoint, errType string, in, out int64, usd float64) calllog.Record {
		return calllog.Record{ID: id, Time: at, Consumer: consumer, Endpoint: endpoint, Status: 200, ErrorType: errType,
			InputTokens: in, OutputTokens: out, CostUSD: usd}
	}
	const chat = "/v1/chat/completions"
	recs := []calllog.Record{
		call("u-01", month, "web-shop", chat, "", 10, 5, 0.25),                                     // first instant of the month
		call("u-02", day.Add(-time.Microsecond), "web-shop", chat, "", 100, 50, 1.5),               // last instant of yesterday
		call("u-03", day, "web-shop", chat, "", 7, 3, 0.125),                                       // first instant of today
		call("u-04", day.Add(9*time.Hour), "web-shop", "/v1/messages", "upstream_error", 0, 0, 0),  // admitted, failed upstream
		call("u-05", day.Add(9*time.Hour), "web-shop", chat, "rate_limit_exceeded", 0, 0, 0),       // refused: skipped
		call("u-06", day.Add(9*time.Hour), "web-shop", "/v1/models", "", 0, 0, 0),                  // not counted: skipped
		call("u-07", month.Add(-time.Microsecond), "web-shop", chat, "", 1000, 1000, 100),          // last month
		call("u-08", day.Add(10*time.Hour), "", chat, "invalid_api_key", 0, 0, 0),                  // no consumer
		call("u-09", day.Add(11*time.Hour), "batch", "/v1/embeddings", "", 40, 0, 0.000004),        // another consumer
		call("u-10", month.Add(48*time.Hour), "mobile", chat, "", 1, 1, 0.5),                       // this month, not today
		call("u-11", day.Add(12*time.Hour), "batch", chat, "quota_exceeded", 0, 0, 0),              // refused: skipped
		call("u-12", day.Add(13*time.Hour), "batch", "/v1/chat/completions", "", 20, 10, 0.000006), // today
	}
	hit := call("u-13", day.Add(14*time.Hour), "mobile", chat, "", 30, 20, 0) // a cache hit: a request, no tokens spent
	hit.CacheHit = true
	recs = append(recs, hit)
	if err := db.InsertCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := db.Usage(ctx, store.UsageQuery{
		Since:          []time.Time{day, month},
		SkipEndpoints:  []string{"/v1/models", "/v1/messages/count_tokens"},
		SkipErrorTypes: []string{"rate_limit_exceeded", "quota_exceeded"},
	})
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	want := []store.ConsumerUsage{
		{Consumer: "batch", Totals: []store.UsageTotals{tot(2, 70, 0.00001), tot(2, 70, 0.00001)}},
		{Consumer: "mobile", Totals: []store.UsageTotals{tot(1, 0, 0), tot(2, 2, 0.5)}},
		{Consumer: "web-shop", Totals: []store.UsageTotals{tot(2, 10, 0.125), tot(4, 175, 1.875)}},
	}
	if !usageEqual(got, want) {
		t.Fatalf("Usage =\n%+v\nwant\n%+v", got, want)
	}

	t.Run("nothing skipped, one instant", func(t *testing.T) {
		got, err := db.Usage(ctx, store.UsageQuery{Since: []time.Time{day}})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ConsumerUsage{
			{Consumer: "batch", Totals: []store.UsageTotals{tot(3, 70, 0.00001)}},
			{Consumer: "mobile", Totals: []store.UsageTotals{tot(1, 0, 0)}},
			{Consumer: "web-shop", Totals: []store.UsageTotals{tot(4, 10, 0.125)}},
		}
		if !usageEqual(got, want) {
			t.Fatalf("Usage =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("no calls since", func(t *testing.T) {
		got, err := db.Usage(ctx, store.UsageQuery{Since: []time.Time{day.AddDate(0, 1, 0)}})
		if err != nil || len(got) != 0 {
			t.Fatalf("Usage = %+v, %v; want none", got, err)
		}
	})
	t.Run("no instant", func(t *testing.T) {
		if _, err := db.Usage(ctx, store.UsageQuery{}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("error = %v, want ErrInvalid", err)
		}
	})
}

func tot(requests, tokens int64, usd float64) store.UsageTotals {
	return store.UsageTotals{Requests: requests, Tokens: tokens, CostUSD: usd}
}

// usageEqual compares totals, costs to within float rounding.
func usageEqual(a, b []store.ConsumerUsage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Consumer != b[i].Consumer || len(a[i].Totals) != len(b[i].Totals) {
			return false
		}
		for j, x := range a[i].Totals {
			y := b[i].Totals[j]
			if math.Abs(x.CostUSD-y.CostUSD) > 1e-12 {
				return false
			}
			x.CostUSD = y.CostUSD
			if !reflect.DeepEqual(x, y) {
				return false
			}
		}
	}
	return true
}
