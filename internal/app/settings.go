// Package app wires Hypergate together: settings → store → configuration →
// data plane and admin API, and takes them down gracefully.
package app

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/analytics"
	"github.com/hypergate/hypergate/internal/console"
	"github.com/hypergate/hypergate/internal/telemetry"
)

// Settings are the process-level options: where to listen and store data.
// Flags set them; HYPERGATE_* environment variables fill what flags leave
// unset; defaults fill the rest. What the gateway routes lives in the
// declarative configuration, not here.
type Settings struct {
	DataDir     string // HYPERGATE_DATA, default ./hypergate-data
	Listen      string // HYPERGATE_LISTEN, default :8080
	AdminListen string // HYPERGATE_ADMIN_LISTEN, default 127.0.0.1:8081
	// DatabaseURL selects the store: a postgres:// URL, or empty for SQLite
	// in the data directory (HYPERGATE_DATABASE_URL).
	DatabaseURL string
	ConfigFile  string // HYPERGATE_CONFIG: a declarative file applied at start
	AdminToken  string // HYPERGATE_ADMIN_TOKEN; generated at first start when empty
	LogLevel    string // HYPERGATE_LOG_LEVEL: debug, info, warn, error
	// PricesFile is a price table (the format of internal/llm/prices.yaml)
	// whose entries override or extend the built-in one (HYPERGATE_PRICES).
	PricesFile string

	BodyCapture    int           // HYPERGATE_BODY_CAPTURE_BYTES: bytes of each body kept in call records (default 32768; 0: none)
	MaxRequestBody int           // HYPERGATE_MAX_BODY_BYTES (default 32 MiB)
	RetentionAge   time.Duration // HYPERGATE_RETENTION_AGE (default 720h)
	RetentionBytes int64         // HYPERGATE_RETENTION_BYTES (default 5 GiB)
	QueueSize      int           // HYPERGATE_QUEUE_SIZE: call records held in memory before spilling (default 8192)
	ShutdownGrace  time.Duration // HYPERGATE_SHUTDOWN_GRACE: time given to in-flight requests (default 30s)
	// CacheBytes bounds the in-memory response cache of the models that
	// turn it on (HYPERGATE_CACHE_BYTES, default 64 MiB; 0 in the
	// environment turns it off, which Settings hold as -1).
	CacheBytes int64
	// SyncInterval is how often the configuration and keys are re-read from
	// the store, so that several nodes on one PostgreSQL converge (default 5s).
	SyncInterval time.Duration
	// Analytics rollups are kept longer than raw calls, coarser ones longer
	// still: HYPERGATE_ROLLUP_RETENTION_MINUTE (default 168h),
	// HYPERGATE_ROLLUP_RETENTION_HOUR (default 2160h) and
	// HYPERGATE_ROLLUP_RETENTION_DAY (default 17520h).
	RollupRetentionMinute, RollupRetentionHour, RollupRetentionDay time.Duration
	// SessionIdle ends a console session unused for this long
	// (HYPERGATE_SESSION_IDLE, default 2h); SessionMax ends any session this
	// long after sign-in (HYPERGATE_SESSION_MAX, default 24h).
	SessionIdle, SessionMax time.Duration
	// AlertInterval is how often the alert rules are evaluated
	// (HYPERGATE_ALERT_INTERVAL, default 15s).
	AlertInterval time.Duration
	// StatusInterval is how often the services' levels on the status page
	// are computed (HYPERGATE_STATUS_INTERVAL, default 30s); StatusCacheTTL
	// how long a built page is served (HYPERGATE_STATUS_CACHE_TTL, default
	// 15s). What the page shows is in the configuration's status section.
	StatusInterval, StatusCacheTTL time.Duration
	// PortalPath is where the developer portal is served on the data
	// plane (HYPERGATE_PORTAL_PATH, default /portal).
	PortalPath string
	// AdminURL is where people reach the admin API, e.g.
	// https://gateway-admin.example.com; alert notifications link the
	// matching calls under it, and relatively without it
	// (HYPERGATE_ADMIN_URL).
	AdminURL string

	// OTLPEndpoint is the OpenTelemetry collector traces are sent to over
	// OTLP/HTTP, e.g. http://otel-collector:4318 (/v1/traces is added to a
	// URL without a path). Empty: no tracing, and no span is ever created
	// (HYPERGATE_OTLP_ENDPOINT).
	OTLPEndpoint string
	// OTLPHeaders are sent with each export, as "name=value,name2=value2"
	// with URL-encoded values (HYPERGATE_OTLP_HEADERS).
	OTLPHeaders string
	// TraceSampleRatio is the share of new traces recorded, 0 to 1; a
	// client's sampled traceparent is always followed
	// (HYPERGATE_TRACE_SAMPLE_RATIO, default 1; 0 in the environment,
	// which Settings hold as -1, records only the traces clients sample).
	TraceSampleRatio float64
	// Version is the build's version, the traces' service.version (set by
	// the CLI; empty: the module version Go recorded).
	Version string
}

