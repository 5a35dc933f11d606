package console

import (
	"slices"
	"testing"

	"github.com/hypergate/hypergate/internal/auth"
)

// TestRolesPageCoversThePermissionTable keeps the roles page's words in
// step with internal/auth: every action has a sentence in a listed area,
// and the matrix shows exactly what Grants says.
func TestRolesPageCoversThePermissionTable(t *testing.T) {
	for _, a := range auth.Actions() {
		txt, ok := actionText[a]
		if !ok || txt.Text == "" {
			t.Errorf("action %s has no sentence on the roles page", a)
			continue
		}
		if spec, _ := a.Spec(); spec.Scope != auth.ScopePublic && spec.Scope != auth.ScopeSelf && !slices.Contains(areas, txt.Area) {
			t.Errorf("action %s is in area %q, which the page does not list", a, txt.Area)
		}
	}
	for _, r := range auth.Roles() {
		if describeRole(r) == "" {
			t.Errorf("role %s has no description", r)
		}
	}
	d := rolesOverview()
	roles := auth.Roles()
	for _, g := range d.Matrix {
		if g.Area == "Other" {
			t.Errorf("actions without an area: %+v", g.Rows)
		}
		for _, row := range g.Rows {
			for i, r := range roles {
				if want := slices.Contains(auth.Grants(r), row.Action); row.Granted[i] != want {
					t.Errorf("%s for %s: %v, want %v", row.Action, r, row.Granted[i], want)
				}
			}
		}
	}
}

func TestBindingError(t *testing.T) {
	for name, c := range map[string]struct {
		role           auth.Role
		team, consumer string
		field          string
	}{
		"admin of a team":        {auth.RoleAdmin, "a", "", "team"},
		"team admin of no team":  {auth.RoleTeamAdmin, "", "", "team"},
		"consumer without one":   {auth.RoleConsumer, "", "", "consumer"},
		"consumer in a team":     {auth.RoleConsumer, "a", "shop", "team"},
		"viewer with a consumer": {auth.RoleViewer, "", "shop", "consumer"},
		"no role with a team":    {auth.RoleNone, "a", "", "role"},
		"unknown role":           {"boss", "", "", "role"},
		"viewer of a team":       {auth.RoleViewer, "a", "", ""},
	} {
		if got := bindingError(c.role, c.team, c.consumer); got.Field != c.field || (c.field != "") != (got.Msg != "") {
			t.Errorf("%s: %+v, want field %q", name, got, c.field)
		}
	}
}
