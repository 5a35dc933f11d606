package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// config holds what shapes the mock's responses.
type config struct {
	latency       time.Duration
	chunks        int
	chunkDelay    time.Duration
	embeddingDims int
	// failEvery and emptyEvery degrade chat answers on purpose, for
	// trying the gateway's failure handling and anomaly detectors: every
	// failEvery-th call answers 500, and every emptyEvery-th of the others
	// answers with empty content; 0 turns each off.
	failEvery, emptyEvery int
}

func (c config) validate() error {
	switch {
	case c.latency < 0:
		return errors.New("-latency must not be negative")
	case c.chunks < 1:
		return errors.New("-chunks must be at least 1")
	case c.chunkDelay < 0:
		return errors.New("-chunk-delay must not be negative")
	case c.embeddingDims < 1:
		return errors.New("-embedding-dims must be at least 1")
	case c.failEvery < 0 || c.emptyEvery < 0:
		return errors.New("-fail-every and -empty-every must not be negative")
	}
	return nil
}

// server renders OpenAI-shaped responses. Identifiers come from a counter and
// the clock is injectable, so that a transcript can be compared to a golden
// file.
type server struct {
	cfg config
	seq atomic.Uint64
	now func() time.Time

	// The embedding is the same for every input; rendering it once keeps the
	// embeddings endpoint as cheap as the chat one.
	embeddingFloat  []byte
	embeddingBase64 []byte
}

func newServer(cfg config) *server {
	s := &server{cfg: cfg, now: time.Now}
	s.embeddingFloat, s.embeddingBase64 = renderEmbedding(cfg.embeddingDims)
	return s
}

var (
	pathChat       = []byte("/v1/chat/completions")
	pathEmbeddings = []byte("/v1/embeddings")
	pathModels     = []byte("/v1/models")
	pathHealth     = []byte("/healthz")

	keyStream = []byte(`"stream"`)
)

// defaultModel is echoed when a request names no model.
const defaultModel = `"gpt-4o-mini"`

// completionText is the content of every non-streamed answer; its token count
// is reported in usage.
const (
	completionText   = "Hello! How can I help you today?"
	completionTokens = 9
)

// streamDeltas are cycled through as the deltas of streamed content chunks,
// one token per chunk.
var streamDeltas = func() []string {
	tokens := []string{"Hello", "!", " This", " is", " a", " streamed", " answer", " from", " the", " mock", "."}
	deltas := make([]string, len(tokens))
	for i, t := range tokens {
		deltas[i] = `{"content":` + strconv.Quote(t) + `}`
	}
	return deltas
}()

func (s *server) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch {
	case bytes.Equal(path, pathChat):
		if !ctx.IsPost() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed", "invalid_request_error")
			return
		}
		s.chat(ctx)
	case bytes.Equal(path, pathEmbeddings):
		if !ctx.IsPost() {
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed", "invalid_request_error")
			return
		}
		s.embeddings(ctx)
	case bytes.Equal(path, pathModels):
		s.delay()
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}`)
	case bytes.Equal(path, pathHealth):
		ctx.SetBodyString("ok")
	default:
		writeError(ctx, fasthttp.StatusNotFound, "unknown path "+string(path), "invalid_request_error")
	}
}

func (s *server) delay() {
	if s.cfg.latency > 0 {
		time.Sleep(s.cfg.latency)
	}
}

// chatRequest is what the mock needs to know about a chat request.
type chatRequest struct {
	model        string // raw JSON string token, quotes included
	stream       bool
	includeUsage bool
	promptTokens int
}

// parseChat inspects the body without decoding it: gjson stops at the first
// match, and the stream fields are only looked up when the key is present.
func parseChat(body []byte) chatRequest {
	r := chatRequest{model: defaultModel, promptTokens: max(1, len(body)/4)}
	// gjson is lenient, so the raw token is checked before it is spliced
	// into responses; the copy detaches it from the request buffer, which
	// fasthttp reuses once the handler returns.
	if m := gjson.GetBytes(body, "model"); m.Type == gjson.String && json.Valid([]byte(m.Raw)) {
		r.model = string([]byte(m.Raw))
	}
	if bytes.Contains(body, keyStream) {
		r.stream = gjson.GetBytes(body, "stream").Bool()
		r.includeUsage = r.stream && gjson.GetBytes(body, "stream_options.include_usage").Bool()
	}
	return r
}

func (s *server) chat(ctx *fasthttp.RequestCtx) {
	req := parseChat(ctx.PostBody())
	id := s.seq.Add(1)
	created := s.now().Unix()
	s.delay()
	if s.cfg.failEvery > 0 && id%uint64(s.cfg.failEvery) == 0 {
		writeError(ctx, fasthttp.StatusInternalServerError, "The server had an error while processing request "+strconv.FormatUint(id, 10)+".", "server_error")
		return
	}
	if !req.stream {
		ctx.SetContentType("application/json")
		text := completionText
		if n := uint64(s.cfg.emptyEvery); n > 0 && id%n == 0 {
			text = ""
		}
		// Appending into the response's own buffer renders the body without
		// an allocation; SetBody then copies it onto itself.
		ctx.SetBody(appendCompletion(ctx.Response.Body()[:0], id, created, req, text))
		return
	}
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		_ = s.writeStream(w, id, created, req)
	})
}

// writeStream writes a chat completion as OpenAI streams it: a chunk with the
// role, one chunk per content token, a chunk with the finish reason, the usage
// chunk when asked for, and the [DONE] sentinel. Each event is flushed on its
// own so that a proxy that buffers shows up as a late first chunk.
func (s *server) writeStream(w *bufio.Writer, id uint64, created int64, req chatRequest) error {
	var buf []byte
	emit := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		return w.Flush()
	}

	buf = appendChunk(buf[:0], id, created, req, `{"role":"assistant","content":"","refusal":null}`, "null")
	if err := emit(buf); err != nil {
		return err
	}
	for i := range s.cfg.chunks {
		if s.cfg.chunkDelay > 0 {
			time.Sleep(s.cfg.chunkDelay)
		}
		buf = appendChunk(buf[:0], id, created, req, streamDeltas[i%len(streamDeltas)], "null")
		if err := emit(buf); err != nil {
			return err
		}
	}
	buf = appendChunk(buf[:0], id, created, req, `{}`, `"stop"`)
	if req.includeUsage {
		buf = appendUsageChunk(buf, id, created, req, s.cfg.chunks)
	}
	buf = append(buf, "data: [DONE]\n\n"...)
	return emit(buf)
}

func appendHead(b []byte, object string, id uint64, created int64, model string) []byte {
	b = append(b, `{"id":"chatcmpl-bench`...)
	b = appendPadded(b, id)
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = append(b, model...)
	return b
}

