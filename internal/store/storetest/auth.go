package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/store"
)

// Case is one conformance case: it gets a new, empty, migrated database.
type Case struct {
	Name string
	Fn   func(t *testing.T, db *store.DB)
}

// AuthCases are the conformance cases of users, team membership, sessions,
// API tokens, the audit log and the team-scoped call listing.
var AuthCases = []Case{
	{"Users", testUsers},
	{"TeamMembers", testTeamMembers},
	{"Sessions", testSessions},
	{"Tokens", testTokens},
	{"Audit", testAudit},
	{"AuditConcurrent", testAuditConcurrent},
	{"CallsOf", testCallsOf},
}

func user(id, email string, role auth.Role, team string) auth.User {
	return auth.User{ID: id, Email: email, Name: "Name " + id, Role: role, Team: team,
		PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", CreatedAt: base, UpdatedAt: base}
}

func testUsers(t *testing.T, db *store.DB) {
	ctx := t.Context()
	login := base.Add(time.Hour)
	full := user("usr_1", "ana@example.com", auth.RoleConsumer, "")
	full.Consumer, full.Disabled = "web-shop", true
	in := []auth.User{
		full,
		user("usr_2", "bob@example.com", auth.RoleDeveloper, "payments"),
		user("usr_3", "cy@example.com", auth.RoleNone, ""),
	}
	for _, u := range in {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.ID, err)
		}
	}
	if err := db.RecordLogin(ctx, "usr_1", login); err != nil {
		t.Fatal(err)
	}
	want := in[0]
	want.CreatedAt, want.UpdatedAt = stored(base), stored(base)
	l := stored(login)
	want.LastLoginAt = &l
	got, err := db.GetUser(ctx, "usr_1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetUser =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	if got, err := db.GetUserByEmail(ctx, "bob@example.com"); err != nil || got.ID != "usr_2" || got.Role != auth.RoleDeveloper || got.Team != "payments" {
		t.Fatalf("GetUserByEmail = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		u    auth.User
		want error
	}{
		{"same id", user("usr_1", "other@example.com", auth.RoleViewer, ""), store.ErrConflict},
		{"same email", user("usr_9", "ana@example.com", auth.RoleViewer, ""), store.ErrConflict},
		{"no hash", auth.User{ID: "usr_8", Email: "x@example.com"}, store.ErrInvalid},
		{"admin in a team", user("usr_7", "y@example.com", auth.RoleAdmin, "payments"), store.ErrInvalid},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			if err := db.CreateUser(ctx, tc.u); !errors.Is(err, tc.want) {
				t.Fatalf("CreateUser error = %v, want %v", err, tc.want)
			}
		})
	}
	all, err := db.ListUsers(ctx, "")
	if err != nil || len(all) != 3 || all[0].Email != "ana@example.com" || all[2].Email != "cy@example.com" {
		t.Fatalf("ListUsers = %+v, %v", all, err)
	}
	team, err := db.ListUsers(ctx, "payments")
	if err != nil || len(team) != 1 || team[0].ID != "usr_2" {
		t.Fatalf("ListUsers(payments) = %+v, %v", team, err)
	}

	// A global role replaces a team role and back.
	u := in[1]
	u.Team, u.Role, u.Name = "", auth.RoleViewer, "Robert"
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetUser(ctx, "usr_2"); got.Team != "" || got.Role != auth.RoleViewer || got.Name != "Robert" {
		t.Fatalf("after UpdateUser: %+v", got)
	}
	u.Team, u.Role = "search", auth.RoleTeamAdmin
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetUser(ctx, "usr_2"); got.Team != "search" || got.Role != auth.RoleTeamAdmin {
		t.Fatalf("after UpdateUser into a team: %+v", got)
	}
	u.Email = "ana@example.com"
	if err := db.UpdateUser(ctx, u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("UpdateUser to a taken email: %v", err)
	}
	if err := db.UpdateUser(ctx, user("usr_nope", "n@example.com", auth.RoleViewer, "")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateUser of an unknown user: %v", err)
	}
	if err := db.SetPasswordHash(ctx, "usr_3", "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetUser(ctx, "usr_3"); got.PasswordHash != "$argon2id$new" {
		t.Fatalf("SetPasswordHash did not stick: %q", got.PasswordHash)
	}
	if err := db.RecordLogin(ctx, "usr_nope", login); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RecordLogin of an unknown user: %v", err)
	}

	now := time.Now()
	if err := db.CreateSession(ctx, auth.Session{ID: "s1", UserID: "usr_2", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "usr_2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetUser(ctx, "usr_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after DeleteUser: %v", err)
	}
	if _, err := db.GetSession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted user's session survived: %v", err)
	}
	if got, _ := db.ListUsers(ctx, "search"); len(got) != 0 {
		t.Fatalf("the deleted user is still a member: %+v", got)
	}
	if err := db.DeleteUser(ctx, "usr_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteUser twice: %v", err)
	}
}

