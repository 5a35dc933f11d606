// Package admin is the admin REST API under /admin/v1 and the operational
// endpoints of the admin port (/healthz, /readyz, /metrics). Every route is
// registered with the action it performs and goes through one guard that
// authenticates the caller (admin token, API token or session), checks the
// permission table of internal/auth and writes the audit entries of
// changes. Handlers are thin: decode, call the domain, encode. Errors carry
// a message for the caller apart from the cause that is logged.
package admin

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/store"
)

// Calls reads call records and their feedback.
type Calls interface {
	ListCalls(ctx context.Context, f calllog.Filter) (calllog.Page, error)
	// ListCallsOf is ListCalls limited to the calls of some consumers or
	// services, for readers scoped to a team or a consumer.
	ListCallsOf(ctx context.Context, f calllog.Filter, scope store.CallScope) (calllog.Page, error)
	GetCall(ctx context.Context, id string) (calllog.Record, error)
	ListFeedback(ctx context.Context, requestID string) ([]feedback.Feedback, error)
}

// Keys manages consumer API keys.
type Keys interface {
	// CreateKey creates a key that expires at expiresAt, or never when nil.
	CreateKey(ctx context.Context, consumer, name string, expiresAt *time.Time) (key auth.Key, secret string, err error)
	ListKeys(ctx context.Context, consumer string) ([]auth.Key, error)
	RevokeKey(ctx context.Context, id string) error
	// RotateKey replaces the consumer's key id with a new one of the same
	// name (expiring at expiresAt, or never), and makes the old one expire
	// after grace. It returns the new key, its secret and the old key as
	// it now is.
	RotateKey(ctx context.Context, consumer, id string, grace time.Duration, expiresAt *time.Time) (next auth.Key, secret string, old auth.Key, err error)
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

// Users stores users and their team membership.
type Users interface {
	CreateUser(ctx context.Context, u auth.User) error
	GetUser(ctx context.Context, id string) (auth.User, error)
	GetUserByEmail(ctx context.Context, email string) (auth.User, error)
	ListUsers(ctx context.Context, team string) ([]auth.User, error)
	UpdateUser(ctx context.Context, u auth.User) error
	DeleteUser(ctx context.Context, id string) error
	AddTeamMember(ctx context.Context, team, userID string, role auth.Role) (auth.User, error)
	RemoveTeamMember(ctx context.Context, team, userID string) error
	RemoveTeamMembers(ctx context.Context, team string) ([]string, error)
	RecordLogin(ctx context.Context, id string, at time.Time) error
	SetPasswordHash(ctx context.Context, id, hash string) error
}

// Sessions stores sign-in sessions by the hash of their secret.
type Sessions interface {
	CreateSession(ctx context.Context, s auth.Session) error
	GetSession(ctx context.Context, id string) (auth.Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	DeleteSessionsIdleSince(ctx context.Context, idleSince, now time.Time) (int64, error)
}

// Tokens stores API tokens by the hash of their secret.
type Tokens interface {
	CreateToken(ctx context.Context, t auth.Token) error
	GetToken(ctx context.Context, id string) (auth.Token, error)
	GetTokenByHash(ctx context.Context, hash string) (auth.Token, error)
	ListTokens(ctx context.Context) ([]auth.Token, error)
	RevokeToken(ctx context.Context, id string) error
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// AuditLog stores and lists audit entries.
type AuditLog interface {
	AppendAudit(ctx context.Context, e auth.AuditEntry) (auth.AuditEntry, error)
	ListAudit(ctx context.Context, f auth.AuditFilter) (auth.AuditPage, error)
}

// ApplyResult says what an apply did.
type ApplyResult struct {
	Changed  bool            `json:"changed"`
	Diff     []string        `json:"diff"`
	Revision *store.Revision `json:"revision,omitempty"`
	// Releases are the releases of services the change made, without
	// their definitions.
	Releases []catalog.Release `json:"releases,omitempty"`
}

// Server is the admin HTTP handler.
type Server struct {
	Calls    Calls
	Keys     Keys
	Configs  Configs
	Users    Users
	Sessions Sessions
	Tokens   Tokens
	Audit    AuditLog
	Releases Releases
	// Subscriptions, Documents and Importer serve the catalog, the
	// approval flow and the services' OpenAPI documents (catalog.go,
	// subscriptions.go); those routes answer 404 without them.
	Subscriptions Subscriptions
	Documents     OpenAPIDocuments
	Importer      OpenAPIFetcher
	// Analytics reads the analytics rollups (analytics.go); its routes
	// answer 404 without it.
	Analytics analytics.Reader
	// Rollups rebuilds the analytics rollups from the raw records;
	// POST /admin/v1/analytics/rebuild answers 404 without it.
	Rollups RollupRebuilder
	// Alerts serves the alert states, history and silences (alerts.go);
	// its routes answer 404 without it.
	Alerts Alerts
	// Probes lists the synthetic probes with their latest results
	// (probes.go); GET /admin/v1/probes answers 404 without it.
	Probes ProbeLister
	// Feedback serves reviewers' feedback, publishable keys and feedback
	// on pages (feedback.go); those routes answer 404 without it.
	Feedback FeedbackAdmin
	// Reviews serves the review queues (review.go); their routes answer
	// 404 without it.
	Reviews ReviewQueues
	// Hypercare reads the figures of hypercare reports and the stored
	// daily reports (hypercare.go); its routes answer 404 without it.
	Hypercare HypercareStore
	// Status manages the public status page's incidents, subscribers and
	// service levels (status.go); its routes answer 404 without it.
	Status StatusManager
	// Incidents serves the triage incidents (incidents.go); their routes
	// answer 404 without it.
	Incidents Incidents
	// TokenHash is the SHA-256 hex of the admin token, the built-in admin.
	TokenHash string
	// Passwords hashes and checks user passwords (argon2id defaults when nil).
	Passwords *auth.Passwords
	// SessionIdle ends a session unused for this long (DefaultSessionIdle
	// when 0); SessionMax ends any session this long after sign-in
	// (DefaultSessionMax when 0).
	SessionIdle, SessionMax time.Duration
	// AccountThrottle and IPThrottle slow down password guessing per
	// account and per client address; defaults when nil.
	AccountThrottle, IPThrottle *auth.Throttle
	// Now is the clock for session and token expiry; time.Now when nil.
	Now func() time.Time
	// Ready reports whether the store is reachable and a config is loaded.
	Ready   func(ctx context.Context) error
	Metrics http.Handler
	Logger  *slog.Logger

	initOnce sync.Once
}

// Handler returns the routes of the admin port.
func (s *Server) Handler() http.Handler {
	s.init()
	return s.routes().mux
}

// Routes lists every endpoint of the admin port with its declared action,
// in registration order.
func (s *Server) Routes() []Route {
	s.init()
	return s.routes().routes
}

// init fills the defaults of optional fields once.
func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.Passwords == nil {
			s.Passwords = &auth.Passwords{}
		}
		if s.AccountThrottle == nil {
			s.AccountThrottle = &auth.Throttle{Free: 3, Now: s.Now}
		}
		if s.IPThrottle == nil {
			// Looser: many people may sign in from behind one address.
			s.IPThrottle = &auth.Throttle{Free: 10, Now: s.Now}
		}
	})
}

