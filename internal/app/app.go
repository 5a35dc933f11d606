package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/anomaly"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/console"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/gateway"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/policy"
	"github.com/hypergate/hypergate/internal/probe"
	// Provider families register their types when imported.
	_ "github.com/hypergate/hypergate/internal/provider/anthropic"
	_ "github.com/hypergate/hypergate/internal/provider/azure"
	_ "github.com/hypergate/hypergate/internal/provider/bedrock"
	_ "github.com/hypergate/hypergate/internal/provider/cohere"
	_ "github.com/hypergate/hypergate/internal/provider/gemini"
	_ "github.com/hypergate/hypergate/internal/provider/openai"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/telemetry"
	"github.com/hypergate/hypergate/internal/triage"
)

// App is a running Hypergate: both planes, the store and the call log.
type App struct {
	s   Settings
	log *slog.Logger
	db  *store.DB
	gw  *gateway.Gateway
	rec *calllog.Recorder
	// pipeline is the call log's store: detectors, storage and rollups,
	// observers (analytics.go).
	pipeline *callPipeline
	metrics  *telemetry.Metrics
	tracer   *telemetry.Tracer      // nil: tracing off
	subs     *catalog.Subscriptions // the approval flow (catalog.go)
	hooks    *catalog.Webhooks
	alerts   *alerting        // alert rules (alerts.go)
	probes   *probe.Scheduler // synthetic probes (probes.go)
	status   *statusPage      // the public status page (status.go)
	// feedback stores feedback from both planes; what observes feedback
	// appends itself to feedback.Observers before serving starts.
	feedback *feedback.Service
	subsMu   sync.Mutex // orders reloads of subscriptions into the data plane

	// anomalies are the detectors the call pipeline runs on each batch.
	anomalies *anomaly.Engine
	// triage groups failures, anomalies and negative feedback into
	// incidents (triage.go).
	triage *triaging

	dataSrv  *fasthttp.Server
	adminSrv *http.Server
	dataLn   net.Listener
	adminLn  net.Listener

	mu  sync.Mutex // serialises configuration changes
	cfg *config.Config
	rev int64

	stop   context.CancelFunc // background loops
	loops  sync.WaitGroup
	served chan error
}

const adminTokenSetting = "admin_token_sha256"

