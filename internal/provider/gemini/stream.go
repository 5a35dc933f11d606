package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hypergate/hypergate/internal/llm"
)

// errNoFinish is wrapped by the error a stream reader returns when the
// upstream stream ends before any chunk carried a finish reason: the answer
// is cut short, and the client must not mistake it for a whole one.
var errNoFinish = errors.New("gemini stream ended without a finish reason")

// NewStreamReader reads a streamGenerateContent?alt=sse body: server-sent
// events whose data is each a GenerateContentResponse carrying the next
// piece of the answer, with no end sentinel. The events it yields:
//
//   - EventStart once, on the first chunk, with its responseId and
//     modelVersion (Created as in DecodeResponse);
//   - EventText and EventThinking (parts marked thought: true) for each
//     non-empty text part, as they arrive;
//   - for a functionCall part, EventToolCallStart then a single
//     EventToolCallArgs with the whole args JSON, since Gemini sends each
//     call complete in one chunk; ids as in DecodeResponse, indexes
//     counting the stream's calls from 0;
//   - EventFinish at the first chunk with a finishReason, mapped as in
//     DecodeResponse (tool_calls when the stream called a tool), or with
//     content_filter for a blocked prompt (promptFeedback.blockReason);
//     content arriving after it is ignored;
//   - EventUsage with the last usageMetadata seen, once the stream has
//     ended, since each chunk reports the usage so far;
//   - EventError, for a Google error object sent in the stream, after
//     which the stream ends.
//
// Then io.EOF. A stream that ends without a finish reason or an error
// object yields an error wrapping io.ErrUnexpectedEOF; a chunk that is not
// JSON, or a read error, is returned as an error too.
func (Codec) NewStreamReader(body io.Reader) llm.StreamReader {
	return &streamReader{sse: llm.NewSSEReader(body)}
}

type streamReader struct {
	sse     *llm.SSEReader
	pending []llm.StreamEvent
	next    int // index of the next pending event

	started  bool
	finished bool
	calls    int
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
		ev, err := r.sse.Next()
		switch {
		case errors.Is(err, io.EOF):
			r.endOfStream()
			continue
		case err != nil:
			r.end = fmt.Errorf("reading gemini stream: %w", err)
			continue
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue // keep-alives, comments, empty data
		}
		var chunk generateResponse
		if err := json.Unmarshal(data, &chunk); err != nil {
			r.end = fmt.Errorf("decoding gemini stream chunk: %w", err)
			continue
		}
		r.handle(&chunk)
	}
}

func (r *streamReader) endOfStream() {
	if !r.finished {
		r.end = fmt.Errorf("%w: %w", errNoFinish, io.ErrUnexpectedEOF)
		return
	}
	if r.usage != nil {
		r.emit(llm.StreamEvent{Type: llm.EventUsage, Usage: r.usage})
	}
	r.end = io.EOF
}

func (r *streamReader) emit(ev llm.StreamEvent) { r.pending = append(r.pending, ev) }

func (r *streamReader) handle(chunk *generateResponse) {
	if chunk.Error != nil {
		r.emit(llm.StreamEvent{Type: llm.EventError, Err: apiError(0, chunk.Error)})
		r.end = io.EOF
		return
	}
	if !r.started {
		r.started = true
		r.emit(llm.StreamEvent{
			Type:    llm.EventStart,
			ID:      chunk.ResponseID,
			Model:   chunk.ModelVersion,
			Created: created(chunk.CreateTime),
		})
	}
	if chunk.UsageMetadata != nil {
		u := usage(chunk.UsageMetadata)
		r.usage = &u
	}
	if r.finished {
		return
	}
	c, ok := firstCandidate(chunk.Candidates)
	if !ok {
		if chunk.PromptFeedback != nil && chunk.PromptFeedback.BlockReason != "" {
			r.finished = true
			r.emit(llm.StreamEvent{Type: llm.EventFinish, Finish: llm.FinishContentFilter})
		}
		return
	}
	for _, p := range c.Content.Parts {
		switch {
		case p.FunctionCall != nil:
			tc := toolCall(p.FunctionCall, r.calls)
			r.emit(llm.StreamEvent{
				Type: llm.EventToolCallStart, Index: r.calls,
				ToolCall: &llm.ToolCall{ID: tc.ID, Name: tc.Name},
			})
			r.emit(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: r.calls, Text: tc.Arguments})
			r.calls++
		case p.Text == "":
		case p.Thought:
			r.emit(llm.StreamEvent{Type: llm.EventThinking, Text: p.Text})
		default:
			r.emit(llm.StreamEvent{Type: llm.EventText, Text: p.Text})
		}
	}
	if c.FinishReason != "" {
		r.finished = true
		r.emit(llm.StreamEvent{Type: llm.EventFinish, Finish: finishReason(c.FinishReason, r.calls > 0)})
	}
}
