package llm

import (
	"encoding/json"
	"io"
)

// The provider-neutral chat model. When a client's API format differs from
// its upstream's (OpenAI SDK → Anthropic, Anthropic SDK → OpenAI, either →
// Gemini or Bedrock …), the inbound codec decodes the request into these
// types, the upstream codec encodes them for the provider, and the answer
// travels back the same way — as a whole Response, or as StreamEvents.
// Requests whose format matches the upstream's never come here: they pass
// through untouched.

// Role is who speaks in a message.
type Role string

// The roles. System prompts are not messages: they live in Request.System,
// because Anthropic, Gemini and Bedrock all keep them apart.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool carries tool results back to the model; OpenAI sends them as
	// "tool" messages, Anthropic as tool_result blocks in a user message.
	RoleTool Role = "tool"
)

// PartType is the kind of one piece of message content.
type PartType string

// The content kinds every family can express in some form.
const (
	PartText     PartType = "text"
	PartImage    PartType = "image"
	PartThinking PartType = "thinking" // reasoning content an assistant produced
)

// Part is one piece of message content.
type Part struct {
	Type PartType `json:"type"`
	Text string   `json:"text,omitempty"` // PartText, PartThinking
	// An image is either a URL or inline base64 data with its media type.
	ImageURL  string `json:"image_url,omitempty"`
	MediaType string `json:"media_type,omitempty"` // e.g. image/png
	Data      string `json:"data,omitempty"`       // base64, not decoded: it is only ever re-encoded
	// Detail is OpenAI's image detail hint (low, high, auto).
	Detail string `json:"detail,omitempty"`
	// Signature is Anthropic's signature of a thinking block, which must be
	// sent back unchanged in later turns.
	Signature string `json:"signature,omitempty"`
	// CacheControl is Anthropic's prompt-caching marker ("ephemeral"), kept
	// so that an Anthropic-to-Anthropic translation loses nothing.
	CacheControl string `json:"cache_control,omitempty"`
}

// Message is one turn of the conversation.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts,omitempty"`
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID names the call a RoleTool message answers; IsError marks a
	// failed tool run (Anthropic's is_error).
	ToolCallID string `json:"tool_call_id,omitempty"`
	IsError    bool   `json:"is_error,omitempty"`
	// Name is OpenAI's optional participant name.
	Name string `json:"name,omitempty"`
}

// Text returns the concatenated text parts of a message.
func (m Message) Text() string {
	var s string
	for _, p := range m.Parts {
		if p.Type == PartText {
			s += p.Text
		}
	}
	return s
}

// Tool is a function the model may call.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"` // a JSON Schema object
	Strict      bool            `json:"strict,omitempty"`     // OpenAI structured tool calling
}

// ToolCall is one call an assistant makes.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments is the JSON text of the arguments, as OpenAI sends it;
	// Anthropic's and Gemini's argument objects are marshalled into it.
	Arguments string `json:"arguments"`
}

// ToolChoiceMode says whether and how the model must call tools.
type ToolChoiceMode string

// The tool-choice modes (OpenAI's names; Anthropic's "any" is Required).
const (
	ToolChoiceAuto     ToolChoiceMode = "auto"
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required"
	ToolChoiceTool     ToolChoiceMode = "tool" // exactly the tool in Name
)

// ToolChoice constrains tool use.
type ToolChoice struct {
	Mode ToolChoiceMode `json:"mode"`
	Name string         `json:"name,omitempty"`
	// DisableParallel forbids several tool calls in one turn.
	DisableParallel bool `json:"disable_parallel,omitempty"`
}

// ResponseFormat asks for JSON output.
type ResponseFormat struct {
	Type   string          `json:"type"`             // "json_object" or "json_schema"
	Name   string          `json:"name,omitempty"`   // json_schema: the schema's name
	Schema json.RawMessage `json:"schema,omitempty"` // json_schema: the schema
	Strict bool            `json:"strict,omitempty"`
}

// Reasoning configures thinking models.
type Reasoning struct {
	Effort       string `json:"effort,omitempty"`        // OpenAI: minimal, low, medium, high
	BudgetTokens int    `json:"budget_tokens,omitempty"` // Anthropic / Gemini thinking budget
}

