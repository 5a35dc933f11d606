package feedback

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// MaxTextBytes bounds the value of a text score, which is free text; other
// string values (categories, undeclared strings) are labels of at most 256
// bytes.
const MaxTextBytes = MaxCommentBytes

// CheckScore checks a value against its score's definition and says what
// is wrong, and where, when it does not fit.
func CheckScore(def config.Score, v Value) error {
	switch def.Type {
	case config.ScoreBoolean:
		if v.Kind != Boolean {
			return &InvalidError{"value", fmt.Sprintf("score %q is boolean: send true or false, not %s", def.Name, describe(v))}
		}
	case config.ScoreNumeric:
		if v.Kind != Numeric {
			return &InvalidError{"value", fmt.Sprintf("score %q is numeric: send a number%s, not %s", def.Name, rangeText(def), describe(v))}
		}
		if (def.Min != nil && v.Num < *def.Min) || (def.Max != nil && v.Num > *def.Max) {
			return &InvalidError{"value", fmt.Sprintf("%s is out of range for score %q: send a number%s", fmtNum(v.Num), def.Name, rangeText(def))}
		}
	case config.ScoreCategorical:
		if v.Kind != String || !slices.Contains(def.Categories, v.Str) {
			return &InvalidError{"value", fmt.Sprintf("score %q is categorical: send one of %s, not %s", def.Name, quoteAll(def.Categories), describe(v))}
		}
	case config.ScoreText:
		if v.Kind != String {
			return &InvalidError{"value", fmt.Sprintf("score %q is text: send a string, not %s", def.Name, describe(v))}
		}
	}
	return nil
}

// ScorePolarity judges what a value says of a call: positive, negative or
// neither (""). Without a definition only a boolean says something (true
// positive, false negative). A numeric score judges by its thresholds, or
// else by the midpoint of [min, max] (the midpoint itself is neutral); a
// categorical one by its negative and positive categories; text says
// nothing.
func ScorePolarity(def *config.Score, v Value) string {
	typ := ""
	if def != nil {
		typ = def.Type
	}
	switch {
	case (typ == "" || typ == config.ScoreBoolean) && v.Kind == Boolean:
		if v.Bool() {
			return PolarityPositive
		}
		return PolarityNegative
	case typ == config.ScoreNumeric && v.Kind == Numeric:
		if def.NegativeBelow != nil || def.PositiveAbove != nil {
			switch {
			case def.NegativeBelow != nil && v.Num < *def.NegativeBelow:
				return PolarityNegative
			case def.PositiveAbove != nil && v.Num > *def.PositiveAbove:
				return PolarityPositive
			}
			return ""
		}
		if def.Min == nil || def.Max == nil {
			return ""
		}
		switch mid := (*def.Min + *def.Max) / 2; {
		case v.Num < mid:
			return PolarityNegative
		case v.Num > mid:
			return PolarityPositive
		}
	case typ == config.ScoreCategorical && v.Kind == String:
		switch {
		case slices.Contains(def.Negative, v.Str):
			return PolarityNegative
		case slices.Contains(def.Positive, v.Str):
			return PolarityPositive
		}
	}
	return ""
}

func describe(v Value) string {
	switch v.Kind {
	case Boolean:
		return strconv.FormatBool(v.Bool())
	case Numeric:
		return "the number " + fmtNum(v.Num)
	case String:
		if len(v.Str) > 40 {
			return "a string"
		}
		return strconv.Quote(v.Str)
	}
	return "nothing"
}

func rangeText(def config.Score) string {
	switch {
	case def.Min != nil && def.Max != nil:
		return fmt.Sprintf(" from %s to %s", fmtNum(*def.Min), fmtNum(*def.Max))
	case def.Min != nil:
		return " of at least " + fmtNum(*def.Min)
	case def.Max != nil:
		return " of at most " + fmtNum(*def.Max)
	}
	return ""
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
