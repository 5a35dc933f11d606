package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/hypercare"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/triage"
)

// degradingUpstream speaks OpenAI's chat completions. Healthy, it answers
// at once. Degraded, it fails every fifth call with a 500 whose message
// names a different request number and address each time, and answers the
// others 80 ms late, every other one with empty content. The usage it
// reports is always the same, so tokens and cost per answered call do not
// move.
type degradingUpstream struct {
	srv      *httptest.Server
	degraded atomic.Bool
	n        atomic.Int64
}

func newDegradingUpstream(t *testing.T) *degradingUpstream {
	u := &degradingUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := u.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		content := "Paris is the capital of France."
		if u.degraded.Load() {
			if n%5 == 0 {
				w.WriteHeader(500)
				fmt.Fprintf(w, `{"error":{"message":"backend 10.0.%d.%d overloaded while serving request %d","type":"server_error","param":null,"code":"server_overloaded"}}`,
					n%7, n%200, 4000+n)
				return
			}
			time.Sleep(80 * time.Millisecond)
			if n%2 == 0 {
				content = ""
			}
		}
		fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1767225600,"model":"bot-1","choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}`,
			n, content)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// hypercareLoopConfig is a model behind a degrading upstream, a review
// queue fed by negative feedback and, from the second application on, a
// hypercare window on the model whose baseline is the healthy phase.
const hypercareLoopConfig = `
providers:
  - { name: bot-upstream, type: openai, base_url: %s/v1, api_key: env:TEST_UPSTREAM_KEY }
models:
  - name: bot
    targets: [ { provider: bot-upstream, model: bot-1 } ]
    breaker: { disabled: true }
    price: { input_per_mtok: 1, output_per_mtok: 2 }
consumers:
  - name: shop
    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]
scores:
  - { name: helpful, type: boolean }
review_queues:
  - name: unhelpful
    dimensions: [correct]
    rules:
      - { when: { feedback: { helpful: false } }, sample: 1.0 }
`

