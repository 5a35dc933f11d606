package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
)

// Embeddings through models.batchEmbedContents, Gemini's call for several
// texts at once (embedContent takes one).

var _ llm.EmbeddingsCodec = Codec{}

// maxBatchEmbed is the most requests batchEmbedContents takes in one call;
// Gemini refuses more with "at most 100 requests can be in one batch".
const maxBatchEmbed = 100

// normTolerance is how far from 1 a vector's length may be and still count
// as normalised.
const normTolerance = 1e-3

type batchEmbedRequest struct {
	Requests []embedContentRequest `json:"requests"`
}

// embedContentRequest is one EmbedContentRequest of a batch.
type embedContentRequest struct {
	Model                string  `json:"model"`
	Content              content `json:"content"`
	OutputDimensionality int     `json:"outputDimensionality,omitempty"`
}

type batchEmbedResponse struct {
	Embeddings []struct {
		Values []float32 `json:"values"`
	} `json:"embeddings"`
	Error *apiErrorFields `json:"error"`
}

// EncodeEmbeddings builds a batchEmbedContents body: one
// EmbedContentRequest per input, each naming the model as the resource
// models/{model} (Gemini requires it to match the model of the URL), with
// the text as the content's one part and Dimensions as
// outputDimensionality. No taskType is sent: OpenAI's request says nothing
// of what the vectors are for, and Gemini's default serves every use.
//
// User is dropped: Gemini has no end-user field. More than 100 inputs are
// refused with a 400 (Gemini's limit per batch), so that a model with
// another target can still answer.
func (Codec) EncodeEmbeddings(r *llm.EmbedRequest) ([]byte, error) {
	if len(r.Inputs) > maxBatchEmbed {
		return nil, badRequest("batchEmbedContents takes at most %d inputs in one request, and this one has %d", maxBatchEmbed, len(r.Inputs))
	}
	if r.User != "" {
		r.Dropped = append(r.Dropped, "user")
	}
	model := "models/" + strings.TrimPrefix(strings.TrimLeft(r.Model, "/"), "models/")
	b := batchEmbedRequest{Requests: make([]embedContentRequest, len(r.Inputs))}
	for i, text := range r.Inputs {
		b.Requests[i] = embedContentRequest{
			Model:                model,
			Content:              content{Parts: []part{{Text: text}}},
			OutputDimensionality: r.Dimensions,
		}
	}
	body, err := marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding gemini embeddings request: %w", err)
	}
	return body, nil
}

// DecodeEmbeddings reads a batchEmbedContents answer, {"embeddings":
// [{"values": […]}, …]}, one embedding per request in request order. A
// Google error object in the body is returned as the *llm.Error it maps
// to, as DecodeError would.
//
// Gemini reports no token usage for embeddings, so Usage is not Present:
// the gateway estimates it. It names no model either.
//
// OpenAI's embeddings have length 1, and clients rely on it (a dot product
// is then the cosine similarity). Gemini's full-size vectors have too, but
// the shorter ones outputDimensionality asks for are truncations that
// Google documents as not normalised; any vector whose length is not 1 is
// therefore scaled to length 1.
func (Codec) DecodeEmbeddings(body []byte) (*llm.EmbedResponse, error) {
	var g batchEmbedResponse
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, fmt.Errorf("decoding gemini embeddings response: %w", err)
	}
	if g.Error != nil {
		return nil, apiError(0, g.Error)
	}
	if len(g.Embeddings) == 0 {
		return nil, errors.New("decoding gemini embeddings response: no embeddings")
	}
	resp := &llm.EmbedResponse{Vectors: make([][]float32, len(g.Embeddings))}
	for i, e := range g.Embeddings {
		if !llm.ValidVector(e.Values) {
			return nil, fmt.Errorf("decoding gemini embeddings response: embedding %d has no values", i)
		}
		resp.Vectors[i] = normalize(e.Values)
	}
	return resp, nil
}

// normalize scales v to length 1 unless it has that length already (or is
// all zeros, which has no direction to keep).
func normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Sqrt(sum)
	if norm == 0 || math.IsInf(norm, 0) || math.Abs(norm-1) <= normTolerance {
		return v
	}
	for i, x := range v {
		v[i] = float32(float64(x) / norm)
	}
	return v
}
