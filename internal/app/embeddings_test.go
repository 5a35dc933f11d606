package app_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/anthropic/anthropicfake"
	"github.com/hypergate/hypergate/internal/provider/bedrock/bedrockfake"
	"github.com/hypergate/hypergate/internal/provider/cohere/coherefake"
	"github.com/hypergate/hypergate/internal/provider/gemini/geminifake"
)

const (
	embGeminiKey = "AIza-embeddings-test-key-0123456789"
	embCohereKey = "co-embeddings-test-key-0123456789"
	embClaudeKey = "sk-ant-embeddings-test-key-0123456789"
	embAWSKeyID  = "AKIDEMBEDDINGSTEST"
	embAWSSecret = "embeddings/Secret+Access+Key/0123456789"
)

// embConfig routes embedding models to the Gemini, Cohere and Bedrock
// fakes, to an Anthropic one (which has no embeddings) and to the OpenAI
// fake. %[1]s … %[5]s are their base URLs.
const embConfig = `
providers:
  - { name: gem, type: gemini, base_url: "%[1]s", api_key: env:EMB_GEMINI_KEY, timeout: 20s }
  - { name: co, type: cohere, base_url: "%[2]s", api_key: env:EMB_COHERE_KEY, timeout: 20s }
  - { name: aws, type: bedrock, base_url: "%[3]s", api_key: env:EMB_AWS_CREDENTIALS, timeout: 20s }
  - { name: claude, type: anthropic, base_url: "%[4]s", api_key: env:EMB_CLAUDE_KEY, timeout: 20s }
  - { name: oai, type: openai, base_url: "%[5]s", api_key: env:TEST_UPSTREAM_KEY, timeout: 20s }
models:
  - { name: gemini-embed, targets: [ { provider: gem, model: gemini-embedding-001 } ] }
  - { name: cohere-embed, targets: [ { provider: co, model: embed-v4.0 } ] }
  - { name: titan, targets: [ { provider: aws, model: "amazon.titan-embed-text-v2:0" } ] }
  - { name: bedrock-cohere, targets: [ { provider: aws, model: cohere.embed-english-v3 } ] }
  - { name: gemini-429, targets: [ { provider: gem, model: error-429 } ] }
  - { name: cohere-400, targets: [ { provider: co, model: error-400 } ] }
  - { name: bedrock-429, targets: [ { provider: aws, model: cohere.embed-error-429 } ] }
  - name: claude-embed
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
    fallbacks: [gemini-embed]
  - name: gemini-then-openai
    strategy: priority
    targets: [ { provider: gem, model: gemini-embedding-001 }, { provider: oai, model: text-embedding-3-small } ]
consumers:
  - { name: shop, keys: [ { name: default, key: env:TEST_SHOP_KEY } ] }
`

type embEnv struct {
	*env
	gem    *geminifake.Server
	co     *coherefake.EmbedServer
	aws    *bedrockfake.EmbedServer
	claude *anthropicfake.Server
	client openai.Client
	spec   *openaispec.Spec
}

func startEmbeddings(t *testing.T) *embEnv {
	t.Helper()
	x := &embEnv{
		gem:    geminifake.New(geminifake.Options{APIKey: embGeminiKey}),
		co:     coherefake.NewEmbed(coherefake.EmbedOptions{APIKey: embCohereKey}),
		aws:    bedrockfake.NewEmbed(bedrockfake.EmbedOptions{AccessKeyID: embAWSKeyID, SecretAccessKey: embAWSSecret}),
		claude: anthropicfake.New(anthropicfake.Options{APIKey: embClaudeKey}),
	}
	t.Cleanup(x.gem.Close)
	t.Cleanup(x.co.Close)
	t.Cleanup(x.aws.Close)
	t.Cleanup(x.claude.Close)
	t.Setenv("EMB_GEMINI_KEY", embGeminiKey)
	t.Setenv("EMB_COHERE_KEY", embCohereKey)
	t.Setenv("EMB_AWS_CREDENTIALS", embAWSKeyID+":"+embAWSSecret)
	t.Setenv("EMB_CLAUDE_KEY", embClaudeKey)
	x.env = start(t)
	cfg := fmt.Sprintf(embConfig, x.gem.BaseURL(), x.co.BaseURL(), x.aws.BaseURL(), x.claude.BaseURL(), x.up.BaseURL())
	if st := x.adminDo("PUT", "/admin/v1/config", cfg, nil); st != 200 {
		t.Fatalf("applying the configuration: %d", st)
	}
	x.client = x.sdk(shopKey)
	x.spec = openaispec.ForTest(t)
	return x
}

