#!/usr/bin/env bash
# npm start: install what is missing, build the wasm package if it is missing,
# build the app (www/dist) and serve it on one printed localhost URL.
#   PORT=8080 npm start
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The engine is rebuilt when it is missing or older than its sources.
if [ ! -f pkg/petrichain_bg.wasm ] || [ -n "$(find crate Cargo.toml Cargo.lock -newer pkg/petrichain_bg.wasm -type f -print -quit)" ]; then
  bash scripts/build-wasm.sh
fi
echo "[start] building the app into www/dist"
npx vite build --config www/vite.config.js --logLevel warn
port="${PORT:-5173}"
echo "[start] serving www/dist (no sync backend yet); open the Local URL printed below (Ctrl-C stops)"
exec npx vite preview --config www/vite.config.js --host 127.0.0.1 --port "$port" --strictPort
