package coherefake_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/cohere"
	"github.com/hypergate/hypergate/internal/provider/cohere/coherefake"
)

const embedKey = "co-fake-embed-key"

// embedPost sends body to the embed fake and returns the answer.
func embedPost(t *testing.T, s *coherefake.EmbedServer, key, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL()+"/embed", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na) / math.Sqrt(nb)
}

// The fake's vectors are real functions of the text: unit length, equal
// for equal texts, closer for texts that share words.
func TestEmbedding(t *testing.T) {
	a := coherefake.Embedding("hello world", 256)
	if !slices.Equal(a, coherefake.Embedding("hello world", 256)) {
		t.Error("equal texts give different vectors")
	}
	if near, far := cosine(a, coherefake.Embedding("hello there world", 256)), cosine(a, coherefake.Embedding("quarterly revenue", 256)); near <= far {
		t.Errorf("cosine with a close text %.3f, with an unrelated one %.3f", near, far)
	}
	if got := coherefake.Tokens("Hello, world: this is a test."); got != 9 {
		t.Errorf("Tokens = %d, want 9 (six words, three marks)", got)
	}
}

// The embed fake's answers are read with the gateway's Cohere codec, whose
// golden files follow Cohere's documented answers.
func TestEmbedAnswers(t *testing.T) {
	s := coherefake.NewEmbed(coherefake.EmbedOptions{APIKey: embedKey})
	defer s.Close()
	codec := cohere.Codec{}
	texts := []string{"hello", "goodbye, world"}
	for _, dims := range []int{0, 512} {
		body, err := codec.EncodeEmbeddings(&llm.EmbedRequest{Model: "embed-v4.0", Inputs: texts, Dimensions: dims})
		if err != nil {
			t.Fatal(err)
		}
		status, b := embedPost(t, s, embedKey, string(body))
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		resp, err := codec.DecodeEmbeddings(b)
		if err != nil {
			t.Fatal(err)
		}
		want := dims
		if want == 0 {
			want = coherefake.DefaultDimensions
		}
		if resp.Usage != (llm.Usage{InputTokens: int64(coherefake.Tokens(texts[0]) + coherefake.Tokens(texts[1])), Present: true}) {
			t.Errorf("usage = %+v", resp.Usage)
		}
		for i, v := range resp.Vectors {
			if !slices.Equal(v, coherefake.Embedding(texts[i], want)) {
				t.Errorf("dims %d: vector %d is not the fake's Embedding of %q", dims, i, texts[i])
			}
		}
	}
	if reqs := s.Requests(); len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "Bearer "+embedKey {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestEmbedErrors(t *testing.T) {
	s := coherefake.NewEmbed(coherefake.EmbedOptions{APIKey: embedKey})
	defer s.Close()
	body := func(model string) string {
		return `{"model":"` + model + `","texts":["x"],"input_type":"search_document","embedding_types":["float"]}`
	}
	many := `{"model":"m","input_type":"search_document","texts":[` + strings.Repeat(`"x",`, 96) + `"x"]}`
	for _, tc := range []struct {
		name, key, body string
		status          int
		neutral         string // the codec's neutral type
	}{
		{"error-400", embedKey, body("error-400"), 400, "invalid_request_error"},
		{"error-429", embedKey, body("error-429"), 429, "rate_limit_error"},
		{"error-500", embedKey, body("error-500"), 500, "server_error"},
		{"no key", "", body("m"), 401, "authentication_error"},
		{"wrong key", "co-other", body("m"), 401, "authentication_error"},
		{"not JSON", embedKey, `{"model":`, 400, "invalid_request_error"},
		{"no input_type", embedKey, `{"model":"m","texts":["x"]}`, 400, "invalid_request_error"},
		{"no texts", embedKey, `{"model":"m","texts":[],"input_type":"search_document"}`, 400, "invalid_request_error"},
		{"97 texts", embedKey, many, 400, "invalid_request_error"},
		{"odd dimension", embedKey, `{"model":"m","texts":["x"],"input_type":"search_document","output_dimension":300}`, 400, "invalid_request_error"},
		{"no float type", embedKey, `{"model":"m","texts":["x"],"input_type":"search_document","embedding_types":["int8"]}`, 400, "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := embedPost(t, s, tc.key, tc.body)
			var e struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(b, &e); err != nil || status != tc.status || e.ID == "" || e.Message == "" {
				t.Fatalf("%d %s, want %d with Cohere's error body", status, b, tc.status)
			}
			if got := (cohere.Codec{}).DecodeError(status, b); got.Type != tc.neutral || got.Message != e.Message {
				t.Errorf("neutral error = %+v, want type %s", got, tc.neutral)
			}
		})
	}
}
