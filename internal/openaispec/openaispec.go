// Package openaispec validates JSON documents against the schemas in
// OpenAI's published OpenAPI description, so tests can prove that what the
// gateway sends to clients is what an OpenAI SDK expects to receive.
//
// The description is large (about 3 MB of YAML) and is deliberately kept
// outside the repository. It is located through the HYPERGATE_OPENAI_SPEC
// environment variable or, failing that, at ../shared/specs/openai-openapi.yaml
// relative to the module root. A clone without it still builds and passes its
// tests: [ForTest] then reports that the spec check did not run instead of
// failing.
package openaispec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// printer renders validator messages; the library localises them and
// English is what test logs are read in.
var printer = message.NewPrinter(language.English)

// EnvPath names the environment variable that overrides where the
// description is looked for. A relative value is taken relative to the module
// root, because go test runs every package's tests in that package's own
// directory.
const EnvPath = "HYPERGATE_OPENAI_SPEC"

// DefaultRelPath is where the description is looked for, relative to the
// module root, when EnvPath is unset.
const DefaultRelPath = "../shared/specs/openai-openapi.yaml"

// ErrAbsent reports that no description file exists where one was looked
// for. Callers test for it with errors.Is to tell "nothing to check against"
// apart from a description that exists but cannot be used.
var ErrAbsent = errors.New("OpenAI OpenAPI description not found")

// Spec is a loaded OpenAI OpenAPI description whose component schemas can be
// validated against. It is safe for concurrent use.
type Spec struct {
	path    string
	base    string // URL the schemas were added to the compiler under
	version string
	names   map[string]struct{}

	// The compiler is not safe for concurrent use, so compilation (which
	// happens lazily, once per schema name) is serialised; validation against
	// an already compiled schema is read-only and runs outside the lock.
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// Path returns the file the description was loaded from.
func (s *Spec) Path() string { return s.path }

// Version returns the API version declared in the description's info block.
func (s *Spec) Version() string { return s.version }

// Has reports whether components/schemas defines a schema with this name.
func (s *Spec) Has(schema string) bool {
	_, ok := s.names[schema]
	return ok
}

// Names returns the names of all component schemas, sorted.
func (s *Spec) Names() []string {
	names := make([]string, 0, len(s.names))
	for n := range s.names {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

type loaded struct {
	once sync.Once
	spec *Spec
	err  error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*loaded{}
)

// Load locates, parses and prepares the description. The work is done once
// per process for each location, so every test in a binary shares one copy.
// When no file exists at the location it returns an error wrapping
// [ErrAbsent] that names the path looked at.
func Load() (*Spec, error) {
	path, err := Locate()
	if err != nil {
		return nil, err
	}
	cacheMu.Lock()
	l, ok := cache[path]
	if !ok {
		l = &loaded{}
		cache[path] = l
	}
	cacheMu.Unlock()
	l.once.Do(func() { l.spec, l.err = loadFile(path) })
	return l.spec, l.err
}

// Locate returns the path at which [Load] looks for the description: the
// value of EnvPath if set, otherwise DefaultRelPath beside the module root
// found by walking up from the working directory to the nearest go.mod. It
// does not check that the file exists.
func Locate() (string, error) {
	env := os.Getenv(EnvPath)
	if env != "" && filepath.IsAbs(env) {
		return env, nil
	}
	root, err := moduleRoot()
	if err != nil {
		if env != "" {
			return "", fmt.Errorf("%w: %s=%q is relative and %w", ErrAbsent, EnvPath, env, err)
		}
		return "", fmt.Errorf("%w: %w", ErrAbsent, err)
	}
	if env != "" {
		return filepath.Join(root, env), nil
	}
	return filepath.Join(root, filepath.FromSlash(DefaultRelPath)), nil
}

func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	dir := wd
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod in %s or any parent, so the module root is unknown", wd)
		}
		dir = parent
	}
}

// document is the part of an OpenAPI description this package reads; the
// paths section is skipped because every schema worth validating a response
// against is a named component.
type document struct {
	OpenAPI string `yaml:"openapi"`
	Info    struct {
		Version string `yaml:"version"`
	} `yaml:"info"`
	Components struct {
		Schemas map[string]any `yaml:"schemas"`
	} `yaml:"components"`
}

