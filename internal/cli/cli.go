// Package cli implements the hypergate command: serve runs the gateway; the
// client commands (apply, diff, keys, users, tokens, teams, audit,
// services, subscriptions, catalog, analytics) talk to a running gateway's admin API
// at HYPERGATE_ADMIN_URL with HYPERGATE_ADMIN_TOKEN (the admin token or an
// API token).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/hypergate/hypergate/internal/app"
)

// Version is set at build time with -ldflags "-X github.com/hypergate/hypergate/internal/cli.Version=v1.2.3".
var Version = ""

// version reports the build's version: the -ldflags value, else the module
// version or VCS revision Go recorded.
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

const usage = `hypergate — an API and LLM gateway that closes the feedback loop

Usage:
  hypergate serve [flags]            run the gateway (zero config: SQLite in ./hypergate-data)
  hypergate apply -f FILE            apply a declarative file to a running gateway
  hypergate diff -f FILE             show what differs (exit 0: none, 1: drift, 2: error)
  hypergate keys create --consumer NAME [--name NAME]
  hypergate keys list [--consumer NAME]
  hypergate keys revoke ID
  hypergate keys rotate --consumer NAME ID [--grace 24h]
                                     (the old key works for the grace period)
  hypergate users create --email EMAIL --role ROLE [--team TEAM] [--consumer NAME]
                                     (the password is read from a prompt or standard input)
  hypergate users list [--team TEAM]
  hypergate tokens create --name NAME --role ROLE [--team TEAM] [--expires 90d]
  hypergate tokens list
  hypergate tokens revoke ID
  hypergate teams list
  hypergate teams create NAME [--description TEXT]
  hypergate audit [--actor A] [--action X] [--target T] [--since TIME] [--diff]
  hypergate catalog [--tag TAG] [--kind rest|ai] [--team TEAM]
  hypergate services list
  hypergate services get NAME        (the published definition, as YAML)
  hypergate services publish NAME [-f FILE] [-m MESSAGE] [--canary PERCENT]
                                     (FILE, one service's YAML or JSON, is saved as the draft first)
  hypergate services releases NAME [--diff]
  hypergate services rollback NAME RELEASE [-m MESSAGE]
  hypergate services deprecate NAME [--sunset RFC3339] [-m MESSAGE]
  hypergate services retire NAME [-m MESSAGE]
  hypergate subscriptions list [--state STATE] [--service NAME] [--consumer NAME]
  hypergate subscriptions request --consumer NAME --service NAME
  hypergate subscriptions approve ID [--reason TEXT]
  hypergate subscriptions reject ID --reason TEXT
  hypergate subscriptions revoke ID --reason TEXT
  hypergate analytics rebuild --from TIME [--to TIME]
                                     (recompute the rollups of whole days from the raw records)
  hypergate version

Client commands reach the admin API at HYPERGATE_ADMIN_URL (default
http://127.0.0.1:8081) with the token in HYPERGATE_ADMIN_TOKEN. The catalog,
services, subscriptions and keys rotate commands print a table or a
sentence; --json prints the admin API's answer instead.
Run 'hypergate COMMAND -h' for a command's flags.
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "apply":
		return apply(args[1:], stdout, stderr)
	case "diff":
		return diff(args[1:], stdout, stderr)
	case "keys":
		return keys(args[1:], stdout, stderr)
	case "users":
		return users(args[1:], stdout, stderr)
	case "tokens":
		return tokens(args[1:], stdout, stderr)
	case "teams":
		return teams(args[1:], stdout, stderr)
	case "audit":
		return auditLog(args[1:], stdout, stderr)
	case "catalog":
		return catalogList(args[1:], stdout, stderr)
	case "services":
		return services(args[1:], stdout, stderr)
	case "subscriptions":
		return subscriptions(args[1:], stdout, stderr)
	case "analytics":
		return analyticsCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "hypergate", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "hypergate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s app.Settings
	fs.StringVar(&s.ConfigFile, "config", "", "declarative configuration file to apply at start (HYPERGATE_CONFIG)")
	fs.StringVar(&s.DataDir, "data", "", "data directory (HYPERGATE_DATA, default ./hypergate-data)")
	fs.StringVar(&s.Listen, "listen", "", "data-plane address (HYPERGATE_LISTEN, default :8080)")
	fs.StringVar(&s.AdminListen, "admin-listen", "", "admin API address (HYPERGATE_ADMIN_LISTEN, default 127.0.0.1:8081)")
	fs.StringVar(&s.DatabaseURL, "database", "", "postgres:// URL; empty: SQLite in the data directory (HYPERGATE_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hypergate serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if os.Getenv("GOGC") == "" {
		// Each garbage collection stops the world, and the stop waits for the
		// low-priority writer thread to reach a safe point, which the kernel
		// may delay while requests keep the CPU busy. Collecting at 3x the
		// live heap instead of 2x halves those waits: p99 4 ms instead of
		// 39 ms at 10k req/s on one core, for ~30 MB more at peak
		// (docs/benchmarks.md). GOGC overrides it.
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		// The call-log writer runs on its own thread at the lowest priority
		// (see calllog's backgroundPriority). With a single P that thread
		// would hold it while the kernel keeps it waiting, stalling every
		// request; a second P keeps the data plane running meanwhile, even
		// on one CPU. Measured in docs/benchmarks.md.
		runtime.GOMAXPROCS(2)
	}
	if s.Version == "" {
		s.Version = version() // the traces' service.version
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, s, stderr, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "hypergate: %v\n", err)
		return 1
	}
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "hypergate: %v\n", err)
		return 1
	}
	return 0
}
