package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// readPassword reads a new password: from a terminal, twice with the echo
// off; otherwise the first line of standard input, so that scripts can pipe
// it. Never from a flag, which would leave it in the shell's history and
// the process list.
func readPassword(stderr io.Writer) (string, error) {
	if f := os.Stdin; isTerminal(f) {
		fmt.Fprint(stderr, "Password (12 characters or more): ")
		pw, err := readHidden(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Password again: ")
		again, err := readHidden(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the passwords differ")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input (pipe it in, or run from a terminal to be prompted)")
	}
	return pw, nil
}

// userView is a user as the admin API shows it.
type userView struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Team        string     `json:"team"`
	Consumer    string     `json:"consumer"`
	Disabled    bool       `json:"disabled"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

func users(args []string, stdout, stderr io.Writer) int {
	const use = "usage: hypergate users create --email EMAIL --role ROLE [--team TEAM] [--consumer NAME] [--name NAME] | list [--team TEAM]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return 2
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's sign-in address")
	name := fs.String("name", "", "the user's display name")
	role := fs.String("role", "", "admin, team_admin, developer, reviewer, viewer or consumer")
	team := fs.String("team", "", "hold the role as a member of this team")
	consumer := fs.String("consumer", "", "the consumer a consumer-role user reads")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate users: %v\n", err)
		return 2
	}
	switch args[0] {
	case "create":
		if *email == "" || *role == "" {
			fmt.Fprint(stderr, "hypergate users create: --email and --role are required\n")
			return 2
		}
		pw, err := readPassword(stderr)
		if err != nil {
			fmt.Fprintf(stderr, "hypergate users create: %v\n", err)
			return 2
		}
		body, _ := json.Marshal(map[string]string{"email": *email, "name": *name, "role": *role, "team": *team, "consumer": *consumer, "password": pw})
		var out userView
		if err := c.do(http.MethodPost, "/admin/v1/users", "application/json", body, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate users create: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "user %s created: %s as %s\n", out.ID, out.Email, binding(out.Role, out.Team, out.Consumer))
		return 0
	case "list":
		var out struct {
			Data []userView `json:"data"`
		}
		if err := c.do(http.MethodGet, "/admin/v1/users?team="+url.QueryEscape(*team), "", nil, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate users list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tLAST SIGN-IN\tSTATE")
		for _, u := range out.Data {
			last, state := "never", "active"
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format(time.RFC3339)
			}
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, binding(u.Role, u.Team, u.Consumer), last, state)
		}
		tw.Flush()
		return 0
	}
	fmt.Fprintf(stderr, "hypergate users: unknown subcommand %q (create, list)\n", args[0])
	return 2
}

func binding(role, team, consumer string) string {
	if role == "" {
		role = "no role"
	}
	switch {
	case team != "":
		return role + " of team " + team
	case consumer != "":
		return role + " of consumer " + consumer
	}
	return role
}

// tokenView is an API token as the admin API shows it.
type tokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Team       string     `json:"team"`
	Consumer   string     `json:"consumer"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Secret     string     `json:"token"`
}

func tokens(args []string, stdout, stderr io.Writer) int {
	const use = "usage: hypergate tokens create --name NAME --role ROLE [--team TEAM] [--consumer NAME] [--expires 90d] | list | revoke ID\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return 2
	}
	fs := flag.NewFlagSet("tokens "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "what the token is for, e.g. ci-deploy")
	role := fs.String("role", "", "admin, team_admin, developer, reviewer, viewer or consumer")
	team := fs.String("team", "", "scope the role to this team")
	consumer := fs.String("consumer", "", "the consumer a consumer-role token reads")
	expires := fs.String("expires", "", "how long the token works, e.g. 720h or 90d (default: no expiry)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate tokens: %v\n", err)
		return 2
	}
	switch args[0] {
	case "create":
		if *name == "" || *role == "" {
			fmt.Fprint(stderr, "hypergate tokens create: --name and --role are required\n")
			return 2
		}
		body, _ := json.Marshal(map[string]string{"name": *name, "role": *role, "team": *team, "consumer": *consumer, "expires_in": *expires})
		var out tokenView
		if err := c.do(http.MethodPost, "/admin/v1/tokens", "application/json", body, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate tokens create: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "token %s created as %s; it is shown only this once:\n", out.ID, binding(out.Role, out.Team, out.Consumer))
		fmt.Fprintln(stdout, out.Secret)
		return 0
	case "list":
		var out struct {
			Data []tokenView `json:"data"`
		}
		if err := c.do(http.MethodGet, "/admin/v1/tokens", "", nil, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate tokens list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tPREFIX\tEXPIRES\tLAST USED\tSTATE")
		now := time.Now()
		for _, t := range out.Data {
			exp, used, state := "never", "never", "active"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.Format(time.RFC3339)
				if !now.Before(*t.ExpiresAt) {
					state = "expired"
				}
			}
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.Format(time.RFC3339)
			}
			if t.RevokedAt != nil {
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, binding(t.Role, t.Team, t.Consumer), t.Prefix, exp, used, state)
		}
		tw.Flush()
		return 0
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: hypergate tokens revoke ID")
			return 2
		}
		if err := c.do(http.MethodDelete, "/admin/v1/tokens/"+url.PathEscape(fs.Arg(0)), "", nil, nil); err != nil {
			fmt.Fprintf(stderr, "hypergate tokens revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "token %s revoked\n", fs.Arg(0))
		return 0
	}
	fmt.Fprintf(stderr, "hypergate tokens: unknown subcommand %q (create, list, revoke)\n", args[0])
	return 2
}

