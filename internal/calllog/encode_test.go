package calllog

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fullRecord sets every field of Record and Attempt, with the characters an
// encoder gets wrong: quotes, backslashes, control bytes, HTML, U+2028 and
// U+2029, and text beyond ASCII. TestFullRecordIsFull keeps it full.
func fullRecord() Record {
	return Record{
		ID:            "0193a5b2-7c1d-7e4f-8a9b-000000000001",
		Time:          time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("IST", 5*3600+30*60)),
		Consumer:      "web-shop ünïcødé",
		KeyID:         "key_01JQ3V5W8X9Y0Z",
		Endpoint:      "/v1/chat/completions",
		Service:       "support-bot",
		Route:         "chat <v2>",
		Model:         "gpt-4o-mini",
		Provider:      "openai-main",
		UpstreamModel: "gpt-4o-mini-2024-07-18",
		Status:        502,
		ErrorType:     "upstream_timeout",
		ErrorMessage:  `upstream took <too> long & "gave up"`,
		LatencyUS:     1834,
		UpstreamUS:    1602,
		TTFTUS:        120,
		InputTokens:   17,
		OutputTokens:  9,
		CostUSD:       7.95e-06,
		Stream:        true,
		RequestBytes:  71,
		ResponseBytes: 588,
		ClientIP:      "2001:db8::1",
		UserAgent:     `curl/8.5 "quoted" \ back`,
		TraceID:       "4bf92f3577b34da6a3ce929d0e0e4736",
		RequestBody: "{\"messages\":[{\"role\":\"user\",\"content\":\"tab\\tnewline\\n\"}],\"raw\":\"bell\x07 bs\x08 ff\x0c esc\x1b del\x7f" +
			" \t\r\n 日本語 😀 line\u2028para\u2029 <b>&amp;</b> \\\\ \\u00e9\"}",
		ResponseBody: `{"choices":[{"message":{"content":"Grüße — «ok» ` + "\u00a0\u200b\ufeff" + `"}}]}`,
		Attempts: []Attempt{
			{Provider: "openai-main", UpstreamModel: "gpt-4o-mini", KeyID: "openai-main#0", Status: 429, ErrorType: "rate_limit_exceeded", LatencyUS: 12},
			{Provider: "anthropic", UpstreamModel: "claude-3-5-haiku", LatencyUS: 30000, ErrorType: "upstream_timeout"},
		},
		Fallback:       true,
		UsageEstimated: true,
		Dropped:        []string{"logit_bias", "n", `we"ird\name`},
		CacheHit:       true,
		Prompt:         "summarize «v2»",
		PromptVersion:  2,
		Release:        7,
		Synthetic:      true,
		Probe:          "chat-canary",
		Flags:          []string{"refusal", "latency_outlier"},
	}
}

func TestFullRecordIsFull(t *testing.T) {
	full := fullRecord()
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			name := path + v.Type().Field(i).Name
			if f.IsZero() {
				t.Errorf("fullRecord leaves %s zero: set it, so that the spill encoder is tested on it", name)
			}
		}
	}
	check("Record.", reflect.ValueOf(full))
	for _, a := range full.Attempts {
		if a.Status != 0 {
			check("Attempt.", reflect.ValueOf(a))
		}
	}
}

