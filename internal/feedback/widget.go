package feedback

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// Widget is /widget.js: the embeddable "Was this helpful?" box that posts
// to POST /v1/feedback with a publishable key. It is plain JavaScript
// without dependencies, eval, inline handlers or inline style attributes,
// so that it runs under a strict Content-Security-Policy.
//
//go:embed widget.js
var Widget []byte

// WidgetETag is the strong entity tag of Widget, for revalidation.
var WidgetETag = func() string {
	sum := sha256.Sum256(Widget)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()