// New opens the store, loads the configuration (applying the file given in
// the settings, if any) and builds both planes, without listening yet.
// A generated admin token is printed once on out.
func New(ctx context.Context, s Settings, logOut, out io.Writer) (*App, error) {
	if err := s.FromEnv(); err != nil {
		return nil, err
	}
	a := &App{s: s, log: telemetry.NewLogger(logOut, s.LogLevel), metrics: telemetry.NewMetrics()}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", s.DataDir, err)
	}
	db, err := store.Open(ctx, s.dsn())
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	a.db = db
	ok := false
	defer func() {
		if !ok {
			if a.rec != nil {
				_ = a.rec.Close(context.Background())
			}
			if a.hooks != nil {
				_ = a.hooks.Close(context.Background())
			}
			if a.tracer != nil {
				_ = a.tracer.Shutdown(context.Background())
			}
			if a.triage != nil {
				a.triage.close(context.Background())
			}
			db.Close()
		}
	}()
	if s.PricesFile != "" {
		b, err := os.ReadFile(s.PricesFile)
		if err != nil {
			return nil, fmt.Errorf("reading prices: %w", err)
		}
		t, err := llm.LoadPrices(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.PricesFile, err)
		}
		llm.SetPriceOverrides(t)
	}
	// The configuration first: a start that fails on it should not have
	// generated (and printed) an admin token the operator then overlooks.
	if err := a.loadConfig(ctx); err != nil {
		return nil, err
	}
	tokenHash, err := a.adminToken(ctx, out)
	if err != nil {
		return nil, err
	}

	// The gateway and the call log need each other (records flow one way,
	// secrets to redact the other); the forwarding funcs below are only
	// called once serving starts, after both exist.
	topts, err := s.tracing()
	if err != nil {
		return nil, err
	}
	if a.tracer, err = telemetry.NewTracer(topts); err != nil {
		return nil, err
	}
	if a.tracer != nil {
		a.metrics.RegisterTracer(a.tracer)
		a.log.Info("tracing", "otlp_endpoint", s.OTLPEndpoint, "sample_ratio", topts.SampleRatio)
	}
	fb := a.newFeedback() // feedback.go
	a.gw = gateway.New(gateway.Options{
		Recorder:       recordFunc(a.recordCall),
		Feedback:       fb,
		Metrics:        a.metrics,
		Logger:         a.log,
		BodyCapture:    s.BodyCapture,
		MaxRequestBody: s.MaxRequestBody,
		CacheBytes:     s.CacheBytes,
		Tracer:         a.tracer,
		CallTraces:     callTraces{db},
	})
	// The call pipeline (analytics.go) stores each batch of call records;
	// what annotates or observes the calls joins it here, before the
	// recorder starts writing.
	a.anomalies = anomaly.New(a.cfg.Detectors, anomaly.Options{Count: a.metrics.CountAnomaly})
	a.pipeline = &callPipeline{db: db, annotate: a.anomalies, log: a.log}
	// Review queues (review.go) add calls by their rules as calls are
	// stored and as feedback on them arrives.
	reviews := a.newReview(fb)
	a.pipeline.observers = append(a.pipeline.observers, namedObserver{"review", reviews})
	// Triage (triage.go) groups failures, anomalies and negative feedback
	// into incidents.
	a.triage = a.newTriage(fb)
	a.pipeline.observers = append(a.pipeline.observers, namedObserver{"triage", a.triage})
	a.rec, err = calllog.NewRecorder(a.pipeline, calllog.Options{
		QueueSize: s.QueueSize,
		SpillDir:  s.DataDir,
		Logger:    a.log,
		Secrets:   a.gw.Secrets,
	})
	if err != nil {
		return nil, fmt.Errorf("starting call log: %w", err)
	}
	a.metrics.RegisterCallLog(func() float64 { return float64(a.rec.Stats().QueueDepth) }, map[string]func() float64{
		"enqueued": func() float64 { return float64(a.rec.Stats().Enqueued) },
		"written":  func() float64 { return float64(a.rec.Stats().Written) },
		"spilled":  func() float64 { return float64(a.rec.Stats().Spilled) },
		"replayed": func() float64 { return float64(a.rec.Stats().Replayed) },
		"dropped":  func() float64 { return float64(a.rec.Stats().Dropped) },
	})
	a.alerts = a.newAlerting()
	a.probes = a.newProbes()
	if err := a.recordMissingReleases(ctx); err != nil {
		return nil, fmt.Errorf("recording releases: %w", err)
	}
	snap, err := a.compile(ctx, a.cfg, a.rev)
	if err != nil {
		return nil, fmt.Errorf("configuration revision %d: %w", a.rev, err)
	}
	if err := a.seedPolicies(ctx, snap); err != nil {
		return nil, err
	}
	a.gw.SetSnapshot(snap)
	if err := a.reloadKeys(ctx); err != nil {
		return nil, err
	}
	a.newSubscriptions()
	if err := a.reloadSubscriptions(ctx); err != nil {
		return nil, err
	}
	a.dataSrv = a.gw.Server()
	if a.status, err = a.newStatus(); err != nil {
		return nil, err
	}
	a.dataSrv.Handler = a.status.wrap(a.dataSrv.Handler) // /status on the data plane
	adm := &admin.Server{
		Analytics:   db,
		Rollups:     db,
		Alerts:      alertsView{db, a.alerts},
		Probes:      a.probes,
		Feedback:    feedbackAdmin{a},
		Reviews:     reviews,
		Hypercare:   db,
		Status:      a.status.service,
		Incidents:   db,
		Calls:       db,
		Keys:        keyManager{a},
		Configs:     configs{a},
		Users:       db,
		Sessions:    db,
		Tokens:      db,
		Audit:       db,
		Releases:    db,
		TokenHash:   tokenHash,
		SessionIdle: s.SessionIdle,
		SessionMax:  s.SessionMax,
		Ready:       a.ready,
		Metrics:     promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{}),
		Logger:      a.log,

		// The catalog, subscriptions and OpenAPI documents (catalog.go).
		Subscriptions: a.subs,
		Documents:     db,
		Importer:      &catalog.Fetcher{},
	}
	// The console shares the admin port and reads through the admin API's
	// handler, so it checks exactly the API's permissions.
	con := &console.Server{API: adm.Handler(), Logger: a.log}
	a.adminSrv = &http.Server{Handler: con.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	// The developer portal faces consumers: on the data plane, through an
	// allow-list of the admin API's routes (portal.go).
	a.dataSrv.Handler = portalWrap(&console.Portal{API: adm.Handler(), Prefix: s.PortalPath, Feedback: a.feedback, Logger: a.log}, a.dataSrv.Handler)
	ok = true
	return a, nil
}

