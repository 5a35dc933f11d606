package gateway

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/telemetry"
)

// otlpReceiver is an OTLP/HTTP collector: it decodes the protobuf export
// requests the exporter posts to /v1/traces and keeps their spans.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	res   []*commonpb.KeyValue
}

func newOTLPReceiver(t testing.TB) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected export", 400)
			return
		}
		if req.Header.Get("X-Test-Auth") != "secret" {
			http.Error(w, "missing header", 401)
			return
		}
		b, _ := io.ReadAll(req.Body)
		var ex coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &ex); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.mu.Lock()
		for _, rs := range ex.ResourceSpans {
			r.res = rs.Resource.GetAttributes()
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the spans received once n have arrived.
func (r *otlpReceiver) wait(t testing.TB, tr *telemetry.Tracer, n int) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = tr.ForceFlush(context.Background())
		r.mu.Lock()
		got := append([]*tracepb.Span(nil), r.spans...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d spans, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *otlpReceiver) reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// attrs flattens a span's attributes for comparison.
func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.Key] = v.BoolValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.Key] = v.DoubleValue
		}
	}
	return m
}

// traceUpstream answers like an OpenAI upstream and keeps the traceparent
// each request carried. Model "broken" answers 500.
type traceUpstream struct {
	mu           sync.Mutex
	traceparents []string
}

func (u *traceUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.traceparents = append(u.traceparents, r.Header.Get("traceparent"))
	u.mu.Unlock()
	switch {
	case strings.Contains(string(body), `"model":"broken"`):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"error":{"message":"boom","type":"server_error","code":"boom"}}`)
	case strings.Contains(string(body), `"stream":true`):
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}`,
			`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}`,
		} {
			_, _ = fmt.Fprintf(w, "data: %s\n\n", ev)
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(completion)
	}
}

func (u *traceUpstream) last() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.traceparents...)
}

type recSink struct {
	mu   sync.Mutex
	recs []calllog.Record
}

func (s *recSink) Record(r calllog.Record) {
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
}

func (s *recSink) byID(id string) (calllog.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		if r.ID == id {
			return r, true
		}
	}
	return calllog.Record{}, false
}

// fakeFeedback stores nothing: it answers as the feedback service would
// for a call it knows, so the test sees what the gateway traces.
type fakeFeedback struct{}

func (fakeFeedback) SubmitAs(_ context.Context, by feedback.Submitter, in feedback.Input) (feedback.Feedback, bool, error) {
	return feedback.Feedback{ID: "fb-1", RequestID: in.RequestID, Consumer: by.Consumer, Name: in.Name, Value: *in.Value}, true, nil
}

func (fakeFeedback) SubmitPage(_ context.Context, by feedback.Submitter, in feedback.Input) (feedback.PageFeedback, bool, error) {
	return feedback.PageFeedback{ID: "fb-1", Page: in.Page, Consumer: by.Consumer, Name: in.Name, Value: *in.Value}, true, nil
}

type sinkTraces struct{ s *recSink }

func (st sinkTraces) CallTraceID(_ context.Context, id string) (string, error) {
	r, ok := st.s.byID(id)
	if !ok {
		return "", fmt.Errorf("call %q not found", id)
	}
	return r.TraceID, nil
}

type traceEnv struct {
	url  string
	up   *traceUpstream
	recv *otlpReceiver
	tr   *telemetry.Tracer
	sink *recSink
}

func startTraceEnv(t testing.TB, tracing bool) *traceEnv {
	t.Helper()
	env := &traceEnv{up: &traceUpstream{}, sink: &recSink{}}
	upSrv := httptest.NewServer(env.up)
	t.Cleanup(upSrv.Close)
	t.Setenv("GW_TRACE_KEY", "hg-trace-key-0123456789abcdefghijklmnopqrstu")
	t.Setenv("GW_TRACE_UPSTREAM_KEY", "sk-upstream-secret-1234")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: up, type: openai, base_url: "%s/v1", api_key: env:GW_TRACE_UPSTREAM_KEY } ]
models:
  - { name: gpt-4o-mini, targets: [ { provider: up } ] }
  - { name: flaky, targets: [ { provider: up, model: broken } ], fallbacks: [gpt-4o-mini] }