// embed calls the gateway with the official SDK and returns the answer and
// its call record.
func (x *embEnv) embed(t *testing.T, params openai.EmbeddingNewParams) (*openai.CreateEmbeddingResponse, calllog.Record) {
	t.Helper()
	var raw *http.Response
	resp, err := x.client.Embeddings.New(context.Background(), params, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatalf("embeddings: %v", err)
	}
	if params.EncodingFormat != openai.EmbeddingNewParamsEncodingFormatBase64 {
		x.spec.Check(t, "CreateEmbeddingResponse", []byte(resp.RawJSON()))
	}
	return resp, x.call(raw.Header.Get("X-Request-Id"))
}

// embedErr calls the gateway and returns the SDK's error and the record.
func (x *embEnv) embedErr(t *testing.T, params openai.EmbeddingNewParams) (*openai.Error, calllog.Record) {
	t.Helper()
	var raw *http.Response
	_, err := x.client.Embeddings.New(context.Background(), params, option.WithResponseInto(&raw))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an API error", err)
	}
	x.spec.Check(t, "Error", []byte(apiErr.RawJSON())) // the SDK keeps the error object, not its envelope
	return apiErr, x.call(raw.Header.Get("X-Request-Id"))
}

func texts(in ...string) openai.EmbeddingNewParamsInputUnion {
	if len(in) == 1 {
		return openai.EmbeddingNewParamsInputUnion{OfString: openai.String(in[0])}
	}
	return openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: in}
}

// unit scales v to length 1, as the gateway does with Gemini's truncated
// vectors.
func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := math.Sqrt(s)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

// checkVectors compares the answer's vectors, in order, with want: exactly
// (floats travel as float32's shortest decimal, base64 as its bits), so
// that every vector is known to be the upstream's for its input.
func checkVectors(t *testing.T, resp *openai.CreateEmbeddingResponse, want [][]float32) {
	t.Helper()
	if len(resp.Data) != len(want) {
		t.Fatalf("%d embeddings, want %d", len(resp.Data), len(want))
	}
	for i, d := range resp.Data {
		if d.Index != int64(i) || len(d.Embedding) != len(want[i]) {
			t.Fatalf("data[%d]: index %d, %d values, want %d", i, d.Index, len(d.Embedding), len(want[i]))
		}
		for j, w := range want[i] {
			if float32(d.Embedding[j]) != w {
				t.Fatalf("data[%d][%d] = %v, want %v", i, j, d.Embedding[j], w)
			}
		}
	}
}

var embInputs = []string{"What is the meaning of life?", "How much wood would a woodchuck chuck?", "How does the brain work?"}

// Over Gemini: batchEmbedContents, no usage from upstream (so it is
// estimated and the record says so), truncated vectors made unit length.
func TestEmbeddingsOverGemini(t *testing.T) {
	x := startEmbeddings(t)
	estimated := llm.EstimateEmbeddingTokens("gemini-embedding-001", embInputs)
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format)+"/several inputs", func(t *testing.T) {
			resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "gemini-embed", Input: texts(embInputs...), EncodingFormat: format})
			var want [][]float32
			for _, in := range embInputs {
				want = append(want, geminifake.Embedding(in))
			}
			checkVectors(t, resp, want)
			if resp.Model != "gemini-embedding-001" || resp.Usage.PromptTokens != estimated || resp.Usage.TotalTokens != estimated {
				t.Errorf("model %q, usage %+v, want %d estimated tokens", resp.Model, resp.Usage, estimated)
			}
			if rec.Provider != "gem" || !rec.UsageEstimated || rec.InputTokens != estimated || rec.OutputTokens != 0 || rec.Status != 200 {
				t.Errorf("record = %+v", rec)
			}
		})
		t.Run(string(format)+"/dimensions", func(t *testing.T) {
			resp, _ := x.embed(t, openai.EmbeddingNewParams{Model: "gemini-embed", Input: texts(embInputs[0]), Dimensions: openai.Int(64), EncodingFormat: format})
			checkVectors(t, resp, [][]float32{unit(geminifake.Embedding(embInputs[0])[:64])})
		})
	}
	t.Run("request on the wire, drops recorded", func(t *testing.T) {
		_, rec := x.embed(t, openai.EmbeddingNewParams{Model: "gemini-embed", Input: texts("hello"), User: openai.String("user-1234")})
		reqs := x.gem.Requests()
		last := reqs[len(reqs)-1]
		if !strings.HasSuffix(last.Path, "/models/gemini-embedding-001:batchEmbedContents") || last.Header.Get("x-goog-api-key") != embGeminiKey ||
			string(last.Body) != `{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]}}]}` {
			t.Errorf("upstream request %s %s", last.Path, last.Body)
		}
		if !slices.Equal(rec.Dropped, []string{"user"}) {
			t.Errorf("dropped = %q, want user", rec.Dropped)
		}
	})
}

