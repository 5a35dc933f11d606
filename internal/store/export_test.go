package store

import (
	"fmt"
	"strings"
)

// MigrationTail returns the statements of the dialect's migration version
// after the line that starts with marker, so that a test can run a data
// migration's step again on data it laid out.
func MigrationTail(dialect string, version int, marker string) (string, error) {
	ms, err := migrations(dialect)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.version == version {
			_, tail, ok := strings.Cut(m.sql, marker)
			if !ok {
				return "", fmt.Errorf("migration %s has no %q", m.name, marker)
			}
			return tail[strings.IndexByte(tail, '\n')+1:], nil
		}
	}
	return "", fmt.Errorf("no migration %d", version)
}
