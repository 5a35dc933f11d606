package store_test

import (
	"testing"

	"github.com/hypergate/hypergate/internal/store/storetest"
)

// TestAuthConformance runs the conformance cases of users, sessions, API
// tokens, team membership, the audit log and scoped call listing on both
// databases.
func TestAuthConformance(t *testing.T) {
	for _, c := range storetest.AuthCases {
		t.Run("sqlite/"+c.Name, func(t *testing.T) { c.Fn(t, openSQLite(t)) })
	}
	for _, c := range storetest.AuthCases {
		t.Run("postgres/"+c.Name, func(t *testing.T) {
			server := storetest.PostgresServer(t)
			c.Fn(t, openPostgres(t, storetest.FreshPostgres(t, server)))
		})
	}
}
