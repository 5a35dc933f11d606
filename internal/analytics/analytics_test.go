package analytics

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
)

func TestSketchEncodingRoundTrip(t *testing.T) {
	s := NewSketch()
	for i := 1; i <= 1000; i++ {
		s.Add(float64(i * 1000))
	}
	s.Add(-1)
	s.Add(math.NaN())
	b := s.AppendBinary(nil)
	if len(b) > 1200 {
		t.Errorf("encoding of 1000 values is %d bytes; want it compact", len(b))
	}
	d, err := DecodeSketch(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Count() != 1000 {
		t.Errorf("decoded count %d, want 1000", d.Count())
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		if a, b := s.Quantile(q), d.Quantile(q); a != b {
			t.Errorf("p%g: %g before encoding, %g after", q*100, a, b)
		}
	}
	m := NewSketch()
	if err := m.MergeEncoded(b); err != nil {
		t.Fatal(err)
	}
	if err := m.MergeEncoded(b); err != nil {
		t.Fatal(err)
	}
	if m.Count() != 2000 || m.Quantile(0.5) != s.Quantile(0.5) {
		t.Errorf("merging the encoding twice: count %d p50 %g", m.Count(), m.Quantile(0.5))
	}
	if _, err := DecodeSketch([]byte{9, 1, 2}); err == nil {
		t.Error("unknown version decoded without error")
	}
	if e, err := DecodeSketch(nil); err != nil || e.Count() != 0 || e.Quantile(0.5) != 0 {
		t.Errorf("empty encoding: %v, %v", e, err)
	}
}

// FuzzDecodeSketch: stored sketches are read back from the database, which
// an operator may have edited or a disk corrupted; decoding must fail
// cleanly, never panic.
func FuzzDecodeSketch(f *testing.F) {
	s := NewSketch()
	for _, v := range []float64{0, 1, 1500, 2e6} {
		s.Add(v)
	}
	f.Add(s.AppendBinary(nil))
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeSketch(b)
		if err == nil {
			_ = d.Quantile(0.99)
			_ = d.AppendBinary(nil)
		}
	})
}

