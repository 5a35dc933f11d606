package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// outcome is what one request came to.
type outcome struct {
	status int
	// firstEvent is when the first SSE data line had arrived (streams only).
	firstEvent time.Time
	err        error
	// detail is a short excerpt of a non-2xx answer, for the report.
	detail string
}

// doer sends the run's request once and waits for the whole answer. Each
// worker owns one, so a doer may keep per-request state between calls.
type doer interface {
	do() outcome
}

func newFastClient(addr string, conns int, timeout time.Duration) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:     addr,
		Name:     "hypergate-bench-load",
		MaxConns: conns,
		// Wait for a connection rather than fail: in an open loop the wait is
		// part of the latency that is being measured.
		MaxConnWaitTimeout:  timeout,
		ReadTimeout:         timeout,
		WriteTimeout:        timeout,
		MaxIdleConnDuration: time.Minute,
		MaxResponseBodySize: 16 << 20,
		// Reusing the most recently used connection keeps the set of busy
		// connections as small as the load allows; FIFO would cycle through
		// every connection ever opened.
		ConnPoolStrategy: fasthttp.LIFO,
	}
}

// fastDoer reuses one request and one response for all its calls, so the
// load generator allocates nothing per request.
type fastDoer struct {
	client  *fasthttp.HostClient
	req     *fasthttp.Request
	resp    *fasthttp.Response
	timeout time.Duration
}

func newFastDoer(c *fasthttp.HostClient, o options) *fastDoer {
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(o.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	req.SetBody(o.body)
	return &fastDoer{client: c, req: req, resp: fasthttp.AcquireResponse(), timeout: o.timeout}
}

func (d *fastDoer) do() outcome {
	if err := d.client.DoTimeout(d.req, d.resp, d.timeout); err != nil {
		return outcome{err: err}
	}
	out := outcome{status: d.resp.StatusCode()}
	if !is2xx(out.status) {
		out.detail = truncate(string(d.resp.Body()), 200)
	} else if len(d.resp.Body()) == 0 {
		out.err = errors.New("empty response body")
	}
	return out
}

func newStreamClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
			MaxIdleConns:          conns,
			MaxIdleConnsPerHost:   conns,
			MaxConnsPerHost:       conns,
			IdleConnTimeout:       time.Minute,
			ResponseHeaderTimeout: timeout,
			DisableCompression:    true,
			ForceAttemptHTTP2:     false,
		},
	}
}

// streamDoer reads an SSE answer line by line: the first data line marks the
// time to first event, and the stream must end with data: [DONE] to count as
// a success.
type streamDoer struct {
	client *http.Client
	url    string
	key    string
	body   []byte
	br     *bufio.Reader
}

func newStreamDoer(c *http.Client, o options) *streamDoer {
	return &streamDoer{client: c, url: o.url, key: o.key, body: o.body, br: bufio.NewReaderSize(nil, 64<<10)}
}

var (
	dataPrefix = []byte("data:")
	doneLine   = []byte("data: [DONE]")
)

func (d *streamDoer) do() outcome {
	req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if d.key != "" {
		req.Header.Set("Authorization", "Bearer "+d.key)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	out := outcome{status: resp.StatusCode}
	if !is2xx(resp.StatusCode) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		out.detail = truncate(string(b), 200)
		return out
	}
	d.br.Reset(resp.Body)
	done := false
	for {
		line, err := d.br.ReadSlice('\n')
		if out.firstEvent.IsZero() && bytes.HasPrefix(line, dataPrefix) && err == nil {
			out.firstEvent = time.Now()
		}
		if bytes.HasPrefix(line, doneLine) {
			done = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.err = fmt.Errorf("reading stream: %w", err)
			return out
		}
	}
	if !done {
		out.err = errors.New("stream ended without data: [DONE]")
	}
	return out
}

func is2xx(status int) bool { return status >= 200 && status < 300 }
