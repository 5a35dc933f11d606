package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// NewStreamReader reads an upstream's chat.completion.chunk SSE stream as
// neutral events:
//
//   - the first chunk gives EventStart (ID, model, created);
//   - delta.reasoning_content, or delta.reasoning (OpenRouter, Ollama, newer
//     vLLM), gives EventThinking; delta.content and delta.refusal give
//     EventText;
//   - tool-call deltas are keyed by their index: the first delta of an
//     index gives EventToolCallStart, every non-empty arguments piece gives
//     EventToolCallArgs, passed on as it came. A server that omits the index
//     is followed by ID: a new ID starts the next call;
//   - finish_reason gives EventFinish once;
//   - usage is kept, the last report winning (some servers send cumulative
//     usage on every chunk), and given as EventUsage at the end of the
//     stream;
//   - data: {"error":…} gives EventError, after which the stream ends;
//   - data: [DONE] ends the stream with io.EOF. A stream that ends without
//     [DONE] after a finish_reason ends the same way; one that ends with
//     [DONE] but no finish_reason is given EventFinish (stop, or tool_calls
//     when it called tools).
//
// Only the first choice is read. A stream cut off before its finish, a
// chunk that is not JSON, or an oversized event is an error from Next, an
// *llm.Error with Status 502; read errors from body are wrapped in one.
func (Codec) NewStreamReader(body io.Reader) llm.StreamReader {
	return &streamReader{sse: llm.NewSSEReader(body)}
}

type streamReader struct {
	sse   *llm.SSEReader
	queue []llm.StreamEvent
	head  int
	err   error // sticky: io.EOF or the error that ended the stream

	started  bool
	finished bool
	usage    llm.Usage
	// calls maps each tool call's index to its ID, for servers that omit
	// the index; order is the order the calls started in.
	calls map[int]string
	order []int
}

func (r *streamReader) Next() (llm.StreamEvent, error) {
	for {
		if r.head < len(r.queue) {
			ev := r.queue[r.head]
			r.queue[r.head] = llm.StreamEvent{}
			r.head++
			return ev, nil
		}
		r.queue, r.head = r.queue[:0], 0
		if r.err != nil {
			return llm.StreamEvent{}, r.err
		}
		ev, err := r.sse.Next()
		switch {
		case errors.Is(err, io.EOF):
			r.end(false)
			continue
		case err != nil:
			r.fail(&llm.Error{Status: http.StatusBadGateway, Type: typeUpstream, Message: "reading the upstream's stream: " + err.Error()})
			continue
		case !ev.IsMessage():
			continue // keep-alive comments
		case ev.IsDone():
			r.end(true)
			continue
		}
		r.chunk(ev.Data)
	}
}

func (r *streamReader) push(ev llm.StreamEvent) { r.queue = append(r.queue, ev) }

// fail ends the stream with err after whatever is queued.
func (r *streamReader) fail(err error) { r.err = err }

// end finishes the stream at [DONE] or at the end of the body.
func (r *streamReader) end(done bool) {
	if !r.finished {
		if !done {
			r.fail(upstreamError("the upstream's stream ended before it finished"))
			return
		}
		r.finished = true
		r.push(llm.StreamEvent{Type: llm.EventFinish, Finish: neutralFinish("", len(r.order) > 0)})
	}
	if r.usage.Present {
		u := r.usage
		r.push(llm.StreamEvent{Type: llm.EventUsage, Usage: &u})
	}
	r.err = io.EOF
}

