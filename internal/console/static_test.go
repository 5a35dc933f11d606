package console

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestStaticCaching(t *testing.T) {
	h := staticHandler()
	v := assetVersions["console.css"]
	for _, c := range []struct {
		name, url, ifNoneMatch string
		status                 int
		cache                  string
	}{
		{"current version: cached for good", assetURL("console.css"), "", 200, "public, max-age=31536000, immutable"},
		{"no version: revalidated", "/static/console.css", "", 200, "no-cache"},
		{"an old version: revalidated", "/static/console.css?v=000000000000", "", 200, "no-cache"},
		{"revalidation of the same file", "/static/console.css", `"` + v + `"`, 304, "no-cache"},
		{"revalidation of a changed file", "/static/console.css", `"000000000000"`, 200, "no-cache"},
		{"not a file", "/static/nothing.css", "", 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", c.url, nil)
			if c.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", c.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status || rec.Header().Get("Cache-Control") != c.cache {
				t.Errorf("%s: %d %q, want %d %q", c.url, rec.Code, rec.Header().Get("Cache-Control"), c.status, c.cache)
			}
		})
	}
}

// TestTemplatesNameEmbeddedAssets keeps templates from linking a static
// file that is not embedded (the link would 404 and go unversioned).
func TestTemplatesNameEmbeddedAssets(t *testing.T) {
	named := regexp.MustCompile(`asset "([^"]+)"`)
	unversioned := regexp.MustCompile(`(href|src)="[^"]*/static/`)
	for _, fsys := range []fs.FS{templateFS, portalFS} {
		err := fs.WalkDir(fsys, "templates", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			for _, m := range named.FindAllStringSubmatch(string(b), -1) {
				if _, ok := assetVersions[m[1]]; !ok {
					t.Errorf("%s links %q, which is not in static/", p, m[1])
				}
			}
			if unversioned.Match(b) {
				t.Errorf("%s links a static file without {{asset}}", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
