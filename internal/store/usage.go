package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// UsageQuery says which calls Usage adds up.
type UsageQuery struct {
	// Since holds the instants totals start from: ConsumerUsage.Totals[i]
	// counts the calls at or after Since[i]. At least one is required.
	Since []time.Time
	// SkipEndpoints leaves out calls of these endpoints.
	SkipEndpoints []string
	// SkipErrorTypes leaves out calls recorded with these error types.
	SkipErrorTypes []string
}

// UsageTotals is what a consumer's calls added up to.
type UsageTotals struct {
	Requests int64
	// Tokens are input and output tokens together.
	Tokens  int64
	CostUSD float64
}

// ConsumerUsage is one consumer's totals, one per UsageQuery.Since.
type ConsumerUsage struct {
	Consumer string
	Totals   []UsageTotals
}

// Usage adds up, per consumer, the requests, tokens and cost of the calls
// selected by q, in one pass over the calls since the earliest instant.
// Calls without a consumer (refused before authentication) are left out,
// and cache hits count as requests but not as tokens.
// Consumers come sorted by name; one with no call selected is absent.
func (db *DB) Usage(ctx context.Context, q UsageQuery) ([]ConsumerUsage, error) {
	if len(q.Since) == 0 {
		return nil, fmt.Errorf("usage query without a start: %w", ErrInvalid)
	}
	earliest := q.Since[0]
	var sel strings.Builder
	var args []any
	for _, t := range q.Since {
		if t.Before(earliest) {
			earliest = t
		}
		// CAST keeps PostgreSQL's SUM of BIGINT (a NUMERIC) an integer.
		sel.WriteString(", CAST(COALESCE(SUM(CASE WHEN time_us >= ? THEN 1 ELSE 0 END), 0) AS BIGINT)" +
			// A cache hit's tokens are the cached answer's, for reference: no
			// upstream spent them, so they count toward no token quota.
			", CAST(COALESCE(SUM(CASE WHEN time_us >= ? AND NOT cache_hit THEN input_tokens + output_tokens ELSE 0 END), 0) AS BIGINT)" +
			", COALESCE(SUM(CASE WHEN time_us >= ? THEN cost_usd ELSE 0 END), 0)")
		us := micros(t)
		args = append(args, us, us, us)
	}
	where := " WHERE time_us >= ? AND consumer <> ''"
	args = append(args, micros(earliest))
	if len(q.SkipEndpoints) > 0 {
		where += " AND endpoint NOT IN (" + placeholders(len(q.SkipEndpoints)) + ")"
		for _, e := range q.SkipEndpoints {
			args = append(args, e)
		}
	}
	if len(q.SkipErrorTypes) > 0 {
		where += " AND error_type NOT IN (" + placeholders(len(q.SkipErrorTypes)) + ")"
		for _, e := range q.SkipErrorTypes {
			args = append(args, e)
		}
	}
	query := "SELECT consumer" + sel.String() + " FROM calls" + where + " GROUP BY consumer ORDER BY consumer"
	rows, err := db.sql.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("adding up usage: %w", err)
	}
	defer rows.Close()
	var out []ConsumerUsage
	for rows.Next() {
		u := ConsumerUsage{Totals: make([]UsageTotals, len(q.Since))}
		dest := []any{&u.Consumer}
		for i := range u.Totals {
			dest = append(dest, &u.Totals[i].Requests, &u.Totals[i].Tokens, &u.Totals[i].CostUSD)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("reading usage: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading usage: %w", err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
