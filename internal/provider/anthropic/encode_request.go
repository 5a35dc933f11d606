package anthropic

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
)

// DefaultMaxTokens is the max_tokens sent when the neutral request sets
// none: Anthropic requires the field, while OpenAI-format clients usually
// leave it out. 4096 is what every current Claude model can produce and
// what Anthropic's own examples use. When thinking is on, the thinking
// budget is added to it, since thinking tokens count against max_tokens.
const DefaultMaxTokens = 4096

// Thinking budgets for the OpenAI-style effort levels, used for models that
// take thinking as a token budget. Anthropic's minimum budget is 1024.
var effortBudget = map[string]int{
	"minimal": 1024,
	"low":     2048,
	"medium":  8192,
	"high":    16384,
	"xhigh":   32768,
}

// adaptiveBudget is what adaptive thinking is assumed to spend when the
// default max_tokens is raised to make room for it: the budget of "high".
const adaptiveBudget = 16384

// Anthropic's request body; field order follows Anthropic's reference.
type wireRequest struct {
	Model         string            `json:"model"`
	MaxTokens     int               `json:"max_tokens"`
	System        any               `json:"system,omitempty"` // string or []textBlock
	Messages      []wireMessage     `json:"messages"`
	Tools         []wireTool        `json:"tools,omitempty"`
	ToolChoice    *wireToolChoice   `json:"tool_choice,omitempty"`
	StopSequences []string          `json:"stop_sequences,omitempty"`
	Temperature   *float64          `json:"temperature,omitempty"`
	TopP          *float64          `json:"top_p,omitempty"`
	TopK          *int              `json:"top_k,omitempty"`
	Thinking      *wireThinking     `json:"thinking,omitempty"`
	OutputConfig  *wireOutputConfig `json:"output_config,omitempty"`
	Metadata      *wireMetadata     `json:"metadata,omitempty"`
	Stream        bool              `json:"stream,omitempty"`
}

type wireMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"` // string or []block
}

type cacheControl struct {
	Type string `json:"type"`
}

func cacheMarker(typ string) *cacheControl {
	if typ == "" {
		return nil
	}
	return &cacheControl{Type: typ}
}

type textBlock struct {
	Type         string        `json:"type"`
	Text         string        `json:"text"`
	CacheControl *cacheControl `json:"cache_control,omitempty"`
}

type imageBlock struct {
	Type         string        `json:"type"`
	Source       imageSource   `json:"source"`
	CacheControl *cacheControl `json:"cache_control,omitempty"`
}

type imageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type thinkingBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type redactedThinkingBlock struct {
	Type string `json:"type"`
	Data string `json:"data"`
}

type toolUseBlock struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type toolResultBlock struct {
	Type      string `json:"type"`
	ToolUseID string `json:"tool_use_id"`
	Content   any    `json:"content,omitempty"` // string or []block
	IsError   bool   `json:"is_error,omitempty"`
}

type wireTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	Strict      bool            `json:"strict,omitempty"`
}

type wireToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

type wireThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type wireOutputConfig struct {
	Effort string      `json:"effort,omitempty"`
	Format *wireFormat `json:"format,omitempty"`
}

type wireFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

type wireMetadata struct {
	UserID string `json:"user_id"`
}

