#!/usr/bin/env bash
# Runs every test of Hypergate. As root on a fresh Debian machine it first
# installs and starts what the tests need (PostgreSQL, via .ci/postgres.sh),
# so that nothing is skipped. CI runs exactly this script (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "test.sh: Go 1.26 or newer is required and was not found on PATH" >&2
    exit 1
  fi
fi

echo "== starting PostgreSQL for the store conformance and end-to-end tests" >&2
HYPERGATE_TEST_POSTGRES="$(bash .ci/postgres.sh)"
export HYPERGATE_TEST_POSTGRES

spec="${HYPERGATE_OPENAI_SPEC:-../shared/specs/openai-openapi.yaml}"
if [ -f "$spec" ]; then
  echo "== OpenAI spec check: responses are validated against $spec" >&2
else
  echo "== OpenAI spec check DID NOT RUN: $spec not found (set HYPERGATE_OPENAI_SPEC to OpenAI's openapi.yaml); everything else runs" >&2
fi

# The browser tests (internal/app/browser_test.go) drive Debian's Chromium
# with playwright-core from e2e/; it downloads no browser of its own.
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    pkgs=""
    [ -x /usr/bin/chromium ] || pkgs="chromium"
    { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || pkgs="$pkgs nodejs npm"
    echo "== installing$pkgs for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq $pkgs >&2
  else
    echo "== browser tests need /usr/bin/chromium, node and npm (as root on Debian this script installs them); TestBrowser skips without them outside CI" >&2
  fi
fi
if command -v npm >/dev/null 2>&1; then
  # Reinstall when package.json is newer than the install, so a changed pin
  # takes effect; no lockfile is written (see e2e/package.json).
  if [ ! -d e2e/node_modules/playwright-core ] || [ e2e/package.json -nt e2e/node_modules/.package-lock.json ]; then
    echo "== npm install in e2e/ for the browser tests (playwright-core, no browser download)" >&2
    (cd e2e && npm install --no-package-lock --no-audit --no-fund --loglevel=error >&2)
  else
    echo "== browser tests: e2e/node_modules is up to date" >&2
  fi
fi

echo "== gofmt and go vet" >&2
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...

echo "== go test -race" >&2
go test -race -count=1 -timeout 14m ./...