func TestResolutionFor(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		d    time.Duration
		want Resolution
	}{
		{"an hour", time.Hour, Minute},
		{"six hours", 6 * time.Hour, Minute},
		{"a day", 24 * time.Hour, Hour},
		{"fourteen days", 14 * 24 * time.Hour, Hour},
		{"thirty days", 30 * 24 * time.Hour, Day},
	}
	for _, tc := range cases {
		if got := ResolutionFor(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{0: "none", 200: "2xx", 299: "2xx", 404: "4xx", 503: "5xx", 700: "none"} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// memReader serves rows aggregated in memory, as the store would.
type memReader struct{ rows []*Row }

func (m memReader) ScanRollups(_ context.Context, sel Selection, fn func(r *Row, latency, ttft []byte) error) error {
	for _, r := range m.rows {
		if r.Resolution != sel.Resolution || r.Bucket.Before(sel.From) || !r.Bucket.Before(sel.To) || !sel.Scope.Allows(r.Key) {
			continue
		}
		skip := false
		for d, v := range sel.Filter {
			skip = skip || r.Key.Get(d) != v
		}
		if skip {
			continue
		}
		c := *r
		var lat, ttft []byte
		if sel.Sketches {
			lat, ttft = r.Latency.AppendBinary(nil), r.TTFT.AppendBinary(nil)
		}
		c.Latency, c.TTFT = nil, nil
		if err := fn(&c, lat, ttft); err != nil {
			return err
		}
	}
	return nil
}

func TestQuerier(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(min int, consumer, model string, status int, latMS int64) calllog.Record {
		return calllog.Record{Time: t0.Add(time.Duration(min) * time.Minute), Consumer: consumer, Model: model,
			Status: status, LatencyUS: latMS * 1000, InputTokens: 10, OutputTokens: 5, CostUSD: 0.5}
	}
	recs := []calllog.Record{
		rec(0, "shop", "a", 200, 100), rec(0, "shop", "a", 500, 300), rec(1, "shop", "b", 200, 50),
		rec(2, "batch", "b", 429, 10), rec(2, "batch", "b", 200, 1000),
	}
	qr := &Querier{R: memReader{Aggregate(recs)}}
	ctx := context.Background()
	q := Query{From: t0, To: t0.Add(5 * time.Minute)}

	s, err := qr.Timeseries(ctx, q, []Metric{Requests, Errors, ErrorRate, LatencyP95})
	if err != nil {
		t.Fatal(err)
	}
	if s.Step != "minute" || len(s.Points) != 5 {
		t.Fatalf("series step %s with %d points, want minute and 5", s.Step, len(s.Points))
	}
	if got := *s.Points[0].Values[Requests]; got != 2 {
		t.Errorf("first minute: %g requests, want 2", got)
	}
	if got := *s.Points[0].Values[ErrorRate]; got != 0.5 {
		t.Errorf("first minute: error rate %g, want 0.5", got)
	}
	if s.Points[4].Values[ErrorRate] != nil || *s.Points[4].Values[Requests] != 0 {
		t.Errorf("empty minute: %v, want 0 requests and no error rate", s.Points[4].Values)
	}

	b, err := qr.Breakdown(ctx, q, DimConsumer, []Metric{Requests, Cost})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Groups) != 2 || b.Groups[0].Value != "shop" || *b.Groups[0].Values[Requests] != 3 || *b.Groups[1].Values[Cost] != 1 {
		t.Errorf("breakdown by consumer: %+v", b.Groups)
	}

	top, err := qr.Top(ctx, q, DimModel, LatencyMean, 1, []Metric{LatencyP95})
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Groups) != 1 || top.Groups[0].Value != "b" {
		t.Errorf("top model by latency: %+v, want b", top.Groups)
	}
	// DDSketch ranks quantiles low: p95 of 3 values is the second smallest.
	if p := *top.Groups[0].Values[LatencyP95]; math.Abs(p-50) > 0.5 {
		t.Errorf("p95 of model b = %g ms, want 50 within 1 %%", p)
	}

	scoped := q
	scoped.Scope = &Scope{Consumers: []string{"batch"}}
	w, err := qr.Totals(ctx, scoped, []Metric{Requests})
	if err != nil || *w.Values[Requests] != 2 {
		t.Errorf("scoped totals: %v, %v; want 2 requests", w.Values, err)
	}

	c, err := qr.Compare(ctx, Query{From: t0, To: t0.Add(time.Minute)}, Query{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []Metric{Requests, ErrorRate})
	if err != nil {
		t.Fatal(err)
	}
	if *c.Delta[Requests] != 1 || *c.Relative[Requests] != 0.5 {
		t.Errorf("compare: delta %v relative %v, want +1 and +50 %%", *c.Delta[Requests], *c.Relative[Requests])
	}

	var csv strings.Builder
	if err := s.WriteCSV(&csv); err != nil || !strings.HasPrefix(csv.String(), "time,requests,errors,error_rate,latency_p95\n2026-03-01T12:00:00Z,2,1,0.5,") {
		t.Errorf("csv: %q, %v", csv.String(), err)
	}

	bad := []struct {
		name string
		q    Query
		ms   []Metric
	}{
		{"no range", Query{}, []Metric{Requests}},
		{"reversed range", Query{From: t0, To: t0.Add(-time.Hour)}, []Metric{Requests}},
		{"no metric", q, nil},
		{"too many points", Query{From: t0, To: t0.Add(30 * 24 * time.Hour), Step: Minute}, []Metric{Requests}},
	}
	for _, tc := range bad {
		if _, err := qr.Timeseries(ctx, tc.q, tc.ms); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	v := 1.0
	b := Breakdown{By: DimConsumer, Metrics: []Metric{Requests}, Groups: []Group{{Value: "=HYPERLINK(1)", Values: Values{Requests: &v}}}}
	var out strings.Builder
	if err := b.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	if want := "consumer,requests\n'=HYPERLINK(1),1\n"; out.String() != want {
		t.Errorf("csv = %q, want %q", out.String(), want)
	}
}

func TestRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	p := pruneFunc(func(_ context.Context, res Resolution, before time.Time) (int64, error) {
		got = append(got, res.String()+" "+now.Sub(before).String())
		return 1, nil
	})
	n, err := Retention{Now: func() time.Time { return now }}.RunOnce(context.Background(), p)
	if err != nil || n != 3 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if want := "[minute 168h0m0s hour 2160h0m0s day 17520h0m0s]"; strings.Join(got, " ") != strings.Trim(want, "[]") {
		t.Errorf("pruned %v, want %s", got, want)
	}
}

type pruneFunc func(ctx context.Context, res Resolution, before time.Time) (int64, error)

func (f pruneFunc) PruneRollups(ctx context.Context, res Resolution, before time.Time) (int64, error) {
	return f(ctx, res, before)
}

// TestAggregatorLeavesOutSynthetic checks that probe calls never reach the
// rollups, whatever they cost or however they failed: analytics describe
// what clients got.
func TestAggregatorLeavesOutSynthetic(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)
	agg := NewAggregator()
	agg.Add(&calllog.Record{ID: "a", Time: at, Model: "m", Status: 200, LatencyUS: 1000})
	agg.Add(&calllog.Record{ID: "b", Time: at, Model: "m", Status: 502, LatencyUS: 9000, Synthetic: true, Probe: "p"})
	agg.Add(&calllog.Record{ID: "c", Time: at, Model: "other", Status: 200, Synthetic: true, Probe: "p"})
	var requests, errs int64
	for _, r := range agg.Rows() {
		if r.Resolution != Minute {
			continue
		}
		if r.Key.Model != "m" {
			t.Errorf("row for model %q: synthetic calls made a row", r.Key.Model)
		}
		requests += r.Requests
		errs += r.Errors
	}
	if requests != 1 || errs != 0 {
		t.Errorf("minute rollups count %d requests, %d errors; want 1, 0", requests, errs)
	}
}
