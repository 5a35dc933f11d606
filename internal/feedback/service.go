package feedback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// Errors the service returns; the HTTP edge maps them to statuses.
var (
	// ErrCallNotFound: no such call, or it belongs to another consumer (the
	// two are indistinguishable on purpose, so ids cannot be probed).
	ErrCallNotFound = errors.New("call not found")
	// ErrConflict: the feedback id is already used for another call or consumer.
	ErrConflict = errors.New("feedback id already used for another call")
	// ErrPagesUnavailable: this gateway stores no feedback on pages.
	ErrPagesUnavailable = errors.New("feedback on pages is not available")
)

// InvalidError says which field of the input is wrong and why.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// Input is what a client posts: feedback on a call (RequestID) or on a
// documentation page of the developer portal (Page), exactly one of them.
type Input struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	Page      string `json:"page"`
	Name      string `json:"name"`
	Value     *Value `json:"value"`
	Comment   string `json:"comment"`
}

// Store persists feedback. Upsert returns created=false when it updated an
// existing row and ErrConflict when the id belongs to another call.
type Store interface {
	UpsertFeedback(ctx context.Context, f Feedback) (Feedback, bool, error)
}

// PageStore persists feedback on documentation pages, upserting by id as
// Store does (ErrConflict when the id belongs to another page or consumer).
type PageStore interface {
	UpsertPageFeedback(ctx context.Context, f PageFeedback) (PageFeedback, bool, error)
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

// Submitter is who posts feedback, and on which calls they may.
type Submitter struct {
	// Consumer is the consumer whose calls (and whose pages) the feedback
	// may be about: the consumer of the key that posts it.
	Consumer string
	// AnyCall lets the feedback be about any call, under the call's own
	// consumer: the admin API, whose caller has been authorized on the
	// call already.
	AnyCall bool
	// Source is SourceUser, SourceAPI, SourceReviewer or SourceDetector;
	// Author who exactly, when known.
	Source string
	Author string
}

// Service validates and stores feedback. It acknowledges only what is
// stored: a store failure is an error, never a silent success.
type Service struct {
	Store   Store
	Calls   Calls
	Pending Pending
	// Pages stores feedback on documentation pages; without it such
	// feedback is refused.
	Pages PageStore
	// Scores returns the score definitions in force; nil: none.
	Scores func() []config.Score
	// Observers see each stored feedback on a call, in order, after it is
	// stored. They run on the poster's request, so they must be quick; an
	// error is logged and counted (ObserverErrors) and never fails the post.
	Observers []Observer
	Logger    *slog.Logger
	Now       func() time.Time

	observerErrors atomic.Int64
	// summaries caches the calls looked up in the store: a stored call
	// never changes, and feedback comes in bursts on the same calls (a
	// toggled thumbs-up, a page of widgets), each of which would
	// otherwise read the call again.
	summariesMu sync.Mutex
	summaries   map[string]calllog.CallSummary
}

// maxCachedSummaries bounds the summary cache; when full it starts over.
const maxCachedSummaries = 4096

// MaxCommentBytes bounds a comment.
const MaxCommentBytes = 8 << 10

// MaxPageBytes bounds the path of a documentation page.
const MaxPageBytes = 512

// Validate checks an input without a score definition and fills its
// defaults.
func Validate(in *Input) error { return validate(in, nil) }

// validate checks an input against the definition of its score (nil: none)
// and fills its defaults.
func validate(in *Input, def *config.Score) error {
	switch {
	case in.RequestID != "" && in.Page != "":
		return &InvalidError{"page", "send either request_id (feedback on a call) or page (feedback on a documentation page), not both"}
	case in.Page != "":
		if err := checkPage(in.Page); err != nil {
			return err
		}
	case in.RequestID == "":
		return &InvalidError{"request_id", "is required: the X-Request-Id of the call this feedback is about (or page, for a documentation page)"}
	case !safeID(in.RequestID):
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
	maxStr := 256
	if def != nil && def.Type == config.ScoreText {
		maxStr = MaxTextBytes
	}
	switch in.Value.Kind {
	case Numeric:
		if in.Value.Num != in.Value.Num || in.Value.Num > 1e15 || in.Value.Num < -1e15 {
			return &InvalidError{"value", "must be a finite number"}
		}
	case String:
		if in.Value.Str == "" || len(in.Value.Str) > maxStr || !utf8.ValidString(in.Value.Str) {
			return &InvalidError{"value", fmt.Sprintf("a string value must be 1-%d bytes of UTF-8", maxStr)}
		}
	case Boolean:
	default:
		return &InvalidError{"value", "must be a boolean, a number or a string"}
	}
	if def != nil {
		if err := CheckScore(*def, *in.Value); err != nil {
			return err
		}
	}
	if len(in.Comment) > MaxCommentBytes || !utf8.ValidString(in.Comment) {
		return &InvalidError{"comment", fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxCommentBytes)}
	}
	if in.ID != "" && !safeID(in.ID) {
		return &InvalidError{"id", "must be 1-128 characters of letters, digits, '-', '_', '.' or ':'"}
	}
	return nil
}

// checkPage accepts the path of a page: absolute, no scheme, host, query,
// fragment or dot segments, printable ASCII, at most MaxPageBytes.
func checkPage(p string) error {
	const msg = "must be the path of a documentation page, like /portal/services/orders-api: " +
		"starting with one /, without query, fragment, '..' or spaces, at most 512 bytes"
	if len(p) > MaxPageBytes || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return &InvalidError{"page", msg}
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '\\' {
			return &InvalidError{"page", msg}
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return &InvalidError{"page", msg}
		}
	}
	return nil
}