func (r *streamReader) chunk(data []byte) {
	if !json.Valid(data) {
		r.fail(upstreamError("the upstream sent a stream chunk that is not JSON: %s", truncate(string(data), maxErrorText)))
		return
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		r.fail(upstreamError("the upstream sent a stream chunk that is not a JSON object: %s", truncate(string(data), maxErrorText)))
		return
	}
	if e := root.Get("error"); e.Exists() && e.Type != gjson.Null {
		r.push(llm.StreamEvent{Type: llm.EventError, Err: streamError(e)})
		r.err = io.EOF
		return
	}
	if !r.started {
		r.started = true
		r.push(llm.StreamEvent{
			Type:    llm.EventStart,
			ID:      root.Get("id").String(),
			Model:   root.Get("model").String(),
			Created: root.Get("created").Int(),
		})
	}
	if choice, ok := firstChoice(root.Get("choices")); ok && !r.finished {
		r.delta(choice.Get("delta"))
		if f := choice.Get("finish_reason"); f.Type == gjson.String && f.Str != "" {
			r.finished = true
			ev := llm.StreamEvent{Type: llm.EventFinish, Finish: neutralFinish(f.Str, len(r.order) > 0)}
			if s := choice.Get("stop_reason"); s.Type == gjson.String {
				ev.StopSequence = s.Str
			}
			r.push(ev)
		}
	}
	if u := root.Get("usage"); u.IsObject() {
		if usage := llm.UsageFromChunk(data); usage.Present {
			r.usage = usage
		}
	}
}

func (r *streamReader) delta(d gjson.Result) {
	if !d.IsObject() {
		return
	}
	if t := reasoningText(d); t != "" {
		r.push(llm.StreamEvent{Type: llm.EventThinking, Text: t})
	}
	if c := d.Get("content"); c.Type == gjson.String && c.Str != "" {
		r.push(llm.StreamEvent{Type: llm.EventText, Text: c.Str})
	}
	if c := d.Get("refusal"); c.Type == gjson.String && c.Str != "" {
		r.push(llm.StreamEvent{Type: llm.EventText, Text: c.Str})
	}
	d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		if tc.IsObject() {
			r.toolCall(tc)
		}
		return true
	})
}

// maxToolCalls bounds the tool calls of one stream: real answers make a
// handful, and an index is an upstream-controlled number.
const maxToolCalls = 1024

func (r *streamReader) toolCall(tc gjson.Result) {
	id := tc.Get("id").String()
	var index int
	switch idx := tc.Get("index"); {
	case idx.Type == gjson.Number && idx.Num >= 0 && idx.Num < 1<<31:
		index = int(idx.Int())
	case id != "" && !r.knownID(id), len(r.order) == 0:
		index = len(r.order)
	default:
		index = r.order[len(r.order)-1]
	}
	if r.calls == nil {
		r.calls = make(map[int]string)
	}
	if _, ok := r.calls[index]; !ok {
		if len(r.order) >= maxToolCalls {
			r.fail(upstreamError("the upstream's stream started more than %d tool calls", maxToolCalls))
			return
		}
		if id == "" {
			id = newID("call_")
		}
		r.calls[index] = id
		r.order = append(r.order, index)
		r.push(llm.StreamEvent{
			Type:     llm.EventToolCallStart,
			Index:    index,
			ToolCall: &llm.ToolCall{ID: id, Name: tc.Get("function.name").String()},
		})
	}
	if args := argumentsText(tc.Get("function.arguments")); args != "" {
		r.push(llm.StreamEvent{Type: llm.EventToolCallArgs, Index: index, Text: args})
	}
}

func (r *streamReader) knownID(id string) bool {
	for _, known := range r.calls {
		if known == id {
			return true
		}
	}
	return false
}

// streamError reads an error sent in the middle of a stream, where no HTTP
// status says what kind it is: the type does, or vLLM's numeric code.
func streamError(obj gjson.Result) *llm.Error {
	if obj.Type == gjson.String {
		return &llm.Error{Status: http.StatusBadGateway, Type: typeUpstream, Message: truncate(obj.Str, maxUpstreamMessage)}
	}
	e := errorFrom(obj, 0)
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n <= 599 {
		e.Status = n
	} else {
		e.Status = statusForType(e.Type)
	}
	if e.Type == "" {
		e.Type = typeForStatus(e.Status)
	}
	return e
}

// NewStreamWriter writes neutral events as OpenAI chat.completion.chunk
// server-sent events, without the final usage chunk; see
// NewStreamWriterFor.
func (c Codec) NewStreamWriter(w io.Writer, flush func() error) llm.StreamWriter {
	return c.NewStreamWriterFor(w, flush, false)
}

