package alert

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The ports an email notifier's server is reached on when its URL names
// none: message submission with STARTTLS (RFC 6409) for smtp://, and
// submission over implicit TLS (RFC 8314) for smtps://.
const (
	SMTPPort  = "587"
	SMTPSPort = "465"
)

// emailTime is how times read in an e-mail's body.
const emailTime = "2006-01-02 15:04:05 MST"

// EmailSubject is the subject of n's e-mail: the status, the worst
// severity when firing, the rule, and the group's labels or how many
// groups there are, so that an inbox list tells notifications apart.
func EmailSubject(n Notification) string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(n.Status))
	if s := worstSeverity(n.Alerts); n.Status == StatusFiring && s != SeverityNone {
		b.WriteString(":" + string(s))
	}
	b.WriteString("] " + n.Rule)
	switch {
	case len(n.Alerts) > 1:
		fmt.Fprintf(&b, " (%d groups)", len(n.Alerts))
	case len(n.Alerts) == 1 && len(n.Alerts[0].Labels) > 0:
		b.WriteString(": " + labelsText(n.Alerts[0].Labels))
	}
	return b.String()
}

// EmailText renders n as the plain-text body of an e-mail: what the
// webhook payload carries, one paragraph per group with its link to the
// matching calls. Lines end with \n; EmailMessage turns them into CRLF.
func EmailText(n Notification) string {
	var b strings.Builder
	if n.Status == StatusResolved {
		fmt.Fprintf(&b, "%s has resolved.\n", n.Rule)
	} else {
		b.WriteString(n.Rule + " is firing")
		if s := worstSeverity(n.Alerts); s != SeverityNone {
			fmt.Fprintf(&b, " (%s)", s)
		}
		b.WriteString(".\n")
	}
	if n.Description != "" {
		b.WriteString(n.Description + "\n")
	}
	fmt.Fprintf(&b, "\nCondition: %s %s %s over %s\n", n.Metric, n.Operator, thresholdText(n.Threshold), n.Window)
	fmt.Fprintf(&b, "Time:      %s\n", n.Time.UTC().Format(emailTime))
	for _, a := range n.Alerts {
		b.WriteString("\n")
		if len(a.Labels) == 0 {
			b.WriteString("All calls\n")
		} else {
			b.WriteString(labelsText(a.Labels) + "\n")
		}
		fmt.Fprintf(&b, "  State:     %s\n", a.State)
		if a.Severity != SeverityNone {
			fmt.Fprintf(&b, "  Severity:  %s\n", a.Severity)
		}
		v := "no data"
		if a.Value != nil {
			v = strconv.FormatFloat(*a.Value, 'g', 4, 64)
		}
		fmt.Fprintf(&b, "  Value:     %s\n", v)
		if n.Status == StatusFiring && !a.Since.IsZero() {
			fmt.Fprintf(&b, "  Since:     %s\n", a.Since.UTC().Format(emailTime))
		}
		fmt.Fprintf(&b, "  Calls:     %s\n", a.CallsURL)
	}
	// "-- " is the conventional signature separator, which mail readers
	// dim or fold.
	fmt.Fprintf(&b, "\n-- \nHypergate alert notification %s\n", n.ID)
	return b.String()
}

// EmailMessage renders n as an RFC 5322 message from from to the to
// addresses: a text/plain UTF-8 body in quoted-printable, so that no line
// outgrows SMTP's limit however long a calls link is. The Date is the
// notification's time and the Message-ID is derived from its id, so every
// retry sends the same message and receivers can drop duplicates.
func EmailMessage(from string, to []string, n Notification) ([]byte, error) {
	sender, rcpts, err := emailAddresses(from, to)
	if err != nil {
		return nil, err
	}
	domain := sender.Address[strings.LastIndexByte(sender.Address, '@')+1:]
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("Date", n.Time.Format(time.RFC1123Z))
	header("From", sender.String())
	header("To", addressList(len("To: "), rcpts))
	header("Subject", mime.QEncoding.Encode("utf-8", EmailSubject(n)))
	header("Message-ID", "<"+n.ID+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: keeps vacation responders from answering an alert.
	header("Auto-Submitted", "auto-generated")
	header(EventHeader, "alert."+n.Status)
	header(DeliveryHeader, n.ID)
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write([]byte(EmailText(n))); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// emailAddresses parses a notifier's sender and recipients.
func emailAddresses(from string, to []string) (*mail.Address, []*mail.Address, error) {
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, nil, fmt.Errorf("from address: %w", err)
	}
	if len(to) == 0 {
		return nil, nil, errors.New("no recipients")
	}
	rcpts := make([]*mail.Address, 0, len(to))
	for _, s := range to {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("to address: %w", err)
		}
		rcpts = append(rcpts, a)
	}
	return sender, rcpts, nil
}