// Over Cohere: v2 embed, billed tokens as usage.
func TestEmbeddingsOverCohere(t *testing.T) {
	x := startEmbeddings(t)
	var tokens int64
	for _, in := range embInputs {
		tokens += int64(coherefake.Tokens(in))
	}
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format), func(t *testing.T) {
			resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "cohere-embed", Input: texts(embInputs...), Dimensions: openai.Int(512), EncodingFormat: format})
			var want [][]float32
			for _, in := range embInputs {
				want = append(want, coherefake.Embedding(in, 512))
			}
			checkVectors(t, resp, want)
			if resp.Model != "embed-v4.0" || resp.Usage.PromptTokens != tokens {
				t.Errorf("model %q, usage %+v, want %d tokens", resp.Model, resp.Usage, tokens)
			}
			if rec.Provider != "co" || rec.UsageEstimated || rec.InputTokens != tokens {
				t.Errorf("record = %+v", rec)
			}
		})
	}
	t.Run("default dimensions", func(t *testing.T) {
		resp, _ := x.embed(t, openai.EmbeddingNewParams{Model: "cohere-embed", Input: texts("hello")})
		checkVectors(t, resp, [][]float32{coherefake.Embedding("hello", coherefake.DefaultDimensions)})
		reqs := x.co.Requests()
		if last := reqs[len(reqs)-1]; last.Header.Get("Authorization") != "Bearer "+embCohereKey ||
			string(last.Body) != `{"model":"embed-v4.0","texts":["hello"],"input_type":"search_document","embedding_types":["float"]}` {
			t.Errorf("upstream request %s", last.Body)
		}
	})
}

// Over Bedrock: InvokeModel, signed; Titan's token count, Cohere's
// estimated; several inputs refused for Titan.
func TestEmbeddingsOverBedrock(t *testing.T) {
	x := startEmbeddings(t)
	t.Run("titan", func(t *testing.T) {
		resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "titan", Input: texts(embInputs[1]), Dimensions: openai.Int(256)})
		checkVectors(t, resp, [][]float32{bedrockfake.Embedding(embInputs[1], 256)})
		tokens := int64(bedrockfake.Tokens(embInputs[1]))
		if resp.Model != "amazon.titan-embed-text-v2:0" || resp.Usage.PromptTokens != tokens {
			t.Errorf("model %q, usage %+v, want %d tokens", resp.Model, resp.Usage, tokens)
		}
		if rec.Provider != "aws" || rec.UsageEstimated || rec.InputTokens != tokens {
			t.Errorf("record = %+v", rec)
		}
		reqs := x.aws.Requests()
		if last := reqs[len(reqs)-1]; last.Path != "/model/amazon.titan-embed-text-v2%3A0/invoke" ||
			string(last.Body) != `{"inputText":"How much wood would a woodchuck chuck?","dimensions":256,"normalize":true}` {
			t.Errorf("upstream request %s %s", last.Path, last.Body)
		}
	})
	t.Run("titan refuses several inputs", func(t *testing.T) {
		e, rec := x.embedErr(t, openai.EmbeddingNewParams{Model: "titan", Input: texts(embInputs...)})
		if e.StatusCode != 400 || e.Type != "invalid_request_error" || !strings.Contains(e.Message, "Titan embeds one input per request") {
			t.Errorf("error = %d %s %q", e.StatusCode, e.Type, e.Message)
		}
		if len(rec.Attempts) != 1 || rec.Attempts[0].Status != 400 {
			t.Errorf("attempts = %+v", rec.Attempts)
		}
	})
	t.Run("cohere, base64", func(t *testing.T) {
		resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "bedrock-cohere", Input: texts(embInputs...),
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64})
		var want [][]float32
		for _, in := range embInputs {
			want = append(want, bedrockfake.Embedding(in, 1024))
		}
		checkVectors(t, resp, want)
		estimated := llm.EstimateEmbeddingTokens("cohere.embed-english-v3", embInputs)
		if resp.Usage.PromptTokens != estimated || !rec.UsageEstimated || rec.InputTokens != estimated {
			t.Errorf("usage %+v, record %+v, want %d estimated tokens", resp.Usage, rec, estimated)
		}
	})
}

