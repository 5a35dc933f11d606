package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/openaispec"
	"github.com/hypergate/hypergate/internal/provider/openai/openaifake"
)

func TestChatCompletionThroughSDK(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { chatCompletionThroughSDK(t, start(t, b.opt(t))) })
	}
}

func chatCompletionThroughSDK(t *testing.T, e *env) {
	spec := openaispec.ForTest(t)
	var raw *http.Response
	client := e.sdk(shopKey)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}, option.WithResponseInto(&raw), option.WithHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	if err != nil {
		t.Fatalf("chat completion: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "Hello there!" {
		t.Errorf("content = %q, want %q", got, "Hello there!")
	}
	spec.Check(t, "CreateChatCompletionResponse", []byte(resp.RawJSON()))
	id := raw.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id on the response")
	}
	if raw.Header.Get("Set-Cookie") != "" {
		t.Error("an upstream Set-Cookie header reached the client")
	}
	if raw.Header.Get("x-ratelimit-remaining-requests") != "99" {
		t.Error("the upstream's rate-limit header was not passed on")
	}

	reqs := e.up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(reqs))
	}
	up := reqs[0]
	if got := gjson.GetBytes(up.Body, "model").Str; got != "gpt-4o-mini-2024-07-18" {
		t.Errorf("upstream model = %q, want the target's name", got)
	}
	if got := up.Header.Get("Authorization"); got != "Bearer "+upstreamKey {
		t.Errorf("upstream Authorization = %q, want the provider key", got)
	}
	if got := up.Header.Get("traceparent"); got != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("traceparent not forwarded: %q", got)
	}
	if got := up.Header.Get("X-Request-Id"); got != id {
		t.Errorf("upstream X-Request-Id = %q, want %q", got, id)
	}

	rec := e.call(id)
	want := map[string]any{
		"consumer": rec.Consumer == "shop", "model": rec.Model == "gpt-4o-mini", "provider": rec.Provider == "fake",
		"upstream model": rec.UpstreamModel == "gpt-4o-mini-2024-07-18", "status": rec.Status == 200,
		"input tokens": rec.InputTokens == 12, "output tokens": rec.OutputTokens == 5, "stream": !rec.Stream,
		"cost from the price table": rec.CostUSD > 0, "latency": rec.LatencyUS > 0 && rec.UpstreamUS > 0 && rec.UpstreamUS <= rec.LatencyUS,
		"trace id": rec.TraceID == "4bf92f3577b34da6a3ce929d0e0e4736", "request body": strings.Contains(rec.RequestBody, "hello"),
		"response body": strings.Contains(rec.ResponseBody, "Hello there!"), "bytes": rec.RequestBytes > 0 && rec.ResponseBytes > 0,
		"client ip": rec.ClientIP == "127.0.0.1", "user agent": strings.Contains(rec.UserAgent, "OpenAI/Go"),
		"one attempt with the key's id, never the key": len(rec.Attempts) == 1 && rec.Attempts[0].KeyID == "fake#1" &&
			rec.Attempts[0].Status == 200 && rec.Attempts[0].Provider == "fake" && !rec.Fallback,
	}
	for what, ok := range want {
		if ok != true {
			t.Errorf("record: wrong %s: %+v", what, rec)
		}
	}
}

func TestStreamThroughSDK(t *testing.T) {
	for _, tc := range []struct {
		name         string
		includeUsage bool
	}{
		{"client asks for usage", true},
		{"gateway asks for usage on the client's behalf", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			spec := openaispec.ForTest(t)
			params := openai.ChatCompletionNewParams{
				Model:    "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
			}
			if tc.includeUsage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			var raw *http.Response
			client := e.sdk(shopKey)
			stream := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&raw))
			var text strings.Builder
			var usageChunks int
			for stream.Next() {
				ch := stream.Current()
				spec.Check(t, "CreateChatCompletionStreamResponse", []byte(ch.RawJSON()))
				if len(ch.Choices) > 0 {
					text.WriteString(ch.Choices[0].Delta.Content)
				}
				if ch.Usage.TotalTokens > 0 {
					usageChunks++
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if text.String() != "Hello there!" {
				t.Errorf("streamed text = %q", text.String())
			}
			wantUsage := 0
			if tc.includeUsage {
				wantUsage = 1
			}
			if usageChunks != wantUsage {
				t.Errorf("client saw %d usage chunks, want %d", usageChunks, wantUsage)
			}
			if got := gjson.GetBytes(e.up.Requests()[0].Body, "stream_options.include_usage").Bool(); !got {
				t.Error("upstream was not asked for usage")
			}
			rec := e.call(raw.Header.Get("X-Request-Id"))
			if !rec.Stream || rec.Status != 200 || rec.InputTokens != 12 || rec.OutputTokens != 3 || rec.TTFTUS <= 0 || rec.CostUSD <= 0 {
				t.Errorf("stream record = %+v", rec)
			}
		})
	}
}

