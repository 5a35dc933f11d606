package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// parseTime accepts RFC 3339 or unix seconds.
func parseTime(param, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, badRequest(param, "%s: %q is neither an RFC 3339 time nor unix seconds", param, v)
}

// parseCallFilter reads the call list's query parameters. Every endpoint
// that selects calls by filter (the call list, a review queue's bulk add)
// parses with it, so that the same parameters always select the same calls.
func parseCallFilter(q url.Values) (calllog.Filter, error) {
	var f calllog.Filter
	var err error
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return calllog.Filter{}, err
	}
	if f.Until, err = parseTime("until", q.Get("until")); err != nil {
		return calllog.Filter{}, err
	}
	f.Consumer, f.Model, f.Service, f.Cursor = q.Get("consumer"), q.Get("model"), q.Get("service"), q.Get("cursor")
	if v := q.Get("status"); v != "" {
		if f.Status, err = strconv.Atoi(v); err != nil || f.Status < 100 || f.Status > 599 {
			return calllog.Filter{}, badRequest("status", "status: %q is not an HTTP status code", v)
		}
	}
	if v := q.Get("has_feedback"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return calllog.Filter{}, badRequest("has_feedback", "has_feedback: %q is not true or false", v)
		}
		f.HasFeedback = &b
	}
	if v := q.Get("cache_hit"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return calllog.Filter{}, badRequest("cache_hit", "cache_hit: %q is not true or false", v)
		}
		f.CacheHit = &b
	}
	if v := q.Get("synthetic"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return calllog.Filter{}, badRequest("synthetic", "synthetic: %q is not true or false", v)
		}
		f.Synthetic = &b
	}
	f.Probe = q.Get("probe")
	f.Flag = q.Get("flag")
	if v := q.Get("feedback"); v != "" {
		m, err := calllog.ParseFeedbackMatch(v)
		if err != nil {
			return calllog.Filter{}, badRequest("feedback", "feedback: %v", err)
		}
		f.Feedback = m
	}
	f.Prompt = q.Get("prompt")
	if v := q.Get("prompt_version"); v != "" {
		if f.PromptVersion, err = strconv.Atoi(v); err != nil || f.PromptVersion < 1 {
			return calllog.Filter{}, badRequest("prompt_version", "prompt_version: %q is not a version number (1 or more)", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return calllog.Filter{}, badRequest("limit", "limit: %q must be a whole number from 1 to 500", v)
		}
	}
	return f, nil
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) error {
	f, err := parseCallFilter(r.URL.Query())
	if err != nil {
		return err
	}
	var page calllog.Page
	if p := principal(r); p.Scoped() {
		page, err = s.Calls.ListCallsOf(r.Context(), f, s.callScope(p))
	} else {
		page, err = s.Calls.ListCalls(r.Context(), f)
	}
	if err != nil {
		return err
	}
	if page.Calls == nil {
		page.Calls = []calllog.Record{}
	}
	writeJSON(w, 200, page)
	return nil
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no call %q (records reach the store within a second of the call)", id)}
	rec, err := s.Calls.GetCall(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	if p := principal(r); !p.Reaches(s.consumerOwner(rec.Consumer)) && (rec.Service == "" || !p.Reaches(s.serviceOwner(rec.Service))) {
		return notFound
	}
	fb, err := s.Calls.ListFeedback(r.Context(), id)
	if err != nil {
		return err
	}
	if fb == nil {
		fb = []feedback.Feedback{}
	}
	writeJSON(w, 200, struct {
		calllog.Record
		Feedback []feedback.Feedback `json:"feedback"`
	}{rec, fb})
	return nil
}

// consumerView is a consumer as the admin API shows it: its configuration
// and its keys (never the secrets).
type consumerView struct {
	config.Consumer
	Keys []keyView `json:"keys"`
}

type keyView struct {
	ID        string     `json:"id,omitempty"`
	Name      string     `json:"name"`
	Source    string     `json:"source"` // config: declared in the file as env:NAME; api: created through this API
	Prefix    string     `json:"prefix,omitempty"`
	Ref       string     `json:"ref,omitempty"` // the env:NAME reference of a config key
	CreatedAt *time.Time `json:"created_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) view(c config.Consumer, stored []auth.Key) consumerView {
	v := consumerView{Consumer: c, Keys: []keyView{}}
	v.Consumer.Keys = nil
	for _, k := range c.Keys {
		v.Keys = append(v.Keys, keyView{Name: k.Name, Source: "config", Ref: k.Key})
	}
	for _, k := range stored {
		if k.Consumer != c.Name {
			continue
		}
		created := k.CreatedAt
		v.Keys = append(v.Keys, keyView{ID: k.ID, Name: k.Name, Source: "api", Prefix: k.Prefix, CreatedAt: &created, RevokedAt: k.RevokedAt, ExpiresAt: k.ExpiresAt})
	}
	return v
}

func (s *Server) listConsumers(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	keys, err := s.Keys.ListKeys(r.Context(), "")
	if err != nil {
		return err
	}
	out := []consumerView{}
	p := principal(r)
	for _, c := range cfg.Consumers {
		if p.Reaches(auth.Target{Team: c.Team, Consumer: c.Name}) {
			out = append(out, s.view(c, keys))
		}
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func findConsumer(cfg *config.Config, name string) (int, bool) {
	for i, c := range cfg.Consumers {
		if c.Name == name {
			return i, true
		}
	}
	return -1, false
}

// consumerOwner is the target of something a consumer owns: the consumer
// and its team in the configuration in service ("" for a consumer that no
// longer exists, which only unscoped principals reach).
func (s *Server) consumerOwner(name string) auth.Target {
	cfg, _ := s.Configs.Current()
	t := auth.Target{Consumer: name}
	if i, ok := findConsumer(cfg, name); ok {
		t.Team = cfg.Consumers[i].Team
	}
	return t
}

// serviceOwner is the target of a service: its team in the configuration
// in service.
func (s *Server) serviceOwner(name string) auth.Target {
	cfg, _ := s.Configs.Current()
	for _, sv := range cfg.Services {
		if sv.Name == name {
			return auth.Target{Team: sv.Team}
		}
	}
	return auth.Target{}
}

// callScope names the consumers and services whose calls a scoped p may
// read: its own consumer, or its team's consumers and services.
func (s *Server) callScope(p *auth.Principal) store.CallScope {
	if p.Consumer != "" {
		return store.CallScope{Consumers: []string{p.Consumer}}
	}
	cfg, _ := s.Configs.Current()
	var sc store.CallScope
	for _, c := range cfg.Consumers {
		if p.Reaches(auth.Target{Team: c.Team, Consumer: c.Name}) {
			sc.Consumers = append(sc.Consumers, c.Name)
		}
	}
	for _, sv := range cfg.Services {
		if p.Reaches(auth.Target{Team: sv.Team}) {
			sc.Services = append(sc.Services, sv.Name)
		}
	}
	return sc
}

// consumerTarget resolves the {name} of a consumer route.
func (s *Server) consumerTarget(r *http.Request) (auth.Target, *Error, error) {
	name := r.PathValue("name")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no consumer %q", name)}
	cfg, _ := s.Configs.Current()
	i, ok := findConsumer(cfg, name)
	if !ok {
		return auth.Target{}, notFound, notFound
	}
	return auth.Target{Team: cfg.Consumers[i].Team, Consumer: name}, notFound, nil
}

// keyTarget resolves the {id} of a key route to the key's consumer.
func (s *Server) keyTarget(r *http.Request) (auth.Target, *Error, error) {
	id := r.PathValue("id")
	notFound := &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no key %q", id)}
	keys, err := s.Keys.ListKeys(r.Context(), "")
	if err != nil {
		return auth.Target{}, notFound, err
	}
	for _, k := range keys {
		if k.ID == id {
			return s.consumerOwner(k.Consumer), notFound, nil
		}
	}
	return auth.Target{}, notFound, notFound
}

func (s *Server) getConsumer(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	i, ok := findConsumer(cfg, r.PathValue("name"))
	if !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no consumer %q", r.PathValue("name"))}
	}
	keys, err := s.Keys.ListKeys(r.Context(), cfg.Consumers[i].Name)
	if err != nil {
		return err
	}
	writeJSON(w, 200, s.view(cfg.Consumers[i], keys))
	return nil
}

// cloneConfig deep-copies a configuration through its JSON form, so a change
// never touches the one in service.
func cloneConfig(cfg *config.Config) (*config.Config, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("copying configuration: %w", err)
	}
	out := &config.Config{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("copying configuration: %w", err)
	}
	return out, nil
}

// author names who made a configuration change, for its revision: the
// user or token, or for the shared admin token "admin-api" with the
// X-Hypergate-Author the client declares (the CLI sends user@host).
func author(r *http.Request) string {
	if p := principal(r); p != nil && p.Kind != auth.KindAdminToken {
		return p.Actor()
	}
	if a := strings.TrimSpace(r.Header.Get("X-Hypergate-Author")); a != "" && len(a) <= 128 {
		return "admin-api:" + a
	}
	return "admin-api"
}

// applied records a configuration change in the audit log, or nothing when
// the change was empty.
func applied(r *http.Request, res ApplyResult, action, target, team, summary string) {
	if res.Revision == nil {
		unchanged(r)
		return
	}
	audit(r, auth.AuditEntry{Action: action, Target: target, Team: team,
		Summary: fmt.Sprintf("%s (revision %d)", summary, res.Revision.Number), Diff: strings.Join(res.Diff, "\n")})
}

func (s *Server) createConsumer(w http.ResponseWriter, r *http.Request) error {
	var c config.Consumer
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	p := principal(r)
	if p.Team != "" && c.Team == "" {
		c.Team = p.Team // a team member's new consumer is its team's
	}
	if !p.Reaches(auth.Target{Team: c.Team, Consumer: c.Name}) {
		return &Error{Status: 403, Code: "forbidden", Param: "team",
			Msg: fmt.Sprintf("%s may create consumers of team %q only", p.Actor(), p.Team)}
	}
	cfg, _ := s.Configs.Current()
	if _, exists := findConsumer(cfg, c.Name); exists {
		return &Error{Status: 409, Code: "conflict", Param: "name", Msg: fmt.Sprintf("consumer %q already exists", c.Name)}
	}
	next, err := cloneConfig(cfg)
	if err != nil {
		return err
	}
	next.Consumers = append(next.Consumers, c)
	res, err := s.Configs.Apply(r.Context(), next, author(r), "add consumer "+c.Name, false)
	if err != nil {
		return err
	}
	applied(r, res, "consumer.create", "consumer:"+c.Name, c.Team, "created consumer "+c.Name)
	writeJSON(w, 201, s.view(c, nil))
	return nil
}

func (s *Server) deleteConsumer(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, _ := s.Configs.Current()
	i, ok := findConsumer(cfg, name)
	if !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no consumer %q", name)}
	}
	next, err := cloneConfig(cfg)
	if err != nil {
		return err
	}
	team := next.Consumers[i].Team
	next.Consumers = append(next.Consumers[:i], next.Consumers[i+1:]...)
	res, err := s.Configs.Apply(r.Context(), next, author(r), "remove consumer "+name, false)
	if err != nil {
		return err
	}
	// Revoke its keys too: a consumer created later under the same name must
	// not inherit them.
	keys, err := s.Keys.ListKeys(r.Context(), name)
	if err != nil {
		return err
	}
	revoked := 0
	for _, k := range keys {
		if k.RevokedAt == nil {
			if err := s.Keys.RevokeKey(r.Context(), k.ID); err != nil {
				return err
			}
			revoked++
		}
	}
	// And its subscriptions, for the same reason (subscriptions.go).
	withdrawn, err := s.withdrawSubscriptions(r, name)
	if err != nil {
		return err
	}
	applied(r, res, "consumer.delete", "consumer:"+name, team,
		fmt.Sprintf("deleted consumer %s, revoked its %d active keys and withdrew its %d subscriptions", name, revoked, withdrawn))
	w.WriteHeader(204)
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, _ := s.Configs.Current()
	if _, ok := findConsumer(cfg, name); !ok {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no consumer %q", name)}
	}
	var in struct {
		Name      string     `json:"name"`
		ExpiresAt *time.Time `json:"expires_at"`
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
		in.Name = "default"
	}
	if len(in.Name) > 64 || strings.ContainsAny(in.Name, "\x00\r\n\t") {
		return badRequest("name", "name must be at most 64 printable characters")
	}
	if err := s.checkKeyExpiry(in.ExpiresAt); err != nil {
		return err
	}
	k, secret, err := s.Keys.CreateKey(r.Context(), name, in.Name, in.ExpiresAt)
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "key.create", Target: "key:" + k.ID, Team: s.consumerOwner(name).Team,
		Summary: fmt.Sprintf("created key %q (%s…) for consumer %s", k.Name, k.Prefix, name)})
	writeJSON(w, 201, struct {
		auth.Key
		Secret  string `json:"key"`
		Warning string `json:"warning"`
	}{k, secret, "this is the only time the key is shown; store it now"})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Keys.ListKeys(r.Context(), r.URL.Query().Get("consumer"))
	if err != nil {
		return err
	}
	keys := []auth.Key{}
	p := principal(r)
	for _, k := range all {
		if p.Reaches(s.consumerOwner(k.Consumer)) {
			keys = append(keys, k)
		}
	}
	writeJSON(w, 200, map[string]any{"data": keys})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Keys.RevokeKey(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no key %q", id)}
		}
		return err
	}
	t, _, _ := s.keyTarget(r)
	audit(r, auth.AuditEntry{Action: "key.revoke", Target: "key:" + id, Team: t.Team,
		Summary: fmt.Sprintf("revoked key %s of consumer %s", id, t.Consumer)})
	w.WriteHeader(204)
	return nil
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, rev := s.Configs.Current()
	if r.URL.Query().Get("format") == "yaml" {
		b, err := config.ToYAML(cfg)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("X-Hypergate-Revision", strconv.FormatInt(rev, 10))
		_, _ = w.Write(b)
		return nil
	}
	writeJSON(w, 200, map[string]any{"revision": rev, "config": cfg})
	return nil
}

// readConfig parses a posted configuration, YAML or JSON (JSON is YAML),
// with errors that name the line.
func readConfig(r *http.Request) (*config.Config, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(b)
	if err != nil {
		var ce *config.Errors
		if errors.As(err, &ce) {
			return nil, &Error{Status: 422, Code: "invalid_config", Msg: err.Error(), Err: err}
		}
		return nil, &Error{Status: 400, Code: "invalid_config", Msg: err.Error()}
	}
	return cfg, nil
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := readConfig(r)
	if err != nil {
		return err
	}
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		if dry, err = strconv.ParseBool(v); err != nil {
			return badRequest("dry_run", "dry_run: %q is not true or false", v)
		}
	}
	msg := r.URL.Query().Get("message")
	res, err := s.Configs.Apply(r.Context(), cfg, author(r), msg, dry)
	if err != nil {
		return err
	}
	summary := "applied a configuration"
	if msg != "" {
		summary += ": " + msg
	}
	applied(r, res, "config.apply", "config", "", summary)
	writeJSON(w, 200, res)
	return nil
}

func (s *Server) diffConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := readConfig(r)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), cfg, author(r), "", true)
	if err != nil {
		return err
	}
	writeJSON(w, 200, res)
	return nil
}

func revisionNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return 0, badRequest("n", "revision number %q must be a whole number from 1", r.PathValue("n"))
	}
	return n, nil
}

type revisionView struct {
	store.Revision
	Config json.RawMessage `json:"config,omitempty"`
}

func (s *Server) listRevisions(w http.ResponseWriter, r *http.Request) error {
	limit, before := 50, int64(0)
	q := r.URL.Query()
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return badRequest("limit", "limit: %q must be a whole number from 1 to 500", v)
		}
	}
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return badRequest("before", "before: %q must be a revision number", v)
		}
	}
	revs, err := s.Configs.ListRevisions(r.Context(), limit, before)
	if err != nil {
		return err
	}
	out := make([]revisionView, 0, len(revs))
	for _, rv := range revs {
		out = append(out, revisionView{Revision: rv})
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

// revision loads the revision named in the path.
func (s *Server) revision(r *http.Request) (store.Revision, error) {
	n, err := revisionNumber(r)
	if err != nil {
		return store.Revision{}, err
	}
	rv, err := s.Configs.GetRevision(r.Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		return store.Revision{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no revision %d", n)}
	}
	return rv, err
}

func (s *Server) getRevision(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.revision(r)
	if err != nil {
		return err
	}
	writeJSON(w, 200, revisionView{Revision: rv, Config: rv.Config})
	return nil
}

func (s *Server) restoreRevision(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.revision(r)
	if err != nil {
		return err
	}
	n := rv.Number
	cfg, err := config.ParseJSON(rv.Config)
	if err != nil {
		return fmt.Errorf("revision %d no longer validates: %w", n, err)
	}
	res, err := s.Configs.Apply(r.Context(), cfg, author(r), fmt.Sprintf("restore revision %d", n), false)
	if err != nil {
		return err
	}
	applied(r, res, "config.restore", "config", "", fmt.Sprintf("restored revision %d", n))
	writeJSON(w, 200, res)
	return nil
}
