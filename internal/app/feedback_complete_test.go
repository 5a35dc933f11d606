package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

const scoresConfig = `
scores:
  - { name: helpful, type: boolean, description: "Did the answer help?" }
  - { name: rating, type: numeric, min: 1, max: 5 }
  - { name: category, type: categorical, categories: [wrong, rude, slow, great], negative: [wrong, rude], positive: [great] }
  - { name: note, type: text }
`

// withScores puts the base configuration with score definitions in service.
func withScores(t *testing.T, e *env) {
	t.Helper()
	if code := e.adminDo("PUT", "/admin/v1/config?message=scores", fmt.Sprintf(baseConfig, e.up.BaseURL())+scoresConfig, nil); code != 200 {
		t.Fatalf("applying score definitions: %d", code)
	}
}

// TestFeedbackComplete walks issue 6's feedback end to end: score
// definitions and polarity, source and author, publishable keys that may
// only post feedback, CORS, the widget, feedback on pages, reviewers'
// feedback and the call list filtered by feedback.
func TestFeedbackComplete(t *testing.T) {
	e := start(t)
	withScores(t, e)
	resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
	call := resp.Header.Get("X-Request-Id")
	resp, _ = e.do("POST", "/v1/chat/completions", otherKey, chatBody)
	otherCall := resp.Header.Get("X-Request-Id")

	t.Run("definitions and polarity", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			status     int
			polarity   string
			param      string
		}{
			{"boolean false is negative", `{"name":"helpful","value":false}`, 201, "negative", ""},
			{"rating below the midpoint is negative", `{"name":"rating","value":2}`, 201, "negative", ""},
			{"rating at the midpoint is neutral", `{"name":"rating","value":3}`, 201, "", ""},
			{"rating above the midpoint is positive", `{"name":"rating","value":4.5}`, 201, "positive", ""},
			{"negative category", `{"name":"category","value":"rude"}`, 201, "negative", ""},
			{"positive category", `{"name":"category","value":"great"}`, 201, "positive", ""},
			{"neutral category", `{"name":"category","value":"slow"}`, 201, "", ""},
			{"text says nothing", `{"name":"note","value":"` + strings.Repeat("long text ", 60) + `"}`, 201, "", ""},
			{"undeclared name keeps today's rules", `{"name":"accuracy","value":0.2}`, 201, "", ""},
			{"rating out of range", `{"name":"rating","value":6}`, 422, "", "value"},
			{"rating as a string", `{"name":"rating","value":"5"}`, 422, "", "value"},
			{"unknown category", `{"name":"category","value":"boring"}`, 422, "", "value"},
			{"boolean score given a number", `{"name":"helpful","value":1}`, 422, "", "value"},
			{"text score given a boolean", `{"name":"note","value":true}`, 422, "", "value"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := strings.Replace(tc.body, "{", `{"request_id":"`+call+`",`, 1)
				resp, b := e.do("POST", "/v1/feedback", shopKey, body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
				}
				if tc.status >= 400 {
					if p := gjson.GetBytes(b, "error.param").Str; p != tc.param || !strings.Contains(gjson.GetBytes(b, "error.message").Str, "score") {
						t.Errorf("error names %q, want %q, and says which score: %s", p, tc.param, b)
					}
					return
				}
				if got := gjson.GetBytes(b, "polarity").Str; got != tc.polarity {
					t.Errorf("polarity %q, want %q: %s", got, tc.polarity, b)
				}
				if gjson.GetBytes(b, "source").Str != "api" || gjson.GetBytes(b, "author").Str == "" {
					t.Errorf("source/author: %s", b)
				}
			})
		}
	})

	var pk string
	t.Run("publishable keys", func(t *testing.T) {
		var created struct {
			ID, Key string
			Origins []string
		}
		if code := e.adminDo("POST", "/admin/v1/consumers/shop/publishable-keys", `{"name":"widget","origins":["https://Shop.example.com"]}`, &created); code != 201 {
			t.Fatalf("creating a publishable key: %d", code)
		}
		pk = created.Key
		if !strings.HasPrefix(pk, "pk_") || len(created.Origins) != 1 || created.Origins[0] != "https://shop.example.com" {
			t.Fatalf("created %+v", created)
		}
		origin := []string{"Origin", "https://shop.example.com"}
		for _, tc := range []struct {
			name, method, path, body string
			hdr                      []string
			status                   int
			check                    func(t *testing.T, r *http.Response, b []byte)
		}{
			{"feedback on its consumer's call, from its origin", "POST", "/v1/feedback", `{"id":"w-1","request_id":"` + call + `","value":false}`, origin, 201,
				func(t *testing.T, r *http.Response, b []byte) {
					if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
						t.Errorf("no CORS header: %v", r.Header)
					}
					if gjson.GetBytes(b, "source").Str != "user" || !strings.HasPrefix(gjson.GetBytes(b, "author").Str, "pk_id_") {
						t.Errorf("source/author: %s", b)
					}
				}},
			{"toggled with the same id", "POST", "/v1/feedback", `{"id":"w-1","request_id":"` + call + `","value":true}`, origin, 200,
				func(t *testing.T, _ *http.Response, b []byte) {
					if !gjson.GetBytes(b, "value").Bool() || gjson.GetBytes(b, "polarity").Str != "positive" {
						t.Errorf("toggle: %s", b)
					}
				}},
			{"server side, without an origin", "POST", "/v1/feedback", `{"request_id":"` + call + `","value":true}`, nil, 201, nil},
			{"from another origin", "POST", "/v1/feedback", `{"request_id":"` + call + `","value":true}`, []string{"Origin", "https://evil.example"}, 403, nil},
			{"on another consumer's call", "POST", "/v1/feedback", `{"request_id":"` + otherCall + `","value":true}`, origin, 404, nil},
			{"feedback on a page", "POST", "/v1/feedback", `{"page":"/portal/services/orders-api","value":false,"comment":"example is stale"}`, origin, 201, nil},
			{"a page that is no path", "POST", "/v1/feedback", `{"page":"https://x.example/a","value":false}`, origin, 422, nil},
			{"a page and a call at once", "POST", "/v1/feedback", `{"page":"/a","request_id":"` + call + `","value":false}`, origin, 422, nil},
			{"chat completions refused", "POST", "/v1/chat/completions", chatBody, nil, 403,
				func(t *testing.T, _ *http.Response, b []byte) {
					if !strings.Contains(gjson.GetBytes(b, "error.message").Str, "only post feedback") {
						t.Errorf("unclear refusal: %s", b)
					}
				}},
			{"models refused", "GET", "/v1/models", "", nil, 403, nil},
			{"embeddings refused", "POST", "/v1/embeddings", `{"model":"embed","input":"x"}`, nil, 403, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, b := e.do(tc.method, tc.path, pk, tc.body, tc.hdr...)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
				}
				if tc.check != nil {
					tc.check(t, resp, b)
				}
			})
		}
	})

	t.Run("CORS preflight", func(t *testing.T) {
		for _, tc := range []struct {
			name, origin, method string
			status               int
		}{
			{"a key's origin", "https://shop.example.com", "POST", 204},
			{"an unknown origin", "https://evil.example", "POST", 403},
			{"another method", "https://shop.example.com", "DELETE", 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, b := e.do("OPTIONS", "/v1/feedback", "", "", "Origin", tc.origin, "Access-Control-Request-Method", tc.method,
					"Access-Control-Request-Headers", "authorization, content-type")
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
				}
				allow := resp.Header.Get("Access-Control-Allow-Origin")
				if (tc.status == 204) != (allow == tc.origin) {
					t.Errorf("Access-Control-Allow-Origin = %q", allow)
				}
				if tc.status == 204 && !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
					t.Errorf("Access-Control-Allow-Headers = %q", resp.Header.Get("Access-Control-Allow-Headers"))
				}
			})
		}
	})

	t.Run("a consumer key gets no CORS", func(t *testing.T) {
		resp, _ := e.do("POST", "/v1/feedback", shopKey, `{"request_id":"`+call+`","value":true}`, "Origin", "https://shop.example.com")
		if resp.StatusCode != 201 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("widget", func(t *testing.T) {
		resp, b := e.do("GET", "/widget.js", "", "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") || len(b) == 0 {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		resp, _ = e.do("GET", "/widget.js", "", "", "If-None-Match", resp.Header.Get("ETag"))
		if resp.StatusCode != 304 {
			t.Errorf("revalidation: %d, want 304", resp.StatusCode)
		}
	})

	t.Run("reviewer feedback and the call list", func(t *testing.T) {
		e.call(call) // flushed
		var f struct{ Source, Author, Polarity string }
		if code := e.adminDo("POST", "/admin/v1/calls/"+call+"/feedback", `{"name":"category","value":"wrong"}`, &f); code != 201 {
			t.Fatalf("reviewer feedback: %d", code)
		}
		if f.Source != "reviewer" || f.Author != "admin-token" || f.Polarity != "negative" {
			t.Errorf("reviewer feedback: %+v", f)
		}
		if code := e.adminDo("POST", "/admin/v1/calls/"+call+"/feedback", `{"name":"rating","value":9}`, nil); code != 422 {
			t.Errorf("out-of-range reviewer feedback: %d, want 422", code)
		}
		ids := func(q string) []string {
			var page struct{ Data []struct{ ID string } }
			if code := e.adminDo("GET", "/admin/v1/calls?"+q, "", &page); code != 200 {
				t.Fatalf("GET /admin/v1/calls?%s: %d", q, code)
			}
			var out []string
			for _, c := range page.Data {
				out = append(out, c.ID)
			}
			return out
		}
		since := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		for q, want := range map[string]string{
			"feedback=category:wrong":                   call,
			"feedback=negative&since=" + since:          call,
			"feedback=rating:2&consumer=shop":           call,
			"feedback=helpful:true&consumer=other":      "",
			"feedback=category:wrong&flag=empty_output": "",
		} {
			got := strings.Join(ids(q), ",")
			if got != want {
				t.Errorf("calls?%s = %q, want %q", q, got, want)
			}
		}
		if code := e.adminDo("GET", "/admin/v1/calls?feedback=a%20b", "", nil); code != 400 {
			t.Errorf("bad feedback filter: %d, want 400", code)
		}
	})

	t.Run("page feedback list", func(t *testing.T) {
		var raw map[string]any
		if code := e.adminDo("GET", "/admin/v1/page-feedback?page=/portal/services/orders-api", "", &raw); code != 200 {
			t.Fatalf("page feedback: %d", code)
		}
		counts := raw["counts"].([]any)
		if len(counts) != 1 || counts[0].(map[string]any)["not_helpful"].(float64) != 1 {
			t.Errorf("counts = %v", counts)
		}
	})

	t.Run("revoked publishable key", func(t *testing.T) {
		var keys struct{ Data []struct{ ID string } }
		e.adminDo("GET", "/admin/v1/consumers/shop/publishable-keys", "", &keys)
		if len(keys.Data) != 1 {
			t.Fatalf("keys: %+v", keys)
		}
		if code := e.adminDo("DELETE", "/admin/v1/consumers/shop/publishable-keys/"+keys.Data[0].ID, "", nil); code != 204 {
			t.Fatalf("revoke: %d", code)
		}
		if resp, b := e.do("POST", "/v1/feedback", pk, `{"request_id":"`+call+`","value":true}`); resp.StatusCode != 401 {
			t.Errorf("revoked key: %d %s", resp.StatusCode, b)
		}
	})
}

// TestFeedbackLoad posts 1,000 feedback a second for 10 seconds through
// the real gateway and checks that nothing is lost: every post is
// acknowledged 201 and every one is stored.
func TestFeedbackLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of load")
	}
	e := start(t)
	resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
	call := resp.Header.Get("X-Request-Id")
	const rate, seconds = 1000, 10
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		first  atomic.Value
	)
	jobs := make(chan int, rate)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"id":"load-%d","request_id":%q,"value":%t}`, i, call, i%3 != 0)
				req, _ := http.NewRequest("POST", e.data+"/v1/feedback", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+shopKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 201 && resp.StatusCode != 200 {
					failed.Add(1)
					first.CompareAndSwap(nil, resp.Status)
				}
			}
		}()
	}
	// A steady 1,000 a second: one tick per millisecond would be too fine
	// for the timer, so ten posts every 10 ms.
	tick := time.NewTicker(10 * time.Millisecond)
	startAt := time.Now()
	for n := 0; n < rate*seconds; {
		<-tick.C
		for range rate / 100 {
			jobs <- n
			n++
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	took := time.Since(startAt)
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d posts failed; first: %v", n, rate*seconds, first.Load())
	}
	var count int
	if err := e.app.Store().SQL().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM feedback WHERE request_id = ?", call).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != rate*seconds {
		t.Fatalf("%d feedback stored, want %d", count, rate*seconds)
	}
	t.Logf("%d feedback posted and stored in %s (%.0f/s)", count, took.Round(time.Millisecond), float64(count)/took.Seconds())
}
