package triage_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
	"github.com/hypergate/hypergate/internal/webhook"
)

func TestStatusClass(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		errorType string
		want      string
	}{
		{"ok", 200, "", ""},
		{"upstream 503", 503, "upstream_503", triage.ClassServerError},
		{"timeout by type", 504, "upstream_timeout", triage.ClassTimeout},
		{"timeout by status", 504, "", triage.ClassTimeout},
		{"unreachable", 502, "upstream_unreachable", triage.ClassConnection},
		{"no answer", 0, "connection_refused", triage.ClassConnection},
		{"rate limited", 429, "rate_limit_exceeded", triage.ClassClientError},
		{"bad request", 400, "context_length_exceeded", triage.ClassClientError},
		{"stream broke after 200", 200, "upstream_stream_error", triage.ClassStream},
		{"client left", 499, "client_closed", ""},
		{"client left on 200", 200, "client_closed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := triage.StatusClass(tt.status, tt.errorType); got != tt.want {
				t.Errorf("StatusClass(%d, %q) = %q, want %q", tt.status, tt.errorType, got, tt.want)
			}
		})
	}
}

func TestOfCall(t *testing.T) {
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		rec  calllog.Record
		want []triage.Key
		user string
	}{
		{"success without flags", calllog.Record{ID: "a", Time: at, Status: 200}, nil, ""},
		{"synthetic failure ignored", calllog.Record{ID: "b", Time: at, Status: 503, Synthetic: true}, nil, ""},
		{"failure with an OpenAI end user", calllog.Record{ID: "c", Time: at, Endpoint: "/v1/chat/completions", Model: "m", Provider: "p",
			Status: 503, ErrorType: "upstream_503", ErrorMessage: "busy for 30s", RequestBody: `{"model":"m","user":"u-1"}`},
			[]triage.Key{{Kind: triage.KindFailure, Endpoint: "/v1/chat/completions", Provider: "p", Model: "m",
				StatusClass: triage.ClassServerError, ErrorCode: "upstream_503", Message: "busy for <num>s"}}, "u-1"},
		{"anomalies with an Anthropic end user and a finish reason", calllog.Record{ID: "d", Time: at, Service: "bot", Route: "0", Model: "m",
			Status: 200, Flags: []string{"truncated", "refusal", "truncated"},
			RequestBody:  `{"model":"m","metadata":{"user_id":"u-2"}}`,
			ResponseBody: `{"id":"x","choices":[{"finish_reason":"length"}]}`},
			[]triage.Key{{Kind: triage.KindAnomaly, Service: "bot", Route: "0", Model: "m", Flag: "truncated", FinishReason: "length"},
				{Kind: triage.KindAnomaly, Service: "bot", Route: "0", Model: "m", Flag: "refusal", FinishReason: "length"}}, "u-2"},
		{"a failed call's flags are not anomalies", calllog.Record{ID: "e", Time: at, Status: 500, Flags: []string{"empty_output"}},
			[]triage.Key{{Kind: triage.KindFailure, StatusClass: triage.ClassServerError}}, ""},
		{"truncated body keeps the end user", calllog.Record{ID: "f", Time: at, Status: 429, ErrorType: "rate_limit_exceeded",
			RequestBody: `{"user":"u-3","messages":[{"role":"user","content":"aaaa…[truncated 99 bytes]`},
			[]triage.Key{{Kind: triage.KindFailure, StatusClass: triage.ClassClientError, ErrorCode: "rate_limit_exceeded"}}, "u-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			occs := triage.OfCall(&tt.rec)
			var keys []triage.Key
			for _, o := range occs {
				keys = append(keys, o.Key)
				if o.RequestID != tt.rec.ID || o.EndUser != tt.user {
					t.Errorf("occurrence %+v: want request %s, end user %q", o, tt.rec.ID, tt.user)
				}
			}
			if !slices.Equal(keys, tt.want) {
				t.Errorf("keys = %+v\nwant %+v", keys, tt.want)
			}
		})
	}
}

