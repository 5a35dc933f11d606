package console

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/hypercare"
)

func TestConsoleScoreValues(t *testing.T) {
	fields := []scoreField{{Name: "ok", Kind: "boolean"}, {Name: "stars", Kind: "choice"}, {Name: "tone", Kind: "choice"},
		{Name: "cost", Kind: "number"}, {Name: "note", Kind: "text"}, {Name: "free", Kind: "any"}}
	for name, c := range map[string]struct {
		form url.Values
		want map[string]any
	}{
		"nothing":           {url.Values{}, map[string]any{}},
		"boolean":           {url.Values{"score.ok": {"false"}}, map[string]any{"ok": false}},
		"numbered choice":   {url.Values{"score.stars": {"4"}}, map[string]any{"stars": 4.0}},
		"category":          {url.Values{"score.tone": {"rude"}}, map[string]any{"tone": "rude"}},
		"number":            {url.Values{"score.cost": {"0.5"}}, map[string]any{"cost": 0.5}},
		"text stays text":   {url.Values{"score.note": {"42"}}, map[string]any{"note": "42"}},
		"any: yes":          {url.Values{"score.free": {"true"}}, map[string]any{"free": true}},
		"any: other wins":   {url.Values{"score.free": {"true"}, "other.free": {"3"}}, map[string]any{"free": 3.0}},
		"any: other label":  {url.Values{"other.free": {"meh"}}, map[string]any{"free": "meh"}},
		"blank is not sent": {url.Values{"score.ok": {" "}, "score.cost": {""}}, map[string]any{}},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if got := scoreValues(r, fields); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func TestConsoleHypercareVerdict(t *testing.T) {
	m := func(vs ...hypercare.Verdict) *hypercare.Report {
		r := &hypercare.Report{}
		for _, v := range vs {
			r.Metrics = append(r.Metrics, hypercare.Metric{Verdict: v})
		}
		return r
	}
	for name, c := range map[string]struct {
		rep  *hypercare.Report
		want string
	}{
		"no metrics":     {m(), verdictInsufficient},
		"no data":        {m(hypercare.NotEnoughData, hypercare.NotEnoughData), verdictInsufficient},
		"one regression": {m(hypercare.Unchanged, hypercare.Regressed, hypercare.NotEnoughData), verdictRegressed},
		"healthy":        {m(hypercare.Unchanged, hypercare.Improved, hypercare.NotEnoughData), verdictHealthy},
	} {
		if got := windowVerdict(c.rep); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	for target, want := range map[string]url.Values{
		"service support-bot":              {"service": {"support-bot"}},
		"release 3 of service support-bot": {"service": {"support-bot"}},
		"model gpt-4o":                     {"model": {"gpt-4o"}},
		"prompt summarize version 2":       nil,
	} {
		if got := targetFilter(target); !reflect.DeepEqual(got, want) {
			t.Errorf("targetFilter(%q) = %v, want %v", target, got, want)
		}
	}
}