func (s *Server) routes() *router {
	rt := &router{s: s, mux: http.NewServeMux()}
	h := rt.handle
	h("GET /healthz", auth.ActionHealthRead, nil, func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, 200, map[string]string{"status": "ok"})
		return nil
	})
	h("GET /readyz", auth.ActionHealthRead, nil, s.readyz)
	if s.Metrics != nil {
		h("GET /metrics", auth.ActionMetricsRead, nil, adapt(s.Metrics.ServeHTTP))
	}
	h("GET /admin/v1/openapi.json", auth.ActionDocsRead, nil, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
		return nil
	})

	h("POST /admin/v1/login", auth.ActionLogin, nil, s.login)
	h("POST /admin/v1/logout", auth.ActionLogout, nil, s.logout)
	h("GET /admin/v1/me", auth.ActionAuthenticated, nil, s.me)
	h("POST /admin/v1/me/password", auth.ActionPasswordChange, nil, s.changePassword)

	h("GET /admin/v1/calls", auth.ActionCallsRead, nil, s.listCalls)
	h("GET /admin/v1/calls/{id}", auth.ActionCallsRead, nil, s.getCall)
	h("POST /admin/v1/calls/{id}/feedback", auth.ActionFeedbackWrite, s.callTarget, s.postCallFeedback)
	h("GET /admin/v1/page-feedback", auth.ActionAnalyticsRead, nil, s.listPageFeedback)
	h("GET /admin/v1/analytics/timeseries", auth.ActionAnalyticsRead, nil, s.analyticsTimeseries)
	h("GET /admin/v1/analytics/breakdown", auth.ActionAnalyticsRead, nil, s.analyticsBreakdown)
	h("GET /admin/v1/analytics/top", auth.ActionAnalyticsRead, nil, s.analyticsTop)
	h("GET /admin/v1/analytics/compare", auth.ActionAnalyticsRead, nil, s.analyticsCompare)
	h("POST /admin/v1/analytics/rebuild", auth.ActionAnalyticsRebuild, nil, s.analyticsRebuild)
	h("GET /admin/v1/alerts", auth.ActionAlertsRead, nil, s.listAlerts)
	h("GET /admin/v1/probes", auth.ActionProbesRead, nil, s.listProbes)
	// Incidents check the caller's reach themselves (incidents.go): an
	// incident belongs to its service's team and to every consumer it hit.
	h("GET /admin/v1/incidents", auth.ActionIncidentsRead, nil, s.listIncidents)
	h("GET /admin/v1/incidents/{id}", auth.ActionIncidentsRead, nil, s.getIncident)
	h("POST /admin/v1/incidents/{id}/acknowledge", auth.ActionIncidentsWrite, nil, s.acknowledgeIncident)
	h("POST /admin/v1/incidents/{id}/resolve", auth.ActionIncidentsWrite, nil, s.resolveIncident)
	h("POST /admin/v1/incidents/{id}/ignore", auth.ActionIncidentsWrite, nil, s.ignoreIncident)
	h("POST /admin/v1/incidents/{id}/reopen", auth.ActionIncidentsWrite, nil, s.reopenIncident)
	h("POST /admin/v1/incidents/{id}/notes", auth.ActionIncidentsWrite, nil, s.addIncidentNote)
	h("GET /admin/v1/review-queues", auth.ActionReviewRead, nil, s.listReviewQueues)
	h("GET /admin/v1/review-queues/{name}", auth.ActionReviewRead, s.reviewQueueTarget, s.getReviewQueue)
	h("GET /admin/v1/review-queues/{name}/items", auth.ActionReviewRead, s.reviewQueueTarget, s.listReviewItems)
	h("POST /admin/v1/review-queues/{name}/items", auth.ActionReviewManage, s.reviewQueueTarget, s.addReviewItems)
	h("POST /admin/v1/review-queues/{name}/items/bulk", auth.ActionReviewManage, s.reviewQueueTarget, s.bulkAddReviewItems)
	h("POST /admin/v1/review-queues/{name}/items/{id}/assign", auth.ActionReviewManage, s.reviewQueueTarget, s.assignReviewItem)
	h("POST /admin/v1/review-queues/{name}/next", auth.ActionReviewWrite, s.reviewQueueTarget, s.nextReviewItem)
	h("POST /admin/v1/review-queues/{name}/items/{id}/complete", auth.ActionReviewWrite, s.reviewQueueTarget, s.completeReviewItem)
	h("POST /admin/v1/review-queues/{name}/items/{id}/skip", auth.ActionReviewWrite, s.reviewQueueTarget, s.skipReviewItem)
	h("GET /admin/v1/status", auth.ActionStatusRead, nil, s.listStatusServices)
	h("GET /admin/v1/status/incidents", auth.ActionStatusRead, nil, s.listStatusIncidents)
	h("POST /admin/v1/status/incidents", auth.ActionStatusWrite, nil, s.createStatusIncident)
	h("GET /admin/v1/status/incidents/{id}", auth.ActionStatusRead, nil, s.getStatusIncident)
	h("POST /admin/v1/status/incidents/{id}/updates", auth.ActionStatusWrite, nil, s.addStatusUpdate)
	h("GET /admin/v1/status/subscribers", auth.ActionStatusRead, nil, s.listStatusSubscribers)
	h("POST /admin/v1/status/subscribers", auth.ActionStatusWrite, nil, s.createStatusSubscriber)
	h("DELETE /admin/v1/status/subscribers/{id}", auth.ActionStatusWrite, nil, s.deleteStatusSubscriber)
	h("GET /admin/v1/hypercare", auth.ActionHypercareRead, nil, s.listHypercare)
	h("GET /admin/v1/hypercare/{name}/report", auth.ActionHypercareRead, s.hypercareTarget, s.hypercareReport)
	h("GET /admin/v1/hypercare/{name}/reports", auth.ActionHypercareRead, s.hypercareTarget, s.hypercareReports)
	h("GET /admin/v1/alerts/history", auth.ActionAlertsRead, nil, s.alertHistory)
	h("GET /admin/v1/silences", auth.ActionAlertsRead, nil, s.listSilences)
	h("POST /admin/v1/silences", auth.ActionAlertsWrite, nil, s.createSilence)
	h("DELETE /admin/v1/silences/{id}", auth.ActionAlertsWrite, nil, s.deleteSilence)
	h("GET /admin/v1/consumers", auth.ActionConsumersRead, nil, s.listConsumers)
	h("POST /admin/v1/consumers", auth.ActionConsumersWrite, nil, s.createConsumer)
	h("GET /admin/v1/consumers/{name}", auth.ActionConsumersRead, s.consumerTarget, s.getConsumer)
	h("DELETE /admin/v1/consumers/{name}", auth.ActionConsumersWrite, s.consumerTarget, s.deleteConsumer)
	h("POST /admin/v1/consumers/{name}/keys", auth.ActionKeysWrite, s.consumerTarget, s.createKey)
	h("GET /admin/v1/keys", auth.ActionKeysRead, nil, s.listKeys)
	h("DELETE /admin/v1/keys/{id}", auth.ActionKeysWrite, s.keyTarget, s.revokeKey)
	h("POST /admin/v1/consumers/{name}/keys/{id}/rotate", auth.ActionKeysWrite, s.consumerTarget, s.rotateKey)
	h("POST /admin/v1/consumers/{name}/publishable-keys", auth.ActionKeysWrite, s.consumerTarget, s.createPublishableKey)
	h("GET /admin/v1/consumers/{name}/publishable-keys", auth.ActionKeysRead, s.consumerTarget, s.listPublishableKeys)
	h("DELETE /admin/v1/consumers/{name}/publishable-keys/{id}", auth.ActionKeysWrite, s.consumerTarget, s.revokePublishableKey)

	// The catalog is for every signed-in principal (catalog.go); the
	// approval flow is in subscriptions.go.
	h("GET /admin/v1/catalog", auth.ActionAuthenticated, nil, s.listCatalog)
	h("GET /admin/v1/catalog/{service}", auth.ActionAuthenticated, nil, s.getCatalogEntry)
	h("GET /admin/v1/services/{name}/openapi", auth.ActionAuthenticated, nil, s.getServiceOpenAPI)
	h("PUT /admin/v1/services/{name}/openapi", auth.ActionServicesWrite, s.openAPIServiceTarget, s.putServiceOpenAPI)
	h("POST /admin/v1/services/{name}/openapi/import", auth.ActionServicesWrite, s.openAPIServiceTarget, s.importServiceOpenAPI)
	h("GET /admin/v1/subscriptions", auth.ActionConsumersRead, nil, s.listSubscriptions)
	h("POST /admin/v1/subscriptions", auth.ActionSubscriptionsRequest, nil, s.requestSubscription)
	h("GET /admin/v1/subscriptions/{id}", auth.ActionConsumersRead, s.subscriptionReadTarget, s.getSubscription)
	h("POST /admin/v1/subscriptions/{id}/approve", auth.ActionSubscriptionsApprove, s.subscriptionDecisionTarget, s.decideSubscription(catalog.ActionApprove))
	h("POST /admin/v1/subscriptions/{id}/reject", auth.ActionSubscriptionsApprove, s.subscriptionDecisionTarget, s.decideSubscription(catalog.ActionReject))
	h("POST /admin/v1/subscriptions/{id}/revoke", auth.ActionSubscriptionsApprove, s.subscriptionDecisionTarget, s.decideSubscription(catalog.ActionRevoke))

	h("GET /admin/v1/teams", auth.ActionTeamsRead, nil, s.listTeams)
	h("POST /admin/v1/teams", auth.ActionTeamsManage, nil, s.createTeam)
	h("GET /admin/v1/teams/{name}", auth.ActionTeamsRead, s.teamTarget, s.getTeam)
	h("PUT /admin/v1/teams/{name}", auth.ActionTeamsUpdate, s.teamTarget, s.updateTeam)
	h("DELETE /admin/v1/teams/{name}", auth.ActionTeamsManage, nil, s.deleteTeam)
	h("GET /admin/v1/teams/{name}/members", auth.ActionMembersRead, s.teamTarget, s.listMembers)
	h("POST /admin/v1/teams/{name}/members", auth.ActionMembersWrite, s.teamTarget, s.addMember)
	h("DELETE /admin/v1/teams/{name}/members/{user}", auth.ActionMembersWrite, s.teamTarget, s.removeMember)

	h("GET /admin/v1/users", auth.ActionUsersRead, nil, s.listUsers)
	h("POST /admin/v1/users", auth.ActionUsersWrite, nil, s.createUser)
	h("GET /admin/v1/users/{user}", auth.ActionUsersRead, nil, s.getUser)
	h("PUT /admin/v1/users/{user}", auth.ActionUsersWrite, nil, s.updateUser)
	h("DELETE /admin/v1/users/{user}", auth.ActionUsersWrite, nil, s.deleteUser)

	h("GET /admin/v1/tokens", auth.ActionTokensRead, nil, s.listTokens)
	h("POST /admin/v1/tokens", auth.ActionTokensWrite, nil, s.createToken)
	h("DELETE /admin/v1/tokens/{id}", auth.ActionTokensWrite, nil, s.revokeToken)

	h("GET /admin/v1/audit", auth.ActionAuditRead, nil, s.listAudit)

	h("GET /admin/v1/services", auth.ActionServicesRead, nil, s.listServices)
	h("POST /admin/v1/services", auth.ActionServicesWrite, nil, s.createService)
	h("GET /admin/v1/services/{name}", auth.ActionServicesRead, s.serviceTarget, s.getService)
	h("DELETE /admin/v1/services/{name}", auth.ActionServicesWrite, s.serviceTarget, s.deleteService)
	h("PUT /admin/v1/services/{name}/draft", auth.ActionServicesWrite, nil, s.putDraft)
	h("GET /admin/v1/services/{name}/draft", auth.ActionServicesRead, s.serviceTarget, s.getDraft)
	h("DELETE /admin/v1/services/{name}/draft", auth.ActionServicesWrite, s.serviceTarget, s.deleteDraft)
	h("GET /admin/v1/services/{name}/draft/diff", auth.ActionServicesRead, s.serviceTarget, s.diffDraft)
	h("POST /admin/v1/services/{name}/publish", auth.ActionServicesWrite, s.serviceTarget, s.publish)
	h("GET /admin/v1/services/{name}/releases", auth.ActionServicesRead, s.serviceTarget, s.listReleases)
	h("GET /admin/v1/services/{name}/releases/{n}", auth.ActionServicesRead, s.serviceTarget, s.getRelease)
	h("POST /admin/v1/services/{name}/releases/{n}/rollback", auth.ActionServicesWrite, s.serviceTarget, s.rollback)
	h("POST /admin/v1/services/{name}/deprecate", auth.ActionServicesWrite, s.serviceTarget, s.deprecate)
	h("POST /admin/v1/services/{name}/retire", auth.ActionServicesWrite, s.serviceTarget, s.retire)

	h("GET /admin/v1/config", auth.ActionConfigRead, nil, s.getConfig)
	h("PUT /admin/v1/config", auth.ActionConfigWrite, nil, s.putConfig)
	h("POST /admin/v1/config/diff", auth.ActionConfigRead, nil, s.diffConfig)
	h("GET /admin/v1/config/revisions", auth.ActionRevisionsRead, nil, s.listRevisions)
	h("GET /admin/v1/config/revisions/{n}", auth.ActionRevisionsRead, nil, s.getRevision)
	h("POST /admin/v1/config/revisions/{n}/restore", auth.ActionRevisionsRestore, nil, s.restoreRevision)
	// Profiles are admin-only: they reveal memory contents.
	h("GET /debug/pprof/", auth.ActionDebugRead, nil, adapt(pprof.Index))
	h("GET /debug/pprof/profile", auth.ActionDebugRead, nil, adapt(pprof.Profile))
	h("GET /debug/pprof/trace", auth.ActionDebugRead, nil, adapt(pprof.Trace))
	h("GET /debug/pprof/symbol", auth.ActionDebugRead, nil, adapt(pprof.Symbol))
	// Anything else under /admin/v1 is a 404, once authenticated, so that
	// probing without credentials learns nothing about which paths exist.
	h("/admin/v1/", auth.ActionAuthenticated, nil, func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no admin endpoint %s %s", r.Method, r.URL.Path)}
	})
	return rt
}

// adapt turns a plain handler into a route handler.
func adapt(h http.HandlerFunc) handlerFunc {
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
	// Details are shown to the caller with the message, e.g. what still
	// refers to a team that cannot be deleted.
	Details map[string]any
	// RetryAfter, when set, is sent as the Retry-After header (429).
	RetryAfter time.Duration
	Err        error
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
	body := map[string]any{"code": e.Code, "message": e.Msg, "param": nilIfEmpty(e.Param)}
	if len(e.Details) > 0 {
		body["details"] = e.Details
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, e.Status, map[string]any{"error": body})
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

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			writeJSON(w, 503, map[string]string{"status": "unavailable", "reason": err.Error()})
			return nil
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
	return nil
}
