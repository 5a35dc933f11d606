package cohere

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hypergate/hypergate/internal/llm"
)

// Embeddings through Cohere's v2 embed API, POST {base}/embed.

var _ llm.EmbeddingsCodec = Codec{}

// maxEmbedTexts is the most texts Cohere embeds in one call.
const maxEmbedTexts = 96

// embedInputType is the input_type every embeddings request is sent with.
// Cohere requires one for its v3 and later models, and OpenAI's request has
// nothing to choose it from. search_document is the type for text stored
// and searched later, which is what most embedding calls are for (indexing
// a corpus for retrieval); Cohere documents that a corpus embedded as
// search_document is searched with queries embedded as search_query, so
// queries sent through the gateway are embedded as documents too, which
// retrieval tolerates at some cost in ranking quality.
const embedInputType = "search_document"

type embedRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int      `json:"output_dimension,omitempty"`
}

type embedResponse struct {
	ID string `json:"id"`
	// Embeddings is {"float": [[…]]} (response_type embeddings_by_type, the
	// v2 API's answer) or [[…]] (embeddings_floats, v1's and some hosts').
	Embeddings json.RawMessage `json:"embeddings"`
	Meta       *struct {
		BilledUnits *tokenCounts `json:"billed_units"`
		Tokens      *tokenCounts `json:"tokens"`
	} `json:"meta"`
}

// EncodeEmbeddings builds a v2 embed body: model, the inputs as texts,
// input_type search_document (see embedInputType), embedding_types
// ["float"], and Dimensions as output_dimension (embed-v4 and later; older
// models refuse it, and Cohere's 400 is passed on).
//
// User is dropped: Cohere's embed has no end-user field. More than 96
// inputs are refused with a 400 (Cohere's limit per call), so that a model
// with another target can still answer.
func (Codec) EncodeEmbeddings(r *llm.EmbedRequest) ([]byte, error) {
	if len(r.Inputs) > maxEmbedTexts {
		return nil, badRequest("embed takes at most %d inputs in one request, and this one has %d", maxEmbedTexts, len(r.Inputs))
	}
	if r.User != "" {
		r.Dropped = append(r.Dropped, "user")
	}
	body, err := marshal(embedRequest{
		Model:           r.Model,
		Texts:           r.Inputs,
		InputType:       embedInputType,
		EmbeddingTypes:  []string{"float"},
		OutputDimension: r.Dimensions,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding cohere embeddings request: %w", err)
	}
	return body, nil
}

// DecodeEmbeddings reads a v2 embed answer: the float vectors of
// embeddings, in text order. Usage is meta.billed_units.input_tokens (what
// the call is charged for), or meta.tokens.input_tokens when no billed
// count is given; with neither, Usage is not Present and the gateway
// estimates it. Cohere names no model in its answer.
func (Codec) DecodeEmbeddings(body []byte) (*llm.EmbedResponse, error) {
	var c embedResponse
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("decoding cohere embeddings response: %w", err)
	}
	vectors, err := floatEmbeddings(c.Embeddings)
	if err != nil {
		return nil, fmt.Errorf("decoding cohere embeddings response: %w", err)
	}
	resp := &llm.EmbedResponse{Vectors: vectors}
	if c.Meta != nil {
		for _, tc := range []*tokenCounts{c.Meta.BilledUnits, c.Meta.Tokens} {
			if tc != nil && tc.InputTokens != nil {
				resp.Usage = llm.Usage{InputTokens: count(*tc.InputTokens), Present: true}
				break
			}
		}
	}
	return resp, nil
}

// floatEmbeddings reads the "embeddings" member of an embed answer: the
// float vectors of {"float": [[…]], …} (embeddings_by_type), or of [[…]]
// (embeddings_floats). Every vector must be non-empty.
func floatEmbeddings(raw json.RawMessage) ([][]float32, error) {
	raw = bytes.TrimSpace(raw)
	var vectors [][]float32
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, errors.New("no embeddings")
	case raw[0] == '[':
		if err := json.Unmarshal(raw, &vectors); err != nil {
			return nil, err
		}
	default:
		var byType struct {
			Float [][]float32 `json:"float"`
		}
		if err := json.Unmarshal(raw, &byType); err != nil {
			return nil, err
		}
		vectors = byType.Float
	}
	if len(vectors) == 0 {
		return nil, errors.New("no float embeddings")
	}
	for i, v := range vectors {
		if !llm.ValidVector(v) {
			return nil, fmt.Errorf("embedding %d has no values", i)
		}
	}
	return vectors, nil
}