var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// EncodeRequest writes a neutral request as an Anthropic Messages request
// body. What Anthropic cannot express is left out and appended to r.Dropped,
// for the call record:
//
//   - the system prompt is a plain string when it is one text part without
//     cache_control, text blocks otherwise (Anthropic takes no images there:
//     an image in it is an error);
//   - RoleTool messages become tool_result blocks, consecutive ones merged
//     into one user turn, as Anthropic requires;
//   - images given as data: URLs (OpenAI's way of inlining them) become
//     base64 sources; OpenAI's image detail hint is dropped;
//   - thinking parts without a signature (another provider's reasoning)
//     are dropped: Anthropic refuses thinking it did not sign;
//   - tool-call arguments that are not a JSON object are sent as {};
//   - response_format json_schema becomes output_config.format (Anthropic's
//     structured outputs); json_object, which has no schema, is dropped, as
//     are seed and participant names;
//   - max_tokens defaults to DefaultMaxTokens (plus the thinking budget);
//   - a reasoning budget becomes thinking {type: enabled}; an effort becomes
//     adaptive thinking with output_config.effort on models that take it
//     (Claude 4.6 and later) and a thinking budget on the others. While
//     thinking is on, the sampling parameters Anthropic then refuses
//     (temperature other than 1, top_k, top_p below 0.95) are dropped.
func (Codec) EncodeRequest(r *llm.Request) ([]byte, error) {
	e := &requestEncoder{r: r}
	w := wireRequest{
		Model:         r.Model,
		StopSequences: r.Stop,
		Temperature:   r.Temperature,
		TopP:          r.TopP,
		TopK:          r.TopK,
		Stream:        r.Stream,
	}
	var err error
	if w.System, err = e.system(); err != nil {
		return nil, err
	}
	if w.Messages, err = e.messages(); err != nil {
		return nil, err
	}
	if w.Tools, err = e.tools(); err != nil {
		return nil, err
	}
	if len(w.Tools) > 0 {
		w.ToolChoice = toolChoice(r.ToolChoice)
	}
	if r.User != "" {
		w.Metadata = &wireMetadata{UserID: r.User}
	}
	if r.Seed != nil {
		e.drop("seed")
	}
	if rf := r.ResponseFormat; rf != nil {
		if rf.Type == "json_schema" && len(rf.Schema) > 0 {
			if !json.Valid(rf.Schema) {
				return nil, badRequest("response_format.json_schema.schema", "not valid JSON")
			}
			w.OutputConfig = &wireOutputConfig{Format: &wireFormat{Type: "json_schema", Schema: rf.Schema}}
		} else {
			e.drop("response_format (" + rf.Type + ")")
		}
	}
	e.thinking(&w)
	return marshal(w)
}

// requestEncoder holds the state of one EncodeRequest call.
type requestEncoder struct {
	r *llm.Request
}

// drop records a field left out, once.
func (e *requestEncoder) drop(what string) {
	for _, d := range e.r.Dropped {
		if d == what {
			return
		}
	}
	e.r.Dropped = append(e.r.Dropped, what)
}

func (e *requestEncoder) system() (any, error) {
	parts := e.r.System
	if len(parts) == 0 {
		return nil, nil
	}
	for i, p := range parts {
		if p.Type != llm.PartText {
			return nil, badRequest("system."+strconv.Itoa(i), "Anthropic's system prompt takes only text, got %s", p.Type)
		}
	}
	if len(parts) == 1 && parts[0].CacheControl == "" {
		return parts[0].Text, nil
	}
	blocks := make([]textBlock, 0, len(parts))
	for _, p := range parts {
		blocks = append(blocks, textBlock{Type: "text", Text: p.Text, CacheControl: cacheMarker(p.CacheControl)})
	}
	return blocks, nil
}