// NewStreamWriterFor writes neutral events as OpenAI streams its answers,
// each chunk a "data: {…}\n\n" event flushed as soon as it is written:
//
//   - a first chunk whose delta is {"role":"assistant","content":""}, at
//     EventStart or before the first delta when no EventStart came;
//   - a chunk per text delta, and per thinking delta as reasoning_content
//     when ReasoningContent is set (they are dropped otherwise);
//   - tool calls as OpenAI sends them: the first delta of a call carries
//     index, id, type and function {name, arguments:""}, later ones only
//     index and an arguments piece. Indexes are renumbered 0, 1, 2 … in the
//     order calls start, whatever the upstream's numbering;
//   - a chunk with an empty delta and the finish_reason;
//   - with includeUsage (the client's stream_options.include_usage), a
//     "usage": null on every chunk and, at Close, a last chunk with
//     "choices": [] and the usage, when the upstream reported any;
//   - at Close, data: [DONE].
//
// EventError writes data: {"error":{…}} and ends the stream: OpenAI closes
// the connection after an error without [DONE], so Close then writes
// nothing. A nil flush is allowed.
func (c Codec) NewStreamWriterFor(w io.Writer, flush func() error, includeUsage bool) llm.StreamWriter {
	return &streamWriter{w: w, flush: flush, includeUsage: includeUsage, reasoning: c.ReasoningContent}
}

type streamWriter struct {
	w            io.Writer
	flush        func() error
	includeUsage bool
	reasoning    bool

	id      string
	model   string
	created int64

	begun    bool // the role chunk is written
	finished bool // the finish chunk is written
	ended    bool // an error was written or Close was called
	err      error
	usage    *llm.Usage
	indexes  map[int]int // neutral tool-call index → OpenAI index
	buf      []byte
}

// errStreamEnded is returned by writes after an error event or Close.
var errStreamEnded = errors.New("openai stream writer: the stream has ended")

func (s *streamWriter) Write(ev llm.StreamEvent) error {
	if s.err != nil {
		return s.err
	}
	if s.ended {
		return errStreamEnded
	}
	switch ev.Type {
	case llm.EventStart:
		if !s.begun {
			s.id, s.model, s.created = ev.ID, ev.Model, ev.Created
		}
		return s.begin()
	case llm.EventText:
		if ev.Text == "" {
			return nil
		}
		return s.delta(chunkDelta{Content: &ev.Text})
	case llm.EventThinking:
		if !s.reasoning || ev.Text == "" {
			return nil
		}
		return s.delta(chunkDelta{ReasoningContent: ev.Text})
	case llm.EventToolCallStart:
		call := llm.ToolCall{}
		if ev.ToolCall != nil {
			call = *ev.ToolCall
		}
		if _, ok := s.indexes[ev.Index]; ok {
			return nil // a repeated start adds nothing
		}
		idx := s.index(ev.Index)
		if call.ID == "" {
			call.ID = newID("call_")
		}
		// Arguments that came whole with the start (as Gemini sends calls)
		// go in the first delta, where OpenAI puts "".
		args := call.Arguments
		return s.delta(chunkDelta{ToolCalls: []chunkToolCall{{
			Index: idx, ID: call.ID, Type: "function",
			Function: chunkFunction{Name: call.Name, Arguments: &args},
		}}})
	case llm.EventToolCallArgs:
		if ev.Text == "" {
			return nil
		}
		return s.delta(chunkDelta{ToolCalls: []chunkToolCall{{
			Index: s.index(ev.Index), Function: chunkFunction{Arguments: &ev.Text},
		}}})
	case llm.EventFinish:
		if s.finished {
			return nil
		}
		s.finished = true
		reason := finishReason(ev.Finish, len(s.indexes) > 0)
		return s.chunk(chunk{Choices: []chunkChoice{{Delta: chunkDelta{}, FinishReason: &reason}}})
	case llm.EventUsage:
		if ev.Usage != nil && ev.Usage.Present {
			u := *ev.Usage
			s.usage = &u
		}
		return nil
	case llm.EventError:
		e := ev.Err
		if e == nil {
			e = &llm.Error{Status: http.StatusBadGateway, Type: typeUpstream, Message: "the upstream's stream failed"}
		}
		s.ended = true
		b, err := marshal(newErrorBody(e))
		if err != nil {
			return s.fail(err)
		}
		return s.send(b)
	default:
		return fmt.Errorf("openai stream writer: unknown event type %q", ev.Type)
	}
}

