package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxOpenAPIBytes bounds a service's OpenAPI document, uploaded or
// imported: large public APIs publish a few megabytes.
const MaxOpenAPIBytes = 4 << 20

// Media types of stored documents: a document is kept as it was written,
// so that its authors find their order and comments again.
const (
	MediaJSON = "application/json"
	MediaYAML = "application/yaml"
)

// OpenAPIDocument is a service's OpenAPI document with what the catalog
// shows of it.
type OpenAPIDocument struct {
	Service   string `json:"service"`
	MediaType string `json:"media_type"`
	// OpenAPI is the document's openapi field, 3.x.y.
	OpenAPI string `json:"openapi"`
	// Title and Version are the document's info.title and info.version.
	Title   string `json:"title"`
	Version string `json:"version"`
	// SourceURL is where the document was imported from; empty when it
	// was uploaded.
	SourceURL string    `json:"source_url,omitempty"`
	SHA256    string    `json:"sha256"`
	Size      int       `json:"size"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Document is the document itself, as uploaded or fetched.
	Document []byte `json:"-"`
}

var openAPIVersionRe = regexp.MustCompile(`^3\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z.-]+)?$`)

// openAPIHead is what ParseOpenAPI reads of a document. Decoding into it
// touches only these members: aliases elsewhere in a YAML document are
// never expanded.
type openAPIHead struct {
	OpenAPI any `json:"openapi" yaml:"openapi"`
	Info    any `json:"info" yaml:"info"`
}

// ParseOpenAPI checks that b is an OpenAPI 3.x document, in JSON or YAML,
// of at most MaxOpenAPIBytes, whose openapi field names a 3.x version and
// whose info has a title and a version; it returns the document's
// metadata with Document set to b. Service, source and times are left to
// the caller.
func ParseOpenAPI(b []byte) (OpenAPIDocument, error) {
	if len(b) > MaxOpenAPIBytes {
		return OpenAPIDocument{}, fmt.Errorf("the document is larger than %d bytes", MaxOpenAPIBytes)
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return OpenAPIDocument{}, errors.New("the document is empty")
	}
	if !utf8.Valid(b) {
		return OpenAPIDocument{}, errors.New("the document is not UTF-8 text")
	}
	var head openAPIHead
	media := MediaYAML
	if trimmed[0] == '{' {
		media = MediaJSON
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&head); err != nil {
			return OpenAPIDocument{}, fmt.Errorf("the document is not valid JSON: %w", err)
		}
		// Decode checks the syntax of the whole first value; nothing may
		// follow it.
		if _, err := dec.Token(); err != io.EOF {
			return OpenAPIDocument{}, errors.New("the document is not valid JSON: text after the top-level object")
		}
	} else {
		var root yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&root); err != nil {
			return OpenAPIDocument{}, fmt.Errorf("the document is neither JSON nor valid YAML: %w", err)
		}
		var more yaml.Node
		if err := dec.Decode(&more); err != io.EOF {
			return OpenAPIDocument{}, errors.New("the document holds more than one YAML document")
		}
		if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
			return OpenAPIDocument{}, errors.New("the document is not a mapping (an OpenAPI document starts with openapi: and info:)")
		}
		if err := root.Decode(&head); err != nil {
			return OpenAPIDocument{}, fmt.Errorf("the document's openapi or info is malformed: %w", err)
		}
	}
	version, ok := head.OpenAPI.(string)
	switch {
	case head.OpenAPI == nil:
		return OpenAPIDocument{}, errors.New("the document has no openapi field: is it an OpenAPI 3 document? (Swagger 2.0 documents are not accepted)")
	case !ok || !openAPIVersionRe.MatchString(version):
		return OpenAPIDocument{}, fmt.Errorf("openapi is %s; want a 3.x version such as \"3.1.0\"", describeValue(head.OpenAPI))
	}
	info, ok := head.Info.(map[string]any)
	if !ok {
		return OpenAPIDocument{}, errors.New("the document has no info object")
	}
	title, _ := info["title"].(string)
	infoVersion, _ := info["version"].(string)
	switch {
	case strings.TrimSpace(title) == "":
		return OpenAPIDocument{}, errors.New("info.title is missing or not a string")
	case strings.TrimSpace(infoVersion) == "":
		return OpenAPIDocument{}, errors.New("info.version is missing or not a string")
	}
	sum := sha256.Sum256(b)
	return OpenAPIDocument{MediaType: media, OpenAPI: version, Title: truncateText(title, 256), Version: truncateText(infoVersion, 64),
		SHA256: hex.EncodeToString(sum[:]), Size: len(b), Document: b}, nil
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", truncateText(s, 32))
	}
	return fmt.Sprintf("a %T, not a string", v)
}

// truncateText cuts s to at most n bytes at a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Fetcher imports OpenAPI documents from URLs: http and https only, every
// redirect too, within a timeout and a size cap, and never from link-local
// addresses, where cloud metadata services answer.
type Fetcher struct {
	// Timeout bounds the whole import (default 10s).
	Timeout time.Duration
	// MaxBytes bounds the document (default MaxOpenAPIBytes).
	MaxBytes int64
	// Client, when set, is used as it is (tests); otherwise one that
	// applies the rules above is built on first use.
	Client *http.Client

	once  sync.Once
	built *http.Client
}

// maxRedirects bounds the redirects an import follows.
const maxRedirects = 5

// CheckFetchURL checks that raw is an absolute http or https URL without
// credentials.
func CheckFetchURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("invalid URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("only http and https URLs can be imported, not %q", u.Scheme)
	case u.Host == "":
		return nil, errors.New("the URL has no host")
	case u.User != nil:
		return nil, errors.New("the URL must not contain credentials")
	}
	return u, nil
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	f.once.Do(func() { f.built = newImportClient() })
	return f.built
}

func newImportClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: refuseLinkLocal}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConns:          4,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: importRedirect,
	}
}

// importRedirect follows at most maxRedirects redirects, each to http or
// https.
func importRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirected to a %q URL: only http and https are followed", req.URL.Scheme)
	}
	if req.URL.User != nil {
		return errors.New("redirected to a URL with credentials")
	}
	return nil
}

// refuseLinkLocal stops connections to link-local, multicast and
// unspecified addresses, checked after name resolution so that a name
// pointing there is refused too. Loopback and private addresses stay
// allowed: services commonly publish their documents on internal hosts.
func refuseLinkLocal(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("refusing to connect to %s: not an IP address", host)
	}
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return fmt.Errorf("refusing to connect to %s: link-local, multicast and unspecified addresses are not fetched from", ip)
	}
	return nil
}

// Fetch GETs raw and returns the body, or an error that says why not: a
// URL that is not http or https, a redirect elsewhere, a status other
// than 200, a body over the size cap, the timeout.
func (f *Fetcher) Fetch(ctx context.Context, raw string) ([]byte, error) {
	u, err := CheckFetchURL(raw)
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = MaxOpenAPIBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, application/x-yaml;q=0.9, text/yaml;q=0.8, */*;q=0.1")
	req.Header.Set("User-Agent", "Hypergate-OpenAPI-Import/1")
	resp, err := f.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known to the caller; keep the cause
		}
		return nil, fmt.Errorf("fetching the document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the document: the server answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("the document is larger than %d bytes", limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the document is larger than %d bytes", limit)
	}
	return b, nil
}
