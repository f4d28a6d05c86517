#!/usr/bin/env bash
# Installs what petrichain needs to build (and, with --test, to test) and skips
# whatever is already there. Safe to run any number of times.
#
#   scripts/setup.sh          wasm toolchain + wasm-bindgen CLI + npm packages
#   scripts/setup.sh --test   the same, plus Chromium and chromedriver
#
# Route: a rustup toolchain that already has the wasm32-unknown-unknown target
# is used as it is. Without one, and where apt is available (Debian 12), the
# Debian route described in docs/toolchain.md is set up: rustc-web (1.96) with the
# standard library's source, std built for wasm32 with -Zbuild-std, lld as the
# linker. scripts/wasm-env.sh then points cargo at whichever route is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "need the packages '$*' but apt-get is not available; install them with your system's package manager"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: $*"
    sudo="sudo"
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $* (about a minute)"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# 1. Node and npm run the project's commands; nothing else works without them.
command -v node >/dev/null 2>&1 || die "node is not installed: install Node.js 20 or newer"
command -v npm >/dev/null 2>&1 || die "npm is not installed: install npm 10 or newer"
say "node $(node --version), npm $(npm --version 2>/dev/null)"

# 2. A Rust compiler that can target wasm32.
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "rustup has the wasm32-unknown-unknown target: using it"
else
  if [ -x /usr/bin/rustc ] && /usr/bin/rustc --version | grep -q . && [ -d /usr/lib/rustlib/src/rust/library ]; then
    say "Debian rustc-web is installed: $(/usr/bin/rustc --version)"
  else
    say "no wasm32 target in rustup (and 'rustup target add' cannot download here): installing Debian's rustc-web"
    apt_install rustc-web cargo-web rust-web-src
  fi
  # clippy for the wasm32 build of petrichain-web (scripts/ci/lint.sh).
  if ! [ -x /usr/bin/clippy-driver ]; then
    say "installing Debian's clippy for rustc-web (lint of the wasm32 build)"
    apt_install rust-web-clippy
  fi
  lld=$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -n1 || true)
  if [ -z "$lld" ] && ! [ -x /usr/lib/llvm-19/bin/wasm-ld ]; then
    say "no wasm linker found: installing lld-19"
    apt_install lld-19
  fi
fi
command -v cargo >/dev/null 2>&1 || [ -x /usr/bin/cargo ] || die "cargo is not installed: install Rust from https://rustup.rs"

# 3. wasm-bindgen CLI, exactly the version of the wasm-bindgen crate in Cargo.lock.
want_wb=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
[ -n "$want_wb" ] || die "could not read the wasm-bindgen version from Cargo.lock"
export PATH="$HOME/.cargo/bin:$PATH"
have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_wb" = "$want_wb" ]; then
  say "wasm-bindgen $have_wb already installed"
else
  say "installing wasm-bindgen-cli $want_wb (found '${have_wb:-none}'; about 3 minutes)"
  # Without --locked: one of its locked dependency versions is not in the registry here.
  cargo install wasm-bindgen-cli --version "=$want_wb" --quiet
fi

# 4. Chromium and chromedriver, for the browser tests.
if [ "$want_test" = 1 ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium and chromedriver already installed"
  else
    apt_install chromium chromium-driver
  fi
fi

# 5. npm packages (vite, playwright-core, ...). Never downloads a browser.
# Installed packages are stamped with the lock file's hash (mtimes are not
# enough: `npm install --package-lock-only` or a checkout can reorder them).
lock_sum=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-64)
if [ ! -d node_modules ] || [ "$(cat node_modules/.petrichain-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  echo "$lock_sum" > node_modules/.petrichain-lock
else
  say "npm packages up to date"
fi
say "ready"
