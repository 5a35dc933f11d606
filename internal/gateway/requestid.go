package gateway

import (
	"github.com/google/uuid"
)

// validRequestID reports whether a client-supplied X-Request-Id may be kept:
// 1–128 characters that are safe in headers, logs and URLs.
func validRequestID(b []byte) bool {
	if len(b) == 0 || len(b) > 128 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns a UUIDv7: time-ordered, so records sort by id as they
// do by time, and index inserts stay local.
func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