// Upstream errors reach the client in OpenAI's error shape, with the
// status and type the upstream's error maps to.
func TestEmbeddingsUpstreamErrors(t *testing.T) {
	x := startEmbeddings(t)
	tests := []struct {
		model  string
		status int
		typ    string
		code   string
		msg    string
	}{
		{model: "gemini-429", status: 429, typ: "rate_limit_error", code: "RESOURCE_EXHAUSTED", msg: "exceeded your current quota"},
		{model: "cohere-400", status: 400, typ: "invalid_request_error", code: "context_length_exceeded", msg: "too many tokens"},
		{model: "bedrock-429", status: 429, typ: "rate_limit_error", msg: "Too many requests"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			e, rec := x.embedErr(t, openai.EmbeddingNewParams{Model: tt.model, Input: texts("hello", "world")})
			if e.StatusCode != tt.status || e.Type != tt.typ || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = %d %s %q %q", e.StatusCode, e.Type, e.Code, e.Message)
			}
			if rec.Status != tt.status || rec.ErrorType != firstOf(tt.code, tt.typ) || len(rec.Attempts) == 0 {
				t.Errorf("record = %+v", rec)
			}
		})
	}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// A model whose target has no embeddings (Anthropic) falls back to one
// whose target has, through translation.
func TestEmbeddingsFallbackFromAnthropic(t *testing.T) {
	x := startEmbeddings(t)
	resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "claude-embed", Input: texts(embInputs[:2]...)})
	checkVectors(t, resp, [][]float32{geminifake.Embedding(embInputs[0]), geminifake.Embedding(embInputs[1])})
	if !rec.Fallback || rec.Provider != "gem" || len(rec.Attempts) != 2 {
		t.Fatalf("record = %+v", rec)
	}
	if a := rec.Attempts[0]; a.Provider != "claude" || a.Status != 0 || a.ErrorType != "operation_not_supported" {
		t.Errorf("first attempt = %+v", a)
	}
	if n := len(x.claude.Requests()); n != 0 {
		t.Errorf("Anthropic received %d requests", n)
	}
}

// Token ids cannot be translated: a model with only translating targets
// refuses them, one with an OpenAI-format target after them sends them
// there untouched.
func TestEmbeddingsTokenInput(t *testing.T) {
	x := startEmbeddings(t)
	tokens := openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1212, 318, 257, 1332, 13}}
	t.Run("only gemini", func(t *testing.T) {
		e, rec := x.embedErr(t, openai.EmbeddingNewParams{Model: "gemini-embed", Input: tokens})
		if e.StatusCode != 400 || e.Code != llm.ErrTokenInput.Code || len(x.gem.Requests()) != 0 {
			t.Errorf("error = %d %q %q; gemini saw %d requests", e.StatusCode, e.Code, e.Message, len(x.gem.Requests()))
		}
		if len(rec.Attempts) != 1 || rec.Attempts[0].ErrorType != llm.ErrTokenInput.Code {
			t.Errorf("attempts = %+v", rec.Attempts)
		}
	})
	t.Run("gemini, then openai", func(t *testing.T) {
		arrays := openai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{1212, 318, 257, 1332, 13}}}
		resp, rec := x.embed(t, openai.EmbeddingNewParams{Model: "gemini-then-openai", Input: arrays})
		if len(resp.Data) != 1 || rec.Provider != "oai" || len(rec.Attempts) != 2 || rec.UsageEstimated {
			t.Errorf("answer %s, record %+v", resp.RawJSON(), rec)
		}
	})
	t.Run("text, gemini first", func(t *testing.T) {
		_, rec := x.embed(t, openai.EmbeddingNewParams{Model: "gemini-then-openai", Input: texts("hello")})
		if rec.Provider != "gem" || len(rec.Attempts) != 1 {
			t.Errorf("record = %+v", rec)
		}
	})
}
