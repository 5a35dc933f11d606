package analytics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// ErrInvalid marks a query the caller got wrong: an unknown metric, a
// reversed range, too many points. The admin API answers it with a 400.
var ErrInvalid = errors.New("invalid analytics query")

// MaxPoints bounds the buckets one time series may have.
const MaxPoints = 1500

// Scope limits rows to those of some consumers or some services, for
// readers scoped to a team or a consumer: a row is kept when its consumer
// is one of Consumers or its service one of Services.
type Scope struct {
	Consumers []string
	Services  []string
}

// Allows reports whether a row of key k is within the scope.
func (s *Scope) Allows(k Key) bool {
	if s == nil {
		return true
	}
	return (k.Consumer != "" && slices.Contains(s.Consumers, k.Consumer)) ||
		(k.Service != "" && slices.Contains(s.Services, k.Service))
}

// Selection is what a Reader reads: the rows of one resolution whose
// bucket starts in [From, To), matching every Filter value and the Scope.
type Selection struct {
	Resolution Resolution
	From, To   time.Time
	Filter     map[Dimension]string
	Scope      *Scope // nil: every row
	// Sketches asks for the latency sketches; without it rows come with
	// empty ones, which spares decoding when no percentile is wanted.
	Sketches bool
	// Lean reads only the calls' counts and sums, leaving the rate-limit,
	// anomaly and feedback counts at zero: a 30-day query reads 15,000
	// rows, and each column read costs (docs/benchmarks.md).
	Lean bool
}

// Reader reads rollup rows; the store implements it.
type Reader interface {
	// ScanRollups calls fn for each row of sel, in no particular order,
	// with the row's counts and, when sel.Sketches, its sketches still
	// encoded (AppendBinary): a query merges them into its groups without
	// decoding each. The row's own sketches are nil, and neither it nor the
	// byte slices may be kept after fn returns.
	ScanRollups(ctx context.Context, sel Selection, fn func(r *Row, latency, ttft []byte) error) error
}

// Query is a time range with its filters.
type Query struct {
	From, To time.Time
	// Step is the resolution read and, for time series, the width of a
	// point; 0 chooses it from the range (ResolutionFor).
	Step   Resolution
	Filter map[Dimension]string
	Scope  *Scope
}

// Metric is a number computed from merged rollups.
type Metric string

// The metrics. Latencies are in milliseconds; rates are fractions.
const (
	Requests     Metric = "requests"
	Errors       Metric = "errors"
	ErrorRate    Metric = "error_rate"
	LatencyMean  Metric = "latency_mean"
	LatencyP50   Metric = "latency_p50"
	LatencyP95   Metric = "latency_p95"
	LatencyP99   Metric = "latency_p99"
	TTFTP50      Metric = "ttft_p50"
	TTFTP95      Metric = "ttft_p95"
	Tokens       Metric = "tokens"
	InputTokens  Metric = "input_tokens"
	OutputTokens Metric = "output_tokens"
	Cost         Metric = "cost"
	CacheHits    Metric = "cache_hits"
	CacheHitRate Metric = "cache_hit_rate"
	RateLimited  Metric = "rate_limited"
	// Anomalies counts the calls an anomaly detector flagged;
	// AnomalyRate is their share of the calls.
	Anomalies   Metric = "anomalies"
	AnomalyRate Metric = "anomaly_rate"
	// FeedbackCount is the number of feedback items given; FeedbackMean
	// the mean of the boolean (as 0 or 1) and numeric ones;
	// NegativeFeedbackRatio the share of boolean feedback that is false.
	FeedbackCount         Metric = "feedback"
	FeedbackMean          Metric = "feedback_mean"
	NegativeFeedbackRatio Metric = "negative_feedback_ratio"
)

// Metrics lists every metric.
var Metrics = []Metric{Requests, Errors, ErrorRate, LatencyMean, LatencyP50, LatencyP95, LatencyP99,
	TTFTP50, TTFTP95, Tokens, InputTokens, OutputTokens, Cost, CacheHits, CacheHitRate, RateLimited,
	Anomalies, AnomalyRate, FeedbackCount, FeedbackMean, NegativeFeedbackRatio}

