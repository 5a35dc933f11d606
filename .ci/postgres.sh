#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store's conformance tests and
# prints its DSN as the only line on stdout; everything else goes to stderr,
# so callers can write HYPERGATE_TEST_POSTGRES=$(bash .ci/postgres.sh).
#
# Runs as root on a fresh Debian 12 machine (installing PostgreSQL when no
# server binary is present) or on a developer machine that already has one.
# Idempotent: when a server already answers on the port, it only prints the DSN.
# The cluster lives in /tmp/hypergate-pg, trusts local connections, listens on
# 127.0.0.1 only and runs with fsync off: it holds test data and nothing else.
set -euo pipefail

PORT="${HYPERGATE_PG_PORT:-55432}"
BASE="${HYPERGATE_PG_DIR:-/tmp/hypergate-pg}"
DATA="$BASE/data"
LOG="$BASE/server.log"
DSN="postgres://postgres@127.0.0.1:${PORT}/postgres?sslmode=disable"

log() { echo "postgres.sh: $*" >&2; }

# newest_bin prints the bin directory of the newest installed server, if any.
newest_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -n "$d" && -x "$d/postgres" ]]; then
		echo "$d"
	fi
}

# as_postgres runs a command as the postgres user; the cluster must not be
# owned by root, which PostgreSQL refuses to run as.
as_postgres() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

ready() {
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres
}

main() {
	BIN=$(newest_bin)
	if [[ -z "$BIN" ]]; then
		log "no PostgreSQL server found; installing it"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update
		apt-get install -y postgresql
		BIN=$(newest_bin)
		if [[ -z "$BIN" ]]; then
			log "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
			exit 1
		fi
	fi
	log "using $BIN"

	if ready; then
		log "a server is already up on 127.0.0.1:$PORT"
		return 0
	fi

	if [[ $(id -u) -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
		log "creating the postgres user"
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi

	# A server that is still starting from an earlier run keeps its cluster;
	# anything else left in the directory is a dead throwaway cluster.
	local pid=""
	if [[ -f "$DATA/postmaster.pid" ]]; then
		pid=$(head -n 1 "$DATA/postmaster.pid" || true)
	fi
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
		log "server pid $pid from an earlier run is starting; waiting for it"
	else
		rm -rf "$BASE"
		mkdir -p "$BASE"
		if [[ $(id -u) -eq 0 ]]; then
			chown postgres:postgres "$BASE"
		fi
		chmod 700 "$BASE"
		log "initialising a cluster in $DATA"
		(cd "$BASE" && as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust \
			--encoding=UTF8 --no-locale --no-sync >&2)
		log "starting the server on 127.0.0.1:$PORT"
		(cd "$BASE" && as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -s \
			-o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start </dev/null >&2) || {
			log "pg_ctl start failed; server log follows"
			cat "$LOG" >&2 || true
			exit 1
		}
	fi

	local i
	for i in $(seq 1 60); do
		if ready; then
			log "ready"
			return 0
		fi
		sleep 0.5
	done
	log "the server did not become ready in 30s; server log follows"
	cat "$LOG" >&2 || true
	exit 1
}

main >&2
echo "$DSN"
