package app_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/telemetry"
)

// collector is an OTLP/HTTP receiver keeping the spans posted to it.
type collector struct {
	srv     *httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	headers http.Header
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ex coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &ex) != nil {
			http.Error(w, "not an OTLP trace export", 400)
			return
		}
		c.mu.Lock()
		c.headers = r.Header.Clone()
		for _, rs := range ex.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// find waits (the export batches every few seconds) for a span that match accepts.
func (c *collector) find(t *testing.T, what string, match func(*tracepb.Span) bool) *tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, s := range c.spans {
			if match(s) {
				c.mu.Unlock()
				return s
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s reached the collector", what)
	return nil
}

func spanAttr(s *tracepb.Span, key string) any {
	for _, kv := range s.Attributes {
		if kv.Key != key {
			continue
		}
		if _, ok := kv.Value.Value.(*commonpb.AnyValue_StringValue); ok {
			return kv.Value.GetStringValue()
		}
		return kv.Value.GetIntValue()
	}
	return nil
}

// TestTracingOTLP runs the whole gateway with HYPERGATE_OTLP_* set: a
// chat call's span and its attempt's span, and the feedback on it, reach a
// collector started here.
func TestTracingOTLP(t *testing.T) {
	col := newCollector(t)
	e := start(t, func(s *app.Settings) {
		s.OTLPEndpoint = col.srv.URL
		s.OTLPHeaders = "x-collector-key=abc%20def"
	})
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, chatBody, "traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	call := col.find(t, "call span", func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_SERVER && spanAttr(s, "hypergate.request_id") == id
	})
	if call.Name != "chat gpt-4o-mini" || hex.EncodeToString(call.TraceId) != traceID ||
		spanAttr(call, "gen_ai.response.model") != "gpt-4o-mini-2024-07-18" || spanAttr(call, "hypergate.consumer") != "shop" {
		t.Errorf("call span %q in trace %x: %v", call.Name, call.TraceId, call.Attributes)
	}
	att := col.find(t, "attempt span", func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && string(s.ParentSpanId) == string(call.SpanId)
	})
	if spanAttr(att, "gen_ai.provider.name") != "openai" || spanAttr(att, "hypergate.provider") != "fake" {
		t.Errorf("attempt span %v", att.Attributes)
	}
	col.mu.Lock()
	if got := col.headers.Get("x-collector-key"); got != "abc def" {
		t.Errorf("collector header %q, want the decoded HYPERGATE_OTLP_HEADERS value", got)
	}
	col.mu.Unlock()
	if rec := e.call(id); rec.TraceID != traceID {
		t.Errorf("record trace id %q", rec.TraceID)
	}

	resp, body = e.do("POST", "/v1/feedback", shopKey, `{"request_id":"`+id+`","name":"stars","value":4}`)
	if resp.StatusCode != 201 {
		t.Fatalf("feedback status %d: %s", resp.StatusCode, body)
	}
	fb := col.find(t, "feedback span", func(s *tracepb.Span) bool {
		return len(s.Events) == 1 && s.Events[0].Name == "gen_ai.evaluation.result" && spanAttr(s, "hypergate.request_id") == id
	})
	if len(fb.Links) != 1 || hex.EncodeToString(fb.Links[0].TraceId) != traceID {
		t.Errorf("feedback span links %v, want the call's trace", fb.Links)
	}
}

func TestTracingSettings(t *testing.T) {
	for _, tc := range []struct {
		name, env, value string
		wantErr          bool
		ratio            float64
	}{
		{"default ratio", "", "", false, 1},
		{"half", "HYPERGATE_TRACE_SAMPLE_RATIO", "0.5", false, 0.5},
		{"zero follows clients only", "HYPERGATE_TRACE_SAMPLE_RATIO", "0", false, -1},
		{"above one", "HYPERGATE_TRACE_SAMPLE_RATIO", "1.5", true, 0},
		{"not a number", "HYPERGATE_TRACE_SAMPLE_RATIO", "most", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tc.env, tc.value)
			}
			s := app.Settings{DataDir: t.TempDir()}
			err := s.FromEnv()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && s.TraceSampleRatio != tc.ratio {
				t.Errorf("ratio %v, want %v", s.TraceSampleRatio, tc.ratio)
			}
		})
	}
	t.Run("bad endpoint stops the start", func(t *testing.T) {
		_, err := app.New(context.Background(), app.Settings{DataDir: t.TempDir(), OTLPEndpoint: "collector:4318"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "otlp endpoint") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad headers stop the start", func(t *testing.T) {
		_, err := app.New(context.Background(), app.Settings{DataDir: t.TempDir(), OTLPEndpoint: "http://127.0.0.1:4318", OTLPHeaders: "novalue"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "HYPERGATE_OTLP_HEADERS") {
			t.Errorf("err = %v", err)
		}
	})
}

// metricRef finds the metric names a PromQL expression selects: a name
// followed by a label matcher or a range.
var metricRef = regexp.MustCompile(`\b((?:hypergate|gen_ai)_[a-z0-9_]+)[{\[]`)

// TestDashboardMetrics checks that deploy/grafana/hypergate.json parses and
// that every metric it queries is one the gateway exports.
func TestDashboardMetrics(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/hypergate.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}

	// The names of a running gateway (with tracing, for the span counts),
	// and of every instrument, series or not yet.
	col := newCollector(t)
	e := start(t, func(s *app.Settings) { s.OTLPEndpoint = col.srv.URL })
	// A configured probe has its series before it first runs.
	e.apply(fmt.Sprintf(baseConfig, e.up.BaseURL()) + "probes:\n  - { name: chat, model: gpt-4o-mini, consumer: shop, interval: 1h }\n" +
		"alerts:\n  - { name: errors-high, metric: error_rate, window: 1m, threshold: { critical: 0.5 } }\n")
	known := map[string]bool{}
	for _, n := range telemetry.NewMetrics().Names() {
		known[n] = true
	}
	req, _ := http.NewRequest("GET", e.admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(text), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			known[f[2]] = true
		}
	}

	queried := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metricRef.FindAllStringSubmatch(tg.Expr, -1) {
				name := m[1]
				base := name
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(name, suf) && known[strings.TrimSuffix(name, suf)] {
						base = strings.TrimSuffix(name, suf)
					}
				}
				queried++
				if !known[base] {
					t.Errorf("panel %q queries %s, which the gateway does not export", p.Title, name)
				}
			}
		}
	}
	if queried < 15 {
		t.Errorf("only %d metric references found: the pattern no longer matches the queries", queried)
	}
}
