package app_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// peoplePassword is the password of the users of the people pages' tests.
const peoplePassword = "a long console passphrase"

// peopleBrowser creates a user through the admin API (binding is the JSON
// fields after the email, e.g. `"role":"viewer"`), signs it in through the
// console and returns the browser with its anti-forgery token.
func (e *env) peopleBrowser(email, binding string) (*browser, string) {
	e.t.Helper()
	if binding != "" {
		binding = "," + binding
	}
	e.mustDo(201, "POST", "/admin/v1/users", `{"email":"`+email+`","password":"`+peoplePassword+`"`+binding+`}`)
	b := e.browser()
	if resp := b.signin(email, peoplePassword); resp.StatusCode != 303 {
		e.t.Fatalf("sign-in of %s: %d", email, resp.StatusCode)
	}
	_, page := b.get("/account")
	return b, formToken(e.t, page)
}

// peoplePage is a page fetched as someone: its status, what it must show
// and what it must not (write buttons of a role that may not use them).
type peoplePage struct {
	who       *browser
	path      string
	status    int
	want, not []string
}

func runPeoplePages(t *testing.T, cases []struct {
	name string
	peoplePage
}) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := c.who.get(c.path)
			checkPage(t, c.path, resp, body)
			if resp.StatusCode != c.status {
				t.Fatalf("%s: %d, want %d\n%s", c.path, resp.StatusCode, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", c.path, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("%s shows %q", c.path, n)
				}
			}
		})
	}
}

// peoplePost is a form posted as someone: the answer's status, where it
// redirects, what the page shows, and what the admin API holds after.
type peoplePost struct {
	name     string
	who      *browser
	tok      string
	path     string
	form     url.Values
	status   int
	location string
	want     []string
	check    func(t *testing.T)
}

func runPeoplePosts(t *testing.T, cases []peoplePost) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range c.form {
				f[k] = v
			}
			if c.tok != "" {
				f.Set("csrf_token", c.tok)
			}
			resp, body := c.who.post(c.path, f)
			checkPage(t, c.path, resp, body)
			if resp.StatusCode != c.status {
				t.Fatalf("POST %s: %d, want %d\n%s", c.path, resp.StatusCode, c.status, body)
			}
			if c.location != "" && resp.Header.Get("Location") != c.location {
				t.Errorf("POST %s: to %q, want %q", c.path, resp.Header.Get("Location"), c.location)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("POST %s: the page lacks %q", c.path, w)
				}
			}
			if c.check != nil {
				c.check(t)
			}
		})
	}
}

