package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// FeedbackAdmin is the feedback behind the admin API: reviewers' feedback
// on calls, through the same service (validation, polarity, observers) as
// POST /v1/feedback; publishable keys; feedback on documentation pages.
type FeedbackAdmin interface {
	SubmitAs(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.Feedback, bool, error)
	// CreatePublishableKey makes and stores a key and puts it in service;
	// the secret is returned once.
	CreatePublishableKey(ctx context.Context, consumer, name string, origins []string) (feedback.PublishableKey, string, error)
	ListPublishableKeys(ctx context.Context, consumer string) ([]feedback.PublishableKey, error)
	GetPublishableKey(ctx context.Context, id string) (feedback.PublishableKey, error)
	// RevokePublishableKey revokes a key and takes it out of service.
	RevokePublishableKey(ctx context.Context, id string) error
	ListPageFeedback(ctx context.Context, page string, consumers []string, limit int) (store.PageFeedbackPage, error)
}

// callTarget resolves the {id} of a call route to the call's consumer.
func (s *Server) callTarget(r *http.Request) (auth.Target, *Error, error) {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no call %q (records reach the store within a second of the call)", id)}
	rec, err := s.Calls.GetCall(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Target{}, notFound, notFound
	}
	if err != nil {
		return auth.Target{}, notFound, err
	}
	return s.consumerOwner(rec.Consumer), notFound, nil
}

// postCallFeedback answers POST /admin/v1/calls/{id}/feedback: a reviewer's
// (or, with an API token, an application's) feedback on a call, upserted
// by id like POST /v1/feedback.
func (s *Server) postCallFeedback(w http.ResponseWriter, r *http.Request) error {
	if s.Feedback == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "feedback is not enabled on this gateway"}
	}
	var in struct {
		ID      string          `json:"id"`
		Name    string          `json:"name"`
		Value   *feedback.Value `json:"value"`
		Comment string          `json:"comment"`
	}
	if err := decodeFeedbackJSON(r, &in); err != nil {
		return err
	}
	p := principal(r)
	by := feedback.Submitter{AnyCall: true, Source: feedback.SourceReviewer, Author: p.Name}
	if p.Kind == auth.KindToken {
		by.Source = feedback.SourceAPI
	}
	id := r.PathValue("id")
	f, created, err := s.Feedback.SubmitAs(r.Context(), by, feedback.Input{ID: in.ID, RequestID: id, Name: in.Name, Value: in.Value, Comment: in.Comment})
	if err := feedbackError(err, id, in.ID); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "feedback.write", Target: "call:" + id, Team: s.consumerOwner(f.Consumer).Team,
		Summary: fmt.Sprintf("feedback %s=%s on call %s", f.Name, valueText(f.Value), id)})
	status := 200
	if created {
		status = 201
	}
	writeJSON(w, status, f)
	return nil
}

func decodeFeedbackJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if strings.Contains(err.Error(), "value") {
			return &Error{Status: 422, Code: "invalid_value", Param: "value", Msg: err.Error()}
		}
		return badRequest("", "invalid JSON body: %v", err)
	}
	return nil
}

func feedbackError(err error, callID, feedbackID string) error {
	var inv *feedback.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return &Error{Status: 422, Code: "invalid_value", Param: inv.Field, Msg: inv.Error()}
	case errors.Is(err, feedback.ErrCallNotFound):
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no call %q", callID)}
	case errors.Is(err, feedback.ErrConflict):
		return &Error{Status: 409, Code: "feedback_id_conflict", Param: "id", Msg: fmt.Sprintf("feedback id %q is already used for another call", feedbackID)}
	}
	return err
}

func valueText(v feedback.Value) string {
	b, _ := json.Marshal(v)
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// createPublishableKey answers POST /admin/v1/consumers/{name}/publishable-keys.
func (s *Server) createPublishableKey(w http.ResponseWriter, r *http.Request) error {
	if s.Feedback == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "feedback is not enabled on this gateway"}
	}
	name := r.PathValue("name")
	var in struct {
		Name    string   `json:"name"`
		Origins []string `json:"origins"`
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return badRequest("", "invalid JSON body: %v", err)
		}
	}
	if in.Name == "" {
		in.Name = "widget"
	}
	if len(in.Name) > 64 || strings.ContainsAny(in.Name, "\x00\r\n\t") {
		return badRequest("name", "name must be at most 64 printable characters")
	}
	origins, err := feedback.CheckOrigins(in.Origins)
	var inv *feedback.InvalidError
	if errors.As(err, &inv) {
		return badRequest(inv.Field, "%s", inv.Error())
	}
	k, secret, err := s.Feedback.CreatePublishableKey(r.Context(), name, in.Name, origins)
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "publishable_key.create", Target: "publishable_key:" + k.ID, Team: s.consumerOwner(name).Team,
		Summary: fmt.Sprintf("created publishable key %q (%s…) for consumer %s, origins %s", k.Name, k.Prefix, name, strings.Join(origins, " "))})
	writeJSON(w, 201, struct {
		feedback.PublishableKey
		Secret  string `json:"key"`
		Warning string `json:"warning"`
	}{k, secret, "this is the only time the key is shown; it may be embedded in web pages, as it can only post feedback"})
	return nil
}

// listPublishableKeys answers GET /admin/v1/consumers/{name}/publishable-keys.
func (s *Server) listPublishableKeys(w http.ResponseWriter, r *http.Request) error {
	if s.Feedback == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "feedback is not enabled on this gateway"}
	}
	keys, err := s.Feedback.ListPublishableKeys(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": keys})
	return nil
}

// revokePublishableKey answers DELETE /admin/v1/consumers/{name}/publishable-keys/{id}.
func (s *Server) revokePublishableKey(w http.ResponseWriter, r *http.Request) error {
	if s.Feedback == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "feedback is not enabled on this gateway"}
	}
	name, id := r.PathValue("name"), r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("consumer %s has no publishable key %q", name, id)}
	k, err := s.Feedback.GetPublishableKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Consumer != name) {
		return notFound
	}
	if err != nil {
		return err
	}
	if err := s.Feedback.RevokePublishableKey(r.Context(), id); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "publishable_key.revoke", Target: "publishable_key:" + id, Team: s.consumerOwner(name).Team,
		Summary: fmt.Sprintf("revoked publishable key %q (%s…) of consumer %s", k.Name, k.Prefix, name)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listPageFeedback answers GET /admin/v1/page-feedback: the feedback on
// documentation pages (one page with ?page=), newest first, with helpful
// and not-helpful counts per page. Scoped readers see the feedback given
// with their consumers' keys.
func (s *Server) listPageFeedback(w http.ResponseWriter, r *http.Request) error {
	if s.Feedback == nil {
		return &Error{Status: 404, Code: "not_found", Msg: "feedback is not enabled on this gateway"}
	}
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit", "limit: %q is not a number from 1 to 1000", v)
		}
		limit = n
	}
	var consumers []string
	if p := principal(r); p.Scoped() {
		consumers = s.callScope(p).Consumers
		if consumers == nil {
			consumers = []string{}
		}
	}
	out, err := s.Feedback.ListPageFeedback(r.Context(), q.Get("page"), consumers, limit)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}
