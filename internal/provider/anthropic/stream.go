package anthropic

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/jsonenc"
	"github.com/hypergate/hypergate/internal/llm"
)

// Anthropic streams a message as server-sent events:
//
//	message_start        the message, empty content, the usage known so far
//	content_block_start  a text, thinking, redacted_thinking or tool_use block at an index
//	content_block_delta  text_delta, thinking_delta, signature_delta or input_json_delta
//	content_block_stop   the block at an index is complete
//	message_delta        stop_reason, stop_sequence and cumulative usage
//	message_stop         the end
//
// with ping events anywhere and an error event in place of the rest when
// something fails after the response has started.

// blockKind is what a content block holds.
type blockKind uint8

const (
	blockNone blockKind = iota
	blockText
	blockThinking
	blockTool
	blockOther // a block type the neutral model has no event for
)

type readBlock struct {
	kind blockKind
	tool int // the tool call's index within the message, for blockTool
}

// streamReader turns an Anthropic event stream into neutral events.
type streamReader struct {
	sse     *llm.SSEReader
	pending []llm.StreamEvent
	next    int
	blocks  map[int64]readBlock
	tools   int

	// The usage message_start reported; message_delta's usage is
	// cumulative but may leave out the input counts.
	input, cacheRead, cacheWrite int64

	done bool  // message_stop or an error event was read
	err  error // sticky: io.EOF or what ended the stream
}

// NewStreamReader reads an Anthropic event stream. message_start becomes
// EventStart, carrying in Usage the usage reported so far (input tokens
// above all), for writers that can use it early; message_delta becomes
// EventFinish followed by EventUsage, the input counts taken from
// message_start when message_delta leaves them out; an error event becomes
// EventError and ends the stream. Pings, block stops and blocks the neutral
// model has no event for are skipped. Tool-call indices count tool calls,
// not content blocks. Next returns io.EOF after message_stop, and an error
// wrapping io.ErrUnexpectedEOF when the stream ends before it.
func (Codec) NewStreamReader(body io.Reader) llm.StreamReader {
	return &streamReader{sse: llm.NewSSEReader(body), blocks: map[int64]readBlock{}}
}

func (s *streamReader) Next() (llm.StreamEvent, error) {
	for {
		if s.next < len(s.pending) {
			ev := s.pending[s.next]
			s.next++
			return ev, nil
		}
		s.pending, s.next = s.pending[:0], 0
		if s.err != nil {
			return llm.StreamEvent{}, s.err
		}
		if s.done {
			s.err = io.EOF
			continue
		}
		ev, err := s.sse.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.err = fmt.Errorf("anthropic stream ended before message_stop: %w", io.ErrUnexpectedEOF)
			} else {
				s.err = fmt.Errorf("reading anthropic stream: %w", err)
			}
			continue
		}
		if !ev.IsMessage() {
			continue
		}
		if err := s.handle(ev.Name, ev.Data); err != nil {
			s.err = err
		}
	}
}

func (s *streamReader) push(ev llm.StreamEvent) { s.pending = append(s.pending, ev) }

// handle turns one event into zero or more pending neutral events.
func (s *streamReader) handle(name string, data []byte) error {
	// The event's bytes belong to the SSE reader until its next call, and
	// gjson's results point into what they parse: parse a copy.
	text := string(data)
	if !gjson.Valid(text) {
		return fmt.Errorf("reading anthropic stream: %s event is not valid JSON", strconv.Quote(name))
	}
	root := gjson.Parse(text)
	typ := root.Get("type").Str
	if typ == "" {
		typ = name
	}
	switch typ {
	case "message_start":
		m := root.Get("message")
		start := llm.StreamEvent{Type: llm.EventStart, ID: m.Get("id").Str, Model: m.Get("model").Str, Created: now().Unix()}
		if u := m.Get("usage"); u.IsObject() {
			s.input = count(u.Get("input_tokens"))
			s.cacheRead = count(u.Get("cache_read_input_tokens"))
			s.cacheWrite = count(u.Get("cache_creation_input_tokens"))
			usage := neutralUsage(u)
			start.Usage = &usage
		}
		s.push(start)
	case "content_block_start":
		s.blockStart(root.Get("index").Int(), root.Get("content_block"))
	case "content_block_delta":
		s.blockDelta(root.Get("index").Int(), root.Get("delta"))
	case "message_delta":
		sr := root.Get("delta.stop_reason").Str
		finish := llm.StreamEvent{Type: llm.EventFinish, Finish: finishReason(sr)}
		if finish.Finish == "" {
			finish.Finish = llm.FinishStop
		}
		if sr == "stop_sequence" {
			finish.StopSequence = root.Get("delta.stop_sequence").Str
		}
		s.push(finish)
		if u := root.Get("usage"); u.IsObject() {
			read := orCount(u.Get("cache_read_input_tokens"), s.cacheRead)
			written := orCount(u.Get("cache_creation_input_tokens"), s.cacheWrite)
			usage := llm.Usage{
				InputTokens:           orCount(u.Get("input_tokens"), s.input) + read + written,
				CachedInputTokens:     read,
				CacheWriteInputTokens: written,
				OutputTokens:          count(u.Get("output_tokens")),
				Present:               true,
			}
			s.push(llm.StreamEvent{Type: llm.EventUsage, Usage: &usage})
		}
	case "message_stop":
		s.done = true
	case "error":
		s.push(llm.StreamEvent{Type: llm.EventError, Err: decodeError(0, root)})
		s.done = true
	}
	// ping, content_block_stop and event types newer than this code.
	return nil
}

