#!/usr/bin/env bash
# npm test: every test layer, in order, each a small script under scripts/ci/.
# Stops at the first failing step and names it.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=(setup lint lint-js doc native postgres wasm-build doc-examples wasm-browser sync js adapters e2e package)
for step in "${steps[@]}"; do
  printf '\n\033[1m== %s ==\033[0m\n' "$step"
  start=$(date +%s)
  if ! bash "scripts/ci/$step.sh"; then
    printf '\n\033[1;31mstep "%s" failed\033[0m\n' "$step" >&2
    exit 1
  fi
  echo "[$step] ok in $(( $(date +%s) - start ))s"
done
printf '\n\033[1;32mall test steps passed\033[0m\n'
