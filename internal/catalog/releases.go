package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// The configuration's services entries are the published definitions.
// Every configuration change that changes one of them — through the admin
// API, a declarative apply or a restore — records an immutable, numbered
// release of that service holding its whole definition, so that any
// earlier definition can be looked at, compared and published again. A
// release may also be made from a draft to serve a canary share of the
// calls without being published (Release.Published is then false).

// Release is one immutable, numbered definition of a service. Numbers are
// per service and start at 1.
type Release struct {
	Service string `json:"service"`
	Number  int    `json:"number"`
	// Team owns the service in this definition, so that the releases of a
	// service since removed stay within its team's reach.
	Team string `json:"team,omitempty"`
	// State is the definition's lifecycle state (config.StatePublished
	// when it sets none).
	State string `json:"state"`
	// Published is true for a definition that went into the configuration,
	// false for one made from a draft to serve as a canary.
	Published bool `json:"published"`
	// Revision is the configuration revision that published the release;
	// 0 for a canary release.
	Revision  int64     `json:"revision,omitempty"`
	Author    string    `json:"author"`
	Message   string    `json:"message,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Diff lists the changes from the release that was published when this
	// one was made (none for a service's first release), one per line as
	// configuration diffs do.
	Diff []string `json:"diff"`
	// Definition is the service's configuration entry as JSON, defaults
	// applied; lists of releases leave it out.
	Definition json.RawMessage `json:"definition,omitempty"`
}

// Decode decodes the release's definition.
func (r Release) Decode() (config.Service, error) { return DecodeDefinition(r.Definition) }

// Draft is a service definition being edited: stored and validated, but
// serving nothing until it is published.
type Draft struct {
	Service string `json:"service"`
	// Team owns the drafted service.
	Team string `json:"team,omitempty"`
	// Base is the release that was published when the draft was saved (0
	// for a service not published yet): publishing shows what changed
	// since.
	Base       int             `json:"base"`
	Author     string          `json:"author"`
	UpdatedAt  time.Time       `json:"updated_at"`
	Definition json.RawMessage `json:"definition"`
}

// StateOf returns a service's lifecycle state, StatePublished when it sets
// none.
func StateOf(s config.Service) string {
	if s.State == "" {
		return config.StatePublished
	}
	return s.State
}

// Definition returns the JSON a release keeps of a service: a deep copy
// with the defaults applied, so that a service written with and without
// its defaults has one definition, and equal definitions have equal bytes.
func Definition(s config.Service) (json.RawMessage, error) {
	c, err := copyService(s)
	if err != nil {
		return nil, err
	}
	cfg := config.Config{Services: []config.Service{c}}
	cfg.ApplyDefaults()
	b, err := json.Marshal(cfg.Services[0])
	if err != nil {
		return nil, fmt.Errorf("encoding service %q: %w", s.Name, err)
	}
	return b, nil
}

// Normalize returns s as a release keeps it: a copy with the defaults
// applied, so that comparing it with a stored definition shows only what
// was written differently.
func Normalize(s config.Service) (config.Service, error) {
	def, err := Definition(s)
	if err != nil {
		return config.Service{}, err
	}
	return DecodeDefinition(def)
}

// DecodeDefinition reads a stored definition. Fields it does not know are
// ignored: a release written by a later version of the gateway stays
// readable.
func DecodeDefinition(b []byte) (config.Service, error) {
	var s config.Service
	if err := json.Unmarshal(b, &s); err != nil {
		return config.Service{}, fmt.Errorf("decoding service definition: %w", err)
	}
	return s, nil
}

// copyService deep-copies s through its JSON form, so that applying
// defaults to the copy never reaches shared pointers of the original.
func copyService(s config.Service) (config.Service, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return config.Service{}, fmt.Errorf("copying service %q: %w", s.Name, err)
	}
	var out config.Service
	if err := json.Unmarshal(b, &out); err != nil {
		return config.Service{}, fmt.Errorf("copying service %q: %w", s.Name, err)
	}
	return out, nil
}

// ServiceDiff lists what differs between two definitions of a service, as
// config.Diff writes it ("~ service orders-api: upstream.timeout: 30s ->
// 1m0s"); nil stands for no definition ("+ service orders-api").
func ServiceDiff(from, to *config.Service) []string {
	a, b := &config.Config{}, &config.Config{}
	if from != nil {
		a.Services = []config.Service{*from}
	}
	if to != nil {
		b.Services = []config.Service{*to}
	}
	return config.Diff(a, b)
}

// Pending returns the releases a configuration about to be published makes:
// one for every service whose definition differs from its latest published
// release in latest (by service name), or that has none yet, numbered 0
// (the store numbers them). revision, author, message and at describe the
// change.
func Pending(cfg *config.Config, latest map[string]Release, revision int64, author, message string, at time.Time) ([]Release, error) {
	var out []Release
	for _, s := range cfg.Services {
		def, err := Definition(s)
		if err != nil {
			return nil, err
		}
		prev, ok := latest[s.Name]
		if ok && bytes.Equal(prev.Definition, def) {
			continue
		}
		cur, err := DecodeDefinition(def)
		if err != nil {
			return nil, err
		}
		var diff []string
		if ok {
			old, err := prev.Decode()
			if err != nil {
				return nil, fmt.Errorf("release %d of service %q: %w", prev.Number, s.Name, err)
			}
			diff = ServiceDiff(&old, &cur)
		} else {
			diff = ServiceDiff(nil, &cur)
		}
		out = append(out, Release{
			Service: s.Name, Team: s.Team, State: StateOf(s), Published: true, Revision: revision,
			Author: author, Message: message, CreatedAt: at, Diff: nonNil(diff), Definition: def,
		})
	}
	return out, nil
}

// CanaryRelease returns the release a draft makes to serve as a canary of
// the published definition pub: the draft's definition without a canary of
// its own, diffed against pub.
func CanaryRelease(draft, pub config.Service, author, message string, at time.Time) (Release, error) {
	draft.Canary = nil
	def, err := Definition(draft)
	if err != nil {
		return Release{}, err
	}
	cur, err := DecodeDefinition(def)
	if err != nil {
		return Release{}, err
	}
	base, err := Normalize(pub)
	if err != nil {
		return Release{}, err
	}
	base.Canary = nil
	return Release{
		Service: draft.Name, Team: draft.Team, State: StateOf(draft), Author: author, Message: message,
		CreatedAt: at, Diff: nonNil(ServiceDiff(&base, &cur)), Definition: def,
	}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DeprecatedSince returns when the deprecation in force began: the time of
// the oldest release of the newest unbroken run of deprecated published
// releases in history (newest first, as stores list them). ok is false
// when the newest published release is not deprecated.
func DeprecatedSince(history []Release) (since time.Time, ok bool) {
	for _, r := range history {
		if !r.Published {
			continue
		}
		if r.State != config.StateDeprecated {
			break
		}
		since, ok = r.CreatedAt, true
	}
	return since, ok
}

// Find returns the index of the named service in cfg.
func Find(cfg *config.Config, name string) (int, bool) {
	for i, s := range cfg.Services {
		if s.Name == name {
			return i, true
		}
	}
	return -1, false
}

// WithService returns a deep copy of cfg in which s replaces the service
// of its name, in place, or is added at the end.
func WithService(cfg *config.Config, s config.Service) (*config.Config, error) {
	out, err := copyConfig(cfg)
	if err != nil {
		return nil, err
	}
	if i, ok := Find(out, s.Name); ok {
		out.Services[i] = s
	} else {
		out.Services = append(out.Services, s)
	}
	return out, nil
}

// WithoutService returns a deep copy of cfg without the named service.
func WithoutService(cfg *config.Config, name string) (*config.Config, error) {
	out, err := copyConfig(cfg)
	if err != nil {
		return nil, err
	}
	out.Services = slices.DeleteFunc(out.Services, func(s config.Service) bool { return s.Name == name })
	return out, nil
}

func copyConfig(cfg *config.Config) (*config.Config, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("copying configuration: %w", err)
	}
	out := &config.Config{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("copying configuration: %w", err)
	}
	return out, nil
}

// CheckDefinition validates s as the definition of its service in cfg: the
// configuration with s in place must validate. It returns that
// configuration.
func CheckDefinition(cfg *config.Config, s config.Service) (*config.Config, error) {
	next, err := WithService(cfg, s)
	if err != nil {
		return nil, err
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	return next, nil
}

// CanaryDefinition returns what serves a canary's share of a service's
// calls: the canary release's upstream, models, routes and policies under
// the published definition pub's name, team, lifecycle and subscription
// terms, which belong to the service rather than to one of its releases.
func CanaryDefinition(rel, pub config.Service) config.Service {
	rel.Name, rel.Team, rel.Public, rel.Approval = pub.Name, pub.Team, pub.Public, pub.Approval
	rel.State, rel.Sunset, rel.Canary = pub.State, pub.Sunset, nil
	return rel
}

// CheckCanary reports whether the canary definition def of the service it
// names can serve in cfg: cfg with def in place of the published
// definition must validate, so that a canary release made long ago cannot
// bring back a route that now conflicts, or a model since removed.
func CheckCanary(cfg *config.Config, def config.Service) error {
	_, err := CheckDefinition(cfg, def)
	return err
}

// Deprecate marks s deprecated, to be retired at sunset (nil: no date
// announced).
func Deprecate(s config.Service, sunset *time.Time) config.Service {
	s.State = config.StateDeprecated
	if sunset != nil {
		t := sunset.UTC()
		s.Sunset = &t
	} else {
		s.Sunset = nil
	}
	return s
}

// Retire marks s retired: its routes answer 410 Gone. A canary no longer
// has calls to serve, so it goes; the sunset stays as the record of the
// date announced.
func Retire(s config.Service) config.Service {
	s.State = config.StateRetired
	s.Canary = nil
	return s
}