// orCount reads a token count, or returns def when the field is absent.
func orCount(r gjson.Result, def int64) int64 {
	if !r.Exists() {
		return def
	}
	return count(r)
}

func (s *streamReader) blockStart(index int64, cb gjson.Result) {
	switch cb.Get("type").Str {
	case "text":
		s.blocks[index] = readBlock{kind: blockText}
		if t := cb.Get("text").Str; t != "" {
			s.push(llm.StreamEvent{Type: llm.EventText, Text: t})
		}
	case "thinking":
		s.blocks[index] = readBlock{kind: blockThinking}
		t, sig := cb.Get("thinking").Str, cb.Get("signature").Str
		if t != "" || sig != "" {
			s.push(llm.StreamEvent{Type: llm.EventThinking, Text: t, Signature: sig})
		}
	case "redacted_thinking":
		s.blocks[index] = readBlock{kind: blockThinking}
		s.push(llm.StreamEvent{Type: llm.EventThinking, ID: RedactedThinkingID, Signature: cb.Get("data").Str})
	case "tool_use":
		b := readBlock{kind: blockTool, tool: s.tools}
		s.tools++
		s.blocks[index] = b
		s.push(llm.StreamEvent{
			Type:     llm.EventToolCallStart,
			Index:    b.tool,
			ToolCall: &llm.ToolCall{ID: cb.Get("id").Str, Name: cb.Get("name").Str},
		})
		// Anthropic starts every tool_use block with an empty input and
		// streams it as deltas; a compatible server may send it whole here.
		if in := cb.Get("input"); in.IsObject() {
			if args := compact(in.Raw); string(args) != "{}" {
				s.push(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: b.tool, Text: string(args)})
			}
		}
	default:
		s.blocks[index] = readBlock{kind: blockOther}
	}
}

func (s *streamReader) blockDelta(index int64, d gjson.Result) {
	if s.blocks[index].kind == blockOther {
		return
	}
	switch d.Get("type").Str {
	case "text_delta":
		s.push(llm.StreamEvent{Type: llm.EventText, Text: d.Get("text").Str})
	case "thinking_delta":
		s.push(llm.StreamEvent{Type: llm.EventThinking, Text: d.Get("thinking").Str})
	case "signature_delta":
		s.push(llm.StreamEvent{Type: llm.EventThinking, Signature: d.Get("signature").Str})
	case "input_json_delta":
		if b, ok := s.blocks[index]; ok && b.kind == blockTool {
			s.push(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: b.tool, Text: d.Get("partial_json").Str})
		}
	}
	// citations_delta and newer delta types carry nothing neutral.
}

// streamWriter writes neutral events as an Anthropic event stream.
type streamWriter struct {
	w     io.Writer
	flush func() error
	buf   []byte

	started      bool
	open         bool // a content block is open
	signed       bool // the open thinking block has its signature
	openKind     blockKind
	openIndex    int
	nextIndex    int
	toolBlocks   map[int]int // tool-call index → content block index
	sawTool      bool
	finished     bool
	finish       llm.FinishReason
	stopSequence string
	usage        *llm.Usage
	deltaWritten bool // message_delta is out; nothing but message_stop follows
	ended        bool // an error event is out; nothing follows
	closed       bool
	err          error
}

// NewStreamWriter returns a writer of the Anthropic event stream to w,
// calling flush after each Write and Close so that nothing waits in a
// buffer. Content blocks get consecutive indices: a block opens when the
// kind of content changes or a tool call starts, and the open block is
// stopped first. message_delta goes out once both the finish reason and the
// usage are known, or at Close. Close ends the stream properly whatever came
// before — message_start if none was written, a stop for the open block,
// message_delta, message_stop — and a stream that never got EventFinish ends
// with stop_reason end_turn, or tool_use when it made tool calls, so that
// the client's tool loop still runs them. After an error event Close writes
// nothing: Anthropic ends a failed stream with the error. No pings are
// written; the stream is never idle longer than the upstream's is.
func (Codec) NewStreamWriter(w io.Writer, flush func() error) llm.StreamWriter {
	return &streamWriter{w: w, flush: flush, toolBlocks: map[int]int{}}
}

