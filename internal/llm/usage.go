package llm

import (
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Usage is the token usage of one call as the upstream reported it. It
// follows OpenAI's accounting: InputTokens includes CachedInputTokens and
// CacheWriteInputTokens, and OutputTokens includes ReasoningTokens.
// Negative counts from an upstream are read as zero so that they cannot
// lower a cost.
type Usage struct {
	InputTokens       int64
	OutputTokens      int64
	CachedInputTokens int64
	// CacheWriteInputTokens are prompt tokens written to the provider's
	// cache (Anthropic's and Bedrock's cache_creation), which cost more
	// than ordinary input. Omitted from JSON when zero so that the golden
	// dumps of families without cache writes do not carry it.
	CacheWriteInputTokens int64 `json:",omitempty"`
	ReasoningTokens       int64
	// Present is true when the body had a usage object at all, which tells
	// "zero tokens" apart from "not reported".
	Present bool
}

// view lets gjson read b without copying it. gjson.GetBytes would copy every
// result it returns, one allocation per lookup on the hot path. This is safe
// because no function here keeps a result past its return, and the only
// strings returned to callers are cloned first.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// UsageFromChatCompletion reads the usage of a non-streamed OpenAI chat
// completion (or legacy completion) response body.
func UsageFromChatCompletion(body []byte) Usage {
	return openAIUsage(gjson.Get(view(body), "usage"))
}

// UsageFromEmbeddings reads the usage of an OpenAI embeddings response body,
// which reports only input tokens; total_tokens stands in when prompt_tokens
// is missing.
func UsageFromEmbeddings(body []byte) Usage {
	u := gjson.Get(view(body), "usage")
	if !isUsageObject(u) {
		return Usage{}
	}
	in := u.Get("prompt_tokens")
	if !in.Exists() {
		in = u.Get("total_tokens")
	}
	return Usage{InputTokens: tokens(in), Present: true}
}

// UsageFromChunk reads the usage carried by one chat completion stream
// chunk (the data of an SSE event). Chunks without usage, or with
// "usage": null as OpenAI sends before the last one, give a Usage with
// Present false. Some servers report cumulative usage on every chunk, so
// the last Present usage of a stream is the one to keep.
func UsageFromChunk(data []byte) Usage {
	return openAIUsage(gjson.Get(view(data), "usage"))
}

// IsUsageOnlyChunk reports whether a stream chunk is the usage chunk OpenAI
// sends when stream_options.include_usage is set: "choices" is an empty
// array and "usage" is an object. The gateway drops it when it asked for
// usage on the client's behalf.
func IsUsageOnlyChunk(data []byte) bool {
	s := view(data)
	return isEmptyArray(gjson.Get(s, "choices")) && isUsageObject(gjson.Get(s, "usage"))
}

// ChunkHasContent reports whether a stream chunk carries output: non-empty
// delta content, reasoning or refusal text, a tool or function call, or the
// text of a legacy completion. The role-only first chunk does not count, so
// the first chunk for which this is true marks the time to first token.
func ChunkHasContent(data []byte) bool {
	return choicesHaveContent(gjson.Get(view(data), "choices"))
}

// ChunkInfo is what the gateway needs from each stream chunk, read in one
// pass over it.
type ChunkInfo struct {
	HasContent bool  // as ChunkHasContent
	UsageOnly  bool  // as IsUsageOnlyChunk
	Usage      Usage // as UsageFromChunk
}

// InspectChunk returns ChunkHasContent, IsUsageOnlyChunk and UsageFromChunk
// of a stream chunk at the cost of a single scan of its top level.
func InspectChunk(data []byte) ChunkInfo {
	var info ChunkInfo
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		return info
	}
	var choices gjson.Result
	root.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "choices":
			choices = value
		case "usage":
			info.Usage = openAIUsage(value)
		}
		return true
	})
	info.HasContent = choicesHaveContent(choices)
	info.UsageOnly = isEmptyArray(choices) && info.Usage.Present
	return info
}

// ResponseModel returns the "model" a response body or stream chunk names,
// which may differ from the requested one (a dated snapshot, or another
// model behind an alias), or "" when there is none.
func ResponseModel(body []byte) string {
	m := gjson.Get(view(body), "model")
	if m.Type != gjson.String {
		return ""
	}
	return strings.Clone(m.Str)
}

// FinishReasons returns the non-empty finish_reason of each choice of a
// response body or stream chunk, in choice order, or nil when there is none.
func FinishReasons(body []byte) []string {
	var out []string
	choices := gjson.Get(view(body), "choices")
	if !choices.IsArray() {
		return nil
	}
	choices.ForEach(func(_, c gjson.Result) bool {
		if fr := c.Get("finish_reason"); fr.Type == gjson.String && fr.Str != "" {
			out = append(out, strings.Clone(fr.Str))
		}
		return true
	})
	return out
}

// isUsageObject reports whether u is a complete usage object. gjson returns
// the rest of a truncated body as an object; a body cut off inside its
// usage has not reported usage.
func isUsageObject(u gjson.Result) bool {
	return u.IsObject() && gjson.Valid(u.Raw)
}

func openAIUsage(u gjson.Result) Usage {
	if !isUsageObject(u) {
		return Usage{}
	}
	return Usage{
		InputTokens:       tokens(u.Get("prompt_tokens")),
		OutputTokens:      tokens(u.Get("completion_tokens")),
		CachedInputTokens: tokens(u.Get("prompt_tokens_details.cached_tokens")),
		ReasoningTokens:   tokens(u.Get("completion_tokens_details.reasoning_tokens")),
		Present:           true,
	}
}

// tokens reads a token count, accepting a number or a numeric string (some
// compatible servers quote them) and nothing else.
func tokens(r gjson.Result) int64 {
	if r.Type != gjson.Number && r.Type != gjson.String {
		return 0
	}
	return max(r.Int(), 0)
}

func isEmptyArray(r gjson.Result) bool {
	if !r.IsArray() {
		return false
	}
	empty := true
	r.ForEach(func(_, _ gjson.Result) bool {
		empty = false
		return false
	})
	return empty
}

func choicesHaveContent(choices gjson.Result) bool {
	if !choices.IsArray() {
		return false
	}
	found := false
	choices.ForEach(func(_, c gjson.Result) bool {
		found = choiceHasContent(c)
		return !found
	})
	return found
}

func choiceHasContent(c gjson.Result) bool {
	if !c.IsObject() {
		return false
	}
	found := false
	c.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "text": // legacy /v1/completions stream
			found = nonEmpty(value)
		case "delta":
			found = deltaHasContent(value)
		}
		return !found
	})
	return found
}

func deltaHasContent(d gjson.Result) bool {
	if !d.IsObject() {
		return false
	}
	found := false
	d.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		// reasoning_content is DeepSeek's and vLLM's name for the thinking
		// text, reasoning OpenRouter's and Ollama's.
		case "content", "reasoning_content", "reasoning", "refusal", "tool_calls":
			found = nonEmpty(value)
		case "function_call", "audio":
			found = value.IsObject()
		}
		return !found
	})
	return found
}

// nonEmpty is true for a non-empty string, or an array with an element
// (content given as parts, tool_calls).
func nonEmpty(v gjson.Result) bool {
	switch {
	case v.Type == gjson.String:
		return v.Str != ""
	case v.IsArray():
		return !isEmptyArray(v)
	}
	return false
}
