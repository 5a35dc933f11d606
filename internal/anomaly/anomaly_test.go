package anomaly

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

const chatOK = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}`

func chatRecord(resp string) calllog.Record {
	return calllog.Record{ID: "r", Time: t0, Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini", Status: 200,
		RequestBody:  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the capital of France?"}]}`,
		ResponseBody: resp, LatencyUS: 500_000, OutputTokens: 8}
}

func flagsOf(e *Engine, r calllog.Record) []string {
	recs := []calllog.Record{r}
	e.Annotate(recs)
	return recs[0].Flags
}

func TestContentDetectors(t *testing.T) {
	cases := []struct {
		name string
		rec  func() calllog.Record
		want []string
	}{
		{"normal answer", func() calllog.Record { return chatRecord(chatOK) }, nil},
		{"empty content", func() calllog.Record {
			return chatRecord(strings.Replace(chatOK, "Paris is the capital of France.", "", 1))
		}, []string{"empty_output"}},
		{"failed call is not judged on content", func() calllog.Record {
			r := chatRecord(`{"error":{"message":"boom"}}`)
			r.Status = 502
			return r
		}, nil},
		{"body not captured", func() calllog.Record { return chatRecord("") }, nil},
		{"stream broken off is not judged", func() calllog.Record {
			r := chatRecord("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n")
			r.ErrorType = "upstream_stream_error"
			return r
		}, nil},
		{"stream without its end is not empty", func() calllog.Record {
			return chatRecord("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
		}, nil},
		{"REST route with a chat-like path", func() calllog.Record {
			r := chatRecord(`{"choices":[{"message":{"content":""},"finish_reason":"length"}]}`)
			r.Service, r.Model, r.Endpoint = "orders-api", "", "/orders/chat/completions"
			return r
		}, nil},
		{"embeddings are not judged on content", func() calllog.Record {
			r := chatRecord(`{"data":[]}`)
			r.Endpoint = "/v1/embeddings"
			return r
		}, nil},
		{"cached empty answer is flagged", func() calllog.Record {
			r := chatRecord(strings.Replace(chatOK, "Paris is the capital of France.", " ", 1))
			r.CacheHit = true
			return r
		}, []string{"empty_output"}},
		{"prompt API answers in chat format", func() calllog.Record {
			r := chatRecord(strings.Replace(chatOK, `"stop"`, `"length"`, 1))
			r.Endpoint = "/v1/prompts/summarize"
			return r
		}, []string{"truncated"}},
		{"AI service route", func() calllog.Record {
			r := chatRecord(strings.Replace(chatOK, `"stop"`, `"content_filter"`, 1))
			r.Service, r.Route, r.Endpoint = "support-bot", "0", "/support/v1/chat/completions"
			return r
		}, []string{"content_filter"}},
		{"probe calls are skipped", func() calllog.Record {
			r := chatRecord(strings.Replace(chatOK, "Paris is the capital of France.", "", 1))
			r.Synthetic = true
			return r
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := flagsOf(New(nil, Options{}), tc.rec()); !slices.Equal(got, tc.want) {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigTunesDetectors(t *testing.T) {
	refusal := `{"choices":[{"index":0,"message":{"role":"assistant","content":"Computer says no, not today."},"finish_reason":"stop"}]}`
	cases := []struct {
		name string
		cfg  *config.Detectors
		resp string
		want []string
	}{
		{"built-in phrases only", nil, refusal, nil},
		{"added phrase", &config.Detectors{Refusal: &config.RefusalDetector{Phrases: []string{"Computer says NO"}}}, refusal, []string{"refusal"}},
		{"disabled", &config.Detectors{Disabled: []string{"refusal"}, Refusal: &config.RefusalDetector{Phrases: []string{"computer says no"}}}, refusal, nil},
		{"replaced defaults", &config.Detectors{Refusal: &config.RefusalDetector{Phrases: []string{"computer says no"}, ReplaceDefaults: true}},
			strings.Replace(refusal, "Computer says no, not today.", "I'm sorry, but I can't help with that.", 1), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := flagsOf(New(tc.cfg, Options{}), chatRecord(tc.resp)); !slices.Equal(got, tc.want) {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRepetitionThreshold(t *testing.T) {
	text := strings.Repeat("please restart the router and wait a minute ", 3) + "then try again with the cable plugged into the yellow port on the back of the box"
	cases := []struct {
		name      string
		threshold float64
		want      bool
	}{
		{"default threshold", 0, false},
		{"low threshold", 0.2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newRepetition(&config.RepetitionDetector{Threshold: tc.threshold, MinWords: 10})
			r := chatRecord(`{"choices":[{"index":0,"message":{"content":"` + text + `"},"finish_reason":"stop"}]}`)
			c := (&scratch{}).call(&r)
			if got := d.Detect(c); got != tc.want {
				share, _ := repeatedShare(text, 4, &scratch{})
				t.Errorf("Detect = %v, want %v (share %.2f)", got, tc.want, share)
			}
		})
	}
}

// TestFlagsAreNotDuplicated: a batch written again after a failed store
// keeps one copy of each flag.
func TestFlagsAreNotDuplicated(t *testing.T) {
	e := New(nil, Options{})
	counted := 0
	e.o.Count = func(flag, model string) {
		if flag != "empty_output" || model != "gpt-4o-mini" {
			t.Errorf("counted %s for %s", flag, model)
		}
		counted++
	}
	recs := []calllog.Record{chatRecord(strings.Replace(chatOK, "Paris is the capital of France.", "", 1))}
	e.Annotate(recs)
	e.Annotate(recs)
	if !slices.Equal(recs[0].Flags, []string{"empty_output"}) || counted != 1 {
		t.Errorf("flags %v, counted %d", recs[0].Flags, counted)
	}
}

// labelled runs a sequence of records through the engine, each labelled
// with whether it should get flag, and returns precision and recall.
func labelled(t *testing.T, e *Engine, flag string, recs []calllog.Record, want, ignore []bool) (float64, float64) {
	t.Helper()
	e.Annotate(recs)
	tp, fp, fn := 0, 0, 0
	for i, r := range recs {
		if ignore != nil && ignore[i] {
			continue
		}
		got := slices.Contains(r.Flags, flag)
		switch {
		case got && want[i]:
			tp++
		case got:
			fp++
		case want[i]:
			fn++
		}
	}
	p, rc := ratio(tp, tp+fp), ratio(tp, tp+fn)
	t.Logf("%s: %d labelled, tp %d, fp %d, fn %d: precision %.3f, recall %.3f", flag, len(recs), tp, fp, fn, p, rc)
	if p < precisionFloor || rc < recallFloor {
		t.Errorf("%s: precision %.3f, recall %.3f", flag, p, rc)
	}
	return p, rc
}

// TestLatencyOutliers: log-normal latencies around 800 ms with 2 % of calls
// made four to ten times slower, on two routes with different usual
// latencies.
func TestLatencyOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []calllog.Record
	var want []bool
	for i := range 4000 {
		r := chatRecord(chatOK)
		r.Time = t0.Add(time.Duration(i) * time.Second)
		base := 800_000.0
		if i%2 == 1 {
			r.Model, base = "gpt-4o", 2_500_000
		}
		v := base * math.Exp(rng.NormFloat64()*0.15)
		slow := i > 200 && rng.Float64() < 0.02
		if slow {
			v *= 4 + rng.Float64()*6
		}
		r.LatencyUS = int64(v)
		recs = append(recs, r)
		want = append(want, slow)
	}
	labelled(t, New(nil, Options{}), "latency_outlier", recs, want, nil)
}

// TestTTFTOutliers: times to first token around 300 ms, 2 % of streams
// waiting over a second and a half; cached answers are never judged.
func TestTTFTOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []calllog.Record
	var want []bool
	for i := range 3000 {
		r := chatRecord(chatOK)
		r.Stream = true
		r.TTFTUS = int64(300_000 * math.Exp(rng.NormFloat64()*0.2))
		slow := i > 100 && rng.Float64() < 0.02
		if slow {
			r.TTFTUS += 1_500_000 + rng.Int64N(3_000_000)
		}
		if i%50 == 7 { // a cache hit, however quick or slow, is not judged
			r.CacheHit, r.TTFTUS, slow = true, 9_000_000, false
		}
		recs = append(recs, r)
		want = append(want, slow)
	}
	labelled(t, New(nil, Options{}), "ttft_outlier", recs, want, nil)
}

// TestLongOutput: output tokens around 300, some answers five to twenty
// times longer after warm-up, and a route whose answers are always long.
func TestLongOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var recs []calllog.Record
	var want []bool
	for i := range 6000 {
		r := chatRecord(chatOK)
		long := false
		if i%3 == 2 {
			r.Endpoint = "/v1/prompts/essay"
			r.OutputTokens = int64(3000 * math.Exp(rng.NormFloat64()*0.1))
		} else {
			r.OutputTokens = int64(300 * math.Exp(rng.NormFloat64()*0.15))
			// Under 1 %: were more answers long, they would be the p99.
			long = i > 200 && rng.Float64() < 0.005
			if long {
				r.OutputTokens *= 5 + rng.Int64N(15)
			}
		}
		recs = append(recs, r)
		want = append(want, long)
	}
	labelled(t, New(&config.Detectors{LongOutput: &config.LongOutputDetector{Factor: 1.5}}, Options{}), "long_output", recs, want, nil)
}

// TestErrorBurst: scattered failures are not a burst; 70 % of the calls
// of two minutes failing are.
func TestErrorBurst(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var recs []calllog.Record
	var want, ignore []bool
	for i := range 1200 { // 20 minutes at one call a second
		r := chatRecord(chatOK)
		r.Time = t0.Add(time.Duration(i) * time.Second)
		inBurst := i >= 600 && i < 720
		failed := rng.Float64() < 0.01
		if inBurst {
			failed = rng.Float64() < 0.7
		}
		if failed {
			r.Status, r.ErrorType = 502, "upstream_error"
		}
		recs = append(recs, r)
		want = append(want, failed && inBurst)
		// The failures of the burst's first 40 s are not scored: they are
		// what makes the burst, whose share is over the last minute.
		ignore = append(ignore, inBurst && i < 640)
	}
	labelled(t, New(nil, Options{}), "error_burst", recs, want, ignore)
}

// TestBaselinesSurviveUpdate: a configuration reload retunes the
// detectors without forgetting what they learnt.
func TestBaselinesSurviveUpdate(t *testing.T) {
	e := New(nil, Options{})
	var recs []calllog.Record
	for range 100 {
		recs = append(recs, chatRecord(chatOK))
	}
	e.Annotate(recs)
	e.Update(&config.Detectors{LatencyOutlier: &config.OutlierDetector{K: 4}})
	slow := chatRecord(chatOK)
	slow.LatencyUS = 5_000_000
	if got := flagsOf(e, slow); !slices.Equal(got, []string{"latency_outlier"}) {
		t.Errorf("flags %v after a reload, want latency_outlier", got)
	}
	if slices.Contains(e.Detectors(), "error_burst") != true {
		t.Errorf("detectors %v", e.Detectors())
	}
	e.Update(&config.Detectors{Disabled: []string{"latency_outlier"}})
	if slices.Contains(e.Detectors(), "latency_outlier") {
		t.Errorf("disabled detector still runs: %v", e.Detectors())
	}
}

// TestDetectorNames keeps the built-in detectors and the configuration's
// list of names (the flag contract) the same.
func TestDetectorNames(t *testing.T) {
	if got, want := New(nil, Options{}).Detectors(), config.DetectorNames(); !slices.Equal(got, want) {
		t.Errorf("detectors %v, configuration names %v", got, want)
	}
}

type shouting struct{}

func (shouting) Name() string { return "shouting" }
func (shouting) Detect(c *Call) bool {
	return c.Content() && c.Output().Text != "" && strings.ToUpper(c.Output().Text) == c.Output().Text
}

func TestExtraDetector(t *testing.T) {
	e := New(nil, Options{Extra: []Detector{shouting{}}})
	r := chatRecord(strings.Replace(chatOK, "Paris is the capital of France.", "PARIS!", 1))
	if got := flagsOf(e, r); !slices.Equal(got, []string{"shouting"}) {
		t.Errorf("flags %v", got)
	}
}
