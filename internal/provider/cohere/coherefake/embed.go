// Package coherefake holds Cohere v2 API upstreams for tests: ChatServer
// speaks v2 chat (see NewChat), EmbedServer v2 embed.
//
// EmbedServer speaks the documented embed wire format — POST /v2/embed
// with a bearer key, {"model", "texts", "input_type", "embedding_types",
// "output_dimension"} answered with {"id", "embeddings": {"float": [[…]]},
// "texts", "meta": {"api_version", "billed_units": {"input_tokens"}},
// "response_type": "embeddings_by_type"}, and Cohere's error body {"id",
// "message"} — and lets a test steer it through the requested model name:
//
//	error-400   answer 400 (invalid request)
//	error-429   answer 429 (rate limited)
//	error-500   answer 500 (internal error)
//
// Each vector is Embedding of its text at the requested output_dimension
// (1536, embed-v4's default, when none is given), and the billed input
// tokens are the sum of Tokens of the texts. Like Cohere, the fake refuses
// a request without the key (401), without texts or with more than 96,
// without input_type, with an output_dimension embed-v4 does not offer, or
// whose embedding_types lack "float" (then it has no float vectors to give).
package coherefake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// DefaultDimensions is the length of a vector when the request asks for
// none, as embed-v4.0's.
const DefaultDimensions = 1536

// maxTexts is Cohere's limit on the texts of one call.
const maxTexts = 96

// EmbedRequest is what the embed fake received.
type EmbedRequest struct {
	Header http.Header
	Body   []byte
}

// EmbedOptions steer the embed fake.
type EmbedOptions struct {
	// APIKey, when set, is the only bearer key accepted; empty accepts any.
	APIKey string
}

// EmbedServer is a running Cohere v2 embed upstream.
type EmbedServer struct {
	*httptest.Server
	o EmbedOptions

	mu       sync.Mutex
	requests []EmbedRequest
	ids      atomic.Int64
}

// NewEmbed starts an embed upstream; close it with Close.
func NewEmbed(o EmbedOptions) *EmbedServer {
	s := &EmbedServer{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/embed", s.embed)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url: the API root, version
// segment included.
func (s *EmbedServer) BaseURL() string { return s.URL + "/v2" }

// Requests returns a copy of what was received so far.
func (s *EmbedServer) Requests() []EmbedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EmbedRequest(nil), s.requests...)
}

// Embedding returns the fake's vector for text in dims dimensions: its
// words and character trigrams hashed into signed features, then scaled to
// length 1. Equal texts get equal vectors and texts that share words get
// similar ones.
func Embedding(text string, dims int) []float32 {
	acc := make([]float64, dims)
	add := func(feature string, weight float64) {
		h := fnv.New64a()
		h.Write([]byte("cohere\x00"))
		h.Write([]byte(feature))
		sum := h.Sum64()
		if sum>>63 == 1 {
			weight = -weight
		}
		acc[sum%uint64(dims)] += weight
	}
	lower := strings.ToLower(text)
	for _, w := range words(lower) {
		add("w:"+w, 1)
	}
	runes := []rune(" " + lower + " ")
	for i := 0; i+3 <= len(runes); i++ {
		add("t:"+string(runes[i:i+3]), 0.5)
	}
	var norm float64
	for _, x := range acc {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	v := make([]float32, dims)
	for i, x := range acc {
		if norm > 0 {
			v[i] = float32(x / norm)
		}
	}
	return v
}

// Tokens is the fake's token count of text: one per word or punctuation
// mark.
func Tokens(text string) int {
	n := 0
	for _, f := range strings.Fields(text) {
		n += len(words(f))
		for _, r := range f {
			if unicode.IsPunct(r) {
				n++
			}
		}
	}
	return n
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

type embedBody struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int      `json:"output_dimension"`
}

// cohereError writes Cohere's error body.
func (s *EmbedServer) cohereError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": fmt.Sprintf("err-%d", s.ids.Add(1)), "message": msg})
}

func (s *EmbedServer) embed(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, EmbedRequest{Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()

	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" || (s.o.APIKey != "" && key != s.o.APIKey) {
		s.cohereError(w, 401, "invalid api token")
		return
	}
	var req embedBody
	if err := json.Unmarshal(body, &req); err != nil {
		s.cohereError(w, 400, "invalid request: "+err.Error())
		return
	}
	switch {
	case req.Model == "":
		s.cohereError(w, 400, "invalid request: model must be specified")
		return
	case len(req.Texts) == 0:
		s.cohereError(w, 400, "invalid request: texts must be a non-empty list")
		return
	case len(req.Texts) > maxTexts:
		s.cohereError(w, 400, fmt.Sprintf("invalid request: texts must contain at most %d items, got %d", maxTexts, len(req.Texts)))
		return
	case req.InputType == "":
		s.cohereError(w, 400, "invalid request: input_type is required for embed models v3 and higher")
		return
	case len(req.EmbeddingTypes) > 0 && !slices.Contains(req.EmbeddingTypes, "float"):
		s.cohereError(w, 400, "test fake: only float embeddings are served")
		return
	case req.OutputDimension != 0 && !slices.Contains([]int{256, 512, 1024, 1536}, req.OutputDimension):
		s.cohereError(w, 400, fmt.Sprintf("invalid request: output_dimension must be one of 256, 512, 1024, 1536, got %d", req.OutputDimension))
		return
	}
	switch req.Model {
	case "error-400":
		s.cohereError(w, 400, "too many tokens: the total number of tokens exceeds the model's limit")
		return
	case "error-429":
		s.cohereError(w, 429, "You are using a Trial key, which is limited to 100 API calls / minute.")
		return
	case "error-500":
		s.cohereError(w, 500, "internal server error, this has been reported to our developers")
		return
	}
	dims := req.OutputDimension
	if dims == 0 {
		dims = DefaultDimensions
	}
	vectors := make([][]float32, len(req.Texts))
	tokens := 0
	for i, t := range req.Texts {
		vectors[i] = Embedding(t, dims)
		tokens += Tokens(t)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":            fmt.Sprintf("fake-embed-%06d", s.ids.Add(1)),
		"embeddings":    map[string]any{"float": vectors},
		"texts":         req.Texts,
		"meta":          map[string]any{"api_version": map[string]string{"version": "2"}, "billed_units": map[string]int{"input_tokens": tokens}},
		"response_type": "embeddings_by_type",
	})
}
