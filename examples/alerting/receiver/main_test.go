package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/webhook"
)

const (
	secret = "receiver-test-secret"
	body   = `{"id":"alnt_1","status":"firing","rule":"upstream-errors","metric":"error_rate","operator":">",` +
		`"threshold":{"critical":0.1},"window":"1m","time":"2026-11-27T08:00:00Z","alerts":[{"labels":{"model":"gpt-4o-mini"},` +
		`"state":"firing","severity":"critical","value":0.5,"since":"2026-11-27T07:59:50Z","calls_url":"http://127.0.0.1:8081/admin/v1/calls?model=gpt-4o-mini"}]}`
)

var now = time.Unix(1_800_000_000, 0)

func TestVerify(t *testing.T) {
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign([]byte(secret), ts, []byte(body))
	for _, tc := range []struct {
		name       string
		secret, ts string
		sig, body  string
		want       error
	}{
		{"good signature", secret, ts, good, body, nil},
		{"signed a little in the future", secret, strconv.FormatInt(now.Unix()+30, 10),
			Sign([]byte(secret), strconv.FormatInt(now.Unix()+30, 10), []byte(body)), body, nil},
		{"wrong secret", "another-secret", ts, good, body, ErrBadSignature},
		{"body changed", secret, ts, good, strings.Replace(body, "firing", "resolved", 1), ErrBadSignature},
		{"timestamp changed", secret, strconv.FormatInt(now.Unix()+1, 10), good, body, ErrBadSignature},
		{"signature without its prefix", secret, ts, strings.TrimPrefix(good, "sha256="), body, ErrBadSignature},
		{"stale timestamp", secret, strconv.FormatInt(now.Add(-DefaultTolerance-time.Second).Unix(), 10),
			Sign([]byte(secret), strconv.FormatInt(now.Add(-DefaultTolerance-time.Second).Unix(), 10), []byte(body)), body, ErrStale},
		{"timestamp far in the future", secret, strconv.FormatInt(now.Add(DefaultTolerance+time.Second).Unix(), 10),
			Sign([]byte(secret), strconv.FormatInt(now.Add(DefaultTolerance+time.Second).Unix(), 10), []byte(body)), body, ErrStale},
		{"timestamp not a number", secret, "yesterday", Sign([]byte(secret), "yesterday", []byte(body)), body, ErrBadTimestamp},
		{"no signature", secret, ts, "", body, ErrNoSignature},
		{"no timestamp", secret, "", good, body, ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify([]byte(tc.secret), tc.ts, tc.sig, []byte(tc.body), now, DefaultTolerance)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSignMatchesGateway checks that this copy-and-paste verifier agrees
// with the signer the gateway uses.
func TestSignMatchesGateway(t *testing.T) {
	ts := strconv.FormatInt(now.Unix(), 10)
	if got, want := Sign([]byte(secret), ts, []byte(body)), webhook.Sign([]byte(secret), ts, []byte(body)); got != want {
		t.Fatalf("Sign = %s, the gateway signs %s", got, want)
	}
	if err := Verify([]byte(secret), ts, webhook.Sign([]byte(secret), ts, []byte(body)), []byte(body), now, DefaultTolerance); err != nil {
		t.Fatalf("a gateway signature does not verify: %v", err)
	}
}

func TestReceiver(t *testing.T) {
	var out bytes.Buffer
	rc := &Receiver{Secret: []byte(secret), Now: func() time.Time { return now }, Out: &out}
	post := func(sig, delivery string) int {
		req := httptest.NewRequest("POST", "/hook", strings.NewReader(body))
		req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(SignatureHeader, sig)
		req.Header.Set(DeliveryHeader, delivery)
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		return w.Code
	}
	good := Sign([]byte(secret), strconv.FormatInt(now.Unix(), 10), []byte(body))

	if code := post(Sign([]byte("forged"), strconv.FormatInt(now.Unix(), 10), []byte(body)), "alnt_1"); code != http.StatusUnauthorized {
		t.Errorf("forged notification: %d, want 401", code)
	}
	if out.Len() != 0 {
		t.Errorf("a forged notification was shown: %q", out.String())
	}
	if code := post(good, "alnt_1"); code != http.StatusNoContent {
		t.Fatalf("signed notification: %d, want 204", code)
	}
	for _, want := range []string{"FIRING upstream-errors: error_rate > 0.1 (critical) over 1m",
		"model=gpt-4o-mini critical value=0.5", "calls: http://127.0.0.1:8081/admin/v1/calls?model=gpt-4o-mini"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	shown := out.String()
	if code := post(good, "alnt_1"); code != http.StatusNoContent {
		t.Errorf("a retry of a delivered notification: %d, want 204", code)
	}
	if out.String() != shown {
		t.Errorf("a retry was shown again: %q", strings.TrimPrefix(out.String(), shown))
	}
}
