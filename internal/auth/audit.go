package auth

import "time"

// Actors of changes that no principal made.
const (
	// ActorConfigFile is the declarative file applied by serve --config.
	ActorConfigFile = "config-file"
	// ActorAnonymous is an unauthenticated caller, e.g. a failed sign-in.
	ActorAnonymous = "anonymous"
)

// AuditEntry is one change, or one sign-in attempt, in the audit log. It
// never holds a secret: keys, tokens and passwords appear by id or prefix
// at most, configuration only as its diff (secrets there are env:NAME
// references).
type AuditEntry struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Actor is "user:EMAIL", "token:NAME", "admin-token", "config-file" or
	// "anonymous".
	Actor string `json:"actor"`
	// Action names what was done, e.g. consumer.create, config.apply,
	// login.failed.
	Action string `json:"action"`
	// Target is what it was done to, as KIND:NAME (consumer:web-shop,
	// team:payments, user:usr_…), or "config" for the whole configuration.
	Target string `json:"target,omitempty"`
	// Team owns the target, when one does: team-scoped readers of the log
	// see their team's entries only.
	Team string `json:"team,omitempty"`
	// Summary says what happened in a sentence; Diff lists the changes one
	// per line, as configuration revisions do.
	Summary   string `json:"summary,omitempty"`
	Diff      string `json:"diff,omitempty"`
	ClientIP  string `json:"client_ip,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Actor string
	// Action matches exactly, or every action under a prefix ending in a
	// dot: "consumer." matches consumer.create and consumer.delete.
	Action string
	Target string
	Team   string
	// Since is inclusive, Until exclusive.
	Since, Until time.Time
	// Cursor is the Next of the previous page.
	Cursor string
	Limit  int
}

// AuditPage is one page of audit entries, newest first.
type AuditPage struct {
	Entries []AuditEntry `json:"data"`
	Next    string       `json:"next_cursor,omitempty"`
}
