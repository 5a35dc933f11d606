package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hypergate/hypergate/internal/catalog"
)

// The subscriptions commands are the approval flow of the admin API
// (internal/admin/subscriptions.go): a consumer's team, or the consumer
// itself, asks; the service's team approves or rejects, and may revoke
// later.

const subscriptionsUse = `subscriptions list [--state STATE] [--service NAME] [--consumer NAME]
       hypergate subscriptions request --consumer NAME --service NAME
       hypergate subscriptions approve ID [--reason TEXT]
       hypergate subscriptions reject ID --reason TEXT
       hypergate subscriptions revoke ID --reason TEXT`

func subscriptions(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: hypergate %s\n", subscriptionsUse)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return subscriptionsList(rest, stdout, stderr)
	case "request":
		return subscriptionsRequest(rest, stdout, stderr)
	case "approve", "reject", "revoke":
		return subscriptionsDecide(sub, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "hypergate subscriptions: unknown subcommand %q (list, request, approve, reject, revoke)\n", sub)
	return 2
}

func subscriptionsList(args []string, stdout, stderr io.Writer) int {
	c := newCommand("subscriptions list", "subscriptions list [--state STATE] [--service NAME] [--consumer NAME]", stdout, stderr)
	state := c.fs.String("state", "", "only pending, approved, rejected or revoked subscriptions")
	service := c.fs.String("service", "", "only subscriptions to this service")
	consumer := c.fs.String("consumer", "", "only this consumer's subscriptions")
	if _, code, ok := c.parse(args, 0); !ok {
		return code
	}
	q := url.Values{}
	for k, v := range map[string]string{"state": *state, "service": *service, "consumer": *consumer} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/admin/v1/subscriptions"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Data []catalog.Subscription `json:"data"`
	}
	raw, err := c.send(http.MethodGet, path, nil, &out)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	tw := c.table("ID", "CONSUMER", "SERVICE", "STATE", "SOURCE", "UPDATED", "BY", "REASON")
	for _, s := range out.Data {
		updated, by := "-", s.RequestedBy
		if !s.UpdatedAt.IsZero() {
			updated = s.UpdatedAt.Format(time.RFC3339)
		}
		if s.DecidedBy != "" {
			by = s.DecidedBy
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Consumer, s.Service, s.State, s.Source, updated, orDash(by), orDash(oneLine(s.Reason, 60)))
	}
	tw.Flush()
	return 0
}

func subscriptionsRequest(args []string, stdout, stderr io.Writer) int {
	c := newCommand("subscriptions request", "subscriptions request --consumer NAME --service NAME", stdout, stderr)
	consumer := c.fs.String("consumer", "", "the consumer (application) that is to call the service")
	service := c.fs.String("service", "", "the service to subscribe to")
	if _, code, ok := c.parse(args, 0); !ok {
		return code
	}
	if *consumer == "" || *service == "" {
		return c.usageError("--consumer and --service are required")
	}
	var s catalog.Subscription
	raw, err := c.send(http.MethodPost, "/admin/v1/subscriptions", map[string]string{"consumer": *consumer, "service": *service}, &s)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	switch s.State {
	case catalog.SubscriptionPending:
		fmt.Fprintf(stdout, "subscription %s of consumer %s to service %s is pending: an approver of the service's team decides ('hypergate subscriptions approve %s')\n",
			s.ID, s.Consumer, s.Service, s.ID)
	default:
		fmt.Fprintf(stdout, "subscription %s of consumer %s to service %s is %s\n", s.ID, s.Consumer, s.Service, s.State)
	}
	return 0
}

func subscriptionsDecide(action string, args []string, stdout, stderr io.Writer) int {
	use := "subscriptions " + action + " ID --reason TEXT"
	if action == "approve" {
		use = "subscriptions approve ID [--reason TEXT]"
	}
	c := newCommand("subscriptions "+action, use, stdout, stderr)
	reason := c.fs.String("reason", "", "why, shown to the consumer when a call is refused and sent to the service's webhook")
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	if action != "approve" && *reason == "" {
		return c.usageError("--reason is required: the consumer is told why")
	}
	var body any
	if *reason != "" {
		body = map[string]string{"reason": *reason}
	}
	var s catalog.Subscription
	raw, err := c.send(http.MethodPost, "/admin/v1/subscriptions/"+url.PathEscape(pos[0])+"/"+action, body, &s)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	switch s.State {
	case catalog.SubscriptionApproved:
		fmt.Fprintf(stdout, "subscription %s approved: consumer %s may call service %s\n", s.ID, s.Consumer, s.Service)
	default:
		fmt.Fprintf(stdout, "subscription %s %s: consumer %s may not call service %s (%s)\n", s.ID, s.State, s.Consumer, s.Service, s.Reason)
	}
	return 0
}
