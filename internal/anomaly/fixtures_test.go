package anomaly

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// fixture is one labelled call of testdata/fixtures.jsonl: the bodies as
// the gateway captures them (JSON, or the SSE transcript sent to the
// client) and the flags a careful reader would set.
type fixture struct {
	Name     string          `json:"name"`
	Endpoint string          `json:"endpoint"`
	Status   int             `json:"status"`
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
	Expect   []string        `json:"expect"`
}

// body turns a fixture body into the captured text: a JSON string holds
// an SSE transcript or a cut body, anything else is the JSON body itself.
func body(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func loadFixtures(t testing.TB) []fixture {
	f, err := os.Open("testdata/fixtures.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var fx fixture
		if err := json.Unmarshal(sc.Bytes(), &fx); err != nil {
			t.Fatalf("fixture %d: %v", len(out)+1, err)
		}
		out = append(out, fx)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (fx fixture) record(i int) calllog.Record {
	resp := body(fx.Response)
	return calllog.Record{
		ID:           fmt.Sprintf("fx-%d", i),
		Time:         time.Date(2026, 11, 27, 9, 0, i, 0, time.UTC),
		Endpoint:     fx.Endpoint,
		Model:        "gpt-4o-mini",
		Status:       fx.Status,
		RequestBody:  body(fx.Request),
		ResponseBody: resp,
		Stream:       isSSE(resp),
		LatencyUS:    800_000,
		OutputTokens: int64(len(resp) / 16),
	}
}

// precisionFloor and recallFloor are what every content detector must reach
// on the labelled fixtures.
const (
	precisionFloor = 0.9
	recallFloor    = 0.9
)

// TestFixturesPrecisionRecall runs the detectors over the labelled
// fixtures and checks the precision and recall of each content detector.
func TestFixturesPrecisionRecall(t *testing.T) {
	fxs := loadFixtures(t)
	if len(fxs) < 150 {
		t.Fatalf("only %d fixtures", len(fxs))
	}
	type counts struct{ tp, fp, fn, pos int }
	per := map[string]*counts{}
	for _, name := range config.DetectorNames() {
		per[name] = &counts{}
	}
	for i, fx := range fxs {
		// A fresh engine per case: the baselines of the stateful detectors
		// are tested on sequences of their own.
		e := New(nil, Options{})
		recs := []calllog.Record{fx.record(i)}
		e.Annotate(recs)
		got := recs[0].Flags
		for _, f := range fx.Expect {
			if per[f] == nil {
				t.Fatalf("%s: unknown flag %q", fx.Name, f)
			}
			per[f].pos++
			if slices.Contains(got, f) {
				per[f].tp++
			} else {
				per[f].fn++
				t.Logf("missed %s: %s", f, fx.Name)
			}
		}
		for _, f := range got {
			if !slices.Contains(fx.Expect, f) {
				per[f].fp++
				t.Logf("false %s: %s", f, fx.Name)
			}
		}
	}
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	sort.Strings(names)
	var report strings.Builder
	fmt.Fprintf(&report, "%-18s %5s %5s %5s %5s %9s %6s\n", "detector", "cases", "tp", "fp", "fn", "precision", "recall")
	for _, n := range names {
		c := per[n]
		if c.pos == 0 && c.fp == 0 {
			continue
		}
		precision, recall := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn)
		fmt.Fprintf(&report, "%-18s %5d %5d %5d %5d %9.3f %6.3f\n", n, c.pos, c.tp, c.fp, c.fn, precision, recall)
		if c.pos < 5 {
			t.Errorf("%s: only %d labelled positives", n, c.pos)
		}
		if precision < precisionFloor || recall < recallFloor {
			t.Errorf("%s: precision %.3f, recall %.3f; want at least %.2f and %.2f", n, precision, recall, precisionFloor, recallFloor)
		}
	}
	t.Logf("%d fixtures\n%s", len(fxs), report.String())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
