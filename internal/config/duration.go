package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("30s",
// "1m30s") in YAML and JSON. A leading whole number of days is also accepted
// ("14d", "1d12h") because hypercare windows and retention are naturally
// counted in days.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way time.Duration does, except that whole days are
// written as "Nd" so that a 14-day window reads "14d" and not "336h0m0s",
// and zero trailing units are left out ("1m", "1h30m"), as people write
// them in the declarative file.
func (d Duration) String() string {
	const day = 24 * time.Hour
	td := time.Duration(d)
	if td > 0 && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	s := td.String()
	if td%time.Minute == 0 && td != 0 {
		s = strings.TrimSuffix(s, "0s")
		if td%time.Hour == 0 {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

// ParseDuration parses a Go duration string, optionally starting with a whole
// number of days ("2d", "1d6h", "-1d").
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	rest, neg := s, false
	if r, ok := strings.CutPrefix(rest, "-"); ok {
		rest, neg = r, true
	} else if r, ok := strings.CutPrefix(rest, "+"); ok {
		rest = r
	}
	if rest == "" || rest[0] == '-' || rest[0] == '+' {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	var days int64
	if i := strings.IndexByte(rest, 'd'); i > 0 && isDigits(rest[:i]) {
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		days, rest = n, rest[i+1:]
	}
	var tail time.Duration
	if rest != "" || days == 0 {
		var err error
		if tail, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q: use a number with a unit, like 30s, 1m30s, 2h or 14d", s)
		}
		if days > 0 && tail < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
	}
	total := time.Duration(days) * 24 * time.Hour
	if tail > math.MaxInt64-total {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	total += tail
	if neg {
		total = -total
	}
	return Duration(total), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MarshalText writes d as String does; YAML and JSON both use it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
