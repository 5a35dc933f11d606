package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// result is the JSON line a run prints. Latencies are in microseconds.
type result struct {
	Label       string   `json:"label"`
	Mode        string   `json:"mode"` // closed or open
	Stream      bool     `json:"stream"`
	URL         string   `json:"url"`
	Conns       int      `json:"conns,omitempty"`
	TargetRate  float64  `json:"target_rate,omitempty"`
	MaxInflight int      `json:"max_inflight,omitempty"`
	DurationS   float64  `json:"duration_s"`
	OK          uint64   `json:"ok"`
	Non2xx      uint64   `json:"non_2xx"`
	Errors      uint64   `json:"errors"`
	Unsent      uint64   `json:"unsent,omitempty"`
	RPS         float64  `json:"rps"`
	Latency     summary  `json:"latency_us"`
	TTFB        *summary `json:"ttfb_us,omitempty"`
	FirstErr    string   `json:"first_error,omitempty"`
}

// summary is a latency distribution in microseconds.
type summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func summaryOf(h *histogram) summary {
	us := func(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond), 1) }
	return summary{
		Count: h.n,
		Mean:  us(h.mean()),
		P50:   us(h.quantile(0.50)),
		P90:   us(h.quantile(0.90)),
		P99:   us(h.quantile(0.99)),
		P999:  us(h.quantile(0.999)),
		Max:   us(time.Duration(h.max)),
	}
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func (r *result) jsonLine() (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encoding result: %w", err)
	}
	return string(b), nil
}

// human renders the result as one line for a person watching the run.
func (r *result) human() string {
	var b strings.Builder
	name := r.Label
	if name == "" {
		name = r.URL
	}
	fmt.Fprintf(&b, "%-10s %s", name, r.Mode)
	if r.Mode == "closed" {
		fmt.Fprintf(&b, " %d conns", r.Conns)
	} else {
		fmt.Fprintf(&b, " @%.0f/s", r.TargetRate)
	}
	if r.Stream {
		b.WriteString(" stream")
	}
	fmt.Fprintf(&b, ": %.0f req/s, p50 %s p90 %s p99 %s max %s",
		r.RPS, us(r.Latency.P50), us(r.Latency.P90), us(r.Latency.P99), us(r.Latency.Max))
	if r.TTFB != nil {
		fmt.Fprintf(&b, ", first event p50 %s p99 %s", us(r.TTFB.P50), us(r.TTFB.P99))
	}
	fmt.Fprintf(&b, ", %d ok, %d non-2xx, %d errors", r.OK, r.Non2xx, r.Errors)
	if r.Unsent > 0 {
		fmt.Fprintf(&b, ", %d unsent", r.Unsent)
	}
	if r.FirstErr != "" {
		fmt.Fprintf(&b, " (first: %s)", r.FirstErr)
	}
	return b.String()
}

// us formats microseconds for people.
func us(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fms", v/1000)
	}
	return fmt.Sprintf("%.0fµs", v)
}
