package auth

import (
	"slices"
	"testing"
)

// TestPermissionTable checks the table's own consistency: every granted
// action exists and needs a grant, and the rights the design promises hold.
func TestPermissionTable(t *testing.T) {
	for role, acts := range grants {
		if !role.Valid() || role == RoleAdmin {
			t.Errorf("grants lists role %q", role)
		}
		for _, a := range acts {
			spec, ok := actions[a]
			if !ok {
				t.Errorf("%s is granted %q, which is not an action", role, a)
			}
			if spec.Scope == ScopePublic || spec.Scope == ScopeSelf {
				t.Errorf("%s is granted %q, which needs no grant", role, a)
			}
		}
	}
	// The global configuration, users and tokens are the admin's alone.
	adminOnly := []Action{ActionConfigWrite, ActionRevisionsRestore, ActionUsersRead, ActionUsersWrite,
		ActionTokensRead, ActionTokensWrite, ActionTeamsManage, ActionDebugRead}
	for _, r := range Roles() {
		for _, a := range adminOnly {
			if got := granted(r, a); got != (r == RoleAdmin) {
				t.Errorf("granted(%s, %s) = %v", r, a, got)
			}
		}
	}
	must := map[Role][]Action{
		RoleTeamAdmin: {ActionConsumersWrite, ActionServicesWrite, ActionKeysWrite, ActionMembersWrite, ActionSubscriptionsApprove, ActionCallsRead},
		RoleDeveloper: {ActionConsumersWrite, ActionServicesWrite, ActionKeysWrite, ActionCallsRead},
		RoleReviewer:  {ActionCallsRead, ActionFeedbackWrite},
		RoleViewer:    {ActionCallsRead, ActionConsumersRead, ActionServicesRead, ActionKeysRead},
		RoleConsumer:  {ActionCallsRead, ActionKeysRead, ActionKeysWrite, ActionSubscriptionsRequest},
	}
	mustNot := map[Role][]Action{
		RoleDeveloper: {ActionMembersWrite, ActionSubscriptionsApprove, ActionAuditRead},
		RoleReviewer:  {ActionConsumersWrite, ActionKeysWrite, ActionKeysRead, ActionServicesWrite, ActionSubscriptionsRequest},
		RoleViewer:    {ActionConsumersWrite, ActionKeysWrite, ActionFeedbackWrite, ActionServicesWrite, ActionSubscriptionsRequest},
		RoleConsumer: {ActionConsumersWrite, ActionServicesRead, ActionTeamsRead, ActionConfigRead, ActionAuditRead,
			ActionSubscriptionsApprove},
	}
	for r, acts := range must {
		for _, a := range acts {
			if !granted(r, a) {
				t.Errorf("%s lacks %s", r, a)
			}
		}
	}
	for r, acts := range mustNot {
		for _, a := range acts {
			if granted(r, a) {
				t.Errorf("%s has %s", r, a)
			}
		}
	}
	for _, r := range Roles() {
		for _, a := range Grants(r) {
			if !granted(r, a) {
				t.Errorf("Grants(%s) lists %s", r, a)
			}
		}
	}
	if got := Grants(RoleAdmin); len(got) == 0 || slices.Contains(got, ActionLogin) {
		t.Errorf("Grants(admin) = %v", got)
	}
}

