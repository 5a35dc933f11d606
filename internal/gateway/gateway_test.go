package gateway

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	_ "github.com/hypergate/hypergate/internal/provider/openai"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		op    string
		body  string
		param string // "" = valid
	}{
		{"valid chat", "chat", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, ""},
		{"valid stream", "chat", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, ""},
		{"stream null is allowed", "chat", `{"model":"m","stream":null,"messages":[{}]}`, ""},
		{"leading whitespace", "chat", " \n\t{\"model\":\"m\",\"messages\":[{}]}", ""},
		{"empty body", "chat", ``, "-"},
		{"whitespace only", "chat", "  \n", "-"},
		{"truncated JSON", "chat", `{"model":"m"`, "-"},
		{"array", "chat", `[{"model":"m"}]`, "-"},
		{"string", "chat", `"hello"`, "-"},
		{"trailing garbage", "chat", `{"model":"m","messages":[{}]} x`, "-"},
		{"missing model", "chat", `{"messages":[{}]}`, "model"},
		{"model is a number", "chat", `{"model":4,"messages":[{}]}`, "model"},
		{"empty model", "chat", `{"model":"","messages":[{}]}`, "model"},
		{"stream is a string", "chat", `{"model":"m","stream":"true","messages":[{}]}`, "stream"},
		{"messages missing", "chat", `{"model":"m"}`, "messages"},
		{"messages not an array", "chat", `{"model":"m","messages":"hi"}`, "messages"},
		{"messages empty", "chat", `{"model":"m","messages":[]}`, "messages"},
		{"valid embeddings", "embeddings", `{"model":"m","input":"x"}`, ""},
		{"embeddings input null", "embeddings", `{"model":"m","input":null}`, "input"},
		{"embeddings input missing", "embeddings", `{"model":"m"}`, "input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := opChat
			if tc.op == "embeddings" {
				op = opEmbeddings
			}
			_, e := parseRequest([]byte(tc.body), op, openaiInbound)
			switch {
			case tc.param == "" && e != nil:
				t.Errorf("rejected: %v", e)
			case tc.param != "" && e == nil:
				t.Error("accepted")
			case tc.param != "" && tc.param != "-" && e.Param != tc.param:
				t.Errorf("param = %q, want %q (%s)", e.Param, tc.param, e.Message)
			case e != nil && e.Status != 400:
				t.Errorf("status = %d", e.Status)
			}
		})
	}
}

func TestParseRequestFields(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       request
	}{
		{"plain", `{"model":"m","messages":[{}]}`, request{model: "m"}},
		{"stream", `{"model":"m","stream":true,"messages":[{}]}`, request{model: "m", stream: true}},
		{"stream with usage", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{}]}`, request{model: "m", stream: true, includeUsage: true}},
		{"usage off", `{"model":"m","stream":true,"stream_options":{"include_usage":false},"messages":[{}]}`, request{model: "m", stream: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, e := parseRequest([]byte(tc.body), opChat, openaiInbound)
			if e != nil || got != tc.want {
				t.Errorf("parseRequest = %+v, %v; want %+v", got, e, tc.want)
			}
		})
	}
}

func TestTraceparent(t *testing.T) {
	for _, tc := range []struct {
		name, tp string
		ok       bool
	}{
		{"valid", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"upper-case hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
		{"other version", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"too short", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", false},
		{"header injection", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7\r\n1", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validTraceparent([]byte(tc.tp)); got != tc.ok {
				t.Errorf("validTraceparent = %v, want %v", got, tc.ok)
			}
			if id := traceID([]byte(tc.tp)); (id != "") != tc.ok {
				t.Errorf("traceID = %q", id)
			}
		})
	}
}

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{"uuid", "0190a6c2-5a4e-7cc2-9a56-3e0d5d1f2a11", true},
		{"safe punctuation", "a.b_c-d:e", true},
		{"128 chars", strings.Repeat("x", 128), true},
		{"129 chars", strings.Repeat("x", 129), false},
		{"empty", "", false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"slash", "a/b", false},
		{"unicode", "ä", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validRequestID([]byte(tc.id)); got != tc.ok {
				t.Errorf("validRequestID(%q) = %v, want %v", tc.id, got, tc.ok)
			}
		})
	}
}

// records collects call records in memory for assertions.
type records struct {
	mu   sync.Mutex
	recs []calllog.Record
}

func (r *records) Record(rec calllog.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *records) last() calllog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recs) == 0 {
		return calllog.Record{}
	}
	return r.recs[len(r.recs)-1]
}

// serve starts a gateway in front of a fake upstream on loopback.
func serve(t testing.TB, upstream string) (addr string, recs *records) {
	t.Helper()
	if s, ok := t.(interface{ Setenv(string, string) }); ok {
		s.Setenv("GW_TEST_KEY", "hg-gateway-test-key-0123456789abcdefghijklm")
	} else {
		os.Setenv("GW_TEST_KEY", "hg-gateway-test-key-0123456789abcdefghijklm")
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: fake, type: openai, base_url: %q, timeout: 2s } ]
models:
  - { name: gpt-4o-mini, targets: [ { provider: fake } ] }
  - { name: broken-stream, targets: [ { provider: fake } ] }
  - { name: error-429, targets: [ { provider: fake } ] }
consumers: [ { name: c, keys: [ { name: k, key: env:GW_TEST_KEY } ] } ]
`, upstream)))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Compile(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	recs = &records{}
	g := New(Options{Recorder: recs, MaxRequestBody: 64 << 10})
	g.SetSnapshot(snap)
	srv := g.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String(), recs
}