func TestConsoleTeams(t *testing.T) {
	e := start(t)
	e.mustDo(201, "POST", "/admin/v1/teams", `{"name":"alpha","description":"the first team"}`)
	e.mustDo(201, "POST", "/admin/v1/teams", `{"name":"beta"}`)
	op, opTok := e.peopleBrowser("op@example.com", `"role":"admin"`)
	ta, taTok := e.peopleBrowser("lead@example.com", `"role":"team_admin","team":"alpha"`)
	dev, _ := e.peopleBrowser("dev@example.com", `"role":"developer","team":"alpha"`)
	view, viewTok := e.peopleBrowser("view@example.com", `"role":"viewer"`)
	nobody, _ := e.peopleBrowser("new@example.com", "")
	free := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/users", `{"email":"free@example.com","password":"`+peoplePassword+`"}`), "id").Str

	member := func(team, email string) string {
		t.Helper()
		b := e.mustDo(200, "GET", "/admin/v1/teams/"+team+"/members", "")
		return gjson.GetBytes(b, `data.#(email=="`+email+`").role`).Str
	}

	runPeoplePages(t, []struct {
		name string
		peoplePage
	}{
		{"admin's teams", peoplePage{op, "/teams", 200,
			[]string{`<a href="/teams" aria-current="page">Teams</a>`, `<a href="/teams/alpha">alpha</a>`, "the first team", `<a href="/teams/beta">beta</a>`,
				`action="/teams"`, `<label for="team-name">Name</label>`}, nil}},
		{"team admin sees its team only", peoplePage{ta, "/teams", 200,
			[]string{`<a href="/teams/alpha">alpha</a>`}, []string{`href="/teams/beta"`, `action="/teams"`}}},
		{"viewer's teams: no create form", peoplePage{view, "/teams", 200,
			[]string{`href="/teams/alpha"`, `href="/teams/beta"`}, []string{`action="/teams"`, `method="post" action="/teams`}}},
		{"no role: no teams", peoplePage{nobody, "/teams", 403, []string{"may not teams.read"}, []string{`href="/teams"`}}},
		{"admin's team page", peoplePage{op, "/teams/alpha", 200,
			[]string{`action="/teams/alpha"`, `action="/teams/alpha/delete"`, `action="/teams/alpha/members"`, "lead@example.com", "dev@example.com",
				`<option value="team_admin">`, `<summary>Remove…</summary>`, `<label for="member-role">Team role</label>`},
			[]string{`<option value="admin"`, `<option value="consumer"`}}},
		{"team admin's own team", peoplePage{ta, "/teams/alpha", 200,
			[]string{`action="/teams/alpha"`, `action="/teams/alpha/members"`}, []string{`action="/teams/alpha/delete"`}}},
		{"team admin of alpha cannot see beta", peoplePage{ta, "/teams/beta", 404, []string{`no team`}, []string{`action="/teams/beta`}}},
		{"developer: members, no buttons", peoplePage{dev, "/teams/alpha", 200,
			[]string{"lead@example.com", "the first team"}, []string{`method="post" action="/teams/`, "Remove…"}}},
		{"viewer: no buttons", peoplePage{view, "/teams/alpha", 200,
			[]string{"lead@example.com"}, []string{`method="post" action="/teams/`, "Delete team…"}}},
	})

	runPeoplePosts(t, []peoplePost{
		{name: "create a team", who: op, tok: opTok, path: "/teams", form: url.Values{"name": {"gamma"}, "description": {"third"}},
			status: 303, location: "/teams/gamma", check: func(t *testing.T) {
				if d := gjson.GetBytes(e.mustDo(200, "GET", "/admin/v1/teams/gamma", ""), "description").Str; d != "third" {
					t.Errorf("gamma's description %q", d)
				}
			}},
		{name: "a team that exists is refused, the form kept", who: op, tok: opTok, path: "/teams",
			form: url.Values{"name": {"alpha"}, "description": {"again"}}, status: 409,
			want: []string{`<span id="team-name-error" class="field-error">team &#34;alpha&#34; already exists</span>`, `value="again"`, `aria-invalid="true"`}},
		{name: "missing anti-forgery token", who: op, path: "/teams", form: url.Values{"name": {"delta"}}, status: 403,
			want: []string{"anti-forgery token"}, check: func(t *testing.T) { e.mustDo(404, "GET", "/admin/v1/teams/delta", "") }},
		{name: "a team admin may not create teams", who: ta, tok: taTok, path: "/teams", form: url.Values{"name": {"delta"}}, status: 403,
			want: []string{"may not teams.manage"}},
		{name: "team admin edits its team's details", who: ta, tok: taTok, path: "/teams/alpha", form: url.Values{"description": {"payments people"}},
			status: 303, location: "/teams/alpha", check: func(t *testing.T) {
				if d := gjson.GetBytes(e.mustDo(200, "GET", "/admin/v1/teams/alpha", ""), "description").Str; d != "payments people" {
					t.Errorf("alpha's description %q", d)
				}
			}},
		{name: "team admin of alpha cannot edit beta", who: ta, tok: taTok, path: "/teams/beta", form: url.Values{"description": {"mine now"}},
			status: 404},
		{name: "add a member", who: ta, tok: taTok, path: "/teams/alpha/members", form: url.Values{"user": {"free@example.com"}, "role": {"developer"}},
			status: 303, location: "/teams/alpha#members", check: func(t *testing.T) {
				if r := member("alpha", "free@example.com"); r != "developer" {
					t.Errorf("free's role in alpha: %q", r)
				}
			}},
		{name: "change a member's role", who: ta, tok: taTok, path: "/teams/alpha/members", form: url.Values{"user": {"free@example.com"}, "role": {"reviewer"}},
			status: 303, check: func(t *testing.T) {
				if r := member("alpha", "free@example.com"); r != "reviewer" {
					t.Errorf("free's role in alpha: %q", r)
				}
			}},
		{name: "only team roles", who: ta, tok: taTok, path: "/teams/alpha/members", form: url.Values{"user": {"new@example.com"}, "role": {"admin"}},
			status: 400, want: []string{`id="member-role-error"`, `value="new@example.com"`}},
		{name: "a user with a role cannot join", who: ta, tok: taTok, path: "/teams/alpha/members", form: url.Values{"user": {"view@example.com"}, "role": {"viewer"}},
			status: 409, want: []string{`id="member-user-error"`, "only a user with no role can join", `value="view@example.com"`}},
		{name: "team admin of alpha cannot add to beta", who: ta, tok: taTok, path: "/teams/beta/members", form: url.Values{"user": {"new@example.com"}, "role": {"viewer"}},
			status: 404, check: func(t *testing.T) {
				if r := member("beta", "new@example.com"); r != "" {
					t.Errorf("new@ joined beta as %q", r)
				}
			}},
		{name: "a viewer may not add members", who: view, tok: viewTok, path: "/teams/alpha/members", form: url.Values{"user": {"new@example.com"}, "role": {"viewer"}},
			status: 403, want: []string{"may not members.write"}},
		{name: "remove a member", who: ta, tok: taTok, path: "/teams/alpha/members/" + free + "/remove",
			status: 303, location: "/teams/alpha#members", check: func(t *testing.T) {
				if r := member("alpha", "free@example.com"); r != "" {
					t.Errorf("free is still in alpha as %q", r)
				}
				if r := gjson.GetBytes(e.mustDo(200, "GET", "/admin/v1/users/"+free, ""), "role").Str; r != "" {
					t.Errorf("free's role after leaving: %q", r)
				}
			}},
		{name: "remove without a token", who: ta, path: "/teams/alpha/members/" + free + "/remove", status: 403},
		{name: "a team that owns nothing is deleted", who: op, tok: opTok, path: "/teams/gamma/delete", status: 303, location: "/teams",
			check: func(t *testing.T) { e.mustDo(404, "GET", "/admin/v1/teams/gamma", "") }},
		{name: "a team admin may not delete its team", who: ta, tok: taTok, path: "/teams/alpha/delete", status: 403,
			check: func(t *testing.T) { e.mustDo(200, "GET", "/admin/v1/teams/alpha", "") }},
	})

	// The team page lists the remaining members with their roles.
	_, body := op.get("/teams/alpha")
	for _, want := range []string{"payments people", "lead@example.com</td><td>team_admin", "dev@example.com</td><td>developer"} {
		if !strings.Contains(body, want) {
			t.Errorf("alpha's page lacks %q", html.EscapeString(want))
		}
	}
	if strings.Contains(body, "free@example.com") {
		t.Errorf("alpha's page still lists the removed member")
	}
}