func testTeamMembers(t *testing.T, db *store.DB) {
	ctx := t.Context()
	for _, u := range []auth.User{
		user("usr_free", "free@example.com", auth.RoleNone, ""),
		user("usr_global", "global@example.com", auth.RoleViewer, ""),
		user("usr_pay", "pay@example.com", auth.RoleDeveloper, "payments"),
	} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, team, user string
		role             auth.Role
		want             error
	}{
		{"free user joins", "search", "usr_free", auth.RoleViewer, nil},
		{"member's role changes", "search", "usr_free", auth.RoleTeamAdmin, nil},
		{"global user cannot join", "search", "usr_global", auth.RoleViewer, store.ErrConflict},
		{"another team's member cannot join", "search", "usr_pay", auth.RoleViewer, store.ErrConflict},
		{"unknown user", "search", "usr_nope", auth.RoleViewer, store.ErrNotFound},
		{"admin is not a team role", "search", "usr_free", auth.RoleAdmin, store.ErrInvalid},
		{"no team", "", "usr_free", auth.RoleViewer, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := db.AddTeamMember(ctx, tc.team, tc.user, tc.role)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("AddTeamMember error = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (u.Team != tc.team || u.Role != tc.role) {
				t.Fatalf("AddTeamMember returned %+v", u)
			}
		})
	}
	if err := db.RemoveTeamMember(ctx, "payments", "usr_free"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RemoveTeamMember from the wrong team: %v", err)
	}
	if err := db.RemoveTeamMember(ctx, "search", "usr_free"); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.GetUser(ctx, "usr_free"); u.Role != auth.RoleNone || u.Team != "" {
		t.Fatalf("a removed member has role %q in team %q, want none", u.Role, u.Team)
	}
	ids, err := db.RemoveTeamMembers(ctx, "payments")
	if err != nil || !slices.Equal(ids, []string{"usr_pay"}) {
		t.Fatalf("RemoveTeamMembers = %v, %v", ids, err)
	}
	if u, _ := db.GetUser(ctx, "usr_pay"); u.Role != auth.RoleNone {
		t.Fatalf("after the team went, the member has role %q", u.Role)
	}
	if u, _ := db.GetUser(ctx, "usr_global"); u.Role != auth.RoleViewer {
		t.Fatalf("a global user lost its role: %q", u.Role)
	}
}

