package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
)

// OpenAI's embeddings endpoint, as an inbound format for upstreams of other
// families: DecodeEmbeddingsRequest reads a POST /v1/embeddings body into
// the neutral llm.EmbedRequest, EncodeEmbeddingsResponse renders an
// llm.EmbedResponse as OpenAI's answer. Calls to an OpenAI-format upstream
// never come here: they pass through.

var _ llm.InboundEmbeddingsCodec = Codec{}

// maxEmbeddingInputs is OpenAI's limit on the inputs of one request.
const maxEmbeddingInputs = 2048

// The encoding formats OpenAI knows.
const (
	encodingFloat  = "float"
	encodingBase64 = "base64"
)

// DecodeEmbeddingsRequest reads an OpenAI embeddings request body. Every
// error is an *llm.Error with status 400 whose message names the field, as
// for chat (see DecodeRequest); a JSON null reads as an absent field.
//
//   - input is a non-empty string, or an array of 1 to 2048 non-empty
//     strings (OpenAI refuses empty input too). Input given as token ids —
//     an array of integers, or of integer arrays — is well formed but cannot
//     be translated: it returns llm.ErrTokenInput, so that the gateway can
//     still send it to an OpenAI-format target.
//   - dimensions is a whole number of at least 1.
//   - encoding_format is "float" (the default) or "base64".
//   - model and user are strings.
//
// Any other field is listed in EmbedRequest.Dropped by name: no upstream
// family has a counterpart for a field OpenAI does not document.
func (Codec) DecodeEmbeddingsRequest(body []byte) (*llm.EmbedRequest, error) {
	if !json.Valid(body) {
		return nil, badRequest("the request body is not valid JSON")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, badRequest("the request body must be a JSON object")
	}
	r := &llm.EmbedRequest{EncodingFormat: encodingFloat}
	sawInput := false
	var err error
	root.ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.Null {
			return true
		}
		switch k.Str {
		case "model":
			r.Model, err = str("model", v)
		case "input":
			sawInput = true
			r.Inputs, err = embeddingInputs(v)
		case "dimensions":
			r.Dimensions, err = dimensions(v)
		case "encoding_format":
			r.EncodingFormat, err = str("encoding_format", v)
			if err == nil && r.EncodingFormat != encodingFloat && r.EncodingFormat != encodingBase64 {
				err = invalid("encoding_format", "expected 'float' or 'base64', but got %q", truncate(r.EncodingFormat, 64))
			}
		case "user":
			r.User, err = str("user", v)
		default:
			if !slices.Contains(r.Dropped, k.Str) {
				r.Dropped = append(r.Dropped, k.Str)
			}
		}
		return err == nil
	})
	switch {
	case err != nil:
		return nil, err
	case r.Model == "":
		return nil, missing("model")
	case !sawInput:
		return nil, missing("input")
	}
	return r, nil
}

// embeddingInputs reads input: a string or an array of strings, or token
// ids (llm.ErrTokenInput).
func embeddingInputs(v gjson.Result) ([]string, error) {
	const want = "a string or an array of strings"
	if v.Type == gjson.String {
		if v.Str == "" {
			return nil, invalid("input", "must not be an empty string")
		}
		return []string{v.Str}, nil
	}
	if !v.IsArray() {
		return nil, wrongType("input", want, v)
	}
	var (
		texts  []string
		tokens bool
		err    error
		n      int
	)
	v.ForEach(func(_, item gjson.Result) bool {
		i := n
		n++
		if n > maxEmbeddingInputs {
			err = invalid("input", "at most %d inputs can be embedded in one request", maxEmbeddingInputs)
			return false
		}
		switch {
		case item.Type == gjson.String && !tokens:
			if item.Str == "" {
				err = invalid(fmt.Sprintf("input[%d]", i), "must not be an empty string")
				return false
			}
			texts = append(texts, item.Str)
		case n == 1 && isTokenInput(item), tokens && isTokenInput(item):
			tokens = true
		default:
			err = wrongType(fmt.Sprintf("input[%d]", i), "a string", item)
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, invalid("input", "must not be an empty array")
	case tokens:
		return nil, llm.ErrTokenInput
	}
	return texts, nil
}

// isTokenInput reports whether an element of input is a token id or an
// array of token ids.
func isTokenInput(v gjson.Result) bool {
	if v.Type == gjson.Number {
		return isWhole(v)
	}
	if !v.IsArray() {
		return false
	}
	ok := true
	v.ForEach(func(_, t gjson.Result) bool {
		ok = t.Type == gjson.Number && isWhole(t)
		return ok
	})
	return ok
}

func isWhole(v gjson.Result) bool { return v.Num == math.Trunc(v.Num) && v.Num >= 0 }

// dimensions reads a positive whole number that every upstream's integer
// field can carry (Gemini's is 32 bits).
func dimensions(v gjson.Result) (int, error) {
	n, err := integer("dimensions", v)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > math.MaxInt32 {
		return 0, invalid("dimensions", "expected a whole number of at least 1, but got %s", truncate(v.Raw, 32))
	}
	return int(n), nil
}

// embeddingsResponse is OpenAI's CreateEmbeddingResponse, fields in the
// order OpenAI writes them.
type embeddingsResponse struct {
	Object string            `json:"object"`
	Data   []embeddingObject `json:"data"`
	Model  string            `json:"model"`
	Usage  embeddingsUsage   `json:"usage"`
}

type embeddingObject struct {
	Object string `json:"object"`
	Index  int    `json:"index"`
	// Embedding is a []float32, or a string for base64.
	Embedding any `json:"embedding"`
}

type embeddingsUsage struct {
	PromptTokens int64 `json:"prompt_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
}

// EncodeEmbeddingsResponse renders r as OpenAI's embeddings answer: a list
// of embedding objects in input order, the model, and usage whose
// prompt_tokens and total_tokens are both the input tokens (embeddings
// produce no output tokens). encodingFormat "base64" writes each vector as
// the standard base64 of its float32 values, little-endian, which is what
// OpenAI sends and its SDKs decode; "float" or "" writes arrays of numbers.
// A vector that is empty or not finite is an error: nothing a client could
// use can be made of it.
func (Codec) EncodeEmbeddingsResponse(r *llm.EmbedResponse, encodingFormat string) ([]byte, error) {
	if r == nil {
		return nil, errors.New("encoding embeddings response: no response")
	}
	if encodingFormat != "" && encodingFormat != encodingFloat && encodingFormat != encodingBase64 {
		return nil, fmt.Errorf("encoding embeddings response: unknown encoding format %q", encodingFormat)
	}
	out := embeddingsResponse{
		Object: "list",
		Data:   make([]embeddingObject, len(r.Vectors)),
		Model:  r.Model,
		Usage:  embeddingsUsage{PromptTokens: r.Usage.InputTokens, TotalTokens: r.Usage.InputTokens},
	}
	for i, v := range r.Vectors {
		if !llm.ValidVector(v) {
			return nil, fmt.Errorf("encoding embeddings response: vector %d is empty or not finite", i)
		}
		var e any = v
		if encodingFormat == encodingBase64 {
			e = vectorBase64(v)
		}
		out.Data[i] = embeddingObject{Object: "embedding", Index: i, Embedding: e}
	}
	b, err := marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding embeddings response: %w", err)
	}
	return b, nil
}

// vectorBase64 is the base64 of v's float32 values, little-endian.
func vectorBase64(v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(raw)
}
