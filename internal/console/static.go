package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
)

// assetVersions are the first hex digits of the SHA-256 of each embedded
// static file. Pages link to /static/NAME?v=VERSION, which may then be
// cached for good: a new binary with a changed file links to a new URL, so
// a browser never keeps an old stylesheet after an upgrade and never asks
// twice for the same one before.
var assetVersions = func() map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path.Base(p)] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic(err) // embedded files: a build defect every test catches
	}
	return out
}()

// assetURL is the versioned URL of a static file, for templates.
func assetURL(name string) string {
	v, ok := assetVersions[name]
	if !ok {
		// A template naming a file that is not embedded is a defect the
		// page tests catch: the link answers 404.
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + v
}

// staticHandler serves the embedded static files under /static/ (after
// the caller strips any prefix before it). A request carrying the file's
// current version is cacheable for a year; any other is revalidated by
// ETag.
func staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(mustSub(staticFS, "static")))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := assetVersions[path.Base(r.URL.Path)]
		if ok {
			w.Header().Set("ETag", `"`+v+`"`)
			if r.URL.Query().Get("v") == v {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
		}
		files.ServeHTTP(w, r)
	})
}
