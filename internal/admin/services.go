package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// Services are entries of the configuration, so that the declarative file
// and this API edit the same thing: every change here is applied as a new
// configuration revision, which records a release of each service it
// changes (the Configs implementation does, whatever made the change).
// Drafts are kept apart from the configuration until published.

// Releases stores services' releases and drafts.
type Releases interface {
	ListReleases(ctx context.Context, service string, limit, before int) ([]catalog.Release, error)
	GetRelease(ctx context.Context, service string, n int) (catalog.Release, error)
	// LatestReleases returns the newest published release of every
	// service, by name.
	LatestReleases(ctx context.Context) (map[string]catalog.Release, error)
	// AppendReleases stores releases made outside a configuration change:
	// those made from a draft to serve a canary.
	AppendReleases(ctx context.Context, rels []catalog.Release) ([]catalog.Release, error)
	GetDraft(ctx context.Context, service string) (catalog.Draft, error)
	PutDraft(ctx context.Context, d catalog.Draft) (catalog.Draft, error)
	DeleteDraft(ctx context.Context, service string) error
}

// releases returns the store of releases and drafts; a Server built
// without one has no history and keeps no drafts.
func (s *Server) releases() Releases {
	if s.Releases == nil {
		return noReleases{}
	}
	return s.Releases
}

// noReleases is the Releases of a Server without a store for them.
type noReleases struct{}

var errNoReleases = &Error{Status: 404, Code: "not_found", Msg: "this gateway keeps no releases or drafts"}

func (noReleases) ListReleases(context.Context, string, int, int) ([]catalog.Release, error) {
	return []catalog.Release{}, nil
}
func (noReleases) GetRelease(context.Context, string, int) (catalog.Release, error) {
	return catalog.Release{}, store.ErrNotFound
}
func (noReleases) LatestReleases(context.Context) (map[string]catalog.Release, error) {
	return map[string]catalog.Release{}, nil
}
func (noReleases) AppendReleases(context.Context, []catalog.Release) ([]catalog.Release, error) {
	return nil, errNoReleases
}
func (noReleases) GetDraft(context.Context, string) (catalog.Draft, error) {
	return catalog.Draft{}, store.ErrNotFound
}
func (noReleases) PutDraft(context.Context, catalog.Draft) (catalog.Draft, error) {
	return catalog.Draft{}, errNoReleases
}
func (noReleases) DeleteDraft(context.Context, string) error { return store.ErrNotFound }

// serviceView is a service as the admin API shows it: its published
// definition, the release that definition is, and whether a draft waits.
type serviceView struct {
	Service config.Service `json:"service"`
	// Release is the number of the published definition's release; absent
	// when none is known yet.
	Release  int  `json:"release,omitempty"`
	HasDraft bool `json:"has_draft"`
}

// draftDiff is the answer of GET /admin/v1/services/{name}/draft/diff.
type draftDiff struct {
	// Base is the release published now (0: the service is not published);
	// DraftBase the release the draft was saved over.
	Base      int      `json:"base"`
	DraftBase int      `json:"draft_base"`
	Diff      []string `json:"diff"`
}

// publishRequest is the body of POST …/publish.
type publishRequest struct {
	Message string `json:"message"`
	// CanaryPercent, when set, publishes the draft as a canary of the
	// published definition taking that share of the calls, instead of
	// publishing it for all of them.
	CanaryPercent float64 `json:"canary_percent"`
}

// lifecycleRequest is the body of POST …/rollback, …/deprecate and …/retire.
type lifecycleRequest struct {
	Message string `json:"message"`
	// Sunset (deprecate only) is when the service is to stop answering.
	Sunset *time.Time `json:"sunset"`
}

// serviceNotFound is what a service route answers for a service that does
// not exist or is out of the caller's reach.
func serviceNotFound(name string) *Error {
	return &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("no service %q", name)}
}

