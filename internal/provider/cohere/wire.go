package cohere

import (
	"bytes"
	"encoding/json"
)

// The subset of Cohere's v2 chat types the codec reads and writes, named as
// in the v2 API reference (ChatMessageV2, ToolV2, ToolCallV2 …).

type chatRequest struct {
	Model          string          `json:"model"`
	Messages       []message       `json:"messages"`
	Tools          []tool          `json:"tools,omitempty"`
	StrictTools    bool            `json:"strict_tools,omitempty"`
	ToolChoice     string          `json:"tool_choice,omitempty"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	P              *float64        `json:"p,omitempty"`
	K              *int            `json:"k,omitempty"`
	StopSequences  []string        `json:"stop_sequences,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
	Thinking       *thinking       `json:"thinking,omitempty"`
	Stream         bool            `json:"stream"`
}

// message is one ChatMessageV2. Content is a list of parts for system,
// user and assistant messages and a plain string for tool messages, both
// of which Cohere accepts.
type message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content,omitempty"`
	ToolPlan   string     `json:"tool_plan,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Thinking string    `json:"thinking,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

type tool struct {
	Type     string       `json:"type"`
	Function functionDecl `json:"function"`
}

type functionDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

type thinking struct {
	Type        string `json:"type"`
	TokenBudget *int   `json:"token_budget,omitempty"`
}

// chatResponse is a non-streamed v2 chat answer.
// Message is kept raw because Cohere's error body uses the same key for
// its text.
type chatResponse struct {
	ID           string          `json:"id"`
	FinishReason string          `json:"finish_reason"`
	Message      json.RawMessage `json:"message"`
	Usage        *usageFields    `json:"usage"`
}

type responseMessage struct {
	Role      string        `json:"role"`
	Content   []contentPart `json:"content"`
	ToolPlan  string        `json:"tool_plan"`
	ToolCalls []toolCall    `json:"tool_calls"`
}

type usageFields struct {
	BilledUnits *tokenCounts `json:"billed_units"`
	Tokens      *tokenCounts `json:"tokens"`
	// CachedTokens is the part of the prompt served from Cohere's cache.
	CachedTokens float64 `json:"cached_tokens"`
}

// tokenCounts are floats because Cohere's schema declares them as numbers.
type tokenCounts struct {
	InputTokens  *float64 `json:"input_tokens"`
	OutputTokens *float64 `json:"output_tokens"`
}

// streamEvent is the data of one streamed event. Type repeats the SSE event
// name. Delta's shape depends on Type; the fields the codec reads are all
// here.
type streamEvent struct {
	Type  string       `json:"type"`
	ID    string       `json:"id"`
	Index int          `json:"index"`
	Delta *streamDelta `json:"delta"`
}

type streamDelta struct {
	Message      *deltaMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
	Error        string        `json:"error"`
	Usage        *usageFields  `json:"usage"`
}

// deltaMessage is the partial message of a delta. Content and ToolCalls are
// single objects in stream events (lists only in message-start), so they
// are kept raw and read by the handler of each event type.
type deltaMessage struct {
	Content   json.RawMessage `json:"content"`
	ToolPlan  string          `json:"tool_plan"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

// apiError is Cohere's error body.
type apiError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// marshal encodes v without escaping <, > and &, so that prompts reach the
// upstream byte for byte as the client wrote them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
