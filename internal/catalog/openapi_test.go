package catalog_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/catalog"
)

const petsJSON = `{"openapi":"3.1.0","info":{"title":"Pets","version":"1.2.3"},"paths":{}}`

const petsYAML = `# The pet store.
openapi: 3.0.3
info:
  title: Pets
  version: "2024-05-01"
paths:
  /pets:
    get:
      responses:
        "200": {description: ok}
`

func TestParseOpenAPI(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		media     string
		version   string
		title     string
		infoVer   string
		wantError string
	}{
		{name: "json", doc: petsJSON, media: catalog.MediaJSON, version: "3.1.0", title: "Pets", infoVer: "1.2.3"},
		{name: "json with leading space", doc: "\n  " + petsJSON, media: catalog.MediaJSON, version: "3.1.0", title: "Pets", infoVer: "1.2.3"},
		{name: "yaml", doc: petsYAML, media: catalog.MediaYAML, version: "3.0.3", title: "Pets", infoVer: "2024-05-01"},
		{name: "yaml with anchors", doc: "openapi: 3.1.0\ninfo: &i {title: A, version: '1'}\nx-copy: *i\n", media: catalog.MediaYAML, version: "3.1.0", title: "A", infoVer: "1"},
		{name: "two-part version", doc: `{"openapi":"3.1","info":{"title":"T","version":"1"}}`, media: catalog.MediaJSON, version: "3.1", title: "T", infoVer: "1"},
		{name: "empty", doc: "  \n", wantError: "empty"},
		{name: "swagger 2.0", doc: `{"swagger":"2.0","info":{"title":"T","version":"1"}}`, wantError: "no openapi field"},
		{name: "openapi 2", doc: `{"openapi":"2.0","info":{"title":"T","version":"1"}}`, wantError: "want a 3.x version"},
		{name: "openapi number", doc: `{"openapi":3.1,"info":{"title":"T","version":"1"}}`, wantError: "not a string"},
		{name: "no info", doc: `{"openapi":"3.1.0"}`, wantError: "no info object"},
		{name: "info a string", doc: `{"openapi":"3.1.0","info":"x"}`, wantError: "no info object"},
		{name: "no title", doc: `{"openapi":"3.1.0","info":{"version":"1"}}`, wantError: "info.title"},
		{name: "no version", doc: `{"openapi":"3.1.0","info":{"title":"T"}}`, wantError: "info.version"},
		{name: "json truncated", doc: `{"openapi":"3.1.0","info":{"title":"T","version":"1"}`, wantError: "not valid JSON"},
		{name: "json trailing data", doc: petsJSON + `{}`, wantError: "after the top-level object"},
		{name: "yaml list", doc: "- openapi: 3.1.0\n", wantError: "not a mapping"},
		{name: "yaml scalar", doc: "just text\n", wantError: "not a mapping"},
		{name: "yaml broken", doc: "openapi: [3.1.0\n", wantError: "neither JSON nor valid YAML"},
		{name: "two yaml documents", doc: "openapi: 3.1.0\ninfo: {title: T, version: '1'}\n---\nb: 2\n", wantError: "more than one"},
		{name: "not utf-8", doc: "openapi: 3.1.0\ninfo: {title: \xff, version: '1'}\n", wantError: "UTF-8"},
		{name: "too large", doc: `{"openapi":"3.1.0","info":{"title":"T","version":"1"},"x":"` + strings.Repeat("a", catalog.MaxOpenAPIBytes) + `"}`, wantError: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := catalog.ParseOpenAPI([]byte(tt.doc))
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.MediaType != tt.media || d.OpenAPI != tt.version || d.Title != tt.title || d.Version != tt.infoVer ||
				d.Size != len(tt.doc) || len(d.SHA256) != 64 || string(d.Document) != tt.doc {
				t.Fatalf("got %+v", d)
			}
		})
	}
}

// FuzzParseOpenAPI feeds untrusted uploads to the parser: it must never
// panic, and what it accepts must describe itself consistently.
func FuzzParseOpenAPI(f *testing.F) {
	for _, s := range []string{petsJSON, petsYAML, `{"openapi":"3.1.0","info":{}}`, "openapi: 3.1.0\ninfo: *a\n", "{", "- [", "a: &a [*a]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := catalog.ParseOpenAPI(b)
		if err != nil {
			return
		}
		if d.Size != len(b) || d.Title == "" || d.Version == "" || !strings.HasPrefix(d.OpenAPI, "3.") ||
			(d.MediaType != catalog.MediaJSON && d.MediaType != catalog.MediaYAML) {
			t.Fatalf("accepted with inconsistent metadata: %+v", d)
		}
	})
}

func TestFetcher(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/doc", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(petsJSON)) })
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/doc", http.StatusFound) })
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := &catalog.Fetcher{Timeout: 500 * time.Millisecond, MaxBytes: 1024}
	tests := []struct {
		name      string
		url       string
		wantError string
	}{
		{name: "fetched", url: srv.URL + "/doc"},
		{name: "after a redirect", url: srv.URL + "/hop"},
		{name: "ftp", url: "ftp://example.com/openapi.json", wantError: "only http and https"},
		{name: "file", url: "file:///etc/passwd", wantError: "only http and https"},
		{name: "credentials", url: "http://user:pw@example.com/x", wantError: "credentials"},
		{name: "relative", url: "/openapi.json", wantError: "only http and https"},
		{name: "redirect to another scheme", url: srv.URL + "/to-file", wantError: "only http and https are followed"},
		{name: "redirect loop", url: srv.URL + "/loop", wantError: "redirects"},
		{name: "not found", url: srv.URL + "/missing", wantError: "HTTP 404"},
		{name: "too large", url: srv.URL + "/big", wantError: "larger than 1024 bytes"},
		{name: "too slow", url: srv.URL + "/slow", wantError: "deadline exceeded"},
		{name: "cloud metadata address", url: "http://169.254.169.254/latest/meta-data", wantError: "link-local"},
		{name: "unspecified address", url: "http://0.0.0.0:1/x", wantError: "unspecified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := f.Fetch(t.Context(), tt.url)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil || string(b) != petsJSON {
				t.Fatalf("got %q, %v", b, err)
			}
		})
	}
}
