package auth

import (
	"fmt"
	"slices"
	"sort"
)

// Role is what a principal may do. Every user and token has exactly one;
// a user's may be scoped to a team, which limits it to what the team owns.
type Role string

// The roles.
const (
	// RoleAdmin may do everything, including the global configuration,
	// users and tokens. It is never scoped to a team.
	RoleAdmin Role = "admin"
	// RoleTeamAdmin manages its team: consumers, services, keys, members,
	// subscription approvals. It is always scoped to a team.
	RoleTeamAdmin Role = "team_admin"
	// RoleDeveloper edits consumers, services and keys.
	RoleDeveloper Role = "developer"
	// RoleReviewer reads calls and posts feedback and reviews on them.
	RoleReviewer Role = "reviewer"
	// RoleViewer reads.
	RoleViewer Role = "viewer"
	// RoleConsumer reads only its own application's (consumer's) calls,
	// manages its keys (the developer portal's "get a key") and asks for
	// its subscriptions. It is always bound to one consumer.
	RoleConsumer Role = "consumer"
)

// RoleNone is the role of a user who belongs to no team and has no global
// role: it can sign in and see itself, nothing else. A user removed from a
// team gets it, so that leaving a team never widens what one may do.
const RoleNone Role = ""

var roles = []Role{RoleAdmin, RoleTeamAdmin, RoleDeveloper, RoleReviewer, RoleViewer, RoleConsumer}

// Roles returns every role, the most powerful first.
func Roles() []Role { return slices.Clone(roles) }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// TeamRole reports whether r can be held as a member of a team.
func (r Role) TeamRole() bool {
	return r == RoleTeamAdmin || r == RoleDeveloper || r == RoleReviewer || r == RoleViewer
}

// CheckBinding validates a role together with its team and consumer: admin
// is global, team_admin needs a team, consumer needs a consumer and no team,
// the others may have a team or not. RoleNone takes neither.
func CheckBinding(r Role, team, consumer string) error {
	switch {
	case r == RoleNone:
		if team != "" || consumer != "" {
			return fmt.Errorf("a team or consumer needs a role")
		}
	case !r.Valid():
		return fmt.Errorf("unknown role %q (one of: admin, team_admin, developer, reviewer, viewer, consumer)", r)
	case r == RoleAdmin && team != "":
		return fmt.Errorf("role admin is global: it cannot be scoped to a team (use team_admin)")
	case r == RoleTeamAdmin && team == "":
		return fmt.Errorf("role team_admin needs a team")
	case r == RoleConsumer && consumer == "":
		return fmt.Errorf("role consumer needs the consumer (application) it reads")
	case r == RoleConsumer && team != "":
		return fmt.Errorf("role consumer is bound to a consumer, not to a team")
	case r != RoleConsumer && consumer != "":
		return fmt.Errorf("only role consumer is bound to a consumer")
	}
	return nil
}

// Scope says what an action acts on, and so which principals can reach its
// target: that is the rule the permission check applies after the role.
type Scope int

// The scopes.
const (
	// ScopePublic actions need no credentials at all.
	ScopePublic Scope = iota
	// ScopeSelf actions act on the caller itself: any authenticated
	// principal may perform them, whatever its role.
	ScopeSelf
	// ScopeGlobal actions act on the whole gateway: a principal scoped to a
	// team or a consumer never may, whatever its role.
	ScopeGlobal
	// ScopeTeam actions act on something a team owns: a team-scoped
	// principal reaches only its own team's.
	ScopeTeam
	// ScopeConsumer actions act on something a consumer (application) owns,
	// and through it the consumer's team: a consumer-bound principal
	// reaches only its own consumer's, a team-scoped one its team's.
	ScopeConsumer
)

