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