func TestEmbeddingsAndModelsThroughSDK(t *testing.T) {
	e := start(t)
	spec := openaispec.ForTest(t)
	client := e.sdk(shopKey)
	emb, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil {
		t.Fatalf("embeddings: %v", err)
	}
	if len(emb.Data) != 2 || emb.Usage.PromptTokens != 16 {
		t.Errorf("embeddings = %+v", emb)
	}
	spec.Check(t, "CreateEmbeddingResponse", []byte(emb.RawJSON()))

	for _, tc := range []struct {
		name string
		key  string
		want []string
	}{
		{"consumer without allow-list sees every model", shopKey, nil},
		{"allow-list limits the list", otherKey, []string{"gpt-4o-mini"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.sdk(tc.key)
			page, err := c.Models.List(context.Background())
			if err != nil {
				t.Fatalf("models: %v", err)
			}
			spec.Check(t, "ListModelsResponse", []byte(page.RawJSON()))
			var ids []string
			for _, m := range page.Data {
				ids = append(ids, m.ID)
			}
			if tc.want == nil {
				if len(ids) < 10 {
					t.Errorf("models = %v, want all configured", ids)
				}
			} else if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("models = %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	e := start(t)
	spec := openaispec.ForTest(t)
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<20) + `"}]}`
	for _, tc := range []struct {
		name       string
		method     string
		path, key  string
		body       string
		status     int
		code       string // error.code, "" to skip
		msgHas     string
		recordType string // the call record's error_type; "" when no record is expected
		hdr        []string
	}{
		{"malformed JSON", "POST", "/v1/chat/completions", shopKey, `{"model":`, 400, "", "parse the JSON", "invalid_request_error", nil},
		{"body not an object", "POST", "/v1/chat/completions", shopKey, `[1,2]`, 400, "", "JSON object", "invalid_request_error", nil},
		{"missing model", "POST", "/v1/chat/completions", shopKey, `{"messages":[{"role":"user","content":"x"}]}`, 400, "", "model", "invalid_request_error", nil},
		{"missing messages", "POST", "/v1/chat/completions", shopKey, `{"model":"gpt-4o-mini"}`, 400, "", "messages", "invalid_request_error", nil},
		{"stream not a boolean", "POST", "/v1/chat/completions", shopKey, `{"model":"gpt-4o-mini","stream":"yes","messages":[{"role":"user","content":"x"}]}`, 400, "", "stream", "invalid_request_error", nil},
		{"missing key", "POST", "/v1/chat/completions", "", chatBody, 401, "missing_api_key", "API key", "missing_api_key", nil},
		{"invalid key", "POST", "/v1/chat/completions", "hg-not-a-key", chatBody, 401, "invalid_api_key", "Incorrect API key", "invalid_api_key", nil},
		{"model not allowed", "POST", "/v1/chat/completions", otherKey, strings.Replace(chatBody, "gpt-4o-mini", "embed", 1), 403, "model_not_allowed", "embed", "model_not_allowed", nil},
		{"unknown model", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "gpt-9", 1), 404, "model_not_found", "gpt-9", "model_not_found", nil},
		{"body over the limit", "POST", "/v1/chat/completions", shopKey, big, 413, "request_too_large", "limit", "request_too_large", []string{"Expect", "100-continue"}},
		{"upstream unreachable", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "unreachable", 1), 502, "upstream_unreachable", "could not be reached", "upstream_unreachable", nil},
		{"upstream timeout", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "slow", 1), 504, "upstream_timeout", "did not answer", "upstream_timeout", nil},
		{"upstream 400 passes through", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-400", 1), 400, "context_length_exceeded", "maximum context length", "context_length_exceeded", nil},
		{"upstream 429 passes through", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-429", 1), 429, "rate_limit_exceeded", "Rate limit", "rate_limit_exceeded", nil},
		{"upstream 500 passes through", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-500", 1), 500, "", "server had an error", "server_error", nil},
		{"upstream non-JSON error is wrapped", "POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-html", 1), 502, "upstream_502", "Bad Gateway", "upstream_502", nil},
		{"upstream stream timeout", "POST", "/v1/chat/completions", shopKey, `{"model":"slow","stream":true,"messages":[{"role":"user","content":"x"}]}`, 504, "upstream_timeout", "did not answer", "upstream_timeout", nil},
		{"wrong method", "GET", "/v1/chat/completions", shopKey, "", 405, "method_not_allowed", "POST", "method_not_allowed", nil},
		{"unknown path", "POST", "/v1/nothing", shopKey, "{}", 404, "unknown_url", "/v1/nothing", "unknown_url", nil},
		{"embeddings without input", "POST", "/v1/embeddings", shopKey, `{"model":"embed"}`, 400, "", "input", "invalid_request_error", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(tc.method, tc.path, tc.key, tc.body, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			spec.Check(t, "ErrorResponse", body)
			if got := gjson.GetBytes(body, "error.code").Str; tc.code != "" && got != tc.code {
				t.Errorf("error.code = %q, want %q (%s)", got, tc.code, body)
			}
			if msg := gjson.GetBytes(body, "error.message").Str; !strings.Contains(msg, tc.msgHas) {
				t.Errorf("error.message = %q, want it to mention %q", msg, tc.msgHas)
			}
			if strings.Contains(string(body), upstreamKey) || strings.Contains(string(body), "127.0.0.1:1") {
				t.Errorf("error body leaks a secret or an upstream address: %s", body)
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("no X-Request-Id")
			}
			rec := e.call(id)
			if rec.Status != tc.status || rec.ErrorType != tc.recordType {
				t.Errorf("record status/error_type = %d/%q, want %d/%q", rec.Status, rec.ErrorType, tc.status, tc.recordType)
			}
		})
	}
	t.Run("429 keeps Retry-After", func(t *testing.T) {
		resp, _ := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "error-429", 1))
		if resp.Header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
	})
	t.Run("SDK sees the upstream error", func(t *testing.T) {
		client := e.sdk(shopKey)
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "error-400", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSecretsNeverLeak(t *testing.T) {
	e := start(t)
	// The upstream echoes the key it was sent; the client must not see it.
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, strings.Replace(chatBody, "gpt-4o-mini", "echo-secret", 1))
	if resp.StatusCode != 401 || strings.Contains(string(body), upstreamKey) {
		t.Errorf("echoed upstream key reached the client: %d %s", resp.StatusCode, body)
	}
	// A client that pastes keys into its prompt must not find them in the log.
	leaky := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"my keys: %s and %s and AKIAIOSFODNN7EXAMPLE"}]}`, upstreamKey, shopKey)
	resp, _ = e.do("POST", "/v1/chat/completions", shopKey, leaky)
	id := resp.Header.Get("X-Request-Id")
	e.call(id)
	e.do("POST", "/v1/chat/completions", "", chatBody)
	e.stop()

	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	e.boot()
	defer e.stop()
	e.adminDo("GET", "/admin/v1/calls?limit=500", "", &page)
	var all strings.Builder
	for _, d := range page.Data {
		var rec struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(d, &rec)
		var full json.RawMessage
		e.adminDo("GET", "/admin/v1/calls/"+rec.ID, "", &full)
		all.Write(full)
	}
	for _, where := range []struct{ name, text string }{{"call records", all.String()}, {"logs", e.logs.String()}} {
		for _, secret := range []string{upstreamKey, shopKey, otherKey, adminToken, "AKIAIOSFODNN7EXAMPLE"} {
			if strings.Contains(where.text, secret) {
				t.Errorf("%s contain the secret %q", where.name, secret[:12])
			}
		}
	}
	if !strings.Contains(all.String(), "[REDACTED]") {
		t.Error("the leaky prompt was not redacted, or not captured")
	}
}

func TestRequestID(t *testing.T) {
	e := start(t)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"valid id is kept", "client-id_1.2:3", true},
		{"128 characters are kept", strings.Repeat("a", 128), true},
		{"129 characters are replaced", strings.Repeat("a", 129), false},
		{"unsafe characters are replaced", "bad id<script>", false},
		{"none sent", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.sent != "" {
				hdr = []string{"X-Request-Id", tc.sent}
			}
			resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chatBody, hdr...)
			got := resp.Header.Get("X-Request-Id")
			if tc.kept && got != tc.sent {
				t.Errorf("X-Request-Id = %q, want %q", got, tc.sent)
			}
			if !tc.kept && (got == tc.sent || len(got) != 36) {
				t.Errorf("X-Request-Id = %q, want a generated UUID", got)
			}
		})
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	e := start(t)
	req, _ := http.NewRequest("POST", e.data+"/v1/chat/completions",
		strings.NewReader(`{"model":"hang-stream","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Authorization", "Bearer "+shopKey)
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Request-Id")
	r := bufio.NewReader(resp.Body)
	for i := 0; i < 2; i++ { // role chunk, first word
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	resp.Body.Close()
	if !e.up.WaitCancelled(10 * time.Second) {
		t.Fatal("the upstream request was not cancelled after the client left")
	}
	rec := e.call(id)
	if rec.Status != 499 || rec.ErrorType != "client_closed" {
		t.Errorf("record status/error_type = %d/%q, want 499/client_closed", rec.Status, rec.ErrorType)
	}
	// The upstream never sent its usage: the counts are estimated, and say so.
	if !rec.UsageEstimated || rec.InputTokens < 1 || rec.OutputTokens < 1 {
		t.Errorf("aborted stream's usage = estimated %v, in %d, out %d", rec.UsageEstimated, rec.InputTokens, rec.OutputTokens)
	}
}