// shownOnce finds a secret the console shows once.
var shownOnce = regexp.MustCompile(`<code class="secret-value">([^<]+)</code>`)

func TestConsoleUsersAndTokens(t *testing.T) {
	e := start(t)
	e.mustDo(201, "POST", "/admin/v1/teams", `{"name":"alpha"}`)
	op, opTok := e.peopleBrowser("op@example.com", `"role":"admin"`)
	ta, taTok := e.peopleBrowser("lead@example.com", `"role":"team_admin","team":"alpha"`)
	view, viewTok := e.peopleBrowser("view@example.com", `"role":"viewer"`)
	nobody, _ := e.peopleBrowser("new@example.com", "")

	user := func(email string) gjson.Result {
		t.Helper()
		code, b := e.as(adminToken, "GET", "/admin/v1/users/"+email, "")
		if code != 200 {
			return gjson.Result{}
		}
		return gjson.ParseBytes(b)
	}
	newUser := func(email, role, team, consumer string) url.Values {
		return url.Values{"email": {email}, "name": {"Ada"}, "password": {peoplePassword}, "role": {role}, "team": {team}, "consumer": {consumer}}
	}

	runPeoplePages(t, []struct {
		name string
		peoplePage
	}{
		{"admin's users", peoplePage{op, "/users", 200,
			[]string{`<a href="/users" aria-current="page">Users</a>`, "lead@example.com", "team_admin", `<a href="/teams/alpha">alpha</a>`, "no role",
				`action="/users"`, `<label for="user-role">Role</label>`, `<option value="consumer">`, `<option value="alpha">`, `<option value="shop">`,
				`<a href="/tokens">API tokens</a>`, `<a href="/roles">Roles</a>`}, nil}},
		{"users filtered by team", peoplePage{op, "/users?team=alpha", 200, []string{"lead@example.com"}, []string{"view@example.com"}}},
		{"a viewer may not read users", peoplePage{view, "/users", 403, []string{"may not users.read"}, []string{`href="/users"`}}},
		{"nor a team admin", peoplePage{ta, "/users", 403, []string{"may not users.read"}, nil}},
		{"nor a user's page", peoplePage{view, "/users/op@example.com", 403, nil, []string{`action="/users/`}}},
		{"admin's tokens", peoplePage{op, "/tokens", 200, []string{"No tokens yet.", `action="/tokens"`, `<label for="token-expires">Expires in</label>`}, nil}},
		{"a viewer may not read tokens", peoplePage{view, "/tokens", 403, []string{"may not tokens.read"}, nil}},
		{"roles, for anyone signed in", peoplePage{nobody, "/roles", 200,
			[]string{`<h2 id="role-admin">admin</h2>`, `<h2 id="role-consumer">consumer</h2>`, "create and revoke admin API tokens",
				"<code class=\"muted\">members.write</code>", "change their own password", `<th scope="rowgroup" colspan="8" class="area">Teams and people</th>`},
			[]string{`<a href="/users"`}}},
		{"account", peoplePage{view, "/account", 200,
			[]string{`<a class="who" href="/account" aria-current="page">view@example.com`, "view@example.com", "<dd>viewer</dd>", "Reads; changes nothing.",
				"read calls, with their bodies", `action="/account/password"`, `<label for="current-password">Current password</label>`},
			[]string{"create and revoke admin API tokens"}}},
	})

	var created, generated string
	runPeoplePosts(t, []peoplePost{
		{name: "team admin without a team: error at the team, input kept", who: op, tok: opTok, path: "/users",
			form: newUser("ada@example.com", "team_admin", "", ""), status: 400,
			want: []string{`<span id="user-team-error" class="field-error">role team_admin needs a team</span>`, `value="ada@example.com"`,
				`<option value="team_admin" selected>`, `value="Ada"`},
			check: func(t *testing.T) {
				if user("ada@example.com").Exists() {
					t.Errorf("the user was created")
				}
			}},
		{name: "admin scoped to a team", who: op, tok: opTok, path: "/users", form: newUser("ada@example.com", "admin", "alpha", ""), status: 400,
			want: []string{`id="user-team-error"`, "role admin is global"}},
		{name: "consumer role without a consumer", who: op, tok: opTok, path: "/users", form: newUser("ada@example.com", "consumer", "", ""), status: 400,
			want: []string{`id="user-consumer-error"`}},
		{name: "unknown team, from the admin API", who: op, tok: opTok, path: "/users", form: newUser("ada@example.com", "viewer", "nope", ""), status: 400,
			want: []string{`<span id="user-team-error" class="field-error">unknown team &#34;nope&#34;: create it first</span>`, `value="nope"`}},
		{name: "short password", who: op, tok: opTok, path: "/users", form: with(newUser("ada@example.com", "viewer", "", ""), "password", "short"),
			status: 400, want: []string{`id="user-password-error"`}},
		{name: "a viewer may not create users", who: view, tok: viewTok, path: "/users", form: newUser("ada@example.com", "viewer", "", ""), status: 403,
			want: []string{"may not users.write"}},
		{name: "missing anti-forgery token", who: op, path: "/users", form: newUser("ada@example.com", "viewer", "", ""), status: 403,
			check: func(t *testing.T) {
				if user("ada@example.com").Exists() {
					t.Errorf("the user was created")
				}
			}},
		{name: "create a user with a typed password", who: op, tok: opTok, path: "/users", form: newUser("ada@example.com", "developer", "alpha", ""),
			status: 303, check: func(t *testing.T) {
				u := user("ada@example.com")
				created = u.Get("id").Str
				if u.Get("role").Str != "developer" || u.Get("team").Str != "alpha" || u.Get("name").Str != "Ada" {
					t.Errorf("created %s", u.Raw)
				}
			}},
		{name: "create a user with a generated password", who: op, tok: opTok, path: "/users",
			form: with(with(newUser("bob@example.com", "consumer", "", "shop"), "password", ""), "generate", "1"), status: 201,
			want: []string{"This is the only time it is shown", "<dd>consumer</dd>"}},
	})

	t.Run("a generated password works, and is shown once", func(t *testing.T) {
		_, body := op.post("/users", with(with(with(newUser("cy@example.com", "viewer", "", ""), "password", ""), "generate", "1"), "csrf_token", opTok))
		m := shownOnce.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no password shown: %s", body)
		}
		generated = m[1]
		b := e.browser()
		if resp := b.signin("cy@example.com", generated); resp.StatusCode != 303 {
			t.Errorf("sign-in with the generated password: %d", resp.StatusCode)
		}
		if _, again := op.get("/users/" + user("cy@example.com").Get("id").Str); strings.Contains(again, generated) || strings.Contains(again, "secret-value") {
			t.Errorf("the password is shown again")
		}
	})

	runPeoplePosts(t, []peoplePost{
		{name: "edit a user's binding", who: op, tok: opTok, path: "/users/" + created,
			form: url.Values{"name": {"Ada L."}, "role": {"viewer"}, "team": {""}, "consumer": {""}}, status: 303, location: "/users/" + created,
			check: func(t *testing.T) {
				if u := user("ada@example.com"); u.Get("role").Str != "viewer" || u.Get("team").Str != "" || u.Get("name").Str != "Ada L." {
					t.Errorf("after the edit: %s", u.Raw)
				}
			}},
		{name: "an invalid edit is refused at its field", who: op, tok: opTok, path: "/users/" + created,
			form: url.Values{"role": {"viewer"}, "consumer": {"shop"}}, status: 400,
			want: []string{`id="user-consumer-error"`, "only role consumer is bound to a consumer", `value="shop"`}},
		{name: "disable a user", who: op, tok: opTok, path: "/users/" + created,
			form: url.Values{"role": {"viewer"}, "disabled": {"1"}}, status: 303, check: func(t *testing.T) {
				if !user("ada@example.com").Get("disabled").Bool() {
					t.Errorf("not disabled")
				}
			}},
		{name: "reset a password to a typed one", who: op, tok: opTok, path: "/users/cy@example.com/password",
			form: url.Values{"password": {"another long passphrase"}}, status: 303, check: func(t *testing.T) {
				if resp := e.browser().signin("cy@example.com", generated); resp.StatusCode == 303 {
					t.Errorf("the old password still signs in")
				}
				if resp := e.browser().signin("cy@example.com", "another long passphrase"); resp.StatusCode != 303 {
					t.Errorf("the new password does not sign in: %d", resp.StatusCode)
				}
			}},
		{name: "reset to a short password is refused", who: op, tok: opTok, path: "/users/cy@example.com/password",
			form: url.Values{"password": {"short"}}, status: 400, want: []string{`id="reset-password-error"`}},
		{name: "reset to a generated password", who: op, tok: opTok, path: "/users/cy@example.com/password",
			form: url.Values{"generate": {"1"}}, status: 200, want: []string{`<code class="secret-value">`, "only time it is shown"}},
		{name: "a viewer may not delete users", who: view, tok: viewTok, path: "/users/" + created + "/delete", status: 403},
		{name: "delete a user", who: op, tok: opTok, path: "/users/" + created + "/delete", status: 303, location: "/users",
			check: func(t *testing.T) {
				if user("ada@example.com").Exists() {
					t.Errorf("the user is still there")
				}
			}},
	})

	t.Run("token secret shown once, then never again", func(t *testing.T) {
		resp, body := op.post("/tokens", url.Values{"csrf_token": {opTok}, "name": {"ci"}, "role": {"viewer"}, "expires_in": {"30d"}})
		checkPage(t, "create token", resp, body)
		m := shownOnce.FindStringSubmatch(body)
		if resp.StatusCode != 201 || m == nil || !strings.Contains(body, "only time the token is shown") {
			t.Fatalf("create token: %d %s", resp.StatusCode, body)
		}
		secret := m[1]
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("the page with the secret may be cached: %q", resp.Header.Get("Cache-Control"))
		}
		if code, b := e.as(secret, "GET", "/admin/v1/me", ""); code != 200 || gjson.GetBytes(b, "role").Str != "viewer" {
			t.Errorf("the shown token does not work: %d %s", code, b)
		}
		resp, body = op.get("/tokens")
		checkPage(t, "/tokens", resp, body)
		if strings.Contains(body, secret) || strings.Contains(body, "secret-value") || !strings.Contains(body, "<td>ci</td>") {
			t.Errorf("/tokens after creating: secret shown again, or token not listed")
		}
		id := gjson.GetBytes(e.mustDo(200, "GET", "/admin/v1/tokens", ""), `data.#(name=="ci").id`).Str
		if resp, _ := view.post("/tokens/"+id+"/revoke", url.Values{"csrf_token": {viewTok}}); resp.StatusCode != 403 {
			t.Errorf("viewer revoke: %d", resp.StatusCode)
		}
		if resp, _ := op.post("/tokens/"+id+"/revoke", url.Values{}); resp.StatusCode != 403 {
			t.Errorf("revoke without a token: %d", resp.StatusCode)
		}
		if resp, _ := op.post("/tokens/"+id+"/revoke", url.Values{"csrf_token": {opTok}}); resp.StatusCode != 303 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if code, _ := e.as(secret, "GET", "/admin/v1/me", ""); code != 401 {
			t.Errorf("a revoked token still works: %d", code)
		}
		if _, body := op.get("/tokens"); !strings.Contains(body, "revoked") || strings.Contains(body, `action="/tokens/`+id+`/revoke"`) {
			t.Errorf("/tokens does not show the token revoked")
		}
	})

	runPeoplePosts(t, []peoplePost{
		{name: "token without a name", who: op, tok: opTok, path: "/tokens", form: url.Values{"role": {"viewer"}}, status: 400,
			want: []string{`id="token-name-error"`}},
		{name: "token with a bad expiry", who: op, tok: opTok, path: "/tokens", form: url.Values{"name": {"x"}, "role": {"viewer"}, "expires_in": {"soon"}},
			status: 400, want: []string{`id="token-expires-error"`, `value="soon"`}},
		{name: "team admin token without a team", who: op, tok: opTok, path: "/tokens", form: url.Values{"name": {"x"}, "role": {"team_admin"}},
			status: 400, want: []string{`id="token-team-error"`}},
		{name: "a team admin may not create tokens", who: ta, tok: taTok, path: "/tokens", form: url.Values{"name": {"x"}, "role": {"viewer"}},
			status: 403, want: []string{"may not tokens.write"}},
	})

	t.Run("password change", func(t *testing.T) {
		runPeoplePosts(t, []peoplePost{
			{name: "wrong current password refused", who: view, tok: viewTok, path: "/account/password",
				form:   url.Values{"current_password": {"not my password"}, "new_password": {"a new long passphrase"}, "confirm_password": {"a new long passphrase"}},
				status: 403, want: []string{`<span id="current-password-error" class="field-error">the current password is wrong</span>`}},
			{name: "confirmation differs", who: view, tok: viewTok, path: "/account/password",
				form:   url.Values{"current_password": {peoplePassword}, "new_password": {"a new long passphrase"}, "confirm_password": {"something else"}},
				status: 400, want: []string{`id="confirm-password-error"`}},
			{name: "missing anti-forgery token", who: view, path: "/account/password",
				form:   url.Values{"current_password": {peoplePassword}, "new_password": {"a new long passphrase"}, "confirm_password": {"a new long passphrase"}},
				status: 403},
			{name: "changed", who: view, tok: viewTok, path: "/account/password",
				form:   url.Values{"current_password": {peoplePassword}, "new_password": {"a new long passphrase"}, "confirm_password": {"a new long passphrase"}},
				status: 200, want: []string{"Your password is changed", `href="/signin?next=%2Faccount"`}},
		})
		if resp, _ := view.get("/account"); resp.StatusCode != 303 {
			t.Errorf("the session survived the change: %d", resp.StatusCode)
		}
		if resp := e.browser().signin("view@example.com", peoplePassword); resp.StatusCode == 303 {
			t.Errorf("the old password still signs in")
		}
		if resp := e.browser().signin("view@example.com", "a new long passphrase"); resp.StatusCode != 303 {
			t.Errorf("the new password does not sign in: %d", resp.StatusCode)
		}
	})
}