// addressList joins addresses for a header, folding lines before they
// pass 78 characters; col is where the list starts on the first line.
func addressList(col int, as []*mail.Address) string {
	var b strings.Builder
	for i, a := range as {
		s := a.String()
		if i > 0 {
			b.WriteByte(',')
			col++
			if col+1+len(s) > 78 {
				b.WriteString("\r\n")
				col = 0
			}
			b.WriteByte(' ')
			col++
		}
		b.WriteString(s)
		col += len(s)
	}
	return b.String()
}

// worstSeverity is the highest severity among alerts.
func worstSeverity(alerts []Notice) Severity {
	worst := SeverityNone
	for _, a := range alerts {
		if a.Severity == SeverityCritical {
			return SeverityCritical
		}
		if a.Severity == SeverityWarning {
			worst = SeverityWarning
		}
	}
	return worst
}

// sendEmail delivers one message over SMTP within ctx. The connection is
// encrypted before anything but the greeting and EHLO crosses it (TLS
// from the start for smtps://, STARTTLS for smtp://), unless the server
// is on a loopback address, such as a local relay, and offers no
// STARTTLS. 5xx replies are returned as permanent errors; a recipient
// refused with one is skipped as long as another accepts the message.
func (s *Sender) sendEmail(ctx context.Context, t Target, msg []byte) error {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return permanentError{fmt.Errorf("mail server address %q is not an smtp:// or smtps:// URL", t.URL)}
	}
	sender, rcpts, err := emailAddresses(t.From, t.To)
	if err != nil {
		return permanentError{err}
	}
	host, implicitTLS := u.Hostname(), u.Scheme == "smtps"
	port := SMTPPort
	if implicitTLS {
		port = SMTPSPort
	}
	addr := net.JoinHostPort(host, cmp.Or(u.Port(), port))
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.o.TLSConfig != nil {
		tlsConf = s.o.TLSConfig.Clone()
	}
	tlsConf.ServerName = host

	var conn net.Conn
	if implicitTLS {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline bounds every exchange, and
	// cancelling ctx (the Sender shutting down) expires it at once.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpError("greeting", err)
	}
	defer c.Close()
	if !implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return smtpError("STARTTLS", err)
			}
		} else if !isLoopback(conn.RemoteAddr()) {
			return permanentError{fmt.Errorf("%s offers no STARTTLS: refusing to send in clear (use smtps:// for a server that speaks TLS from the start)", addr)}
		}
	}
	if t.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return permanentError{fmt.Errorf("%s offers no AUTH, but the notifier has a username", addr)}
		}
		if err := c.Auth(smtp.PlainAuth("", t.Username, string(t.Secret), host)); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := c.Mail(sender.Address); err != nil {
		return smtpError("MAIL FROM", err)
	}
	var accepted int
	var refused []error
	for _, r := range rcpts {
		err := c.Rcpt(r.Address)
		var perm permanentError
		switch {
		case err == nil:
			accepted++
		case errors.As(smtpError("RCPT TO "+r.Address, err), &perm):
			refused = append(refused, perm.err)
		default:
			return smtpError("RCPT TO "+r.Address, err)
		}
	}
	if accepted == 0 {
		return permanentError{errors.Join(refused...)}
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of DATA", err)
	}
	for _, err := range refused {
		s.log.Error("alert e-mail recipient refused", "notifier", t.Name, "err", err)
	}
	// The server took the message with its reply to DATA; a failed QUIT
	// changes nothing about that.
	_ = c.Quit()
	return nil
}

// smtpError names the step that failed and marks 5xx replies, permanent
// negative completions in RFC 5321's terms, as not worth retrying.
func smtpError(step string, err error) error {
	err = fmt.Errorf("SMTP %s: %w", step, err)
	if te, ok := errors.AsType[*textproto.Error](err); ok && te.Code >= 500 && te.Code <= 599 {
		return permanentError{err}
	}
	return err
}

// isLoopback reports whether a is a loopback address.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