func (s Scope) String() string {
	switch s {
	case ScopePublic:
		return "public"
	case ScopeSelf:
		return "self"
	case ScopeGlobal:
		return "global"
	case ScopeTeam:
		return "team"
	case ScopeConsumer:
		return "consumer"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// Action is something an endpoint does. Every admin endpoint declares one.
type Action string

// The actions. The admin router refuses to register an endpoint whose
// action is not listed in the table below.
const (
	// Public.
	ActionHealthRead  Action = "health.read"  // /healthz, /readyz
	ActionMetricsRead Action = "metrics.read" // /metrics
	ActionDocsRead    Action = "docs.read"    // the OpenAPI document
	ActionLogin       Action = "session.create"

	// Self.
	ActionAuthenticated  Action = "session.read" // who am I; also any route that only needs credentials
	ActionLogout         Action = "session.delete"
	ActionPasswordChange Action = "password.change"

	// Consumer-owned.
	ActionCallsRead      Action = "calls.read"
	ActionAnalyticsRead  Action = "analytics.read" // rollups, scoped to one's consumers and services as calls are
	ActionAlertsRead     Action = "alerts.read"    // alert states and history, scoped as calls are
	ActionFeedbackWrite  Action = "feedback.write"
	ActionConsumersRead  Action = "consumers.read"
	ActionConsumersWrite Action = "consumers.write"
	ActionKeysRead       Action = "keys.read"
	ActionKeysWrite      Action = "keys.write"
	// ActionSubscriptionsRequest asks for a consumer's subscription to a
	// service. It is apart from consumers.write so that an application can
	// ask for its own access without being able to change itself; deciding
	// is ActionSubscriptionsApprove, of the service's team.
	ActionSubscriptionsRequest Action = "subscriptions.request"
	// ActionIncidentsRead reads triage incidents, scoped as calls are: a
	// scoped principal sees the incidents of its team's services and
	// those that affected its consumers. ActionIncidentsWrite
	// acknowledges, resolves, ignores and reopens them and adds notes,
	// on the same incidents.
	ActionIncidentsRead  Action = "incidents.read"
	ActionIncidentsWrite Action = "incidents.write"

	// Team-owned.
	ActionServicesRead         Action = "services.read"
	ActionServicesWrite        Action = "services.write"
	ActionSubscriptionsApprove Action = "subscriptions.approve"
	ActionTeamsRead            Action = "teams.read"
	ActionTeamsUpdate          Action = "teams.update"
	ActionMembersRead          Action = "members.read"
	ActionMembersWrite         Action = "members.write"
	ActionAuditRead            Action = "audit.read"
	// ActionAlertsWrite creates and deletes silences; a team's silences
	// must name one of its consumers or services.
	ActionAlertsWrite Action = "alerts.write"
	// Review queues belong to their team (a queue of no team to the
	// principals of no team). review.read lists queues, items and
	// progress; review.write fetches, completes and skips items, what a
	// reviewer does; review.manage adds calls and assigns items.
	ActionReviewRead   Action = "review.read"
	ActionReviewWrite  Action = "review.write"
	ActionReviewManage Action = "review.manage"
	// ActionHypercareRead reads hypercare windows and their reports; a
	// window belongs to the team of its service or prompt (one on a model
	// to no team, so only unscoped principals read it).
	ActionHypercareRead Action = "hypercare.read"

	// Global.
	ActionTeamsManage      Action = "teams.manage" // create and delete teams
	ActionConfigRead       Action = "config.read"
	ActionConfigWrite      Action = "config.write" // providers, models, the whole configuration
	ActionRevisionsRead    Action = "revisions.read"
	ActionRevisionsRestore Action = "revisions.restore"
	ActionUsersRead        Action = "users.read"
	ActionUsersWrite       Action = "users.write"
	ActionTokensRead       Action = "tokens.read"
	ActionTokensWrite      Action = "tokens.write"
	ActionDebugRead        Action = "debug.read" // profiles reveal memory contents
	// ActionProbesRead lists the synthetic probes and their results; global
	// because probes are part of the configuration and may call as any
	// consumer.
	ActionProbesRead Action = "probes.read"
	// ActionStatusRead and ActionStatusWrite read and write the public
	// status page's incidents and subscribers; global because one status
	// incident may name the services of several teams and a subscriber
	// hears of every service.
	ActionStatusRead  Action = "status.read"
	ActionStatusWrite Action = "status.write"
	// ActionAnalyticsRebuild recomputes the analytics rollups from the raw
	// records; global because rollups mix every team's calls.
	ActionAnalyticsRebuild Action = "analytics.rebuild"
)

// ActionSpec is an action's row in the permission table.
type ActionSpec struct {
	Scope Scope
	// Write actions change something; the admin router writes an audit
	// entry for each one that succeeds.
	Write bool
}

// actions is the permission model's first half: what each action acts on.
var actions = map[Action]ActionSpec{
	ActionHealthRead:  {ScopePublic, false},
	ActionMetricsRead: {ScopePublic, false},
	ActionDocsRead:    {ScopePublic, false},
	ActionLogin:       {ScopePublic, true},

	ActionAuthenticated:  {ScopeSelf, false},
	ActionLogout:         {ScopeSelf, true},
	ActionPasswordChange: {ScopeSelf, true},

	ActionCallsRead:      {ScopeConsumer, false},
	ActionAnalyticsRead:  {ScopeConsumer, false},
	ActionAlertsRead:     {ScopeConsumer, false},
	ActionFeedbackWrite:  {ScopeConsumer, true},
	ActionConsumersRead:  {ScopeConsumer, false},
	ActionConsumersWrite: {ScopeConsumer, true},
	ActionKeysRead:       {ScopeConsumer, false},
	ActionKeysWrite:      {ScopeConsumer, true},

	ActionSubscriptionsRequest: {ScopeConsumer, true},
	ActionIncidentsRead:        {ScopeConsumer, false},
	ActionIncidentsWrite:       {ScopeConsumer, true},

	ActionServicesRead:         {ScopeTeam, false},
	ActionServicesWrite:        {ScopeTeam, true},
	ActionSubscriptionsApprove: {ScopeTeam, true},
	ActionTeamsRead:            {ScopeTeam, false},
	ActionTeamsUpdate:          {ScopeTeam, true},
	ActionMembersRead:          {ScopeTeam, false},
	ActionMembersWrite:         {ScopeTeam, true},
	ActionAuditRead:            {ScopeTeam, false},
	ActionAlertsWrite:          {ScopeTeam, true},
	ActionReviewRead:           {ScopeTeam, false},
	ActionReviewWrite:          {ScopeTeam, true},
	ActionReviewManage:         {ScopeTeam, true},
	ActionHypercareRead:        {ScopeTeam, false},

	ActionTeamsManage:      {ScopeGlobal, true},
	ActionConfigRead:       {ScopeGlobal, false},
	ActionConfigWrite:      {ScopeGlobal, true},
	ActionRevisionsRead:    {ScopeGlobal, false},
	ActionRevisionsRestore: {ScopeGlobal, true},
	ActionUsersRead:        {ScopeGlobal, false},
	ActionUsersWrite:       {ScopeGlobal, true},
	ActionTokensRead:       {ScopeGlobal, false},
	ActionTokensWrite:      {ScopeGlobal, true},
	ActionDebugRead:        {ScopeGlobal, false},
	ActionProbesRead:       {ScopeGlobal, false},
	ActionStatusRead:       {ScopeGlobal, false},
	ActionStatusWrite:      {ScopeGlobal, true},
	ActionAnalyticsRebuild: {ScopeGlobal, true},
}

// grants is the permission model's second half: the actions each role may
// perform. Public and self actions are not listed: they need no grant.
// RoleAdmin is granted every action (see Grants).
var grants = map[Role][]Action{
	RoleTeamAdmin: {
		ActionCallsRead, ActionAnalyticsRead, ActionAlertsRead, ActionFeedbackWrite,
		ActionConsumersRead, ActionConsumersWrite, ActionKeysRead, ActionKeysWrite, ActionSubscriptionsRequest,
		ActionServicesRead, ActionServicesWrite, ActionSubscriptionsApprove,
		ActionTeamsRead, ActionTeamsUpdate, ActionMembersRead, ActionMembersWrite,
		ActionAuditRead, ActionAlertsWrite, ActionHypercareRead,
		ActionReviewRead, ActionReviewWrite, ActionReviewManage,
		ActionIncidentsRead, ActionIncidentsWrite,
	},
	RoleDeveloper: {
		ActionCallsRead, ActionAnalyticsRead, ActionAlertsRead, ActionFeedbackWrite,
		ActionConsumersRead, ActionConsumersWrite, ActionKeysRead, ActionKeysWrite, ActionSubscriptionsRequest,
		ActionServicesRead, ActionServicesWrite,
		ActionTeamsRead, ActionMembersRead,
		ActionConfigRead, ActionRevisionsRead, ActionProbesRead, ActionHypercareRead, ActionStatusRead,
		ActionReviewRead, ActionReviewWrite, ActionReviewManage,
		ActionIncidentsRead, ActionIncidentsWrite,
	},
	RoleReviewer: {
		ActionCallsRead, ActionAnalyticsRead, ActionAlertsRead, ActionFeedbackWrite,
		ActionConsumersRead, ActionServicesRead,
		ActionTeamsRead, ActionMembersRead, ActionProbesRead, ActionHypercareRead, ActionStatusRead,
		ActionReviewRead, ActionReviewWrite,
		ActionIncidentsRead,
	},
	RoleViewer: {
		ActionCallsRead, ActionAnalyticsRead, ActionAlertsRead, ActionConsumersRead, ActionKeysRead, ActionServicesRead,
		ActionTeamsRead, ActionMembersRead,
		ActionConfigRead, ActionRevisionsRead, ActionProbesRead, ActionHypercareRead, ActionStatusRead,
		ActionReviewRead,
		ActionIncidentsRead,
	},
	RoleConsumer: {
		ActionCallsRead, ActionAnalyticsRead, ActionAlertsRead, ActionConsumersRead, ActionKeysRead, ActionKeysWrite, ActionSubscriptionsRequest,
	},
}

// Spec returns the action's row of the permission table; ok is false for an
// action not in it.
func (a Action) Spec() (ActionSpec, bool) {
	s, ok := actions[a]
	return s, ok
}

// Actions returns every action in the table, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Grants returns the actions role r is granted, sorted. Public and self
// actions are not included: every principal may perform them.
func Grants(r Role) []Action {
	var out []Action
	for _, a := range Actions() {
		if s := actions[a]; s.Scope != ScopePublic && s.Scope != ScopeSelf && granted(r, a) {
			out = append(out, a)
		}
	}
	return out
}

func granted(r Role, a Action) bool {
	return r == RoleAdmin || slices.Contains(grants[r], a)
}

// Target is what a scoped action acts on, by its owners: the team, and for
// consumer-owned things the consumer.
type Target struct {
	Team     string
	Consumer string
}

// Can reports whether p may perform a at all: its role is granted the
// action, and a global action is not asked by a scoped principal. A
// team or consumer action still needs the target checked with Reaches (or
// CanOn) once it is known.
func (p *Principal) Can(a Action) bool {
	spec, ok := actions[a]
	switch {
	case !ok:
		return false
	case spec.Scope == ScopePublic:
		return true
	case p == nil:
		return false
	case spec.Scope == ScopeSelf:
		return true
	case spec.Scope == ScopeGlobal && p.Scoped():
		return false
	}
	return granted(p.Role, a)
}

// CanOn reports whether p may perform a on t.
func (p *Principal) CanOn(a Action, t Target) bool {
	if !p.Can(a) {
		return false
	}
	switch actions[a].Scope {
	case ScopeTeam, ScopeConsumer:
		return p.Reaches(t)
	}
	return true
}

// Reaches reports whether t is within p's scope: everything for an
// unscoped principal, its own consumer for a consumer-bound one, its own
// team's for a team-scoped one. Something owned by no team is reached by
// unscoped principals only.
func (p *Principal) Reaches(t Target) bool {
	switch {
	case p == nil:
		return false
	case p.Consumer != "":
		return t.Consumer == p.Consumer
	case p.Team != "":
		return t.Team == p.Team
	}
	return true
}

// Scoped reports whether p is limited to a team or a consumer.
func (p *Principal) Scoped() bool { return p.Team != "" || p.Consumer != "" }
