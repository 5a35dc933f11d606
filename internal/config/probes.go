package config

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Probe limits and defaults.
const (
	// MinProbeInterval keeps probes from becoming a load of their own.
	MinProbeInterval = 5 * time.Second
	// DefaultProbeInterval is a probe's interval when unset.
	DefaultProbeInterval = time.Minute
	// DefaultProbeTimeout bounds one probe call when unset.
	DefaultProbeTimeout = 10 * time.Second
	// DefaultProbeMessage is the user message of a model probe without a
	// body.
	DefaultProbeMessage = "Reply with the word ok."
)

// Probe is a synthetic request the gateway sends to itself on a schedule,
// through its own data plane, to learn what users get before they say so.
// Its calls are recorded as synthetic (left out of analytics) and its
// results are listed by GET /admin/v1/probes.
//
// A probe targets either Model (a chat completion through the model's
// pipeline) or Path (a route of a service), not both.
type Probe struct {
	// Name identifies the probe; unique.
	Name string `yaml:"name" json:"name"`
	// Model is a model name: the probe posts a chat completion to
	// /v1/chat/completions, with Body when set, else one short user message.
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// Path is a data-plane path (with an optional query) that a service's
	// route takes, e.g. /orders/v1/health.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Method defaults to GET for a path and is POST for a model.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// Headers are sent with each probe call; a value is a literal or an
	// env:NAME reference.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is sent as is.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Interval between two runs; DefaultProbeInterval when unset, at least
	// MinProbeInterval.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Timeout bounds one run; DefaultProbeTimeout when unset, at most
	// Interval.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Consumer is whose key the probe presents, so that the consumer's
	// policies and allowed models apply as to its real calls. The consumer
	// must declare a key in the file. Empty sends no key, for routes that
	// need none.
	Consumer string `yaml:"consumer,omitempty" json:"consumer,omitempty"`
	// Assert is what a passing run looks like.
	Assert ProbeAssertions `yaml:"assert,omitempty" json:"assert"`
}

// ProbeAssertions are the checks a probe run must pass. A run with no
// assertions passes on any 2xx status.
type ProbeAssertions struct {
	// Status lists the statuses accepted: codes (200), classes (2xx) or
	// ranges (200-299). Default 2xx.
	Status []string `yaml:"status,omitempty" json:"status,omitempty"`
	// MaxLatency fails a run that takes longer.
	MaxLatency Duration `yaml:"max_latency,omitempty" json:"max_latency,omitempty"`
	// JSON checks values of the JSON response body.
	JSON []ProbeJSONAssertion `yaml:"json,omitempty" json:"json,omitempty"`
	// BodyContains fails a run whose response body does not contain it.
	BodyContains string `yaml:"body_contains,omitempty" json:"body_contains,omitempty"`
}

// ProbeJSONAssertion checks one value of a JSON response body.
type ProbeJSONAssertion struct {
	// Path is a GJSON path, e.g. choices.0.message.content.
	Path string `yaml:"path" json:"path"`
	// Equals, when set, is the value's text (a string's content, a
	// number's or a literal's JSON form).
	Equals *string `yaml:"equals,omitempty" json:"equals,omitempty"`
	// Exists, when set, says whether the path must exist.
	Exists *bool `yaml:"exists,omitempty" json:"exists,omitempty"`
}

// StatusRange is an inclusive range of HTTP statuses.
type StatusRange struct{ Min, Max int }

// Contains reports whether status is in r.
func (r StatusRange) Contains(status int) bool { return status >= r.Min && status <= r.Max }

