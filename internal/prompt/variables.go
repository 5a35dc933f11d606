package prompt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hypergate/hypergate/internal/config"
)

// Codes of the errors a call's body can have, for clients to tell them apart.
const (
	CodeInvalidBody     = "invalid_request_body"
	CodeUnknownVariable = "unknown_variable"
	CodeMissingVariable = "missing_variable"
	CodeInvalidVariable = "invalid_variable"
)

// Error is what is wrong with a call's body, at a path such as
// "variables.text" (empty: the body as a whole).
type Error struct {
	Path    string
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Variable is a compiled variable declaration.
type Variable struct {
	// Name, Description, Required, Enum and MaxLength are as declared.
	Name        string
	Description string
	Required    bool
	Enum        []string
	MaxLength   int
	// Type is one of config's Var* types, never empty.
	Type string
	// Default is the text rendered when a call does not give the variable:
	// the declared default, or "".
	Default string

	enumNum []float64 // Enum parsed, for number variables
	enumInt []int64   // Enum parsed, for integer variables
}

func compileVariable(d config.PromptVariable) (*Variable, error) {
	v := &Variable{Name: d.Name, Description: d.Description, Required: d.Required, Enum: d.Enum,
		MaxLength: d.MaxLength, Type: d.Type, Default: d.Default}
	if v.Type == "" {
		v.Type = config.VarString
	}
	if v.MaxLength > 0 && v.Type != config.VarString {
		return nil, fmt.Errorf("max_length applies to string variables only, not to a %s", v.Type)
	}
	for _, e := range v.Enum {
		if err := v.parseEnum(e); err != nil {
			return nil, err
		}
	}
	if v.Default != "" {
		// The default renders as written; check it is what a call could give.
		raw := []byte(v.Default)
		if v.Type == config.VarString {
			raw, _ = json.Marshal(v.Default)
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("default %q is not of type %s", v.Default, v.Type)
		}
		if _, problem := v.check(raw); problem != "" {
			return nil, fmt.Errorf("default %q: %s", v.Default, problem)
		}
	}
	return v, nil
}

func (v *Variable) parseEnum(e string) error {
	switch v.Type {
	case config.VarNumber:
		f, err := strconv.ParseFloat(e, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("enum value %q is not a number", e)
		}
		v.enumNum = append(v.enumNum, f)
	case config.VarInteger:
		n, ok, _ := parseInteger(e)
		if !ok {
			return fmt.Errorf("enum value %q is not an integer", e)
		}
		v.enumInt = append(v.enumInt, n)
	case config.VarBoolean:
		if e != "true" && e != "false" {
			return fmt.Errorf("enum value %q is not a boolean", e)
		}
	}
	return nil
}

// check checks a JSON value against the declaration. It returns the text
// the value renders to, or a problem for the client.
func (v *Variable) check(raw []byte) (string, string) {
	switch v.Type {
	case config.VarString:
		if raw[0] != '"' {
			return "", "expected a string, got " + describe(raw)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "expected a string, got " + describe(raw)
		}
		if len(v.Enum) > 0 && !slices.Contains(v.Enum, s) {
			return "", "must be one of " + quoteList(v.Enum) + ", got " + describe(raw)
		}
		if v.MaxLength > 0 {
			if n := utf8.RuneCountInString(s); n > v.MaxLength {
				return "", fmt.Sprintf("is %d characters long, more than the limit of %d", n, v.MaxLength)
			}
		}
		return s, ""
	case config.VarInteger:
		if !isNumber(raw) {
			return "", "expected an integer, got " + describe(raw)
		}
		n, ok, inRange := parseInteger(string(raw))
		switch {
		case !inRange:
			return "", "expected an integer between -9007199254740991 and 9007199254740991, got " + describe(raw)
		case !ok:
			return "", "expected an integer, got " + describe(raw)
		case len(v.enumInt) > 0 && !slices.Contains(v.enumInt, n):
			return "", "must be one of " + strings.Join(v.Enum, ", ") + ", got " + describe(raw)
		}
		return strconv.FormatInt(n, 10), ""
	case config.VarNumber:
		if !isNumber(raw) {
			return "", "expected a number, got " + describe(raw)
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		switch {
		case err != nil:
			return "", "expected a number within the range of a 64-bit float, got " + describe(raw)
		case len(v.enumNum) > 0 && !slices.Contains(v.enumNum, f):
			return "", "must be one of " + strings.Join(v.Enum, ", ") + ", got " + describe(raw)
		}
		// As written: the model reads the number the caller wrote, not a
		// float's shortest rendering of it.
		return string(raw), ""
	case config.VarBoolean:
		s := string(raw)
		if s != "true" && s != "false" {
			return "", "expected a boolean, got " + describe(raw)
		}
		if len(v.Enum) > 0 && !slices.Contains(v.Enum, s) {
			return "", "must be " + strings.Join(v.Enum, " or ") + ", got " + s
		}
		return s, ""
	}
	return "", "has an unknown type " + strconv.Quote(v.Type)
}

// maxSafeInteger bounds integers to those a JSON number holds exactly in
// every client (2^53 - 1), so that the value checked is the value sent.
const maxSafeInteger = 1<<53 - 1

// parseInteger reads a JSON number that denotes an integer, as JSON Schema
// counts them (3, 3.0 and 3e0 are all 3). ok is false when it is not an
// integer, inRange false when it is beyond ±maxSafeInteger.
func parseInteger(lit string) (n int64, ok, inRange bool) {
	if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
		if i > maxSafeInteger || i < -maxSafeInteger {
			return 0, true, false
		}
		return i, true, true
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		// A syntax error is not a number; a range error is a huge one.
		huge := errors.Is(err, strconv.ErrRange)
		return 0, huge, !huge
	}
	if f != math.Trunc(f) {
		return 0, false, true
	}
	if math.Abs(f) > maxSafeInteger {
		return 0, true, false
	}
	return int64(f), true, true
}

func isNumber(raw []byte) bool { return raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' }

func isNull(raw []byte) bool { return string(raw) == "null" }

// describe shows a client's value in an error message, shortened.
func describe(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "a string"
		}
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:40]) + "…"
		}
		return strconv.Quote(s)
	}
	if len(raw) > 40 {
		return string(raw[:40]) + "…"
	}
	return string(raw)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// Values are the variables a call gave, checked, by name, as the text each
