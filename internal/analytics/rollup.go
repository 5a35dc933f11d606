package analytics

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
)

// Resolution is the width of a rollup bucket.
type Resolution time.Duration

// The resolutions rollups are kept at.
const (
	Minute = Resolution(time.Minute)
	Hour   = Resolution(time.Hour)
	Day    = Resolution(24 * time.Hour)
)

// Resolutions lists every resolution, finest first.
var Resolutions = []Resolution{Minute, Hour, Day}

// Seconds is the bucket width in seconds, as stored.
func (r Resolution) Seconds() int64 { return int64(time.Duration(r) / time.Second) }

// Truncate returns the start of the bucket holding t, in UTC. Days start
// at midnight UTC.
func (r Resolution) Truncate(t time.Time) time.Time {
	return time.Unix(t.Unix()-mod(t.Unix(), r.Seconds()), 0).UTC()
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func (r Resolution) String() string {
	switch r {
	case Minute:
		return "minute"
	case Hour:
		return "hour"
	case Day:
		return "day"
	}
	return time.Duration(r).String()
}

// ParseResolution reads "minute", "hour", "day" or the durations 1m, 1h, 1d.
func ParseResolution(s string) (Resolution, error) {
	switch s {
	case "minute", "1m":
		return Minute, nil
	case "hour", "1h":
		return Hour, nil
	case "day", "1d", "24h":
		return Day, nil
	}
	return 0, fmt.Errorf("unknown step %q (one of: minute, hour, day)", s)
}

// ResolutionFor chooses the resolution for a time range: minutes up to 6
// hours, hours up to 14 days, days beyond. It keeps a series to at most a
// few hundred points, and a range longer than a finer table's retention
// never reads that table.
func ResolutionFor(from, to time.Time) Resolution {
	switch d := to.Sub(from); {
	case d <= 6*time.Hour:
		return Minute
	case d <= 14*24*time.Hour:
		return Hour
	}
	return Day
}

// Dimension is what rollups are grouped and filtered by.
type Dimension string

// The dimensions.
const (
	DimService     Dimension = "service"
	DimRoute       Dimension = "route"
	DimModel       Dimension = "model"
	DimProvider    Dimension = "provider"
	DimConsumer    Dimension = "consumer"
	DimStatusClass Dimension = "status_class"
)

// Dimensions lists every dimension, in key order.
var Dimensions = []Dimension{DimService, DimRoute, DimModel, DimProvider, DimConsumer, DimStatusClass}

// ParseDimension validates a dimension name.
func ParseDimension(s string) (Dimension, error) {
	for _, d := range Dimensions {
		if string(d) == s {
			return d, nil
		}
	}
	return "", fmt.Errorf("unknown dimension %q (one of: service, route, model, provider, consumer, status_class)", s)
}

// Key is the identity of a rollup row within its bucket.
type Key struct {
	Service     string `json:"service"`
	Route       string `json:"route"`
	Model       string `json:"model"`
	Provider    string `json:"provider"`
	Consumer    string `json:"consumer"`
	StatusClass string `json:"status_class"` // 2xx, 4xx, 5xx …, or "none" when no HTTP status was given
}

// Get returns the key's value of dimension d.
func (k Key) Get(d Dimension) string {
	switch d {
	case DimService:
		return k.Service
	case DimRoute:
		return k.Route
	case DimModel:
		return k.Model
	case DimProvider:
		return k.Provider
	case DimConsumer:
		return k.Consumer
	case DimStatusClass:
		return k.StatusClass
	}
	return ""
}

// StatusClass names the class of an HTTP status: "2xx" for 200–299 and so
// on; "none" for 0 (no answer) or anything outside 100–599.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}

// IsError reports whether a call counts as an error: an HTTP error status,
// or no answer at all.
func IsError(status int) bool { return status < 100 || status >= 400 }

// KeyOf returns the rollup key of a call record.
func KeyOf(r *calllog.Record) Key {
	return Key{Service: r.Service, Route: r.Route, Model: r.Model, Provider: r.Provider,
		Consumer: r.Consumer, StatusClass: StatusClass(r.Status)}
}

// Row is one rollup: the aggregate of the calls of one key in one bucket,
// and of the feedback given in that bucket on calls of that key.
//
// Feedback is counted when it is given (or last changed), not when the call
// was made: "negative feedback over the last 15 minutes" is about what users
// said in those minutes. A changed value moves from the bucket of its old
// time to that of its new one, so every feedback item is counted once, with
// its current value.
type Row struct {
	Resolution Resolution
	Bucket     time.Time // start of the bucket, UTC
	Key
	Requests     int64
	Errors       int64
	CacheHits    int64
	InputTokens  int64
	OutputTokens int64
	CostUSD      float64
	LatencySumUS int64 // exact sum, for means
	// RateLimited counts the calls answered 429 Too Many Requests, whether
	// the gateway's limits, quotas or budgets refused them or an upstream
	// did.
	RateLimited int64
	// Anomalies counts the calls an anomaly detector flagged.
	Anomalies int64
	Feedback
	// Latency sketches total latency in microseconds over every call; TTFT
	// the time to first token of the calls that streamed one.
	Latency *Sketch
	TTFT    *Sketch
}

// Feedback is the feedback counted in a row.
type Feedback struct {
	// FeedbackCount counts the feedback items; FeedbackScored those with a
	// boolean or numeric value, whose values (true as 1, false as 0) sum to
	// FeedbackSum, for means.
	FeedbackCount  int64
	FeedbackScored int64
	FeedbackSum    float64
	// FeedbackPositive and FeedbackNegative count the feedback of that
	// polarity, as judged when it was given (feedback.ScorePolarity): a
	// boolean true or false, a rating above or below its midpoint, a
	// category listed as positive or negative.
	FeedbackPositive int64
	FeedbackNegative int64
}

// AddFeedback counts (sign 1) or uncounts (sign −1) one feedback value of
// the given polarity.
func (f *Feedback) AddFeedback(v feedback.Value, polarity string, sign int64) {
	f.FeedbackCount += sign
	switch v.Kind {
	case feedback.Boolean, feedback.Numeric:
		f.FeedbackScored += sign
		f.FeedbackSum += float64(sign) * v.Num
	}
	switch polarity {
	case feedback.PolarityPositive:
		f.FeedbackPositive += sign
	case feedback.PolarityNegative:
		f.FeedbackNegative += sign
	}
}

func (f *Feedback) mergeFeedback(o *Feedback) {
	f.FeedbackCount += o.FeedbackCount
	f.FeedbackScored += o.FeedbackScored
	f.FeedbackSum += o.FeedbackSum
	f.FeedbackPositive += o.FeedbackPositive
	f.FeedbackNegative += o.FeedbackNegative
}

// NewRow returns an empty row with empty sketches.
func NewRow(res Resolution, bucket time.Time, k Key) *Row {
	return &Row{Resolution: res, Bucket: bucket, Key: k, Latency: NewSketch(), TTFT: NewSketch()}
}

// Add counts one call record in the row.
func (r *Row) Add(rec *calllog.Record) {
	r.Requests++
	if IsError(rec.Status) {
		r.Errors++
	}
	if rec.CacheHit {
		r.CacheHits++
	}
	if rec.Status == 429 {
		r.RateLimited++
	}
	if len(rec.Flags) > 0 {
		r.Anomalies++
	}
	r.InputTokens += rec.InputTokens
	r.OutputTokens += rec.OutputTokens
	r.CostUSD += rec.CostUSD
	r.LatencySumUS += rec.LatencyUS
	r.Latency.Add(float64(rec.LatencyUS))
	if rec.TTFTUS > 0 {
		r.TTFT.Add(float64(rec.TTFTUS))
	}
}

// Merge adds o's counts and sketches to r; keys and buckets are not checked.
func (r *Row) Merge(o *Row) error {
	r.MergeCounts(o)
	if err := r.Latency.Merge(o.Latency); err != nil {
		return err
	}
	return r.TTFT.Merge(o.TTFT)
}

// MergeCounts adds o's counts and sums to r, not its sketches.
func (r *Row) MergeCounts(o *Row) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.CacheHits += o.CacheHits
	r.InputTokens += o.InputTokens
	r.OutputTokens += o.OutputTokens
	r.CostUSD += o.CostUSD
	r.LatencySumUS += o.LatencySumUS
	r.RateLimited += o.RateLimited
	r.Anomalies += o.Anomalies
	r.mergeFeedback(&o.Feedback)
}