func teams(args []string, stdout, stderr io.Writer) int {
	const use = "usage: hypergate teams list | create NAME [--description TEXT]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return 2
	}
	fs := flag.NewFlagSet("teams "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	desc := fs.String("description", "", "what the team does")
	// Flags may follow the name: parse around it.
	rest := args[1:]
	var name string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate teams: %v\n", err)
		return 2
	}
	type team struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Consumers   []string `json:"consumers"`
		Services    []string `json:"services"`
		Members     int      `json:"members"`
	}
	switch args[0] {
	case "create":
		if name == "" {
			fmt.Fprint(stderr, "usage: hypergate teams create NAME [--description TEXT]\n")
			return 2
		}
		body, _ := json.Marshal(map[string]string{"name": name, "description": *desc})
		var out team
		if err := c.do(http.MethodPost, "/admin/v1/teams", "application/json", body, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate teams create: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "team %s created\n", out.Name)
		return 0
	case "list":
		var out struct {
			Data []team `json:"data"`
		}
		if err := c.do(http.MethodGet, "/admin/v1/teams", "", nil, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate teams list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tMEMBERS\tCONSUMERS\tSERVICES\tDESCRIPTION")
		for _, t := range out.Data {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", t.Name, t.Members, orNone(t.Consumers), orNone(t.Services), t.Description)
		}
		tw.Flush()
		return 0
	}
	fmt.Fprintf(stderr, "hypergate teams: unknown subcommand %q (list, create)\n", args[0])
	return 2
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

func auditLog(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	actor := fs.String("actor", "", "only entries by this actor, e.g. user:ana@example.com, token:ci, admin-token")
	action := fs.String("action", "", "only this action, or every action under a prefix ending in '.', e.g. consumer.")
	target := fs.String("target", "", "only entries about this target, e.g. consumer:web-shop")
	team := fs.String("team", "", "only entries about this team's things")
	since := fs.String("since", "", "entries at or after this time (RFC 3339 or unix seconds)")
	until := fs.String("until", "", "entries before this time")
	limit := fs.Int("limit", 50, "entries per page (1 to 500)")
	cursor := fs.String("cursor", "", "continue from the cursor a previous page printed")
	diffs := fs.Bool("diff", false, "print each entry's diff under it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate audit: %v\n", err)
		return 2
	}
	q := url.Values{}
	for k, v := range map[string]string{"actor": *actor, "action": *action, "target": *target, "team": *team, "since": *since, "until": *until, "cursor": *cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(*limit))
	var out struct {
		Data []struct {
			Time     time.Time `json:"time"`
			Actor    string    `json:"actor"`
			Action   string    `json:"action"`
			Target   string    `json:"target"`
			Summary  string    `json:"summary"`
			Diff     string    `json:"diff"`
			ClientIP string    `json:"client_ip"`
		} `json:"data"`
		Next string `json:"next_cursor"`
	}
	if err := c.do(http.MethodGet, "/admin/v1/audit?"+q.Encode(), "", nil, &out); err != nil {
		fmt.Fprintf(stderr, "hypergate audit: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tTARGET\tFROM\tSUMMARY")
	for _, e := range out.Data {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Actor, e.Action, e.Target, e.ClientIP, e.Summary)
		if *diffs && e.Diff != "" {
			for _, line := range strings.Split(e.Diff, "\n") {
				fmt.Fprintf(tw, "\t\t\t\t\t  %s\n", line)
			}
		}
	}
	tw.Flush()
	if out.Next != "" {
		fmt.Fprintf(stderr, "more: hypergate audit --cursor %s\n", out.Next)
	}
	return 0
}