consumers: [ { name: web, keys: [ { name: k, key: env:GW_TRACE_KEY } ] } ]
`, upSrv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Compile(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Recorder: env.sink, Feedback: fakeFeedback{}, CallTraces: sinkTraces{env.sink}}
	if tracing {
		env.recv = newOTLPReceiver(t)
		env.tr, err = telemetry.NewTracer(telemetry.TracingOptions{
			Endpoint: env.recv.srv.URL, Headers: map[string]string{"X-Test-Auth": "secret"},
			SampleRatio: 1, ServiceName: "hypergate-test", ServiceVersion: "v0.0.1", BatchTimeout: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.tr.Shutdown(context.Background()) })
		o.Tracer = env.tr
	}
	g := New(o)
	g.SetSnapshot(snap)
	srv := g.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Shutdown() })
	env.url = "http://" + ln.Addr().String()
	return env
}

// post sends a request and returns the status, body and request id.
func (e *traceEnv) post(t testing.TB, path, body string, headers ...string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer hg-trace-key-0123456789abcdefghijklmnopqrstu")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("X-Request-Id")
}

func hexID(b []byte) string { return hex.EncodeToString(b) }

func TestTracingSpans(t *testing.T) {
	env := startTraceEnv(t, true)
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	const clientParent = "00f067aa0ba902b7"
	tp := "00-" + clientTrace + "-" + clientParent + "-01"

	type attemptWant struct {
		model  string
		status int64
		failed bool
	}
	for _, tc := range []struct {
		name        string
		body        string
		traceparent string
		wantName    string
		wantStream  bool
		attempts    []attemptWant
	}{
		{"plain call continues the client's trace", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, tp,
			"chat gpt-4o-mini", false, []attemptWant{{"gpt-4o-mini", 200, false}}},
		{"plain call starts a trace", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, "",
			"chat gpt-4o-mini", false, []attemptWant{{"gpt-4o-mini", 200, false}}},
		{"streamed call ends with its stream", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`, tp,
			"chat gpt-4o-mini", true, []attemptWant{{"gpt-4o-mini", 200, false}}},
		{"fallback has two attempt spans", `{"model":"flaky","messages":[{"role":"user","content":"hi"}]}`, tp,
			"chat flaky", false, []attemptWant{{"broken", 500, true}, {"gpt-4o-mini", 200, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.recv.reset()
			before := len(env.up.last())
			var hdr []string
			if tc.traceparent != "" {
				hdr = []string{"traceparent", tc.traceparent, "tracestate", "vendor=x"}
			}
			status, body, id := env.post(t, "/v1/chat/completions", tc.body, hdr...)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			spans := env.recv.wait(t, env.tr, 1+len(tc.attempts))
			var call *tracepb.Span
			var attempts []*tracepb.Span
			for _, s := range spans {
				switch s.Kind {
				case tracepb.Span_SPAN_KIND_SERVER:
					call = s
				case tracepb.Span_SPAN_KIND_CLIENT:
					attempts = append(attempts, s)
				}
			}
			if call == nil || len(attempts) != len(tc.attempts) {
				t.Fatalf("got call span %v and %d attempt spans, want %d", call != nil, len(attempts), len(tc.attempts))
			}
			if call.Name != tc.wantName {
				t.Errorf("call span name %q, want %q", call.Name, tc.wantName)
			}
			ca := attrs(call.Attributes)
			for k, v := range map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini",
				"http.response.status_code": int64(200), "hypergate.request_id": id, "hypergate.consumer": "web",
			} {
				if ca[k] != v {
					t.Errorf("call span %s = %v, want %v", k, ca[k], v)
				}
			}
			if ca["gen_ai.usage.input_tokens"] == nil || ca["gen_ai.usage.output_tokens"] == nil {
				t.Errorf("call span has no token usage: %v", ca)
			}
			if tc.wantStream && ca["gen_ai.request.stream"] != true {
				t.Errorf("streamed call span lacks gen_ai.request.stream: %v", ca)
			}
			if tc.traceparent != "" {
				if hexID(call.TraceId) != clientTrace || hexID(call.ParentSpanId) != clientParent {
					t.Errorf("call span trace %s parent %s, want the client's %s %s", hexID(call.TraceId), hexID(call.ParentSpanId), clientTrace, clientParent)
				}
			} else if len(call.ParentSpanId) != 0 {
				t.Errorf("call span without traceparent has parent %x", call.ParentSpanId)
			}
			rec, ok := env.sink.byID(id)
			if !ok || rec.TraceID != hexID(call.TraceId) {
				t.Errorf("record trace id %q, want the span's %s", rec.TraceID, hexID(call.TraceId))
			}
			sent := env.up.last()[before:]
			for i, want := range tc.attempts {
				a := attempts[i]
				aa := attrs(a.Attributes)
				if !equalBytes(a.ParentSpanId, call.SpanId) || !equalBytes(a.TraceId, call.TraceId) {
					t.Errorf("attempt %d is not a child of the call span", i)
				}
				if aa["gen_ai.request.model"] != want.model || aa["http.response.status_code"] != want.status ||
					aa["server.address"] != "127.0.0.1" || aa["hypergate.key_id"] != "up#1" || aa["hypergate.attempt"] != int64(i+1) {
					t.Errorf("attempt %d attributes %v", i, aa)
				}
				for _, v := range aa {
					if s, ok := v.(string); ok && strings.Contains(s, "sk-upstream-secret") {
						t.Errorf("attempt %d carries the upstream key", i)
					}
				}
				if failed := a.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR; failed != want.failed {
					t.Errorf("attempt %d error status %v, want %v", i, failed, want.failed)
				}
				wantTP := "00-" + hexID(call.TraceId) + "-" + hexID(a.SpanId) + "-01"
				if i >= len(sent) || sent[i] != wantTP {
					t.Errorf("upstream saw traceparent %v, want %s", sent, wantTP)
				}
			}
			if tc.name == "fallback has two attempt spans" {
				if attrs(attempts[0].Attributes)["error.type"] != "boom" || attrs(attempts[1].Attributes)["hypergate.fallback"] != true {
					t.Errorf("fallback attempts %v / %v", attrs(attempts[0].Attributes), attrs(attempts[1].Attributes))
				}
			}
			if call.EndTimeUnixNano < attempts[len(attempts)-1].EndTimeUnixNano {
				t.Error("call span ended before its last attempt")
			}
		})
	}

	t.Run("feedback is an evaluation event linked to the call's trace", func(t *testing.T) {
		env.recv.reset()
		_, _, id := env.post(t, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, "traceparent", tp)
		env.recv.wait(t, env.tr, 2)
		env.recv.reset()
		status, body, _ := env.post(t, "/v1/feedback", `{"request_id":"`+id+`","name":"helpful","value":false}`)
		if status != 201 {
			t.Fatalf("feedback status %d: %s", status, body)
		}
		spans := env.recv.wait(t, env.tr, 1)
		s := spans[0]
		if len(s.Links) != 1 || hexID(s.Links[0].TraceId) != clientTrace {
			t.Fatalf("feedback span links %v, want the call's trace %s", s.Links, clientTrace)
		}
		if len(s.Events) != 1 || s.Events[0].Name != "gen_ai.evaluation.result" {
			t.Fatalf("feedback span events %v", s.Events)
		}
		ea := attrs(s.Events[0].Attributes)
		if ea["gen_ai.evaluation.name"] != "helpful" || ea["gen_ai.evaluation.score.value"] != 0.0 || ea["gen_ai.evaluation.score.label"] != "false" {
			t.Errorf("evaluation attributes %v", ea)
		}
		if attrs(s.Attributes)["hypergate.request_id"] != id {
			t.Errorf("feedback span attributes %v", attrs(s.Attributes))
		}
	})

	t.Run("resource names the service", func(t *testing.T) {
		env.recv.mu.Lock()
		ra := attrs(env.recv.res)
		env.recv.mu.Unlock()
		if ra["service.name"] != "hypergate-test" || ra["service.version"] != "v0.0.1" {
			t.Errorf("resource %v", ra)
		}
	})
}