// FromEnv fills the fields still empty from HYPERGATE_* variables and then
// from defaults. It fails on a malformed number or duration, naming it.
func (s *Settings) FromEnv() error {
	str := func(dst *string, env, def string) {
		if *dst == "" {
			*dst = os.Getenv(env)
		}
		if *dst == "" {
			*dst = def
		}
	}
	str(&s.DataDir, "HYPERGATE_DATA", "hypergate-data")
	str(&s.Listen, "HYPERGATE_LISTEN", ":8080")
	str(&s.AdminListen, "HYPERGATE_ADMIN_LISTEN", "127.0.0.1:8081")
	str(&s.DatabaseURL, "HYPERGATE_DATABASE_URL", "")
	str(&s.ConfigFile, "HYPERGATE_CONFIG", "")
	str(&s.AdminToken, "HYPERGATE_ADMIN_TOKEN", "")
	str(&s.LogLevel, "HYPERGATE_LOG_LEVEL", "info")
	str(&s.PricesFile, "HYPERGATE_PRICES", "")
	str(&s.AdminURL, "HYPERGATE_ADMIN_URL", "")
	str(&s.OTLPEndpoint, "HYPERGATE_OTLP_ENDPOINT", "")
	str(&s.OTLPHeaders, "HYPERGATE_OTLP_HEADERS", "")
	str(&s.PortalPath, "HYPERGATE_PORTAL_PATH", console.DefaultPortalPath)
	if err := checkPortalPath(s.PortalPath); err != nil {
		return fmt.Errorf("HYPERGATE_PORTAL_PATH=%q: %w", s.PortalPath, err)
	}
	if s.TraceSampleRatio == 0 {
		s.TraceSampleRatio = 1
		if v := os.Getenv("HYPERGATE_TRACE_SAMPLE_RATIO"); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < 0 || x > 1 {
				return fmt.Errorf("HYPERGATE_TRACE_SAMPLE_RATIO=%q: want a number from 0 to 1", v)
			}
			s.TraceSampleRatio = x
			if x == 0 {
				s.TraceSampleRatio = -1 // explicit 0: only the traces clients sample
			}
		}
	}
	ints := []struct {
		dst *int
		env string
		def int
	}{
		{&s.BodyCapture, "HYPERGATE_BODY_CAPTURE_BYTES", 32 << 10},
		{&s.MaxRequestBody, "HYPERGATE_MAX_BODY_BYTES", 32 << 20},
		{&s.QueueSize, "HYPERGATE_QUEUE_SIZE", 8192},
	}
	for _, i := range ints {
		if *i.dst != 0 {
			continue
		}
		*i.dst = i.def
		if v := os.Getenv(i.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s=%q: want a whole number >= 0", i.env, v)
			}
			*i.dst = n
			if n == 0 && i.env == "HYPERGATE_BODY_CAPTURE_BYTES" {
				*i.dst = -1 // explicit 0 turns capture off
			}
		}
	}
	if s.RetentionBytes == 0 {
		s.RetentionBytes = 5 << 30
		if v := os.Getenv("HYPERGATE_RETENTION_BYTES"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("HYPERGATE_RETENTION_BYTES=%q: want a whole number of bytes > 0", v)
			}
			s.RetentionBytes = n
		}
	}
	if s.CacheBytes == 0 {
		s.CacheBytes = 64 << 20
		if v := os.Getenv("HYPERGATE_CACHE_BYTES"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("HYPERGATE_CACHE_BYTES=%q: want a whole number of bytes >= 0", v)
			}
			s.CacheBytes = n
			if n == 0 {
				s.CacheBytes = -1 // explicit 0 turns the cache off
			}
		}
	}
	durs := []struct {
		dst *time.Duration
		env string
		def time.Duration
	}{
		{&s.RetentionAge, "HYPERGATE_RETENTION_AGE", 30 * 24 * time.Hour},
		{&s.RollupRetentionMinute, "HYPERGATE_ROLLUP_RETENTION_MINUTE", analytics.DefaultMinuteRetention},
		{&s.RollupRetentionHour, "HYPERGATE_ROLLUP_RETENTION_HOUR", analytics.DefaultHourRetention},
		{&s.RollupRetentionDay, "HYPERGATE_ROLLUP_RETENTION_DAY", analytics.DefaultDayRetention},
		{&s.ShutdownGrace, "HYPERGATE_SHUTDOWN_GRACE", 30 * time.Second},
		{&s.SyncInterval, "HYPERGATE_SYNC_INTERVAL", 5 * time.Second},
		{&s.SessionIdle, "HYPERGATE_SESSION_IDLE", 2 * time.Hour},
		{&s.SessionMax, "HYPERGATE_SESSION_MAX", 24 * time.Hour},
		{&s.AlertInterval, "HYPERGATE_ALERT_INTERVAL", alert.DefaultInterval},
	}
	for _, d := range durs {
		if *d.dst != 0 {
			continue
		}
		*d.dst = d.def
		if v := os.Getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 {
				return fmt.Errorf("%s=%q: want a positive duration like 720h or 30s", d.env, v)
			}
			*d.dst = x
		}
	}
	return nil
}

