package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/store"
)

// Releases is the conformance case of services' releases and drafts:
// numbering per service, a revision stored with its releases in one go,
// the newest published release of each service, listing, numbering under
// concurrent writers, and drafts. It has the signature of the cases Run
// lists; its parts share one database, on services of their own.
func Releases(t *testing.T, db *store.DB) {
	t.Run("Numbering", func(t *testing.T) { releaseNumbering(t, db) })
	t.Run("Concurrent", func(t *testing.T) { releasesConcurrent(t, db) })
	t.Run("Drafts", func(t *testing.T) { drafts(t, db) })
}

func releaseNumbering(t *testing.T, db *store.DB) {
	ctx := t.Context()
	def := func(name, url string) []byte {
		return fmt.Appendf(nil, `{"name":%q,"kind":"rest","upstream":{"targets":[{"url":%q}]},"routes":[{"path":"/o"}]}`, name, url)
	}
	rel := func(service string, published bool, i int) catalog.Release {
		return catalog.Release{
			Number: 99, Service: service, Team: "payments", State: "published", Published: published,
			Author: "user:ana@example.com", Message: fmt.Sprintf("change %d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Minute), Diff: []string{"+ service " + service, fmt.Sprintf("~ service %s: n: %d", service, i)},
			Definition: def(service, fmt.Sprintf("http://127.0.0.1:%d", 9000+i)),
		}
	}

	if latest, err := db.LatestReleases(ctx); err != nil || len(latest) != 0 {
		t.Fatalf("LatestReleases on an empty store = %v, %v", latest, err)
	}
	if got, err := db.ListReleases(ctx, "orders", 0, 0); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ListReleases of no release = %#v, %v; want an empty list", got, err)
	}

	// A revision and the releases it made, numbered from 1 per service.
	rev, made, err := db.AppendRevisionReleases(ctx, store.Revision{Author: "a", Config: []byte(`{}`), Diff: "+ service orders"},
		[]catalog.Release{rel("orders", true, 1), rel("search", true, 1)})
	if err != nil {
		t.Fatalf("AppendRevisionReleases: %v", err)
	}
	if rev.Number != 1 || len(made) != 2 {
		t.Fatalf("revision %d with %d releases", rev.Number, len(made))
	}
	for _, r := range made {
		if r.Number != 1 || r.Revision != rev.Number {
			t.Fatalf("release %+v: want number 1 of revision %d", r, rev.Number)
		}
	}
	if got, err := db.GetRevision(ctx, rev.Number); err != nil || got.Diff != "+ service orders" {
		t.Fatalf("the revision stored with its releases: %+v, %v", got, err)
	}
	// A canary release (never published), then another published one.
	canary, err := db.AppendReleases(ctx, []catalog.Release{rel("orders", false, 2)})
	if err != nil || len(canary) != 1 || canary[0].Number != 2 || canary[0].Revision != 0 {
		t.Fatalf("AppendReleases(canary) = %+v, %v; want number 2", canary, err)
	}
	_, made3, err := db.AppendRevisionReleases(ctx, store.Revision{Author: "b", Config: []byte(`{}`)},
		[]catalog.Release{rel("orders", true, 3)})
	if err != nil || made3[0].Number != 3 || made3[0].Revision != 2 {
		t.Fatalf("third release: %+v, %v", made3, err)
	}
	// A revision that made no release.
	if _, none, err := db.AppendRevisionReleases(ctx, store.Revision{Author: "c", Config: []byte(`{}`)}, nil); err != nil || len(none) != 0 {
		t.Fatalf("a revision without releases: %v, %v", none, err)
	}

	got, err := db.GetRelease(ctx, "orders", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := rel("orders", true, 3)
	want.Number, want.Revision, want.CreatedAt = 3, 2, stored(want.CreatedAt)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetRelease =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := db.GetRelease(ctx, "orders", 4); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRelease of a missing release: %v, want ErrNotFound", err)
	}
	if _, err := db.GetRelease(ctx, "nope", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRelease of a missing service: %v, want ErrNotFound", err)
	}

	latest, err := db.LatestReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest["orders"].Number != 3 || latest["search"].Number != 1 || string(latest["orders"].Definition) != string(want.Definition) {
		t.Fatalf("LatestReleases = %+v; want orders 3 (not the canary) and search 1, with definitions", latest)
	}

	lists := []struct {
		name          string
		limit, before int
		want          []int
	}{
		{"all", 0, 0, []int{3, 2, 1}},
		{"first page", 2, 0, []int{3, 2}},
		{"next page", 2, 2, []int{1}},
		{"before the first", 10, 1, []int{}},
	}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			rels, err := db.ListReleases(ctx, "orders", tc.limit, tc.before)
			if err != nil {
				t.Fatal(err)
			}
			nums := []int{}
			for _, r := range rels {
				nums = append(nums, r.Number)
				if r.Definition != nil {
					t.Errorf("listed release %d carries its definition", r.Number)
				}
				if r.Published != (r.Number != 2) {
					t.Errorf("release %d published = %v", r.Number, r.Published)
				}
			}
			if !reflect.DeepEqual(nums, tc.want) {
				t.Fatalf("releases %v, want %v", nums, tc.want)
			}
		})
	}

	// An empty diff reads back as an empty list.
	bare := rel("bare", true, 1)
	bare.Diff = nil
	if _, err := db.AppendReleases(ctx, []catalog.Release{bare}); err != nil {
		t.Fatal(err)
	}
	if r, err := db.GetRelease(ctx, "bare", 1); err != nil || r.Diff == nil || len(r.Diff) != 0 {
		t.Fatalf("release without a diff: %#v, %v", r.Diff, err)
	}
	if _, err := db.AppendReleases(ctx, []catalog.Release{{Service: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a release without a definition: %v, want ErrInvalid", err)
	}
}

// releasesConcurrent appends releases of one service from many writers at
// once: every release gets its own number, with no gap.
func releasesConcurrent(t *testing.T, db *store.DB) {
	const writers = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		nums []int
		errs []error
	)
	for i := range writers {
		wg.Go(func() {
			r := catalog.Release{Service: "busy", Published: true, Author: fmt.Sprintf("node-%d", i), Definition: []byte(`{"name":"orders"}`)}
			var out []catalog.Release
			var err error
			if i%2 == 0 {
				out, err = db.AppendReleases(t.Context(), []catalog.Release{r})
			} else {
				_, out, err = db.AppendRevisionReleases(t.Context(), store.Revision{Author: r.Author, Config: []byte(`{}`)}, []catalog.Release{r})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			nums = append(nums, out[0].Number)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d appends failed, first: %v", len(errs), errs[0])
	}
	sort.Ints(nums)
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("release numbers %v: want 1 to %d, each once", nums, writers)
		}
	}
}

// drafts checks services' drafts: one per service, replaced by the next,
// deleted once.
func drafts(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, err := db.GetDraft(ctx, "orders"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDraft of none: %v, want ErrNotFound", err)
	}
	d := catalog.Draft{Service: "orders", Team: "payments", Base: 2, Author: "user:ana@example.com", UpdatedAt: base,
		Definition: []byte(`{"name":"orders","kind":"rest"}`)}
	put, err := db.PutDraft(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	want := d
	want.UpdatedAt = stored(base)
	if !reflect.DeepEqual(put, want) {
		t.Fatalf("PutDraft returned %+v, want %+v", put, want)
	}
	if got, err := db.GetDraft(ctx, "orders"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetDraft = %+v, %v; want %+v", got, err, want)
	}
	// The next draft replaces it.
	d2 := catalog.Draft{Service: "orders", Team: "search", Base: 3, Author: "token:ci", Definition: []byte(`{"name":"orders","kind":"ai"}`)}
	if _, err := db.PutDraft(ctx, d2); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetDraft(ctx, "orders")
	if err != nil || got.Team != "search" || got.Base != 3 || got.Author != "token:ci" || string(got.Definition) != string(d2.Definition) || got.UpdatedAt.IsZero() {
		t.Fatalf("GetDraft after a replacement = %+v, %v", got, err)
	}
	if _, err := db.PutDraft(ctx, catalog.Draft{Service: "orders"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a draft without a definition: %v, want ErrInvalid", err)
	}
	if err := db.DeleteDraft(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDraft(ctx, "orders"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting a deleted draft: %v, want ErrNotFound", err)
	}
	if _, err := db.GetDraft(ctx, "orders"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDraft after delete: %v, want ErrNotFound", err)
	}
}
