package store

import (
	"context"
	"sort"

	"github.com/hypergate/hypergate/internal/calllog"
)

// CallScope is what a reader scoped to a team may see of the call log: the
// calls its consumers made and the calls its services took.
type CallScope struct {
	Consumers []string
	Services  []string
}

// ListCallsOf is ListCalls limited to scope: calls whose consumer is one of
// scope.Consumers or whose service is one of scope.Services. The other
// fields of f filter within that. Pages and cursors work as in ListCalls,
// and a cursor of one works in the other.
//
// It runs one ListCalls per consumer and per service, each seeking in its
// index, and merges them: a team owns few of either, and this keeps every
// filter ListCalls has, present and future, without a second query builder.
// Each part returns its first page of the limit, so the first limit rows of
// the union are the first limit rows of the whole.
func (db *DB) ListCallsOf(ctx context.Context, f calllog.Filter, scope CallScope) (calllog.Page, error) {
	if f.Cursor != "" {
		if _, _, err := decodeCursor(f.Cursor); err != nil {
			return calllog.Page{}, err
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallLimit
	}
	f.Limit = min(limit, MaxCallLimit)
	var parts []calllog.Filter
	seen := map[string]bool{}
	for _, c := range scope.Consumers {
		if c == "" || seen["c:"+c] || (f.Consumer != "" && f.Consumer != c) {
			continue
		}
		seen["c:"+c] = true
		g := f
		g.Consumer = c
		parts = append(parts, g)
	}
	for _, s := range scope.Services {
		if s == "" || seen["s:"+s] || (f.Service != "" && f.Service != s) {
			continue
		}
		seen["s:"+s] = true
		g := f
		g.Service = s
		parts = append(parts, g)
	}
	var all []calllog.Record
	ids := map[string]bool{}
	more := false
	for _, g := range parts {
		p, err := db.ListCalls(ctx, g)
		if err != nil {
			return calllog.Page{}, err
		}
		for _, r := range p.Calls {
			if !ids[r.ID] { // a team's consumer calling a team's service
				ids[r.ID] = true
				all = append(all, r)
			}
		}
		more = more || p.Next != ""
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := micros(all[i].Time), micros(all[j].Time)
		if a != b {
			return a > b
		}
		return all[i].ID > all[j].ID
	})
	page := calllog.Page{Calls: all}
	if page.Calls == nil {
		page.Calls = []calllog.Record{}
	}
	// A part with more rows returned a full page, so when any had more,
	// the union holds at least f.Limit rows and the page ends there.
	if len(all) > f.Limit || more {
		page.Calls = all[:f.Limit]
		last := page.Calls[f.Limit-1]
		page.Next = encodeCursor(micros(last.Time), last.ID)
	}
	return page, nil
}
