package geminifake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"unicode"
)

// EmbeddingDimensions is the length of the fake's full vectors, as
// text-embedding-004's.
const EmbeddingDimensions = 768

// maxBatch is Gemini's limit on the requests of one batchEmbedContents.
const maxBatch = 100

// Embedding returns the fake's full vector for text: its words and
// character trigrams hashed into EmbeddingDimensions signed features, then
// scaled to length 1. Equal texts get equal vectors and texts that share
// words get similar ones, so a test can check that each input was embedded
// and kept its place.
func Embedding(text string) []float32 {
	return hashedVector("gemini", text, EmbeddingDimensions)
}

// hashedVector is the feature-hashing embedding of text in dims dimensions,
// seeded so that each fake family gives its own vectors.
func hashedVector(seed, text string, dims int) []float32 {
	acc := make([]float64, dims)
	add := func(feature string, weight float64) {
		h := fnv.New64a()
		h.Write([]byte(seed))
		h.Write([]byte{0})
		h.Write([]byte(feature))
		sum := h.Sum64()
		if sum>>63 == 1 {
			weight = -weight
		}
		acc[sum%uint64(dims)] += weight
	}
	lower := strings.ToLower(text)
	for _, w := range strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
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

type embedRequest struct {
	Requests []struct {
		Model   string `json:"model"`
		Content struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		OutputDimensionality int `json:"outputDimensionality"`
	} `json:"requests"`
}

type embedding struct {
	Values []float32 `json:"values"`
}

// embed answers batchEmbedContents for model.
func (s *Server) embed(w http.ResponseWriter, model string, body []byte) {
	var req embedRequest
	if err := json.Unmarshal(body, &req); err != nil {
		googleError(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), "")
		return
	}
	switch n := len(req.Requests); {
	case n == 0:
		googleError(w, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is not specified", "")
		return
	case n > maxBatch:
		googleError(w, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch", "")
		return
	}
	out := make([]embedding, len(req.Requests))
	for i, r := range req.Requests {
		if r.Model != "models/"+model {
			googleError(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: "+
				"Model name in request must match the model in BatchEmbedContentsRequest", i), "")
			return
		}
		var text strings.Builder
		for _, p := range r.Content.Parts {
			text.WriteString(p.Text)
		}
		if text.Len() == 0 {
			googleError(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content: contents must not be empty", i), "")
			return
		}
		dims := r.OutputDimensionality
		if dims < 0 || dims > EmbeddingDimensions {
			googleError(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].output_dimensionality: "+
				"must be between 1 and %d", i, EmbeddingDimensions), "")
			return
		}
		if dims == 0 {
			dims = EmbeddingDimensions
		}
		out[i] = embedding{Values: Embedding(text.String())[:dims]}
	}
	if steer(w, model) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"embeddings": out})
}
