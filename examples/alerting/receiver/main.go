// Command receiver is a webhook receiver for Hypergate's alert
// notifications: it checks each request's signature and prints the
// notification. It is the receiving end of the alerting walkthrough in the
// README ("Alerting in ten minutes") and reference code for verifying
// Hypergate's signed webhooks; it uses the standard library only, so it can
// be copied as it is.
//
// Hypergate signs every webhook it sends. X-Hypergate-Timestamp holds the
// unix seconds of the attempt and X-Hypergate-Signature holds
// "sha256=" followed by the hex HMAC-SHA256, under the notifier's secret,
// of the timestamp, a dot and the raw body. A receiver recomputes that
// value over the bytes it received (before any JSON decoding), compares in
// constant time, and refuses a timestamp too far from its own clock, so
// that a captured request cannot be replayed later. Retries of one
// notification carry the same X-Hypergate-Delivery id and a fresh
// timestamp; the receiver acknowledges a repeat without acting on it twice.
//
//	HOOK_SECRET=... go run ./examples/alerting/receiver -addr 127.0.0.1:9200
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The headers of a Hypergate webhook.
const (
	SignatureHeader = "X-Hypergate-Signature" // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
	TimestampHeader = "X-Hypergate-Timestamp" // unix seconds of the attempt
	DeliveryHeader  = "X-Hypergate-Delivery"  // the same on every attempt of one notification
	EventHeader     = "X-Hypergate-Event"     // alert.firing or alert.resolved
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock. Hypergate stamps each attempt as it sends it, so only
// clock skew and transit separate the two; five minutes absorbs skew while
// keeping the replay window short.
const DefaultTolerance = 5 * time.Minute

// maxBody bounds what is read from a request: notifications are a few
// kilobytes, and an unauthenticated sender must not make us buffer more.
const maxBody = 1 << 20

// The reasons Verify refuses a request.
var (
	ErrNoSignature  = errors.New("missing " + SignatureHeader + " or " + TimestampHeader)
	ErrBadTimestamp = errors.New("malformed " + TimestampHeader + ": want unix seconds")
	ErrStale        = errors.New("timestamp outside the tolerance: a replay or a skewed clock")
	ErrBadSignature = errors.New("signature does not match the body and timestamp")
)

// Sign returns the X-Hypergate-Signature value of body sent at timestamp
// (unix seconds, as written in the header) under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks that signature is body's signature at timestamp under
// secret and that timestamp is within tolerance of now. The signature is
// compared in constant time, so a forger learns nothing from how long a
// refusal takes; it is checked before the timestamp, so only the secret's
// holder learns that a request was refused as stale.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if timestamp == "" || signature == "" {
		return ErrNoSignature
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w (%s off)", ErrStale, d.Round(time.Second))
	}
	return nil
}

// Notification is the part of an alert notification this receiver shows.
// The full body is described in the README's "Alerts" section.
type Notification struct {
	ID        string `json:"id"`
	Status    string `json:"status"` // firing or resolved
	Rule      string `json:"rule"`
	Metric    string `json:"metric"`
	Operator  string `json:"operator"`
	Threshold struct {
		Warning  *float64 `json:"warning"`
		Critical *float64 `json:"critical"`
	} `json:"threshold"`
	Window string    `json:"window"`
	Time   time.Time `json:"time"`
	Alerts []struct {
		Labels   map[string]string `json:"labels"`
		State    string            `json:"state"`
		Severity string            `json:"severity"`
		Value    *float64          `json:"value"`
		Since    time.Time         `json:"since"`
		CallsURL string            `json:"calls_url"`
	} `json:"alerts"`
}

// Receiver verifies notifications and writes each one once to Out.
type Receiver struct {
	Secret    []byte
	Tolerance time.Duration    // DefaultTolerance when 0
	Now       func() time.Time // time.Now when nil
	Out       io.Writer

	mu   sync.Mutex
	seen map[string]time.Time // delivery id → when first received
}

// ServeHTTP answers 204 to a verified notification (also to a repeat of
// one already shown, so that the sender stops retrying), 401 to a request
// that fails verification and 400 to a body that is not a notification.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now
	if rc.Now != nil {
		now = rc.Now
	}
	tol := rc.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	if err := Verify(rc.Secret, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, now(), tol); err != nil {
		log.Printf("refused a request from %s: %v", r.RemoteAddr, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, "decoding notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	if rc.firstTime(r.Header.Get(DeliveryHeader), now(), tol) {
		rc.mu.Lock()
		fmt.Fprint(rc.Out, Format(n))
		rc.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// firstTime records a delivery id and reports whether it is new. Ids older
// than the tolerance are forgotten: a request that old is refused as stale
// anyway, so the set stays small.
func (rc *Receiver) firstTime(id string, now time.Time, tol time.Duration) bool {
	if id == "" {
		return true
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen == nil {
		rc.seen = map[string]time.Time{}
	}
	for k, t := range rc.seen {
		if now.Sub(t) > 2*tol {
			delete(rc.seen, k)
		}
	}
	if _, ok := rc.seen[id]; ok {
		return false
	}
	rc.seen[id] = now
	return true
}

// Format renders a notification as a few lines of text: the status and
// rule, then one line per group with its labels, severity, value and the
// link to its calls.
func Format(n Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: %s %s", n.Time.Local().Format("15:04:05"), strings.ToUpper(n.Status), n.Rule, n.Metric, n.Operator)
	if t := n.Threshold.Warning; t != nil {
		fmt.Fprintf(&b, " %g (warning)", *t)
	}
	if t := n.Threshold.Critical; t != nil {
		fmt.Fprintf(&b, " %g (critical)", *t)
	}
	fmt.Fprintf(&b, " over %s\n", n.Window)
	for _, a := range n.Alerts {
		keys := make([]string, 0, len(a.Labels))
		for k := range a.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		labels := make([]string, len(keys))
		for i, k := range keys {
			labels[i] = k + "=" + a.Labels[k]
		}
		group := strings.Join(labels, ",")
		if group == "" {
			group = "(all calls)"
		}
		value := "no data"
		if a.Value != nil {
			value = strconv.FormatFloat(*a.Value, 'g', 4, 64)
		}
		sev := ""
		if a.Severity != "" {
			sev = " " + a.Severity
		}
		fmt.Fprintf(&b, "  %s%s value=%s since %s\n    calls: %s\n", group, sev, value, a.Since.Local().Format("15:04:05"), a.CallsURL)
	}
	return b.String()
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("receiver: ")
	addr := flag.String("addr", "127.0.0.1:9200", "address to listen on")
	path := flag.String("path", "/hook", "path notifications are POSTed to (the notifier's url)")
	secretEnv := flag.String("secret-env", "HOOK_SECRET", "environment variable holding the notifier's secret")
	flag.Parse()

	secret := os.Getenv(*secretEnv)
	if secret == "" {
		log.Fatalf("%s is empty: set it to the secret of the notifier (the same variable the gateway reads)", *secretEnv)
	}
	mux := http.NewServeMux()
	mux.Handle(*path, &Receiver{Secret: []byte(secret), Out: os.Stdout})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on http://%s%s", *addr, *path)
	log.Fatal(srv.ListenAndServe())
}
