package console

import (
	"net/http"
	"slices"

	"github.com/hypergate/hypergate/internal/auth"
)

// actionText says in plain words what an action of the permission table
// lets one do, and the area of the console it belongs to. The table itself
// (which role is granted what, and on what scope) is always read from
// internal/auth, so the roles page cannot go stale; a test fails when an
// action is added there without a sentence here.
var actionText = map[auth.Action]struct{ Area, Text string }{
	auth.ActionHealthRead:     {"Gateway", "check that the gateway is up and ready"},
	auth.ActionMetricsRead:    {"Gateway", "scrape the Prometheus metrics"},
	auth.ActionDocsRead:       {"Gateway", "read the admin API's OpenAPI document"},
	auth.ActionLogin:          {"Account", "sign in"},
	auth.ActionAuthenticated:  {"Account", "see who they are and what they may do"},
	auth.ActionLogout:         {"Account", "sign out"},
	auth.ActionPasswordChange: {"Account", "change their own password"},

	auth.ActionCallsRead:            {"Calls and feedback", "read calls, with their bodies (secrets masked)"},
	auth.ActionAnalyticsRead:        {"Calls and feedback", "read traffic, error, latency, token and cost charts"},
	auth.ActionFeedbackWrite:        {"Calls and feedback", "rate calls and flag them"},
	auth.ActionAnalyticsRebuild:     {"Calls and feedback", "recompute the analytics from the raw calls"},
	auth.ActionReviewRead:           {"Review", "see review queues, their items and progress"},
	auth.ActionReviewWrite:          {"Review", "review the items of a queue"},
	auth.ActionReviewManage:         {"Review", "add calls to review queues and assign items"},
	auth.ActionIncidentsRead:        {"Triage and alerts", "see triage incidents"},
	auth.ActionIncidentsWrite:       {"Triage and alerts", "acknowledge, resolve, ignore and reopen incidents, and add notes"},
	auth.ActionAlertsRead:           {"Triage and alerts", "see alert states and their history"},
	auth.ActionAlertsWrite:          {"Triage and alerts", "create and expire silences"},
	auth.ActionProbesRead:           {"Triage and alerts", "see the synthetic probes and their results"},
	auth.ActionHypercareRead:        {"Triage and alerts", "read hypercare windows and their reports"},
	auth.ActionStatusRead:           {"Triage and alerts", "read the public status page's incidents and subscribers"},
	auth.ActionStatusWrite:          {"Triage and alerts", "post and update public status incidents"},
	auth.ActionConsumersRead:        {"Applications and services", "see consumers (applications)"},
	auth.ActionConsumersWrite:       {"Applications and services", "create, change and delete consumers"},
	auth.ActionKeysRead:             {"Applications and services", "see consumers' API keys (never their secrets)"},
	auth.ActionKeysWrite:            {"Applications and services", "create, rotate and revoke consumers' API keys"},
	auth.ActionSubscriptionsRequest: {"Applications and services", "ask for a consumer's subscription to a service"},
	auth.ActionSubscriptionsApprove: {"Applications and services", "approve or reject subscriptions to the team's services"},
	auth.ActionServicesRead:         {"Applications and services", "see services and their routes"},
	auth.ActionServicesWrite:        {"Applications and services", "create, change, release and roll back services"},
	auth.ActionConfigRead:           {"Configuration", "read providers, models and the whole configuration"},
	auth.ActionConfigWrite:          {"Configuration", "change providers, models and the whole configuration"},
	auth.ActionRevisionsRead:        {"Configuration", "read configuration revisions and their diffs"},
	auth.ActionRevisionsRestore:     {"Configuration", "restore an earlier configuration revision"},
	auth.ActionDebugRead:            {"Configuration", "read the Go profiler's pages"},
	auth.ActionTeamsRead:            {"Teams and people", "see teams and what they own"},
	auth.ActionTeamsUpdate:          {"Teams and people", "edit a team's details"},
	auth.ActionTeamsManage:          {"Teams and people", "create and delete teams"},
	auth.ActionMembersRead:          {"Teams and people", "see a team's members and their roles"},
	auth.ActionMembersWrite:         {"Teams and people", "add members to a team, change their roles and remove them"},
	auth.ActionUsersRead:            {"Teams and people", "see every user"},
	auth.ActionUsersWrite:           {"Teams and people", "create, change, disable and delete users, and reset passwords"},
	auth.ActionTokensRead:           {"Teams and people", "see the admin API tokens (never their secrets)"},
	auth.ActionTokensWrite:          {"Teams and people", "create and revoke admin API tokens"},
	auth.ActionAuditRead:            {"Teams and people", "read the audit log"},
}

