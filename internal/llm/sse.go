package llm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxEventSize is the largest event an SSEReader accepts unless told
// otherwise. Real chunks are a few hundred bytes and even a large tool-call
// argument or a base64 image stays well below it, yet it bounds how much a
// hostile or broken upstream can make the gateway buffer per stream.
const DefaultMaxEventSize = 4 << 20

// ErrEventTooLarge is wrapped by the error SSEReader.Next returns when a
// single event exceeds the reader's maximum size.
var ErrEventTooLarge = errors.New("sse event too large")

const (
	// readBufferSize is small because one buffer is held per open stream;
	// chunks arrive a few hundred bytes at a time anyway.
	readBufferSize = 8 << 10
	// shrinkAbove keeps one unusually large event from pinning its buffer
	// for the rest of a long stream.
	shrinkAbove = 64 << 10
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Event is one block of a server-sent-events stream: the lines up to and
// including the blank line that ends it.
//
// A block that carries at least one data line is a message in the WHATWG
// sense (IsMessage reports true). Blocks without data — keep-alive comments,
// stray blank lines, a lone "retry:" — are returned too, with Data nil, so
// that their bytes can be forwarded as soon as they arrive (an upstream sends
// keep-alives precisely so that idle clients do not time out) and so that the
// Raw fields of all events add up to the whole stream.
type Event struct {
	// Name is the event type from the "event:" field; empty means the
	// default type, "message". Always empty when IsMessage is false.
	Name string
	// Data is the values of the block's data lines joined with "\n".
	// It is non-nil, though possibly empty, exactly when the block is a
	// message.
	Data []byte
	// ID is the stream's last event ID: per the WHATWG rules it persists
	// from the most recent "id:" field, which may be in an earlier block.
	ID string
	// Raw is the exact bytes the block occupied in the stream, comments and
	// terminating blank line included. When the stream ends without a final
	// blank line, Raw ends where the stream did. In the rare case that a
	// CRLF is split across two reads exactly at a blank line, the event is
	// dispatched at the CR without waiting, and the LF begins the next
	// event's Raw.
	Raw []byte
}

// IsMessage reports whether the event carries data and would therefore be
// dispatched to an EventSource listener.
func (e Event) IsMessage() bool { return e.Data != nil }

// IsDone reports whether the event is OpenAI's end-of-stream sentinel,
// "data: [DONE]".
func (e Event) IsDone() bool { return string(e.Data) == "[DONE]" }

// Clone returns a copy of the event that does not share memory with the
// reader, for callers that keep an event past the next call to Next.
func (e Event) Clone() Event {
	c := e
	c.Raw = bytes.Clone(e.Raw)
	if e.Data != nil {
		// Keep an empty Data non-nil: nil would turn the message into a
		// non-message.
		c.Data = append(make([]byte, 0, len(e.Data)), e.Data...)
	}
	return c
}

// SSEReader splits a server-sent-events stream into events following the
// WHATWG EventSource parsing rules: lines end in LF, CR or CRLF; data lines
// are joined with "\n"; one space after the field's colon is dropped; lines
// starting with ':' are comments; a blank line ends the block. A leading
// UTF-8 byte order mark is skipped (and kept in Raw).
//
// Unlike a browser it is lenient at the end: a block cut off by the end of
// the stream, even in the middle of a line, is still returned, since many
// upstreams omit the final blank line.
//
// The Data and Raw of a returned event share the reader's buffer and are
// valid only until the next call to Next or Reset; use Event.Clone to keep
// them. A reader is not safe for concurrent use and starts no goroutines.
type SSEReader struct {
	br  *bufio.Reader
	max int

	raw       []byte   // bytes of the block being read
	segs      [][2]int // offsets in raw of each data line's value
	data      []byte   // joined data when a block has several data lines
	lineStart int      // offset in raw where the current line starts
	name      string   // event type of the current block
	lastName  string   // reused so that repeated names do not allocate
	id        string   // last event ID; persists across blocks
	started   bool     // the byte order mark check is done
	skipLF    bool     // a CR ended the last line; an LF next is part of it
	readErr   error    // a read error seen early, due once the buffer drains
	err       error    // sticky: io.EOF or the error that ended the stream
}

// NewSSEReader returns a reader of the event stream r, accepting events of
// up to DefaultMaxEventSize bytes.
func NewSSEReader(r io.Reader) *SSEReader {
	// Build the bufio.Reader empty and then point it at r: NewReaderSize
	// would hand back r itself when it is already a *bufio.Reader, and Reset
	// would then re-point the caller's reader.
	br := bufio.NewReaderSize(nil, readBufferSize)
	br.Reset(r)
	return &SSEReader{
		br:  br,
		max: DefaultMaxEventSize,
		// Sized for a typical chunk so that the first events do not grow
		// them step by step.
		raw:  make([]byte, 0, 1<<10),
		segs: make([][2]int, 0, 4),
	}
}

// SetMaxEventSize sets the largest event, counted in Raw bytes, that Next
// accepts; n <= 0 restores DefaultMaxEventSize.
func (r *SSEReader) SetMaxEventSize(n int) {
	if n <= 0 {
		n = DefaultMaxEventSize
	}
	r.max = n
}

// Reset discards all state and makes the reader read the new stream src,
// keeping its buffers and maximum event size, so that readers can be pooled.
func (r *SSEReader) Reset(src io.Reader) {
	r.br.Reset(src)
	r.raw = r.raw[:0]
	r.segs = r.segs[:0]
	r.data = r.data[:0]
	r.lineStart = 0
	r.name = ""
	r.id = ""
	r.started = false
	r.skipLF = false
	r.readErr = nil
	r.err = nil
}

// Next returns the next event. At the end of the stream it returns io.EOF;
// when an event exceeds the maximum size it returns an error wrapping
// ErrEventTooLarge; a read error from the underlying stream is returned
// wrapped. After any error, every later call returns the same error.
func (r *SSEReader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	r.startBlock()
	for {
		if r.br.Buffered() == 0 {
			err := r.readErr
			if err == nil {
				_, err = r.br.Peek(1)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return r.finish()
				}
				r.err = fmt.Errorf("reading event stream: %w", err)
				return Event{}, r.err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())

		if !r.started {
			r.started = true
			if r.hasBOM(buf) {
				if err := r.consume(utf8BOM); err != nil {
					return Event{}, err
				}
				r.lineStart = len(r.raw)
			}
			// hasBOM may have refilled the buffer, so buf is stale.
			continue
		}
		if r.skipLF {
			r.skipLF = false
			if buf[0] == '\n' {
				if err := r.consume(buf[:1]); err != nil {
					return Event{}, err
				}
				r.lineStart = len(r.raw)
				continue
			}
		}

		end, next := lineEnd(buf)
		if end < 0 {
			// The line goes on past what is buffered.
			if err := r.consume(buf); err != nil {
				return Event{}, err
			}
			continue
		}
		if buf[end] == '\r' && next == len(buf) {
			// Whether an LF follows is not known yet; rather than block on
			// the network for it, take the CR as the terminator and drop a
			// following LF when it comes.
			r.skipLF = true
		}
		if err := r.consume(buf[:next]); err != nil {
			return Event{}, err
		}
		contentEnd := len(r.raw) - (next - end)
		blank := r.processLine(r.lineStart, contentEnd)
		r.lineStart = len(r.raw)
		if blank {
			return r.dispatch(), nil
		}
	}
}

// hasBOM reports whether the stream starts with a byte order mark, waiting
// for more bytes only when what is buffered is a proper prefix of one.
func (r *SSEReader) hasBOM(buf []byte) bool {
	if len(buf) < len(utf8BOM) && bytes.HasPrefix(utf8BOM, buf) {
		var err error
		if buf, err = r.br.Peek(len(utf8BOM)); err != nil {
			// Too short to be a BOM. bufio hands a read error out only
			// once, so keep it for when the buffered bytes run out.
			r.readErr = err
			return false
		}
	}
	return bytes.HasPrefix(buf, utf8BOM)
}

// consume moves b, which must be the start of the buffered bytes, into the
// current block, enforcing the size limit.
func (r *SSEReader) consume(b []byte) error {
	if len(r.raw)+len(b) > r.max {
		r.err = fmt.Errorf("event exceeds %d bytes: %w", r.max, ErrEventTooLarge)
		return r.err
	}
	r.raw = append(r.raw, b...)
	_, _ = r.br.Discard(len(b)) // cannot fail: b is buffered
	return nil
}

// lineEnd finds the first line terminator in b and returns where it starts
// and where the next line starts, or -1, -1 when b holds no terminator.
func lineEnd(b []byte) (end, next int) {
	lf := bytes.IndexByte(b, '\n')
	search := b
	if lf >= 0 {
		search = b[:lf]
	}
	cr := bytes.IndexByte(search, '\r')
	switch {
	case cr < 0 && lf < 0:
		return -1, -1
	case cr < 0:
		return lf, lf + 1
	case cr+1 < len(b) && b[cr+1] == '\n':
		return cr, cr + 2
	default:
		return cr, cr + 1
	}
}

func (r *SSEReader) startBlock() {
	if cap(r.raw) > shrinkAbove {
		r.raw = nil
	}
	if cap(r.data) > shrinkAbove {
		r.data = nil
	}
	r.raw = r.raw[:0]
	r.segs = r.segs[:0]
	r.lineStart = 0
	r.name = ""
}

// processLine applies the line r.raw[start:end] to the current block and
// reports whether it is blank, which ends the block.
func (r *SSEReader) processLine(start, end int) bool {
	line := r.raw[start:end]
	if len(line) == 0 {
		return true
	}
	if line[0] == ':' {
		return false
	}
	field, vstart := line, end
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field = line[:i]
		vstart = start + i + 1
		if vstart < end && r.raw[vstart] == ' ' {
			vstart++
		}
	}
	value := r.raw[vstart:end]
	// Comparing string conversions in place does not allocate.
	switch {
	case string(field) == "data":
		r.segs = append(r.segs, [2]int{vstart, end})
	case string(field) == "event":
		if string(value) != r.lastName {
			r.lastName = string(value)
		}
		r.name = r.lastName
	case string(field) == "id":
		// The spec ignores ids containing NUL.
		if bytes.IndexByte(value, 0) < 0 && string(value) != r.id {
			r.id = string(value)
		}
	}
	// "retry" only matters to a client that reconnects itself, and unknown
	// fields are ignored by the spec; both stay in Raw for the client.
	return false
}

