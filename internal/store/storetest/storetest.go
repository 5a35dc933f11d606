// Package storetest is the conformance suite for the store package: one set
// of behaviours that SQLite and PostgreSQL must both show, so that whatever
// passes on the embedded default also holds in production.
package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// Run runs the whole suite. open must return a new, empty, migrated database
// for each call; the suite calls it once per subtest and never closes it
// itself, so open should register the cleanup.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"Ping", testPing},
		{"Migrations", testMigrations},
		{"CallRoundTrip", testCallRoundTrip},
		{"InsertCallsIdempotent", testInsertCallsIdempotent},
		{"InsertCallsInvalid", testInsertCallsInvalid},
		{"ListCallsFilters", testListCallsFilters},
		{"ListCallsLimits", testListCallsLimits},
		{"ListCallsBadCursor", testListCallsBadCursor},
		{"Retention", testRetention},
		{"Feedback", testFeedback},
		{"FeedbackValues", testFeedbackValues},
		{"Keys", testKeys},
		{"Revisions", testRevisions},
		{"RevisionsConcurrent", testRevisionsConcurrent},
		{"Settings", testSettings},
		{"SettingsFirstWriterWins", testSettingsFirstWriterWins},
		{"Usage", Usage},
		{"Catalog", Catalog},
		{"Releases", Releases},
		{"Rollups", Rollups},
		{"FeedbackRollups", FeedbackRollups},
		{"FeedbackComplete", FeedbackComplete},
		{"CallFlags", CallFlags},
		{"IncidentRetention", IncidentRetention},
		{"ReviewQueues", ReviewQueues},
		{"Alerts", Alerts},
		{"AlertState", AlertState},
		{"Incidents", Incidents},
		{"Status", Status},
		{"Hypercare", Hypercare},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// base is the time the fixtures are laid out from: a fixed instant with a