func TestOfFeedback(t *testing.T) {
	call := calllog.CallSummary{Consumer: "shop", Service: "bot", Route: "0", Model: "m"}
	tests := []struct {
		name string
		fb   feedback.Feedback
		ok   bool
	}{
		{"negative polarity", feedback.Feedback{ID: "1", RequestID: "r", Name: "helpful", Polarity: feedback.PolarityNegative, Call: call}, true},
		{"positive polarity", feedback.Feedback{ID: "2", RequestID: "r", Name: "helpful", Value: feedback.BoolValue(false), Polarity: feedback.PolarityPositive, Call: call}, false},
		{"false boolean without polarity", feedback.Feedback{ID: "3", RequestID: "r", Name: "helpful", Value: feedback.BoolValue(false), Call: call}, true},
		{"true boolean without polarity", feedback.Feedback{ID: "4", RequestID: "r", Name: "helpful", Value: feedback.BoolValue(true), Call: call}, false},
		{"a comment", feedback.Feedback{ID: "5", RequestID: "r", Name: "comment", Value: feedback.Value{Kind: feedback.String, Str: "meh"}, Call: call}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := triage.OfFeedback(tt.fb)
			if ok != tt.ok {
				t.Fatalf("OfFeedback ok = %v, want %v", ok, tt.ok)
			}
			if ok && (o.Key.Kind != triage.KindFeedback || o.Key.Score != tt.fb.Name || o.Key.Service != "bot" ||
				o.Consumer != "shop" || o.Once != "feedback:"+tt.fb.ID) {
				t.Errorf("occurrence = %+v", o)
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	at := time.Date(2026, 7, 1, 10, 30, 0, 0, time.UTC)
	k1 := triage.Key{Kind: triage.KindFailure, Service: "s", StatusClass: triage.ClassServerError}
	k2 := triage.Key{Kind: triage.KindAnomaly, Service: "s", Flag: "refusal"}
	var occs []triage.Occurrence
	for i := range 100 {
		k := k1
		if i%4 == 0 {
			k = k2
		}
		occs = append(occs, triage.Occurrence{Key: k, RequestID: fmt.Sprintf("r%03d", i), Time: at.Add(time.Duration(i) * time.Minute),
			Consumer: fmt.Sprint("c", i%3), EndUser: fmt.Sprint("u", i%7)})
	}
	groups := triage.Aggregate(occs, nil)
	if len(groups) != 2 {
		t.Fatalf("Aggregate made %d groups, want 2 (one per fingerprint)", len(groups))
	}
	if groups[0].Fingerprint > groups[1].Fingerprint {
		t.Fatalf("groups not in fingerprint order")
	}
	for _, g := range groups {
		want := int64(75)
		if g.Key == k2 {
			want = 25
		}
		if g.Count != want {
			t.Errorf("%s: count %d, want %d", g.Key.Title(), g.Count, want)
		}
		if len(g.Consumers) != 3 || len(g.EndUsers) != 7 {
			t.Errorf("%s: %d consumers, %d end users; want 3 and 7", g.Key.Title(), len(g.Consumers), len(g.EndUsers))
		}
		if len(g.Samples) != triage.MaxSamples || g.Samples[0].Time != g.Last {
			t.Errorf("%s: %d samples, first %v; want %d, newest first (%v)", g.Key.Title(), len(g.Samples), g.Samples[0].Time, triage.MaxSamples, g.Last)
		}
		var sum int64
		for _, h := range g.Hours {
			sum += h.Count
		}
		if sum != g.Count || len(g.Hours) != 3 {
			t.Errorf("%s: hours %+v, want 3 hours summing to %d", g.Key.Title(), g.Hours, g.Count)
		}
	}
}

// receiver is a webhook receiver that checks signatures.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []triage.Notification
	events []string
	slack  []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.URL.Path == "/slack" {
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			rc.t.Errorf("slack body %s: %v", body, err)
		}
		rc.slack = append(rc.slack, m["text"])
		return
	}
	ts := r.Header.Get(webhook.TimestampHeader)
	if !webhook.Verify(rc.secret, ts, body, r.Header.Get(webhook.SignatureHeader)) {
		rc.t.Errorf("webhook signature does not verify")
		w.WriteHeader(401)
		return
	}
	var n triage.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		rc.t.Errorf("webhook body %s: %v", body, err)
	}
	if r.Header.Get(triage.EventHeader) != n.Event || r.Header.Get(triage.DeliveryHeader) != n.ID {
		rc.t.Errorf("headers %v do not match the notification %s %s", r.Header, n.Event, n.ID)
	}
	rc.got = append(rc.got, n)
	rc.events = append(rc.events, n.Event)
}

