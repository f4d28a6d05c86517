#!/usr/bin/env bash
# npm start: install what is missing, build the wasm package, serve the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
port="${PORT:-5173}"
echo "[start] serving the app; open the Local URL printed below (Ctrl-C stops)"
exec npx vite --config www/vite.config.js --host 127.0.0.1 --port "$port"