func testSessions(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if err := db.CreateUser(ctx, user("usr_1", "ana@example.com", auth.RoleAdmin, "")); err != nil {
		t.Fatal(err)
	}
	in := auth.Session{ID: "sess-hash-1", UserID: "usr_1", CreatedAt: base, LastSeenAt: base, ExpiresAt: base.Add(24 * time.Hour),
		ClientIP: "203.0.113.7", UserAgent: "Firefox"}
	if err := db.CreateSession(ctx, in); err != nil {
		t.Fatal(err)
	}
	want := in
	want.CreatedAt, want.LastSeenAt, want.ExpiresAt = stored(base), stored(base), stored(base.Add(24*time.Hour))
	if got, err := db.GetSession(ctx, "sess-hash-1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetSession =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	if err := db.CreateSession(ctx, in); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateSession twice: %v", err)
	}
	if err := db.CreateSession(ctx, auth.Session{ID: "x", UserID: "usr_nope", ExpiresAt: base}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateSession for an unknown user: %v", err)
	}
	if err := db.TouchSession(ctx, "sess-hash-1", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSession(ctx, "sess-hash-1", base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetSession(ctx, "sess-hash-1"); !got.LastSeenAt.Equal(stored(base.Add(time.Hour))) {
		t.Fatalf("last use %v: moved backwards or not at all", got.LastSeenAt)
	}
	if err := db.TouchSession(ctx, "nope", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchSession(unknown): %v", err)
	}
	// Ended sessions are swept: one idle, one past its end, one live.
	for _, s := range []auth.Session{
		{ID: "idle", UserID: "usr_1", CreatedAt: base, LastSeenAt: base.Add(-3 * time.Hour), ExpiresAt: base.Add(time.Hour)},
		{ID: "over", UserID: "usr_1", CreatedAt: base, LastSeenAt: base, ExpiresAt: base.Add(-time.Second)},
	} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.DeleteSessionsIdleSince(ctx, base.Add(-2*time.Hour), base)
	if err != nil || n != 2 {
		t.Fatalf("DeleteSessionsIdleSince = %d, %v; want 2", n, err)
	}
	if _, err := db.GetSession(ctx, "sess-hash-1"); err != nil {
		t.Fatalf("the live session was swept: %v", err)
	}
	if err := db.CreateSession(ctx, auth.Session{ID: "second", UserID: "usr_1", ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteUserSessions(ctx, "usr_1"); err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 2", n, err)
	}
	if err := db.DeleteSession(ctx, "sess-hash-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteSession after DeleteUserSessions: %v", err)
	}
}

func testTokens(t *testing.T, db *store.DB) {
	ctx := t.Context()
	exp, used := base.Add(90*24*time.Hour), base.Add(time.Minute)
	full := auth.Token{ID: "tok_1", Name: "ci", Role: auth.RoleDeveloper, Team: "payments", Prefix: "hgt-AbCdEf", Hash: "h1",
		CreatedBy: "user:ana@example.com", CreatedAt: base, ExpiresAt: &exp}
	shop := auth.Token{ID: "tok_2", Name: "shop", Role: auth.RoleConsumer, Consumer: "web-shop", Prefix: "hgt-GhIjKl", Hash: "h2",
		CreatedBy: "admin-token", CreatedAt: base.Add(time.Second)}
	for _, tk := range []auth.Token{full, shop} {
		if err := db.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		tok  auth.Token
		want error
	}{
		{"same id", auth.Token{ID: "tok_1", Name: "x", Role: auth.RoleViewer, Hash: "h9"}, store.ErrConflict},
		{"same hash", auth.Token{ID: "tok_9", Name: "x", Role: auth.RoleViewer, Hash: "h1"}, store.ErrConflict},
		{"no role", auth.Token{ID: "tok_8", Name: "x", Hash: "h8"}, store.ErrInvalid},
		{"team_admin without team", auth.Token{ID: "tok_7", Name: "x", Role: auth.RoleTeamAdmin, Hash: "h7"}, store.ErrInvalid},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			if err := db.CreateToken(ctx, tc.tok); !errors.Is(err, tc.want) {
				t.Fatalf("CreateToken error = %v, want %v", err, tc.want)
			}
		})
	}
	if err := db.TouchToken(ctx, "tok_1", used); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchToken(ctx, "tok_1", base); err != nil {
		t.Fatal(err)
	}
	want := full
	e, u := stored(exp), stored(used)
	want.CreatedAt, want.ExpiresAt, want.LastUsedAt = stored(base), &e, &u
	if got, err := db.GetTokenByHash(ctx, "h1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetTokenByHash =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	if got, err := db.GetToken(ctx, "tok_2"); err != nil || got.Consumer != "web-shop" || got.Role != auth.RoleConsumer {
		t.Fatalf("GetToken = %+v, %v", got, err)
	}
	if _, err := db.GetTokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTokenByHash(unknown): %v", err)
	}
	if err := db.RevokeToken(ctx, "tok_2"); err != nil {
		t.Fatal(err)
	}
	first, _ := db.GetToken(ctx, "tok_2")
	if first.RevokedAt == nil {
		t.Fatal("RevokeToken did not record a time")
	}
	if err := db.RevokeToken(ctx, "tok_2"); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if again, _ := db.GetToken(ctx, "tok_2"); !again.RevokedAt.Equal(*first.RevokedAt) {
		t.Fatal("revoking twice moved the revocation time")
	}
	if err := db.RevokeToken(ctx, "tok_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeToken(unknown): %v", err)
	}
	if err := db.TouchToken(ctx, "tok_nope", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchToken(unknown): %v", err)
	}
	list, err := db.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "tok_1" || list[1].RevokedAt == nil {
		t.Fatalf("ListTokens = %+v, %v", list, err)
	}
}