// index maps a neutral tool-call index to OpenAI's, assigning the next one
// to a call not seen before.
func (s *streamWriter) index(neutral int) int {
	if s.indexes == nil {
		s.indexes = make(map[int]int)
	}
	idx, ok := s.indexes[neutral]
	if !ok {
		idx = len(s.indexes)
		s.indexes[neutral] = idx
	}
	return idx
}

// begin writes the role chunk once, filling in an ID and a time when the
// upstream gave none: clients check that every chunk has the same ID.
func (s *streamWriter) begin() error {
	if s.begun {
		return nil
	}
	s.begun = true
	if s.id == "" {
		s.id = newID("chatcmpl-")
	}
	if s.created == 0 {
		s.created = time.Now().Unix()
	}
	empty := ""
	return s.chunk(chunk{Choices: []chunkChoice{{
		Delta: chunkDelta{Role: "assistant", Content: &empty, Refusal: rawNull},
	}}})
}

func (s *streamWriter) delta(d chunkDelta) error {
	if err := s.begin(); err != nil {
		return err
	}
	return s.chunk(chunk{Choices: []chunkChoice{{Delta: d}}})
}

var rawNull = json.RawMessage("null")

func (s *streamWriter) chunk(c chunk) error {
	if err := s.begin(); err != nil {
		return err
	}
	c.ID, c.Object, c.Created, c.Model = s.id, "chat.completion.chunk", s.created, s.model
	if s.includeUsage && c.Usage == nil {
		c.Usage = rawNull
	}
	b, err := marshal(c)
	if err != nil {
		return s.fail(err)
	}
	return s.send(b)
}

// send writes one "data:" event in a single Write and flushes it. The JSON
// from marshal has no line breaks, so it needs no further framing.
func (s *streamWriter) send(data []byte) error {
	s.buf = append(append(append(s.buf[:0], "data: "...), data...), "\n\n"...)
	if _, err := s.w.Write(s.buf); err != nil {
		return s.fail(err)
	}
	if s.flush != nil {
		if err := s.flush(); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

func (s *streamWriter) fail(err error) error {
	s.err = fmt.Errorf("writing openai stream: %w", err)
	return s.err
}

// Close writes the usage chunk, when asked for and known, and data: [DONE].
// After an error event it writes nothing, as OpenAI does.
func (s *streamWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	if s.ended {
		return nil
	}
	s.ended = true
	if s.includeUsage && s.usage != nil {
		u, err := marshal(newWireUsage(*s.usage))
		if err != nil {
			return s.fail(err)
		}
		if err := s.chunk(chunk{Choices: []chunkChoice{}, Usage: u}); err != nil {
			return err
		}
	}
	return s.send([]byte("[DONE]"))
}

// The chat.completion.chunk as the stream writer writes it.
type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	// Usage is null on every chunk but the last when the client asked for
	// usage, and absent when it did not, as at OpenAI.
	Usage json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role             string          `json:"role,omitempty"`
	Content          *string         `json:"content,omitempty"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	Refusal          json.RawMessage `json:"refusal,omitempty"`
	ToolCalls        []chunkToolCall `json:"tool_calls,omitempty"`
}

type chunkToolCall struct {
	Index    int           `json:"index"`
	ID       string        `json:"id,omitempty"`
	Type     string        `json:"type,omitempty"`
	Function chunkFunction `json:"function"`
}

type chunkFunction struct {
	Name      string  `json:"name,omitempty"`
	Arguments *string `json:"arguments,omitempty"`
}
