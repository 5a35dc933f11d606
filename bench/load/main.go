// Command load is the benchmark harness's load generator. It sends OpenAI
// chat-completion requests to one loopback URL, either in a closed loop (a
// fixed number of connections, each sending back to back: peak throughput) or
// in an open loop (a constant rate whatever the responses: latency at a given
// load, measured from the scheduled send time so that coordinated omission
// does not hide queueing). With -stream it asks for SSE streams and also
// measures the time to the first event.
//
// Each run prints one JSON line on stdout, for scripts, and one human line on
// stderr. -check sends a single request and shows the answer; -wait polls a
// URL until it answers 200.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Bodies sent unless -body says otherwise.
const (
	chatBody   = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`
	streamBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"stream":true,"stream_options":{"include_usage":true}}`
)

// options describe one run.
type options struct {
	label       string
	url         string
	key         string
	body        []byte
	stream      bool
	conns       int
	rate        float64
	maxInflight int
	duration    time.Duration
	timeout     time.Duration
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("load: ")

	var o options
	var body string
	flag.StringVar(&o.label, "label", "", "name of the target, copied into the JSON line")
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9100/v1/chat/completions", "loopback URL to send requests to")
	flag.StringVar(&o.key, "key", os.Getenv("KEY"), "bearer token sent in Authorization (default $KEY)")
	flag.StringVar(&body, "body", "", "request body (default: a small chat request, with stream:true under -stream)")
	flag.BoolVar(&o.stream, "stream", false, "request SSE streams and measure the time to the first event")
	flag.IntVar(&o.conns, "conns", 64, "closed loop: connections, each sending back to back")
	flag.Float64Var(&o.rate, "rate", 0, "open loop: requests per second, sent on schedule whatever the responses (0: closed loop)")
	flag.IntVar(&o.maxInflight, "max-inflight", 512, "open loop: most requests outstanding at once")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send requests")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout (whole stream under -stream)")
	check := flag.Bool("check", false, "send one request, print the answer and exit non-zero unless it is 2xx")
	wait := flag.String("wait", "", "poll this loopback URL with GET until it answers 200, then exit")
	waitTimeout := flag.Duration("wait-timeout", 30*time.Second, "how long -wait polls before giving up")
	flag.Parse()

	o.body = []byte(body)
	if body == "" {
		o.body = []byte(chatBody)
		if o.stream {
			o.body = []byte(streamBody)
		}
	}

	var err error
	switch {
	case *wait != "":
		err = waitReady(*wait, *waitTimeout)
	case *check:
		err = checkOnce(o)
	default:
		err = runAndReport(o)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func (o options) validate() error {
	if err := loopbackOnly(o.url); err != nil {
		return err
	}
	switch {
	case o.duration <= 0:
		return errors.New("-duration must be positive")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.rate < 0:
		return errors.New("-rate must not be negative")
	case o.rate == 0 && o.conns < 1:
		return errors.New("-conns must be at least 1")
	case o.rate > 0 && o.maxInflight < 1:
		return errors.New("-max-inflight must be at least 1")
	}
	return nil
}

// loopbackOnly refuses any target but this machine: the harness is a load
// generator, and a typo must not aim it at someone else's server.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%q: only http:// URLs are supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q: refusing a target that is not a loopback address", raw)
}

// hostAddr returns host:port for a URL, with the default port filled in.
func hostAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

func runAndReport(o options) error {
	if err := o.validate(); err != nil {
		return err
	}
	res, err := run(o)
	if err != nil {
		return err
	}
	line, err := res.jsonLine()
	if err != nil {
		return err
	}
	fmt.Println(line)
	fmt.Fprintln(os.Stderr, res.human())
	return nil
}

// run performs one closed- or open-loop run.
func run(o options) (*result, error) {
	newDoer, closeIdle, err := doerFor(o)
	if err != nil {
		return nil, err
	}
	defer closeIdle()
	if o.rate > 0 {
		return openLoop(o, newDoer)
	}
	return closedLoop(o, newDoer), nil
}

// doerFor picks the client: fasthttp for plain requests, where the client's
// own cost matters at peak rates, and net/http for streams, whose reader
// hands over each chunk as soon as it arrives.
func doerFor(o options) (func() doer, func(), error) {
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing %q: %w", o.url, err)
	}
	conns := o.conns
	if o.rate > 0 {
		conns = o.maxInflight
	}
	if o.stream {
		c := newStreamClient(conns, o.timeout)
		return func() doer { return newStreamDoer(c, o) }, c.CloseIdleConnections, nil
	}
	c := newFastClient(hostAddr(u), conns, o.timeout)
	return func() doer { return newFastDoer(c, o) }, c.CloseIdleConnections, nil
}

// truncate shortens s for a log line.
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
