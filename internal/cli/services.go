package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
)

// The services commands drive a service's lifecycle through the admin API
// (internal/admin/services.go): a draft is saved and published as a new
// numbered release, an older release is published again by rollback, and
// the service is deprecated, then retired. Each of these is a
// configuration revision, as an apply of the declarative file is.

const servicesUse = `services list
       hypergate services get NAME
       hypergate services publish NAME [-f FILE] [-m MESSAGE] [--canary PERCENT]
       hypergate services releases NAME [--limit N] [--diff]
       hypergate services rollback NAME RELEASE [-m MESSAGE]
       hypergate services deprecate NAME [--sunset RFC3339] [-m MESSAGE]
       hypergate services retire NAME [-m MESSAGE]`

// serviceView is a service as GET /admin/v1/services shows it.
type serviceView struct {
	Service  config.Service `json:"service"`
	Release  int            `json:"release"`
	HasDraft bool           `json:"has_draft"`
}

// changeResult is the answer of the admin API's configuration changes
// (publish, rollback, deprecate, retire).
type changeResult struct {
	Changed  bool     `json:"changed"`
	Diff     []string `json:"diff"`
	Revision *struct {
		Number int64 `json:"number"`
	} `json:"revision"`
	Releases []catalog.Release `json:"releases"`
}

// release returns the release the change made of service name, if any.
func (r changeResult) release(name string) (catalog.Release, bool) {
	for _, rel := range r.Releases {
		if rel.Service == name {
			return rel, true
		}
	}
	return catalog.Release{}, false
}

func services(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: hypergate %s\n", servicesUse)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return servicesList(rest, stdout, stderr)
	case "get":
		return servicesGet(rest, stdout, stderr)
	case "publish":
		return servicesPublish(rest, stdout, stderr)
	case "releases":
		return servicesReleases(rest, stdout, stderr)
	case "rollback":
		return servicesRollback(rest, stdout, stderr)
	case "deprecate", "retire":
		return servicesLifecycle(sub, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "hypergate services: unknown subcommand %q (list, get, publish, releases, rollback, deprecate, retire)\n", sub)
	return 2
}

func servicePath(name string, more ...string) string {
	return "/admin/v1/services/" + url.PathEscape(name) + strings.Join(more, "")
}

func servicesList(args []string, stdout, stderr io.Writer) int {
	c := newCommand("services list", "services list", stdout, stderr)
	if _, code, ok := c.parse(args, 0); !ok {
		return code
	}
	var out struct {
		Data []serviceView `json:"data"`
	}
	raw, err := c.send(http.MethodGet, "/admin/v1/services", nil, &out)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	tw := c.table("NAME", "TEAM", "KIND", "STATE", "APPROVAL", "RELEASE", "DRAFT", "ROUTES")
	for _, v := range out.Data {
		sv := v.Service
		var paths []string
		for _, r := range sv.Routes {
			paths = append(paths, r.Path)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sv.Name, orDash(sv.Team), kindOf(sv), stateOf(sv), approvalOf(sv),
			releaseCell(v.Release), yesNo(v.HasDraft), orDash(strings.Join(paths, ",")))
	}
	tw.Flush()
	return 0
}

func kindOf(sv config.Service) string {
	if sv.Kind == "" {
		return config.KindREST
	}
	return sv.Kind
}

func stateOf(sv config.Service) string {
	if sv.State == "" {
		return config.StatePublished
	}
	return sv.State
}

func approvalOf(sv config.Service) string {
	switch {
	case sv.Public:
		return "public"
	case sv.Approval == "":
		return config.ApprovalAuto
	}
	return sv.Approval
}