func (rc *receiver) wait(t *testing.T, webhooks, slacks int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		done := len(rc.got) >= webhooks && len(rc.slack) >= slacks
		rc.mu.Unlock()
		if done {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d webhooks and %d slack messages", webhooks, slacks)
}

// TestWebhooks runs the observer over a real store: a new incident and a
// regressed one notify (signed, to a webhook and to Slack); further calls
// of an incident already open do not, nor does anything for an ignored
// one.
func TestWebhooks(t *testing.T) {
	ctx := t.Context()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Setenv("TRIAGE_TEST_SECRET", "s3cret")
	rc := &receiver{t: t, secret: []byte("s3cret")}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	targets, err := triage.Targets([]config.Notifier{
		{Name: "ops", Type: config.NotifierWebhook, URL: srv.URL + "/hook", Secret: "env:TRIAGE_TEST_SECRET"},
		{Name: "chat", Type: config.NotifierSlack, URL: srv.URL + "/slack"},
		{Name: "pager", Type: config.NotifierPagerDuty, URL: srv.URL + "/pd"},
	}, []string{"ops", "chat"})
	if err != nil || len(targets) != 2 {
		t.Fatalf("Targets = %+v, %v", targets, err)
	}
	if _, err := triage.Targets(nil, []string{"missing"}); err == nil {
		t.Errorf("an undeclared notifier was accepted")
	}
	n := triage.NewNotifier(triage.NotifierOptions{Backoff: time.Millisecond})
	tr := triage.New(triage.Options{Store: db, Notifier: n, Targets: targets,
		IncidentURL: func(id string) string { return "http://admin.example/admin/v1/incidents/" + id }})

	now := time.Now().UTC()
	seq := 0
	fail := func(id string, at time.Time) calllog.Record {
		seq++
		return calllog.Record{ID: id, Time: at, Service: "bot", Route: "0", Model: "m", Status: 503, ErrorType: "upstream_503",
			ErrorMessage: fmt.Sprintf("overloaded, retry in %dms", seq*100), Consumer: "shop"}
	}
	// Two batches of the same failure: one "new".
	if err := tr.ObserveCalls(ctx, []calllog.Record{fail("r1", now), fail("r2", now)}); err != nil {
		t.Fatal(err)
	}
	if err := tr.ObserveCalls(ctx, []calllog.Record{fail("r3", now)}); err != nil {
		t.Fatal(err)
	}
	rc.wait(t, 1, 1)
	list, err := db.ListIncidents(ctx, triage.Filter{}, now)
	if err != nil || len(list) != 1 || list[0].Count != 3 {
		t.Fatalf("incidents = %+v, %v; want one of 3 calls", list, err)
	}
	id := list[0].ID
	// Resolve it; seen again: "regressed".
	if _, err := db.SetIncidentState(ctx, id, triage.StateResolved, "ops", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := tr.ObserveCalls(ctx, []calllog.Record{fail("r4", now.Add(2*time.Second))}); err != nil {
		t.Fatal(err)
	}
	rc.wait(t, 2, 2)
	// Ignored: counted, never notified.
	if _, err := db.SetIncidentState(ctx, id, triage.StateIgnored, "ops", now.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := tr.ObserveCalls(ctx, []calllog.Record{fail("r5", now.Add(4*time.Second))}); err != nil {
		t.Fatal(err)
	}
	n.Close(ctx)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !slices.Equal(rc.events, []string{triage.EventNew, triage.EventRegressed}) || len(rc.slack) != 2 {
		t.Fatalf("events = %v, %d slack messages; want [new regressed] once each", rc.events, len(rc.slack))
	}
	reg := rc.got[1]
	if reg.Incident.ID != id || !reg.Incident.Regressed || reg.Incident.Regressions != 1 || reg.URL != "http://admin.example/admin/v1/incidents/"+id {
		t.Errorf("regressed notification = %+v", reg)
	}
	if st := n.Stats(); st.Delivered != 4 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("notifier stats = %+v, want 4 delivered", st)
	}
}

// TestFeedbackBatches checks the feedback path once started: negative
// feedback is queued and written in batches, none is lost, a toggle back
// to negative is not counted twice, and positive feedback counts nothing.
func TestFeedbackBatches(t *testing.T) {
	ctx := t.Context()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := triage.New(triage.Options{Store: db})
	tr.Start()
	call := calllog.CallSummary{Consumer: "shop", Service: "bot", Route: "0", Model: "m"}
	at := time.Now().UTC()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			fb := feedback.Feedback{ID: fmt.Sprint("fb", i%150), RequestID: fmt.Sprint("r", i), Name: "helpful",
				Value: feedback.BoolValue(i%10 == 9), Call: call, UpdatedAt: at}
			if err := tr.ObserveFeedback(ctx, fb); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tr.Close(ctx)
	list, err := db.ListIncidents(ctx, triage.Filter{Kind: triage.KindFeedback}, at)
	if err != nil || len(list) != 1 {
		t.Fatalf("incidents = %+v, %v; want one", list, err)
	}
	// 180 negatives (i%10 != 9) over ids fb0..fb149: ids 0..49 are posted
	// twice (i and i+150); distinct negative ids are those with any
	// negative post.
	want := map[string]bool{}
	for i := range 200 {
		if i%10 != 9 {
			want[fmt.Sprint("fb", i%150)] = true
		}
	}
	if list[0].Count != int64(len(want)) || list[0].Consumers != 1 {
		t.Fatalf("count %d, consumers %d; want %d distinct negative feedback ids and one consumer", list[0].Count, list[0].Consumers, len(want))
	}
}

// TestOfCallPaths checks that a service's paths with ids make one
// fingerprint, as do /v1 paths with ids.
func TestOfCallPaths(t *testing.T) {
	fp := func(r calllog.Record) string {
		r.Status, r.ErrorType = 502, "upstream_502"
		return triage.OfCall(&r)[0].Key.Fingerprint()
	}
	if fp(calllog.Record{Service: "orders", Route: "0", Endpoint: "/orders/123"}) != fp(calllog.Record{Service: "orders", Route: "0", Endpoint: "/orders/456"}) {
		t.Errorf("a service's calls to two ids make two fingerprints")
	}
	if fp(calllog.Record{Endpoint: "/v1/prompts/summarize/versions/3"}) != fp(calllog.Record{Endpoint: "/v1/prompts/summarize/versions/4"}) {
		t.Errorf("two versions of one /v1 path make two fingerprints")
	}
	if fp(calllog.Record{Endpoint: "/v1/chat/completions"}) == fp(calllog.Record{Endpoint: "/v1/embeddings"}) {
		t.Errorf("two /v1 endpoints share a fingerprint")
	}
}
