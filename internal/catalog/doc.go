// Package catalog is the API-management domain of published services:
// what the catalog shows of them (description, tags, OpenAPI documents),
// their releases and lifecycle, and the subscriptions of consumers to them
// with their approval flow — pending, approved, rejected, revoked — and the
// signed webhooks that tell a service's owners about each decision.
package catalog