// serviceTarget resolves the {name} of a service route to its team: the
// published service's, else its draft's, else its newest release's, so
// that the drafts and history of a service are reachable by its team
// before it is published and after it is removed.
func (s *Server) serviceTarget(r *http.Request) (auth.Target, *Error, error) {
	name := r.PathValue("name")
	notFound := serviceNotFound(name)
	cfg, _ := s.Configs.Current()
	if i, ok := catalog.Find(cfg, name); ok {
		return auth.Target{Team: cfg.Services[i].Team}, notFound, nil
	}
	d, err := s.releases().GetDraft(r.Context(), name)
	if err == nil {
		return auth.Target{Team: d.Team}, notFound, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return auth.Target{}, notFound, err
	}
	rels, err := s.releases().ListReleases(r.Context(), name, 1, 0)
	if err != nil {
		return auth.Target{}, notFound, err
	}
	if len(rels) == 0 {
		return auth.Target{}, notFound, notFound
	}
	return auth.Target{Team: rels[0].Team}, notFound, nil
}

// published returns the named service as published, or a 404.
func published(cfg *config.Config, name string) (config.Service, error) {
	i, ok := catalog.Find(cfg, name)
	if !ok {
		return config.Service{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("service %q is not published", name)}
	}
	return cfg.Services[i], nil
}

func (s *Server) serviceViewOf(r *http.Request, sv config.Service, latest map[string]catalog.Release) (serviceView, error) {
	v := serviceView{Service: sv, Release: latest[sv.Name].Number}
	_, err := s.releases().GetDraft(r.Context(), sv.Name)
	switch {
	case err == nil:
		v.HasDraft = true
	case !errors.Is(err, store.ErrNotFound):
		return serviceView{}, err
	}
	return v, nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	latest, err := s.releases().LatestReleases(r.Context())
	if err != nil {
		return err
	}
	out := []serviceView{}
	p := principal(r)
	for _, sv := range cfg.Services {
		if !p.Reaches(auth.Target{Team: sv.Team}) {
			continue
		}
		v, err := s.serviceViewOf(r, sv, latest)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, 200, map[string]any{"data": out})
	return nil
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) error {
	cfg, _ := s.Configs.Current()
	sv, err := published(cfg, r.PathValue("name"))
	if err != nil {
		return err
	}
	latest, err := s.releases().LatestReleases(r.Context())
	if err != nil {
		return err
	}
	v, err := s.serviceViewOf(r, sv, latest)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

// claim fills in the team of a service a team member writes and checks
// that the principal may own it.
func claim(r *http.Request, sv *config.Service) error {
	p := principal(r)
	if p.Team != "" && sv.Team == "" {
		sv.Team = p.Team // a team member's new service is its team's
	}
	if !p.Reaches(auth.Target{Team: sv.Team}) {
		return &Error{Status: 403, Code: "forbidden", Param: "team",
			Msg: fmt.Sprintf("%s may write services of team %q only", p.Actor(), p.Team)}
	}
	return nil
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request) error {
	var sv config.Service
	if err := decodeJSON(r, &sv); err != nil {
		return err
	}
	if err := claim(r, &sv); err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	if _, exists := catalog.Find(cfg, sv.Name); exists {
		return &Error{Status: 409, Code: "conflict", Param: "name", Msg: fmt.Sprintf("service %q already exists", sv.Name)}
	}
	next, err := catalog.WithService(cfg, sv)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r), "add service "+sv.Name, false)
	if err != nil {
		return err
	}
	applied(r, res, "service.create", "service:"+sv.Name, sv.Team, "created service "+sv.Name)
	writeJSON(w, 201, res)
	return nil
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, _ := s.Configs.Current()
	sv, err := published(cfg, name)
	if err != nil {
		return err
	}
	var subscribers []string
	for _, c := range cfg.Consumers {
		if slices.Contains(c.Subscriptions, name) {
			subscribers = append(subscribers, c.Name)
		}
	}
	if len(subscribers) > 0 {
		return &Error{Status: 409, Code: "conflict",
			Msg:     fmt.Sprintf("consumers %v are subscribed to service %q: remove their subscriptions first, or retire the service", subscribers, name),
			Details: map[string]any{"consumers": subscribers}}
	}
	next, err := catalog.WithoutService(cfg, name)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r), "remove service "+name, false)
	if err != nil {
		return err
	}
	applied(r, res, "service.delete", "service:"+name, sv.Team, "deleted service "+name+"; its releases are kept")
	w.WriteHeader(204)
	return nil
}

