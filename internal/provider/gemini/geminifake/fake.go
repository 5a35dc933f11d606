// Package geminifake is a Gemini API upstream for tests. It speaks the
// documented v1beta wire format — POST /v1beta/models/{model}:generateContent
// answered with one GenerateContentResponse, :streamGenerateContent?alt=sse
// answered with server-sent events (CRLF-framed, no end sentinel; without
// alt=sse, one JSON array of the same chunks), functionCall parts, thought
// parts, usageMetadata, and Google's error body {"error":{"code","message",
// "status"}} — and lets a test steer it through the requested model name:
//
//	error-400       answer 400 INVALID_ARGUMENT
//	error-429       answer 429 RESOURCE_EXHAUSTED, with a RetryInfo of 7s
//	error-500       answer 500 INTERNAL
//	error-503       answer 503 UNAVAILABLE (the model is overloaded)
//	broken-stream   stream one chunk, then cut the connection
//
// Any other model answers normally, with modelVersion echoing the model
// name. What it answers:
//
//   - a request whose last turn carries functionResponse parts gets the text
//     "Tool result: " followed by the responses' JSON, so a test sees that
//     the result arrived;
//   - otherwise a request with function declarations (and a function calling
//     mode other than NONE) gets a functionCall of the first allowed
//     function with Options.ToolArgs;
//   - otherwise the text is Options.Words joined, one chunk per word when
//     streamed.
//
// A request with thinkingConfig.includeThoughts gets a thought part first.
// The usage is PromptTokens, CandidatesTokens and, with thoughts,
// ThoughtsTokens; streamed chunks report the usage so far, as Gemini does.
//
// Like Gemini, the fake refuses a request without an x-goog-api-key header
// (403 PERMISSION_DENIED), with a wrong key when Options.APIKey is set
// (400 INVALID_ARGUMENT, reason API_KEY_INVALID), without contents, or with
// a role other than user and model.
//
// POST /v1beta/models/{model}:batchEmbedContents answers {"embeddings":
// [{"values": […]}, …]}, one Embedding of each request's text, cut to its
// outputDimensionality without being normalised again, as Gemini's shorter
// vectors are not; like Gemini it reports no token usage, refuses more than
// 100 requests, a request whose model is not models/{model}, and empty
// text, and the error-* model names above steer it too.
package geminifake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The usage every answer reports.
const (
	PromptTokens     = 12
	CandidatesTokens = 5
	ThoughtsTokens   = 3
)

// Thought is the text of the thought part, when the request asks for thoughts.
const Thought = "The user greets me; a short answer will do."

// Request is what the fake received.
type Request struct {
	Path    string
	Query   string
	Header  http.Header
	Body    []byte
	Started time.Time
}

// Options steer the fake.
type Options struct {
	// ChunkDelay is the pause between stream chunks.
	ChunkDelay time.Duration
	// Words are the answer's text pieces, one chunk each when streamed
	// (default "Hello", " there", "!").
	Words []string
	// ToolArgs are the args of a functionCall answer, a JSON object
	// (default {"location":"Paris, France","unit":"celsius"}).
	ToolArgs string
	// APIKey, when set, is the only key accepted; any other is answered as
	// Gemini answers an invalid key. Empty accepts any key.
	APIKey string
}

// Server is a running fake upstream.
type Server struct {
	*httptest.Server
	o Options

	mu       sync.Mutex
	requests []Request
	ids      atomic.Int64
}

