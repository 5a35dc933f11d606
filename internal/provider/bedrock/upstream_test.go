package bedrock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// newFakeBedrock serves Converse and ConverseStream as Bedrock documents
// them: it checks the SigV4 Authorization header's shape and the signed
// body hash (403 with Bedrock's error body otherwise), answers converse
// with a JSON body and converse-stream with event-stream frames.
func newFakeBedrock(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{model}/{op}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		if m := authRE.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[1] != testAKID ||
			r.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]) {
			w.Header().Set("x-amzn-ErrorType", "UnrecognizedClientException")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"The security token included in the request is invalid."}`)
			return
		}
		if r.PathValue("model") != "anthropic.claude-3-haiku-20240307-v1:0" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"The provided model identifier is invalid."}`)
			return
		}
		switch r.PathValue("op") {
		case "converse":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hello from Bedrock"}]}},"stopReason":"end_turn","usage":{"inputTokens":9,"outputTokens":4,"totalTokens":13},"metrics":{"latencyMs":200}}`)
		case "converse-stream":
			if r.Header.Get("Accept") != eventStreamType {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"message":"bad Accept"}`)
				return
			}
			w.Header().Set("Content-Type", eventStreamType)
			w.Write(encodeFrames(t, toolFrames...))
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// send does what the gateway does: URL, encode, sign, send.
func send(t *testing.T, base, model, key string, stream bool) *http.Response {
	t.Helper()
	u, err := provider.NewUpstream("bedrock-test", Type, base, []string{key}, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body, err := u.Codec().EncodeRequest(&llm.Request{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	url := u.URL(provider.Chat, model, stream)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Accept", "text/event-stream")
	k, _ := u.Key()
	hs, err := u.Sign("POST", url, body, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestUpstream(t *testing.T) {
	srv := newFakeBedrock(t)
	const model = "anthropic.claude-3-haiku-20240307-v1:0"
	key := testAKID + ":" + testSecret

	t.Run("converse", func(t *testing.T) {
		resp := send(t, srv.URL, model, key, false)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		got, err := Codec{}.DecodeResponse(b)
		if err != nil || got.Message.Text() != "Hello from Bedrock" || got.Finish != llm.FinishStop || got.Usage.InputTokens != 9 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("converse-stream", func(t *testing.T) {
		resp := send(t, srv.URL, model, key, true)
		r := Codec{}.NewStreamReader(resp.Body)
		var args string
		var n int
		for {
			ev, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			if ev.Type == llm.EventToolCallArgs {
				args += ev.Text
			}
		}
		if n != 8 || args != `{"sign": "WZPZ"}` {
			t.Errorf("%d events, args %q", n, args)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		resp := send(t, srv.URL, model, "OTHERKEY:"+testSecret, false)
		b, _ := io.ReadAll(resp.Body)
		e := Codec{}.DecodeError(resp.StatusCode, b)
		if e.Status != 403 || e.Type != "permission_error" || e.Message != "The security token included in the request is invalid." {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		resp := send(t, srv.URL, "anthropic.nope-v1:0", key, false)
		b, _ := io.ReadAll(resp.Body)
		if e := (Codec{}).DecodeError(resp.StatusCode, b); e.Status != 404 || e.Type != "not_found_error" {
			t.Errorf("got %+v", e)
		}
	})
}
