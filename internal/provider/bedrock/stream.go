package bedrock

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/hypergate/hypergate/internal/llm"
)

// errNoFinish is wrapped by the error a stream reader returns when the
// upstream stream ends before messageStop: the answer is cut short, and the
// client must not mistake it for a whole one.
var errNoFinish = errors.New("bedrock stream ended without messageStop")

// maxMessageLen bounds one event-stream message, so that a corrupt length
// prefix cannot make the reader buffer an unbounded body. AWS event-stream
// messages are at most 16 MiB.
const maxMessageLen = 16 << 20

// NewStreamReader reads a ConverseStream body: binary AWS event-stream
// messages (application/vnd.amazon.eventstream), decoded with AWS's own
// eventstream module, each an event named by its :event-type header with
// the event's members as a JSON payload. The events it yields:
//
//   - EventStart at messageStart (or at the first content, should that come
//     first), with a fresh id and Created as in DecodeResponse;
//   - EventText for each contentBlockDelta text, EventThinking for each
//     reasoningContent text, and an EventThinking carrying only the
//     Signature when the reasoning block's signature arrives;
//   - EventToolCallStart at a contentBlockStart with a toolUse (its
//     toolUseId and name), and EventToolCallArgs for each of its
//     contentBlockDelta toolUse.input pieces of partial JSON, as sent;
//     indexes count the stream's tool calls from 0;
//   - EventFinish at messageStop, with stopReason mapped as in
//     DecodeResponse; content arriving after it is ignored;
//   - EventUsage at metadata (after the finish, or once the finish has come
//     if metadata arrives first), mapped as in DecodeResponse;
//   - EventError for an exception message (:message-type exception, the
//     :exception-type naming it) or an error message (:message-type error,
//     with :error-code and :error-message), after which the stream ends.
//
// Then io.EOF. A stream that ends before messageStop yields an error
// wrapping io.ErrUnexpectedEOF; a malformed frame (bad CRC, bad length), a
// payload that is not JSON, a toolUse delta for a block that started no
// tool use, or a read error is returned as an error too. contentBlockStop
// and unknown event types carry nothing the neutral model needs.
func (Codec) NewStreamReader(body io.Reader) llm.StreamReader {
	return &streamReader{in: bufio.NewReader(body), dec: eventstream.NewDecoder()}
}

type streamReader struct {
	in      *bufio.Reader
	dec     *eventstream.Decoder
	buf     []byte // payload buffer, reused: each payload is decoded before the next read
	pending []llm.StreamEvent
	next    int

	started  bool
	finished bool
	calls    map[int]int // content block index → tool-call index
	usage    *llm.Usage
	// end is what Next returns once pending is drained and the upstream
	// stream is done: io.EOF or the error that ended it; nil while running.
	end error
}

func (r *streamReader) Next() (llm.StreamEvent, error) {
	for {
		if r.next < len(r.pending) {
			ev := r.pending[r.next]
			r.pending[r.next] = llm.StreamEvent{}
			r.next++
			return ev, nil
		}
		r.pending, r.next = r.pending[:0], 0
		if r.end != nil {
			return llm.StreamEvent{}, r.end
		}
		msg, err := r.read()
		switch {
		case errors.Is(err, io.EOF):
			r.endOfStream()
			continue
		case err != nil:
			r.end = fmt.Errorf("reading bedrock stream: %w", err)
			continue
		}
		if err := r.handle(msg); err != nil {
			r.end = fmt.Errorf("decoding bedrock stream: %w", err)
		}
	}
}

// read decodes the next message; io.EOF only at a message boundary.
func (r *streamReader) read() (eventstream.Message, error) {
	prelude, err := r.in.Peek(4)
	switch {
	case len(prelude) == 0 && errors.Is(err, io.EOF):
		return eventstream.Message{}, io.EOF
	case len(prelude) < 4:
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return eventstream.Message{}, err
	}
	if n := binary.BigEndian.Uint32(prelude); n > maxMessageLen {
		return eventstream.Message{}, fmt.Errorf("event-stream message of %d bytes exceeds the limit of %d", n, maxMessageLen)
	}
	msg, err := r.dec.Decode(r.in, r.buf[:0])
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the prelude was there: the message is cut
	}
	if err != nil {
		return eventstream.Message{}, err
	}
	if cap(msg.Payload) <= 64<<10 {
		r.buf = msg.Payload
	}
	return msg, nil
}

func (r *streamReader) endOfStream() {
	if !r.finished {
		r.end = fmt.Errorf("%w: %w", errNoFinish, io.ErrUnexpectedEOF)
		return
	}
	r.end = io.EOF
}

func (r *streamReader) emit(ev llm.StreamEvent) { r.pending = append(r.pending, ev) }

func (r *streamReader) start() {
	if !r.started {
		r.started = true
		r.emit(llm.StreamEvent{Type: llm.EventStart, ID: newID(), Created: now().Unix()})
	}
}

