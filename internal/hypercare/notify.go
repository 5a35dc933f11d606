package hypercare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

// StoredReport is a daily report as kept by the store: one per window and
// day.
type StoredReport struct {
	Window string `json:"window"`
	// Day is the report's date (UTC), YYYY-MM-DD.
	Day       string    `json:"day"`
	At        time.Time `json:"at"`
	CreatedAt time.Time `json:"created_at"`
	State     State     `json:"state"`
	// Ready and ReadySince are the exit criteria's standing in the report.
	Ready      bool       `json:"ready"`
	ReadySince *time.Time `json:"ready_since,omitempty"`
	Summary    string     `json:"summary"`
	Report     *Report    `json:"report"`
}

// Stored makes the stored form of r, made at created.
func Stored(r *Report, created time.Time) StoredReport {
	s := StoredReport{Window: r.Window, Day: r.At.UTC().Format("2006-01-02"), At: r.At, CreatedAt: created.UTC(),
		State: r.State, Summary: r.Summary, Report: r}
	if r.Exit != nil {
		s.Ready, s.ReadySince = r.Exit.Ready, r.Exit.Since
	}
	return s
}

// Notifier is a resolved webhook or slack notifier a report is sent to.
type Notifier struct {
	Name, Type, URL string
	Secret          []byte
}

// ResolveNotifiers resolves the secrets of the configuration's webhook and
// slack notifiers, by name; one whose secret does not resolve is left out
// with an error.
func ResolveNotifiers(c *config.Config) (map[string]Notifier, error) {
	out := map[string]Notifier{}
	var errs []string
	for _, n := range c.Notifiers {
		if n.Type != config.NotifierWebhook && n.Type != config.NotifierSlack {
			continue
		}
		t := Notifier{Name: n.Name, Type: n.Type, URL: n.URL}
		if n.Secret != "" {
			s, err := config.ResolveSecret(n.Secret)
			if err != nil {
				errs = append(errs, fmt.Sprintf("notifier %s: %v", n.Name, err))
				continue
			}
			t.Secret = []byte(s)
		}
		out[n.Name] = t
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// EventReport is the X-Hypergate-Event of a report sent to a webhook.
const EventReport = "hypercare.report"

// SlackText is the short text a slack notifier gets: the window, the
// summary and where to read the whole report.
func SlackText(r *Report, reportURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[HYPERCARE] %s (%s) as of %s\n%s", r.Window, r.Target, r.At.Format(timeFormat), r.Summary)
	for _, m := range r.Metrics {
		if m.Verdict == Regressed || m.Verdict == Improved {
			b.WriteString("\n• " + m.Text)
		}
	}
	if reportURL != "" {
		fmt.Fprintf(&b, "\n<%s|full report>", reportURL)
	}
	return b.String()
}

// Send delivers r to n: a webhook gets the JSON report, signed as alert
// webhooks are (internal/webhook); a slack notifier gets SlackText. It
// tries up to attempts times, doubling a one-second wait between tries.
func Send(ctx context.Context, client *http.Client, n Notifier, r *Report, reportURL string, attempts int) error {
	var body []byte
	var err error
	if n.Type == config.NotifierSlack {
		body, err = json.Marshal(map[string]string{"text": SlackText(r, reportURL)})
	} else {
		body, err = json.Marshal(r)
	}
	if err != nil {
		return fmt.Errorf("encoding report for %s: %w", n.Name, err)
	}
	id := "hcr_" + r.Window + "_" + r.At.UTC().Format("20060102T1504")
	wait := time.Second
	for attempt := 1; ; attempt++ {
		err = post(ctx, client, n, id, body)
		if err == nil || attempt >= attempts {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sending report to %s: %w", n.Name, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("sending report to %s: %w", n.Name, err)
	}
	return nil
}

func post(ctx context.Context, client *http.Client, n Notifier, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hypergate-hypercare")
	if n.Type == config.NotifierWebhook {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(webhook.TimestampHeader, ts)
		req.Header.Set("X-Hypergate-Event", EventReport)
		req.Header.Set("X-Hypergate-Delivery", id)
		if len(n.Secret) > 0 {
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(n.Secret, ts, body))
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
