package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// CallFlags is the conformance case of anomaly flags: they are stored with
// the call, the call list finds the calls of one flag, StoreCalls reports
// which records were new (a replay is not), and retention deletes the
// flags of the calls it deletes.
func CallFlags(t *testing.T, db *store.DB) {
	ctx := t.Context()
	base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var recs []calllog.Record
	for i := range 6 {
		r := calllog.Record{ID: fmt.Sprint("flag-", i), Time: base.Add(time.Duration(i) * time.Minute), Endpoint: "/v1/chat/completions",
			Model: "gpt-4o", Status: 200, LatencyUS: 1000}
		switch i % 3 {
		case 0:
			r.Flags = []string{"refusal"}
		case 1:
			r.Flags = []string{"empty_output", "truncated"}
		}
		recs = append(recs, r)
	}
	fresh, err := db.StoreCalls(ctx, recs[:4])
	if err != nil || !slices.Equal(fresh, []int{0, 1, 2, 3}) {
		t.Fatalf("StoreCalls = %v, %v; want all four new", fresh, err)
	}
	// A replay of stored records with new ones: only the new are fresh.
	fresh, err = db.StoreCalls(ctx, recs[2:])
	if err != nil || !slices.Equal(fresh, []int{2, 3}) {
		t.Fatalf("StoreCalls(replay) = %v, %v; want [2 3] (flag-4 and flag-5)", fresh, err)
	}
	got, err := db.GetCall(ctx, "flag-1")
	if err != nil || !slices.Equal(got.Flags, []string{"empty_output", "truncated"}) {
		t.Fatalf("GetCall(flag-1).Flags = %v, %v", got.Flags, err)
	}
	ids := func(flag string) []string {
		t.Helper()
		page, err := db.ListCalls(ctx, calllog.Filter{Flag: flag})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range page.Calls {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"refusal", []string{"flag-3", "flag-0"}},
		{"truncated", []string{"flag-4", "flag-1"}},
		{"repetition", nil},
	} {
		if got := ids(tc.flag); !slices.Equal(got, tc.want) {
			t.Errorf("calls flagged %s: %v, want %v", tc.flag, got, tc.want)
		}
	}
	if _, err := db.DeleteCallsBefore(ctx, base.Add(150*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := ids("refusal"); !slices.Equal(got, []string{"flag-3"}) {
		t.Errorf("after retention, calls flagged refusal: %v, want [flag-3]", got)
	}
	var left int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM call_flags").Scan(&left); err != nil || left != 3 {
		t.Errorf("flag rows left after retention: %d, %v; want 3 (flag-3, flag-4 ×2)", left, err)
	}
}