func equalBytes(a, b []byte) bool { return len(a) > 0 && string(a) == string(b) }

// TestTracingOff checks that without a tracer the gateway creates no span:
// the record has no trace id of its own and the client's traceparent goes
// upstream untouched.
func TestTracingOff(t *testing.T) {
	env := startTraceEnv(t, false)
	for _, tc := range []struct{ name, traceparent string }{
		{"client traceparent forwarded as it is", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"no traceparent, none invented", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(env.up.last())
			var hdr []string
			if tc.traceparent != "" {
				hdr = []string{"traceparent", tc.traceparent}
			}
			status, body, id := env.post(t, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, hdr...)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			if sent := env.up.last()[before:]; len(sent) != 1 || sent[0] != tc.traceparent {
				t.Errorf("upstream saw %q, want %q", sent, tc.traceparent)
			}
			rec, _ := env.sink.byID(id)
			want := ""
			if tc.traceparent != "" {
				want = tc.traceparent[3:35]
			}
			if rec.TraceID != want {
				t.Errorf("record trace id %q, want %q", rec.TraceID, want)
			}
		})
	}
}

// TestTracingOffAllocations checks that the tracing hooks allocate nothing
// when tracing is off: a call's trace state stays zero.
func TestTracingOffAllocations(t *testing.T) {
	g := New(Options{Recorder: discard{}})
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetMethod("POST")
	c := g.newCall(ctx)
	n := testing.AllocsPerRun(100, func() {
		c.traceStart()
		c.traceHeaders(func(string, string) { t.Fatal("traceparent written with tracing off") })
		c.traceAttemptEnd(&calllog.Attempt{}, "success")
	})
	if n != 0 || c.tr.span != nil {
		t.Errorf("tracing off: %v allocations, span %v", n, c.tr.span)
	}
}

// BenchmarkTracing compares one non-streamed call through the data plane
// with tracing off (no tracer: the hooks return at once) and on (every call
// sampled, spans batched to a local OTLP receiver).
func BenchmarkTracing(b *testing.B) {
	for _, tc := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			env := startTraceEnv(b, tc.on)
			client := &fasthttp.Client{MaxConnsPerHost: 256}
			url := env.url + "/v1/chat/completions"
			body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.Reset()
					req.SetRequestURI(url)
					req.Header.SetMethod("POST")
					req.Header.Set("Authorization", "Bearer hg-trace-key-0123456789abcdefghijklmnopqrstu")
					req.SetBody(body)
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Fatalf("err %v status %d: %s", err, resp.StatusCode(), resp.Body())
					}
				}
			})
		})
	}
}