// renders to. A variable the call left out is absent.
type Values map[string]string

// identRe is a variable name that reads well in a dotted path.
var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// varPath is the path of a variable in the call's body.
func varPath(name string) string {
	if identRe.MatchString(name) {
		return "variables." + name
	}
	if utf8.RuneCountInString(name) > 64 {
		name = string([]rune(name)[:64]) + "…"
	}
	return "variables[" + strconv.Quote(name) + "]"
}

// Bind checks a call's variables against every live version's
// declarations and returns them as text. A null value counts as not given.
// The first problem found is returned as an *Error: variables the prompt
// does not declare, then values of the wrong type or out of bounds (in the
// order of their names), then required variables left out.
func (p *Prompt) Bind(vars map[string]json.RawMessage) (Values, error) {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	vals := make(Values, len(vars))
	for _, name := range names {
		cv := p.byName[name]
		if cv == nil {
			return nil, &Error{Path: varPath(name), Code: CodeUnknownVariable, Message: p.unknownVariable()}
		}
		raw := bytes.TrimSpace(vars[name])
		if len(raw) == 0 || isNull(raw) {
			continue
		}
		for i, d := range cv.decls {
			text, problem := d.check(raw)
			if problem != "" {
				return nil, &Error{Path: varPath(name), Code: CodeInvalidVariable, Message: problem}
			}
			if i == 0 {
				vals[name] = text
			}
		}
	}
	for _, cv := range p.contract {
		if _, given := vals[cv.name]; !given && cv.required() {
			return nil, &Error{Path: varPath(cv.name), Code: CodeMissingVariable, Message: "required"}
		}
	}
	return vals, nil
}

func (p *Prompt) unknownVariable() string {
	if len(p.contract) == 0 {
		return "unknown variable: this prompt takes none"
	}
	names := make([]string, len(p.contract))
	for i, cv := range p.contract {
		names[i] = cv.name
	}
	return "unknown variable: this prompt takes " + strings.Join(names, ", ")
}

// required reports whether any live version requires the variable.
func (cv *contractVar) required() bool {
	for _, d := range cv.decls {
		if d.Required {
			return true
		}
	}
	return false
}

// Render returns the version's system message ("" when it has none) and
// user message. A variable that vals lacks renders as its default. Values
// are inserted as they are: nothing in a value is read as a reference.
func (v *Version) Render(vals Values) (system, user string) {
	value := func(name string) string {
		if s, ok := vals[name]; ok {
			return s
		}
		if d := v.variable(name); d != nil {
			return d.Default
		}
		return ""
	}
	return v.system.render(value), v.user.render(value)
}
