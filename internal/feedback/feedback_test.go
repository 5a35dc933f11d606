package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/calllog"
)

func TestValueJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		kind     Kind
		out      string // "" = must fail
	}{
		{"true", `true`, Boolean, `true`},
		{"false", `false`, Boolean, `false`},
		{"integer", `5`, Numeric, `5`},
		{"float", `-0.25`, Numeric, `-0.25`},
		{"exponent", `1e3`, Numeric, `1000`},
		{"string", `"good"`, String, `"good"`},
		{"null", `null`, "", ""},
		{"object", `{"a":1}`, "", ""},
		{"array", `[true]`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v Value
			err := json.Unmarshal([]byte(tc.in), &v)
			if tc.out == "" {
				if err == nil {
					t.Fatalf("accepted %s as %+v", tc.in, v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != tc.kind {
				t.Errorf("kind = %s, want %s", v.Kind, tc.kind)
			}
			b, _ := json.Marshal(v)
			if string(b) != tc.out {
				t.Errorf("round trip = %s, want %s", b, tc.out)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	val := func(s string) *Value {
		var v Value
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return &v
	}
	for _, tc := range []struct {
		name  string
		in    Input
		field string // "" = valid
	}{
		{"minimal", Input{RequestID: "r1", Value: val(`true`)}, ""},
		{"everything", Input{ID: "fb:1", RequestID: "r1", Name: "accuracy", Value: val(`0.5`), Comment: "ok"}, ""},
		{"no request id", Input{Value: val(`true`)}, "request_id"},
		{"unsafe request id", Input{RequestID: "a b", Value: val(`true`)}, "request_id"},
		{"no value", Input{RequestID: "r1"}, "value"},
		{"empty string value", Input{RequestID: "r1", Value: val(`""`)}, "value"},
		{"long string value", Input{RequestID: "r1", Value: &Value{Kind: String, Str: strings.Repeat("x", 257)}}, "value"},
		{"huge number", Input{RequestID: "r1", Value: val(`1e300`)}, "value"},
		{"bad name", Input{RequestID: "r1", Name: "has space", Value: val(`true`)}, "name"},
		{"long name", Input{RequestID: "r1", Name: strings.Repeat("n", 65), Value: val(`true`)}, "name"},
		{"long comment", Input{RequestID: "r1", Value: val(`true`), Comment: strings.Repeat("c", MaxCommentBytes+1)}, "comment"},
		{"invalid UTF-8 comment", Input{RequestID: "r1", Value: val(`true`), Comment: "\xff"}, "comment"},
		{"bad id", Input{ID: "a/b", RequestID: "r1", Value: val(`true`)}, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := Validate(&in)
			var inv *InvalidError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.field == "":
				if in.Name == "" {
					t.Error("default name not filled")
				}
			case !errors.As(err, &inv) || inv.Field != tc.field:
				t.Errorf("err = %v, want a problem with %s", err, tc.field)
			}
		})
	}
}

type memStore struct{ got []Feedback }

func (m *memStore) UpsertFeedback(_ context.Context, f Feedback) (Feedback, bool, error) {
	m.got = append(m.got, f)
	return f, true, nil
}

type owners map[string]string

func (o owners) CallSummary(_ context.Context, id string) (calllog.CallSummary, bool, error) {
	c, ok := o[id]
	return calllog.CallSummary{Consumer: c, Model: "m-" + c}, ok, nil
}

type pending map[string]string

func (p pending) Pending(id string) (calllog.CallSummary, bool) {
	c, ok := p[id]
	return calllog.CallSummary{Consumer: c, Model: "m-" + c}, ok
}

func TestSubmitOwnership(t *testing.T) {
	s := &Service{Store: &memStore{}, Calls: owners{"stored": "a"}, Pending: pending{"queued": "a"}}
	for _, tc := range []struct {
		name, consumer, request string
		err                     error
	}{
		{"own stored call", "a", "stored", nil},
		{"own call not yet flushed", "a", "queued", nil},
		{"another consumer's call", "b", "stored", ErrCallNotFound},
		{"another consumer's queued call", "b", "queued", ErrCallNotFound},
		{"unknown call", "a", "nothing", ErrCallNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := s.Submit(context.Background(), tc.consumer, Input{RequestID: tc.request, Value: &Value{Kind: Boolean, Num: 1}})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			// The call's dimensions travel with the feedback, for the rollups.
			if err == nil && (f.ID == "" || f.Name != "helpful" || f.Consumer != tc.consumer || f.Call.Model != "m-"+tc.consumer) {
				t.Errorf("stored %+v", f)
			}
		})
	}
}
