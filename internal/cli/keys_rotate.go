package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/config"
)

// keysRotate replaces a consumer's key with a new one, shown once, and
// lets the old one work for a grace period.
func keysRotate(args []string, stdout, stderr io.Writer) int {
	c := newCommand("keys rotate", "keys rotate --consumer NAME ID [--grace 24h]", stdout, stderr)
	consumer := c.fs.String("consumer", "", "the consumer the key belongs to")
	grace := c.fs.String("grace", "", "how long the old key keeps working, e.g. 1h or 7d; 0s ends it at once (default 24h)")
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	if *consumer == "" {
		return c.usageError("--consumer is required")
	}
	body := map[string]string{}
	if *grace != "" {
		if _, err := config.ParseDuration(*grace); err != nil {
			return c.usageError("--grace: %v", err)
		}
		body["grace"] = *grace
	}
	var out struct {
		auth.Key
		Secret   string   `json:"key"`
		Replaces auth.Key `json:"replaces"`
	}
	path := "/admin/v1/consumers/" + url.PathEscape(*consumer) + "/keys/" + url.PathEscape(pos[0]) + "/rotate"
	raw, err := c.send(http.MethodPost, path, body, &out)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	until := "now"
	if out.Replaces.ExpiresAt != nil {
		until = out.Replaces.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(stderr, "key %s replaces key %s of consumer %q, which works until %s; the new key is shown only this once:\n",
		out.ID, out.Replaces.ID, *consumer, until)
	fmt.Fprintln(stdout, out.Secret)
	return 0
}
