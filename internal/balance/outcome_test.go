package balance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/valyala/fasthttp"
)

func TestClassifyStatus(t *testing.T) {
	cases := []struct {
		name   string
		status int
		want   Outcome
	}{
		{"ok", 200, Success},
		{"created", 201, Success},
		{"redirect passed through", 302, Success},
		{"bad request", 400, ClientError},
		{"not found", 404, ClientError},
		{"payload too large", 413, ClientError},
		{"unprocessable", 422, ClientError},
		{"unauthorized: the gateway's key", 401, KeyRejected},
		{"payment required: out of credit", 402, KeyRejected},
		{"forbidden: not entitled", 403, KeyRejected},
		{"request timeout", 408, Timeout},
		{"conflict: transient upstream", 409, ServerError},
		{"too many requests", 429, RateLimited},
		{"internal error", 500, ServerError},
		{"bad gateway", 502, ServerError},
		{"unavailable", 503, ServerError},
		{"gateway timeout is the upstream's own 5xx", 504, ServerError},
		{"anthropic overloaded", 529, ServerError},
		{"no status and no error", 0, ConnectionError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.status, nil); got != tc.want {
				t.Errorf("Classify(%d, nil) = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Outcome
	}{
		{"context canceled", context.Canceled, Canceled},
		{"wrapped cancel", fmt.Errorf("sending: %w", context.Canceled), Canceled},
		{"deadline exceeded", context.DeadlineExceeded, Timeout},
		{"fasthttp timeout", fasthttp.ErrTimeout, Timeout},
		{"fasthttp dial timeout", fasthttp.ErrDialTimeout, Timeout},
		{"fasthttp tls handshake timeout", fasthttp.ErrTLSHandshakeTimeout, Timeout},
		{"wrapped fasthttp timeout", fmt.Errorf("upstream: %w", fasthttp.ErrTimeout), Timeout},
		{"connection timed out", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ETIMEDOUT}, Timeout},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, ConnectionError},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, ConnectionError},
		{"broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, ConnectionError},
		{"dns", &net.DNSError{Err: "no such host", Name: "api.invalid", IsNotFound: true}, ConnectionError},
		{"closed before the first byte", fasthttp.ErrConnectionClosed, ConnectionError},
		{"no free connections", fasthttp.ErrNoFreeConns, ConnectionError},
		{"unexpected eof", io.ErrUnexpectedEOF, ConnectionError},
		{"anything else", errors.New("tls: failed to verify certificate"), ConnectionError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(0, tc.err); got != tc.want {
				t.Errorf("Classify(0, %v) = %v, want %v", tc.err, got, tc.want)
			}
			// An error wins over a status: the answer was not complete.
			if got := Classify(200, tc.err); got != tc.want {
				t.Errorf("Classify(200, %v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// closedAddr returns the address of a port that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentAddr returns the address of a server that accepts connections and
// never answers.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// hangupAddr returns the address of a server that reads the request and
// closes the connection without a word.
func hangupAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096))
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestClassifyRealErrors classifies the errors that real clients return,
// not hand-built ones, so that a change in how net, net/http or fasthttp
// wrap their errors shows up here.
func TestClassifyRealErrors(t *testing.T) {
	fastDo := func(addr string, timeout time.Duration) error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + addr + "/v1/chat/completions")
		req.Header.SetMethod(fasthttp.MethodPost)
		c := &fasthttp.Client{}
		return c.DoTimeout(req, resp, timeout)
	}
	httpDo := func(ctx context.Context, addr string, timeout time.Duration) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{}}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	cases := []struct {
		name string
		do   func(t *testing.T) error
		want Outcome
		is   error // a cause the error must carry, when there is one to check
	}{
		{
			name: "net.Dial to a closed port",
			do: func(t *testing.T) error {
				_, err := net.Dial("tcp", closedAddr(t))
				return err
			},
			want: ConnectionError,
			is:   syscall.ECONNREFUSED,
		},
		{
			name: "fasthttp to a closed port",
			do:   func(t *testing.T) error { return fastDo(closedAddr(t), time.Second) },
			want: ConnectionError,
			is:   syscall.ECONNREFUSED,
		},
		{
			name: "net/http to a closed port",
			do:   func(t *testing.T) error { return httpDo(context.Background(), closedAddr(t), time.Second) },
			want: ConnectionError,
			is:   syscall.ECONNREFUSED,
		},
		{
			name: "fasthttp to a server that hangs up",
			do:   func(t *testing.T) error { return fastDo(hangupAddr(t), time.Second) },
			want: ConnectionError,
		},
		{
			name: "fasthttp timeout",
			do:   func(t *testing.T) error { return fastDo(silentAddr(t), 50*time.Millisecond) },
			want: Timeout,
			is:   fasthttp.ErrTimeout,
		},
		{
			name: "net/http client timeout",
			do:   func(t *testing.T) error { return httpDo(context.Background(), silentAddr(t), 50*time.Millisecond) },
			want: Timeout,
		},
		{
			name: "net/http context deadline",
			do: func(t *testing.T) error {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				return httpDo(ctx, silentAddr(t), 0)
			},
			want: Timeout,
			is:   context.DeadlineExceeded,
		},
		{
			name: "read deadline on a connection",
			do: func(t *testing.T) error {
				c, err := net.Dial("tcp", silentAddr(t))
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				_, err = c.Read(make([]byte, 1))
				return err
			},
			want: Timeout,
		},
		{
			name: "client went away",
			do: func(t *testing.T) error {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				return httpDo(ctx, silentAddr(t), 0)
			},
			want: Canceled,
			is:   context.Canceled,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(t)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v (%T) does not carry %v", err, err, tc.is)
			}
			if got := Classify(0, err); got != tc.want {
				t.Errorf("Classify(%v (%T)) = %v, want %v", err, err, got, tc.want)
			}
		})
	}
}

