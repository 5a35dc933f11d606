package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
)

// defaultAnalyticsRange is the window of an analytics query that names no
// from.
const defaultAnalyticsRange = 24 * time.Hour

// maxTopLimit bounds top-N answers.
const maxTopLimit = 100

// analyticsQuery reads the range, step and filters shared by every
// analytics endpoint, with the parameter names prefixed by prefix (the
// comparison's second window uses "b_"). A scoped principal's query is
// limited to its consumers and services.
func (s *Server) analyticsQuery(r *http.Request, v url.Values, prefix string) (analytics.Query, error) {
	var q analytics.Query
	var err error
	if q.From, err = parseTime(prefix+"from", v.Get(prefix+"from")); err != nil {
		return q, err
	}
	if q.To, err = parseTime(prefix+"to", v.Get(prefix+"to")); err != nil {
		return q, err
	}
	if q.To.IsZero() {
		q.To = s.now()
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-defaultAnalyticsRange)
	}
	if !q.To.After(q.From) {
		return q, badRequest(prefix+"to", "%sto must be after %sfrom", prefix, prefix)
	}
	if st := v.Get("step"); st != "" {
		if q.Step, err = analytics.ParseResolution(st); err != nil {
			return q, badRequest("step", "step: %v", err)
		}
	}
	for _, d := range analytics.Dimensions {
		if val, ok := v[string(d)]; ok {
			if q.Filter == nil {
				q.Filter = map[analytics.Dimension]string{}
			}
			q.Filter[d] = val[0]
		}
	}
	if p := principal(r); p.Scoped() {
		sc := s.callScope(p)
		q.Scope = &analytics.Scope{Consumers: sc.Consumers, Services: sc.Services}
	}
	return q, nil
}