var errWriterClosed = errors.New("anthropic stream writer: write after close")

func (s *streamWriter) Write(ev llm.StreamEvent) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errWriterClosed
	}
	if s.ended {
		return nil
	}
	s.buf = s.buf[:0]
	switch ev.Type {
	case llm.EventStart:
		if !s.started {
			s.messageStart(ev.ID, ev.Model, ev.Usage)
		}
	case llm.EventError:
		if ev.Err != nil {
			s.event("error")
			s.buf = append(s.buf, errorBody(ev.Err)...)
			s.end()
			s.ended = true
		}
	case llm.EventUsage:
		if ev.Usage != nil {
			u := *ev.Usage
			s.usage = &u
		}
		if s.finished && !s.deltaWritten {
			s.messageDelta()
		}
	default:
		if !s.deltaWritten {
			s.content(ev)
		}
	}
	return s.send()
}

// content handles the events that go inside the message.
func (s *streamWriter) content(ev llm.StreamEvent) {
	if !s.started {
		s.messageStart("", "", nil)
	}
	switch ev.Type {
	case llm.EventText:
		if ev.Text == "" {
			return
		}
		s.ensureBlock(blockText)
		s.delta("text_delta", "text", ev.Text)
	case llm.EventThinking:
		if ev.ID == RedactedThinkingID {
			s.stopBlock()
			idx := s.nextIndex
			s.nextIndex++
			s.blockStartPrefix(idx)
			s.buf = append(s.buf, `{"type":"redacted_thinking","data":`...)
			s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, ev.Signature)
			s.buf = append(s.buf, "}}"...)
			s.end()
			s.blockStop(idx)
			return
		}
		if ev.Text != "" {
			if s.signed {
				// A signature closes a thinking block: more thinking is a
				// new block.
				s.stopBlock()
			}
			s.ensureBlock(blockThinking)
			s.delta("thinking_delta", "thinking", ev.Text)
		}
		if ev.Signature != "" {
			s.ensureBlock(blockThinking)
			s.delta("signature_delta", "signature", ev.Signature)
			s.signed = true
		}
	case llm.EventToolCallStart:
		var id, name, args string
		if ev.ToolCall != nil {
			id, name, args = ev.ToolCall.ID, ev.ToolCall.Name, ev.ToolCall.Arguments
		}
		s.toolStart(ev.Index, id, name)
		if args != "" {
			s.delta("input_json_delta", "partial_json", args)
		}
	case llm.EventToolCallArgs:
		idx, ok := s.toolBlocks[ev.Index]
		if !ok {
			// Arguments of a call whose start never came: start it now.
			var id, name string
			if ev.ToolCall != nil {
				id, name = ev.ToolCall.ID, ev.ToolCall.Name
			}
			s.toolStart(ev.Index, id, name)
			idx = s.openIndex
		}
		// A call's arguments normally arrive while its block is open; if
		// another block has opened since, they still go to the call's own
		// index, which is what the SDKs accumulate by.
		s.deltaAt(idx, "input_json_delta", "partial_json", ev.Text)
	case llm.EventFinish:
		s.stopBlock()
		s.finished = true
		s.finish, s.stopSequence = ev.Finish, ev.StopSequence
		if s.usage != nil {
			s.messageDelta()
		}
	}
}

func (s *streamWriter) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil || s.ended {
		return s.err
	}
	s.buf = s.buf[:0]
	if !s.started {
		s.messageStart("", "", nil)
	}
	if !s.deltaWritten {
		s.stopBlock()
		s.messageDelta()
	}
	s.event("message_stop")
	s.buf = append(s.buf, `{"type":"message_stop"}`...)
	s.end()
	return s.send()
}

// send writes what the last call produced, in one Write so that a flush
// sends whole events, and flushes it.
func (s *streamWriter) send() error {
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = fmt.Errorf("writing anthropic stream: %w", err)
		return s.err
	}
	if s.flush != nil {
		if err := s.flush(); err != nil {
			s.err = fmt.Errorf("flushing anthropic stream: %w", err)
			return s.err
		}
	}
	return nil
}

func (s *streamWriter) event(name string) {
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, "\ndata: "...)
}

func (s *streamWriter) end() { s.buf = append(s.buf, "\n\n"...) }