func releaseCell(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// servicesGet prints the published definition as YAML, in the shape that
// services publish -f reads back, under comment lines saying which release
// it is.
func servicesGet(args []string, stdout, stderr io.Writer) int {
	c := newCommand("services get", "services get NAME", stdout, stderr)
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	var v serviceView
	raw, err := c.send(http.MethodGet, servicePath(pos[0]), nil, &v)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	def, err := serviceYAML(v.Service)
	if err != nil {
		return c.fail(err)
	}
	state := stateOf(v.Service)
	if v.Service.Sunset != nil {
		state += ", sunset " + v.Service.Sunset.UTC().Format(time.RFC3339)
	}
	if cn := v.Service.Canary; cn != nil {
		state += fmt.Sprintf(", release %d takes %s of the calls as a canary", cn.Release, percent(cn.Percent))
	}
	fmt.Fprintf(stdout, "# service %s: release %s, %s\n", v.Service.Name, releaseCell(v.Release), state)
	if v.HasDraft {
		fmt.Fprintf(stdout, "# a draft is saved: publish it with 'hypergate services publish %s'\n", v.Service.Name)
	}
	_, _ = stdout.Write(def)
	return 0
}

// serviceYAML writes one service's definition as YAML.
func serviceYAML(sv config.Service) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(sv); err != nil {
		return nil, fmt.Errorf("writing the definition as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing the definition as YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// draftJSON turns a draft file into the JSON body of PUT
// /admin/v1/services/{name}/draft. A JSON file goes as it is; YAML is
// decoded into a service definition first, so that an unknown or
// misspelt key is reported with its line before anything is sent. The
// gateway validates the rest.
func draftJSON(b []byte) ([]byte, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil, errors.New("the file is empty: it holds one service's definition, as 'hypergate services get NAME' prints it")
	}
	if t[0] == '{' {
		var probe any
		if err := json.Unmarshal(t, &probe); err != nil {
			return nil, fmt.Errorf("reading the JSON definition: %w", err)
		}
		return t, nil
	}
	// A whole declarative file is a common mistake: say what to do.
	var whole struct {
		Services any `yaml:"services"`
	}
	if yaml.Unmarshal(t, &whole) == nil && whole.Services != nil {
		return nil, errors.New("this is a declarative file (it has services:): give one service's definition, the entry under services:, or apply the whole file with 'hypergate apply -f'")
	}
	dec := yaml.NewDecoder(bytes.NewReader(t))
	dec.KnownFields(true)
	var sv config.Service
	if err := dec.Decode(&sv); err != nil {
		return nil, fmt.Errorf("reading the YAML definition: %w", err)
	}
	return json.Marshal(sv)
}

// readInput reads a file, or standard input for "-".
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func servicesPublish(args []string, stdout, stderr io.Writer) int {
	c := newCommand("services publish", "services publish NAME [-f FILE] [-m MESSAGE] [--canary PERCENT]", stdout, stderr)
	file := c.fs.String("f", "", "save this definition (YAML or JSON, '-' for standard input) as the draft first; without it, the draft saved before is published")
	message := c.fs.String("m", "", "a message recorded with the release")
	canary := c.fs.Float64("canary", 0, "publish the draft as a canary taking this percentage of the calls (above 0, below 100)")
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	name := pos[0]
	if *file != "" {
		b, err := readInput(*file)
		if err != nil {
			return c.usageError("%v", err)
		}
		def, err := draftJSON(b)
		if err != nil {
			return c.usageError("%s: %v", *file, err)
		}
		var d catalog.Draft
		if err := c.api.do(http.MethodPut, servicePath(name, "/draft"), "application/json", def, &d); err != nil {
			return c.fail(fmt.Errorf("saving the draft: %w", err))
		}
	}
	body := struct {
		Message       string  `json:"message,omitempty"`
		CanaryPercent float64 `json:"canary_percent,omitempty"`
	}{*message, *canary}
	var res changeResult
	raw, err := c.send(http.MethodPost, servicePath(name, "/publish"), body, &res)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	printDiff(stdout, res.Diff)
	rel, made := res.release(name)
	switch {
	case *canary != 0 && made:
		fmt.Fprintf(stdout, "release %d of service %s takes %s of the calls as a canary%s; promote it with 'hypergate services rollback %s %d'\n",
			rel.Number, name, percent(*canary), revisionNote(res), name, rel.Number)
	case res.Revision == nil:
		fmt.Fprintln(stdout, "no changes: the draft was the published definition (the draft is discarded)")
	case made:
		fmt.Fprintf(stdout, "published release %d of service %s%s\n", rel.Number, name, revisionNote(res))
	default:
		fmt.Fprintf(stdout, "published the draft of service %s%s\n", name, revisionNote(res))
	}
	return 0
}

func revisionNote(res changeResult) string {
	if res.Revision == nil {
		return ""
	}
	return fmt.Sprintf(" (configuration revision %d)", res.Revision.Number)
}

func printDiff(w io.Writer, diff []string) {
	for _, d := range diff {
		fmt.Fprintln(w, d)
	}
}

func servicesReleases(args []string, stdout, stderr io.Writer) int {
	c := newCommand("services releases", "services releases NAME [--limit N] [--diff]", stdout, stderr)
	limit := c.fs.Int("limit", 20, "releases to list, newest first")
	diffs := c.fs.Bool("diff", false, "print each release's changes under it")
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	var out struct {
		Data []catalog.Release `json:"data"`
	}
	raw, err := c.send(http.MethodGet, servicePath(pos[0], "/releases?limit=", strconv.Itoa(*limit)), nil, &out)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	// Which releases take the calls now: the published one, and a
	// canary's. A service since removed serves none.
	traffic := map[int]string{}
	var now serviceView
	if c.api.do(http.MethodGet, servicePath(pos[0]), "", nil, &now) == nil && now.Release != 0 {
		traffic[now.Release] = "all calls"
		if cn := now.Service.Canary; cn != nil {
			traffic[now.Release] = percent(100-cn.Percent) + " of calls"
			traffic[cn.Release] = percent(cn.Percent) + " (canary)"
		}
	}
	tw := c.table("RELEASE", "STATE", "TRAFFIC", "REVISION", "CREATED", "AUTHOR", "MESSAGE")
	for _, r := range out.Data {
		rev := "-"
		if r.Revision != 0 {
			rev = strconv.FormatInt(r.Revision, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.State, orDash(traffic[r.Number]), rev, r.CreatedAt.Format(time.RFC3339), r.Author, oneLine(r.Message, 60))
		if *diffs {
			for _, line := range r.Diff {
				fmt.Fprintf(tw, "\t\t\t\t\t\t  %s\n", line)
			}
		}
	}
	tw.Flush()
	return 0
}

// percent writes a share of the calls: "10%".
func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

func servicesRollback(args []string, stdout, stderr io.Writer) int {
	c := newCommand("services rollback", "services rollback NAME RELEASE [-m MESSAGE]", stdout, stderr)
	message := c.fs.String("m", "", "a message recorded with the new release")
	pos, code, ok := c.parse(args, 2)
	if !ok {
		return code
	}
	name := pos[0]
	n, err := strconv.Atoi(pos[1])
	if err != nil || n < 1 {
		return c.usageError("%q is not a release number (1 or more; 'hypergate services releases %s' lists them)", pos[1], name)
	}
	body := struct {
		Message string `json:"message,omitempty"`
	}{*message}
	var res changeResult
	raw, err := c.send(http.MethodPost, servicePath(name, "/releases/", strconv.Itoa(n), "/rollback"), body, &res)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	printDiff(stdout, res.Diff)
	rel, made := res.release(name)
	switch {
	case res.Revision == nil:
		fmt.Fprintf(stdout, "no changes: release %d of service %s is what is published\n", n, name)
	case made:
		fmt.Fprintf(stdout, "service %s rolled back to release %d, published again as release %d%s\n", name, n, rel.Number, revisionNote(res))
	default:
		fmt.Fprintf(stdout, "service %s rolled back to release %d%s\n", name, n, revisionNote(res))
	}
	return 0
}

func servicesLifecycle(sub string, args []string, stdout, stderr io.Writer) int {
	use := "services retire NAME [-m MESSAGE]"
	if sub == "deprecate" {
		use = "services deprecate NAME [--sunset RFC3339] [-m MESSAGE]"
	}
	c := newCommand("services "+sub, use, stdout, stderr)
	message := c.fs.String("m", "", "a message recorded with the release")
	var sunset *string
	if sub == "deprecate" {
		sunset = c.fs.String("sunset", "", "when the service is to stop answering, e.g. 2027-01-31T00:00:00Z (sent in the Sunset header)")
	}
	pos, code, ok := c.parse(args, 1)
	if !ok {
		return code
	}
	name := pos[0]
	body := struct {
		Message string     `json:"message,omitempty"`
		Sunset  *time.Time `json:"sunset,omitempty"`
	}{Message: *message}
	if sunset != nil && *sunset != "" {
		t, err := time.Parse(time.RFC3339, *sunset)
		if err != nil {
			return c.usageError("--sunset %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", *sunset)
		}
		body.Sunset = &t
	}
	var res changeResult
	raw, err := c.send(http.MethodPost, servicePath(name, "/", sub), body, &res)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	printDiff(stdout, res.Diff)
	switch {
	case res.Revision == nil:
		fmt.Fprintf(stdout, "no changes: service %s was already %sd\n", name, sub)
	case sub == "retire":
		fmt.Fprintf(stdout, "service %s is retired: its routes answer 410 Gone%s\n", name, revisionNote(res))
	case body.Sunset != nil:
		fmt.Fprintf(stdout, "service %s is deprecated, sunset %s: its answers carry Deprecation and Sunset headers%s\n",
			name, body.Sunset.UTC().Format(time.RFC3339), revisionNote(res))
	default:
		fmt.Fprintf(stdout, "service %s is deprecated: its answers carry a Deprecation header%s\n", name, revisionNote(res))
	}
	return 0
}

// catalogList lists the services the caller may subscribe to, and where
// the caller's consumers stand with each.
func catalogList(args []string, stdout, stderr io.Writer) int {
	c := newCommand("catalog", "catalog [--tag TAG] [--kind rest|ai] [--team TEAM]", stdout, stderr)
	tag := c.fs.String("tag", "", "only services with this tag")
	kind := c.fs.String("kind", "", "only rest or ai services")
	team := c.fs.String("team", "", "only this team's services")
	if _, code, ok := c.parse(args, 0); !ok {
		return code
	}
	q := url.Values{}
	for k, v := range map[string]string{"tag": *tag, "kind": *kind, "team": *team} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/admin/v1/catalog"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Data []catalog.Entry `json:"data"`
	}
	raw, err := c.send(http.MethodGet, path, nil, &out)
	if err != nil {
		return c.fail(err)
	}
	if c.asJSON {
		return c.printJSON(raw)
	}
	tw := c.table("NAME", "TEAM", "KIND", "STATE", "APPROVAL", "ACCESS", "TAGS", "DESCRIPTION")
	for _, e := range out.Data {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, orDash(e.Team), e.Kind, e.State, e.Approval, access(e),
			orNone(e.Tags), oneLine(e.Description, 60))
	}
	tw.Flush()
	return 0
}

// access says where the caller's consumers stand with a catalog entry:
// public, or each consumer's subscription state.
func access(e catalog.Entry) string {
	if e.Public {
		return "public"
	}
	var states []string
	for _, s := range e.Subscriptions {
		states = append(states, s.Consumer+":"+string(s.State))
	}
	return orNone(states)
}