// currentRelease returns the number of the service's newest published
// release, 0 when it has none.
func (s *Server) currentRelease(r *http.Request, name string) (int, error) {
	latest, err := s.releases().LatestReleases(r.Context())
	if err != nil {
		return 0, err
	}
	return latest[name].Number, nil
}

func (s *Server) putDraft(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var sv config.Service
	if err := decodeJSON(r, &sv); err != nil {
		return err
	}
	if sv.Name != "" && sv.Name != name {
		return badRequest("name", "the draft's name %q is not the service's %q: a service cannot be renamed", sv.Name, name)
	}
	sv.Name = name
	// The route has no target check, since the service may not exist yet:
	// whoever owns it now, if anyone, and the draft's team must both be
	// within reach.
	t, _, err := s.serviceTarget(r)
	var nf *Error
	switch {
	case errors.As(err, &nf) && nf.Status == 404:
	case err != nil:
		return err
	case !principal(r).Reaches(t):
		return serviceNotFound(name)
	default:
		if sv.Team == "" {
			sv.Team = t.Team // a draft that names no team keeps the service's
		}
	}
	if err := claim(r, &sv); err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	if _, err := catalog.CheckDefinition(cfg, sv); err != nil {
		return err
	}
	def, err := catalog.Definition(sv)
	if err != nil {
		return err
	}
	base, err := s.currentRelease(r, name)
	if err != nil {
		return err
	}
	d, err := s.releases().PutDraft(r.Context(), catalog.Draft{Service: name, Team: sv.Team, Base: base, Author: author(r), Definition: def})
	if err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "service.draft", Target: "service:" + name, Team: sv.Team,
		Summary: fmt.Sprintf("saved a draft of service %s over release %d", name, base)})
	writeJSON(w, 200, d)
	return nil
}

func (s *Server) draft(r *http.Request) (catalog.Draft, error) {
	name := r.PathValue("name")
	d, err := s.releases().GetDraft(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return catalog.Draft{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("service %q has no draft", name)}
	}
	return d, err
}

func (s *Server) getDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.draft(r)
	if err != nil {
		return err
	}
	writeJSON(w, 200, d)
	return nil
}

func (s *Server) deleteDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.draft(r)
	if err != nil {
		return err
	}
	if err := s.releases().DeleteDraft(r.Context(), d.Service); err != nil {
		return err
	}
	audit(r, auth.AuditEntry{Action: "service.draft.delete", Target: "service:" + d.Service, Team: d.Team,
		Summary: "discarded the draft of service " + d.Service})
	w.WriteHeader(204)
	return nil
}

func (s *Server) diffDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.draft(r)
	if err != nil {
		return err
	}
	to, err := catalog.DecodeDefinition(d.Definition)
	if err != nil {
		return err
	}
	cfg, _ := s.Configs.Current()
	var from *config.Service
	if i, ok := catalog.Find(cfg, d.Service); ok {
		pub, err := catalog.Normalize(cfg.Services[i])
		if err != nil {
			return err
		}
		from = &pub
	}
	base, err := s.currentRelease(r, d.Service)
	if err != nil {
		return err
	}
	writeJSON(w, 200, draftDiff{Base: base, DraftBase: d.Base, Diff: nonNilLines(catalog.ServiceDiff(from, &to))})
	return nil
}