func (e *requestEncoder) messages() ([]wireMessage, error) {
	msgs := e.r.Messages
	out := make([]wireMessage, 0, len(msgs))
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		path := "messages." + strconv.Itoa(i)
		if m.Name != "" {
			e.drop("messages[].name")
		}
		switch m.Role {
		case llm.RoleUser:
			content, err := e.content(path, m.Parts, false)
			if err != nil {
				return nil, err
			}
			out = append(out, wireMessage{Role: "user", Content: content})
		case llm.RoleAssistant:
			content, err := e.assistant(path, m)
			if err != nil {
				return nil, err
			}
			if content == nil {
				// Anthropic refuses an empty turn, and leaving it out only
				// joins the user turns around it, which Anthropic does anyway.
				e.drop("messages[] (empty assistant message)")
				continue
			}
			out = append(out, wireMessage{Role: "assistant", Content: content})
		case llm.RoleTool:
			var results []any
			for ; i < len(msgs) && msgs[i].Role == llm.RoleTool; i++ {
				tr := toolResultBlock{Type: "tool_result", ToolUseID: msgs[i].ToolCallID, IsError: msgs[i].IsError}
				if len(msgs[i].Parts) > 0 {
					content, err := e.content("messages."+strconv.Itoa(i), msgs[i].Parts, true)
					if err != nil {
						return nil, err
					}
					tr.Content = content
				}
				results = append(results, tr)
			}
			// A user message right after the results joins their turn, the
			// shape Anthropic's own clients send: results first, then text.
			if i < len(msgs) && msgs[i].Role == llm.RoleUser && msgs[i].Name == "" {
				content, err := e.content("messages."+strconv.Itoa(i), msgs[i].Parts, false)
				if err != nil {
					return nil, err
				}
				switch c := content.(type) {
				case string:
					if c != "" {
						results = append(results, textBlock{Type: "text", Text: c})
					}
				case []any:
					results = append(results, c...)
				}
				i++
			}
			i--
			out = append(out, wireMessage{Role: "user", Content: results})
		default:
			return nil, badRequest(path+".role", "unknown role %q", m.Role)
		}
	}
	return out, nil
}

// content encodes the text and image parts of a user turn or a tool result:
// a lone text part without cache_control as a plain string, blocks
// otherwise. Empty text parts among blocks are skipped, because Anthropic
// refuses empty text blocks.
func (e *requestEncoder) content(path string, parts []llm.Part, toolResult bool) (any, error) {
	if len(parts) == 1 && parts[0].Type == llm.PartText && parts[0].CacheControl == "" {
		return parts[0].Text, nil
	}
	blocks := make([]any, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			blocks = append(blocks, textBlock{Type: "text", Text: p.Text, CacheControl: cacheMarker(p.CacheControl)})
		case llm.PartImage:
			b, err := e.image(path+".parts."+strconv.Itoa(j), p)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		case llm.PartThinking:
			if toolResult {
				e.drop("messages[].parts[] (thinking)")
			} else {
				e.drop("messages[].parts[] (thinking)")
			}
		default:
			return nil, badRequest(path+".parts."+strconv.Itoa(j)+".type", "unknown part type %q", p.Type)
		}
	}
	return blocks, nil
}

func (e *requestEncoder) image(path string, p llm.Part) (imageBlock, error) {
	b := imageBlock{Type: "image", CacheControl: cacheMarker(p.CacheControl)}
	if p.Detail != "" {
		e.drop("messages[].parts[].detail")
	}
	switch {
	case p.Data != "":
		if p.MediaType == "" {
			return b, badRequest(path+".media_type", "an inline image needs its media type")
		}
		b.Source = imageSource{Type: "base64", MediaType: p.MediaType, Data: p.Data}
	case strings.HasPrefix(p.ImageURL, "data:"):
		mediaType, data, ok := parseDataURL(p.ImageURL)
		if !ok {
			return b, badRequest(path+".image_url", "only base64 data: URLs can be sent as images")
		}
		b.Source = imageSource{Type: "base64", MediaType: mediaType, Data: data}
	case p.ImageURL != "":
		b.Source = imageSource{Type: "url", URL: p.ImageURL}
	default:
		return b, badRequest(path, "an image needs a URL or data")
	}
	return b, nil
}

// parseDataURL splits "data:image/png;base64,AAAA" into its media type and
// base64 data.
func parseDataURL(u string) (mediaType, data string, ok bool) {
	meta, data, found := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !found {
		return "", "", false
	}
	mediaType, params, _ := strings.Cut(meta, ";")
	base64 := false
	for _, p := range strings.Split(params, ";") {
		if strings.EqualFold(p, "base64") {
			base64 = true
		}
	}
	if !base64 || mediaType == "" || data == "" {
		return "", "", false
	}
	return mediaType, data, true
}

