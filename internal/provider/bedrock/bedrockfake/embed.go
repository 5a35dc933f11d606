// Package bedrockfake holds Amazon Bedrock runtime upstreams for tests.
// EmbedServer serves InvokeModel, POST /model/{modelId}/invoke, for the
// embedding models whose bodies the Bedrock user guide documents:
//
//   - amazon.titan-embed-text-v2:0 takes {"inputText", "dimensions" (256,
//     512 or 1024, default 1024), "normalize" (default true),
//     "embeddingTypes"} and answers {"embedding", "inputTextTokenCount",
//     "embeddingsByType": {"float"}};
//   - amazon.titan-embed-text-v1 takes {"inputText"} only and answers
//     {"embedding", "inputTextTokenCount"} (1536 values);
//   - cohere.embed-english-v3 and cohere.embed-multilingual-v3 (1024
//     values) and cohere.embed-v4:0 (1536, or output_dimension 256, 512,
//     1024 or 1536) take {"texts" (at most 96), "input_type",
//     "embedding_types", "truncate"} and answer {"id", "embeddings":
//     {"float": [[…]]}, "response_type": "embeddings_by_type", "texts"}, or
//     [[…]] with "embeddings_floats" when no embedding_types are given.
//
// A cross-region prefix ("us.cohere.embed-v4:0") is accepted. Each vector
// is Embedding of its text, and Titan's token count is Tokens of it.
//
// Like Bedrock, the fake checks each request's AWS Signature Version 4 in
// full — it signs the request again with the configured credentials and
// compares — and answers errors with {"message"} and the exception in the
// x-amzn-ErrorType header: 403 UnrecognizedClientException for another
// access key, 403 InvalidSignatureException for a signature or body hash
// that does not match, 400 ValidationException for a model it does not
// serve and for a body the model refuses (a key it does not take, a
// missing one, a dimension it does not offer). A model id that contains
// one of these steers it:
//
//	error-400   400 ValidationException
//	error-429   429 ThrottlingException
//	error-500   500 InternalServerException
//
// so that "cohere.embed-error-429" is still sent as a Cohere model.
package bedrockfake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// EmbedOptions configure the fake.
type EmbedOptions struct {
	// AccessKeyID and SecretAccessKey are the credentials requests must be
	// signed with.
	AccessKeyID, SecretAccessKey string
}

// EmbedRequest is what the fake received.
type EmbedRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// EmbedServer is a running Bedrock runtime upstream for embedding models.
type EmbedServer struct {
	*httptest.Server
	o EmbedOptions
	// signer is the server's own: a signer caches derived keys by access
	// key id alone, so one shared with another server (or a client) could
	// verify with a key derived from another secret.
	signer *v4.Signer

	mu       sync.Mutex
	requests []EmbedRequest
	ids      atomic.Int64
}

