package alert_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// smtpMessage is one message an smtpServer accepted.
type smtpMessage struct {
	From string
	To   []string
	Data []byte
	// TLS says whether the session was encrypted; Auth is the AUTH PLAIN
	// identity, user and password separated by NULs.
	TLS  bool
	Auth string
}

// smtpServer is a mail server on a local address, speaking as much of
// RFC 5321 (with STARTTLS and AUTH PLAIN) as net/smtp uses, that records
// the messages it accepts and can be told to answer some commands with
// scripted replies.
type smtpServer struct {
	t        *testing.T
	ln       net.Listener
	tls      *tls.Config // offers STARTTLS when set and not implicit
	implicit bool        // TLS from the first byte (smtps)

	mu       sync.Mutex
	script   map[string][]string // verb → replies to give before the normal ones
	msgs     []smtpMessage
	commands []string
}

// testCert returns a certificate for 127.0.0.1 and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.TLS.Certificates[0], pool
}

// newSMTPServer starts a server on addr (127.0.0.1:0 for any port).
func newSMTPServer(t *testing.T, addr string, cert *tls.Certificate, implicit bool) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{t: t, ln: ln, implicit: implicit, script: map[string][]string{}}
	if cert != nil {
		s.tls = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	if implicit {
		s.ln = tls.NewListener(ln, s.tls)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { s.ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

// URL is the notifier URL of the server.
func (s *smtpServer) URL() string {
	if s.implicit {
		return "smtps://" + s.ln.Addr().String()
	}
	return "smtp://" + s.ln.Addr().String()
}

// answer queues replies to the next uses of verb.
func (s *smtpServer) answer(verb string, replies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[verb] = append(s.script[verb], replies...)
}

func (s *smtpServer) scripted(verb string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, verb)
	if r := s.script[verb]; len(r) > 0 {
		s.script[verb] = r[1:]
		return r[0]
	}
	return ""
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

func (s *smtpServer) verbs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

func (s *smtpServer) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			if err := tp.PrintfLine("%s", l); err != nil {
				return
			}
		}
	}
	reply("220 127.0.0.1 ESMTP test")
	_, encrypted := c.(*tls.Conn)
	var auth string
	var cur smtpMessage
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if r := s.scripted(verb); r != "" {
			reply(r)
			continue
		}
		switch verb {
		case "EHLO", "HELO":
			lines := []string{"250-127.0.0.1 greets " + arg}
			if s.tls != nil && !encrypted {
				lines = append(lines, "250-STARTTLS")
			}
			reply(append(lines, "250-AUTH PLAIN", "250 8BITMIME")...)
		case "STARTTLS":
			if s.tls == nil || encrypted {
				reply("502 5.5.1 not now")
				continue
			}
			reply("220 2.0.0 ready")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, encrypted = tc, textproto.NewConn(tc), true
			auth, cur = "", smtpMessage{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if mech != "PLAIN" {
				reply("504 5.5.4 unknown mechanism")
				continue
			}
			if resp == "" {
				reply("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				reply("501 5.5.2 bad base64")
				continue
			}
			auth = string(b)
			reply("235 2.7.0 authenticated")
		case "MAIL":
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ")
			cur = smtpMessage{From: strings.Trim(from, "<>")}
			reply("250 2.1.0 ok")
		case "RCPT":
			cur.To = append(cur.To, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data, cur.TLS, cur.Auth = data, encrypted, auth
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			cur = smtpMessage{}
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// lockedBuffer collects a logger's output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const smtpPassword = "pw-Zq8s!never-shown"

// sendEmails sends ns to target through a Sender and waits for the
// outcome; it returns the Sender's counters and log.
func sendEmails(t *testing.T, o alert.SenderOptions, target alert.Target, ns ...alert.Notification) (alert.SenderStats, string) {
	t.Helper()
	var logs lockedBuffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	o.Backoff, o.MaxBackoff = time.Millisecond, 2*time.Millisecond
	o.Attempts = cmpOr(o.Attempts, 3)
	s := alert.NewSender(o)
	for _, n := range ns {
		s.Send(target, n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s.Close(ctx)
	out := logs.String()
	if strings.Contains(out, smtpPassword) {
		t.Errorf("the log shows the password:\n%s", out)
	}
	return s.Stats(), out
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// parseEmail parses a received message and decodes its body.
func parseEmail(t *testing.T, data []byte) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, data)
	}
	if got := m.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding %q", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m, string(body)
}

func TestEmailDelivery(t *testing.T) {
	cert, pool := testCert(t)
	firing, resolved := sampleNotifications()
	tests := []struct {
		name     string
		cert     bool // the server has a certificate: STARTTLS, or TLS when implicit
		implicit bool
		username string
		wantTLS  bool
	}{
		{name: "starttls with auth", cert: true, username: "alerts", wantTLS: true},
		{name: "implicit tls with auth", cert: true, implicit: true, username: "alerts", wantTLS: true},
		{name: "loopback relay in clear", wantTLS: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *tls.Certificate
			if tt.cert {
				c = &cert
			}
			srv := newSMTPServer(t, "127.0.0.1:0", c, tt.implicit)
			target := alert.Target{Name: "mail", Type: config.NotifierEmail, URL: srv.URL(),
				From: "Hypergate <alerts@example.com>", To: []string{"oncall@example.com", "Ops Team <ops@example.com>"},
				Username: tt.username}
			if tt.username != "" {
				target.Secret = []byte(smtpPassword)
			}
			stats, logs := sendEmails(t, alert.SenderOptions{TLSConfig: &tls.Config{RootCAs: pool}, Workers: 1}, target, firing, resolved)
			if stats.Delivered != 2 || stats.Failed != 0 || stats.Retries != 0 {
				t.Fatalf("stats %+v, want 2 delivered at the first attempt; log:\n%s", stats, logs)
			}
			msgs := srv.messages()
			if len(msgs) != 2 {
				t.Fatalf("server got %d messages, want 2", len(msgs))
			}
			for _, m := range msgs {
				if m.TLS != tt.wantTLS {
					t.Errorf("TLS = %v, want %v", m.TLS, tt.wantTLS)
				}
				if m.From != "alerts@example.com" || !slices.Equal(m.To, []string{"oncall@example.com", "ops@example.com"}) {
					t.Errorf("envelope from %q to %q", m.From, m.To)
				}
				wantAuth := ""
				if tt.username != "" {
					wantAuth = "\x00alerts\x00" + smtpPassword
				}
				if m.Auth != wantAuth {
					t.Errorf("AUTH PLAIN got %q, want %q", m.Auth, wantAuth)
				}
			}

			// Workers: 1 delivers in order.
			m, body := parseEmail(t, msgs[0].Data)
			for k, want := range map[string]string{
				"From":               `"Hypergate" <alerts@example.com>`,
				"To":                 `<oncall@example.com>, "Ops Team" <ops@example.com>`,
				"Subject":            "[FIRING:critical] errors-high (2 groups)",
				"Message-Id":         "<alnt_1@example.com>",
				"Mime-Version":       "1.0",
				"Content-Type":       "text/plain; charset=utf-8",
				"Auto-Submitted":     "auto-generated",
				alert.EventHeader:    "alert.firing",
				alert.DeliveryHeader: "alnt_1",
			} {
				if got := m.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if d, err := m.Header.Date(); err != nil || !d.Equal(firing.Time) {
				t.Errorf("Date %v (%v), want %v", d, err, firing.Time)
			}
			for _, want := range []string{"errors-high is firing (critical).", "Too many failed calls",
				"Condition: error_rate > warning 0.05 / critical 0.2 over 5m",
				"consumer=web-shop\n  State:     firing\n  Severity:  critical\n  Value:     0.31",
				"Calls:     /admin/v1/calls?consumer=web-shop&model=gpt-4o-mini",
				"Calls:     /admin/v1/calls?consumer=mobile&model=gpt-4o-mini"} {
				if !strings.Contains(body, want) {
					t.Errorf("firing body lacks %q:\n%s", want, body)
				}
			}

			m, body = parseEmail(t, msgs[1].Data)
			if got := m.Header.Get("Subject"); got != "[RESOLVED] errors-high: consumer=web-shop" {
				t.Errorf("resolved Subject %q", got)
			}
			if got := m.Header.Get(alert.EventHeader); got != "alert.resolved" {
				t.Errorf("resolved %s: %q", alert.EventHeader, got)
			}
			if !strings.Contains(body, "errors-high has resolved.") || !strings.Contains(body, "State:     resolved") ||
				strings.Contains(body, "mobile") {
				t.Errorf("resolved body:\n%s", body)
			}
		})
	}
}

func TestEmailReplies(t *testing.T) {
	firing, _ := sampleNotifications()
	tests := []struct {
		name      string
		verb      string
		replies   []string
		to        []string
		want      alert.SenderStats
		wantMsgs  int
		wantTo    []string
		wantInLog string
	}{
		{name: "transient MAIL reply is retried", verb: "MAIL", replies: []string{"451 4.3.0 try again later"},
			want: alert.SenderStats{Delivered: 1, Retries: 1}, wantMsgs: 1, wantInLog: "4.3.0 try again later"},
		{name: "transient end of DATA reply is retried", verb: "DATA", replies: []string{"452 4.3.1 out of space"},
			want: alert.SenderStats{Delivered: 1, Retries: 1}, wantMsgs: 1, wantInLog: "4.3.1 out of space"},
		{name: "permanent RCPT reply fails at once", verb: "RCPT", replies: []string{"550 5.1.1 no such user"},
			want: alert.SenderStats{Failed: 1}, wantInLog: "SMTP RCPT TO oncall@example.com: 550"},
		{name: "permanent MAIL reply fails at once", verb: "MAIL", replies: []string{"554 5.7.1 rejected"},
			want: alert.SenderStats{Failed: 1}, wantInLog: "not retried"},
		{name: "refused credentials fail at once", verb: "AUTH", replies: []string{"535 5.7.8 bad credentials"},
			want: alert.SenderStats{Failed: 1}, wantInLog: "SMTP AUTH: 535"},
		{name: "one refused recipient of two", verb: "RCPT", replies: []string{"550 5.1.1 no such user"},
			to:   []string{"gone@example.com", "oncall@example.com"},
			want: alert.SenderStats{Delivered: 1}, wantMsgs: 1, wantTo: []string{"oncall@example.com"},
			wantInLog: "recipient refused"},
		{name: "transient replies until attempts run out", verb: "MAIL", replies: []string{"421 4.7.0 busy", "421 4.7.0 busy", "421 4.7.0 busy"},
			want: alert.SenderStats{Failed: 1, Retries: 2}, wantInLog: "gave up after 3 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSMTPServer(t, "127.0.0.1:0", nil, false)
			srv.answer(tt.verb, tt.replies...)
			to := cmpOrSlice(tt.to, []string{"oncall@example.com"})
			target := alert.Target{Name: "mail", Type: config.NotifierEmail, URL: srv.URL(), From: "alerts@example.com",
				To: to, Username: "alerts", Secret: []byte(smtpPassword)}
			stats, logs := sendEmails(t, alert.SenderOptions{}, target, firing)
			if stats != tt.want {
				t.Errorf("stats %+v, want %+v; log:\n%s", stats, tt.want, logs)
			}
			if !strings.Contains(logs, tt.wantInLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantInLog, logs)
			}
			msgs := srv.messages()
			if len(msgs) != tt.wantMsgs {
				t.Fatalf("server got %d messages, want %d", len(msgs), tt.wantMsgs)
			}
			if tt.wantTo != nil && !slices.Equal(msgs[0].To, tt.wantTo) {
				t.Errorf("delivered to %q, want %q", msgs[0].To, tt.wantTo)
			}
		})
	}
}

func cmpOrSlice(a, b []string) []string {
	if a != nil {
		return a
	}
	return b
}

// TestEmailRequiresTLSOffLoopback checks that a server elsewhere than on
// loopback that offers no STARTTLS is not sent the message, nor the
// password.
func TestEmailRequiresTLSOffLoopback(t *testing.T) {
	var ip net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("no non-loopback IPv4 address to listen on")
	}
	srv := newSMTPServer(t, net.JoinHostPort(ip.String(), "0"), nil, false)
	firing, _ := sampleNotifications()
	target := alert.Target{Name: "mail", Type: config.NotifierEmail, URL: srv.URL(), From: "alerts@example.com",
		To: []string{"oncall@example.com"}, Username: "alerts", Secret: []byte(smtpPassword)}
	stats, logs := sendEmails(t, alert.SenderOptions{}, target, firing)
	if stats != (alert.SenderStats{Failed: 1}) || !strings.Contains(logs, "offers no STARTTLS") {
		t.Errorf("stats %+v, log:\n%s", stats, logs)
	}
	if v := srv.verbs(); slices.Contains(v, "AUTH") || slices.Contains(v, "MAIL") {
		t.Errorf("the client went on in clear: %q", v)
	}
}

// TestEmailTimeout checks that a server that never answers costs one
// attempt's timeout, not a stuck worker.
func TestEmailTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accepted, never greeted
			mu.Unlock()
		}
	}()
	firing, _ := sampleNotifications()
	target := alert.Target{Name: "mail", Type: config.NotifierEmail, URL: "smtp://" + ln.Addr().String(),
		From: "alerts@example.com", To: []string{"oncall@example.com"}}
	start := time.Now()
	stats, logs := sendEmails(t, alert.SenderOptions{Attempts: 2, Timeout: 100 * time.Millisecond}, target, firing)
	if stats != (alert.SenderStats{Failed: 1, Retries: 1}) || !strings.Contains(logs, "timeout") {
		t.Errorf("stats %+v, log:\n%s", stats, logs)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestEmailGolden(t *testing.T) {
	firing, resolved := sampleNotifications()
	checkGolden(t, "email_firing.golden.txt", []byte(alert.EmailText(firing)))
	checkGolden(t, "email_resolved.golden.txt", []byte(alert.EmailText(resolved)))
	msg, err := alert.EmailMessage("Hypergate <alerts@example.com>", []string{"oncall@example.com", "Ops Team <ops@example.com>"}, firing)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "email_firing.golden.eml", msg)
}