// assistant encodes an assistant turn: thinking first (Anthropic requires
// it to lead), then text, then tool calls. It returns nil when nothing is
// left to send.
func (e *requestEncoder) assistant(path string, m llm.Message) (any, error) {
	var blocks []any
	var texts []llm.Part
	for j, p := range m.Parts {
		switch p.Type {
		case llm.PartThinking:
			switch {
			case p.Data != "":
				blocks = append(blocks, redactedThinkingBlock{Type: "redacted_thinking", Data: p.Data})
			case p.Signature != "":
				blocks = append(blocks, thinkingBlock{Type: "thinking", Thinking: p.Text, Signature: p.Signature})
			default:
				e.drop("messages[].parts[] (unsigned thinking)")
			}
		case llm.PartText:
			if p.Text != "" {
				texts = append(texts, p)
			}
		case llm.PartImage:
			e.drop("messages[].parts[] (image)")
		default:
			return nil, badRequest(path+".parts."+strconv.Itoa(j)+".type", "unknown part type %q", p.Type)
		}
	}
	if len(blocks) == 0 && len(m.ToolCalls) == 0 && len(texts) == 1 && texts[0].CacheControl == "" {
		return texts[0].Text, nil
	}
	for _, p := range texts {
		blocks = append(blocks, textBlock{Type: "text", Text: p.Text, CacheControl: cacheMarker(p.CacheControl)})
	}
	for _, c := range m.ToolCalls {
		input, ok := argumentsObject(c.Arguments)
		if !ok {
			e.drop("messages[].tool_calls[].arguments (not a JSON object)")
		}
		blocks = append(blocks, toolUseBlock{Type: "tool_use", ID: c.ID, Name: c.Name, Input: input})
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	return blocks, nil
}

// argumentsObject returns a tool call's arguments as the JSON object
// Anthropic's input must be. Empty arguments are an empty object; anything
// that is not an object — invalid or cut-off JSON from a model that ran out
// of tokens, a bare string — is {} too, reported by ok.
func argumentsObject(args string) (json.RawMessage, bool) {
	trimmed := strings.TrimSpace(args)
	if trimmed == "" {
		return json.RawMessage("{}"), true
	}
	if trimmed[0] != '{' || !json.Valid([]byte(trimmed)) {
		return json.RawMessage("{}"), false
	}
	return compact(trimmed), true
}

func (e *requestEncoder) tools() ([]wireTool, error) {
	if len(e.r.Tools) == 0 {
		return nil, nil
	}
	out := make([]wireTool, 0, len(e.r.Tools))
	for i, t := range e.r.Tools {
		schema := t.Parameters
		switch {
		case len(schema) == 0 || string(schema) == "null":
			schema = emptySchema
		case !json.Valid(schema):
			return nil, badRequest("tools."+strconv.Itoa(i)+".parameters", "not valid JSON")
		}
		out = append(out, wireTool{Name: t.Name, Description: t.Description, InputSchema: schema, Strict: t.Strict})
	}
	return out, nil
}

func toolChoice(tc *llm.ToolChoice) *wireToolChoice {
	if tc == nil {
		return nil
	}
	w := &wireToolChoice{DisableParallelToolUse: tc.DisableParallel}
	switch tc.Mode {
	case llm.ToolChoiceNone:
		// Anthropic refuses disable_parallel_tool_use with none.
		return &wireToolChoice{Type: "none"}
	case llm.ToolChoiceRequired:
		w.Type = "any"
	case llm.ToolChoiceTool:
		w.Type, w.Name = "tool", tc.Name
	default:
		w.Type = "auto"
	}
	return w
}

// thinking sets thinking, output_config.effort and max_tokens.
func (e *requestEncoder) thinking(w *wireRequest) {
	r := e.r
	maxTokens := DefaultMaxTokens
	if r.MaxTokens != nil {
		maxTokens = *r.MaxTokens
	}
	rs := r.Reasoning
	if rs != nil && (rs.BudgetTokens > 0 || (rs.Effort != "" && rs.Effort != "none")) && !e.thinkingReplayable() {
		// Anthropic refuses a request with thinking on whose ongoing tool
		// loop began in an assistant turn without a thinking block, as one
		// from an OpenAI-format client always does.
		e.drop("reasoning (the last assistant turn has no thinking block)")
		rs = nil
	}
	switch {
	case rs == nil:
	case rs.BudgetTokens > 0:
		// The client named a budget: send it as is, and leave it to
		// Anthropic to judge it against max_tokens.
		w.Thinking = &wireThinking{Type: "enabled", BudgetTokens: rs.BudgetTokens}
		if r.MaxTokens == nil {
			maxTokens = DefaultMaxTokens + rs.BudgetTokens
		}
	case rs.Effort == "" || rs.Effort == "none":
	case adaptiveThinking(r.Model):
		w.Thinking = &wireThinking{Type: "adaptive"}
		w.OutputConfig = withEffort(w.OutputConfig, adaptiveEffort(rs.Effort))
		if r.MaxTokens == nil {
			maxTokens = DefaultMaxTokens + adaptiveBudget
		}
	default:
		budget, ok := effortBudget[rs.Effort]
		if !ok {
			budget = effortBudget["medium"]
		}
		if r.MaxTokens == nil {
			maxTokens = DefaultMaxTokens + budget
		} else if budget >= maxTokens {
			// The budget is this codec's guess, not the client's word, so it
			// yields to max_tokens: half of it, if that is still a budget
			// Anthropic accepts.
			budget = maxTokens / 2
		}
		if budget < 1024 {
			e.drop("reasoning (max_tokens leaves no room for a thinking budget)")
			break
		}
		w.Thinking = &wireThinking{Type: "enabled", BudgetTokens: budget}
	}
	w.MaxTokens = maxTokens
	if w.Thinking == nil {
		return
	}
	if w.Temperature != nil && *w.Temperature != 1 {
		w.Temperature = nil
		e.drop("temperature (thinking requires 1)")
	}
	if w.TopK != nil {
		w.TopK = nil
		e.drop("top_k (not allowed with thinking)")
	}
	if w.TopP != nil && *w.TopP < 0.95 {
		w.TopP = nil
		e.drop("top_p (thinking requires 0.95 or more)")
	}
}

// thinkingReplayable reports whether thinking can be turned on for this
// conversation: Anthropic requires that when the conversation ends in tool
// results, the assistant turn that made the calls starts with a thinking
// block.
func (e *requestEncoder) thinkingReplayable() bool {
	msgs := e.r.Messages
	i := len(msgs) - 1
	for i >= 0 && msgs[i].Role == llm.RoleTool {
		i--
	}
	if i == len(msgs)-1 || i < 0 || msgs[i].Role != llm.RoleAssistant {
		return true
	}
	for _, p := range msgs[i].Parts {
		if p.Type == llm.PartThinking && (p.Signature != "" || p.Data != "") {
			return true
		}
	}
	return false
}

func withEffort(oc *wireOutputConfig, effort string) *wireOutputConfig {
	if oc == nil {
		oc = &wireOutputConfig{}
	}
	oc.Effort = effort
	return oc
}

// adaptiveEffort maps an OpenAI-style effort onto Anthropic's low, medium
// and high. "max" is left alone: only some models take it.
func adaptiveEffort(effort string) string {
	switch effort {
	case "minimal", "low":
		return "low"
	case "high", "xhigh":
		return "high"
	default:
		return "medium"
	}
}

// adaptiveThinking reports whether model takes adaptive thinking, which
// Claude 4.6 introduced and later models require (they refuse a budget).
// Names not recognised as Claude's get the budget form, which older models
// and the Anthropic-compatible servers of other vendors understand.
func adaptiveThinking(model string) bool {
	i := strings.Index(model, "claude-")
	if i < 0 {
		return false
	}
	// "claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-3-7-sonnet-…".
	fields := strings.Split(model[i+len("claude-"):], "-")
	for k, f := range fields {
		major, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		minor := 0
		if k+1 < len(fields) && len(fields[k+1]) <= 2 {
			if n, err := strconv.Atoi(fields[k+1]); err == nil {
				minor = n
			}
		}
		return major > 4 || (major == 4 && minor >= 6)
	}
	return false
}
