#!/usr/bin/env bash
# Formatting and clippy on the native build.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
