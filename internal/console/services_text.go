package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
)

// How the services pages write definitions, diffs, policies and the admin
// API's validation errors for people to read.

func init() {
	funcs["policies"] = policySummary
	funcs["join"] = strings.Join
	funcs["pctnum"] = func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }
	funcs["weight"] = func(w *int) string {
		if w == nil {
			return "1"
		}
		return strconv.Itoa(*w)
	}
}

// fieldChange is one line of a definition diff, as config.Diff writes it,
// split for a table: Op is "+", "-" or "~"; Field is empty for the
// service as a whole.
type fieldChange struct {
	Op, Field, Old, New string
}

// OpName says what Op means, so that the diff does not rely on colour or
// on a sign alone.
func (l fieldChange) OpName() string {
	switch l.Op {
	case "+":
		return "added"
	case "-":
		return "removed"
	}
	return "changed"
}

// fieldChanges splits config.Diff lines of one service: "~ service orders:
// upstream.timeout: 30s -> 1m0s", "+ service orders".
func fieldChanges(lines []string) []fieldChange {
	out := make([]fieldChange, 0, len(lines))
	for _, l := range lines {
		op, rest, _ := strings.Cut(l, " ")
		d := fieldChange{Op: op}
		// rest is "service NAME" or "service NAME: field: old -> new".
		if _, change, ok := strings.Cut(rest, ": "); ok {
			field, values, _ := strings.Cut(change, ": ")
			d.Field = field
			d.Old, d.New, _ = strings.Cut(values, " -> ")
		}
		out = append(out, d)
	}
	return out
}

// serviceYAML writes a service definition as the declarative file writes
// it, without the file's "services:" list around it.
func serviceYAML(sv config.Service) (string, error) {
	b, err := config.ToYAML(&config.Config{Services: []config.Service{sv}})
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 || lines[0] != "services:" || !strings.HasPrefix(lines[1], "  - ") {
		return plainYAML(sv)
	}
	out := make([]string, 0, len(lines)-1)
	for i, l := range lines[1:] {
		prefix := "    "
		if i == 0 {
			prefix = "  - "
		}
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			// A line the list's indentation does not start (an empty line
			// in a block string): the plain encoding is safer.
			return plainYAML(sv)
		}
		out = append(out, rest)
	}
	return strings.Join(out, "\n") + "\n", nil
}

func plainYAML(sv config.Service) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(sv); err != nil {
		return "", fmt.Errorf("encoding service %q: %w", sv.Name, err)
	}
	return buf.String(), enc.Close()
}

// definitionYAML writes a stored definition as YAML.
func definitionYAML(def json.RawMessage) (string, error) {
	sv, err := catalog.DecodeDefinition(def)
	if err != nil {
		return "", err
	}
	return serviceYAML(sv)
}

// parseDefinition reads the draft editor's text, JSON (starting with "{")
// or YAML, into the JSON body of PUT …/draft. JSON is passed on as it is,
// for the admin API to check; YAML is read strictly, unknown keys being
// errors that name their line.
func parseDefinition(text string) (json.RawMessage, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the definition is empty")
	}
	if strings.HasPrefix(text, "{") {
		if !json.Valid([]byte(text)) {
			var v any
			err := json.Unmarshal([]byte(text), &v)
			return nil, fmt.Errorf("the definition is not valid JSON: %w", err)
		}
		return json.RawMessage(text), nil
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	var sv config.Service
	if err := dec.Decode(&sv); err != nil {
		return nil, fmt.Errorf("the definition is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	b, err := json.Marshal(sv)
	if err != nil {
		return nil, fmt.Errorf("encoding the definition: %w", err)
	}
	return b, nil
}

// problem is one of the admin API's validation errors, by field.
type problem struct{ Field, Msg string }

// servicePath is the start of a validation error about a service of the
// configuration: "services[3].routes[0].path: must start with /".
var servicePath = regexp.MustCompile(`^services\[\d+\]\.?([^:\s]*): (.*)$`)

// problems splits the admin API's error answer into one problem a line,
// each with the field of the service it is about (the whole configuration
// is validated, so paths start at its services list).
func problems(res *apiResult) []problem {
	var e apiError
	msg := res.message()
	if json.Unmarshal(res.Body, &e) == nil {
		msg = e.Error.Message
	}
	var out []problem
	for _, line := range strings.Split(msg, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if m := servicePath.FindStringSubmatch(line); m != nil {
			field := m[1]
			if field == "" {
				field = "(service)"
			}
			out = append(out, problem{Field: field, Msg: m[2]})
			continue
		}
		out = append(out, problem{Field: e.Error.Param, Msg: line})
	}
	return out
}

// policySummary writes a set of policies on one line.
func policySummary(p *config.Policies) string {
	if p == nil {
		return ""
	}
	var parts []string
	if rl := p.RateLimit; rl != nil {
		var r []string
		if rl.RequestsPerSecond > 0 {
			r = append(r, fmtNum(rl.RequestsPerSecond)+"/s")
		}
		if rl.RequestsPerMinute > 0 {
			r = append(r, fmtNum(rl.RequestsPerMinute)+"/min")
		}
		if rl.TokensPerMinute > 0 {
			r = append(r, strconv.FormatInt(rl.TokensPerMinute, 10)+" tokens/min")
		}
		parts = append(parts, "rate "+strings.Join(r, ", "))
	}
	if q := p.Quota; q != nil {
		var r []string
		for _, c := range []struct {
			n    int64
			unit string
		}{{q.RequestsPerDay, "requests/day"}, {q.RequestsPerMonth, "requests/month"}, {q.TokensPerDay, "tokens/day"}, {q.TokensPerMonth, "tokens/month"}} {
			if c.n > 0 {
				r = append(r, strconv.FormatInt(c.n, 10)+" "+c.unit)
			}
		}
		parts = append(parts, "quota "+strings.Join(r, ", "))
	}
	if b := p.Budget; b != nil {
		var r []string
		if b.USDPerDay > 0 {
			r = append(r, fmtUSD(b.USDPerDay)+"/day")
		}
		if b.USDPerMonth > 0 {
			r = append(r, fmtUSD(b.USDPerMonth)+"/month")
		}
		parts = append(parts, "budget "+strings.Join(r, ", "))
	}
	if ip := p.IP; ip != nil {
		parts = append(parts, fmt.Sprintf("IP allow %d, deny %d", len(ip.Allow), len(ip.Deny)))
	}
	if p.MaxBodyBytes > 0 {
		parts = append(parts, "body ≤ "+strconv.FormatInt(p.MaxBodyBytes, 10)+" B")
	}
	return strings.Join(parts, "; ")
}