func nonNilLines(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// decodeOptional decodes a JSON body that may be absent.
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("", "invalid JSON body: %v", err)
	}
	return nil
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) error {
	var in publishRequest
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	d, err := s.draft(r)
	if err != nil {
		return err
	}
	sv, err := catalog.DecodeDefinition(d.Definition)
	if err != nil {
		return err
	}
	if in.CanaryPercent != 0 {
		return s.publishCanary(w, r, d, sv, in)
	}
	msg := in.Message
	if msg == "" {
		msg = "publish the draft of service " + d.Service
	}
	cfg, _ := s.Configs.Current()
	next, err := catalog.WithService(cfg, sv)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r), msg, false)
	if err != nil {
		return err
	}
	if err := s.releases().DeleteDraft(r.Context(), d.Service); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	applied(r, res, "service.publish", "service:"+d.Service, sv.Team, "published the draft of service "+d.Service)
	if res.Revision == nil {
		// Nothing changed, but the draft was spent all the same.
		audit(r, auth.AuditEntry{Action: "service.draft.delete", Target: "service:" + d.Service, Team: d.Team,
			Summary: "the draft of service " + d.Service + " was the published definition; discarded"})
	}
	writeJSON(w, 200, res)
	return nil
}

// publishCanary makes a release of the draft sv that is not published, and
// publishes the service's current definition with a canary that sends
// in.CanaryPercent of the calls to it.
func (s *Server) publishCanary(w http.ResponseWriter, r *http.Request, d catalog.Draft, sv config.Service, in publishRequest) error {
	if !(in.CanaryPercent > 0 && in.CanaryPercent < 100) {
		return badRequest("canary_percent", "canary_percent must be above 0 and below 100 (to publish for every call, leave it out)")
	}
	cfg, _ := s.Configs.Current()
	pub, err := published(cfg, d.Service)
	if err != nil {
		return &Error{Status: 409, Code: "conflict", Param: "canary_percent",
			Msg: fmt.Sprintf("service %q is not published yet: a canary needs a published definition to share the calls with", d.Service)}
	}
	if sv.Team != pub.Team {
		return &Error{Status: 409, Code: "conflict", Param: "canary_percent",
			Msg: "the draft moves the service to another team, which a canary cannot do: publish it for all calls"}
	}
	// The draft must be able to serve: the configuration with it published
	// must validate and compile.
	trial, err := catalog.WithService(cfg, sv)
	if err != nil {
		return err
	}
	if _, err := s.Configs.Apply(r.Context(), trial, author(r), "", true); err != nil {
		return err
	}
	msg := in.Message
	if msg == "" {
		msg = fmt.Sprintf("canary of the draft of service %s", d.Service)
	}
	rel, err := catalog.CanaryRelease(sv, pub, author(r), msg, time.Now())
	if err != nil {
		return err
	}
	made, err := s.releases().AppendReleases(r.Context(), []catalog.Release{rel})
	if err != nil {
		return err
	}
	canary := made[0]
	pub.Canary = &config.ServiceCanary{Release: canary.Number, Percent: in.CanaryPercent}
	next, err := catalog.WithService(cfg, pub)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r),
		fmt.Sprintf("%s: release %d takes %s%% of the calls", msg, canary.Number, strconv.FormatFloat(in.CanaryPercent, 'f', -1, 64)), false)
	if err != nil {
		return err
	}
	if err := s.releases().DeleteDraft(r.Context(), d.Service); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	canary.Definition = nil
	res.Releases = append([]catalog.Release{canary}, res.Releases...)
	applied(r, res, "service.canary", "service:"+d.Service, pub.Team,
		fmt.Sprintf("release %d of service %s (the draft) takes %s%% of its calls", canary.Number, d.Service, strconv.FormatFloat(in.CanaryPercent, 'f', -1, 64)))
	writeJSON(w, 200, res)
	return nil
}

