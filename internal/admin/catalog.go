package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// OpenAPIDocuments stores the services' OpenAPI documents.
type OpenAPIDocuments interface {
	PutOpenAPI(ctx context.Context, d catalog.OpenAPIDocument) (catalog.OpenAPIDocument, error)
	GetOpenAPI(ctx context.Context, service string) (catalog.OpenAPIDocument, error)
	ListOpenAPI(ctx context.Context) ([]catalog.OpenAPIDocument, error)
}

// OpenAPIFetcher fetches a document to import (catalog.Fetcher).
type OpenAPIFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// The catalog is the directory every signed-in principal may browse, so
// that teams find each other's services: it shows what a service is and
// how to get access, never how it is run (upstreams, routes, policies,
// webhooks stay with the owning team's services endpoints).

// myConsumers returns the names of the consumers p reaches: its own, its
// team's, or every one for an unscoped principal.
func (s *Server) myConsumers(p *auth.Principal) map[string]bool {
	cfg, _ := s.Configs.Current()
	out := map[string]bool{}
	for _, c := range cfg.Consumers {
		if p.Reaches(auth.Target{Team: c.Team, Consumer: c.Name}) {
			out[c.Name] = true
		}
	}
	return out
}

// catalogContext loads what entries show: the caller's consumers'
// subscriptions and the documents' metadata.
func (s *Server) catalogContext(r *http.Request) ([]catalog.Subscription, map[string]*catalog.OpenAPIDocument, error) {
	if s.Subscriptions == nil || s.Documents == nil {
		return nil, nil, subscriptionsOff
	}
	mine := s.myConsumers(principal(r))
	all, err := s.Subscriptions.List(r.Context(), catalog.SubscriptionFilter{})
	if err != nil {
		return nil, nil, err
	}
	var subs []catalog.Subscription
	for _, sub := range all {
		if mine[sub.Consumer] {
			subs = append(subs, sub)
		}
	}
	list, err := s.Documents.ListOpenAPI(r.Context())
	if err != nil {
		return nil, nil, err
	}
	docs := map[string]*catalog.OpenAPIDocument{}
	for i := range list {
		docs[list[i].Service] = &list[i]
	}
	return subs, docs, nil
}

func (s *Server) listCatalog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tag, kind, team := q.Get("tag"), q.Get("kind"), q.Get("team")
	if kind != "" && kind != config.KindREST && kind != config.KindAI {
		return badRequest("kind", "kind: %q is not rest or ai", kind)
	}
	subs, docs, err := s.catalogContext(r)
	if err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	out := []catalog.Entry{}
	for _, sv := range cfg.Services {
		if !catalog.Listed(sv) {
			continue
		}
		e := catalog.NewEntry(sv, subs, docs[sv.Name])
		if kind != "" && e.Kind != kind || team != "" && e.Team != team || tag != "" && !containsString(e.Tags, tag) {
			continue
		}
		out = append(out, e)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// catalogService finds a service of the configuration in service.
func (s *Server) catalogService(name string) (config.Service, *Error) {
	cfg, _ := s.Configs.Current()
	for _, sv := range cfg.Services {
		if sv.Name == name {
			return sv, nil
		}
	}
	return config.Service{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no service %q in the catalog", name)}
}

func (s *Server) getCatalogEntry(w http.ResponseWriter, r *http.Request) error {
	sv, nf := s.catalogService(r.PathValue("service"))
	if nf != nil {
		return nf
	}
	subs, docs, err := s.catalogContext(r)
	if err != nil {
		return err
	}
	writeJSON(w, 200, catalog.NewEntry(sv, subs, docs[sv.Name]))
	return nil
}

// openAPIServiceTarget resolves the {name} of a service's OpenAPI route
// for its writers: the service's team.
func (s *Server) openAPIServiceTarget(r *http.Request) (auth.Target, *Error, error) {
	sv, nf := s.catalogService(r.PathValue("name"))
	if nf != nil {
		return auth.Target{}, nf, nf
	}
	return auth.Target{Team: sv.Team}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no service %q in the catalog", sv.Name)}, nil
}

func (s *Server) getServiceOpenAPI(w http.ResponseWriter, r *http.Request) error {
	if s.Documents == nil {
		return subscriptionsOff
	}
	sv, nf := s.catalogService(r.PathValue("name"))
	if nf != nil {
		return nf
	}
	d, err := s.Documents.GetOpenAPI(r.Context(), sv.Name)
	if errors.Is(err, store.ErrNotFound) {
		hint := "upload one with PUT or import it with POST …/openapi/import"
		return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("service %q has no OpenAPI document yet: %s", sv.Name, hint)}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", d.MediaType)
	w.Header().Set("ETag", strconv.Quote(d.SHA256))
	w.Header().Set("Last-Modified", d.UpdatedAt.UTC().Format(http.TimeFormat))
	if match := r.Header.Get("If-None-Match"); match != "" && match == strconv.Quote(d.SHA256) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.WriteHeader(200)
	_, _ = w.Write(d.Document)
	return nil
}

// storeOpenAPI checks a document and stores it for the service in the
// request's path.
func (s *Server) storeOpenAPI(w http.ResponseWriter, r *http.Request, body []byte, source string) error {
	if s.Documents == nil {
		return subscriptionsOff
	}
	sv, nf := s.catalogService(r.PathValue("name"))
	if nf != nil {
		return nf
	}
	d, err := catalog.ParseOpenAPI(body)
	if err != nil {
		return &Error{Status: 422, Code: "invalid_openapi", Msg: err.Error()}
	}
	d.Service, d.SourceURL, d.UpdatedBy, d.UpdatedAt = sv.Name, source, principal(r).Actor(), s.now().UTC()
	d, err = s.Documents.PutOpenAPI(r.Context(), d)
	if err != nil {
		return err
	}
	how := "uploaded"
	if source != "" {
		how = "imported from " + source
	}
	audit(r, auth.AuditEntry{Action: "service.openapi", Target: "service:" + sv.Name, Team: sv.Team,
		Summary: fmt.Sprintf("%s the OpenAPI document of service %s: %q version %s, %d bytes, sha256 %s", how, sv.Name, d.Title, d.Version, d.Size, d.SHA256)})
	writeJSON(w, 200, d)
	return nil
}

func (s *Server) putServiceOpenAPI(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, catalog.MaxOpenAPIBytes))
	if err != nil {
		return err
	}
	return s.storeOpenAPI(w, r, body, "")
}

type importRequest struct {
	URL string `json:"url"`
}

func (s *Server) importServiceOpenAPI(w http.ResponseWriter, r *http.Request) error {
	sv, nf := s.catalogService(r.PathValue("name"))
	if nf != nil {
		return nf
	}
	var in importRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	if in.URL == "" {
		in.URL = sv.OpenAPIURL
	}
	if in.URL == "" {
		return badRequest("url", "service %q has no openapi_url: send {\"url\": \"https://…\"}", sv.Name)
	}
	if _, err := catalog.CheckFetchURL(in.URL); err != nil {
		return badRequest("url", "url: %v", err)
	}
	if s.Importer == nil {
		return subscriptionsOff
	}
	body, err := s.Importer.Fetch(r.Context(), in.URL)
	if err != nil {
		return &Error{Status: 502, Code: "import_failed", Msg: fmt.Sprintf("importing %s: %v", in.URL, err)}
	}
	return s.storeOpenAPI(w, r, body, in.URL)
}