// nanosecond part, so truncation to the stored microseconds is exercised.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// stored is t as it comes back from the store: microseconds, UTC.
func stored(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

func testPing(t *testing.T, db *store.DB) {
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if d := db.Dialect(); d != store.SQLite && d != store.Postgres {
		t.Fatalf("Dialect() = %q, want %q or %q", d, store.SQLite, store.Postgres)
	}
}

func testMigrations(t *testing.T, db *store.DB) {
	ctx := t.Context()
	want, err := store.LatestSchemaVersion(db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if want < 1 {
		t.Fatalf("LatestSchemaVersion = %d, want at least 1", want)
	}
	v, n, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != want {
		t.Fatalf("schema version after Open = %d, want %d", v, want)
	}
	if err := db.SetSetting(ctx, "survives", "migrate"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	v2, n2, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v2 != v || n2 != n {
		t.Fatalf("after re-running Migrate: version %d, %d recorded; want %d, %d", v2, n2, v, n)
	}
	if got, err := db.GetSetting(ctx, "survives"); err != nil || got != "migrate" {
		t.Fatalf("data after re-running Migrate: %q, %v", got, err)
	}
}

// fullRecord has every field set, so a column that is not written or read
// back shows up as a difference.
func fullRecord(id string, at time.Time) calllog.Record {
	return calllog.Record{
		ID: id, Time: at, Consumer: "web-shop", KeyID: "key-1", Endpoint: "/v1/chat/completions",
		Service: "support-bot", Route: "chat",
		Model: "gpt-4o-mini", Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18",
		Status: 502, ErrorType: "upstream_error", ErrorMessage: "bad gateway: connection reset",
		LatencyUS: 1234567, UpstreamUS: 1200000, TTFTUS: 350000, InputTokens: 1200, OutputTokens: 345,
		CostUSD: 0.000387, Stream: true, RequestBytes: 2048, ResponseBytes: 4096,
		ClientIP: "203.0.113.7", UserAgent: "openai-python/1.99", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		RequestBody:  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"héllo ✓"}]}`,
		ResponseBody: `{"error":{"message":"upstream reset"}}`,
		Attempts: []calllog.Attempt{
			{Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18", KeyID: "openai-main#1", Status: 500, ErrorType: "server_error", LatencyUS: 20000},
			{Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18", KeyID: "openai-main#2", ErrorType: "upstream_timeout", LatencyUS: 1000000},
			{Provider: "anthropic", UpstreamModel: "claude-haiku-4-5", KeyID: "anthropic#1", Status: 502, LatencyUS: 180000},
		},
		Fallback: true, UsageEstimated: true, CacheHit: true,
		Dropped: []string{"messages[].audio", "logit_bias", `odd "quoted" name`},
		Prompt:  "summarize", PromptVersion: 3, Release: 12,
		Synthetic: true, Probe: "chat-canary",
	}
}

func testCallRoundTrip(t *testing.T, db *store.DB) {
	ctx := t.Context()
	in := fullRecord("req-roundtrip", base)
	minimal := calllog.Record{ID: "req-minimal", Time: base.Add(time.Second), Endpoint: "/v1/models", Status: 200}
	if err := db.InsertCalls(ctx, []calllog.Record{in, minimal}); err != nil {
		t.Fatalf("InsertCalls: %v", err)
	}
	for _, want := range []calllog.Record{in, minimal} {
		want.Time = stored(want.Time)
		got, err := db.GetCall(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetCall(%q): %v", want.ID, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetCall(%q) =\n%+v\nwant\n%+v", want.ID, got, want)
		}
	}
	if _, err := db.GetCall(ctx, "req-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall(missing) error = %v, want ErrNotFound", err)
	}

	consumers := []struct {
		name, id, want string
		err            error
	}{
		{"with consumer", "req-roundtrip", "web-shop", nil},
		{"anonymous", "req-minimal", "", nil},
		{"missing", "req-missing", "", store.ErrNotFound},
	}
	for _, tc := range consumers {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.CallSummary(ctx, tc.id)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("CallSummary(%q) error = %v, want %v", tc.id, err, tc.err)
			}
			if got.Consumer != tc.want {
				t.Fatalf("CallSummary(%q).Consumer = %q, want %q", tc.id, got.Consumer, tc.want)
			}
		})
	}

	page, err := db.ListCalls(ctx, calllog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 2 {
		t.Fatalf("ListCalls returned %d calls, want 2", len(page.Calls))
	}
	for _, c := range page.Calls {
		if c.RequestBody != "" || c.ResponseBody != "" {
			t.Errorf("ListCalls returned bodies for %q; it must leave them out", c.ID)
		}
	}
	listed := page.Calls[1]
	want := in
	want.Time = stored(want.Time)
	want.RequestBody, want.ResponseBody = "", ""
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("listed call =\n%+v\nwant\n%+v", listed, want)
	}
}

// allCalls pages through every call matching f and returns their IDs.
func allCalls(t *testing.T, db *store.DB, f calllog.Filter) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		page, err := db.ListCalls(t.Context(), f)
		if err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
		for _, c := range page.Calls {
			ids = append(ids, c.ID)
		}
		if page.Next == "" {
			return ids
		}
		f.Cursor = page.Next
	}
	t.Fatal("ListCalls kept returning a next cursor")
	return nil
}

func testInsertCallsIdempotent(t *testing.T, db *store.DB) {
	ctx := t.Context()
	first := make([]calllog.Record, 10)
	for i := range first {
		first[i] = fullRecord(fmt.Sprintf("req-%02d", i), base.Add(time.Duration(i)*time.Second))
	}
	if err := db.InsertCalls(ctx, first); err != nil {
		t.Fatal(err)
	}
	size1, err := db.CallsSizeBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if size1 <= 0 {
		t.Fatalf("CallsSizeBytes after inserting = %d, want > 0", size1)
	}

	// Replaying a spill file: the same batch again is not an error and changes nothing.
	if err := db.InsertCalls(ctx, first); err != nil {
		t.Fatalf("replaying a batch: %v", err)
	}
	if got := allCalls(t, db, calllog.Filter{}); len(got) != 10 {
		t.Fatalf("after replay: %d calls, want 10", len(got))
	}
	if size, _ := db.CallsSizeBytes(ctx); size != size1 {
		t.Fatalf("CallsSizeBytes after replay = %d, want unchanged %d", size, size1)
	}

	// An overlapping batch adds only the new records; stored ones are kept as first written,
	// and an ID repeated within the batch is stored once.
	var overlap []calllog.Record
	for i := 5; i < 15; i++ {
		r := fullRecord(fmt.Sprintf("req-%02d", i), base.Add(time.Duration(i)*time.Second))
		r.Status = 200
		overlap = append(overlap, r)
	}
	overlap = append(overlap, overlap[len(overlap)-1])
	if err := db.InsertCalls(ctx, overlap); err != nil {
		t.Fatalf("overlapping batch: %v", err)
	}
	if got := allCalls(t, db, calllog.Filter{}); len(got) != 15 {
		t.Fatalf("after overlapping batch: %d calls, want 15", len(got))
	}
	kept, err := db.GetCall(ctx, "req-07")
	if err != nil {
		t.Fatal(err)
	}
	if kept.Status != 502 {
		t.Errorf("req-07 status = %d after re-insert, want the first-written 502", kept.Status)
	}
	size2, _ := db.CallsSizeBytes(ctx)
	if want := size1 + size1/2; size2 != want {
		t.Errorf("CallsSizeBytes after 5 more like-sized calls = %d, want %d", size2, want)
	}

	// A batch bigger than any internal chunking.
	big := make([]calllog.Record, 450)
	for i := range big {
		big[i] = calllog.Record{ID: fmt.Sprintf("big-%03d", i), Time: base.Add(time.Hour + time.Duration(i)*time.Millisecond), Status: 200}
	}
	if err := db.InsertCalls(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCalls(ctx, big); err != nil {
		t.Fatal(err)
	}
	if got := allCalls(t, db, calllog.Filter{Limit: 500}); len(got) != 465 {
		t.Fatalf("after a 450-record batch: %d calls, want 465", len(got))
	}
	if err := db.InsertCalls(ctx, nil); err != nil {
		t.Fatalf("InsertCalls(nil): %v", err)
	}
}

func testInsertCallsInvalid(t *testing.T, db *store.DB) {
	ctx := t.Context()
	batch := []calllog.Record{{ID: "req-ok", Time: base}, {ID: "", Time: base}}
	err := db.InsertCalls(ctx, batch)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("InsertCalls with an empty ID: error = %v, want ErrInvalid", err)
	}
	if _, err := db.GetCall(ctx, "req-ok"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed batch must write nothing; GetCall error = %v", err)
	}
}

// fixture is a call set with every filter dimension varied and several
// calls sharing a timestamp, so pagination must break ties by ID.
func fixture() []calllog.Record {
	consumers := []string{"web-shop", "mobile", "batch"}
	models := []string{"gpt-4o-mini", "claude-haiku", ""}
	services := []string{"", "orders-api", "support-bot", "orders-api"}
	prompts := []string{"", "summarize", "", "translate", "summarize"}
	statuses := []int{200, 200, 429, 500, 200}
	var recs []calllog.Record
	for i := range 60 {
		recs = append(recs, calllog.Record{
			ID:          fmt.Sprintf("call-%04d", i),
			Time:        base.Add(time.Duration(i/3) * time.Minute),
			Consumer:    consumers[i%len(consumers)],
			Model:       models[(i/2)%len(models)],
			Service:     services[i%len(services)],
			Route:       fmt.Sprint(i % 2),
			Status:      statuses[i%len(statuses)],
			Endpoint:    "/v1/chat/completions",
			RequestBody: "body",
			CacheHit:    i%7 == 2,
			Synthetic:   i%5 == 3,
		})
		if recs[i].Synthetic {
			recs[i].Probe = []string{"chat-canary", "orders-health"}[i%2]
		}
		if p := prompts[i%len(prompts)]; p != "" {
			recs[i].Prompt, recs[i].PromptVersion = p, 1+i%3
		}
	}
	return recs
}

// hasFeedback is which fixture calls get feedback.
func hasFeedback(i int) bool { return i%4 == 0 || i == 13 }

func ptr[T any](v T) *T { return &v }

func testListCallsFilters(t *testing.T, db *store.DB) {
	ctx := t.Context()
	recs := fixture()
	if err := db.InsertCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
	withFeedback := map[string]bool{}
	for i, r := range recs {
		if !hasFeedback(i) {
			continue
		}
		withFeedback[r.ID] = true
		// Two scores on some calls: EXISTS must not duplicate them.
		for j := range 1 + i%2 {
			_, _, err := db.UpsertFeedback(ctx, feedback.Feedback{
				ID: fmt.Sprintf("fb-%d-%d", i, j), RequestID: r.ID, Consumer: r.Consumer,
				Name: "helpful", Value: feedback.BoolValue(j == 0),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Feedback on a call that is not (yet) stored must not make anything match.
	if _, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: "fb-orphan", RequestID: "call-9999", Name: "x", Value: feedback.BoolValue(true)}); err != nil {
		t.Fatal(err)
	}

	// The boundaries fall exactly on stored times: Since is inclusive, Until exclusive.
	since, until := base.Add(5*time.Minute), base.Add(12*time.Minute)
	cases := []struct {
		name  string
		f     calllog.Filter
		match func(i int, r calllog.Record) bool
	}{
		{"all", calllog.Filter{}, func(int, calllog.Record) bool { return true }},
		{"consumer", calllog.Filter{Consumer: "mobile"}, func(_ int, r calllog.Record) bool { return r.Consumer == "mobile" }},
		{"model", calllog.Filter{Model: "claude-haiku"}, func(_ int, r calllog.Record) bool { return r.Model == "claude-haiku" }},
		{"status", calllog.Filter{Status: 429}, func(_ int, r calllog.Record) bool { return r.Status == 429 }},
		{"service", calllog.Filter{Service: "orders-api"}, func(_ int, r calllog.Record) bool { return r.Service == "orders-api" }},
		{"service and consumer", calllog.Filter{Service: "support-bot", Consumer: "mobile"}, func(_ int, r calllog.Record) bool {
			return r.Service == "support-bot" && r.Consumer == "mobile"
		}},
		{"since inclusive until exclusive", calllog.Filter{Since: since, Until: until}, func(_ int, r calllog.Record) bool {
			return !r.Time.Before(since) && r.Time.Before(until)
		}},
		{"since only", calllog.Filter{Since: since}, func(_ int, r calllog.Record) bool { return !r.Time.Before(since) }},
		{"has feedback", calllog.Filter{HasFeedback: ptr(true)}, func(_ int, r calllog.Record) bool { return withFeedback[r.ID] }},
		{"without feedback", calllog.Filter{HasFeedback: ptr(false)}, func(_ int, r calllog.Record) bool { return !withFeedback[r.ID] }},
		{"cache hits", calllog.Filter{CacheHit: ptr(true)}, func(_ int, r calllog.Record) bool { return r.CacheHit }},
		{"not cache hits", calllog.Filter{CacheHit: ptr(false), Model: "gpt-4o-mini"}, func(_ int, r calllog.Record) bool {
			return !r.CacheHit && r.Model == "gpt-4o-mini"
		}},
		{"synthetic", calllog.Filter{Synthetic: ptr(true)}, func(_ int, r calllog.Record) bool { return r.Synthetic }},
		{"not synthetic", calllog.Filter{Synthetic: ptr(false)}, func(_ int, r calllog.Record) bool { return !r.Synthetic }},
		{"probe", calllog.Filter{Probe: "orders-health"}, func(_ int, r calllog.Record) bool { return r.Probe == "orders-health" }},
		{"prompt", calllog.Filter{Prompt: "summarize"}, func(_ int, r calllog.Record) bool { return r.Prompt == "summarize" }},
		{"prompt version", calllog.Filter{Prompt: "summarize", PromptVersion: 2}, func(_ int, r calllog.Record) bool {
			return r.Prompt == "summarize" && r.PromptVersion == 2
		}},
		{"combined", calllog.Filter{Consumer: "web-shop", Status: 200, Since: since, HasFeedback: ptr(true)}, func(_ int, r calllog.Record) bool {
			return r.Consumer == "web-shop" && r.Status == 200 && !r.Time.Before(since) && withFeedback[r.ID]
		}},
		{"no match", calllog.Filter{Consumer: "nobody"}, func(int, calllog.Record) bool { return false }},
	}
	for _, tc := range cases {
		var want []calllog.Record
		for i, r := range recs {
			if tc.match(i, r) {
				want = append(want, r)
			}
		}
		sort.Slice(want, func(a, b int) bool {
			if !want[a].Time.Equal(want[b].Time) {
				return want[a].Time.After(want[b].Time)
			}
			return want[a].ID > want[b].ID
		})
		var wantIDs []string
		for _, r := range want {
			wantIDs = append(wantIDs, r.ID)
		}
		if tc.name != "no match" && len(wantIDs) == 0 {
			t.Fatalf("%s: fixture has no matching call; the case tests nothing", tc.name)
		}
		// 7 leaves a partial last page; 10 divides the full set exactly, so the
		// last page is full and must still have no next cursor.
		for _, limit := range []int{7, 10, 500} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				f := tc.f
				f.Limit = limit
				var got []string
				for pages := 0; ; pages++ {
					if pages > len(recs) {
						t.Fatal("too many pages")
					}
					page, err := db.ListCalls(ctx, f)
					if err != nil {
						t.Fatalf("ListCalls: %v", err)
					}
					if page.Next != "" && len(page.Calls) != limit {
						t.Fatalf("page %d has %d calls and a next cursor; want a full page of %d", pages, len(page.Calls), limit)
					}
					for _, c := range page.Calls {
						got = append(got, c.ID)
						if c.RequestBody != "" {
							t.Fatalf("ListCalls returned a request body for %s", c.ID)
						}
					}
					if page.Next == "" {
						break
					}
					f.Cursor = page.Next
				}
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("ids =\n%v\nwant\n%v", got, wantIDs)
				}
			})
		}
	}
}

func testListCallsLimits(t *testing.T, db *store.DB) {
	ctx := t.Context()
	recs := make([]calllog.Record, 510)
	for i := range recs {
		recs[i] = calllog.Record{ID: fmt.Sprintf("req-%04d", i), Time: base.Add(time.Duration(i) * time.Millisecond), Status: 200}
	}
	if err := db.InsertCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		limit int
		want  int
	}{
		{"zero is the default", 0, store.DefaultCallLimit},
		{"negative is the default", -5, store.DefaultCallLimit},
		{"small", 3, 3},
		{"above the maximum is capped", 10000, store.MaxCallLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := db.ListCalls(ctx, calllog.Filter{Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Calls) != tc.want || page.Next == "" {
				t.Fatalf("ListCalls(Limit %d): %d calls, next %q; want %d and a next cursor", tc.limit, len(page.Calls), page.Next, tc.want)
			}
			if page.Calls[0].ID != "req-0509" {
				t.Fatalf("first call %s, want the newest req-0509", page.Calls[0].ID)
			}
		})
	}
}

func testListCallsBadCursor(t *testing.T, db *store.DB) {
	// The encoding the store uses, to build cursors that decode but are wrong.
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct{ name, cursor string }{
		{"not base64", "!!not-base64!!"},
		{"no separator", enc("1700000000000000")},
		{"time not a number", enc("yesterday:req-1")},
		{"empty id", enc("1700000000000000:")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.ListCalls(t.Context(), calllog.Filter{Cursor: tc.cursor})
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ListCalls(cursor %q) error = %v, want ErrInvalid", tc.cursor, err)
			}
		})
	}
}

func testRetention(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if n, err := db.DeleteCallsBefore(ctx, base); err != nil || n != 0 {
		t.Fatalf("DeleteCallsBefore on an empty store = %d, %v", n, err)
	}
	if size, err := db.CallsSizeBytes(ctx); err != nil || size != 0 {
		t.Fatalf("CallsSizeBytes on an empty store = %d, %v", size, err)
	}
	recs := make([]calllog.Record, 20)
	for i := range recs {
		recs[i] = fullRecord(fmt.Sprintf("req-%02d", i), base.Add(time.Duration(i)*time.Minute))
	}
	if err := db.InsertCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
	full, _ := db.CallsSizeBytes(ctx)
	perCall := full / 20
	if perCall*20 != full {
		t.Fatalf("CallsSizeBytes = %d for 20 like-sized calls; not a multiple of 20", full)
	}
	if perCall < int64(len(recs[0].RequestBody)+len(recs[0].ResponseBody)) {
		t.Fatalf("CallsSizeBytes per call = %d, less than its bodies alone", perCall)
	}

	steps := []struct {
		name       string
		run        func() (int64, error)
		deleted    int64
		remaining  int
		oldestLeft string
	}{
		{"before is exclusive", func() (int64, error) { return db.DeleteCallsBefore(ctx, stored(base.Add(5*time.Minute))) }, 5, 15, "req-05"},
		{"oldest n", func() (int64, error) { return db.DeleteOldestCalls(ctx, 3) }, 3, 12, "req-08"},
		{"oldest zero", func() (int64, error) { return db.DeleteOldestCalls(ctx, 0) }, 0, 12, "req-08"},
		{"before nothing older", func() (int64, error) { return db.DeleteCallsBefore(ctx, base) }, 0, 12, "req-08"},
		{"oldest more than stored", func() (int64, error) { return db.DeleteOldestCalls(ctx, 100) }, 12, 0, ""},
	}
	for _, st := range steps {
		n, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n != st.deleted {
			t.Fatalf("%s: deleted %d, want %d", st.name, n, st.deleted)
		}
		ids := allCalls(t, db, calllog.Filter{})
		if len(ids) != st.remaining {
			t.Fatalf("%s: %d calls left, want %d", st.name, len(ids), st.remaining)
		}
		if st.remaining > 0 && ids[len(ids)-1] != st.oldestLeft {
			t.Fatalf("%s: oldest call left %s, want %s", st.name, ids[len(ids)-1], st.oldestLeft)
		}
		size, err := db.CallsSizeBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := perCall * int64(st.remaining); size != want {
			t.Fatalf("%s: CallsSizeBytes = %d, want %d", st.name, size, want)
		}
	}
}

func testFeedback(t *testing.T, db *store.DB) {
	ctx := t.Context()
	created := stored(base)
	in := feedback.Feedback{
		ID: "fb-1", RequestID: "req-1", Consumer: "web-shop", Name: "helpful",
		Value: feedback.BoolValue(true), Comment: "spot on", CreatedAt: created, UpdatedAt: created,
		Call: calllog.CallSummary{Consumer: "web-shop", Service: "orders-api", Route: "orders", Model: "gpt-4o", Provider: "openai", Status: 200},
	}
	got, isNew, err := db.UpsertFeedback(ctx, in)
	if err != nil {
		t.Fatalf("UpsertFeedback(new): %v", err)
	}
	if !isNew || !reflect.DeepEqual(got, in) {
		t.Fatalf("UpsertFeedback(new) = %+v, %v; want %+v, true", got, isNew, in)
	}

	later := stored(base.Add(time.Minute))
	update := in
	update.Name, update.Value, update.Comment = "helpful", feedback.BoolValue(false), "changed my mind"
	update.CreatedAt, update.UpdatedAt = later, later
	got, isNew, err = db.UpsertFeedback(ctx, update)
	if err != nil {
		t.Fatalf("UpsertFeedback(update): %v", err)
	}
	want := update
	want.CreatedAt = created // created_at belongs to the first write
	if isNew || !reflect.DeepEqual(got, want) {
		t.Fatalf("UpsertFeedback(update) = %+v, %v; want %+v, false", got, isNew, want)
	}

	conflicts := []struct {
		name string
		f    feedback.Feedback
	}{
		{"other consumer", func() feedback.Feedback { f := in; f.Consumer = "mobile"; return f }()},
		{"other request", func() feedback.Feedback { f := in; f.RequestID = "req-2"; return f }()},
	}
	for _, tc := range conflicts {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := db.UpsertFeedback(ctx, tc.f); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("error = %v, want ErrConflict", err)
			}
		})
	}
	if _, _, err := db.UpsertFeedback(ctx, feedback.Feedback{RequestID: "req-1", Name: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("UpsertFeedback without an ID: error = %v, want ErrInvalid", err)
	}

	// Defaults: no timestamps given means now.
	before := time.Now().Add(-time.Second)
	auto, _, err := db.UpsertFeedback(ctx, feedback.Feedback{ID: "fb-0", RequestID: "req-1", Consumer: "web-shop", Name: "stars", Value: feedback.Value{Kind: feedback.Numeric, Num: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if auto.CreatedAt.Before(before) || !auto.UpdatedAt.Equal(auto.CreatedAt) {
		t.Fatalf("default timestamps: created %v, updated %v", auto.CreatedAt, auto.UpdatedAt)
	}
	// An earlier creation time lists first whatever the insertion order.
	early := feedback.Feedback{ID: "fb-2", RequestID: "req-1", Consumer: "reviewer", Name: "tone", Value: feedback.Value{Kind: feedback.String, Str: "curt"},
		CreatedAt: stored(base.Add(-time.Hour)), UpdatedAt: stored(base.Add(-time.Hour))}
	if _, _, err := db.UpsertFeedback(ctx, early); err != nil {
		t.Fatal(err)
	}

	list, err := db.ListFeedback(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range list {
		ids = append(ids, f.ID)
	}
	if wantIDs := []string{"fb-2", "fb-1", "fb-0"}; !slices.Equal(ids, wantIDs) {
		t.Fatalf("ListFeedback ids = %v, want %v (oldest first)", ids, wantIDs)
	}
	if !reflect.DeepEqual(list[1], want) {
		t.Fatalf("ListFeedback fb-1 = %+v, want %+v (conflicting writes must not change it)", list[1], want)
	}
	none, err := db.ListFeedback(ctx, "req-none")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("ListFeedback(no feedback) = %#v, %v; want an empty slice", none, err)
	}
}

func testFeedbackValues(t *testing.T, db *store.DB) {
	cases := []struct {
		name string
		v    feedback.Value
	}{
		{"true", feedback.BoolValue(true)},
		{"false", feedback.BoolValue(false)},
		{"number", feedback.Value{Kind: feedback.Numeric, Num: 0.75}},
		{"negative number", feedback.Value{Kind: feedback.Numeric, Num: -3}},
		{"string", feedback.Value{Kind: feedback.String, Str: "too long, 🙈"}},
		{"empty string", feedback.Value{Kind: feedback.String}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := db.UpsertFeedback(t.Context(), feedback.Feedback{ID: "fb-" + tc.name, RequestID: "req-" + tc.name, Name: "score", Value: tc.v})
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tc.v {
				t.Fatalf("stored value %+v, want %+v", got.Value, tc.v)
			}
			list, err := db.ListFeedback(t.Context(), "req-"+tc.name)
			if err != nil || len(list) != 1 || list[0].Value != tc.v {
				t.Fatalf("ListFeedback = %+v, %v; want one value %+v", list, err, tc.v)
			}
		})
	}
}

func testKeys(t *testing.T, db *store.DB) {
	ctx := t.Context()
	mk := func(id, consumer string, age time.Duration) auth.Key {
		secret := auth.NewSecret("hg-")
		return auth.Key{ID: id, Consumer: consumer, Name: "default", Prefix: auth.DisplayPrefix(secret),
			Hash: auth.HashKey(secret), CreatedAt: stored(base.Add(-age))}
	}
	k1, k2, k3 := mk("key-1", "web-shop", 3*time.Hour), mk("key-2", "web-shop", 2*time.Hour), mk("key-3", "mobile", time.Hour)
	for _, k := range []auth.Key{k1, k2, k3} {
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey(%s): %v", k.ID, err)
		}
	}
	dupHash := mk("key-4", "mobile", 0)
	dupHash.Hash = k1.Hash
	bad := []struct {
		name string
		k    auth.Key
		err  error
	}{
		{"duplicate hash", dupHash, store.ErrConflict},
		{"duplicate id", mk("key-1", "mobile", 0), store.ErrConflict},
		{"no hash", auth.Key{ID: "key-5", Consumer: "mobile"}, store.ErrInvalid},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.CreateKey(ctx, tc.k); !errors.Is(err, tc.err) {
				t.Fatalf("CreateKey error = %v, want %v", err, tc.err)
			}
		})
	}

	if err := db.RevokeKey(ctx, "key-2"); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	all, err := db.ListKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[1].RevokedAt == nil {
		t.Fatalf("ListKeys(all) = %+v; want 3 keys with key-2 revoked", all)
	}
	revokedAt := *all[1].RevokedAt
	if err := db.RevokeKey(ctx, "key-2"); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	if err := db.RevokeKey(ctx, "key-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeKey(missing) error = %v, want ErrNotFound", err)
	}

	withRevoked := k2
	withRevoked.RevokedAt = &revokedAt
	lists := []struct {
		name string
		get  func() ([]auth.Key, error)
		want []auth.Key
	}{
		{"all", func() ([]auth.Key, error) { return db.ListKeys(ctx, "") }, []auth.Key{k1, withRevoked, k3}},
		{"one consumer", func() ([]auth.Key, error) { return db.ListKeys(ctx, "web-shop") }, []auth.Key{k1, withRevoked}},
		{"unknown consumer", func() ([]auth.Key, error) { return db.ListKeys(ctx, "nobody") }, []auth.Key{}},
		{"active", func() ([]auth.Key, error) { return db.ActiveKeys(ctx) }, []auth.Key{k1, k3}},
	}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func testRevisions(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, err := db.LatestRevision(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestRevision on an empty store: error = %v, want ErrNotFound", err)
	}
	var appended []store.Revision
	for i := range 3 {
		r, err := db.AppendRevision(ctx, store.Revision{
			Number:    99, // ignored: the store numbers revisions
			Author:    "admin",
			Message:   fmt.Sprintf("change %d", i+1),
			CreatedAt: base.Add(time.Duration(i) * time.Minute),
			Config:    []byte(fmt.Sprintf(`{"models":[{"name":"m%d"}],"bin":"\u0000\u00ff"}`, i)),
			Diff:      fmt.Sprintf("+ model m%d", i),
		})
		if err != nil {
			t.Fatalf("AppendRevision: %v", err)
		}
		if r.Number != int64(i+1) {
			t.Fatalf("revision %d got number %d", i+1, r.Number)
		}
		if !r.CreatedAt.Equal(stored(base.Add(time.Duration(i) * time.Minute))) {
			t.Fatalf("returned CreatedAt %v is not the stored time", r.CreatedAt)
		}
		appended = append(appended, r)
	}
	latest, err := db.LatestRevision(ctx)
	if err != nil || !reflect.DeepEqual(latest, appended[2]) {
		t.Fatalf("LatestRevision = %+v, %v; want %+v", latest, err, appended[2])
	}
	got, err := db.GetRevision(ctx, 2)
	if err != nil || !reflect.DeepEqual(got, appended[1]) {
		t.Fatalf("GetRevision(2) = %+v, %v; want %+v", got, err, appended[1])
	}
	if _, err := db.GetRevision(ctx, 4); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRevision(4) error = %v, want ErrNotFound", err)
	}

	lists := []struct {
		name          string
		limit         int
		before        int64
		wantRevisions []int64
	}{
		{"newest page", 2, 0, []int64{3, 2}},
		{"next page", 2, 2, []int64{1}},
		{"default limit", 0, 0, []int64{3, 2, 1}},
		{"before the first", 10, 1, []int64{}},
	}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			revs, err := db.ListRevisions(ctx, tc.limit, tc.before)
			if err != nil {
				t.Fatal(err)
			}
			nums := []int64{}
			for _, r := range revs {
				nums = append(nums, r.Number)
				if !reflect.DeepEqual(r, appended[r.Number-1]) {
					t.Errorf("listed revision %d = %+v, want %+v", r.Number, r, appended[r.Number-1])
				}
			}
			if !slices.Equal(nums, tc.wantRevisions) {
				t.Fatalf("ListRevisions(%d, %d) = %v, want %v", tc.limit, tc.before, nums, tc.wantRevisions)
			}
		})
	}

	// Without a time, the store stamps it.
	r, err := db.AppendRevision(ctx, store.Revision{Author: "cli", Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Number != 4 || time.Since(r.CreatedAt) > time.Minute {
		t.Fatalf("AppendRevision without a time = %+v", r)
	}
}

func testRevisionsConcurrent(t *testing.T, db *store.DB) {
	const writers = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		nums []int64
		errs []error
	)
	for i := range writers {
		wg.Go(func() {
			r, err := db.AppendRevision(t.Context(), store.Revision{Author: fmt.Sprintf("node-%d", i), Config: []byte(`{}`)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			nums = append(nums, r.Number)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d concurrent appends failed, first: %v", len(errs), writers, errs[0])
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != int64(i+1) {
			t.Fatalf("concurrent revision numbers = %v, want 1..%d each once", nums, writers)
		}
	}
	revs, err := db.ListRevisions(t.Context(), 100, 0)
	if err != nil || len(revs) != writers {
		t.Fatalf("ListRevisions = %d revisions, %v; want %d", len(revs), err, writers)
	}
}

func testSettings(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, err := db.GetSetting(ctx, "admin_token_hash"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSetting(missing) error = %v, want ErrNotFound", err)
	}
	steps := []struct {
		name string
		run  func() (string, error)
		want string // value returned and stored afterwards
	}{
		{"set", func() (string, error) { return "abc", db.SetSetting(ctx, "admin_token_hash", "abc") }, "abc"},
		{"overwrite", func() (string, error) { return "def", db.SetSetting(ctx, "admin_token_hash", "def") }, "def"},
		{"if absent keeps existing", func() (string, error) { return db.SetSettingIfAbsent(ctx, "admin_token_hash", "ghi") }, "def"},
		{"empty value", func() (string, error) { return "", db.SetSetting(ctx, "admin_token_hash", "") }, ""},
	}
	for _, st := range steps {
		got, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: returned %q, want %q", st.name, got, st.want)
		}
		if v, err := db.GetSetting(ctx, "admin_token_hash"); err != nil || v != st.want {
			t.Fatalf("%s: GetSetting = %q, %v; want %q", st.name, v, err, st.want)
		}
	}
	if v, err := db.SetSettingIfAbsent(ctx, "fresh", "first"); err != nil || v != "first" {
		t.Fatalf("SetSettingIfAbsent(new key) = %q, %v; want first", v, err)
	}
}

func testSettingsFirstWriterWins(t *testing.T, db *store.DB) {
	const writers = 20
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[string]int{}
	)
	for i := range writers {
		wg.Go(func() {
			v, err := db.SetSettingIfAbsent(t.Context(), "admin_token_hash", fmt.Sprintf("node-%d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("SetSettingIfAbsent: %v", err)
				return
			}
			got[v]++
		})
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("concurrent writers saw different values: %v", got)
	}
	stored, err := db.GetSetting(t.Context(), "admin_token_hash")
	if err != nil {
		t.Fatal(err)
	}
	if got[stored] != writers {
		t.Fatalf("stored %q, but writers saw %v", stored, got)
	}
}
