package anomaly

import (
	"unicode"
	"unicode/utf8"

	"github.com/hypergate/hypergate/internal/calllog"
)

// scratch holds the buffers the engine reuses from one record to the next,
// so that judging a call allocates little. It belongs to one engine and is
// used under its lock.
type scratch struct {
	text  []byte
	args  [][]byte
	set   []uint64 // the n-gram hash set of the repetition detector
	ring  []uint64 // the last n word hashes
	lower []byte
	c     Call
}

func (s *scratch) call(r *calllog.Record) *Call {
	s.c = Call{Record: r, Kind: kindOf(r), s: s}
	return &s.c
}

// growArgs makes s.args at least n long, reusing the buffers it had.
func (s *scratch) growArgs(n int) {
	for len(s.args) < n {
		if len(s.args) < cap(s.args) {
			s.args = s.args[:len(s.args)+1]
			s.args[len(s.args)-1] = s.args[len(s.args)-1][:0]
		} else {
			s.args = append(s.args, nil)
		}
	}
}

// words walks the words of an answer's prose: runs of letters and digits,
// each Chinese, Japanese or Korean character counting as a word of its own
// (those scripts put no spaces between words). Fenced code blocks, inline
// code and table rows are skipped: code and tables repeat themselves and
// are written in no natural language.
type words struct {
	s         string
	i         int
	fence     bool
	lineStart bool
}

func newWords(s string) words { return words{s: s, lineStart: true} }

// next returns the next word, or "" at the end.
func (w *words) next() string {
	for w.i < len(w.s) {
		if w.lineStart {
			w.lineStart = false
			j := w.i
			for j < len(w.s) && (w.s[j] == ' ' || w.s[j] == '\t') {
				j++
			}
			rest := w.s[j:]
			if hasPrefix(rest, "```") || hasPrefix(rest, "~~~") {
				w.fence = !w.fence
				w.skipLine()
				continue
			}
			if w.fence || hasPrefix(rest, "|") {
				w.skipLine()
				continue
			}
		}
		c := w.s[w.i]
		switch {
		case c == '\n':
			w.i++
			w.lineStart = true
			continue
		case c == '`':
			w.skipInlineCode()
			continue
		case c < utf8.RuneSelf:
			if isASCIIWord(c) {
				start := w.i
				for w.i < len(w.s) && w.s[w.i] < utf8.RuneSelf && isASCIIWord(w.s[w.i]) {
					w.i++
				}
				// A word may go on in letters outside ASCII (café, größe).
				for w.i < len(w.s) && w.s[w.i] >= utf8.RuneSelf {
					r, n := utf8.DecodeRuneInString(w.s[w.i:])
					if !unicode.IsLetter(r) && !unicode.IsMark(r) || isIdeographic(r) {
						break
					}
					w.i += n
					for w.i < len(w.s) && w.s[w.i] < utf8.RuneSelf && isASCIIWord(w.s[w.i]) {
						w.i++
					}
				}
				return w.s[start:w.i]
			}
			w.i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w.s[w.i:])
		if isIdeographic(r) {
			start := w.i
			w.i += n
			return w.s[start:w.i]
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			w.i += n
			continue
		}
		start := w.i
		for w.i < len(w.s) {
			r, n := utf8.DecodeRuneInString(w.s[w.i:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) || isIdeographic(r) {
				break
			}
			w.i += n
		}
		return w.s[start:w.i]
	}
	return ""
}

func (w *words) skipLine() {
	for w.i < len(w.s) && w.s[w.i] != '\n' {
		w.i++
	}
}

// skipInlineCode skips `code` on the current line; a lone backtick is
// skipped alone.
func (w *words) skipInlineCode() {
	for j := w.i + 1; j < len(w.s) && w.s[j] != '\n'; j++ {
		if w.s[j] == '`' {
			w.i = j + 1
			return
		}
	}
	w.i++
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func isASCIIWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isIdeographic reports the characters of scripts written without spaces
// between words: Han, Hiragana, Katakana, Hangul syllables, Thai.
func isIdeographic(r rune) bool {
	return r >= 0x3040 && r <= 0x30FF || // Hiragana, Katakana
		r >= 0x3400 && r <= 0x4DBF || r >= 0x4E00 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || // Han
		r >= 0xAC00 && r <= 0xD7AF || // Hangul
		r >= 0x0E00 && r <= 0x0E7F // Thai
}

// lowerInto appends the lower-case form of s to b, folding typographic
// apostrophes into ASCII ones and full-width commas into ASCII commas so
// that phrases need be written once.
func lowerInto(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '\u2019', '\u2018', '\u02bc':
			b = append(b, '\'')
		case '\uff0c':
			b = append(b, ',')
		default:
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	return b
}

// hashWord is FNV-1a of the lower-case form of w.
func hashWord(w string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * 1099511628211
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w[i:])
		i += n
		r = unicode.ToLower(r)
		h = (h ^ uint64(r)) * 1099511628211
	}
	return h
}
