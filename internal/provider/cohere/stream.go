package cohere

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hypergate/hypergate/internal/llm"
)

// errNoEnd is wrapped by the error a stream reader returns when the
// upstream stream ends before message-end: the answer is cut short, and the
// client must not mistake it for a whole one.
var errNoEnd = errors.New("cohere stream ended without message-end")

// NewStreamReader reads a streamed v2 chat body: server-sent events named
// by their type (event: content-delta …), each with a JSON data object
// whose "type" repeats the name; the codec goes by the data's type, and by
// the event name when the data has none. The events it yields:
//
//   - EventStart on message-start, with its id (Created as in
//     DecodeResponse); a stream that skips it gets one before its first
//     content;
//   - EventText for content-start and content-delta text
//     (delta.message.content.text) and for tool-plan-delta
//     (delta.message.tool_plan), the text before tool calls, as
//     DecodeResponse reads tool_plan; EventThinking for thinking content
//     (delta.message.content.thinking);
//   - EventToolCallStart on tool-call-start, with the id and function name
//     of delta.message.tool_calls (a fresh id when it has none), followed by
//     EventToolCallArgs when it already carries arguments; EventToolCallArgs
//     for each tool-call-delta's arguments piece, as it came. Indexes count
//     the stream's calls from 0; a piece for a call that never started is
//     dropped;
//   - on message-end, EventFinish mapped as in DecodeResponse (tool_calls
//     when the stream called a tool) and then EventUsage, when usage is
//     there, read as in DecodeResponse; or, for finish reason ERROR or
//     TIMEOUT, one EventError carrying delta.error as its message.
//
// Then io.EOF; events after message-end are ignored. content-end,
// tool-call-end, citation-start, citation-end, debug, events of unknown
// types and a "[DONE]" sentinel are skipped. A stream that ends before
// message-end yields an error wrapping io.ErrUnexpectedEOF; data that is
// not JSON, or a read error, is returned as an error too.
func (Codec) NewStreamReader(body io.Reader) llm.StreamReader {
	return &streamReader{sse: llm.NewSSEReader(body), calls: map[int]int{}}
}

type streamReader struct {
	sse     *llm.SSEReader
	pending []llm.StreamEvent
	next    int // index of the next pending event

	started bool
	// calls maps Cohere's tool-call index to the neutral one; ncalls counts
	// the calls started.
	calls  map[int]int
	ncalls int
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
		ev, err := r.sse.Next()
		switch {
		case errors.Is(err, io.EOF):
			r.end = fmt.Errorf("%w: %w", errNoEnd, io.ErrUnexpectedEOF)
			continue
		case err != nil:
			r.end = fmt.Errorf("reading cohere stream: %w", err)
			continue
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 || ev.IsDone() {
			continue // keep-alives, comments, empty data
		}
		var se streamEvent
		if err := json.Unmarshal(data, &se); err != nil {
			r.end = fmt.Errorf("decoding cohere stream event: %w", err)
			continue
		}
		if se.Type == "" {
			se.Type = ev.Name
		}
		r.handle(&se)
	}
}

func (r *streamReader) emit(ev llm.StreamEvent) { r.pending = append(r.pending, ev) }

func (r *streamReader) start(id string) {
	if !r.started {
		r.started = true
		r.emit(llm.StreamEvent{Type: llm.EventStart, ID: id, Created: now().Unix()})
	}
}

func (r *streamReader) handle(se *streamEvent) {
	var msg *deltaMessage
	if se.Delta != nil {
		msg = se.Delta.Message
	}
	switch se.Type {
	case "message-start":
		r.start(se.ID)
	case "content-start", "content-delta":
		if msg == nil {
			return
		}
		var c contentPart
		if json.Unmarshal(msg.Content, &c) != nil {
			return // a list (message-start's shape) or null: nothing new
		}
		if c.Thinking != "" {
			r.start("")
			r.emit(llm.StreamEvent{Type: llm.EventThinking, Text: c.Thinking})
		}
		if c.Text != "" {
			r.start("")
			r.emit(llm.StreamEvent{Type: llm.EventText, Text: c.Text})
		}
	case "tool-plan-delta":
		if msg != nil && msg.ToolPlan != "" {
			r.start("")
			r.emit(llm.StreamEvent{Type: llm.EventText, Text: msg.ToolPlan})
		}
	case "tool-call-start":
		var tc toolCall
		if msg == nil || json.Unmarshal(msg.ToolCalls, &tc) != nil {
			return
		}
		r.start("")
		// A repeated index starts a new call, and later pieces with that
		// index belong to it.
		n := r.ncalls
		r.ncalls++
		r.calls[se.Index] = n
		id := tc.ID
		if id == "" {
			id = newCallID(n)
		}
		r.emit(llm.StreamEvent{Type: llm.EventToolCallStart, Index: n, ToolCall: &llm.ToolCall{ID: id, Name: tc.Function.Name}})
		if tc.Function.Arguments != "" {
			r.emit(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: n, Text: tc.Function.Arguments})
		}
	case "tool-call-delta":
		var tc toolCall
		if msg == nil || json.Unmarshal(msg.ToolCalls, &tc) != nil || tc.Function.Arguments == "" {
			return
		}
		n, ok := r.calls[se.Index]
		if !ok {
			return
		}
		r.emit(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: n, Text: tc.Function.Arguments})
	case "message-end":
		r.start("")
		r.end = io.EOF
		var d streamDelta
		if se.Delta != nil {
			d = *se.Delta
		}
		if e := failure(d.FinishReason, d.Error); e != nil {
			r.emit(llm.StreamEvent{Type: llm.EventError, Err: e})
			return
		}
		r.emit(llm.StreamEvent{Type: llm.EventFinish, Finish: finishReason(d.FinishReason, r.ncalls > 0)})
		if d.Usage != nil {
			u := usage(d.Usage)
			r.emit(llm.StreamEvent{Type: llm.EventUsage, Usage: &u})
		}
	}
}