func TestAppendRecordMatchesMarshal(t *testing.T) {
	withZone := func(zone *time.Location) Record {
		r := fullRecord()
		r.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, zone)
		return r
	}
	withTime := func(tm time.Time) Record {
		r := fullRecord()
		r.Time = tm
		return r
	}
	withCost := func(c float64) Record {
		r := fullRecord()
		r.CostUSD = c
		return r
	}
	withText := func(s string) Record {
		r := fullRecord()
		r.RequestBody, r.ErrorMessage, r.Dropped = s, s, []string{s}
		r.Attempts[0].ErrorType = s
		return r
	}
	tests := []struct {
		name    string
		rec     Record
		wantErr bool
	}{
		{name: "full", rec: fullRecord()},
		{name: "zero", rec: Record{}},
		{name: "only the fields without omitempty", rec: Record{ID: "x", Endpoint: "/e"}},
		{name: "empty but not nil slices", rec: Record{ID: "x", Attempts: []Attempt{}, Dropped: []string{}}},
		{name: "attempt with zero fields", rec: Record{ID: "x", Attempts: []Attempt{{}}}},
		{name: "utc", rec: withZone(time.UTC)},
		{name: "negative offset", rec: withZone(time.FixedZone("", -(9*3600 + 30*60)))},
		{name: "offset with seconds", rec: withZone(time.FixedZone("LMT", 3600+17))},
		{name: "offset of 23:59", rec: withZone(time.FixedZone("", 24*3600-60))},
		{name: "local time with monotonic reading", rec: withTime(time.Now())},
		{name: "zero time", rec: withTime(time.Time{})},
		{name: "year 9999", rec: withTime(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))},
		{name: "year 10000", rec: withTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), wantErr: true},
		{name: "negative year", rec: withTime(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)), wantErr: true},
		{name: "offset of 24 hours", rec: withZone(time.FixedZone("", 24*3600)), wantErr: true},
		{name: "tiny cost", rec: withCost(1e-7)},
		{name: "cost at the exponent cut", rec: withCost(1e-6)},
		{name: "huge cost", rec: withCost(1e21)},
		{name: "negative cost", rec: withCost(-0.5)},
		{name: "negative zero cost", rec: withCost(math.Copysign(0, -1))},
		{name: "largest cost", rec: withCost(math.MaxFloat64)},
		{name: "NaN cost", rec: withCost(math.NaN()), wantErr: true},
		{name: "infinite cost", rec: withCost(math.Inf(-1)), wantErr: true},
		{name: "every ASCII byte", rec: withText(asciiBytes())},
		{name: "invalid UTF-8", rec: withText("a\xffb\xc3(c\xe2\x28\xa1d\xf0\x90\x28\xbc\xed\xa0\x80")},
		{name: "truncated runes at the end", rec: withText("ok\xe2\x80")},
		{name: "NUL", rec: withText("a\x00b")},
		{name: "negative numbers", rec: Record{ID: "x", Status: -1, LatencyUS: math.MinInt64, InputTokens: -5,
			Attempts: []Attempt{{Status: -3, LatencyUS: math.MaxInt64}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := json.Marshal(&tt.rec)
			got, err := appendRecord([]byte("prefix"), &tt.rec)
			if (err != nil) != tt.wantErr || (wantErr != nil) != tt.wantErr {
				t.Fatalf("errors: appendRecord %v, json.Marshal %v, want error %v", err, wantErr, tt.wantErr)
			}
			if err != nil {
				if err.Error() != wantErr.Error() {
					t.Errorf("error %q, json.Marshal's %q", err, wantErr)
				}
				return
			}
			if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
				t.Errorf("appendRecord\n got %s\nwant prefix%s", got, want)
			}
		})
	}
}

func asciiBytes() string {
	var b strings.Builder
	for c := range 128 {
		b.WriteByte(byte(c))
	}
	return b.String()
}

