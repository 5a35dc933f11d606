// Package feedback holds scores that users, applications and reviewers
// attach to recorded calls and to documentation pages: the value model
// (boolean, number or string), score definitions and the polarity they
// give a value, validation, the service behind POST /v1/feedback and the
// admin API's feedback, browser-safe publishable keys, and the embeddable
// widget (/widget.js).
package feedback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
)

// Feedback is one named score attached to one call. Posting again with the
// same ID updates it instead of adding another (a thumbs-up users can toggle).
type Feedback struct {
	ID        string    `json:"id"`
	RequestID string    `json:"request_id"`
	Consumer  string    `json:"consumer"`
	Name      string    `json:"name"`
	Value     Value     `json:"value"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Source says who gave the feedback (SourceUser, SourceAPI,
	// SourceReviewer, SourceDetector) and Author who exactly, when known (a
	// user's e-mail, a token's name, a detector's name).
	Source string `json:"source,omitempty"`
	Author string `json:"author,omitempty"`
	// Polarity is what the value says of the call, judged by the score's
	// definition when it has one: PolarityPositive, PolarityNegative, or
	// "" when it says neither (a comment, a neutral rating).
	Polarity string `json:"polarity,omitempty"`
	// Call is the call's summary, kept with the feedback so that it is
	// counted in the analytics rollups under the call's dimensions even
	// before the call's record is stored.
	Call calllog.CallSummary `json:"-"`
}

// Feedback sources, named as Langfuse and Phoenix name theirs.
const (
	SourceUser     = "user"     // an end user, through a publishable key or the widget
	SourceAPI      = "api"      // an application, with its consumer key
	SourceReviewer = "reviewer" // a reviewer, through a review queue or the admin API
	SourceDetector = "detector" // an automatic check
)

// Polarities.
const (
	PolarityPositive = "positive"
	PolarityNegative = "negative"
)

// Observer sees each piece of feedback once it is stored (created or
// changed): triage counts negative feedback into incidents, review queues
// route it. An observer's error is logged; the feedback stays stored.
type Observer interface {
	ObserveFeedback(ctx context.Context, f Feedback) error
}

// Kind is the data type of a feedback value.
type Kind string

// The value kinds, named as Langfuse names its score data types so exports map one to one.
const (
	Boolean Kind = "boolean"
	Numeric Kind = "numeric"
	String  Kind = "string"
)

// Value is a feedback value: exactly one of a boolean, a number or a string,
// marshalled back to JSON as the type it was given in.
type Value struct {
	Kind Kind
	Num  float64 // Numeric, and Boolean as 0 or 1 so that averages work in SQL
	Str  string
}

// Bool reports the boolean value of a Boolean Value.
func (v Value) Bool() bool { return v.Kind == Boolean && v.Num != 0 }

// MarshalJSON writes the value as a JSON boolean, number or string.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case Boolean:
		return json.Marshal(v.Num != 0)
	case Numeric:
		return json.Marshal(v.Num)
	case String:
		return json.Marshal(v.Str)
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts a JSON boolean, number or string; anything else is an error.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("value is empty")
	}
	switch b[0] {
	case 't', 'f':
		var x bool
		if err := json.Unmarshal(b, &x); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		*v = BoolValue(x)
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		*v = Value{Kind: String, Str: s}
	case 'n':
		return fmt.Errorf("value must be a boolean, a number or a string, not null")
	case '{', '[':
		return fmt.Errorf("value must be a boolean, a number or a string, not an object or array")
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("value must be a boolean, a number or a string: %w", err)
		}
		*v = Value{Kind: Numeric, Num: f}
	}
	return nil
}

// BoolValue makes a Boolean Value.
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: Boolean, Num: 1}
	}
	return Value{Kind: Boolean}
}

// PageFeedback is one named score given on a documentation page of the
// developer portal rather than on a call ("was this page helpful?"). Like
// Feedback it upserts by ID.
type PageFeedback struct {
	ID        string    `json:"id"`
	Page      string    `json:"page"`
	Consumer  string    `json:"consumer"`
	Name      string    `json:"name"`
	Value     Value     `json:"value"`
	Comment   string    `json:"comment,omitempty"`
	Source    string    `json:"source,omitempty"`
	Author    string    `json:"author,omitempty"`
	Polarity  string    `json:"polarity,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