// adminToken returns the SHA-256 of the admin token. HYPERGATE_ADMIN_TOKEN
// wins; otherwise the stored hash is used, and at first start a token is
// generated and printed once — only its hash is kept.
func (a *App) adminToken(ctx context.Context, out io.Writer) (string, error) {
	if a.s.AdminToken != "" {
		if len(a.s.AdminToken) < 16 {
			return "", errors.New("HYPERGATE_ADMIN_TOKEN must be at least 16 characters")
		}
		return auth.HashKey(a.s.AdminToken), nil
	}
	h, err := a.db.GetSetting(ctx, adminTokenSetting)
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("reading admin token: %w", err)
	}
	tok := auth.NewSecret("hga-")
	stored, err := a.db.SetSettingIfAbsent(ctx, adminTokenSetting, auth.HashKey(tok))
	if err != nil {
		return "", fmt.Errorf("storing admin token: %w", err)
	}
	if stored == auth.HashKey(tok) {
		fmt.Fprintf(out, "\nHypergate generated an admin token. It is shown only this once; keep it:\n\n    %s\n\nOpen the console at %s and create your administrator account with it.\nUse it as 'Authorization: Bearer <token>' on the admin API, or export HYPERGATE_ADMIN_TOKEN for the CLI.\n\n", tok, consoleURL(a.s.AdminListen))
	}
	return stored, nil
}

// loadConfig reads the newest revision and, when a file is given, applies it
// on top as a new revision if it differs.
func (a *App) loadConfig(ctx context.Context) error {
	a.cfg, a.rev = &config.Config{}, 0
	rv, err := a.db.LatestRevision(ctx)
	switch {
	case err == nil:
		cfg, err := config.ParseJSON(rv.Config)
		if err != nil {
			return fmt.Errorf("configuration revision %d: %w", rv.Number, err)
		}
		a.cfg, a.rev = cfg, rv.Number
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("reading configuration: %w", err)
	}
	if a.s.ConfigFile == "" {
		return nil
	}
	b, err := os.ReadFile(a.s.ConfigFile)
	if err != nil {
		return fmt.Errorf("reading configuration file: %w", err)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", a.s.ConfigFile, err)
	}
	if err := a.check(ctx, cfg); err != nil {
		return fmt.Errorf("%s: %w", a.s.ConfigFile, err)
	}
	diff := config.Diff(a.cfg, cfg)
	if len(diff) == 0 {
		return nil
	}
	rev, _, err := a.appendRevision(ctx, cfg, diff, "serve --config "+a.s.ConfigFile, "")
	if err != nil {
		return err
	}
	if _, err := a.db.AppendAudit(ctx, auth.AuditEntry{Actor: auth.ActorConfigFile, Action: "config.apply", Target: "config",
		Summary: fmt.Sprintf("applied %s at start (revision %d)", a.s.ConfigFile, rev.Number), Diff: strings.Join(diff, "\n")}); err != nil {
		return fmt.Errorf("recording the configuration file in the audit log: %w", err)
	}
	a.cfg, a.rev = cfg, rev.Number
	a.log.Info("configuration file applied", "file", a.s.ConfigFile, "revision", rev.Number, "changes", len(diff))
	return nil
}