// TestHypercareLoop is issue 6's scenario: inside a hypercare window, the
// upstream starts failing a fifth of the calls, adding latency and
// returning empty answers, and users post negative feedback. The calls are
// flagged, failures and anomalies and feedback are grouped into exactly one
// incident per fingerprint, the calls with negative feedback are in the
// review queue, and the report says "regressed" for latency, error rate,
// positive feedback and anomaly rate, and "unchanged" for tokens and cost.
func TestHypercareLoop(t *testing.T) {
	up := newDegradingUpstream(t)
	e := start(t)
	cfg := fmt.Sprintf(hypercareLoopConfig, up.srv.URL)
	e.apply(cfg)

	const perPhase = 120
	body := `{"model":"bot","messages":[{"role":"user","content":"What is the capital of France?"}]}`
	thumb := func(id string, helpful bool) {
		t.Helper()
		resp, b := e.do("POST", "/v1/feedback", shopKey, fmt.Sprintf(`{"request_id":%q,"name":"helpful","value":%t}`, id, helpful))
		if resp.StatusCode != 201 {
			t.Fatalf("feedback on %s: %d %s", id, resp.StatusCode, b)
		}
	}
	type outcome struct{ failed, empty, negative []string }
	phase := func(degraded bool) outcome {
		t.Helper()
		up.degraded.Store(degraded)
		var o outcome
		for i := range perPhase {
			resp, b := e.do("POST", "/v1/chat/completions", shopKey, body)
			id := resp.Header.Get("X-Request-Id")
			switch {
			case resp.StatusCode == 500:
				o.failed = append(o.failed, id)
				continue
			case resp.StatusCode != 200:
				t.Fatalf("call answered %d: %s", resp.StatusCode, b)
			}
			var ans struct {
				Choices []struct{ Message struct{ Content string } }
			}
			if err := json.Unmarshal(b, &ans); err != nil || len(ans.Choices) != 1 {
				t.Fatalf("answer %s: %v", b, err)
			}
			if ans.Choices[0].Message.Content == "" {
				o.empty = append(o.empty, id)
			}
			// A quarter of the users say what they think: happy before,
			// unhappy once the answers degrade.
			if i%4 == 1 {
				thumb(id, !degraded)
				if degraded {
					o.negative = append(o.negative, id)
				}
			}
		}
		return o
	}

	baselineFrom := time.Now().UTC().Add(-time.Second)
	if bad := phase(false); len(bad.failed)+len(bad.empty) != 0 {
		t.Fatalf("healthy phase: %d failed, %d empty", len(bad.failed), len(bad.empty))
	}
	windowStart := time.Now().UTC()
	e.apply(cfg + fmt.Sprintf(`hypercare:
  - name: bot-launch
    target: { model: bot }
    start: %s
    duration: 1d
    baseline: { from: %s, to: %s }
    verdict: { min_calls: 30, min_feedback: 10 }
`, windowStart.Format(time.RFC3339Nano), baselineFrom.Format(time.RFC3339Nano), windowStart.Format(time.RFC3339Nano)))
	got := phase(true)
	if len(got.failed) != perPhase/5 || len(got.empty) == 0 || len(got.negative) == 0 {
		t.Fatalf("degraded phase: %d failed, %d empty, %d negative", len(got.failed), len(got.empty), len(got.negative))
	}

	// Every call is stored, and the empty answers are flagged.
	waitFor(t, "the empty answers to be flagged", func() bool {
		var page struct{ Data []struct{ ID string } }
		e.adminDo("GET", "/admin/v1/calls?flag=empty_output&limit=500", "", &page)
		return len(page.Data) == len(got.empty)
	})
	var flagged struct{ Data []struct{ ID string } }
	e.adminDo("GET", "/admin/v1/calls?flag=empty_output&limit=500", "", &flagged)
	var ids []string
	for _, c := range flagged.Data {
		ids = append(ids, c.ID)
	}
	if !sameSet(ids, got.empty) {
		t.Errorf("calls flagged empty_output %v, want the empty answers %v", ids, got.empty)
	}

	// One incident per fingerprint, not one per call: the failures (whose
	// messages differ only in numbers and addresses), the empty answers,
	// the negative feedback.
	var incs []triage.Incident
	waitFor(t, "the incidents to count every call", func() bool {
		var page struct{ Data []triage.Incident }
		e.adminDo("GET", "/admin/v1/incidents?model=bot", "", &page)
		incs = page.Data
		counts := map[triage.Kind]int64{}
		for _, inc := range incs {
			counts[inc.Kind] += inc.Count
		}
		return counts[triage.KindFailure] == int64(len(got.failed)) && counts[triage.KindFeedback] == int64(len(got.negative)) &&
			counts[triage.KindAnomaly] >= int64(len(got.empty))
	})
	fingerprints := map[string]bool{}
	var failures, feedbacks int
	for _, inc := range incs {
		if fingerprints[inc.Fingerprint] {
			t.Errorf("two incidents share fingerprint %s", inc.Fingerprint)
		}
		fingerprints[inc.Fingerprint] = true
		switch inc.Kind {
		case triage.KindFailure:
			failures++
			if inc.ErrorCode != "server_overloaded" || inc.Count != int64(len(got.failed)) {
				t.Errorf("failure incident %+v, want server_overloaded counted %d times", inc, len(got.failed))
			}
		case triage.KindFeedback:
			feedbacks++
		}
	}
	if failures != 1 || feedbacks != 1 {
		t.Errorf("%d failure and %d feedback incidents, want one each: %+v", failures, feedbacks, incs)
	}
	var empties int
	for _, inc := range incs {
		if inc.Kind == triage.KindAnomaly && inc.Flag == "empty_output" {
			empties++
			if inc.Count != int64(len(got.empty)) {
				t.Errorf("empty_output incident counts %d, want %d", inc.Count, len(got.empty))
			}
		}
	}
	if empties != 1 {
		t.Errorf("%d empty_output incidents, want 1", empties)
	}

	// The calls users disliked are in the review queue, once each.
	var items struct{ Data []review.Item }
	waitFor(t, "the review queue to hold the disliked calls", func() bool {
		e.adminDo("GET", "/admin/v1/review-queues/unhelpful/items?limit=500", "", &items)
		return len(items.Data) >= len(got.negative)
	})
	var queued []string
	for _, it := range items.Data {
		queued = append(queued, it.CallID)
	}
	if !sameSet(queued, got.negative) {
		t.Errorf("review queue holds %v, want the calls with negative feedback %v", queued, got.negative)
	}

	// The report.
	var rep hypercare.Report
	at := url.QueryEscape(time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano))
	if code := e.adminDo("GET", "/admin/v1/hypercare/bot-launch/report?at="+at, "", &rep); code != 200 {
		t.Fatalf("report: %d", code)
	}
	want := map[string]hypercare.Verdict{
		hypercare.MetricLatencyP50:    hypercare.Regressed,
		hypercare.MetricLatencyP95:    hypercare.Regressed,
		hypercare.MetricLatencyP99:    hypercare.Regressed,
		hypercare.MetricErrorRate:     hypercare.Regressed,
		hypercare.MetricPositiveRatio: hypercare.Regressed,
		hypercare.MetricAnomalyRate:   hypercare.Regressed,
		hypercare.MetricTokensPerCall: hypercare.Unchanged,
		hypercare.MetricCostPerCall:   hypercare.Unchanged,
	}
	verdicts := map[string]hypercare.Verdict{}
	for _, m := range rep.Metrics {
		verdicts[m.Metric] = m.Verdict
	}
	for m, v := range want {
		if verdicts[m] != v {
			t.Errorf("report: %s %q, want %q (report %+v)", m, verdicts[m], v, rep.Metrics)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
