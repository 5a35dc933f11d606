package hypercare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// Send delivers r to n now: a webhook gets the JSON report, signed as
// alert webhooks are (internal/webhook); a slack notifier gets SlackText.
// It tries up to attempts times, with webhook.Post's backoff between
// tries for the failures another try may mend.
func Send(ctx context.Context, client *http.Client, n Notifier, r *Report, reportURL string, attempts int) error {
	m := webhook.Message{URL: n.URL, ID: "hcr_" + r.Window + "_" + r.At.UTC().Format("20060102T1504"),
		Attrs: []any{"notifier", n.Name, "window", r.Window}}
	var err error
	if n.Type == config.NotifierSlack {
		m.Body, err = json.Marshal(map[string]string{"text": SlackText(r, reportURL)})
	} else {
		m.Body, err = json.Marshal(r)
		m.Event, m.Secret = EventReport, n.Secret
	}
	if err != nil {
		return fmt.Errorf("encoding report for %s: %w", n.Name, err)
	}
	if err := webhook.Post(ctx, webhook.Options{Client: client, Attempts: attempts, UserAgent: "hypergate-hypercare"}, m); err != nil {
		return fmt.Errorf("sending report to %s: %w", n.Name, err)
	}
	return nil
}
