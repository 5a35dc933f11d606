package cli

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// analyticsCmd runs the analytics subcommands.
func analyticsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(stderr, "usage: hypergate analytics rebuild --from TIME [--to TIME]")
		return 2
	}
	return analyticsRebuild(args[1:], stdout, stderr)
}

// analyticsRebuild recomputes the rollups of a range from the raw records,
// after an outage of the writer, a migration, or to count history that
// predates a rollup column.
func analyticsRebuild(args []string, stdout, stderr io.Writer) int {
	c := newCommand("analytics rebuild", "analytics rebuild --from TIME [--to TIME]", stdout, stderr)
	from := c.fs.String("from", "", "start of the range: RFC 3339, a date (2026-11-01) or a duration back from now (7d, 12h)")
	to := c.fs.String("to", "", "end of the range, in the same forms (default now)")
	if _, code, ok := c.parse(args, 0); !ok {
		return code
	}
	now := time.Now().UTC()
	f, err := parseWhen(*from, now)
	if err != nil || *from == "" {
		return c.usageError("--from is required: RFC 3339, a date or a duration back from now (%v)", err)
	}
	t := now
	if *to != "" {
		if t, err = parseWhen(*to, now); err != nil {
			return c.usageError("--to: %v", err)
		}
	}
	body := map[string]string{"from": f.Format(time.RFC3339), "to": t.Format(time.RFC3339)}
	var res struct {
		From       time.Time `json:"from"`
		To         time.Time `json:"to"`
		Days       int       `json:"days"`
		DurationMS int64     `json:"duration_ms"`
	}
	raw, err := c.send(http.MethodPost, "/admin/v1/analytics/rebuild", body, &res)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	fmt.Fprintf(stdout, "rebuilt the rollups of %d day(s), %s to %s, in %d ms\n", res.Days,
		res.From.Format(time.DateOnly), res.To.Add(-time.Second).Format(time.DateOnly), res.DurationMS)
	return 0
}

// parseWhen reads a point in time: RFC 3339, a date (midnight UTC), or a
// duration back from now ("7d", "12h", as in the declarative file).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339, a date (2006-01-02) or a duration such as 7d", s)
	}
	return now.Add(-d.Std()), nil
}