func releaseNumber(r *http.Request, param string) (int, error) {
	v := r.URL.Query().Get(param)
	if param == "n" {
		v = r.PathValue("n")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest(param, "%s: %q must be a release number (1 or more)", param, v)
	}
	return n, nil
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, before := store.DefaultReleaseLimit, 0
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > store.MaxReleaseLimit {
			return badRequest("limit", "limit: %q must be a whole number from 1 to %d", v, store.MaxReleaseLimit)
		}
	}
	if q.Get("before") != "" {
		if before, err = releaseNumber(r, "before"); err != nil {
			return err
		}
	}
	rels, err := s.releases().ListReleases(r.Context(), r.PathValue("name"), limit, before)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"data": rels})
	return nil
}

func (s *Server) release(r *http.Request) (catalog.Release, error) {
	n, err := releaseNumber(r, "n")
	if err != nil {
		return catalog.Release{}, err
	}
	name := r.PathValue("name")
	rel, err := s.releases().GetRelease(r.Context(), name, n)
	if errors.Is(err, store.ErrNotFound) {
		return catalog.Release{}, &Error{Status: 404, Code: "not_found", Msg: fmt.Sprintf("service %q has no release %d", name, n)}
	}
	return rel, err
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	writeJSON(w, 200, rel)
	return nil
}

// rollback publishes release n's definition again, as a new release: the
// history is never rewritten. It also promotes a canary release.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	var in lifecycleRequest
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	if in.Sunset != nil {
		return badRequest("sunset", "sunset is set with POST /admin/v1/services/{name}/deprecate")
	}
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	sv, err := rel.Decode()
	if err != nil {
		return err
	}
	if t := (auth.Target{Team: sv.Team}); !principal(r).Reaches(t) {
		return &Error{Status: 403, Code: "forbidden",
			Msg: fmt.Sprintf("release %d of service %s belongs to team %q, out of your reach", rel.Number, rel.Service, sv.Team)}
	}
	msg := in.Message
	if msg == "" {
		msg = fmt.Sprintf("roll service %s back to release %d", rel.Service, rel.Number)
	}
	cfg, _ := s.Configs.Current()
	next, err := catalog.WithService(cfg, sv)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r), msg, false)
	if err != nil {
		return err
	}
	applied(r, res, "service.rollback", "service:"+rel.Service, sv.Team,
		fmt.Sprintf("published release %d of service %s again", rel.Number, rel.Service))
	writeJSON(w, 200, res)
	return nil
}

func (s *Server) deprecate(w http.ResponseWriter, r *http.Request) error {
	var in lifecycleRequest
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	return s.changeLifecycle(w, r, in, "service.deprecate", func(sv config.Service) config.Service {
		return catalog.Deprecate(sv, in.Sunset)
	})
}

func (s *Server) retire(w http.ResponseWriter, r *http.Request) error {
	var in lifecycleRequest
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	if in.Sunset != nil {
		return badRequest("sunset", "a retired service keeps the sunset it was deprecated with; set it with POST /admin/v1/services/{name}/deprecate")
	}
	return s.changeLifecycle(w, r, in, "service.retire", catalog.Retire)
}

func (s *Server) changeLifecycle(w http.ResponseWriter, r *http.Request, in lifecycleRequest, action string, change func(config.Service) config.Service) error {
	name := r.PathValue("name")
	cfg, _ := s.Configs.Current()
	sv, err := published(cfg, name)
	if err != nil {
		return err
	}
	sv = change(sv)
	msg := in.Message
	if msg == "" {
		msg = fmt.Sprintf("service %s is now %s", name, sv.State)
	}
	next, err := catalog.WithService(cfg, sv)
	if err != nil {
		return err
	}
	res, err := s.Configs.Apply(r.Context(), next, author(r), msg, false)
	if err != nil {
		return err
	}
	applied(r, res, action, "service:"+name, sv.Team, msg)
	writeJSON(w, 200, res)
	return nil
}