func TestBrokenUpstreamStreamIsReported(t *testing.T) {
	e := start(t)
	resp, body := e.do("POST", "/v1/chat/completions", shopKey, `{"model":"broken-stream","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if !strings.Contains(string(body), `"error"`) || !strings.Contains(string(body), "upstream_stream_error") {
		t.Errorf("the client was not told the stream broke off: %s", body)
	}
	rec := e.call(resp.Header.Get("X-Request-Id"))
	if rec.ErrorType != "upstream_stream_error" {
		t.Errorf("record error_type = %q", rec.ErrorType)
	}
}

func TestConcurrentCallsAreAllRecorded(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { concurrentCallsAreAllRecorded(t, start(t, b.opt(t))) })
	}
}

func concurrentCallsAreAllRecorded(t *testing.T, e *env) {
	const n = 2000
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	startGate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-startGate
			req, _ := http.NewRequest("POST", e.data+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer "+shopKey)
			req.Header.Set("X-Request-Id", fmt.Sprintf("concurrent-%04d", i))
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		}(i)
	}
	close(startGate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("request failed: %v", err)
	}
	e.stop()
	e.boot()
	seen := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Next string `json:"next_cursor"`
		}
		if st := e.adminDo("GET", "/admin/v1/calls?limit=500&consumer=shop&cursor="+cursor, "", &page); st != 200 {
			t.Fatalf("list calls: %d", st)
		}
		for _, c := range page.Data {
			if seen[c.ID] {
				t.Fatalf("call %s listed twice", c.ID)
			}
			seen[c.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seen) != n {
		t.Fatalf("%d call records, want exactly %d", len(seen), n)
	}
}

func TestShutdownFinishesInFlightStream(t *testing.T) {
	e := startWith(t, openaifake.Options{ChunkDelay: 150 * time.Millisecond})
	req, _ := http.NewRequest("POST", e.data+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Authorization", "Bearer "+shopKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Request-Id")
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	e.stop() // returns once in-flight requests are done and records are flushed
	body := <-done
	if !strings.Contains(body, "data: [DONE]") || !strings.Contains(body, `"content":"!"`) {
		t.Errorf("the stream was cut by shutdown: %q", body)
	}
	e.boot()
	if rec := e.call(id); rec.Status != 200 || !rec.Stream {
		t.Errorf("record after shutdown = %+v", rec)
	}
}

func TestResponsesAPIPassesThrough(t *testing.T) {
	e := start(t)
	client := e.sdk(shopKey)
	t.Run("plain", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(context.Background(), responses.ResponseNewParams{
			Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")},
		}, option.WithResponseInto(&raw))
		if err != nil {
			t.Fatal(err)
		}
		if resp.OutputText() != "Hello there!" {
			t.Errorf("output = %q", resp.OutputText())
		}
		rec := e.call(raw.Header.Get("X-Request-Id"))
		if rec.Endpoint != "/v1/responses" || rec.InputTokens != 9 || rec.OutputTokens != 3 || rec.UpstreamModel != "gpt-4o-mini-2024-07-18" {
			t.Errorf("record = %+v", rec)
		}
	})
	t.Run("streamed", func(t *testing.T) {
		var raw *http.Response
		stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
			Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")},
		}, option.WithResponseInto(&raw))
		var text strings.Builder
		for stream.Next() {
			if ev := stream.Current(); ev.Type == "response.output_text.delta" {
				text.WriteString(ev.Delta)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if text.String() != "Hello there!" {
			t.Errorf("streamed text = %q", text.String())
		}
		rec := e.call(raw.Header.Get("X-Request-Id"))
		if !rec.Stream || rec.InputTokens != 9 || rec.OutputTokens != 3 || rec.TTFTUS <= 0 {
			t.Errorf("record = %+v", rec)
		}
	})
}