// Apply validates and compiles cfg and, unless dryRun or nothing changed,
// records it as a new revision and puts it in service.
func (a *App) Apply(ctx context.Context, cfg *config.Config, author, message string, dryRun bool) (admin.ApplyResult, error) {
	if err := cfg.Validate(); err != nil {
		return admin.ApplyResult{}, err
	}
	// Validate with fresh routing state: a dry run must not prune the
	// live state of models the candidate configuration lacks.
	if err := a.check(ctx, cfg); err != nil {
		return admin.ApplyResult{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	diff := config.Diff(a.cfg, cfg)
	res := admin.ApplyResult{Changed: len(diff) > 0, Diff: diff}
	if res.Diff == nil {
		res.Diff = []string{}
	}
	if dryRun || !res.Changed {
		return res, nil
	}
	// The revision is stored first, with the releases it makes, because
	// the snapshot names them. The compilation that follows cannot fail
	// where the check above passed; should the store fail in between, the
	// next sync puts the revision in service.
	rev, rels, err := a.appendRevision(ctx, cfg, diff, author, message)
	if err != nil {
		return admin.ApplyResult{}, err
	}
	snap, err := a.compile(ctx, cfg, rev.Number)
	if err != nil {
		return admin.ApplyResult{}, fmt.Errorf("putting revision %d in service: %w", rev.Number, err)
	}
	res.Releases = withoutDefinitions(rels)
	a.cfg, a.rev = cfg, rev.Number
	a.seedPoliciesOrWarn(ctx, snap)
	a.gw.SetSnapshot(snap)
	a.probes.Update(cfg)
	a.anomalies.Update(cfg.Detectors)
	res.Revision = &rev
	a.log.Info("configuration applied", "revision", rev.Number, "author", author, "changes", len(diff))
	return res, nil
}

// seedPolicies fills the day and month counters of the consumer quotas
// and budgets that snap adds from the call records, so that they hold
// across restarts and reloads. It reads the store, off the hot path.
func (a *App) seedPolicies(ctx context.Context, snap *gateway.Snapshot) error {
	if !snap.NeedsUsage() {
		return nil
	}
	now := time.Now()
	dayStart, _ := policy.Day.Period(now)
	monthStart, _ := policy.Month.Period(now)
	rows, err := a.db.Usage(ctx, store.UsageQuery{
		Since:          []time.Time{dayStart, monthStart},
		SkipEndpoints:  gateway.UsageSkippedEndpoints,
		SkipErrorTypes: policy.RefusalCodes,
	})
	if err != nil {
		return fmt.Errorf("reading usage for quotas and budgets: %w", err)
	}
	day, month := map[string]policy.Usage{}, map[string]policy.Usage{}
	for _, r := range rows {
		d, m := r.Totals[0], r.Totals[1]
		day[r.Consumer] = policy.Usage{Requests: d.Requests, Tokens: d.Tokens, CostUSD: d.CostUSD}
		month[r.Consumer] = policy.Usage{Requests: m.Requests, Tokens: m.Tokens, CostUSD: m.CostUSD}
	}
	a.gw.SeedUsage(snap, now, day, month)
	return nil
}

// seedPoliciesOrWarn is seedPolicies for a reload, which goes ahead when
// the store cannot be read: new quotas then count from now.
func (a *App) seedPoliciesOrWarn(ctx context.Context, snap *gateway.Snapshot) {
	if err := a.seedPolicies(ctx, snap); err != nil {
		a.log.Warn("new quotas and budgets count from now", "error", err)
	}
}

// current returns the configuration in service and its revision.
func (a *App) current() (*config.Config, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg, a.rev
}

func (a *App) reloadKeys(ctx context.Context) error {
	keys, err := a.db.ActiveKeys(ctx)
	if err != nil {
		return fmt.Errorf("loading keys: %w", err)
	}
	a.gw.SetKeys(gateway.NewKeyTable(keys))
	pkeys, err := a.db.ActivePublishableKeys(ctx)
	if err != nil {
		return fmt.Errorf("loading publishable keys: %w", err)
	}
	a.gw.SetPublishableKeys(gateway.NewPublishableKeyTable(pkeys))
	return nil
}

// sync re-reads revisions and keys written by other nodes sharing the store.
func (a *App) sync(ctx context.Context) {
	rv, err := a.db.LatestRevision(ctx)
	if err == nil {
		a.mu.Lock()
		if rv.Number > a.rev {
			if cfg, err := config.ParseJSON(rv.Config); err != nil {
				a.log.Error("newer configuration revision does not validate", "revision", rv.Number, "error", err)
			} else if snap, err := a.compile(ctx, cfg, rv.Number); err != nil {
				a.log.Error("newer configuration revision does not compile", "revision", rv.Number, "error", err)
			} else {
				a.cfg, a.rev = cfg, rv.Number
				a.seedPoliciesOrWarn(ctx, snap)
				a.gw.SetSnapshot(snap)
				a.probes.Update(cfg)
				a.anomalies.Update(cfg.Detectors)
				a.log.Info("configuration reloaded from store", "revision", rv.Number)
			}
		}
		a.mu.Unlock()
	} else if !errors.Is(err, store.ErrNotFound) {
		a.log.Warn("cannot read configuration revisions", "error", err)
	}
	if err := a.reloadKeys(ctx); err != nil {
		a.log.Warn("cannot reload keys", "error", err)
	}
	if err := a.reloadSubscriptions(ctx); err != nil {
		a.log.Warn("cannot reload subscriptions", "error", err)
	}
}

func (a *App) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.db.Ping(ctx); err != nil {
		return fmt.Errorf("store unreachable: %w", err)
	}
	if a.gw.Snapshot() == nil {
		return errors.New("no configuration loaded")
	}
	return nil
}

// Start binds both ports and serves in the background.
func (a *App) Start() error {
	var err error
	if a.dataLn, err = net.Listen("tcp", a.s.Listen); err != nil {
		return fmt.Errorf("data plane: %w", err)
	}
	if a.adminLn, err = net.Listen("tcp", a.s.AdminListen); err != nil {
		a.dataLn.Close()
		return fmt.Errorf("admin API: %w", err)
	}
	a.served = make(chan error, 2)
	go func() { a.served <- a.dataSrv.Serve(a.dataLn) }()
	go func() {
		if err := a.adminSrv.Serve(a.adminLn); !errors.Is(err, http.ErrServerClosed) {
			a.served <- err
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	a.loops.Add(4)
	go func() {
		defer a.loops.Done()
		a.alerts.run(ctx, a.s.AlertInterval)
	}()
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		a.newHypercareReports().run(ctx, hypercareInterval) // hypercare.go
	}()
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		a.status.run(ctx) // status.go: the services' levels
	}()
	go func() {
		defer a.loops.Done()
		calllog.Retention{MaxAge: a.s.RetentionAge, MaxBytes: a.s.RetentionBytes, Logger: a.log}.Run(ctx, a.db)
	}()
	go func() {
		defer a.loops.Done()
		analytics.Retention{Minute: a.s.RollupRetentionMinute, Hour: a.s.RollupRetentionHour, Day: a.s.RollupRetentionDay,
			Logger: a.log}.Run(ctx, a.db)
	}()
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		triage.Retention{Logger: a.log}.Run(ctx, a.db)
	}()
	go func() {
		defer a.loops.Done()
		t := time.NewTicker(a.s.SyncInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.sync(ctx)
			}
		}
	}()
	cfg, _ := a.current()
	a.probes.Update(cfg)
	a.probes.Start()
	a.log.Info("hypergate started", "listen", a.dataLn.Addr().String(), "admin_listen", a.adminLn.Addr().String(),
		"store", a.db.Dialect(), "revision", a.rev)
	return nil
}

