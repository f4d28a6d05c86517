#!/usr/bin/env bash
# The sync server on PostgreSQL, against a real PostgreSQL server:
# 1. installs Debian's postgresql package if no server binaries are found;
# 2. starts a throwaway cluster (initdb in a temporary directory, as the
#    unprivileged postgres user when run as root) on 127.0.0.1 and a free
#    port, socket in the same temporary directory;
# 3. runs the server's PostgreSQL tests (the shared storage suite, the
#    HTTP suite, the two-process load test, the fault tests that kill the
#    servers and crash this cluster) with its URL in
#    PETRICHAIN_TEST_POSTGRES_URL and PETRICHAIN_TEST_POSTGRES_REQUIRED=1, so
#    a missing URL fails them instead of skipping them; then the transfers
#    load tool at a small size (server/examples/transfers);
# 4. stops the cluster and removes its directory on exit, whatever happened.
# Anything that keeps PostgreSQL from starting fails this step loudly.
#
# With arguments, runs them instead of the tests, with the same environment
# (the benchmark: bash scripts/ci/postgres.sh cargo run --release -p
# petrichain-server --example load -- --db both). With PETRICHAIN_PG_KEEP=1
# it prints the URL and keeps PostgreSQL running until interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
  printf '\n\033[1;31mpostgres step FAILED: %s\033[0m\n' "$*" >&2
  exit 1
}

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    echo "$d"
  fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql: installing Debian's postgresql package"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "not root and no sudo: install PostgreSQL (apt-get install postgresql) and rerun"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null || fail "apt-get install -y postgresql failed"
  bin=$(find_bin)
  [ -n "$bin" ] || fail "the postgresql package is installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
fi
echo "PostgreSQL binaries: $bin ($("$bin/postgres" --version))"

# PostgreSQL refuses to run as root: run it as the postgres system user.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || fail "running as root and there is no 'postgres' system user to run the server as"
  as_pg() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_pg() { "$@"; }
  owner=$(id -un)
fi

tmp=$(mktemp -d /tmp/petrichain-pg.XXXXXX)
data="$tmp/data"
chown "$owner" "$tmp"
chmod 700 "$tmp"
cleanup() {
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
      as_pg "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$tmp/initdb.log" 2>&1; then
  cat "$tmp/initdb.log" >&2
  fail "initdb failed (log above)"
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 30000))
  port_in_use "$port" && continue
  if as_pg "$bin/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 30 -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=300" start >/dev/null; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  cat "$tmp/server.log" >&2 2>/dev/null || true
  fail "PostgreSQL did not start (server log above)"
fi

url="postgres://postgres@127.0.0.1:$port/postgres"
version=$(as_pg "$bin/psql" -X -A -t -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SHOW server_version') ||
  fail "PostgreSQL started but does not answer on 127.0.0.1:$port"
echo "PostgreSQL $version on 127.0.0.1:$port (data in $data)"

export PETRICHAIN_TEST_POSTGRES_URL="$url"
export PETRICHAIN_TEST_POSTGRES_REQUIRED=1
# For the fault tests (server/tests/pg_faults.rs), which crash and restart
# this cluster and start a primary and standby of their own.
export PETRICHAIN_TEST_PG_BIN="$bin"
export PETRICHAIN_TEST_PG_DATA="$data"
export PETRICHAIN_TEST_PG_TMP="$tmp"
if [ "$(id -u)" -eq 0 ]; then
  export PETRICHAIN_TEST_PG_RUNAS="runuser -u postgres --"
else
  export PETRICHAIN_TEST_PG_RUNAS=""
fi

if [ $# -gt 0 ]; then
  "$@"
  exit
fi
if [ "${PETRICHAIN_PG_KEEP:-}" = 1 ]; then
  echo "PETRICHAIN_TEST_POSTGRES_URL=$url"
  echo "kept running until interrupted"
  sleep_pid=""
  trap 'if [ -n "$sleep_pid" ]; then kill "$sleep_pid" 2>/dev/null; fi; exit 0' INT TERM
  while :; do
    sleep 3600 &
    sleep_pid=$!
    wait "$sleep_pid"
  done
fi

# Only the PostgreSQL tests (module `postgres` in each suite); the SQLite
# ones run in the native step. Count them: a filter that matched nothing
# must not pass.
out="$tmp/cargo-test.log"
set +e
cargo test -p petrichain-server --test storage_suite --test sync_server --test pg_faults -- postgres 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || fail "cargo test failed against PostgreSQL (exit $status)"
passed=$(awk '/^test result: ok\./ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) s += $i } END { print s + 0 }' "$out")
echo "PostgreSQL tests passed: $passed"
[ "${passed:-0}" -ge 25 ] || fail "only ${passed:-0} PostgreSQL tests ran (expected at least 25)"

# The load tool of issue 14 at a small size on a fresh database of this
# cluster: its exit code is its checks (sum of balances, acknowledged
# transfers, verification).
cargo run -p petrichain-server --example transfers --quiet -- --db postgres -c 4 -t 200 -u 20 --pending 5 --timeout 300 ||
  fail "the transfers load tool failed on PostgreSQL"