func header(msg eventstream.Message, name string) string {
	if v, ok := msg.Headers.Get(name).(eventstream.StringValue); ok {
		return string(v)
	}
	return ""
}

func (r *streamReader) handle(msg eventstream.Message) error {
	switch header(msg, ":message-type") {
	case "exception":
		r.emit(llm.StreamEvent{Type: llm.EventError, Err: streamError(header(msg, ":exception-type"), msg.Payload)})
		r.end = io.EOF
		return nil
	case "error":
		r.emit(llm.StreamEvent{Type: llm.EventError, Err: streamError(header(msg, ":error-code"), []byte(`{"message":`+quote(header(msg, ":error-message"))+`}`))})
		r.end = io.EOF
		return nil
	}
	typ := header(msg, ":event-type")
	if typ == "messageStart" {
		r.start()
		return nil
	}
	if typ == "metadata" {
		var m metadataEvent
		if err := json.Unmarshal(msg.Payload, &m); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		if m.Usage != nil {
			u := usage(m.Usage)
			r.usage = &u
			if r.finished {
				r.emit(llm.StreamEvent{Type: llm.EventUsage, Usage: r.usage})
				r.usage = nil
			}
		}
		return nil
	}
	if r.finished {
		return nil
	}
	switch typ {
	case "contentBlockStart":
		var e contentBlockStartEvent
		if err := json.Unmarshal(msg.Payload, &e); err != nil {
			return fmt.Errorf("contentBlockStart: %w", err)
		}
		r.start()
		if tu := e.Start.ToolUse; tu != nil {
			if r.calls == nil {
				r.calls = map[int]int{}
			}
			if _, dup := r.calls[e.ContentBlockIndex]; dup {
				return fmt.Errorf("contentBlockStart: block %d started twice", e.ContentBlockIndex)
			}
			i := len(r.calls)
			r.calls[e.ContentBlockIndex] = i
			r.emit(llm.StreamEvent{Type: llm.EventToolCallStart, Index: i, ToolCall: &llm.ToolCall{ID: tu.ToolUseID, Name: tu.Name}})
		}
	case "contentBlockDelta":
		var e contentBlockDeltaEvent
		if err := json.Unmarshal(msg.Payload, &e); err != nil {
			return fmt.Errorf("contentBlockDelta: %w", err)
		}
		r.start()
		d := e.Delta
		switch {
		case d.Text != nil:
			if *d.Text != "" {
				r.emit(llm.StreamEvent{Type: llm.EventText, Text: *d.Text})
			}
		case d.ToolUse != nil:
			i, ok := r.calls[e.ContentBlockIndex]
			if !ok {
				return fmt.Errorf("contentBlockDelta: toolUse input for block %d, which started no tool use", e.ContentBlockIndex)
			}
			if d.ToolUse.Input != "" {
				r.emit(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: i, Text: d.ToolUse.Input})
			}
		case d.ReasoningContent != nil:
			if d.ReasoningContent.Text != "" || d.ReasoningContent.Signature != "" {
				r.emit(llm.StreamEvent{Type: llm.EventThinking, Text: d.ReasoningContent.Text, Signature: d.ReasoningContent.Signature})
			}
		}
	case "messageStop":
		var e messageStopEvent
		if err := json.Unmarshal(msg.Payload, &e); err != nil {
			return fmt.Errorf("messageStop: %w", err)
		}
		r.start()
		r.finished = true
		fin := finishReason(e.StopReason)
		if fin == llm.FinishStop && len(r.calls) > 0 {
			fin = llm.FinishToolCalls
		}
		r.emit(llm.StreamEvent{Type: llm.EventFinish, Finish: fin})
		if r.usage != nil {
			r.emit(llm.StreamEvent{Type: llm.EventUsage, Usage: r.usage})
			r.usage = nil
		}
	}
	return nil
}

// exceptionStatus is the HTTP status of each ConverseStream exception.
var exceptionStatus = map[string]int{
	"validationException":           http.StatusBadRequest,
	"accessDeniedException":         http.StatusForbidden,
	"resourceNotFoundException":     http.StatusNotFound,
	"throttlingException":           http.StatusTooManyRequests,
	"serviceQuotaExceededException": http.StatusTooManyRequests,
	"modelTimeoutException":         http.StatusRequestTimeout,
	"modelStreamErrorException":     http.StatusFailedDependency,
	"internalServerException":       http.StatusInternalServerError,
	"serviceUnavailableException":   http.StatusServiceUnavailable,
}

// streamError maps an exception sent inside the stream: the status from
// its type (500 for an unknown one), the rest as DecodeError.
func streamError(exception string, payload []byte) *llm.Error {
	status, ok := exceptionStatus[exception]
	if !ok {
		status = http.StatusInternalServerError
	}
	e := Codec{}.DecodeError(status, payload)
	if e.Code == "" {
		e.Code = exception
	}
	return e
}

func quote(s string) string {
	b, _ := marshal(s) // a string always marshals
	return string(b)
}
