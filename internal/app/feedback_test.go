package app_test

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestFeedback(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { feedbackScenarios(t, start(t, b.opt(t))) })
	}
}

func feedbackScenarios(t *testing.T, e *env) {
	resp, _ := e.do("POST", "/v1/chat/completions", shopKey, chatBody)
	shopCall := resp.Header.Get("X-Request-Id")
	// Posted the instant the response ended: the record may not be flushed yet.
	resp, body := e.do("POST", "/v1/feedback", shopKey, `{"request_id":"`+shopCall+`","value":true,"id":"fb-1"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("immediate feedback: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do("POST", "/v1/chat/completions", otherKey, chatBody)
	otherCall := resp.Header.Get("X-Request-Id")

	for _, tc := range []struct {
		name   string
		key    string
		body   string
		status int
		check  func(t *testing.T, body []byte)
	}{
		{"same id updates instead of adding", shopKey, `{"request_id":"` + shopCall + `","value":false,"id":"fb-1","comment":"changed my mind"}`, 200,
			func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "value").Bool() || gjson.GetBytes(b, "comment").Str != "changed my mind" {
					t.Errorf("update not applied: %s", b)
				}
			}},
		{"numeric score with a name", shopKey, `{"request_id":"` + shopCall + `","name":"accuracy","value":0.75}`, 201,
			func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "name").Str != "accuracy" || gjson.GetBytes(b, "value").Float() != 0.75 || gjson.GetBytes(b, "id").Str == "" {
					t.Errorf("stored feedback = %s", b)
				}
			}},
		{"string value", shopKey, `{"request_id":"` + shopCall + `","name":"category","value":"wrong-language"}`, 201, nil},
		{"default name is helpful", shopKey, `{"request_id":"` + shopCall + `","value":1}`, 201,
			func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "name").Str != "helpful" {
					t.Errorf("name = %s", gjson.GetBytes(b, "name"))
				}
			}},
		{"unknown request id", shopKey, `{"request_id":"no-such-call","value":true}`, 404, nil},
		{"another consumer's call", shopKey, `{"request_id":"` + otherCall + `","value":true}`, 404, nil},
		{"same id on another call conflicts", otherKey, `{"request_id":"` + otherCall + `","value":true,"id":"fb-1"}`, 409, nil},
		{"object value", shopKey, `{"request_id":"` + shopCall + `","value":{"a":1}}`, 422, nil},
		{"null value", shopKey, `{"request_id":"` + shopCall + `","value":null}`, 422, nil},
		{"missing value", shopKey, `{"request_id":"` + shopCall + `"}`, 422, nil},
		{"missing request id", shopKey, `{"value":true}`, 422, nil},
		{"bad name", shopKey, `{"request_id":"` + shopCall + `","name":"no spaces allowed","value":true}`, 422, nil},
		{"comment too long", shopKey, `{"request_id":"` + shopCall + `","value":true,"comment":"` + strings.Repeat("x", 9000) + `"}`, 422, nil},
		{"unknown field", shopKey, `{"request_id":"` + shopCall + `","value":true,"rating":5}`, 400, nil},
		{"malformed JSON", shopKey, `{"request_id":`, 400, nil},
		{"no key", "", `{"request_id":"` + shopCall + `","value":true}`, 401, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do("POST", "/v1/feedback", tc.key, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status >= 400 && gjson.GetBytes(body, "error.message").Str == "" {
				t.Errorf("error without a message: %s", body)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}

	// The admin API shows the call with its feedback, and the has_feedback filter finds it.
	e.call(shopCall)
	var call struct {
		Feedback []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"feedback"`
	}
	if st := e.adminDo("GET", "/admin/v1/calls/"+shopCall, "", &call); st != 200 {
		t.Fatalf("get call: %d", st)
	}
	if len(call.Feedback) != 4 {
		t.Errorf("call has %d feedback entries, want 4: %+v", len(call.Feedback), call.Feedback)
	}
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/calls?has_feedback=true", "", &page)
	if len(page.Data) != 1 || page.Data[0].ID != shopCall {
		t.Errorf("has_feedback=true listed %+v, want only %s", page.Data, shopCall)
	}
}