// definition returns the definition of the named score, if any.
func (s *Service) definition(name string) *config.Score {
	if s.Scores == nil {
		return nil
	}
	for _, d := range s.Scores() {
		if d.Name == name {
			return &d
		}
	}
	return nil
}

// Submit stores feedback from an application, with consumer's key, on one
// of its own calls. It returns the stored feedback and whether it was
// created (false: updated).
func (s *Service) Submit(ctx context.Context, consumer string, in Input) (Feedback, bool, error) {
	return s.SubmitAs(ctx, Submitter{Consumer: consumer, Source: SourceAPI}, in)
}

// SubmitAs stores feedback on a call from by: validated against its
// score's definition, judged positive or negative, stored, then shown to
// the observers. It returns the stored feedback and whether it was created
// (false: updated).
func (s *Service) SubmitAs(ctx context.Context, by Submitter, in Input) (Feedback, bool, error) {
	name := in.Name
	if name == "" {
		name = "helpful"
	}
	def := s.definition(name)
	if err := validate(&in, def); err != nil {
		return Feedback{}, false, err
	}
	if in.Page != "" {
		return Feedback{}, false, &InvalidError{"page", "feedback on a page is stored by SubmitPage"}
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
		call, ok, err = s.callSummary(ctx, in.RequestID)
		if err != nil {
			return Feedback{}, false, fmt.Errorf("looking up call %q: %w", in.RequestID, err)
		}
	}
	if !ok || (!by.AnyCall && call.Consumer != by.Consumer) {
		return Feedback{}, false, ErrCallNotFound
	}
	t := s.now()
	f := Feedback{
		ID: in.ID, RequestID: in.RequestID, Consumer: call.Consumer, Name: in.Name,
		Value: *in.Value, Comment: in.Comment, CreatedAt: t, UpdatedAt: t, Call: call,
		Source: by.Source, Author: by.Author, Polarity: ScorePolarity(def, *in.Value),
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
	s.notify(ctx, stored)
	return stored, created, nil
}

// SubmitPage stores feedback from by on a documentation page. It returns
// the stored feedback and whether it was created (false: updated).
func (s *Service) SubmitPage(ctx context.Context, by Submitter, in Input) (PageFeedback, bool, error) {
	name := in.Name
	if name == "" {
		name = "helpful"
	}
	def := s.definition(name)
	if err := validate(&in, def); err != nil {
		return PageFeedback{}, false, err
	}
	if in.Page == "" {
		return PageFeedback{}, false, &InvalidError{"page", "is required for feedback on a documentation page"}
	}
	if s.Pages == nil {
		return PageFeedback{}, false, ErrPagesUnavailable
	}
	t := s.now()
	f := PageFeedback{
		ID: in.ID, Page: in.Page, Consumer: by.Consumer, Name: in.Name, Value: *in.Value,
		Comment: in.Comment, Source: by.Source, Author: by.Author, Polarity: ScorePolarity(def, *in.Value),
		CreatedAt: t, UpdatedAt: t,
	}
	if f.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return PageFeedback{}, false, fmt.Errorf("generating feedback id: %w", err)
		}
		f.ID = id.String()
	}
	stored, created, err := s.Pages.UpsertPageFeedback(ctx, f)
	if err != nil {
		return PageFeedback{}, false, fmt.Errorf("storing page feedback: %w", err)
	}
	return stored, created, nil
}

// notify shows stored feedback to every observer; their errors are logged
// and counted, never returned: the feedback is stored whatever they say.
func (s *Service) notify(ctx context.Context, f Feedback) {
	for _, o := range s.Observers {
		if err := o.ObserveFeedback(ctx, f); err != nil {
			s.observerErrors.Add(1)
			log := s.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Error("feedback observer failed", "observer", fmt.Sprintf("%T", o), "feedback", f.ID, "request_id", f.RequestID, "error", err)
		}
	}
}

// callSummary looks a stored call up, through the cache.
func (s *Service) callSummary(ctx context.Context, id string) (calllog.CallSummary, bool, error) {
	s.summariesMu.Lock()
	c, ok := s.summaries[id]
	s.summariesMu.Unlock()
	if ok {
		return c, true, nil
	}
	c, ok, err := s.Calls.CallSummary(ctx, id)
	if err != nil || !ok {
		return c, ok, err
	}
	s.summariesMu.Lock()
	if s.summaries == nil || len(s.summaries) >= maxCachedSummaries {
		s.summaries = make(map[string]calllog.CallSummary)
	}
	s.summaries[id] = c
	s.summariesMu.Unlock()
	return c, true, nil
}

// ObserverErrors counts the errors observers returned since the service
// started.
func (s *Service) ObserverErrors() int64 { return s.observerErrors.Load() }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
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