// StatusRanges parses Status; the default is 2xx.
func (a ProbeAssertions) StatusRanges() ([]StatusRange, error) {
	if len(a.Status) == 0 {
		return []StatusRange{{200, 299}}, nil
	}
	out := make([]StatusRange, 0, len(a.Status))
	for _, s := range a.Status {
		r, err := parseStatusRange(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func parseStatusRange(s string) (StatusRange, error) {
	s = strings.TrimSpace(s)
	code := func(x string) (int, bool) {
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= 100 && n <= 599
	}
	if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
		c := int(s[0]-'0') * 100
		return StatusRange{c, c + 99}, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, okA := code(strings.TrimSpace(lo))
		b, okB := code(strings.TrimSpace(hi))
		if okA && okB && a <= b {
			return StatusRange{a, b}, nil
		}
		return StatusRange{}, fmt.Errorf("%q is not a range of statuses like 200-299", s)
	}
	if c, ok := code(s); ok {
		return StatusRange{c, c}, nil
	}
	return StatusRange{}, fmt.Errorf("%q is not a status (200), a class (2xx) or a range (200-299)", s)
}

// ProbeMethod is the method a probe sends.
func (p Probe) ProbeMethod() string {
	switch {
	case p.Model != "":
		return http.MethodPost
	case p.Method != "":
		return strings.ToUpper(p.Method)
	}
	return http.MethodGet
}

func (p *Probe) applyDefaults() {
	if p.Interval == 0 {
		p.Interval = Duration(DefaultProbeInterval)
	}
	if p.Timeout == 0 {
		p.Timeout = Duration(min(DefaultProbeTimeout, p.Interval.Std()))
	}
	if len(p.Headers) == 0 {
		p.Headers = nil
	}
	p.Assert.Status = nilIfEmpty(p.Assert.Status)
	p.Assert.JSON = nilIfEmpty(p.Assert.JSON)
}

var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

func (v *validator) probes(ps []Probe, models map[string]bool, consumers []Consumer) {
	seen := map[string]bool{}
	for i, p := range ps {
		path := fmt.Sprintf("probes[%d]", i)
		v.name(p.Name, path+".name")
		v.unique(seen, p.Name, path, "probe")
		switch {
		case p.Model != "" && p.Path != "":
			v.fail(path, "set either model or path, not both")
		case p.Model == "" && p.Path == "":
			v.fail(path, "set model (a chat completion) or path (a route of a service)")
		case p.Model != "" && !models[p.Model]:
			v.fail(path+".model", "unknown model %q", p.Model)
		case p.Model != "" && p.Method != "" && !strings.EqualFold(p.Method, http.MethodPost):
			v.fail(path+".method", "a model probe always posts a chat completion: leave method out")
		case p.Path != "" && (!strings.HasPrefix(p.Path, "/") || strings.HasPrefix(p.Path, "//") || strings.ContainsAny(p.Path, " #\r\n")):
			v.fail(path+".path", "must be a path on the gateway starting with / (no scheme, host or fragment)")
		}
		if p.Method != "" && !slices.Contains(probeMethods, strings.ToUpper(p.Method)) {
			v.fail(path+".method", "must be one of %s", strings.Join(probeMethods, ", "))
		}
		v.probeHeaders(p.Headers, path+".headers")
		switch {
		case p.Interval.Std() < MinProbeInterval:
			v.fail(path+".interval", "must be at least %s", MinProbeInterval)
		case p.Timeout <= 0:
			v.fail(path+".timeout", "must be positive")
		case p.Timeout > p.Interval:
			v.fail(path+".timeout", "must not exceed the interval (%s)", p.Interval)
		}
		if p.Consumer != "" {
			i := slices.IndexFunc(consumers, func(c Consumer) bool { return c.Name == p.Consumer })
			switch {
			case i < 0:
				v.fail(path+".consumer", "unknown consumer %q", p.Consumer)
			case len(consumers[i].Keys) == 0:
				v.fail(path+".consumer", "consumer %q declares no key in the file for the probe to present", p.Consumer)
			}
		}
		a := p.Assert
		for j, s := range a.Status {
			if _, err := parseStatusRange(s); err != nil {
				v.fail(fmt.Sprintf("%s.assert.status[%d]", path, j), "%v", err)
			}
		}
		if a.MaxLatency < 0 {
			v.fail(path+".assert.max_latency", "must not be negative")
		}
		for j, ja := range a.JSON {
			jp := fmt.Sprintf("%s.assert.json[%d]", path, j)
			if strings.TrimSpace(ja.Path) == "" {
				v.fail(jp+".path", "is required")
			}
			if ja.Equals == nil && ja.Exists == nil {
				v.fail(jp, "set equals or exists")
			}
		}
	}
}

// probeHeaders checks a probe's headers: names a client may send, values
// literal or env:NAME.
func (v *validator) probeHeaders(h map[string]string, path string) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		value, hp := h[name], path+"."+name
		switch {
		case !isToken(name):
			v.fail(hp, "invalid header name")
		case strings.HasPrefix(value, secretPrefix) && !IsSecretRef(value):
			v.fail(hp, "malformed secret reference: want env:NAME")
		case IsSecretRef(value):
		case !isHeaderValue(value):
			v.fail(hp, "header value contains control characters")
		}
	}
}