func FuzzAppendRecord(f *testing.F) {
	full := fullRecord()
	f.Add(full.RequestBody, full.UserAgent, int64(1), 7.95e-06, int64(1767225600), int64(123), 5*3600)
	f.Add(asciiBytes(), "\xff\u2028", int64(-1), 1e21, int64(-62135596800), int64(0), 0)
	f.Add("", "", int64(0), 0.0, int64(0), int64(0), -3600)
	f.Fuzz(func(t *testing.T, s1, s2 string, n int64, cost float64, sec, nsec int64, offset int) {
		rec := Record{
			ID: s1, Time: time.Unix(sec, nsec).In(time.FixedZone("", offset)), Consumer: s2, Endpoint: s2, Service: s1, Route: s2,
			ErrorMessage: s1, LatencyUS: n, UpstreamUS: -n, CostUSD: cost, Stream: n%2 == 0,
			RequestBody: s1 + s2, ResponseBody: s2 + s1,
			Attempts: []Attempt{{Provider: s2, UpstreamModel: s1, Status: int(n), LatencyUS: n}},
			Dropped:  []string{s1, s2}, CacheHit: n%3 == 0,
		}
		want, wantErr := json.Marshal(&rec)
		got, err := appendRecord(nil, &rec)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendRecord error %v, json.Marshal error %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("appendRecord\n got %s\nwant %s", got, want)
		}
	})
}

// goldenRecords are the records of testdata/spill/records.jsonl.
func goldenRecords() []Record {
	minimal := Record{ID: "0193a5b2-7c1d-7e4f-8a9b-000000000002", Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Endpoint: "/v1/models", Status: 401, ErrorType: "invalid_api_key", LatencyUS: 41}
	bench := benchRecord("0193a5b2-7c1d-7e4f-8a9b-000000000003", benchBodies[0].req, benchBodies[0].resp)
	return []Record{fullRecord(), minimal, bench}
}

// TestSpillFormatGolden pins the spill file format: files written by an
// earlier release wait on disk across an upgrade and must still replay. The
// golden file was written by json.Marshal, the encoder of those releases.
func TestSpillFormatGolden(t *testing.T) {
	path := filepath.Join("testdata", "spill", "records.jsonl")
	var got []byte
	for _, rec := range goldenRecords() {
		line, err := appendRecord(nil, &rec)
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(line, old) {
			t.Fatalf("appendRecord differs from json.Marshal:\n%s\n%s", line, old)
		}
		got = append(append(got, line...), '\n')
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("spill lines differ from %s (run with -update if the change is meant, and keep old files decodable):\n got %s\nwant %s", path, got, want)
	}
	lines := bytes.Split(bytes.TrimSuffix(want, []byte{'\n'}), []byte{'\n'})
	for i, rec := range goldenRecords() {
		back, err := decodeLine(lines[i])
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		assertSameRecord(t, back, rec)
	}
}

// assertSameRecord compares records, times by instant and offset: a decoded
// time has a zone of its own.
func assertSameRecord(t *testing.T, got, want Record) {
	t.Helper()
	_, gotOff := got.Time.Zone()
	_, wantOff := want.Time.Zone()
	if !got.Time.Equal(want.Time) || gotOff != wantOff {
		t.Errorf("time %s, want %s", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record\n got %+v\nwant %+v", got, want)
	}
}

// FuzzDecodeLine feeds the spill decoder what a damaged or hand-edited file
// may hold. It must not panic, and what it accepts must encode to a line
// that decodes to the same record, byte for byte on the next round.
func FuzzDecodeLine(f *testing.F) {
	for _, rec := range goldenRecords() {
		line, _ := appendRecord(nil, &rec)
		f.Add(line)
	}
	f.Add([]byte(`{"id":"x","time":"2026-01-02T03:04:05.5-09:30","cost_usd":-0,"attempts":null,"dropped":[]}`))
	f.Add([]byte(`{"id":"x","time":"2026-01-0`))
	f.Add([]byte(`{"id":"\ud800","request_body":"\u0000\u2028"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := decodeLine(line)
		if err != nil {
			return
		}
		first, err := appendRecord(nil, &rec)
		if err != nil {
			return // a time json.Marshal refuses, as it did before
		}
		back, err := decodeLine(first)
		if err != nil {
			t.Fatalf("re-encoded line does not decode: %v\n%s", err, first)
		}
		second, err := appendRecord(nil, &back)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("not stable after a round trip (%v):\n%s\n%s", err, first, second)
		}
	})
}