// tracing returns the tracer options the settings describe.
func (s *Settings) tracing() (telemetry.TracingOptions, error) {
	o := telemetry.TracingOptions{Endpoint: s.OTLPEndpoint, SampleRatio: max(s.TraceSampleRatio, 0),
		ServiceName: "hypergate", ServiceVersion: s.Version}
	if o.ServiceVersion == "" {
		o.ServiceVersion = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			o.ServiceVersion = bi.Main.Version
		}
	}
	if s.OTLPHeaders != "" {
		h, err := telemetry.ParseHeaders(s.OTLPHeaders)
		if err != nil {
			return o, fmt.Errorf("HYPERGATE_OTLP_HEADERS: %w", err)
		}
		o.Headers = h
	}
	return o, nil
}

// dsn is the store to open: PostgreSQL when configured, else SQLite in the data directory.
func (s *Settings) dsn() string {
	if s.DatabaseURL != "" {
		return s.DatabaseURL
	}
	return "sqlite:" + filepath.Join(s.DataDir, "hypergate.db")
}

// portalReservedPaths are the data plane's own paths, which the portal's prefix
// must neither be nor contain nor sit under.
var portalReservedPaths = []string{"/v1", "/status", "/status.json", "/widget.js", "/healthz", "/readyz", "/metrics", "/admin"}

// checkPortalPath validates the portal's prefix: an absolute, clean path of
// plain segments, not the root and clear of the data plane's own paths.
func checkPortalPath(p string) error {
	if p == "" || p[0] != '/' || p == "/" || path.Clean(p) != p {
		return fmt.Errorf("want an absolute path like /portal, without a trailing slash")
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("want only letters, digits, '-', '_', '.' and '/'")
		}
	}
	for _, r := range portalReservedPaths {
		if p == r || strings.HasPrefix(p, r+"/") || strings.HasPrefix(r, p+"/") {
			return fmt.Errorf("clashes with the data plane's %s", r)
		}
	}
	return nil
}