// appendCompletion renders a chat completion whose content is text, which
// must need no JSON escaping (completionText, or "").
func appendCompletion(b []byte, id uint64, created int64, req chatRequest, text string) []byte {
	b = appendHead(b, "chat.completion", id, created, req.model)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":"`...)
	b = append(b, text...)
	b = append(b, `","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":`...)
	b = appendUsage(b, req.promptTokens, completionTokens)
	b = append(b, `,"service_tier":"default","system_fingerprint":"fp_bench"}`...)
	return b
}

func appendChunk(b []byte, id uint64, created int64, req chatRequest, delta, finish string) []byte {
	b = append(b, "data: "...)
	b = appendHead(b, "chat.completion.chunk", id, created, req.model)
	b = append(b, `,"service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":`...)
	b = append(b, delta...)
	b = append(b, `,"logprobs":null,"finish_reason":`...)
	b = append(b, finish...)
	b = append(b, "}]"...)
	if req.includeUsage {
		b = append(b, `,"usage":null`...)
	}
	b = append(b, "}\n\n"...)
	return b
}

func appendUsageChunk(b []byte, id uint64, created int64, req chatRequest, completion int) []byte {
	b = append(b, "data: "...)
	b = appendHead(b, "chat.completion.chunk", id, created, req.model)
	b = append(b, `,"service_tier":"default","system_fingerprint":"fp_bench","choices":[],"usage":`...)
	b = appendUsage(b, req.promptTokens, completion)
	b = append(b, "}\n\n"...)
	return b
}

func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
	return b
}

// appendPadded writes n as twelve decimal digits, the length of the
// identifiers real providers hand out being roughly constant.
func appendPadded(b []byte, n uint64) []byte {
	var digits [12]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, digits[:]...)
}

func (s *server) embeddings(ctx *fasthttp.RequestCtx) {
	body := ctx.PostBody()
	input := gjson.GetBytes(body, "input")
	if !input.Exists() {
		writeError(ctx, fasthttp.StatusBadRequest, "missing required parameter: 'input'", "invalid_request_error")
		return
	}
	n := 1
	// An array of numbers is one tokenised input; any other array is a
	// batch of inputs.
	if input.IsArray() {
		items := input.Array()
		if len(items) > 0 && items[0].Type != gjson.Number {
			n = len(items)
		}
	}
	model := defaultModel
	if m := gjson.GetBytes(body, "model"); m.Type == gjson.String && json.Valid([]byte(m.Raw)) {
		model = m.Raw
	}
	vector := s.embeddingFloat
	if gjson.GetBytes(body, "encoding_format").String() == "base64" {
		vector = s.embeddingBase64
	}
	tokens := max(1, len(input.Raw)/4)

	s.delay()
	b := ctx.Response.Body()[:0]
	b = append(b, `{"object":"list","data":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		b = append(b, vector...)
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = append(b, model...)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, "}}"...)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// renderEmbedding returns a deterministic unit vector of the given length as
// a JSON array and as OpenAI's base64 encoding (little-endian float32s, in a
// JSON string).
func renderEmbedding(dims int) (floatJSON, base64JSON []byte) {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x := math.Sin(float64(i + 1))
		v[i] = float32(x)
		norm += x * x
	}
	norm = math.Sqrt(norm)
	raw := make([]byte, 4*dims)
	floatJSON = append(floatJSON, '[')
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
		if i > 0 {
			floatJSON = append(floatJSON, ',')
		}
		floatJSON = strconv.AppendFloat(floatJSON, float64(v[i]), 'g', -1, 32)
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v[i]))
	}
	floatJSON = append(floatJSON, ']')
	base64JSON = append(base64JSON, '"')
	base64JSON = base64.StdEncoding.AppendEncode(base64JSON, raw)
	base64JSON = append(base64JSON, '"')
	return floatJSON, base64JSON
}

// writeError answers in OpenAI's error shape.
func writeError(ctx *fasthttp.RequestCtx, status int, message, kind string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	msg, _ := json.Marshal(message)
	ctx.SetBodyString(`{"error":{"message":` + string(msg) + `,"type":"` + kind + `","param":null,"code":null}}`)
}
