package app_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRESTServerSentEvents(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	a.release = make(chan struct{})
	e.apply(restConfig(e, []string{"feed"}, fmt.Sprintf(`
  - name: feed
    upstream: { timeout: 10s, targets: [ { url: "%s" } ] }
    routes: [ { path: /feed } ]
`, a.URL())))
	req, _ := http.NewRequest("GET", e.data+"/feed/events", nil)
	req.Header.Set("Authorization", "Bearer "+shopKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended waiting for %s", what)
			}
			return l
		case <-time.After(3 * time.Second):
			t.Fatalf("%s did not arrive: the gateway holds back what the upstream flushed", what)
			return ""
		}
	}
	// The upstream writes its second event only once the first has reached
	// the client: had the gateway buffered, the first would never come.
	if l := next("the first event"); l != "data: one" {
		t.Fatalf("first line %q", l)
	}
	close(a.release)
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if got := strings.Join(rest, "\n"); got != "\nevent: last\ndata: two\n" && got != "\nevent: last\ndata: two" {
		t.Fatalf("rest of the stream %q", got)
	}
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.Status != 200 || rec.ResponseBytes != int64(len("data: one\n\nevent: last\ndata: two\n\n")) {
		t.Fatalf("record: status %d, %d response bytes", rec.Status, rec.ResponseBytes)
	}
}

func TestRESTWebSocket(t *testing.T) {
	e := start(t)
	a := newRESTTarget(t, "a")
	e.apply(restConfig(e, []string{"chat"}, fmt.Sprintf(`
  - name: chat
    upstream: { targets: [ { url: "%s" } ] }
    routes: [ { path: /chat, strip_prefix: true } ]
`, a.URL())))
	addr := strings.TrimPrefix(e.data, "http://")
	conn, br, resp := wsDial(t, addr, "/chat/ws", shopKey)
	if resp.StatusCode != 101 {
		t.Fatalf("handshake: %d, want 101", resp.StatusCode)
	}
	if resp.Header.Get("X-Upstream") != "a" || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("101 headers %v; want the upstream's and a request id", resp.Header)
	}
	for _, msg := range []string{"hello", strings.Repeat("x", 300)} {
		if err := writeFrame(conn, 1, []byte(msg), true); err != nil {
			t.Fatal(err)
		}
		op, p, err := readFrame(br)
		if err != nil || op != 1 || string(p) != "a:"+msg {
			t.Fatalf("echo of %.10q: op %d %.12q %v", msg, op, p, err)
		}
	}
	_ = writeFrame(conn, 8, nil, true)
	conn.Close()
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.Status != 101 || rec.ResponseBytes == 0 || rec.Consumer != "shop" || rec.Service != "chat" {
		t.Fatalf("record: status %d, %d response bytes, consumer %q, service %q", rec.Status, rec.ResponseBytes, rec.Consumer, rec.Service)
	}

	// An upgrade the upstream does not take comes back as its answer.
	_, _, resp = wsDial(t, addr, "/chat/not-a-socket", shopKey)
	if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "a" {
		t.Fatalf("refused upgrade: %d %v; want the upstream's 200", resp.StatusCode, resp.Header)
	}
	// And an unauthenticated one never reaches it.
	_, _, resp = wsDial(t, addr, "/chat/ws", "hg-wrong-key-0123456789")
	if resp.StatusCode != 401 {
		t.Fatalf("wrong key: %d, want 401", resp.StatusCode)
	}
}
