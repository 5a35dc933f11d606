package catalog

import (
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// Entry is a service as the catalog shows it to those who may call it:
// what it is, how access is granted, its OpenAPI document, and where the
// viewer's consumers stand with it. Upstreams, routes, policies and
// webhooks are the owning team's business and are left out.
type Entry struct {
	Name        string   `json:"name"`
	Team        string   `json:"team,omitempty"`
	Kind        string   `json:"kind"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags"`
	// State is the lifecycle state: published, deprecated or retired.
	State  string     `json:"state"`
	Sunset *time.Time `json:"sunset,omitempty"`
	// Approval is how subscriptions are granted: auto or manual.
	Approval string `json:"approval"`
	// Public services take calls from any consumer, without a
	// subscription.
	Public bool `json:"public"`
	// Models are the models an AI service exposes.
	Models []string `json:"models,omitempty"`
	// OpenAPIURL is where the document can be imported from; OpenAPI
	// describes the stored document, fetched with GET
	// /admin/v1/services/{name}/openapi.
	OpenAPIURL string           `json:"openapi_url,omitempty"`
	OpenAPI    *OpenAPIDocument `json:"openapi,omitempty"`
	// Subscribed is true when one of the viewer's consumers may call the
	// service: it is public, or one of Subscriptions is approved.
	Subscribed bool `json:"subscribed"`
	// Subscriptions are the viewer's consumers' subscriptions to the
	// service, in any state.
	Subscriptions []Subscription `json:"subscriptions"`
}

// NewEntry builds the catalog entry of sv. subs are the viewer's
// consumers' subscriptions (to any service); doc is the stored document's
// metadata, or nil.
func NewEntry(sv config.Service, subs []Subscription, doc *OpenAPIDocument) Entry {
	e := Entry{Name: sv.Name, Team: sv.Team, Kind: sv.Kind, Description: sv.Description, Tags: sv.Tags,
		State: sv.State, Sunset: sv.Sunset, Approval: sv.Approval, Public: sv.Public, Models: sv.Models,
		OpenAPIURL: sv.OpenAPIURL, OpenAPI: doc, Subscribed: sv.Public, Subscriptions: []Subscription{}}
	if e.Kind == "" {
		e.Kind = config.KindREST
	}
	if e.State == "" {
		e.State = config.StatePublished
	}
	if e.Approval == "" {
		e.Approval = config.ApprovalAuto
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	for _, s := range subs {
		if s.Service != sv.Name {
			continue
		}
		e.Subscriptions = append(e.Subscriptions, s)
		if s.State == SubscriptionApproved {
			e.Subscribed = true
		}
	}
	return e
}

// Listed reports whether a service appears in the catalog's list: every
// service but the retired ones, which no longer answer.
func Listed(sv config.Service) bool { return sv.State != config.StateRetired }
