package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// withStdin runs f with text on standard input, through a pipe (not a
// terminal).
func withStdin(t *testing.T, text string, f func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.WriteString(text)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	f()
}

func TestReadPassword(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"a line", "correct horse battery staple\n", "correct horse battery staple", true},
		{"CRLF", "pw with crlf ending\r\n", "pw with crlf ending", true},
		{"no newline", "last line without newline", "last line without newline", true},
		{"only the first line", "first\nsecond\n", "first", true},
		{"nothing", "", "", false},
		{"empty line", "\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withStdin(t, tc.in, func() {
				got, err := readPassword(io.Discard)
				if (err == nil) != tc.ok || got != tc.want {
					t.Fatalf("readPassword = %q, %v; want %q (ok=%v)", got, err, tc.want, tc.ok)
				}
			})
		})
	}
}

// TestClientCommands runs the account commands against a recording
// server: what each sends, and that the password travels only in the body.
func TestClientCommands(t *testing.T) {
	var got []string
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.RequestURI())
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		bodies = append(bodies, m)
		if r.Header.Get("Authorization") != "Bearer hga-cli-test-token-000" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/admin/v1/users":
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"usr_1","email":"ana@example.com","role":"developer","team":"payments"}`)
		case r.Method == "POST" && r.URL.Path == "/admin/v1/tokens":
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"tok_1","name":"ci","role":"viewer","prefix":"hgt-abcdef","token":"hgt-secret"}`)
		case r.Method == "POST" && r.URL.Path == "/admin/v1/teams":
			w.WriteHeader(409)
			io.WriteString(w, `{"error":{"code":"conflict","message":"team \"payments\" already exists"}}`)
		case r.Method == "DELETE":
			w.WriteHeader(204)
		default:
			io.WriteString(w, `{"data":[]}`)
		}
	}))
	defer srv.Close()
	t.Setenv("HYPERGATE_ADMIN_URL", srv.URL)
	t.Setenv("HYPERGATE_ADMIN_TOKEN", "hga-cli-test-token-000")
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		req   string
		out   string
	}{
		{"users create", []string{"users", "create", "--email", "ana@example.com", "--role", "developer", "--team", "payments"},
			"a long enough password\n", 0, "POST /admin/v1/users", "usr_1 created: ana@example.com as developer of team payments"},
		{"users create without a role", []string{"users", "create", "--email", "ana@example.com"}, "", 2, "", ""},
		{"users list", []string{"users", "list", "--team", "payments"}, "", 0, "GET /admin/v1/users?team=payments", "ID"},
		{"tokens create", []string{"tokens", "create", "--name", "ci", "--role", "viewer", "--expires", "90d"}, "", 0, "POST /admin/v1/tokens", "hgt-secret"},
		{"tokens list", []string{"tokens", "list"}, "", 0, "GET /admin/v1/tokens", "PREFIX"},
		{"tokens revoke", []string{"tokens", "revoke", "tok_1"}, "", 0, "DELETE /admin/v1/tokens/tok_1", "revoked"},
		{"tokens revoke without an id", []string{"tokens", "revoke"}, "", 2, "", ""},
		{"teams create, conflict", []string{"teams", "create", "payments"}, "", 1, "POST /admin/v1/teams", "already exists"},
		{"teams list", []string{"teams", "list"}, "", 0, "GET /admin/v1/teams", "NAME"},
		{"audit", []string{"audit", "--actor", "admin-token", "--action", "user."}, "", 0, "GET /admin/v1/audit?action=user.&actor=admin-token&limit=50", "ACTION"},
		{"unknown subcommand", []string{"tokens", "rotate"}, "", 2, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, bodies = nil, nil
			var out, errb bytes.Buffer
			var code int
			withStdin(t, tc.stdin, func() { code = Main(tc.args, &out, &errb) })
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			if tc.req != "" && (len(got) != 1 || got[0] != tc.req) {
				t.Fatalf("requests %v, want %s", got, tc.req)
			}
			if !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Fatalf("output %q lacks %q", out.String()+errb.String(), tc.out)
			}
		})
	}
	// The password went in the body, read from standard input.
	got, bodies = nil, nil
	withStdin(t, "piped password here\n", func() {
		Main([]string{"users", "create", "--email", "b@example.com", "--role", "viewer"}, io.Discard, io.Discard)
	})
	if len(bodies) != 1 || bodies[0]["password"] != "piped password here" || bodies[0]["role"] != "viewer" {
		t.Fatalf("body %v", bodies)
	}
}