// ParseMetric validates a metric name.
func ParseMetric(s string) (Metric, error) {
	if slices.Contains(Metrics, Metric(s)) {
		return Metric(s), nil
	}
	return "", fmt.Errorf("%w: unknown metric %q (one of: %v)", ErrInvalid, s, Metrics)
}

// NeedsExtras reports whether m is read from the rate-limit, anomaly or
// feedback counts, which a Lean selection leaves out.
func (m Metric) NeedsExtras() bool {
	switch m {
	case RateLimited, Anomalies, AnomalyRate, FeedbackCount, FeedbackMean, NegativeFeedbackRatio:
		return true
	}
	return false
}

// needsSketch reports whether m is read from a sketch.
func (m Metric) needsSketch() bool {
	switch m {
	case LatencyP50, LatencyP95, LatencyP99, TTFTP50, TTFTP95:
		return true
	}
	return false
}

// Value computes m from a merged row. ok is false when m is undefined for
// it: a rate or a latency of no calls.
func (m Metric) Value(r *Row) (v float64, ok bool) {
	ms := func(us float64) float64 { return us / 1000 }
	switch m {
	case Requests:
		return float64(r.Requests), true
	case Errors:
		return float64(r.Errors), true
	case Tokens:
		return float64(r.InputTokens + r.OutputTokens), true
	case InputTokens:
		return float64(r.InputTokens), true
	case OutputTokens:
		return float64(r.OutputTokens), true
	case Cost:
		return r.CostUSD, true
	case CacheHits:
		return float64(r.CacheHits), true
	case RateLimited:
		return float64(r.RateLimited), true
	case Anomalies:
		return float64(r.Anomalies), true
	case FeedbackCount:
		return float64(r.FeedbackCount), true
	case FeedbackMean:
		if r.FeedbackScored <= 0 {
			return 0, false
		}
		return r.FeedbackSum / float64(r.FeedbackScored), true
	case NegativeFeedbackRatio:
		if n := r.FeedbackPositive + r.FeedbackNegative; n > 0 {
			return float64(r.FeedbackNegative) / float64(n), true
		}
		return 0, false
	}
	if r.Requests == 0 {
		return 0, false
	}
	switch m {
	case ErrorRate:
		return float64(r.Errors) / float64(r.Requests), true
	case CacheHitRate:
		return float64(r.CacheHits) / float64(r.Requests), true
	case AnomalyRate:
		return float64(r.Anomalies) / float64(r.Requests), true
	case LatencyMean:
		return ms(float64(r.LatencySumUS) / float64(r.Requests)), true
	case LatencyP50:
		return ms(r.Latency.Quantile(0.50)), true
	case LatencyP95:
		return ms(r.Latency.Quantile(0.95)), true
	case LatencyP99:
		return ms(r.Latency.Quantile(0.99)), true
	case TTFTP50, TTFTP95:
		if r.TTFT.Count() == 0 {
			return 0, false
		}
		q := 0.50
		if m == TTFTP95 {
			q = 0.95
		}
		return ms(r.TTFT.Quantile(q)), true
	}
	return 0, false
}

// Values maps each metric to its value, nil where it is undefined (JSON
// null).
type Values map[Metric]*float64

func valuesOf(r *Row, ms []Metric) Values {
	out := make(Values, len(ms))
	for _, m := range ms {
		if v, ok := m.Value(r); ok {
			out[m] = &v
		} else {
			out[m] = nil
		}
	}
	return out
}

// Point is one bucket of a time series.
type Point struct {
	Time   time.Time `json:"time"`
	Values Values    `json:"values"`
}

// Series is a time series answer.
type Series struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Step    string    `json:"step"`
	Metrics []Metric  `json:"metrics"`
	Points  []Point   `json:"points"`
}

// Group is one value of a dimension with its metrics.
type Group struct {
	Value  string `json:"value"`
	Values Values `json:"values"`
	row    *Row
}

// Breakdown is a breakdown or top-N answer.
type Breakdown struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Step    string    `json:"step"`
	By      Dimension `json:"by"`
	Metrics []Metric  `json:"metrics"`
	Groups  []Group   `json:"groups"`
}

// Window is the totals of one window of a comparison.
type Window struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Values Values    `json:"values"`
}

