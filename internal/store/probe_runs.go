package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/probe"
)

// ProbeRuns counts, per probe, the runs recorded in [since, until) and the
// failed ones, from the synthetic calls' records: every node's runs, and
// those before a restart, count.
func (db *DB) ProbeRuns(ctx context.Context, since, until time.Time) ([]alert.ProbeRuns, error) {
	rows, err := db.sql.QueryContext(ctx, db.Rebind(
		"SELECT probe, COUNT(*), SUM(CASE WHEN error_type IN (?, ?) THEN 1 ELSE 0 END) FROM calls "+
			"WHERE probe <> '' AND time_us >= ? AND time_us < ? GROUP BY probe"),
		probe.ErrorAssertion, probe.ErrorRequest, since.UnixMicro(), until.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("counting probe runs: %w", err)
	}
	defer rows.Close()
	var out []alert.ProbeRuns
	for rows.Next() {
		var p alert.ProbeRuns
		if err := rows.Scan(&p.Probe, &p.Runs, &p.Failures); err != nil {
			return nil, fmt.Errorf("counting probe runs: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting probe runs: %w", err)
	}
	return out, nil
}