// bucketKey identifies a row among rows of one resolution.
type bucketKey struct {
	bucket int64
	Key
}

// Aggregator accumulates call records into rows at every resolution.
type Aggregator struct {
	rows map[Resolution]map[bucketKey]*Row
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator {
	a := &Aggregator{rows: make(map[Resolution]map[bucketKey]*Row, len(Resolutions))}
	for _, res := range Resolutions {
		a.rows[res] = map[bucketKey]*Row{}
	}
	return a
}

// Add counts rec at every resolution; a synthetic (probe) call is not
// counted.
func (a *Aggregator) Add(rec *calllog.Record) {
	if rec.Synthetic {
		// Probe calls measure the gateway; counted with the clients'
		// calls they would skew error rates and latencies users see.
		return
	}
	k := KeyOf(rec)
	for _, res := range Resolutions {
		b := res.Truncate(rec.Time)
		bk := bucketKey{b.Unix(), k}
		row := a.rows[res][bk]
		if row == nil {
			row = NewRow(res, b, k)
			a.rows[res][bk] = row
		}
		row.Add(rec)
	}
}

// FeedbackKey returns the rollup key feedback on a call is counted under.
func FeedbackKey(c calllog.CallSummary) Key {
	return Key{Service: c.Service, Route: c.Route, Model: c.Model, Provider: c.Provider,
		Consumer: c.Consumer, StatusClass: StatusClass(c.Status)}
}

// AddFeedback counts (sign 1) or uncounts (sign −1) the feedback value v
// of the given polarity, given at t on a call of key k, at every
// resolution.
func (a *Aggregator) AddFeedback(k Key, t time.Time, v feedback.Value, polarity string, sign int64) {
	for _, res := range Resolutions {
		b := res.Truncate(t)
		bk := bucketKey{b.Unix(), k}
		row := a.rows[res][bk]
		if row == nil {
			row = NewRow(res, b, k)
			a.rows[res][bk] = row
		}
		row.Feedback.AddFeedback(v, polarity, sign)
	}
}

// Rows returns the accumulated rows, ordered by resolution, bucket and key
// so that writers touch rows in one order and never deadlock each other.
func (a *Aggregator) Rows() []*Row {
	var out []*Row
	for _, res := range Resolutions {
		for _, r := range a.rows[res] {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return rowLess(out[i], out[j]) })
	return out
}

func rowLess(a, b *Row) bool {
	if a.Resolution != b.Resolution {
		return a.Resolution < b.Resolution
	}
	if !a.Bucket.Equal(b.Bucket) {
		return a.Bucket.Before(b.Bucket)
	}
	for _, d := range Dimensions {
		if x, y := a.Key.Get(d), b.Key.Get(d); x != y {
			return x < y
		}
	}
	return false
}

// Aggregate returns the rollup rows of recs at every resolution.
func Aggregate(recs []calllog.Record) []*Row {
	a := NewAggregator()
	for i := range recs {
		a.Add(&recs[i])
	}
	return a.Rows()
}
