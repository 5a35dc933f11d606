// Package jsonenc appends JSON strings byte for byte as encoding/json writes
// them, without reflection, for the hand-written encoders on hot paths (the
// call log's spill lines, the stored attempts of a call, Anthropic's stream
// events) that must stay interchangeable with json.Marshal's output.
package jsonenc

import "unicode/utf8"

const hex = "0123456789abcdef"

// htmlSafe marks the bytes json.Marshal copies into a string unchanged:
// printable ASCII except the quote, the backslash and the HTML-sensitive <,
// > and &.
var htmlSafe = plainBytes(`"\<>&`)

// safe marks the bytes a json.Encoder with SetEscapeHTML(false) copies into a
// string unchanged: printable ASCII except the quote and the backslash.
var safe = plainBytes(`"\`)

func plainBytes(escaped string) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range escaped {
		t[c] = false
	}
	return t
}

// AppendString appends s to dst as json.Marshal encodes a string: the quote,
// the backslash, <, > and & escaped, \b, \f, \n, \r and \t by name and the
// other control bytes as \u00XX, each byte of invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped.
func AppendString(dst []byte, s string) []byte {
	return appendString(dst, s, &htmlSafe)
}

// AppendStringNoEscapeHTML appends s to dst as a json.Encoder with
// SetEscapeHTML(false) encodes a string: as AppendString, but with <, > and &
// left as they are.
func AppendStringNoEscapeHTML(dst []byte, s string) []byte {
	return appendString(dst, s, &safe)
}

func appendString(dst []byte, s string, plain *[256]bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators to JavaScript: escaped, as
			// encoding/json does, so that the output is also valid JSONP.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