// TestStreamTranscripts compares what a client receives for streamed calls
// with golden transcripts: the upstream's bytes, event for event, with only
// the usage chunk removed when the gateway asked for it on the client's behalf.
func TestStreamTranscripts(t *testing.T) {
	up := openaifake.New(openaifake.Options{})
	defer up.Close()
	addr, recs := serve(t, up.BaseURL())
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"stream_include_usage", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`, 200},
		{"stream_usage_stripped", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`, 200},
		{"stream_upstream_broke_off", `{"model":"broken-stream","stream":true,"messages":[{"role":"user","content":"x"}]}`, 200},
		{"stream_upstream_429", `{"model":"error-429","stream":true,"messages":[{"role":"user","content":"x"}]}`, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer hg-gateway-test-key-0123456789abcdefghijklm")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, got)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("transcript differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
			deadline := time.Now().Add(2 * time.Second)
			for recs.last().ID != resp.Header.Get("X-Request-Id") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if rec := recs.last(); rec.ID != resp.Header.Get("X-Request-Id") || rec.Status != tc.status {
				t.Errorf("record = %+v", rec)
			}
		})
	}
}

// FuzzHandle feeds arbitrary bodies and headers through the whole handler:
// no input may crash the process, and every answer carries a request id and
// a JSON body.
func FuzzHandle(f *testing.F) {
	up := openaifake.New(openaifake.Options{})
	defer up.Close()
	_, _ = serve(f, up.BaseURL()) // for the env var; requests below go through Handle directly
	cfg, _ := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: fake, type: openai, base_url: %q, timeout: 2s } ]
models: [ { name: gpt-4o-mini, targets: [ { provider: fake, model: upstream-name } ] } ]
consumers: [ { name: c, keys: [ { name: k, key: env:GW_TEST_KEY } ] } ]
`, up.BaseURL())))
	snap, err := Compile(cfg, 1)
	if err != nil {
		f.Fatal(err)
	}
	g := New(Options{Recorder: &records{}})
	g.SetSnapshot(snap)
	for _, s := range []struct{ path, auth, body string }{
		{"/v1/chat/completions", "Bearer hg-gateway-test-key-0123456789abcdefghijklm", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`},
		{"/v1/chat/completions", "Bearer hg-gateway-test-key-0123456789abcdefghijklm", `{"model":"gpt-4o-mini","stream":true,"messages":[{}]}`},
		{"/v1/embeddings", "Bearer hg-gateway-test-key-0123456789abcdefghijklm", `{"model":"gpt-4o-mini","input":["a"]}`},
		{"/v1/feedback", "Bearer hg-gateway-test-key-0123456789abcdefghijklm", `{"request_id":"x","value":true}`},
		{"/v1/models", "bearer x", ``},
		{"/v1/chat/completions", "", `{"model":`},
	} {
		f.Add(s.path, s.auth, s.body)
	}
	f.Fuzz(func(t *testing.T, path, authz, body string) {
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI(path)
		req.Header.Set("Authorization", authz)
		req.SetBodyString(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, nil)
		g.Handle(&ctx)
		if len(ctx.Response.Header.Peek("X-Request-Id")) == 0 {
			t.Fatal("no X-Request-Id")
		}
		if st := ctx.Response.StatusCode(); st == 0 || st >= 600 {
			t.Fatalf("status %d", st)
		}
		if ctx.IsBodyStream() {
			// A stream is written by the server after Handle; drain it here.
			var buf bytes.Buffer
			_ = ctx.Response.BodyWriteTo(&buf)
		}
	})
}

func TestCompoundKeysAreRedactedPartByPart(t *testing.T) {
	t.Setenv("GW_COMPOUND_KEY", "AKIDEXAMPLE123:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	cfg, err := config.Parse([]byte(`
providers: [ { name: aws, type: openai, base_url: "http://127.0.0.1:1/v1", api_key: env:GW_COMPOUND_KEY } ]
`))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Compile(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, s := range snap.Secrets() {
		found[s] = true
	}
	for _, want := range []string{"AKIDEXAMPLE123:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIDEXAMPLE123"} {
		if !found[want] {
			t.Errorf("secret %q is not among those redacted", want[:8])
		}
	}
}