// Request is a provider-neutral chat request.
type Request struct {
	Model          string          `json:"model"`
	System         []Part          `json:"system,omitempty"`
	Messages       []Message       `json:"messages"`
	Tools          []Tool          `json:"tools,omitempty"`
	ToolChoice     *ToolChoice     `json:"tool_choice,omitempty"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	TopP           *float64        `json:"top_p,omitempty"`
	TopK           *int            `json:"top_k,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Reasoning      *Reasoning      `json:"reasoning,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	// IncludeUsage is OpenAI's stream_options.include_usage.
	IncludeUsage bool `json:"include_usage,omitempty"`
	// User identifies the end user to the provider (OpenAI user, Anthropic metadata.user_id).
	User string `json:"user,omitempty"`
	// Dropped lists the inbound fields that have no counterpart in this
	// model and were left out on purpose, for the call record and the docs.
	Dropped []string `json:"dropped,omitempty"`
}

// FinishReason is why generation stopped, in OpenAI's vocabulary.
type FinishReason string

// The finish reasons. Each family's own values map onto these.
const (
	FinishStop          FinishReason = "stop"
	FinishLength        FinishReason = "length"
	FinishToolCalls     FinishReason = "tool_calls"
	FinishContentFilter FinishReason = "content_filter"
)

// Response is a whole, non-streamed answer.
type Response struct {
	ID      string       `json:"id"`
	Model   string       `json:"model"`
	Created int64        `json:"created"` // unix seconds
	Message Message      `json:"message"` // the assistant's message: text, thinking parts and tool calls
	Finish  FinishReason `json:"finish_reason"`
	// StopSequence is the stop sequence that ended generation, when known.
	StopSequence string `json:"stop_sequence,omitempty"`
	Usage        Usage  `json:"usage"`
}

// StreamEventType is the kind of one streamed event.
type StreamEventType string

// The stream events. A stream is: Start, then any number of deltas (text,
// thinking, tool-call start and argument pieces), then Finish, then Usage
// (when the upstream reports it), then the end of the stream. Tool-call
// argument deltas carry partial JSON exactly as the upstream sent it, so no
// encoder ever has to buffer a tool call until it is complete.
const (
	EventStart         StreamEventType = "start"          // ID, Model, Created
	EventText          StreamEventType = "text"           // Text
	EventThinking      StreamEventType = "thinking"       // Text (and Signature at the block's end, for Anthropic)
	EventToolCallStart StreamEventType = "tool_call"      // Index, ToolCall.ID, ToolCall.Name
	EventToolCallArgs  StreamEventType = "tool_call_args" // Index, Text = a piece of the arguments' JSON
	EventFinish        StreamEventType = "finish"         // Finish, StopSequence
	EventUsage         StreamEventType = "usage"          // Usage
	EventError         StreamEventType = "error"          // Err
)

// StreamEvent is one provider-neutral stream event.
type StreamEvent struct {
	Type         StreamEventType `json:"type"`
	ID           string          `json:"id,omitempty"`
	Model        string          `json:"model,omitempty"`
	Created      int64           `json:"created,omitempty"`
	Text         string          `json:"text,omitempty"`
	Signature    string          `json:"signature,omitempty"`
	Index        int             `json:"index,omitempty"` // tool-call index within the message
	ToolCall     *ToolCall       `json:"tool_call,omitempty"`
	Finish       FinishReason    `json:"finish_reason,omitempty"`
	StopSequence string          `json:"stop_sequence,omitempty"`
	Usage        *Usage          `json:"usage,omitempty"`
	Err          *Error          `json:"error,omitempty"`
}

// Error is a provider error in neutral form, mapped into the caller's shape.
type Error struct {
	Status  int    `json:"status"`         // HTTP status to answer with
	Type    string `json:"type"`           // OpenAI-style type, e.g. invalid_request_error, rate_limit_error
	Code    string `json:"code,omitempty"` // provider code, e.g. context_length_exceeded
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// StreamReader yields the events of a streamed upstream answer; it returns
// io.EOF after the last one.
type StreamReader interface {
	Next() (StreamEvent, error)
}

// StreamWriter writes events in a client's format (SSE framing included);
// Close ends the stream in that format (e.g. OpenAI's "data: [DONE]").
type StreamWriter interface {
	Write(StreamEvent) error
	Close() error
}

// UpstreamCodec is what the gateway needs of a provider family to send it a
// neutral request and read its answer.
type UpstreamCodec interface {
	EncodeRequest(r *Request) ([]byte, error)
	DecodeResponse(body []byte) (*Response, error)
	NewStreamReader(body io.Reader) StreamReader
	DecodeError(status int, body []byte) *Error
}

// InboundCodec is what the gateway needs of a client API format (OpenAI
// chat completions, Anthropic messages) to take a request in it and answer
// in it.
type InboundCodec interface {
	DecodeRequest(body []byte) (*Request, error)
	EncodeResponse(r *Response) ([]byte, error)
	NewStreamWriter(w io.Writer, flush func() error) StreamWriter
	EncodeError(e *Error) []byte
}