// areas is the order the roles page lists its areas in.
var areas = []string{"Calls and feedback", "Review", "Triage and alerts", "Applications and services",
	"Configuration", "Teams and people"}

// roleText says what each role is for.
var roleText = map[auth.Role]string{
	auth.RoleAdmin:     "Runs the whole gateway: every action, on everything.",
	auth.RoleTeamAdmin: "Manages one team: its consumers, services, keys, members, review queues and subscription approvals.",
	auth.RoleDeveloper: "Builds on the gateway: edits consumers, services and keys, and reads the configuration.",
	auth.RoleReviewer:  "Reads calls and rates them, and works through review queues.",
	auth.RoleViewer:    "Reads; changes nothing.",
	auth.RoleConsumer:  "An application's own account: reads its calls and keys and asks for subscriptions.",
}

// describeRole is what a role is for, or for no role what that means.
func describeRole(r auth.Role) string {
	if r == auth.RoleNone {
		return "No role: can sign in and see itself, nothing else, until an admin or a team adds it."
	}
	return roleText[r]
}

// scopeText says whose things a scoped role's action reaches.
var scopeText = map[auth.Scope]string{
	auth.ScopeGlobal:   "whole gateway: never for a user of a team or consumer",
	auth.ScopeTeam:     "a team member: its own team's only",
	auth.ScopeConsumer: "a team member: its team's; a consumer: its own",
}

// actionRow is one action on the roles page: its words, its scope and
// which roles are granted it, in the order of the columns.
type actionRow struct {
	Action  auth.Action
	Text    string
	Scope   string
	Granted []bool
}

type areaRows struct {
	Area string
	Rows []actionRow
}

type roleInfo struct {
	Role auth.Role
	Text string
	// Areas is what the role may do, by area.
	Areas []areaActions
}

type areaActions struct {
	Area    string
	Actions []string
}

type rolesData struct {
	Roles  []roleInfo
	Matrix []areaRows
	// Columns is the number of the matrix's columns.
	Columns int
	// Everyone is what every signed-in user may do, whatever the role.
	Everyone []string
}

// byArea groups actions into the page's areas, in the areas' order, with
// their sentences; an action without one shows by its name.
func byArea(actions []auth.Action) []areaActions {
	groups := map[string][]string{}
	for _, a := range actions {
		t, ok := actionText[a]
		if !ok {
			t.Area, t.Text = "Other", string(a)
		}
		groups[t.Area] = append(groups[t.Area], t.Text)
	}
	var out []areaActions
	for _, area := range append(areas, "Other") {
		if len(groups[area]) > 0 {
			out = append(out, areaActions{Area: area, Actions: groups[area]})
		}
	}
	return out
}

func rolesOverview() *rolesData {
	roles := auth.Roles()
	d := &rolesData{Columns: len(roles) + 2}
	grants := map[auth.Role][]auth.Action{}
	for _, r := range roles {
		grants[r] = auth.Grants(r)
		d.Roles = append(d.Roles, roleInfo{Role: r, Text: describeRole(r), Areas: byArea(grants[r])})
	}
	rows := map[string][]actionRow{}
	for _, a := range auth.Actions() {
		spec, _ := a.Spec()
		if spec.Scope == auth.ScopePublic || spec.Scope == auth.ScopeSelf {
			if spec.Scope == auth.ScopeSelf {
				d.Everyone = append(d.Everyone, actionText[a].Text)
			}
			continue
		}
		t, ok := actionText[a]
		if !ok {
			t.Area, t.Text = "Other", string(a)
		}
		row := actionRow{Action: a, Text: t.Text, Scope: scopeText[spec.Scope]}
		for _, r := range roles {
			row.Granted = append(row.Granted, slices.Contains(grants[r], a))
		}
		rows[t.Area] = append(rows[t.Area], row)
	}
	for _, area := range append(areas, "Other") {
		if len(rows[area]) > 0 {
			d.Matrix = append(d.Matrix, areaRows{Area: area, Rows: rows[area]})
		}
	}
	return d
}

// rolesPage lists every role with what it may do, from the permission
// table itself. Any signed-in user may read it: it is how the console
// explains a "not allowed".
func (s *Server) rolesPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "roles", view{Title: "Roles", Me: m, Nav: "users", CSRF: m.CSRFToken, Data: rolesOverview()})
}
