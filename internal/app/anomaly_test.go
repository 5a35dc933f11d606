package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

// TestAnomalyFlagsStored: an upstream answering with empty content gets
// its calls flagged empty_output by the detectors in the call pipeline;
// the flag is stored, found by GET /admin/v1/calls?flag=, counted in the
// anomaly rate and in the Prometheus counter.
func TestAnomalyFlagsStored(t *testing.T) {
	e := startWith(t, openaifake.Options{Words: []string{""}})
	var ids []string
	for range 3 {
		resp, body := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	for _, id := range ids {
		if rec := e.call(id); !slices.Equal(rec.Flags, []string{"empty_output"}) {
			t.Errorf("call %s flags %v, want [empty_output]", id, rec.Flags)
		}
	}

	var page calllog.Page
	if code := e.adminDo("GET", "/admin/v1/calls?flag=empty_output", "", &page); code != 200 {
		t.Fatalf("GET calls?flag: %d", code)
	}
	if len(page.Calls) != len(ids) {
		t.Errorf("calls flagged empty_output: %d, want %d", len(page.Calls), len(ids))
	}
	if code := e.adminDo("GET", "/admin/v1/calls?flag=refusal", "", &page); code != 200 || len(page.Calls) != 0 {
		t.Errorf("calls flagged refusal: %d (status %d), want none", len(page.Calls), code)
	}

	from := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	var ts struct {
		Points []struct {
			Values map[string]*float64 `json:"values"`
		} `json:"points"`
	}
	if code := e.adminDo("GET", "/admin/v1/analytics/timeseries?metric=anomaly_rate&from="+from, "", &ts); code != 200 {
		t.Fatalf("GET timeseries: %d", code)
	}
	found := false
	for _, p := range ts.Points {
		if v := p.Values["anomaly_rate"]; v != nil && *v > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("no anomaly_rate above 0 in %+v", ts.Points)
	}

	req, _ := http.NewRequest("GET", e.admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	series := `hypergate_anomalies_total{flag="empty_output",model="gpt-4o-mini"}`
	if got := metricValue(string(b), series); got != float64(len(ids)) {
		t.Errorf("%s = %v, want %d", series, got, len(ids))
	}
}

// TestAnomalyDetectorsReload: a detector disabled by a configuration
// change stops flagging at once.
func TestAnomalyDetectorsReload(t *testing.T) {
	e := startWith(t, openaifake.Options{Words: []string{""}})
	e.apply(fmt.Sprintf(baseConfig, e.up.BaseURL()) + "detectors:\n  disabled: [empty_output]\n")
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if rec := e.call(resp.Header.Get("X-Request-Id")); len(rec.Flags) != 0 {
		t.Errorf("flags %v with empty_output disabled", rec.Flags)
	}
}