// DataAddr and AdminAddr are the bound addresses (useful with port 0).
func (a *App) DataAddr() string  { return a.dataLn.Addr().String() }
func (a *App) AdminAddr() string { return a.adminLn.Addr().String() }

// Gateway exposes the data plane, for tests and benchmarks.
func (a *App) Gateway() *gateway.Gateway { return a.gw }

// Recorder exposes the call log, for tests.
func (a *App) Recorder() *calllog.Recorder { return a.rec }

// Store exposes the store, for tests.
func (a *App) Store() *store.DB { return a.db }

// Run serves until ctx is done or a server fails, then shuts down.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(); err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.served:
		a.log.Error("server stopped", "error", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.s.ShutdownGrace+10*time.Second)
	defer cancel()
	return errors.Join(runErr, a.Shutdown(sctx))
}

// Shutdown stops accepting requests, lets those in flight (streams
// included) finish within the grace period, then flushes every call record
// and closes the store.
func (a *App) Shutdown(ctx context.Context) error {
	a.log.Info("shutting down: finishing in-flight requests")
	var errs []error
	a.probes.Close() // before the data plane, so that no run is cut short
	grace, cancel := context.WithTimeout(ctx, a.s.ShutdownGrace)
	defer cancel()
	if a.dataSrv != nil && a.dataLn != nil {
		if err := a.dataSrv.ShutdownWithContext(grace); err != nil {
			errs = append(errs, fmt.Errorf("data plane shutdown: %w", err))
		}
	}
	if a.adminLn != nil {
		if err := a.adminSrv.Shutdown(grace); err != nil {
			errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
		}
	}
	if a.stop != nil {
		a.stop()
		a.loops.Wait()
	}
	a.gw.Close() // REST services' health checks
	// Webhook retries may wait for seconds; what is still unsent after a
	// short while is logged and counted as dropped (catalog.Webhooks).
	hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := a.hooks.Close(hctx); err != nil {
		a.log.Warn("shutting down subscription webhooks", "error", err)
	}
	hcancel()
	a.alerts.close(ctx)
	a.status.close(ctx)
	if err := a.rec.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flushing call records: %w", err))
	}
	a.triage.close(ctx) // after the call log: its last batches may open incidents
	if a.tracer != nil {
		// After the planes: the last calls' spans are in the queue by now.
		if err := a.tracer.Shutdown(ctx); err != nil {
			a.log.Warn("flushing traces", "error", err)
		}
	}
	st := a.rec.Stats()
	a.log.Info("call log flushed", "written", st.Written, "spilled", st.Spilled, "dropped", st.Dropped)
	if err := a.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing store: %w", err))
	}
	return errors.Join(errs...)
}

