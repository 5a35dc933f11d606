package app_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/cli"
)

// runCLIAs runs the command line in-process against e with a token, the
// given text on standard input.
func runCLIAs(t *testing.T, e *env, token, stdin string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HYPERGATE_ADMIN_URL", e.admin)
	t.Setenv("HYPERGATE_ADMIN_TOKEN", token)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.WriteString(stdin)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	var out, errb bytes.Buffer
	code := cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAuthCLI creates the first admin user, a team, a member user and an
// API token from the command line, uses the token, revokes it, and reads
// the audit log.
func TestAuthCLI(t *testing.T) {
	e := start(t)
	const pw = "first admin passphrase"
	run := func(token, stdin string, want int, args ...string) string {
		t.Helper()
		code, out, errs := runCLIAs(t, e, token, stdin, args...)
		if code != want {
			t.Fatalf("hypergate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
		}
		return out + errs
	}
	out := run(adminToken, pw+"\n", 0, "users", "create", "--email", "root@example.com", "--role", "admin")
	if !strings.Contains(out, "root@example.com as admin") {
		t.Errorf("users create said %q", out)
	}
	if resp, b := e.login("root@example.com", pw); resp.StatusCode != 200 {
		t.Fatalf("the CLI's user cannot sign in: %d %s", resp.StatusCode, b)
	}
	run(adminToken, "short\n", 1, "users", "create", "--email", "x@example.com", "--role", "viewer")
	run(adminToken, "", 2, "users", "create", "--email", "x@example.com", "--role", "viewer")
	run(adminToken, "", 2, "users", "create", "--role", "viewer")

	run(adminToken, "", 0, "teams", "create", "payments", "--description", "Checkout")
	if out := run(adminToken, "", 0, "teams", "list"); !strings.Contains(out, "payments") || !strings.Contains(out, "Checkout") {
		t.Errorf("teams list: %q", out)
	}
	run(adminToken, "", 1, "teams", "create", "payments")
	run(adminToken, pw+"\n", 0, "users", "create", "--email", "dev@example.com", "--role", "developer", "--team", "payments")
	if out := run(adminToken, "", 0, "users", "list", "--team", "payments"); !strings.Contains(out, "developer of team payments") || strings.Contains(out, "root@") {
		t.Errorf("users list --team: %q", out)
	}

	code, secret, errs := runCLIAs(t, e, adminToken, "", "tokens", "create", "--name", "deploy", "--role", "developer", "--team", "payments", "--expires", "90d")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "hgt-") || !strings.Contains(errs, "shown only this once") {
		t.Fatalf("tokens create: %d %q %q", code, secret, errs)
	}
	// The new token drives the CLI within its rights.
	run(secret, "", 0, "teams", "list")
	run(secret, "", 1, "teams", "create", "growth")
	run(secret, "", 1, "tokens", "list")
	out = run(adminToken, "", 0, "tokens", "list")
	if !strings.Contains(out, "deploy") || !strings.Contains(out, "developer of team payments") {
		t.Errorf("tokens list: %q", out)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.adminDo("GET", "/admin/v1/tokens", "", &list)
	run(adminToken, "", 0, "tokens", "revoke", list.Data[0].ID)
	run(secret, "", 1, "teams", "list")

	out = run(adminToken, "", 0, "audit", "--action", "user.", "--diff")
	if strings.Count(out, "user.create") != 2 || !strings.Contains(out, "admin-token") {
		t.Errorf("audit --action user.: %q", out)
	}
	out = run(adminToken, "", 0, "audit", "--limit", "1")
	if !strings.Contains(out, "more: hypergate audit --cursor") {
		t.Errorf("audit --limit 1 gives no cursor: %q", out)
	}
	audit := run(adminToken, "", 0, "audit", "--limit", "500")
	if strings.Contains(audit, pw) || strings.Contains(audit, secret) {
		t.Error("the audit log shows a secret")
	}
}