// Comparison is two windows' totals and their difference (b − a) and
// relative change ((b − a) / a, nil when a is 0 or either is undefined).
type Comparison struct {
	Metrics  []Metric `json:"metrics"`
	A        Window   `json:"a"`
	B        Window   `json:"b"`
	Delta    Values   `json:"delta"`
	Relative Values   `json:"relative"`
}

// merger accumulates scanned rows into one row per group.
type merger struct {
	res           Resolution
	latency, ttft bool // which sketches the metrics need
	groups        map[string]*Row
	order         []string
}

func newMerger(sel Selection, ms []Metric) *merger {
	m := &merger{res: sel.Resolution, groups: map[string]*Row{}}
	for _, x := range ms {
		switch x {
		case LatencyP50, LatencyP95, LatencyP99:
			m.latency = true
		case TTFTP50, TTFTP95:
			m.ttft = true
		}
	}
	return m
}

func (m *merger) add(group string, bucket time.Time, r *Row, latency, ttft []byte) error {
	g := m.groups[group]
	if g == nil {
		g = NewRow(m.res, bucket, Key{})
		m.groups[group] = g
		m.order = append(m.order, group)
	}
	g.MergeCounts(r)
	if m.latency {
		if err := g.Latency.MergeEncoded(latency); err != nil {
			return err
		}
	}
	if m.ttft {
		if err := g.TTFT.MergeEncoded(ttft); err != nil {
			return err
		}
	}
	return nil
}

// Querier answers analytics queries from rollups.
type Querier struct {
	R Reader
}

// prepare validates q and returns the selection it reads.
func prepare(q Query, ms []Metric) (Selection, error) {
	if q.From.IsZero() || q.To.IsZero() {
		return Selection{}, fmt.Errorf("%w: from and to are required", ErrInvalid)
	}
	if !q.To.After(q.From) {
		return Selection{}, fmt.Errorf("%w: to must be after from", ErrInvalid)
	}
	if len(ms) == 0 {
		return Selection{}, fmt.Errorf("%w: no metric asked for", ErrInvalid)
	}
	step := q.Step
	if step == 0 {
		step = ResolutionFor(q.From, q.To)
	}
	if !slices.Contains(Resolutions, step) {
		return Selection{}, fmt.Errorf("%w: unknown step %v", ErrInvalid, step)
	}
	from := step.Truncate(q.From)
	if n := q.To.Sub(from) / time.Duration(step); n > MaxPoints {
		return Selection{}, fmt.Errorf("%w: step %s over this range gives %d points; at most %d (choose a coarser step or a shorter range)",
			ErrInvalid, step, n, MaxPoints)
	}
	sketches, lean := false, true
	for _, m := range ms {
		sketches = sketches || m.needsSketch()
		lean = lean && !m.NeedsExtras()
	}
	return Selection{Resolution: step, From: from, To: q.To, Filter: q.Filter, Scope: q.Scope, Sketches: sketches, Lean: lean}, nil
}

// Timeseries returns one point per bucket of the range, empty buckets
// included, with the metrics ms.
func (qr *Querier) Timeseries(ctx context.Context, q Query, ms []Metric) (Series, error) {
	sel, err := prepare(q, ms)
	if err != nil {
		return Series{}, err
	}
	mg := newMerger(sel, ms)
	err = qr.R.ScanRollups(ctx, sel, func(r *Row, latency, ttft []byte) error {
		return mg.add(strconv.FormatInt(r.Bucket.Unix(), 10), r.Bucket, r, latency, ttft)
	})
	if err != nil {
		return Series{}, err
	}
	s := Series{From: sel.From, To: sel.To, Step: sel.Resolution.String(), Metrics: ms, Points: []Point{}}
	empty := NewRow(sel.Resolution, time.Time{}, Key{})
	for t := sel.From; t.Before(sel.To); t = t.Add(time.Duration(sel.Resolution)) {
		r := mg.groups[strconv.FormatInt(t.Unix(), 10)]
		if r == nil {
			r = empty
		}
		s.Points = append(s.Points, Point{Time: t, Values: valuesOf(r, ms)})
	}
	return s, nil
}