// analyticsMetrics reads the comma-separated metric parameter, or def.
func analyticsMetrics(v url.Values, param string, def []analytics.Metric) ([]analytics.Metric, error) {
	raw := v.Get(param)
	if raw == "" {
		return def, nil
	}
	var ms []analytics.Metric
	for _, name := range strings.Split(raw, ",") {
		m, err := analytics.ParseMetric(strings.TrimSpace(name))
		if err != nil {
			return nil, badRequest(param, "%s: %q is not a metric (one of: %s)", param, name, metricNames())
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func metricNames() string {
	names := make([]string, len(analytics.Metrics))
	for i, m := range analytics.Metrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

func analyticsDimension(v url.Values, param string) (analytics.Dimension, error) {
	raw := v.Get(param)
	if raw == "" {
		return "", badRequest(param, "%s is required (one of: service, route, model, provider, consumer, status_class)", param)
	}
	d, err := analytics.ParseDimension(raw)
	if err != nil {
		return "", badRequest(param, "%s: %v", param, err)
	}
	return d, nil
}

// wantCSV reads format: json (the default) or csv.
func wantCSV(v url.Values) (bool, error) {
	switch v.Get("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, badRequest("format", "format: %q is not json or csv", v.Get("format"))
}

// analyticsError turns the querier's complaints about a query into 400s.
func analyticsError(err error) error {
	if errors.Is(err, analytics.ErrInvalid) {
		return badRequest("", "%s", strings.TrimPrefix(err.Error(), analytics.ErrInvalid.Error()+": "))
	}
	return err
}

var defaultSeriesMetrics = []analytics.Metric{analytics.Requests, analytics.Errors, analytics.ErrorRate, analytics.LatencyP95}

func (s *Server) querier() (*analytics.Querier, error) {
	if s.Analytics == nil {
		return nil, &Error{Status: 404, Code: "not_found", Msg: "analytics are not enabled on this gateway"}
	}
	return &analytics.Querier{R: s.Analytics}, nil
}

func (s *Server) analyticsTimeseries(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	csv, err := wantCSV(v)
	if err != nil {
		return err
	}
	ms, err := analyticsMetrics(v, "metric", defaultSeriesMetrics)
	if err != nil {
		return err
	}
	q, err := s.analyticsQuery(r, v, "")
	if err != nil {
		return err
	}
	qr, err := s.querier()
	if err != nil {
		return err
	}
	series, err := qr.Timeseries(r.Context(), q, ms)
	if err != nil {
		return analyticsError(err)
	}
	if csv {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return series.WriteCSV(w)
	}
	writeJSON(w, 200, series)
	return nil
}

func (s *Server) analyticsBreakdown(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	csv, err := wantCSV(v)
	if err != nil {
		return err
	}
	by, err := analyticsDimension(v, "by")
	if err != nil {
		return err
	}
	ms, err := analyticsMetrics(v, "metric", defaultSeriesMetrics)
	if err != nil {
		return err
	}
	q, err := s.analyticsQuery(r, v, "")
	if err != nil {
		return err
	}
	qr, err := s.querier()
	if err != nil {
		return err
	}
	b, err := qr.Breakdown(r.Context(), q, by, ms)
	if err != nil {
		return analyticsError(err)
	}
	if csv {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return b.WriteCSV(w)
	}
	writeJSON(w, 200, b)
	return nil
}

func (s *Server) analyticsTop(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	by, err := analyticsDimension(v, "by")
	if err != nil {
		return err
	}
	if v.Get("metric") == "" {
		return badRequest("metric", "metric is required: what to rank by (one of: %s)", metricNames())
	}
	m, err := analytics.ParseMetric(v.Get("metric"))
	if err != nil {
		return badRequest("metric", "metric: %q is not a metric (one of: %s)", v.Get("metric"), metricNames())
	}
	limit := 10
	if l := v.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > maxTopLimit {
			return badRequest("limit", "limit: %q must be a whole number from 1 to %d", l, maxTopLimit)
		}
	}
	q, err := s.analyticsQuery(r, v, "")
	if err != nil {
		return err
	}
	qr, err := s.querier()
	if err != nil {
		return err
	}
	b, err := qr.Top(r.Context(), q, by, m, limit, []analytics.Metric{analytics.Requests})
	if err != nil {
		return analyticsError(err)
	}
	writeJSON(w, 200, b)
	return nil
}

func (s *Server) analyticsCompare(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	for _, p := range []string{"from", "to", "b_from", "b_to"} {
		if v.Get(p) == "" {
			return badRequest(p, "%s is required: a comparison is of window from..to with window b_from..b_to", p)
		}
	}
	ms, err := analyticsMetrics(v, "metric", defaultSeriesMetrics)
	if err != nil {
		return err
	}
	a, err := s.analyticsQuery(r, v, "")
	if err != nil {
		return err
	}
	b, err := s.analyticsQuery(r, v, "b_")
	if err != nil {
		return err
	}
	qr, err := s.querier()
	if err != nil {
		return err
	}
	c, err := qr.Compare(r.Context(), a, b, ms)
	if err != nil {
		return analyticsError(err)
	}
	writeJSON(w, 200, c)
	return nil
}

// RollupRebuilder recomputes the rollups of a range from the raw call
// records and feedback; the store implements it.
type RollupRebuilder interface {
	RebuildRollups(ctx context.Context, from, to time.Time) error
}

// maxRebuildDays bounds one rebuild request; longer histories are rebuilt
// in several.
const maxRebuildDays = 400

// RebuildResult answers POST /admin/v1/analytics/rebuild.
type RebuildResult struct {
	// From and To are the range rebuilt: the one asked for, widened to
	// whole UTC days.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Days int       `json:"days"`
	// DurationMS is how long it took.
	DurationMS int64 `json:"duration_ms"`
}

// analyticsRebuild recomputes the rollups of a range, one day per
// transaction: each day is idempotent on its own, and the store's write
// lock is never held for more than a day's worth of records, so the call
// log's writer waits (or spills) only briefly.
func (s *Server) analyticsRebuild(w http.ResponseWriter, r *http.Request) error {
	if s.Rollups == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "analytics are not enabled on this gateway"}
	}
	var in struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	from, err := parseTime("from", in.From)
	if err != nil {
		return err
	}
	to, err := parseTime("to", in.To)
	if err != nil {
		return err
	}
	if from.IsZero() {
		return badRequest("from", "from is required: the start of the range to rebuild (RFC 3339)")
	}
	if to.IsZero() {
		to = s.now()
	}
	if !to.After(from) {
		return badRequest("to", "to must be after from")
	}
	from = analytics.Day.Truncate(from)
	if end := analytics.Day.Truncate(to); end.Before(to) {
		to = end.Add(24 * time.Hour)
	}
	days := int(to.Sub(from) / (24 * time.Hour))
	if days > maxRebuildDays {
		return badRequest("from", "the range covers %d days; rebuild at most %d at a time", days, maxRebuildDays)
	}
	started := time.Now()
	for d := from; d.Before(to); d = d.Add(24 * time.Hour) {
		if err := s.Rollups.RebuildRollups(r.Context(), d, d.Add(24*time.Hour)); err != nil {
			return fmt.Errorf("rebuilding the rollups of %s: %w", d.Format(time.DateOnly), err)
		}
	}
	writeJSON(w, 200, RebuildResult{From: from, To: to, Days: days, DurationMS: time.Since(started).Milliseconds()})
	return nil
}
