#!/usr/bin/env bash
# npm start: build what is missing (npm packages, the wasm engine, the
# reference server), build the app into www/dist and start petrichain-server
# serving the app and the sync API on one localhost URL, with its SQLite file
# under data/.
#   PORT=8080 npm start        (default 8787; PORT=0 picks a free port)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
# The engine is rebuilt when it is missing or older than its sources.
if [ ! -f pkg/petrichain_bg.wasm ] || [ -n "$(find crate web Cargo.toml Cargo.lock -newer pkg/petrichain_bg.wasm -type f -print -quit)" ]; then
  bash scripts/build-wasm.sh
fi
echo "[start] building the reference server (cargo, release; quick when up to date)"
cargo build --release -p petrichain-server --quiet
echo "[start] building the app into www/dist"
npx vite build --config www/vite.config.js --logLevel warn
mkdir -p data
echo "[start] serving the app and the sync API; open the URL below (Ctrl-C stops)"
exec "${CARGO_TARGET_DIR:-target}/release/petrichain-server" \
  --addr "127.0.0.1:${PORT:-8787}" --db data/petrichain.sqlite --static www/dist