func TestEmailMessageHeaders(t *testing.T) {
	firing, _ := sampleNotifications()
	t.Run("non-ASCII subject is Q-encoded", func(t *testing.T) {
		n := firing
		n.Alerts = []alert.Notice{firing.Alerts[0]}
		n.Alerts[0].Labels = map[string]string{"consumer": "bücher-shop"}
		msg, err := alert.EmailMessage("Hypergate Wächter <alerts@example.com>", []string{"oncall@example.com"}, n)
		if err != nil {
			t.Fatal(err)
		}
		m, body := parseEmail(t, msg)
		raw := m.Header.Get("Subject")
		if !strings.HasPrefix(raw, "=?utf-8?q?") {
			t.Errorf("raw Subject %q is not an encoded word", raw)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(raw)
		if err != nil || got != "[FIRING:critical] errors-high: consumer=bücher-shop" {
			t.Errorf("Subject decodes to %q (%v)", got, err)
		}
		from, err := mail.ParseAddress(m.Header.Get("From"))
		if err != nil || from.Name != "Hypergate Wächter" {
			t.Errorf("From %q: %+v %v", m.Header.Get("From"), from, err)
		}
		if !strings.Contains(body, "consumer=bücher-shop") {
			t.Errorf("body:\n%s", body)
		}
	})
	t.Run("many recipients fold the To header", func(t *testing.T) {
		var to []string
		for _, c := range "abcdefghijkl" {
			to = append(to, "someone-"+string(c)+"@example.com")
		}
		msg, err := alert.EmailMessage("alerts@example.com", to, firing)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
		for _, l := range strings.Split(string(head), "\r\n") {
			if len(l) > 78 {
				t.Errorf("header line of %d characters: %q", len(l), l)
			}
		}
		m, _ := parseEmail(t, msg)
		list, err := m.Header.AddressList("To")
		if err != nil || len(list) != len(to) {
			t.Errorf("To parses to %d addresses (%v), want %d", len(list), err, len(to))
		}
	})
	t.Run("bad address", func(t *testing.T) {
		if _, err := alert.EmailMessage("alerts", []string{"oncall@example.com"}, firing); err == nil {
			t.Error("no error for a From without a domain")
		}
		if _, err := alert.EmailMessage("alerts@example.com", nil, firing); err == nil {
			t.Error("no error without recipients")
		}
	})
}

// TestEmailNotifierEndToEnd fires a rule whose notifier is an email one,
// configured as in a configuration file.
func TestEmailNotifierEndToEnd(t *testing.T) {
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "hg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := newSMTPServer(t, "127.0.0.1:0", nil, false)
	t.Setenv("ALERT_TEST_SMTP_PASSWORD", smtpPassword)
	sender := alert.NewSender(alert.SenderOptions{Backoff: time.Millisecond, Attempts: 2})
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)}
	ev := alert.New(alert.Options{Reader: db, Store: db, Sender: sender, Now: c.Now, CallsURL: "https://gw.example.com/admin/v1/calls"})
	rule := errorRule()
	rule.For, rule.Notify = 0, []string{"mail"}
	cfg := &config.Config{
		Notifiers: []config.Notifier{{Name: "mail", Type: config.NotifierEmail, URL: srv.URL(), From: "alerts@example.com",
			To: []string{"oncall@example.com"}, Username: "alerts", Secret: "env:ALERT_TEST_SMTP_PASSWORD"}},
		Alerts: []config.Alert{rule},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := ev.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	var recs []calllog.Record
	for i := range 10 {
		recs = append(recs, calllog.Record{ID: "c" + string(rune('a'+i)), Time: c.Now(), Consumer: "web-shop",
			Model: "gpt-4o-mini", Provider: "openai-main", Status: 500, LatencyUS: 1000})
	}
	if err := db.InsertCallsAndRollups(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if err := ev.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	sender.Close(t.Context())
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	if msgs[0].Auth != "\x00alerts\x00"+smtpPassword || !slices.Equal(msgs[0].To, []string{"oncall@example.com"}) {
		t.Errorf("auth %q, to %q", msgs[0].Auth, msgs[0].To)
	}
	m, body := parseEmail(t, msgs[0].Data)
	if got := m.Header.Get("Subject"); got != "[FIRING:critical] errors-high: consumer=web-shop" {
		t.Errorf("Subject %q", got)
	}
	if !strings.Contains(body, "Calls:     https://gw.example.com/admin/v1/calls?") {
		t.Errorf("body lacks the calls link:\n%s", body)
	}
}
