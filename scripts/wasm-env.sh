# Sourced by the scripts that build for wasm32. Chooses the route set up by
# scripts/setup.sh and exports what cargo needs for it:
#   WASM_CARGO        the cargo to run
#   WASM_CARGO_FLAGS  extra flags (-Zbuild-std on the Debian route)
#   WASM_RELEASE_FLAGS, WASM_RELEASE_RUSTFLAGS, WASM_RELEASE_WRAPPER
#                     extra cargo flags and target RUSTFLAGS of the shipped
#                     wasm-release build (empty on the rustup route)
export PATH="$HOME/.cargo/bin:$PATH"
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_CARGO=cargo
  WASM_CARGO_FLAGS=""
  WASM_RELEASE_FLAGS=""
  WASM_RELEASE_RUSTFLAGS=""
  WASM_RELEASE_WRAPPER="${RUSTC_WRAPPER:-}"
else
  # Debian's rustc-web, with std built from source for wasm32. RUSTC/RUSTDOC
  # must be explicit, or cargo picks rustup's shim and fails with E0514.
  WASM_CARGO=/usr/bin/cargo
  WASM_CARGO_FLAGS="-Zbuild-std=std,panic_abort"
  # The shipped build (profile wasm-release: build-wasm.sh, bench.sh) also
  # builds std for size: std's small integer formatting and sorts, and panics
  # that trap at once without formatting a message. On wasm32-unknown-unknown
  # with no panic hook that message went nowhere anyway: JS sees the same
  # `RuntimeError: unreachable` either way. About 30 KB gzipped.
  WASM_RELEASE_FLAGS="-Zbuild-std-features=optimize_for_size"
  # (-Zpanic_abort_tests lets bench.sh build its harnesses with it too.)
  WASM_RELEASE_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zpanic_abort_tests -Zcross-crate-inline-threshold=always"
  # ... except for sha2, which the wrapper puts back to the default (why: in the script).
  WASM_RELEASE_WRAPPER="$PWD/scripts/rustc-wasm-release.sh"
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  lld=$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -n1 || true)
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="${lld:-/usr/lib/llvm-19/bin/wasm-ld}"
  # Keep the Debian compiler's artefacts apart from rustup's native ones.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/wasm}"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export WASM_CARGO WASM_CARGO_FLAGS WASM_RELEASE_FLAGS WASM_RELEASE_RUSTFLAGS WASM_RELEASE_WRAPPER
