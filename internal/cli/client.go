package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"
)

// client talks to the admin API.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient() (*client, error) {
	base := strings.TrimRight(os.Getenv("HYPERGATE_ADMIN_URL"), "/")
	if base == "" {
		base = "http://127.0.0.1:8081"
	}
	tok := os.Getenv("HYPERGATE_ADMIN_TOKEN")
	if tok == "" {
		return nil, errors.New("HYPERGATE_ADMIN_TOKEN is not set: export the admin token printed at the gateway's first start")
	}
	return &client{base: base, token: tok, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiError is the admin API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends a request and decodes a JSON answer into out; a non-2xx answer
// becomes an error carrying the API's message.
func (c *client) do(method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if u, err := user.Current(); err == nil {
		host, _ := os.Hostname()
		req.Header.Set("X-Hypergate-Author", "cli:"+u.Username+"@"+host)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e apiError
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s (HTTP %d)", e.Error.Message, resp.StatusCode)
		}
		return fmt.Errorf("admin API answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decoding the admin API's answer: %w", err)
		}
	}
	return nil
}

type applyResult struct {
	Changed  bool     `json:"changed"`
	Diff     []string `json:"diff"`
	Revision *struct {
		Number int64 `json:"number"`
	} `json:"revision"`
}

func readFileFlag(name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*flag.FlagSet, []byte, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "the declarative YAML file ('-' for standard input)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, false
	}
	if *file == "" {
		fmt.Fprintf(stderr, "hypergate %s: -f FILE is required\n", name)
		return nil, nil, false
	}
	var b []byte
	var err error
	if *file == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hypergate %s: %v\n", name, err)
		return nil, nil, false
	}
	return fs, b, true
}

func apply(args []string, stdout, stderr io.Writer) int {
	var message string
	var dry bool
	_, body, ok := readFileFlag("apply", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&message, "m", "", "a message recorded with the revision")
		fs.BoolVar(&dry, "dry-run", false, "validate and show the diff without applying")
	})
	if !ok {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate apply: %v\n", err)
		return 2
	}
	q := "?message=" + url.QueryEscape(message)
	if dry {
		q += "&dry_run=true"
	}
	var res applyResult
	if err := c.do(http.MethodPut, "/admin/v1/config"+q, "application/yaml", body, &res); err != nil {
		fmt.Fprintf(stderr, "hypergate apply: %v\n", err)
		return 1
	}
	for _, d := range res.Diff {
		fmt.Fprintln(stdout, d)
	}
	switch {
	case !res.Changed:
		fmt.Fprintln(stdout, "no changes")
	case res.Revision != nil:
		fmt.Fprintf(stdout, "applied as revision %d\n", res.Revision.Number)
	default:
		fmt.Fprintln(stdout, "dry run: nothing applied")
	}
	return 0
}

func diff(args []string, stdout, stderr io.Writer) int {
	_, body, ok := readFileFlag("diff", args, stderr, nil)
	if !ok {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate diff: %v\n", err)
		return 2
	}
	var res applyResult
	if err := c.do(http.MethodPost, "/admin/v1/config/diff", "application/yaml", body, &res); err != nil {
		fmt.Fprintf(stderr, "hypergate diff: %v\n", err)
		return 2
	}
	if !res.Changed {
		fmt.Fprintln(stdout, "no drift: the live configuration matches the file")
		return 0
	}
	for _, d := range res.Diff {
		fmt.Fprintln(stdout, d)
	}
	return 1
}

func keys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: hypergate keys create --consumer NAME [--name NAME] | list [--consumer NAME] | revoke ID | rotate --consumer NAME ID [--grace 24h]\n")
		return 2
	}
	if args[0] == "rotate" {
		return keysRotate(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	consumer := fs.String("consumer", "", "the consumer the key belongs to")
	name := fs.String("name", "default", "a name that tells this key apart")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "hypergate keys: %v\n", err)
		return 2
	}
	switch args[0] {
	case "create":
		if *consumer == "" {
			fmt.Fprintln(stderr, "hypergate keys create: --consumer is required")
			return 2
		}
		body, _ := json.Marshal(map[string]string{"name": *name})
		var out struct {
			ID     string `json:"id"`
			Key    string `json:"key"`
			Prefix string `json:"prefix"`
		}
		if err := c.do(http.MethodPost, "/admin/v1/consumers/"+url.PathEscape(*consumer)+"/keys", "application/json", body, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate keys create: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "key %s created for consumer %q; it is shown only this once:\n", out.ID, *consumer)
		fmt.Fprintln(stdout, out.Key)
		return 0
	case "list":
		var out struct {
			Data []struct {
				ID        string     `json:"id"`
				Consumer  string     `json:"consumer"`
				Name      string     `json:"name"`
				Prefix    string     `json:"prefix"`
				CreatedAt time.Time  `json:"created_at"`
				RevokedAt *time.Time `json:"revoked_at"`
			} `json:"data"`
		}
		if err := c.do(http.MethodGet, "/admin/v1/keys?consumer="+url.QueryEscape(*consumer), "", nil, &out); err != nil {
			fmt.Fprintf(stderr, "hypergate keys list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCONSUMER\tNAME\tPREFIX\tCREATED\tSTATE")
		for _, k := range out.Data {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\n", k.ID, k.Consumer, k.Name, k.Prefix, k.CreatedAt.Format(time.RFC3339), state)
		}
		tw.Flush()
		return 0
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: hypergate keys revoke ID")
			return 2
		}
		if err := c.do(http.MethodDelete, "/admin/v1/keys/"+url.PathEscape(fs.Arg(0)), "", nil, nil); err != nil {
			fmt.Fprintf(stderr, "hypergate keys revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "key %s revoked\n", fs.Arg(0))
		return 0
	}
	fmt.Fprintf(stderr, "hypergate keys: unknown subcommand %q (create, list, revoke, rotate)\n", args[0])
	return 2
}
