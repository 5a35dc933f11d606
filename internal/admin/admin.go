// Package admin is the admin REST API under /admin/v1 and the operational
// endpoints of the admin port (/healthz, /readyz, /metrics). Handlers are
// thin: decode, call the domain, encode. Errors carry a message for the
// caller apart from the cause that is logged.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// Calls reads call records and their feedback.
type Calls interface {
	ListCalls(ctx context.Context, f calllog.Filter) (calllog.Page, error)
	GetCall(ctx context.Context, id string) (calllog.Record, error)
	ListFeedback(ctx context.Context, requestID string) ([]feedback.Feedback, error)
}

// Keys manages consumer API keys.
type Keys interface {
	CreateKey(ctx context.Context, consumer, name string) (key auth.Key, secret string, err error)
	ListKeys(ctx context.Context, consumer string) ([]auth.Key, error)
	RevokeKey(ctx context.Context, id string) error
}

// Configs reads and changes the configuration; every change is a revision.
type Configs interface {
	Current() (*config.Config, int64)
	// Apply validates and compiles cfg and, unless dryRun or nothing
	// changed, stores it as a new revision and puts it in service.
	Apply(ctx context.Context, cfg *config.Config, author, message string, dryRun bool) (ApplyResult, error)
	ListRevisions(ctx context.Context, limit int, before int64) ([]store.Revision, error)
	GetRevision(ctx context.Context, n int64) (store.Revision, error)
}

// ApplyResult says what an apply did.
type ApplyResult struct {
	Changed  bool            `json:"changed"`
	Diff     []string        `json:"diff"`
	Revision *store.Revision `json:"revision,omitempty"`
}

// Server is the admin HTTP handler.
type Server struct {
	Calls   Calls
	Keys    Keys
	Configs Configs
	// TokenHash is the SHA-256 hex of the admin token.
	TokenHash string
	// Ready reports whether the store is reachable and a config is loaded.
	Ready   func(ctx context.Context) error
	Metrics http.Handler
	Logger  *slog.Logger
}

// Handler returns the routes of the admin port.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /admin/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.authed(h))
	}
	api("GET /admin/v1/calls", s.listCalls)
	api("GET /admin/v1/calls/{id}", s.getCall)
	api("GET /admin/v1/consumers", s.listConsumers)
	api("POST /admin/v1/consumers", s.createConsumer)
	api("GET /admin/v1/consumers/{name}", s.getConsumer)
	api("DELETE /admin/v1/consumers/{name}", s.deleteConsumer)
	api("POST /admin/v1/consumers/{name}/keys", s.createKey)
	api("GET /admin/v1/keys", s.listKeys)
	api("DELETE /admin/v1/keys/{id}", s.revokeKey)
	api("GET /admin/v1/config", s.getConfig)
	api("PUT /admin/v1/config", s.putConfig)
	api("POST /admin/v1/config/diff", s.diffConfig)
	api("GET /admin/v1/config/revisions", s.listRevisions)
	api("GET /admin/v1/config/revisions/{n}", s.getRevision)
	api("POST /admin/v1/config/revisions/{n}/restore", s.restoreRevision)
	// Profiles are behind the admin token: they reveal memory contents.
	mux.Handle("GET /debug/pprof/", s.authed(adapt(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", s.authed(adapt(pprof.Profile)))
	mux.Handle("GET /debug/pprof/trace", s.authed(adapt(pprof.Trace)))
	mux.Handle("GET /debug/pprof/symbol", s.authed(adapt(pprof.Symbol)))
	api("/admin/v1/", func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no admin endpoint %s %s", r.Method, r.URL.Path)}
	})
	return mux
}

// adapt turns a plain handler into one authed can wrap.
func adapt(h http.HandlerFunc) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	}
}

//go:embed openapi.json
var openAPI []byte

// Error is an admin API error: Msg is shown to the caller, Err is logged.
type Error struct {
	Status int
	Code   string
	Msg    string
	Param  string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(param, format string, args ...any) *Error {
	return &Error{Status: 400, Code: "invalid_request", Param: param, Msg: fmt.Sprintf(format, args...)}
}

// authed checks the bearer token and turns returned errors into responses.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")
		if len(tok) < 7 || !strings.EqualFold(tok[:7], "bearer ") {
			s.writeError(w, r, &Error{Status: 401, Code: "unauthorized", Msg: "missing admin token: send 'Authorization: Bearer <token>'"})
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok[7:])))
		got := fmt.Sprintf("%x", sum)
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.TokenHash)) != 1 {
			s.writeError(w, r, &Error{Status: 401, Code: "unauthorized", Msg: "invalid admin token"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var mbe *http.MaxBytesError
	var ce *config.Errors
	switch {
	case errors.As(err, &e):
	case errors.As(err, &mbe):
		e = &Error{Status: 413, Code: "too_large", Msg: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, store.ErrNotFound):
		e = &Error{Status: 404, Code: "not_found", Msg: "not found"}
	case errors.Is(err, store.ErrInvalid):
		e = &Error{Status: 400, Code: "invalid_request", Msg: err.Error()}
	case errors.As(err, &ce):
		e = &Error{Status: 422, Code: "invalid_config", Msg: err.Error()}
	default:
		e = &Error{Status: 500, Code: "internal", Msg: "internal error; see the gateway's log", Err: err}
	}
	if e.Status >= 500 && s.Logger != nil {
		s.Logger.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "error", e.Error())
	}
	body := map[string]any{"error": map[string]any{"code": e.Code, "message": e.Msg, "param": nilIfEmpty(e.Param)}}
	writeJSON(w, e.Status, body)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads a JSON body strictly: unknown fields are errors.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("", "invalid JSON body: %v", err)
	}
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			writeJSON(w, 503, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}