// dispatch turns the block read so far into an event.
func (r *SSEReader) dispatch() Event {
	ev := Event{ID: r.id, Raw: r.raw[:len(r.raw):len(r.raw)]}
	switch len(r.segs) {
	case 0:
	case 1:
		// The common case: Data is a window on Raw, no copy.
		s := r.segs[0]
		ev.Data = r.raw[s[0]:s[1]:s[1]]
		ev.Name = r.name
	default:
		r.data = r.data[:0]
		for i, s := range r.segs {
			if i > 0 {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, r.raw[s[0]:s[1]]...)
		}
		ev.Data = r.data[:len(r.data):len(r.data)]
		ev.Name = r.name
	}
	return ev
}

// finish handles the end of the stream: whatever was read since the last
// event is returned as one more event, its unterminated last line included.
func (r *SSEReader) finish() (Event, error) {
	r.err = io.EOF
	if len(r.raw) == 0 {
		return Event{}, io.EOF
	}
	if r.lineStart < len(r.raw) {
		r.processLine(r.lineStart, len(r.raw))
	}
	return r.dispatch(), nil
}

// WriteEvent writes ev to w in server-sent-events form with a single Write
// call, so that a flush after it sends the whole event. See AppendEvent for
// the encoding.
func WriteEvent(w io.Writer, ev Event) error {
	buf, err := AppendEvent(make([]byte, 0, len(ev.Name)+len(ev.ID)+len(ev.Data)+32), ev)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// AppendEvent appends the server-sent-events encoding of ev to dst: an
// "event:" line when Name is set, an "id:" line when ID is set, one "data:"
// line per line of Data (splitting on LF, CR or CRLF, so the reader gets
// Data back with line breaks as LF), and the blank line that dispatches it.
// At least one data line is always written, so that even an event with
// empty Data is dispatched. Raw is ignored. A Name or ID that would break
// the framing is an error.
func AppendEvent(dst []byte, ev Event) ([]byte, error) {
	if strings.ContainsAny(ev.Name, "\r\n") {
		return dst, fmt.Errorf("sse event name %q contains a line break", ev.Name)
	}
	if strings.ContainsAny(ev.ID, "\r\n\x00") {
		return dst, fmt.Errorf("sse event id %q contains a line break or NUL", ev.ID)
	}
	if ev.Name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, ev.Name...)
		dst = append(dst, '\n')
	}
	if ev.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, ev.ID...)
		dst = append(dst, '\n')
	}
	data := ev.Data
	for {
		end, next := lineEnd(data)
		line := data
		if end >= 0 {
			line = data[:end]
		}
		dst = append(dst, "data:"...)
		if len(line) > 0 {
			dst = append(dst, ' ')
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if end < 0 {
			break
		}
		data = data[next:]
	}
	return append(dst, '\n'), nil
}
