package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// Key rotation: a new key is created and shown once, and the old one keeps
// working for a grace period so that the consumer can switch without an
// outage, then expires.
const (
	// DefaultRotationGrace is how long a rotated key keeps working when
	// the request does not say.
	DefaultRotationGrace = 24 * time.Hour
	// MaxRotationGrace bounds the grace: a rotation that leaves the old
	// key alive for months is not one.
	MaxRotationGrace = 90 * 24 * time.Hour
)

type rotateRequest struct {
	// Grace is how long the old key keeps working (default 24h; 0s ends it
	// at once).
	Grace *config.Duration `json:"grace,omitempty"`
	// ExpiresAt, when set, is when the new key expires.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// rotatedKey is the answer to a rotation: the new key with its secret,
// shown this once, and the old key with its new expiry.
type rotatedKey struct {
	auth.Key
	Secret   string   `json:"key"`
	Warning  string   `json:"warning"`
	Replaces auth.Key `json:"replaces"`
}

// checkKeyExpiry refuses an expiry that is already past.
func (s *Server) checkKeyExpiry(t *time.Time) error {
	if t != nil && !t.After(s.now()) {
		return badRequest("expires_at", "expires_at %s is not in the future", t.Format(time.RFC3339))
	}
	return nil
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	consumer, id := r.PathValue("name"), r.PathValue("id")
	var in rotateRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	grace := DefaultRotationGrace
	if in.Grace != nil {
		grace = in.Grace.Std()
	}
	if grace < 0 || grace > MaxRotationGrace {
		return badRequest("grace", "grace must be from 0s to %s", config.Duration(MaxRotationGrace))
	}
	if err := s.checkKeyExpiry(in.ExpiresAt); err != nil {
		return err
	}
	next, secret, old, err := s.Keys.RotateKey(r.Context(), consumer, id, grace, in.ExpiresAt)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("consumer %q has no key %q created through this API (keys declared in the configuration rotate by changing their env:NAME value)", consumer, id)}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: 409, Code: "conflict", Msg: fmt.Sprintf("key %q is revoked: create a new key instead", id)}
	case err != nil:
		return err
	}
	audit(r, auth.AuditEntry{Action: "key.rotate", Target: "key:" + old.ID, Team: s.consumerOwner(consumer).Team,
		Summary: fmt.Sprintf("rotated key %s (%s…) of consumer %s: new key %s (%s…); the old one expires at %s",
			old.ID, old.Prefix, consumer, next.ID, next.Prefix, old.ExpiresAt.UTC().Format(time.RFC3339))})
	writeJSON(w, 201, rotatedKey{Key: next, Secret: secret, Replaces: old,
		Warning: "this is the only time the key is shown; store it now, and move to it before the old key expires"})
	return nil
}
