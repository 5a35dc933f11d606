// Package webhook is how Hypergate signs and delivers the webhooks it
// sends — alert and incident notifications, status events, hypercare
// reports and subscription decisions alike — so that a receiver verifies
// every one the same way and every sender retries, gives up and counts
// the same way (Sender).
//
// A request carries X-Hypergate-Timestamp (unix seconds of the attempt)
// and X-Hypergate-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
// under the shared secret. Signing the timestamp with the body lets a
// receiver refuse a captured request replayed later.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// The signature headers.
const (
	SignatureHeader = "X-Hypergate-Signature"
	TimestampHeader = "X-Hypergate-Timestamp"
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

// Verify reports, in constant time, whether header is the signature of
// body sent at timestamp under secret: what a receiver does first.
func Verify(secret []byte, timestamp string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(header))
}
