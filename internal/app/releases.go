package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/gateway"
	"github.com/hypergate/hypergate/internal/store"
)

// Releases of services are recorded with the revision that makes them, in
// one transaction, whatever made the change: the admin API, a declarative
// apply, a restore or the file given at start. Compiling a configuration
// needs what the store knows of them — the release each service is, the
// definitions canaries serve, when deprecations began — so it is loaded
// before every compilation, off the hot path.

// releaseHistory is how many releases of a deprecated service are read to
// find when its deprecation began; a deprecation older than that many
// releases dates from the oldest of them.
const releaseHistory = 200

// appendRevision stores cfg as the next revision together with the
// releases it makes: one for each service whose definition differs from
// its newest published release.
func (a *App) appendRevision(ctx context.Context, cfg *config.Config, diff []string, author, message string) (store.Revision, []catalog.Release, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return store.Revision{}, nil, fmt.Errorf("encoding configuration: %w", err)
	}
	text := ""
	for _, d := range diff {
		text += d + "\n"
	}
	latest, err := a.db.LatestReleases(ctx)
	if err != nil {
		return store.Revision{}, nil, err
	}
	rels, err := catalog.Pending(cfg, latest, 0, author, message, time.Now())
	if err != nil {
		return store.Revision{}, nil, err
	}
	return a.db.AppendRevisionReleases(ctx, store.Revision{Author: author, Message: message, Config: b, Diff: text}, rels)
}

// recordMissingReleases records a release of every service in service
// whose definition no release holds yet: those of a store written before
// releases existed, or by a node that could not record them. It runs at
// start, before the first compilation.
func (a *App) recordMissingReleases(ctx context.Context) error {
	latest, err := a.db.LatestReleases(ctx)
	if err != nil {
		return err
	}
	rels, err := catalog.Pending(a.cfg, latest, a.rev, "hypergate",
		fmt.Sprintf("the definition in service at revision %d, which no release held", a.rev), time.Now())
	if err != nil || len(rels) == 0 {
		return err
	}
	if _, err := a.db.AppendReleases(ctx, rels); err != nil {
		return err
	}
	names := make([]string, len(rels))
	for i, r := range rels {
		names[i] = r.Service
	}
	a.log.Info("recorded releases of services that had none", "services", strings.Join(names, ","))
	return nil
}

// releasesFor loads what compiling cfg needs of the services' releases. A
// canary whose release does not exist, or no longer fits cfg, is an error
// of the configuration (*admin.Error, 422).
func (a *App) releasesFor(ctx context.Context, cfg *config.Config) (gateway.Releases, error) {
	rel := gateway.Releases{Current: map[string]int{}, Canaries: map[string]gateway.ReleaseDefinition{}, DeprecatedAt: map[string]time.Time{}}
	latest, err := a.db.LatestReleases(ctx)
	if err != nil {
		return rel, err
	}
	for _, s := range cfg.Services {
		if l, ok := latest[s.Name]; ok {
			rel.Current[s.Name] = l.Number
		}
		if s.Canary != nil && s.State != config.StateRetired {
			def, err := a.canaryDefinition(ctx, cfg, s)
			if err != nil {
				return rel, err
			}
			rel.Canaries[s.Name] = def
		}
		if s.State == config.StateDeprecated {
			history, err := a.db.ListReleases(ctx, s.Name, releaseHistory, 0)
			if err != nil {
				return rel, err
			}
			if since, ok := catalog.DeprecatedSince(history); ok {
				rel.DeprecatedAt[s.Name] = since
			}
		}
	}
	return rel, nil
}

func (a *App) canaryDefinition(ctx context.Context, cfg *config.Config, s config.Service) (gateway.ReleaseDefinition, error) {
	n := s.Canary.Release
	r, err := a.db.GetRelease(ctx, s.Name, n)
	if errors.Is(err, store.ErrNotFound) {
		return gateway.ReleaseDefinition{}, &admin.Error{Status: 422, Code: "invalid_config", Param: "canary",
			Msg: fmt.Sprintf("service %q: canary release %d does not exist; list the releases with GET /admin/v1/services/%s/releases", s.Name, n, s.Name)}
	}
	if err != nil {
		return gateway.ReleaseDefinition{}, err
	}
	def, err := r.Decode()
	if err != nil {
		return gateway.ReleaseDefinition{}, fmt.Errorf("service %q: canary release %d: %w", s.Name, n, err)
	}
	def = catalog.CanaryDefinition(def, s)
	if err := catalog.CheckCanary(cfg, def); err != nil {
		return gateway.ReleaseDefinition{}, &admin.Error{Status: 422, Code: "invalid_config", Param: "canary", Err: err,
			Msg: fmt.Sprintf("service %q: canary release %d no longer fits the configuration: %v", s.Name, n, err)}
	}
	return gateway.ReleaseDefinition{Number: n, Service: def}, nil
}

// compile builds the snapshot of cfg at revision rev with the gateway's
// routing state, knowing the services' releases.
func (a *App) compile(ctx context.Context, cfg *config.Config, rev int64) (*gateway.Snapshot, error) {
	rel, err := a.releasesFor(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return a.gw.CompileReleases(cfg, rev, rel)
}

// check compiles cfg with fresh routing state, to validate it without
// touching the live state: a dry run must not prune the state of what the
// candidate lacks. What does not compile is a 422 *admin.Error; a store
// that cannot be read is an error of its own.
func (a *App) check(ctx context.Context, cfg *config.Config) error {
	rel, err := a.releasesFor(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := gateway.CompileReleases(cfg, 0, gateway.NewState(), rel); err != nil {
		return &admin.Error{Status: 422, Code: "invalid_config", Msg: err.Error()}
	}
	return nil
}

// withoutDefinitions returns rels for an answer: the definitions, which
// GET …/releases/{n} shows, left out.
func withoutDefinitions(rels []catalog.Release) []catalog.Release {
	out := make([]catalog.Release, len(rels))
	for i, r := range rels {
		r.Definition = nil
		out[i] = r
	}
	return out
}