// groups merges the rows of q per value of by, and the total of all.
func (qr *Querier) groups(ctx context.Context, q Query, by Dimension, ms []Metric) (Selection, []Group, error) {
	sel, err := prepare(q, ms)
	if err != nil {
		return sel, nil, err
	}
	if by != "" && !slices.Contains(Dimensions, by) {
		return sel, nil, fmt.Errorf("%w: unknown dimension %q", ErrInvalid, by)
	}
	mg := newMerger(sel, ms)
	err = qr.R.ScanRollups(ctx, sel, func(r *Row, latency, ttft []byte) error {
		return mg.add(r.Key.Get(by), sel.From, r, latency, ttft)
	})
	if err != nil {
		return sel, nil, err
	}
	out := make([]Group, 0, len(mg.order))
	for _, v := range mg.order {
		out = append(out, Group{Value: v, Values: valuesOf(mg.groups[v], ms), row: mg.groups[v]})
	}
	return sel, out, nil
}

// Breakdown groups the range by one dimension, most requests first.
func (qr *Querier) Breakdown(ctx context.Context, q Query, by Dimension, ms []Metric) (Breakdown, error) {
	if by == "" {
		return Breakdown{}, fmt.Errorf("%w: a dimension to group by is required", ErrInvalid)
	}
	sel, gs, err := qr.groups(ctx, q, by, ms)
	if err != nil {
		return Breakdown{}, err
	}
	sort.SliceStable(gs, func(i, j int) bool {
		if gs[i].row.Requests != gs[j].row.Requests {
			return gs[i].row.Requests > gs[j].row.Requests
		}
		return gs[i].Value < gs[j].Value
	})
	return Breakdown{From: sel.From, To: sel.To, Step: sel.Resolution.String(), By: by, Metrics: ms, Groups: gs}, nil
}

// Top returns the limit values of by with the highest metric m (groups
// where m is undefined last), each with the metrics ms as well.
func (qr *Querier) Top(ctx context.Context, q Query, by Dimension, m Metric, limit int, ms []Metric) (Breakdown, error) {
	if by == "" {
		return Breakdown{}, fmt.Errorf("%w: a dimension to rank is required", ErrInvalid)
	}
	if limit <= 0 {
		return Breakdown{}, fmt.Errorf("%w: limit must be positive", ErrInvalid)
	}
	if !slices.Contains(ms, m) {
		ms = append([]Metric{m}, ms...)
	}
	sel, gs, err := qr.groups(ctx, q, by, ms)
	if err != nil {
		return Breakdown{}, err
	}
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i].Values[m], gs[j].Values[m]
		switch {
		case a == nil || b == nil:
			if (a == nil) != (b == nil) {
				return b == nil
			}
		case *a != *b:
			return *a > *b
		}
		return gs[i].Value < gs[j].Value
	})
	if len(gs) > limit {
		gs = gs[:limit]
	}
	return Breakdown{From: sel.From, To: sel.To, Step: sel.Resolution.String(), By: by, Metrics: ms, Groups: gs}, nil
}

// Totals returns the metrics of the whole range.
func (qr *Querier) Totals(ctx context.Context, q Query, ms []Metric) (Window, error) {
	sel, gs, err := qr.groups(ctx, q, "", ms)
	if err != nil {
		return Window{}, err
	}
	w := Window{From: sel.From, To: sel.To}
	if len(gs) == 0 {
		w.Values = valuesOf(NewRow(sel.Resolution, time.Time{}, Key{}), ms)
	} else {
		w.Values = gs[0].Values
	}
	return w, nil
}

// Compare returns the metrics of two windows and their difference. Each
// window chooses its own resolution from its length, so a short window
// compared with a long one is read as finely as it can be.
func (qr *Querier) Compare(ctx context.Context, a, b Query, ms []Metric) (Comparison, error) {
	wa, err := qr.Totals(ctx, a, ms)
	if err != nil {
		return Comparison{}, err
	}
	wb, err := qr.Totals(ctx, b, ms)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{Metrics: ms, A: wa, B: wb, Delta: Values{}, Relative: Values{}}
	for _, m := range ms {
		va, vb := wa.Values[m], wb.Values[m]
		c.Delta[m], c.Relative[m] = nil, nil
		if va == nil || vb == nil {
			continue
		}
		d := *vb - *va
		c.Delta[m] = &d
		if *va != 0 {
			rel := d / math.Abs(*va)
			c.Relative[m] = &rel
		}
	}
	return c, nil
}