func loadFile(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrAbsent, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read openai spec: %w", err)
	}
	var doc document
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse openai spec %s: %w", path, err)
	}
	// The rewrites in prepare assume OpenAPI 3.1, whose schemas are JSON
	// Schema 2020-12; a 3.0 description would need a different translation.
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		return nil, fmt.Errorf("openai spec %s: openapi version %q is not 3.1", path, doc.OpenAPI)
	}
	if len(doc.Components.Schemas) == 0 {
		return nil, fmt.Errorf("openai spec %s: no components/schemas", path)
	}

	schemas := make(map[string]any, len(doc.Components.Schemas))
	names := make(map[string]struct{}, len(doc.Components.Schemas))
	for name, v := range doc.Components.Schemas {
		j, err := toJSON(v)
		if err != nil {
			return nil, fmt.Errorf("openai spec %s: schema %s: %w", path, name, err)
		}
		schemas[name] = prepare(j, name)
		names[name] = struct{}{}
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("openai spec path: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// The description's $refs are all "#/components/schemas/..." so the
	// resource keeps that shape; nothing is fetched from anywhere else.
	c.UseLoader(noLoader{})
	resource := map[string]any{"components": map[string]any{"schemas": schemas}}
	base := fileURL(abs)
	if err := c.AddResource(base, resource); err != nil {
		return nil, fmt.Errorf("openai spec %s: %w", path, err)
	}
	return &Spec{
		path:     path,
		base:     base,
		version:  doc.Info.Version,
		names:    names,
		compiler: c,
		compiled: map[string]*jsonschema.Schema{},
	}, nil
}

func fileURL(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// noLoader refuses every external reference, so a stray absolute $ref in a
// future revision of the description fails loudly instead of reaching out to
// the network or file system.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("external reference %s is not loaded", u)
}

func (s *Spec) schema(name string) (*jsonschema.Schema, error) {
	if !s.Has(name) {
		return nil, fmt.Errorf("openai spec has no components/schemas/%s", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[name]; ok {
		return sch, nil
	}
	loc := s.base + "#/components/schemas/" + escapeToken(name)
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("compile components/schemas/%s: %w", name, err)
	}
	s.compiled[name] = sch
	return sch, nil
}

// Validate checks doc, a JSON document, against components/schemas/<schema>
// (for example "CreateChatCompletionResponse" or "ErrorResponse"). A
// document that does not conform yields a *ValidationError listing every
// violation with its JSON pointer.
func (s *Spec) Validate(schema string, doc []byte) error {
	sch, err := s.schema(schema)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document for %s is not JSON: %w", schema, err)
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate against %s: %w", schema, err)
	}
	out := &ValidationError{Schema: schema}
	collect(ve, &out.Violations)
	return out
}

// ValidationError is returned by [Spec.Validate] for a document that does not
// conform to its schema.
type ValidationError struct {
	// Schema is the component schema name validated against.
	Schema string
	// Violations holds the innermost failures, in document order as reported
	// by the validator. A failed anyOf or oneOf contributes one violation per
	// alternative, all at the same pointer.
	Violations []Violation
}

// Violation is one way in which a document fails its schema.
type Violation struct {
	// Pointer is the RFC 6901 JSON pointer of the offending value; "" is
	// the whole document.
	Pointer string
	// Keyword is the JSON pointer, within the description, of the schema
	// keyword that failed, e.g. "/components/schemas/Error/required".
	Keyword string
	// Message says what is wrong, e.g. "missing property 'choices'".
	Message string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "document does not match openai components/schemas/%s (%d violation", e.Schema, len(e.Violations))
	if len(e.Violations) != 1 {
		b.WriteByte('s')
	}
	b.WriteString("):")
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  at %q: %s [%s]", v.Pointer, v.Message, v.Keyword)
	}
	return b.String()
}

func collect(e *jsonschema.ValidationError, into *[]Violation) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collect(c, into)
		}
		return
	}
	kw := e.SchemaURL
	if i := strings.IndexByte(kw, '#'); i >= 0 {
		kw = kw[i+1:]
	}
	if u, err := url.PathUnescape(kw); err == nil {
		kw = u
	}
	*into = append(*into, Violation{
		Pointer: pointer(e.InstanceLocation),
		Keyword: kw + pointer(e.ErrorKind.KeywordPath()),
		Message: e.ErrorKind.LocalizedString(printer),
	})
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

func escapeToken(t string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
}
