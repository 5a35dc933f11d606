package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Key identifies one cached answer: a SHA-256 over everything that decides
// it (see Request.Key).
type Key [sha256.Size]byte

// Format is the API format a request came in and its answer goes out in.
// The same question asked in two formats has two answers, each in the
// client's own shape, so the format is part of the key.
type Format string

// The formats of the AI endpoints.
const (
	OpenAIChat        Format = "openai.chat.completions" // POST /v1/chat/completions
	AnthropicMessages Format = "anthropic.messages"      // POST /v1/messages
	OpenAIEmbeddings  Format = "openai.embeddings"       // POST /v1/embeddings
	OpenAIResponses   Format = "openai.responses"        // POST /v1/responses
)

// Ignored are the top-level request fields left out of the key because
// they change how an answer is delivered or attributed, never what it says:
//
//   - stream: whether the answer streams is a part of the key of its own
//     (Request.Stream), so that a stream and a whole answer never share an
//     entry.
//   - stream_options: for a stream it is a part of the key of its own too,
//     since it shapes the events (OpenAI's include_usage adds a usage
//     chunk); for a whole answer it means nothing.
//   - user: OpenAI's end-user id, for the provider's abuse monitoring.
//   - metadata: OpenAI's tags stored with a completion, and Anthropic's
//     metadata object (its user_id), which has the same name.
//
// Only top-level fields are ignored; a field of the same name deeper in
// the body (a tool's parameter called "user") is part of the key.
var Ignored = []string{"metadata", "stream", "stream_options", "user"}

// maxDepth bounds the nesting of a body the normaliser accepts: request
// bodies nest a few levels (messages, content parts, tool schemas), and
// the bound keeps a hostile body from costing deep recursion.
const maxDepth = 256

// Errors of Normalize and Request.Key: a request that fails with one of
// them is served without the cache.
var (
	ErrInvalidJSON = errors.New("cache: the body is not valid JSON")
	ErrNotObject   = errors.New("cache: the body is not a JSON object")
	ErrTooDeep     = fmt.Errorf("cache: the body nests deeper than %d levels", maxDepth)
	// ErrSeveralChoices is a request for more than one choice (n > 1):
	// never cached, since a client asking for several samples wants them
	// to differ from the last time.
	ErrSeveralChoices = errors.New("cache: the request asks for several choices (n > 1)")
)

// Request is what decides an answer: the model, who asks (unless the
// model's cache is shared), in which format, streamed or whole, and the
// body.
type Request struct {
	Model string
	// Consumer is the application asking; ignored when Shared.
	Consumer string
	// Shared keys the answer for every consumer alike.
	Shared bool
	Format Format
	Stream bool
	// Body is the request body as the client sent it.
	Body []byte
}

// Key returns the request's key: SHA-256 over a version tag, the model,
// the consumer (or a mark that the entry is shared), the format, whether
// the answer streams (and then the normalised stream_options) and the
// normalised body (Normalize). Each part is length-prefixed, so no two
// different requests run together into the same bytes. A request that
// asks for several choices (a number n > 1) fails with ErrSeveralChoices;
// a body Normalize refuses fails with its error.
func (r *Request) Key() (Key, error) {
	n := normalizers.Get().(*normalizer)
	defer normalizers.Put(n)
	n.reset()
	body, opts, err := n.top(r.Body, true)
	if err != nil {
		return Key{}, err
	}
	h := sha256.New()
	var lenBuf [binary.MaxVarintLen64]byte
	field := func(b []byte) {
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(b)))])
		h.Write(b)
	}
	str := func(s string) { field(unsafe.Slice(unsafe.StringData(s), len(s))) }
	str("hypergate-cache/1")
	str(r.Model)
	if r.Shared {
		str("shared")
	} else {
		str("consumer")
		str(r.Consumer)
	}
	str(string(r.Format))
	if r.Stream {
		str("stream")
		field(opts)
	} else {
		str("whole")
	}
	field(body)
	var k Key
	h.Sum(k[:0])
	return k, nil
}

// Normalize appends to dst the canonical form of a JSON request body and
// returns it: objects with their keys sorted (by their bytes, after
// unescaping) and, where a key repeats, only its last value kept (what
// common JSON parsers read); no insignificant whitespace; strings
// re-escaped one way (only the quote, the backslash and control
// characters escaped, each byte of invalid UTF-8 read as U+FFFD); numbers kept exactly
// as written, so 1 and 1.0 stay different; and the Ignored fields left
// out at the top level. Two bodies a provider would read the same way
// normalise to the same bytes, but for differently written numbers.
//
// The body must be one JSON object (ErrNotObject, ErrInvalidJSON) nested
// at most 256 levels (ErrTooDeep).
func Normalize(dst, body []byte) ([]byte, error) {
	n := normalizers.Get().(*normalizer)
	defer normalizers.Put(n)
	n.reset()
	out, _, err := n.top(body, false)
	if err != nil {
		return dst, err
	}
	return append(dst, out...), nil
}

// normalizer holds the buffers of one normalisation, pooled: a key is
// computed for every call of a model with a cache.
type normalizer struct {
	out  []byte
	opts []byte
	// members is a stack of the members of the objects being written: an
	// object pushes its members, sorts them, writes them (its children
	// push above) and pops them.
	members []member
}