// callTraces finds a stored call's trace id, for feedback spans.
type callTraces struct{ db *store.DB }

func (c callTraces) CallTraceID(ctx context.Context, id string) (string, error) {
	r, err := c.db.GetCall(ctx, id)
	if err != nil {
		return "", err
	}
	return r.TraceID, nil
}

type recordFunc func(calllog.Record)

func (f recordFunc) Record(r calllog.Record) { f(r) }

type pendingFunc func(string) (calllog.CallSummary, bool)

func (f pendingFunc) Pending(id string) (calllog.CallSummary, bool) { return f(id) }

// Adapters from the store to the small interfaces the domains declare.

type feedbackStore struct{ db *store.DB }

func (f feedbackStore) UpsertFeedback(ctx context.Context, fb feedback.Feedback) (feedback.Feedback, bool, error) {
	out, created, err := f.db.UpsertFeedback(ctx, fb)
	if errors.Is(err, store.ErrConflict) {
		return out, created, feedback.ErrConflict
	}
	return out, created, err
}

type callOwners struct{ db *store.DB }

func (c callOwners) CallSummary(ctx context.Context, id string) (calllog.CallSummary, bool, error) {
	s, err := c.db.CallSummary(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s, false, nil
	}
	return s, err == nil, err
}

type keyManager struct{ a *App }

func (k keyManager) CreateKey(ctx context.Context, consumer, name string, expiresAt *time.Time) (auth.Key, string, error) {
	key, secret := newKey(consumer, name, expiresAt)
	if err := k.a.db.CreateKey(ctx, key); err != nil {
		return auth.Key{}, "", fmt.Errorf("storing key: %w", err)
	}
	if err := k.a.reloadKeys(ctx); err != nil {
		return auth.Key{}, "", err
	}
	return key, secret, nil
}

func (k keyManager) ListKeys(ctx context.Context, consumer string) ([]auth.Key, error) {
	return k.a.db.ListKeys(ctx, consumer)
}

func (k keyManager) RevokeKey(ctx context.Context, id string) error {
	if err := k.a.db.RevokeKey(ctx, id); err != nil {
		return err
	}
	return k.a.reloadKeys(ctx)
}

type configs struct{ a *App }

func (c configs) Current() (*config.Config, int64) { return c.a.current() }
func (c configs) Apply(ctx context.Context, cfg *config.Config, author, message string, dryRun bool) (admin.ApplyResult, error) {
	return c.a.Apply(ctx, cfg, author, message, dryRun)
}
func (c configs) ListRevisions(ctx context.Context, limit int, before int64) ([]store.Revision, error) {
	return c.a.db.ListRevisions(ctx, limit, before)
}
func (c configs) GetRevision(ctx context.Context, n int64) (store.Revision, error) {
	return c.a.db.GetRevision(ctx, n)
}

// consoleURL is where a browser on this machine finds the console.
func consoleURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "the admin address " + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/signin/setup"
}
