package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hypergate/hypergate/internal/app"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
	"github.com/hypergate/hypergate/internal/store/storetest"
)

// Secrets used by every scenario. They are long and distinctive so that a
// leak anywhere is found by a plain substring search.
const (
	upstreamKey = "sk-upstream-SECRET-0123456789abcdefghij"
	shopKey     = "hg-shop-key-0123456789abcdefghijklmnopqrstuvw"
	otherKey    = "hg-other-key-0123456789abcdefghijklmnopqrstuv"
	adminToken  = "hga-test-admin-token-0123456789"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// backend is a store the end-to-end tests run on.
type backend struct {
	name string
	opt  func(t *testing.T) func(*app.Settings)
}

// backends are SQLite always, and PostgreSQL when HYPERGATE_TEST_POSTGRES
// names a server (in CI it must: storetest.PostgresServer fails the test).
var backends = []backend{
	{"sqlite", func(*testing.T) func(*app.Settings) { return func(*app.Settings) {} }},
	{"postgres", func(t *testing.T) func(*app.Settings) {
		dsn := storetest.FreshPostgres(t, storetest.PostgresServer(t))
		return func(s *app.Settings) { s.DatabaseURL = dsn }
	}},
}

// env is one gateway under test with its fake upstream.
type env struct {
	t        *testing.T
	app      *app.App
	up       *openaifake.Server
	dataDir  string
	data     string // http://host:port of the data plane
	admin    string // http://host:port of the admin API
	logs     *syncBuffer
	stopped  bool
	settings app.Settings
}

const baseConfig = `
providers:
  - name: fake
    type: openai
    base_url: %s
    api_key: env:TEST_UPSTREAM_KEY
    timeout: 20s
  - name: nowhere
    type: openai
    base_url: http://127.0.0.1:1/v1
models:
  - name: gpt-4o-mini
    targets: [ { provider: fake, model: gpt-4o-mini-2024-07-18 } ]
  - name: embed
    targets: [ { provider: fake, model: text-embedding-3-small } ]
  - name: secret-model
    targets: [ { provider: fake } ]
  - { name: error-400, targets: [ { provider: fake } ] }
  - { name: error-429, targets: [ { provider: fake } ] }
  - { name: error-500, targets: [ { provider: fake } ] }
  - { name: error-html, targets: [ { provider: fake } ] }
  - { name: echo-secret, targets: [ { provider: fake } ] }
  - { name: slow, targets: [ { provider: fake } ], timeout: 1s }
  - { name: hang-stream, targets: [ { provider: fake } ], timeout: 10s }
  - { name: broken-stream, targets: [ { provider: fake } ] }
  - { name: unreachable, targets: [ { provider: nowhere } ] }
consumers:
  - name: shop
    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]
  - name: other
    keys: [ { name: default, key: env:TEST_OTHER_KEY } ]
    models: [gpt-4o-mini]
`

// start runs a gateway on SQLite in a temporary directory with the base
// configuration and a fake upstream.
func start(t *testing.T, opts ...func(*app.Settings)) *env {
	t.Helper()
	return startWith(t, openaifake.Options{}, opts...)
}

// startWith is start with a fake upstream configured by fo.
func startWith(t *testing.T, fo openaifake.Options, opts ...func(*app.Settings)) *env {
	t.Helper()
	if fo.SlowDelay == 0 {
		fo.SlowDelay = 3 * time.Second
	}
	up := openaifake.New(fo)
	t.Cleanup(up.Close)
	dir := t.TempDir()
	t.Setenv("TEST_UPSTREAM_KEY", upstreamKey)
	t.Setenv("TEST_SHOP_KEY", shopKey)
	t.Setenv("TEST_OTHER_KEY", otherKey)
	cfgPath := filepath.Join(dir, "hypergate.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(baseConfig, up.BaseURL())), 0o600); err != nil {
		t.Fatal(err)
	}
	s := app.Settings{
		DataDir:        filepath.Join(dir, "data"),
		Listen:         "127.0.0.1:0",
		AdminListen:    "127.0.0.1:0",
		ConfigFile:     cfgPath,
		AdminToken:     adminToken,
		MaxRequestBody: 1 << 20,
		ShutdownGrace:  5 * time.Second,
	}
	for _, o := range opts {
		o(&s)
	}
	e := &env{t: t, up: up, dataDir: s.DataDir, logs: &syncBuffer{}, settings: s}
	e.boot()
	t.Cleanup(e.stop)
	return e
}

func (e *env) boot() {
	e.t.Helper()
	a, err := app.New(context.Background(), e.settings, e.logs, io.Discard)
	if err != nil {
		e.t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	e.app, e.stopped = a, false
	e.data = "http://" + a.DataAddr()
	e.admin = "http://" + a.AdminAddr()
}

// stop shuts the gateway down, flushing every record.
func (e *env) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.app.Shutdown(ctx); err != nil {
		e.t.Errorf("Shutdown: %v", err)
	}
}

// sdk returns an official OpenAI client pointed at the gateway.
func (e *env) sdk(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(e.data+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

// do sends a raw request to the data plane.
func (e *env) do(method, path, key string, body string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.data+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// adminDo calls the admin API and decodes JSON into out (when non-nil).
func (e *env) adminDo(method, path, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.admin+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// call waits until the record of a request is in the store and returns it.
func (e *env) call(id string) calllog.Record {
	e.t.Helper()
	// Generous: after a burst (the canary test sends 10,000 calls) records
	// may sit in the spill file until the writer replays them, and the
	// suite runs on two shared cores under -race.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, err := e.app.Store().GetCall(context.Background(), id)
		if err == nil {
			return rec
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("call %s never reached the store: %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`
