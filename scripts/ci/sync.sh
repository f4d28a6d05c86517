#!/usr/bin/env bash
# The sync client against the real reference server, in headless Chromium:
# starts petrichain-server (fresh SQLite file, loopback, port 0, any origin)
# and a deliberately broken backend (500 / garbage), passes their URLs to
# the browser tests at compile time, runs web/tests/sync_server_web.rs,
# and stops both servers whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/sync-servers.sh
start_sync_servers debug
. scripts/wasm-env.sh
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/web/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"
# shellcheck disable=SC2086
$WASM_CARGO test -p petrichain-web --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --test sync_server_web
