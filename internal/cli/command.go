package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// command is what the client subcommands of services, subscriptions,
// catalog and keys rotate share: their flags (every one takes --json),
// the positional arguments they expect, the admin API client and how they
// report: a table by default, the API's JSON with --json, the API's
// message on stderr with exit 1, a usage error with exit 2.
type command struct {
	name           string // as in messages: "services publish"
	use            string // the usage line after "hypergate "
	fs             *flag.FlagSet
	asJSON         bool
	stdout, stderr io.Writer
	api            *client
}

func newCommand(name, use string, stdout, stderr io.Writer) *command {
	c := &command{name: name, use: use, stdout: stdout, stderr: stderr}
	c.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.fs.BoolVar(&c.asJSON, "json", false, "print the admin API's JSON answer instead of a table")
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hypergate %s\n", use)
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses args, flags and positional arguments in any order, checks
// that there are npos positional arguments and connects to the admin API.
// When ok is false the command ends with code.
func (c *command) parse(args []string, npos int) (pos []string, code int, ok bool) {
	pos, err := parseInterspersed(c.fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, 0, false
	case err != nil:
		return nil, 2, false
	case len(pos) != npos:
		fmt.Fprintf(c.stderr, "usage: hypergate %s\n", c.use)
		return nil, 2, false
	}
	if c.api, err = newClient(); err != nil {
		fmt.Fprintf(c.stderr, "hypergate %s: %v\n", c.name, err)
		return nil, 2, false
	}
	return pos, 0, true
}

// parseInterspersed parses args with fs, letting flags follow positional
// arguments ("rollback orders-api 1 -m why"), which the flag package
// alone stops at; it returns the positional arguments. After "--" every
// argument is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if stop := len(args) - len(rest) - 1; stop >= 0 && args[stop] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a misuse of the command: exit 2.
func (c *command) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "hypergate %s: %s\n", c.name, fmt.Sprintf(format, a...))
	return 2
}

// fail reports a refusal or failure of the admin API: exit 1.
func (c *command) fail(err error) int {
	fmt.Fprintf(c.stderr, "hypergate %s: %v\n", c.name, err)
	return 1
}

// send calls the admin API with in as a JSON body (none when nil), decodes
// the answer into out (when not nil) and returns it as it came.
func (c *command) send(method, path string, in, out any) ([]byte, error) {
	var body []byte
	var ct string
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, err
		}
		ct = "application/json"
	}
	var raw json.RawMessage
	if err := c.api.do(method, path, ct, body, &raw); err != nil {
		return nil, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decoding the admin API's answer: %w", err)
		}
	}
	return raw, nil
}

// printJSON writes the API's answer indented, for --json.
func (c *command) printJSON(raw []byte) int {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	_, _ = c.stdout.Write(buf.Bytes())
	return 0
}

// table starts a table on stdout with the given header columns.
func (c *command) table(columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	return tw
}

// orDash stands in for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a free-text cell on its line and short enough for a table.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
