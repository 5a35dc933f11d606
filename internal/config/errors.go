package config

import (
	"strconv"
	"strings"
)

// Error is one problem in a configuration, located by line (when it came
// from YAML) and by path, e.g. models[0].targets[1].provider.
type Error struct {
	Line int    // 1-based line in the YAML file; 0 when unknown
	Path string // where in the configuration; "" for the file as a whole
	Msg  string
}

// Error reads "line 12: models[0].targets[1].provider: unknown provider "x"",
// leaving out the parts that are unknown.
func (e Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration, so that an operator can
// fix them all in one pass. Parse, ParseJSON and Validate return it as
// *Errors.
type Errors []Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each Error to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// asError returns nil for no problems; a nil *Errors inside a non-nil error
// interface would read as a failure.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return &es
}
