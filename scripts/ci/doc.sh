#!/usr/bin/env bash
# Rustdoc of every crate in the workspace, natively, with warnings denied
# (broken intra-doc links, bare URLs, invalid code-block attributes ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --no-deps --quiet
