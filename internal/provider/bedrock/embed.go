package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
)

// Embeddings through InvokeModel, POST {base}/model/{modelId}/invoke, whose
// body is the model's own: Bedrock has no common embeddings format, so the
// codec speaks the two families' bodies it knows, chosen by the model id.

var _ llm.EmbeddingsCodec = Codec{}

// embedFamily is an embedding model family served on Bedrock.
type embedFamily int

const (
	familyUnknown embedFamily = iota
	familyTitanV1             // amazon.titan-embed-text-v1, amazon.titan-embed-g1-text-02
	familyTitanV2             // amazon.titan-embed-text-v2:0
	familyCohere              // cohere.embed-english-v3, cohere.embed-multilingual-v3, cohere.embed-v4:0
)

// embedFamilyOf finds the family in a model id, which may carry a
// cross-region prefix ("us.cohere.embed-v4:0") or be an ARN ending in one.
func embedFamilyOf(model string) embedFamily {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "amazon.titan-embed-text-v2"):
		return familyTitanV2
	case strings.Contains(m, "amazon.titan-embed-text-v1"), strings.Contains(m, "amazon.titan-embed-g1-text"):
		return familyTitanV1
	case strings.Contains(m, "cohere.embed-"):
		return familyCohere
	}
	return familyUnknown
}

// maxCohereTexts is the most texts Cohere's models embed in one call.
const maxCohereTexts = 96

// cohereInputType is the input_type sent to Cohere's models, which require
// one: search_document, for the reasons the cohere package gives for its
// own API (OpenAI's request does not say what the vectors are for, and most
// are for indexing).
const cohereInputType = "search_document"

type titanRequest struct {
	InputText  string `json:"inputText"`
	Dimensions int    `json:"dimensions,omitempty"`
	Normalize  *bool  `json:"normalize,omitempty"`
}

type cohereEmbedRequest struct {
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int      `json:"output_dimension,omitempty"`
}

// embedResponse holds both families' answers: Titan's {"embedding",
// "inputTextTokenCount", "embeddingsByType"} and Cohere's {"embeddings",
// "id", "texts", "response_type"}.
type embedResponse struct {
	Embedding           []float32 `json:"embedding"`
	InputTextTokenCount *float64  `json:"inputTextTokenCount"`
	EmbeddingsByType    *struct {
		Float []float32 `json:"float"`
	} `json:"embeddingsByType"`
	Embeddings json.RawMessage `json:"embeddings"`
}

// EncodeEmbeddings builds the InvokeModel body for r.Model's family:
//
//   - Amazon Titan Text Embeddings V2: {"inputText", "dimensions",
//     "normalize": true} — normalised, as OpenAI's vectors are; Dimensions
//     as dimensions (Titan takes 256, 512 or 1024 and answers other values
//     with a 400).
//   - Titan Text Embeddings V1 (G1): {"inputText"} only; it has no
//     dimensions, so a request with Dimensions is refused.
//   - Cohere Embed v3 and v4: {"texts", "input_type": "search_document",
//     "embedding_types": ["float"], "output_dimension"}, with at most 96
//     texts; output_dimension is v4's, and v3 answers it with a 400.
//
// Titan embeds one text per request: a request of several inputs is
// refused rather than sent as several calls, which would multiply the
// upstream calls a single attempt stands for. A model id of no known
// family (an application inference profile ARN names none) is refused too.
// Refusals are *llm.Error with status 400, so that another target of the
// model can answer. User is dropped: no family has an end-user field.
func (Codec) EncodeEmbeddings(r *llm.EmbedRequest) ([]byte, error) {
	family := embedFamilyOf(r.Model)
	switch {
	case family == familyUnknown:
		return nil, badRequest("model %q is not an embedding model the gateway can call: "+
			"use amazon.titan-embed-text-v2:0, amazon.titan-embed-text-v1 or a cohere.embed model", r.Model)
	case (family == familyTitanV1 || family == familyTitanV2) && len(r.Inputs) != 1:
		return nil, badRequest("Titan embeds one input per request, and this one has %d: send them one by one, "+
			"or use a model that takes several", len(r.Inputs))
	case family == familyTitanV1 && r.Dimensions != 0:
		return nil, badRequest("%s has no dimensions setting; leave dimensions out or use amazon.titan-embed-text-v2:0", r.Model)
	case family == familyCohere && len(r.Inputs) > maxCohereTexts:
		return nil, badRequest("Cohere embeds at most %d inputs in one request, and this one has %d", maxCohereTexts, len(r.Inputs))
	}
	if r.User != "" {
		r.Dropped = append(r.Dropped, "user")
	}
	var v any
	switch family {
	case familyTitanV2:
		normalize := true
		v = titanRequest{InputText: r.Inputs[0], Dimensions: r.Dimensions, Normalize: &normalize}
	case familyTitanV1:
		v = titanRequest{InputText: r.Inputs[0]}
	default:
		v = cohereEmbedRequest{Texts: r.Inputs, InputType: cohereInputType, EmbeddingTypes: []string{"float"}, OutputDimension: r.Dimensions}
	}
	body, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding bedrock embeddings request: %w", err)
	}
	return body, nil
}

// DecodeEmbeddings reads an InvokeModel answer of either family, told
// apart by its shape. Titan's "embedding" is one vector (or, lacking it,
// embeddingsByType.float), and inputTextTokenCount its usage. Cohere's
// "embeddings" is {"float": [[…]]} (embeddings_by_type, the answer to
// embedding_types) or [[…]] (embeddings_floats); Cohere on Bedrock reports
// no token count in the body, so Usage is not Present and the gateway
// estimates it. Neither names the model.
func (Codec) DecodeEmbeddings(body []byte) (*llm.EmbedResponse, error) {
	var b embedResponse
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("decoding bedrock embeddings response: %w", err)
	}
	resp := &llm.EmbedResponse{}
	switch {
	case len(b.Embedding) > 0 || b.EmbeddingsByType != nil:
		v := b.Embedding
		if len(v) == 0 {
			v = b.EmbeddingsByType.Float
		}
		resp.Vectors = [][]float32{v}
		if b.InputTextTokenCount != nil {
			resp.Usage = llm.Usage{InputTokens: max(int64(min(*b.InputTextTokenCount, 1<<53)), 0), Present: true}
		}
	default:
		vectors, err := cohereFloats(b.Embeddings)
		if err != nil {
			return nil, fmt.Errorf("decoding bedrock embeddings response: %w", err)
		}
		resp.Vectors = vectors
	}
	for i, v := range resp.Vectors {
		if !llm.ValidVector(v) {
			return nil, fmt.Errorf("decoding bedrock embeddings response: embedding %d has no values", i)
		}
	}
	return resp, nil
}

// cohereFloats reads Cohere's "embeddings": the float vectors of
// {"float": [[…]], …} or of [[…]].
func cohereFloats(raw json.RawMessage) ([][]float32, error) {
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
	return vectors, nil
}