func testAudit(t *testing.T, db *store.DB) {
	ctx := t.Context()
	entry := func(i int, actor, action, target, team string) auth.AuditEntry {
		return auth.AuditEntry{Time: base.Add(time.Duration(i) * time.Second), Actor: actor, Action: action, Target: target, Team: team,
			Summary: fmt.Sprintf("entry %d", i), Diff: "+ consumer x\n~ consumer y: team: a -> b", ClientIP: "203.0.113.7", RequestID: fmt.Sprintf("req-%d", i)}
	}
	in := []auth.AuditEntry{
		entry(0, "config-file", "config.apply", "config", ""),
		entry(1, "user:ana@example.com", "consumer.create", "consumer:web-shop", "payments"),
		entry(2, "user:ana@example.com", "consumer.delete", "consumer:web-shop", "payments"),
		entry(3, "token:ci", "key.create", "key:key_1", "payments"),
		entry(4, "anonymous", "login.failed", "user:bob@example.com", ""),
		entry(5, "user:ana@example.com", "consumers.extra", "consumer:other", "search"),
	}
	var kept []auth.AuditEntry
	for _, e := range in {
		got, err := db.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == "" || !got.Time.Equal(stored(e.Time)) {
			t.Fatalf("AppendAudit returned %+v", got)
		}
		kept = append(kept, got)
	}
	if _, err := db.AppendAudit(ctx, kept[0]); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("appending an id twice: %v", err)
	}
	if _, err := db.AppendAudit(ctx, auth.AuditEntry{Action: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an entry without an actor: %v", err)
	}
	ids := func(p auth.AuditPage) []string {
		var out []string
		for _, e := range p.Entries {
			out = append(out, e.Summary)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    auth.AuditFilter
		want []string
	}{
		{"all, newest first", auth.AuditFilter{}, []string{"entry 5", "entry 4", "entry 3", "entry 2", "entry 1", "entry 0"}},
		{"actor", auth.AuditFilter{Actor: "user:ana@example.com"}, []string{"entry 5", "entry 2", "entry 1"}},
		{"exact action", auth.AuditFilter{Action: "consumer.create"}, []string{"entry 1"}},
		{"action prefix stops at the dot", auth.AuditFilter{Action: "consumer."}, []string{"entry 2", "entry 1"}},
		{"target", auth.AuditFilter{Target: "consumer:web-shop"}, []string{"entry 2", "entry 1"}},
		{"team", auth.AuditFilter{Team: "payments"}, []string{"entry 3", "entry 2", "entry 1"}},
		{"time range", auth.AuditFilter{Since: base.Add(time.Second), Until: base.Add(3 * time.Second)}, []string{"entry 2", "entry 1"}},
		{"nothing", auth.AuditFilter{Actor: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := db.ListAudit(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); !slices.Equal(got, tc.want) {
				t.Fatalf("ListAudit = %v, want %v", got, tc.want)
			}
		})
	}
	full, _ := db.ListAudit(ctx, auth.AuditFilter{Target: "key:key_1"})
	if len(full.Entries) != 1 || !reflect.DeepEqual(full.Entries[0], kept[3]) {
		t.Fatalf("read back %+v, want %+v", full.Entries, kept[3])
	}
	// Pages of two cover everything once, in order.
	var got []string
	f := auth.AuditFilter{Limit: 2}
	for range 10 {
		p, err := db.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(p)...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if want := []string{"entry 5", "entry 4", "entry 3", "entry 2", "entry 1", "entry 0"}; !slices.Equal(got, want) {
		t.Fatalf("paging gave %v, want %v", got, want)
	}
	if _, err := db.ListAudit(ctx, auth.AuditFilter{Cursor: "not a cursor"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a foreign cursor: %v", err)
	}
}

// testAuditConcurrent appends from many goroutines: every entry lands once.
func testAuditConcurrent(t *testing.T, db *store.DB) {
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := db.AppendAudit(t.Context(), auth.AuditEntry{Actor: "token:ci", Action: "key.create", Target: fmt.Sprintf("key:%d", i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := db.ListAudit(t.Context(), auth.AuditFilter{Limit: 500})
	if err != nil || len(p.Entries) != n {
		t.Fatalf("%d entries listed, %v; want %d", len(p.Entries), err, n)
	}
}

// testCallsOf checks the team-scoped call listing against a filter of all
// calls: the same calls, in the same order, over pages of every size.
func testCallsOf(t *testing.T, db *store.DB) {
	ctx := t.Context()
	consumers := []string{"web-shop", "mobile", "crawler", ""}
	services := []string{"orders-api", "search-api", ""}
	var recs []calllog.Record
	for i := range 60 {
		recs = append(recs, calllog.Record{
			ID:       fmt.Sprintf("req-%02d", i),
			Time:     base.Add(time.Duration(i/3) * time.Second), // three calls share each instant
			Consumer: consumers[i%len(consumers)], Service: services[i%len(services)],
			Endpoint: "/v1/chat/completions", Model: []string{"a", "b"}[i%2], Status: 200,
		})
	}
	if err := db.InsertCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
	scope := store.CallScope{Consumers: []string{"web-shop", "mobile", "mobile"}, Services: []string{"orders-api"}}
	in := func(r calllog.Record) bool {
		return slices.Contains(scope.Consumers, r.Consumer) || slices.Contains(scope.Services, r.Service)
	}
	for _, tc := range []struct {
		name string
		f    calllog.Filter
		keep func(r calllog.Record) bool
	}{
		{"everything in scope", calllog.Filter{}, func(calllog.Record) bool { return true }},
		{"one model", calllog.Filter{Model: "a"}, func(r calllog.Record) bool { return r.Model == "a" }},
		{"a consumer in scope", calllog.Filter{Consumer: "mobile"}, func(r calllog.Record) bool { return r.Consumer == "mobile" }},
		{"a consumer out of scope calling a service in scope", calllog.Filter{Consumer: "crawler"}, func(r calllog.Record) bool { return r.Consumer == "crawler" }},
		{"a service", calllog.Filter{Service: "orders-api"}, func(r calllog.Record) bool { return r.Service == "orders-api" }},
		{"a service out of scope", calllog.Filter{Service: "search-api"}, func(r calllog.Record) bool { return r.Service == "search-api" }},
	} {
		var want []string
		for i := len(recs) - 1; i >= 0; i-- { // newest first; equal times by id descending
			if in(recs[i]) && tc.keep(recs[i]) {
				want = append(want, recs[i].ID)
			}
		}
		for _, limit := range []int{1, 2, 7, 50} {
			t.Run(fmt.Sprintf("%s, pages of %d", tc.name, limit), func(t *testing.T) {
				f := tc.f
				f.Limit = limit
				var got []string
				for range 200 {
					p, err := db.ListCallsOf(ctx, f, scope)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Calls) > limit {
						t.Fatalf("a page of %d calls, limit %d", len(p.Calls), limit)
					}
					for _, c := range p.Calls {
						got = append(got, c.ID)
					}
					if p.Next == "" {
						break
					}
					f.Cursor = p.Next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got %v\nwant %v", got, want)
				}
			})
		}
	}
	if p, err := db.ListCallsOf(ctx, calllog.Filter{}, store.CallScope{}); err != nil || len(p.Calls) != 0 || p.Next != "" {
		t.Fatalf("an empty scope listed %d calls, %v", len(p.Calls), err)
	}
	if _, err := db.ListCallsOf(ctx, calllog.Filter{Cursor: "@@"}, scope); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a foreign cursor: %v", err)
	}
}