// New starts a fake upstream; close it with Close.
func New(o Options) *Server {
	if len(o.Words) == 0 {
		o.Words = []string{"Hello", " there", "!"}
	}
	if o.ToolArgs == "" {
		o.ToolArgs = `{"location":"Paris, France","unit":"celsius"}`
	}
	s := &Server{o: o}
	mux := http.NewServeMux()
	// The method follows the model after a colon within one path segment,
	// which a ServeMux pattern cannot split.
	mux.HandleFunc("POST /v1beta/models/{call}", s.serve)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url: the API root, version
// segment included.
func (s *Server) BaseURL() string { return s.URL + "/v1beta" }

// Requests returns a copy of what was received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// The request fields the fake reads.
type wireRequest struct {
	Contents []content `json:"contents"`
	Tools    []struct {
		FunctionDeclarations []struct {
			Name string `json:"name"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	ToolConfig *struct {
		FunctionCallingConfig struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig"`
	GenerationConfig *struct {
		ThinkingConfig *struct {
			IncludeThoughts bool `json:"includeThoughts"`
		} `json:"thinkingConfig"`
	} `json:"generationConfig"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             string          `json:"text,omitempty"`
	Thought          bool            `json:"thought,omitempty"`
	FunctionCall     *functionCall   `json:"functionCall,omitempty"`
	FunctionResponse json.RawMessage `json:"functionResponse,omitempty"`
	ThoughtSignature string          `json:"thoughtSignature,omitempty"`
}

type functionCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// response is a GenerateContentResponse, and one chunk of a stream.
type response struct {
	Candidates    []candidate    `json:"candidates"`
	UsageMetadata *usageMetadata `json:"usageMetadata,omitempty"`
	ModelVersion  string         `json:"modelVersion"`
	ResponseID    string         `json:"responseId"`
}

type candidate struct {
	Content      content `json:"content"`
	FinishReason string  `json:"finishReason,omitempty"`
	Index        int     `json:"index"`
}

type usageMetadata struct {
	PromptTokenCount     int `json:"promptTokenCount"`
	CandidatesTokenCount int `json:"candidatesTokenCount,omitempty"`
	ThoughtsTokenCount   int `json:"thoughtsTokenCount,omitempty"`
	TotalTokenCount      int `json:"totalTokenCount"`
}

// googleError writes Google's error body; reason, when set, goes into an
// ErrorInfo detail as Gemini sends for key problems.
func googleError(w http.ResponseWriter, code int, status, msg, reason string, details ...any) {
	e := map[string]any{"code": code, "message": msg, "status": status}
	if reason != "" {
		details = append(details, map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
		})
	}
	if len(details) > 0 {
		e["details"] = details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// steer handles the special model names that fail at once; it reports
// whether it answered.
func steer(w http.ResponseWriter, model string) bool {
	switch model {
	case "error-400":
		googleError(w, 400, "INVALID_ARGUMENT", "The input token count exceeds the maximum number of tokens allowed.", "")
	case "error-429":
		googleError(w, 429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", "",
			map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"})
	case "error-500":
		googleError(w, 500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "")
	case "error-503":
		googleError(w, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", "")
	default:
		return false
	}
	return true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Started: time.Now()})
	s.mu.Unlock()

	key := r.Header.Get("x-goog-api-key")
	switch {
	case key == "":
		googleError(w, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). "+
			"Please use API Key or other form of API consumer identity to call this API.", "")
		return
	case s.o.APIKey != "" && key != s.o.APIKey:
		googleError(w, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
		return
	}
	call := r.PathValue("call")
	i := strings.LastIndexByte(call, ':')
	if i < 0 {
		googleError(w, 404, "NOT_FOUND", "Method not found.", "")
		return
	}
	model, method := call[:i], call[i+1:]
	if method == "batchEmbedContents" {
		s.embed(w, model, body)
		return
	}
	stream := method == "streamGenerateContent"
	if !stream && method != "generateContent" {
		googleError(w, 404, "NOT_FOUND", "Method not found.", "")
		return
	}
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		googleError(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), "")
		return
	}
	if len(req.Contents) == 0 {
		googleError(w, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified", "")
		return
	}
	for _, c := range req.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" {
			googleError(w, 400, "INVALID_ARGUMENT", "Please use a valid role: user, model.", "")
			return
		}
		if len(c.Parts) == 0 {
			googleError(w, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents.parts: contents.parts must not be empty.", "")
			return
		}
	}
	if steer(w, model) {
		return
	}
	chunks := s.compose(&req, model)
	if !stream {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(merge(chunks))
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse Gemini streams one JSON array, element by element.
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(chunks)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	for i, c := range chunks {
		if i > 0 && !s.pause(r) {
			return
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\r\n\r\n", b)
		fl.Flush()
		if model == "broken-stream" {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
	}
}

func (s *Server) pause(r *http.Request) bool {
	if s.o.ChunkDelay == 0 {
		return r.Context().Err() == nil
	}
	select {
	case <-time.After(s.o.ChunkDelay):
		return true
	case <-r.Context().Done():
		return false
	}
}

// compose builds the answer as the chunks of a stream: the last one carries
// the finish reason and the final usage, the others the prompt count only.
func (s *Server) compose(r *wireRequest, model string) []response {
	thoughts := r.GenerationConfig != nil && r.GenerationConfig.ThinkingConfig != nil && r.GenerationConfig.ThinkingConfig.IncludeThoughts
	var parts []part
	last := r.Contents[len(r.Contents)-1]
	var results []string
	for _, p := range last.Parts {
		if len(p.FunctionResponse) > 0 {
			results = append(results, string(p.FunctionResponse))
		}
	}
	mode := "AUTO"
	var allowed []string
	if r.ToolConfig != nil {
		if m := r.ToolConfig.FunctionCallingConfig.Mode; m != "" {
			mode = m
		}
		allowed = r.ToolConfig.FunctionCallingConfig.AllowedFunctionNames
	}
	var declared []string
	for _, t := range r.Tools {
		for _, d := range t.FunctionDeclarations {
			declared = append(declared, d.Name)
		}
	}
	switch {
	case len(results) > 0:
		parts = []part{{Text: "Tool result: "}, {Text: strings.Join(results, "; ")}}
	case len(declared) > 0 && mode != "NONE":
		name := declared[0]
		if len(allowed) > 0 {
			name = allowed[0]
		}
		// Gemini 2.5 signs its function calls; clients send the signature back.
		parts = []part{{FunctionCall: &functionCall{Name: name, Args: json.RawMessage(s.o.ToolArgs)}, ThoughtSignature: "CiQBfakeSignature"}}
	default:
		for _, w := range s.o.Words {
			parts = append(parts, part{Text: w})
		}
	}
	if thoughts {
		parts = append([]part{{Text: Thought, Thought: true}}, parts...)
	}
	id := fmt.Sprintf("fakeResponse%06d", s.ids.Add(1))
	out := make([]response, len(parts))
	for i, p := range parts {
		out[i] = response{
			Candidates:    []candidate{{Content: content{Role: "model", Parts: []part{p}}}},
			UsageMetadata: &usageMetadata{PromptTokenCount: PromptTokens, TotalTokenCount: PromptTokens},
			ModelVersion:  model, ResponseID: id,
		}
	}
	final := &out[len(out)-1]
	final.Candidates[0].FinishReason = "STOP"
	u := &usageMetadata{PromptTokenCount: PromptTokens, CandidatesTokenCount: CandidatesTokens}
	if thoughts {
		u.ThoughtsTokenCount = ThoughtsTokens
	}
	u.TotalTokenCount = u.PromptTokenCount + u.CandidatesTokenCount + u.ThoughtsTokenCount
	final.UsageMetadata = u
	return out
}

// merge joins the chunks of a stream into the one response generateContent
// answers: Gemini merges adjacent text parts of the same kind.
func merge(chunks []response) response {
	out := chunks[len(chunks)-1]
	var parts []part
	for _, c := range chunks {
		for _, p := range c.Candidates[0].Content.Parts {
			if n := len(parts); n > 0 && p.Text != "" && parts[n-1].Text != "" && parts[n-1].Thought == p.Thought &&
				parts[n-1].FunctionCall == nil {
				parts[n-1].Text += p.Text
				continue
			}
			parts = append(parts, p)
		}
	}
	out.Candidates = []candidate{{Content: content{Role: "model", Parts: parts}, FinishReason: "STOP"}}
	return out
}