type member struct {
	key string
	val gjson.Result
}

var normalizers = sync.Pool{New: func() any { return &normalizer{out: make([]byte, 0, 1024)} }}

// maxPooled is the largest buffer put back in the pool, so that one huge
// body does not pin its buffer for good.
const maxPooled = 256 << 10

func (n *normalizer) reset() {
	if cap(n.out) > maxPooled {
		n.out = make([]byte, 0, 1024)
	}
	if cap(n.members) > maxPooled/64 {
		n.members = nil
	}
	n.out, n.opts, n.members = n.out[:0], n.opts[:0], n.members[:0]
}

// top normalises a whole body. With checkN it also refuses n > 1. It
// returns the normalised body and, separately, the normalised top-level
// stream_options (nil when absent); both alias n's buffers.
func (n *normalizer) top(body []byte, checkN bool) ([]byte, []byte, error) {
	s := unsafe.String(unsafe.SliceData(body), len(body)) // read only, never kept past the call
	if !gjson.Valid(s) {
		return nil, nil, ErrInvalidJSON
	}
	v := gjson.Parse(s)
	if !v.IsObject() {
		return nil, nil, ErrNotObject
	}
	start := len(n.members)
	v.ForEach(func(k, val gjson.Result) bool {
		n.members = append(n.members, member{key: k.Str, val: val})
		return true
	})
	members := sortMembers(n.members[start:])
	n.out = append(n.out, '{')
	first := true
	var err error
loop:
	for _, m := range members {
		switch m.key {
		case "stream_options":
			out := n.out
			n.out = n.opts
			err = n.value(m.val, 1)
			n.opts, n.out = n.out, out
			if err != nil {
				break loop
			}
			continue
		case "n":
			if checkN && m.val.Type == gjson.Number && m.val.Float() > 1 {
				return nil, nil, ErrSeveralChoices
			}
		}
		if slices.Contains(Ignored, m.key) {
			continue
		}
		if !first {
			n.out = append(n.out, ',')
		}
		first = false
		n.out = appendString(n.out, m.key)
		n.out = append(n.out, ':')
		if err = n.value(m.val, 1); err != nil {
			break
		}
	}
	n.members = n.members[:start]
	if err != nil {
		return nil, nil, err
	}
	return append(n.out, '}'), n.opts, nil
}

// value appends the canonical form of v, at the given nesting depth.
func (n *normalizer) value(v gjson.Result, depth int) error {
	switch v.Type {
	case gjson.Null:
		n.out = append(n.out, "null"...)
	case gjson.False:
		n.out = append(n.out, "false"...)
	case gjson.True:
		n.out = append(n.out, "true"...)
	case gjson.Number:
		n.out = append(n.out, v.Raw...)
	case gjson.String:
		n.out = appendString(n.out, v.Str)
	case gjson.JSON:
		if depth >= maxDepth {
			return ErrTooDeep
		}
		if v.IsArray() {
			return n.array(v, depth+1)
		}
		return n.object(v, depth+1)
	}
	return nil
}

func (n *normalizer) array(v gjson.Result, depth int) error {
	n.out = append(n.out, '[')
	first := true
	var err error
	v.ForEach(func(_, el gjson.Result) bool {
		if !first {
			n.out = append(n.out, ',')
		}
		first = false
		err = n.value(el, depth)
		return err == nil
	})
	n.out = append(n.out, ']')
	return err
}

func (n *normalizer) object(v gjson.Result, depth int) error {
	start := len(n.members)
	v.ForEach(func(k, val gjson.Result) bool {
		n.members = append(n.members, member{key: k.Str, val: val})
		return true
	})
	// A child's members are pushed above ours; if that grows the stack
	// into a new array, this slice still reads the old one, which holds
	// our members unchanged.
	members := sortMembers(n.members[start:])
	n.out = append(n.out, '{')
	var err error
	for i, m := range members {
		if i > 0 {
			n.out = append(n.out, ',')
		}
		n.out = appendString(n.out, m.key)
		n.out = append(n.out, ':')
		if err = n.value(m.val, depth); err != nil {
			break
		}
	}
	n.out = append(n.out, '}')
	n.members = n.members[:start]
	return err
}

// sortMembers sorts an object's members by key, keeping only the last of
// members with the same key, and returns the sorted, deduplicated prefix.
func sortMembers(ms []member) []member {
	if len(ms) < 2 {
		return ms
	}
	slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
	out := ms[:0]
	for i, m := range ms {
		if i+1 < len(ms) && ms[i+1].key == m.key {
			continue // a later duplicate follows: the stable sort kept their order
		}
		out = append(out, m)
	}
	return out
}

// appendString appends s as a JSON string in one fixed way: the quote,
// the backslash and the control characters escaped (\n, \r, \t, \b, \f by
// name, the others as \u00XX), a byte of invalid UTF-8 as U+FFFD,
// everything else as is.
//
// It is not jsonenc.AppendString, on purpose: a normalised body must be a
// fixed point of normalising (FuzzNormalize), so invalid UTF-8 becomes the
// character U+FFFD itself where encoding/json writes the escape \ufffd (which
// the next pass would decode and write back differently), and <, >, & and
// U+2028/U+2029 stay as they are so that the keys of cached entries do not
// change.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...) // as a valid U+FFFD is written, so that normalising twice changes nothing
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