func TestOutcomeRules(t *testing.T) {
	cases := []struct {
		o                   Outcome
		retryable, fallback bool
	}{
		{Success, false, false},
		{ClientError, false, false},
		{RateLimited, true, true},
		{ServerError, true, true},
		{Timeout, true, true},
		{ConnectionError, true, true},
		{KeyRejected, false, true},
		{Canceled, false, false},
		{Unsupported, false, true},
	}
	if len(cases) != int(numOutcomes) {
		t.Fatalf("%d cases for %d outcomes", len(cases), numOutcomes)
	}
	for _, tc := range cases {
		t.Run(tc.o.String(), func(t *testing.T) {
			if got := tc.o.Retryable(); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v", got, tc.retryable)
			}
			if got := tc.o.Fallback(); got != tc.fallback {
				t.Errorf("Fallback = %v, want %v", got, tc.fallback)
			}
			if got, ok := ParseOutcome(tc.o.String()); !ok || got != tc.o {
				t.Errorf("ParseOutcome(%q) = %v, %v", tc.o.String(), got, ok)
			}
			if !DefaultRetryOn.Has(tc.o) == tc.retryable {
				t.Errorf("DefaultRetryOn.Has = %v, want %v", !tc.retryable, tc.retryable)
			}
		})
	}
	if _, ok := ParseOutcome("teapot"); ok {
		t.Error("ParseOutcome accepted an unknown name")
	}
	if Outcome(200).String() != "unknown" || NewOutcomeSet(Success).Has(Outcome(200)) {
		t.Error("an out-of-range outcome is not handled")
	}
}

// TestConfigNames keeps the configuration's names and balance's in step:
// the gateway turns the one into the other when it compiles a snapshot.
func TestConfigNames(t *testing.T) {
	var set OutcomeSet
	for _, name := range config.RetryConditions() {
		o, ok := ParseOutcome(name)
		if !ok || !o.Retryable() {
			t.Errorf("retry_on %q is not a retryable outcome", name)
		}
		set |= NewOutcomeSet(o)
	}
	if set != DefaultRetryOn {
		t.Errorf("the configuration's default retry_on differs from DefaultRetryOn")
	}
	for _, name := range []string{config.StrategyWeighted, config.StrategyPriority, config.StrategyLatency} {
		if _, ok := ParseStrategy(name); !ok {
			t.Errorf("strategy %q is unknown to balance", name)
		}
	}
	if config.MaxTargets != MaxTargets {
		t.Errorf("config.MaxTargets %d, balance.MaxTargets %d", config.MaxTargets, MaxTargets)
	}
}

func TestUnsupportedMovesOnWithoutBlame(t *testing.T) {
	if !Unsupported.Fallback() || Unsupported.Retryable() {
		t.Fatalf("Unsupported: fallback %v, retryable %v; want true, false", Unsupported.Fallback(), Unsupported.Retryable())
	}
	b := NewBreaker(BreakerConfig{Failures: 1, Cooldown: time.Minute})
	for i := 0; i < 5; i++ {
		p, ok := b.Allow()
		if !ok {
			t.Fatalf("breaker opened after %d unsupported attempts", i)
		}
		p.Done(Unsupported)
	}
	if b.State() != Closed {
		t.Errorf("state = %v, want closed", b.State())
	}
	if o, ok := ParseOutcome("unsupported"); !ok || o != Unsupported {
		t.Errorf("ParseOutcome(unsupported) = %v, %v", o, ok)
	}
}