func (s *streamWriter) messageStart(id, model string, u *llm.Usage) {
	s.started = true
	s.event("message_start")
	s.buf = append(s.buf, `{"type":"message_start","message":{"id":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, id)
	s.buf = append(s.buf, `,"type":"message","role":"assistant","model":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, model)
	s.buf = append(s.buf, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	var usage llm.Usage
	if u != nil {
		usage = *u
	}
	s.appendUsage(usage)
	s.buf = append(s.buf, "}}"...)
	s.end()
}

func (s *streamWriter) appendUsage(u llm.Usage) {
	w := anthropicUsage(u)
	s.buf = append(s.buf, `{"input_tokens":`...)
	s.buf = strconv.AppendInt(s.buf, w.InputTokens, 10)
	s.buf = append(s.buf, `,"cache_creation_input_tokens":`...)
	s.buf = strconv.AppendInt(s.buf, w.CacheCreationInputTokens, 10)
	s.buf = append(s.buf, `,"cache_read_input_tokens":`...)
	s.buf = strconv.AppendInt(s.buf, w.CacheReadInputTokens, 10)
	s.buf = append(s.buf, `,"output_tokens":`...)
	s.buf = strconv.AppendInt(s.buf, w.OutputTokens, 10)
	s.buf = append(s.buf, '}')
}

// messageDelta writes the message's stop reason and usage. Without a usage
// it reports output_tokens only, so that clients keep the input counts of
// message_start rather than read zeros.
func (s *streamWriter) messageDelta() {
	s.deltaWritten = true
	sr := stopReason(s.finish, s.stopSequence, s.sawTool)
	s.event("message_delta")
	s.buf = append(s.buf, `{"type":"message_delta","delta":{"stop_reason":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, sr)
	s.buf = append(s.buf, `,"stop_sequence":`...)
	if sr == "stop_sequence" {
		s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, s.stopSequence)
	} else {
		s.buf = append(s.buf, "null"...)
	}
	s.buf = append(s.buf, `},"usage":`...)
	if s.usage != nil {
		s.appendUsage(*s.usage)
	} else {
		s.buf = append(s.buf, `{"output_tokens":0}`...)
	}
	s.buf = append(s.buf, '}')
	s.end()
}

func (s *streamWriter) blockStartPrefix(idx int) {
	s.event("content_block_start")
	s.buf = append(s.buf, `{"type":"content_block_start","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(idx), 10)
	s.buf = append(s.buf, `,"content_block":`...)
}

// ensureBlock opens a block of kind k unless one is open already, stopping
// the open block of another kind first.
func (s *streamWriter) ensureBlock(k blockKind) {
	if s.open && s.openKind == k {
		return
	}
	s.stopBlock()
	idx := s.nextIndex
	s.nextIndex++
	s.blockStartPrefix(idx)
	switch k {
	case blockThinking:
		s.buf = append(s.buf, `{"type":"thinking","thinking":"","signature":""}}`...)
	default:
		s.buf = append(s.buf, `{"type":"text","text":""}}`...)
	}
	s.end()
	s.open, s.openKind, s.openIndex, s.signed = true, k, idx, false
}

func (s *streamWriter) toolStart(toolIndex int, id, name string) {
	s.stopBlock()
	idx := s.nextIndex
	s.nextIndex++
	s.blockStartPrefix(idx)
	s.buf = append(s.buf, `{"type":"tool_use","id":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, id)
	s.buf = append(s.buf, `,"name":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, name)
	s.buf = append(s.buf, `,"input":{}}}`...)
	s.end()
	s.open, s.openKind, s.openIndex = true, blockTool, idx
	s.toolBlocks[toolIndex] = idx
	s.sawTool = true
}

func (s *streamWriter) stopBlock() {
	if !s.open {
		return
	}
	s.open = false
	s.blockStop(s.openIndex)
}

func (s *streamWriter) blockStop(idx int) {
	s.event("content_block_stop")
	s.buf = append(s.buf, `{"type":"content_block_stop","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(idx), 10)
	s.buf = append(s.buf, '}')
	s.end()
}

func (s *streamWriter) delta(typ, field, value string) { s.deltaAt(s.openIndex, typ, field, value) }

func (s *streamWriter) deltaAt(idx int, typ, field, value string) {
	s.event("content_block_delta")
	s.buf = append(s.buf, `{"type":"content_block_delta","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(idx), 10)
	s.buf = append(s.buf, `,"delta":{"type":"`...)
	s.buf = append(s.buf, typ...)
	s.buf = append(s.buf, `","`...)
	s.buf = append(s.buf, field...)
	s.buf = append(s.buf, `":`...)
	s.buf = jsonenc.AppendStringNoEscapeHTML(s.buf, value)
	s.buf = append(s.buf, "}}"...)
	s.end()
}
