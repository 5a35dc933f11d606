package feedback

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/calllog"
)

// Errors the service returns; the HTTP edge maps them to statuses.
var (
	// ErrCallNotFound: no such call, or it belongs to another consumer (the
	// two are indistinguishable on purpose, so ids cannot be probed).
	ErrCallNotFound = errors.New("call not found")
	// ErrConflict: the feedback id is already used for another call or consumer.
	ErrConflict = errors.New("feedback id already used for another call")
)

// InvalidError says which field of the input is wrong and why.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// Input is what a client posts.
type Input struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	Name      string `json:"name"`
	Value     *Value `json:"value"`
	Comment   string `json:"comment"`
}

// Store persists feedback. Upsert returns created=false when it updated an
// existing row and ErrConflict when the id belongs to another call.
type Store interface {
	UpsertFeedback(ctx context.Context, f Feedback) (Feedback, bool, error)
}

// Calls tells who made a stored call, and under which dimensions. Found is
// false for an unknown id.
type Calls interface {
	CallSummary(ctx context.Context, requestID string) (c calllog.CallSummary, found bool, err error)
}

// Pending knows calls whose records are not yet in the store.
type Pending interface {
	Pending(id string) (calllog.CallSummary, bool)
}

// Service validates and stores feedback. It acknowledges only what is
// stored: a store failure is an error, never a silent success.
type Service struct {
	Store   Store
	Calls   Calls
	Pending Pending
	Now     func() time.Time
}

// MaxCommentBytes bounds a comment.
const MaxCommentBytes = 8 << 10

// Validate checks an input and fills its defaults.
func Validate(in *Input) error {
	if in.RequestID == "" {
		return &InvalidError{"request_id", "is required: the X-Request-Id of the call this feedback is about"}
	}
	if !safeID(in.RequestID) {
		return &InvalidError{"request_id", "must be 1-128 characters of letters, digits, '-', '_', '.' or ':'"}
	}
	if in.Name == "" {
		in.Name = "helpful"
	}
	if len(in.Name) > 64 || !safeID(in.Name) {
		return &InvalidError{"name", "must be 1-64 characters of letters, digits, '-', '_', '.' or ':'"}
	}
	if in.Value == nil {
		return &InvalidError{"value", "is required: a boolean, a number or a string"}
	}
	switch in.Value.Kind {
	case Numeric:
		if in.Value.Num != in.Value.Num || in.Value.Num > 1e15 || in.Value.Num < -1e15 {
			return &InvalidError{"value", "must be a finite number"}
		}
	case String:
		if in.Value.Str == "" || len(in.Value.Str) > 256 || !utf8.ValidString(in.Value.Str) {
			return &InvalidError{"value", "a string value must be 1-256 bytes of UTF-8"}
		}
	case Boolean:
	default:
		return &InvalidError{"value", "must be a boolean, a number or a string"}
	}
	if len(in.Comment) > MaxCommentBytes || !utf8.ValidString(in.Comment) {
		return &InvalidError{"comment", fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxCommentBytes)}
	}
	if in.ID != "" && !safeID(in.ID) {
		return &InvalidError{"id", "must be 1-128 characters of letters, digits, '-', '_', '.' or ':'"}
	}
	return nil
}

// Submit stores feedback from consumer on one of its own calls. It returns
// the stored feedback and whether it was created (false: updated).
func (s *Service) Submit(ctx context.Context, consumer string, in Input) (Feedback, bool, error) {
	if err := Validate(&in); err != nil {
		return Feedback{}, false, err
	}
	var (
		call calllog.CallSummary
		ok   bool
	)
	if s.Pending != nil {
		call, ok = s.Pending.Pending(in.RequestID)
	}
	if !ok {
		var err error
		call, ok, err = s.Calls.CallSummary(ctx, in.RequestID)
		if err != nil {
			return Feedback{}, false, fmt.Errorf("looking up call %q: %w", in.RequestID, err)
		}
	}
	if !ok || call.Consumer != consumer {
		return Feedback{}, false, ErrCallNotFound
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	f := Feedback{
		ID: in.ID, RequestID: in.RequestID, Consumer: consumer, Name: in.Name,
		Value: *in.Value, Comment: in.Comment, CreatedAt: t, UpdatedAt: t, Call: call,
	}
	if f.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Feedback{}, false, fmt.Errorf("generating feedback id: %w", err)
		}
		f.ID = id.String()
	}
	stored, created, err := s.Store.UpsertFeedback(ctx, f)
	if err != nil {
		return Feedback{}, false, fmt.Errorf("storing feedback: %w", err)
	}
	return stored, created, nil
}

func safeID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