// NewEmbed starts the fake; close it with Close.
func NewEmbed(o EmbedOptions) *EmbedServer {
	s := &EmbedServer{o: o, signer: v4.NewSigner()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{model}/invoke", s.invoke)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the value for a provider's base_url.
func (s *EmbedServer) BaseURL() string { return s.URL }

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
	return scaled(features(text, dims), 1)
}

// features hashes the words and character trigrams of text into dims
// signed counts.
func features(text string, dims int) []float64 {
	acc := make([]float64, dims)
	add := func(feature string, weight float64) {
		h := fnv.New64a()
		h.Write([]byte("bedrock\x00"))
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
	return acc
}

// scaled returns acc at the given length (acc itself when length is 0).
func scaled(acc []float64, length float64) []float32 {
	var norm float64
	for _, x := range acc {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	v := make([]float32, len(acc))
	for i, x := range acc {
		switch {
		case length == 0:
			v[i] = float32(x)
		case norm > 0:
			v[i] = float32(x / norm * length)
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

// bedrockError writes Bedrock's error answer.
func bedrockError(w http.ResponseWriter, status int, exception, msg string) {
	w.Header().Set("x-amzn-ErrorType", exception)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// malformed is Bedrock's message for a body the model's schema refuses.
func malformed(w http.ResponseWriter, detail string) {
	bedrockError(w, 400, "ValidationException", "Malformed input request: "+detail+", please reformat your input and try again.")
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/bedrock/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)

// verify checks r's signature by signing it again; it answers and returns
// false when the signature is wrong.
func (s *EmbedServer) verify(w http.ResponseWriter, r *http.Request, body []byte) bool {
	const badSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	auth := r.Header.Get("Authorization")
	m := authRE.FindStringSubmatch(auth)
	if m == nil || m[1] != s.o.AccessKeyID {
		bedrockError(w, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return false
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || r.Header.Get("X-Amz-Content-Sha256") != hash {
		bedrockError(w, 403, "InvalidSignatureException", badSignature)
		return false
	}
	again, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		bedrockError(w, 403, "InvalidSignatureException", badSignature)
		return false
	}
	for _, h := range strings.Split(m[4], ";") {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	again.Header.Del("Authorization")
	creds := aws.Credentials{AccessKeyID: s.o.AccessKeyID, SecretAccessKey: s.o.SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := s.signer.SignHTTP(context.Background(), creds, again, hash, "bedrock", m[3], at); err != nil || again.Header.Get("Authorization") != auth {
		bedrockError(w, 403, "InvalidSignatureException", badSignature)
		return false
	}
	return true
}

// model is an embedding model the fake serves.
type model struct {
	titan      bool
	v1         bool  // Titan V1: inputText only
	dims       int   // default vector length
	dimensions []int // the lengths it may be asked for; none: fixed
}

var models = map[string]model{
	"amazon.titan-embed-text-v2:0": {titan: true, dims: 1024, dimensions: []int{256, 512, 1024}},
	"amazon.titan-embed-text-v1":   {titan: true, v1: true, dims: 1536},
	"cohere.embed-english-v3":      {dims: 1024},
	"cohere.embed-multilingual-v3": {dims: 1024},
	"cohere.embed-v4:0":            {dims: 1536, dimensions: []int{256, 512, 1024, 1536}},
}

// lookup finds id's model, without a cross-region prefix.
func lookup(id string) (model, bool) {
	if m, ok := models[id]; ok {
		return m, true
	}
	for _, prefix := range []string{"us.", "eu.", "apac.", "global."} {
		if rest, ok := strings.CutPrefix(id, prefix); ok {
			m, ok := models[rest]
			return m, ok
		}
	}
	return model{}, false
}

func (s *EmbedServer) invoke(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, EmbedRequest{Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()
	if !s.verify(w, r, body) {
		return
	}
	id := r.PathValue("model")
	switch {
	case strings.Contains(id, "error-400"):
		bedrockError(w, 400, "ValidationException", "Input is too long for requested model.")
		return
	case strings.Contains(id, "error-429"):
		bedrockError(w, 429, "ThrottlingException", "Too many requests, please wait before trying again.")
		return
	case strings.Contains(id, "error-500"):
		bedrockError(w, 500, "InternalServerException", "The server encountered an internal error while processing the request.")
		return
	}
	m, ok := lookup(id)
	if !ok {
		bedrockError(w, 400, "ValidationException", "The provided model identifier is invalid.")
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		malformed(w, "#: expected type: JSONObject")
		return
	}
	if m.titan {
		s.titan(w, m, fields)
		return
	}
	s.cohere(w, m, fields)
}

// checkKeys refuses a body with a key outside allowed or without one of
// required, as the models' schemas do.
func checkKeys(w http.ResponseWriter, fields map[string]json.RawMessage, allowed, required []string) bool {
	for k := range fields {
		if !slices.Contains(allowed, k) {
			malformed(w, fmt.Sprintf("#: extraneous key [%s] is not permitted", k))
			return false
		}
	}
	for _, k := range required {
		if _, ok := fields[k]; !ok {
			malformed(w, fmt.Sprintf("#: required key [%s] not found", k))
			return false
		}
	}
	return true
}

// dimension reads the requested vector length under key, or m's default.
func dimension(w http.ResponseWriter, m model, fields map[string]json.RawMessage, key string) (int, bool) {
	raw, ok := fields[key]
	if !ok {
		return m.dims, true
	}
	var d int
	if json.Unmarshal(raw, &d) != nil || !slices.Contains(m.dimensions, d) {
		malformed(w, fmt.Sprintf("#/%s: %s is not a valid enum value", key, raw))
		return 0, false
	}
	return d, true
}

func (s *EmbedServer) titan(w http.ResponseWriter, m model, fields map[string]json.RawMessage) {
	allowed := []string{"inputText", "dimensions", "normalize", "embeddingTypes"}
	if m.v1 {
		allowed = allowed[:1]
	}
	if !checkKeys(w, fields, allowed, []string{"inputText"}) {
		return
	}
	var text string
	if json.Unmarshal(fields["inputText"], &text) != nil {
		malformed(w, "#/inputText: expected type: String")
		return
	}
	if text == "" {
		malformed(w, "#/inputText: expected minLength: 1, actual: 0")
		return
	}
	dims, ok := dimension(w, m, fields, "dimensions")
	if !ok {
		return
	}
	normalize := true
	if raw, ok := fields["normalize"]; ok && json.Unmarshal(raw, &normalize) != nil {
		malformed(w, "#/normalize: expected type: Boolean")
		return
	}
	length := 1.0
	if !normalize {
		length = 0
	}
	v := scaled(features(text, dims), length)
	answer := map[string]any{"embedding": v, "inputTextTokenCount": Tokens(text)}
	if !m.v1 {
		answer["embeddingsByType"] = map[string]any{"float": v}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func (s *EmbedServer) cohere(w http.ResponseWriter, m model, fields map[string]json.RawMessage) {
	allowed := []string{"texts", "images", "input_type", "truncate", "embedding_types"}
	if m.dimensions != nil { // embed-v4
		allowed = append(allowed, "inputs", "output_dimension", "max_tokens")
	}
	if !checkKeys(w, fields, allowed, []string{"texts", "input_type"}) {
		return
	}
	var req struct {
		Texts          []string `json:"texts"`
		InputType      string   `json:"input_type"`
		EmbeddingTypes []string `json:"embedding_types"`
	}
	if err := json.Unmarshal(mustJSON(fields), &req); err != nil {
		malformed(w, "#: "+err.Error())
		return
	}
	switch {
	case len(req.Texts) > 96:
		malformed(w, fmt.Sprintf("#/texts: expected maximum item count: 96, found: %d", len(req.Texts)))
		return
	case !slices.Contains([]string{"search_document", "search_query", "classification", "clustering"}, req.InputType):
		malformed(w, fmt.Sprintf("#/input_type: %s is not a valid enum value", req.InputType))
		return
	case len(req.EmbeddingTypes) > 0 && !slices.Contains(req.EmbeddingTypes, "float"):
		bedrockError(w, 400, "ValidationException", "test fake: only float embeddings are served")
		return
	}
	dims, ok := dimension(w, m, fields, "output_dimension")
	if !ok {
		return
	}
	vectors := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		vectors[i] = Embedding(t, dims)
	}
	answer := map[string]any{
		"id":            fmt.Sprintf("fake-%08x-0000-4000-8000-000000000000", s.ids.Add(1)),
		"embeddings":    vectors,
		"response_type": "embeddings_floats",
		"texts":         req.Texts,
	}
	if len(req.EmbeddingTypes) > 0 {
		answer["embeddings"] = map[string]any{"float": vectors}
		answer["response_type"] = "embeddings_by_type"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func mustJSON(fields map[string]json.RawMessage) []byte {
	b, _ := json.Marshal(fields)
	return b
}
