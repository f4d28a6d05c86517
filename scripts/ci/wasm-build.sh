#!/usr/bin/env bash
# The release wasm package (pkg/) that the JS, page and package tests use.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build-wasm.sh