func TestPrincipalCan(t *testing.T) {
	admin := AdminTokenPrincipal()
	teamDev := &Principal{Kind: KindUser, Role: RoleDeveloper, Team: "payments"}
	globalViewer := &Principal{Kind: KindToken, Role: RoleViewer}
	shop := &Principal{Kind: KindToken, Role: RoleConsumer, Consumer: "web-shop"}
	none := &Principal{Kind: KindUser}
	var anon *Principal
	pay := Target{Team: "payments", Consumer: "web-shop"}
	other := Target{Team: "search", Consumer: "crawler"}
	teamless := Target{Consumer: "legacy"}
	for _, tc := range []struct {
		name   string
		p      *Principal
		a      Action
		t      *Target
		want   bool
		reason string
	}{
		{"admin does anything", admin, ActionConfigWrite, nil, true, ""},
		{"admin reaches every team", admin, ActionConsumersWrite, &other, true, ""},
		{"public needs nobody", anon, ActionLogin, nil, true, ""},
		{"anonymous cannot read", anon, ActionCallsRead, nil, false, ""},
		{"self needs a principal", anon, ActionAuthenticated, nil, false, ""},
		{"a user with no role may see itself", none, ActionAuthenticated, nil, true, ""},
		{"a user with no role may read nothing", none, ActionCallsRead, nil, false, ""},
		{"developer edits its team's consumer", teamDev, ActionConsumersWrite, &pay, true, ""},
		{"developer cannot touch another team", teamDev, ActionConsumersWrite, &other, false, ""},
		{"developer cannot touch a teamless consumer", teamDev, ActionConsumersRead, &teamless, false, ""},
		{"scoped developer cannot read the configuration", teamDev, ActionConfigRead, nil, false, "global"},
		{"global viewer reads the configuration", globalViewer, ActionConfigRead, nil, true, ""},
		{"global viewer reads any team", globalViewer, ActionCallsRead, &other, true, ""},
		{"global viewer cannot write", globalViewer, ActionConsumersWrite, &pay, false, ""},
		{"consumer reads its own calls", shop, ActionCallsRead, &pay, true, ""},
		{"consumer cannot read a teammate's calls", shop, ActionCallsRead, &Target{Team: "payments", Consumer: "mobile"}, false, ""},
		{"consumer cannot read team things", shop, ActionTeamsRead, &Target{Team: "payments"}, false, ""},
		{"consumer asks for its own subscription", shop, ActionSubscriptionsRequest, &pay, true, ""},
		{"consumer cannot ask for a teammate's subscription", shop, ActionSubscriptionsRequest, &Target{Team: "payments", Consumer: "mobile"}, false, ""},
		{"consumer cannot ask for another team's consumer", shop, ActionSubscriptionsRequest, &other, false, ""},
		{"consumer cannot approve its own subscription", shop, ActionSubscriptionsApprove, &pay, false, ""},
		{"developer asks for its team's consumer", teamDev, ActionSubscriptionsRequest, &pay, true, ""},
		{"developer cannot ask for another team's consumer", teamDev, ActionSubscriptionsRequest, &other, false, ""},
		{"global viewer cannot ask", globalViewer, ActionSubscriptionsRequest, &pay, false, ""},
		{"unknown action", admin, Action("launch.missiles"), nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bool
			if tc.t == nil {
				got = tc.p.Can(tc.a)
			} else {
				got = tc.p.CanOn(tc.a, *tc.t)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckBinding(t *testing.T) {
	for _, tc := range []struct {
		name           string
		role           Role
		team, consumer string
		ok             bool
	}{
		{"global admin", RoleAdmin, "", "", true},
		{"team admin", RoleAdmin, "payments", "", false},
		{"team_admin with team", RoleTeamAdmin, "payments", "", true},
		{"team_admin without team", RoleTeamAdmin, "", "", false},
		{"global developer", RoleDeveloper, "", "", true},
		{"team viewer", RoleViewer, "payments", "", true},
		{"consumer", RoleConsumer, "", "web-shop", true},
		{"consumer without consumer", RoleConsumer, "", "", false},
		{"consumer in a team", RoleConsumer, "payments", "web-shop", false},
		{"viewer bound to a consumer", RoleViewer, "", "web-shop", false},
		{"no role", RoleNone, "", "", true},
		{"no role in a team", RoleNone, "payments", "", false},
		{"unknown role", Role("owner"), "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckBinding(tc.role, tc.team, tc.consumer); (err == nil) != tc.ok {
				t.Fatalf("CheckBinding = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestActor(t *testing.T) {
	for _, tc := range []struct {
		p    *Principal
		want string
	}{
		{AdminTokenPrincipal(), "admin-token"},
		{UserPrincipal(User{ID: "usr_1", Email: "ana@example.com"}, ""), "user:ana@example.com"},
		{TokenPrincipal(Token{ID: "tok_1", Name: "ci"}), "token:ci"},
		{nil, "anonymous"},
	} {
		if got := tc.p.Actor(); got != tc.want {
			t.Errorf("Actor() = %q, want %q", got, tc.want)
		}
	}
}
