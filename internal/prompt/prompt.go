// Package prompt publishes prompt templates as APIs. It compiles the
// configuration's prompts section into versions whose templates are parsed
// once, checks the variables of a call against their declared types,
// renders the chat request a version sends to its model, picks the version
// that answers each call (the release, or the canary for its share), and
// describes each prompt's endpoint in an OpenAPI document.
//
// A call is checked against every version that may answer it — the release
// and the canary — so that whether a call is valid never depends on which
// version the split picked: a canary that adds a required variable makes it
// required for every call, at once, rather than failing a share of them.
package prompt

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/hypergate/hypergate/internal/config"
)

// Prompt is a compiled prompt API. It is immutable and safe for concurrent use.
type Prompt struct {
	// Name is the prompt's name, the last segment of its path.
	Name string
	// Team is the owning team, if any.
	Team string
	// Description is the operator's description of the prompt.
	Description string
	// Versions are every declared version, by ascending number.
	Versions []*Version
	// Release is the version that answers when the canary does not.
	Release *Version
	// Canary, when not nil, answers CanaryPercent of the calls.
	Canary *Version
	// CanaryPercent is the canary's share of the calls, between 0 and 100.
	CanaryPercent float64

	// contract is what a call's variables are checked against: the
	// variables of the live versions, by name, in order of declaration.
	contract []*contractVar
	byName   map[string]*contractVar
	openapi  []byte
}

// contractVar is one variable name and every live version's declaration of it.
type contractVar struct {
	name  string
	decls []*Variable
}

// Version is one compiled, immutable version of a prompt.
type Version struct {
	// Number is the version number, from 1.
	Number int
	// Model is the model name the version calls.
	Model string
	// Temperature and MaxTokens, when not nil, are sent with every call.
	Temperature *float64
	MaxTokens   *int
	// Variables are the variables the version declares, in order.
	Variables []*Variable

	system, user template
}

// Compile checks and compiles one prompt of a validated configuration. It
// fails on what configuration validation leaves to it: a default or enum
// value that is not of its variable's type, a max_length on a variable that
// is not a string.
func Compile(p config.Prompt) (*Prompt, error) {
	cp := &Prompt{Name: p.Name, Team: p.Team, Description: p.Description, byName: map[string]*contractVar{}}
	for _, pv := range p.PromptVersions() {
		v, err := compileVersion(pv)
		if err != nil {
			return nil, fmt.Errorf("prompt %q: version %d: %w", p.Name, pv.Version, err)
		}
		cp.Versions = append(cp.Versions, v)
	}
	sort.Slice(cp.Versions, func(i, j int) bool { return cp.Versions[i].Number < cp.Versions[j].Number })
	if cp.Release = cp.Version(p.ReleaseVersion()); cp.Release == nil {
		return nil, fmt.Errorf("prompt %q: release version %d is not declared", p.Name, p.ReleaseVersion())
	}
	if c := p.Canary; c != nil {
		if cp.Canary = cp.Version(c.Version); cp.Canary == nil {
			return nil, fmt.Errorf("prompt %q: canary version %d is not declared", p.Name, c.Version)
		}
		if cp.Canary == cp.Release {
			return nil, fmt.Errorf("prompt %q: canary version %d is the release", p.Name, c.Version)
		}
		if !(c.Percent > 0 && c.Percent < 100) {
			return nil, fmt.Errorf("prompt %q: canary percent %v is not between 0 and 100", p.Name, c.Percent)
		}
		cp.CanaryPercent = c.Percent
	}
	for _, v := range cp.Live() {
		for _, d := range v.Variables {
			cv := cp.byName[d.Name]
			if cv == nil {
				cv = &contractVar{name: d.Name}
				cp.byName[d.Name] = cv
				cp.contract = append(cp.contract, cv)
			}
			cv.decls = append(cv.decls, d)
		}
	}
	doc, err := json.Marshal(cp.document())
	if err != nil {
		return nil, fmt.Errorf("prompt %q: encoding its OpenAPI document: %w", p.Name, err)
	}
	cp.openapi = doc
	return cp, nil
}

func compileVersion(pv config.PromptVersion) (*Version, error) {
	v := &Version{Number: pv.Version, Model: pv.Model, Temperature: pv.Temperature, MaxTokens: pv.MaxTokens}
	var err error
	if v.system, err = parseTemplate(pv.System); err != nil {
		return nil, fmt.Errorf("system: %w", err)
	}
	if v.user, err = parseTemplate(pv.Template); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	for _, d := range pv.Variables {
		cv, err := compileVariable(d)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", d.Name, err)
		}
		v.Variables = append(v.Variables, cv)
	}
	for _, t := range []template{v.system, v.user} {
		for _, name := range t.variables() {
			if v.variable(name) == nil {
				return nil, fmt.Errorf("{{%s}} is not declared under variables", name)
			}
		}
	}
	return v, nil
}

// Version returns the version numbered n, or nil.
func (p *Prompt) Version(n int) *Version {
	for _, v := range p.Versions {
		if v.Number == n {
			return v
		}
	}
	return nil
}

// Live returns the versions that may answer a call: the release, then the
// canary if there is one.
func (p *Prompt) Live() []*Version {
	if p.Canary == nil {
		return []*Version{p.Release}
	}
	return []*Version{p.Release, p.Canary}
}

// Models returns the model names the live versions call, without repeats.
func (p *Prompt) Models() []string {
	var out []string
	for _, v := range p.Live() {
		if !slices.Contains(out, v.Model) {
			out = append(out, v.Model)
		}
	}
	return out
}

// Pick returns the version that answers the call identified by key, the
// request id: the canary for its share of keys, the release for the others.
// The split is a hash of the key, not a random draw, so it needs no shared
// state between gateway nodes and a retried request that keeps its id
// reaches the same version.
func (p *Prompt) Pick(key string) *Version {
	if p.Canary != nil && bucket(key) < p.CanaryPercent/100 {
		return p.Canary
	}
	return p.Release
}

// bucket maps a key to [0, 1) uniformly: FNV-1a, whose low bits follow the
// last bytes too closely for sequential ids, then the splitmix64 finaliser
// to spread every input bit over the whole word.
func bucket(key string) float64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}

// OpenAPI returns the prompt's OpenAPI 3.1 document, JSON-encoded. The
// returned slice is shared: do not modify it.
func (p *Prompt) OpenAPI() []byte { return p.openapi }

// variable returns the version's declaration of name, or nil.
func (v *Version) variable(name string) *Variable {
	for _, d := range v.Variables {
		if d.Name == name {
			return d
		}
	}
	return nil
}
