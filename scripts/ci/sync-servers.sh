# Sourced by scripts/ci/sync.sh and scripts/bench.sh: builds and starts the
# reference server (fresh SQLite database in a temporary directory, loopback,
# a free port, any origin) and the broken backend of scripts/ci/bad-remote.mjs,
# exports their URLs as PETRICHAIN_TEST_SERVER / PETRICHAIN_TEST_BAD_REMOTE
# and a server under scripts/ci/restartable-server.mjs (which the tests can
# kill and restart) as PETRICHAIN_TEST_RESTART_CONTROL / _SERVER (read at
# compile time by the browser tests), a server with authentication on
# (device keys, and one operator token made up for the run) as
# PETRICHAIN_TEST_AUTH_SERVER / PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN, and
# stops them all on exit.
#   start_sync_servers debug|release

sync_tmp=""
sync_pids=()
stop_sync_servers() {
  for pid in "${sync_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${sync_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$sync_tmp" ] && rm -rf "$sync_tmp"
}
trap stop_sync_servers EXIT

# Waits for "listening on URL" in $1 (a log file); prints URL.
wait_for_url() {
  local log=$1 name=$2
  for _ in $(seq 1 200); do
    url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$log" | head -n1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "[sync] $name did not start:" >&2; cat "$log" >&2; return 1
}

start_sync_servers() {
  local profile=${1:-debug} flag=""
  [ "$profile" = release ] && flag=--release
  echo "[sync] building petrichain-server ($profile)"
  # Native build with the default toolchain (not the wasm route's compiler).
  (unset RUSTC RUSTDOC RUSTC_BOOTSTRAP CARGO_TARGET_DIR; cargo build -q -p petrichain-server $flag)
  sync_tmp=$(mktemp -d)
  "target/$profile/petrichain-server" --addr 127.0.0.1:0 --db "$sync_tmp/sync.sqlite" \
    --cors-origin '*' >"$sync_tmp/server.log" 2>&1 &
  sync_pids+=($!)
  # Authentication on: the operator token's SHA-256 only goes in the file.
  PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  printf 'token ci sha256:%s\n' "$(printf %s "$PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN" | sha256sum | cut -d' ' -f1)" \
    >"$sync_tmp/credentials"
  "target/$profile/petrichain-server" --addr 127.0.0.1:0 --db "$sync_tmp/auth.sqlite" \
    --cors-origin '*' --auth-file "$sync_tmp/credentials" >"$sync_tmp/auth.log" 2>&1 &
  sync_pids+=($!)
  node scripts/ci/bad-remote.mjs >"$sync_tmp/bad.log" 2>&1 &
  sync_pids+=($!)
  node scripts/ci/restartable-server.mjs "target/$profile/petrichain-server" "$sync_tmp/restart.sqlite" \
    >"$sync_tmp/restart.log" 2>&1 &
  sync_pids+=($!)
  PETRICHAIN_TEST_SERVER=$(wait_for_url "$sync_tmp/server.log" petrichain-server)
  PETRICHAIN_TEST_BAD_REMOTE=$(wait_for_url "$sync_tmp/bad.log" bad-remote)
  PETRICHAIN_TEST_RESTART_CONTROL=$(wait_for_url "$sync_tmp/restart.log" restartable-server)
  PETRICHAIN_TEST_RESTART_SERVER=$(sed -n 's/.* server \(http[^ ]*\).*/\1/p' "$sync_tmp/restart.log" | head -n1)
  PETRICHAIN_TEST_AUTH_SERVER=$(wait_for_url "$sync_tmp/auth.log" "petrichain-server (auth)")
  export PETRICHAIN_TEST_SERVER PETRICHAIN_TEST_BAD_REMOTE PETRICHAIN_TEST_RESTART_CONTROL PETRICHAIN_TEST_RESTART_SERVER
  export PETRICHAIN_TEST_AUTH_SERVER PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN
  echo "[sync] reference server at $PETRICHAIN_TEST_SERVER, broken backend at $PETRICHAIN_TEST_BAD_REMOTE"
}
