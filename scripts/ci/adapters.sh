#!/usr/bin/env bash
# The sync adapters (js/adapters/) against real servers of each kind, started
# on loopback by the tests: json-server and PouchDB-server (npm
# devDependencies) and moto's S3 server (PyPI, into a project-local venv in
# .tools/, installed here once). Needs the wasm build (pkg/).
#   scripts/ci/adapters.sh [--install-only]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.tools/adapters-venv
moto_version=5.2.5
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
  echo "adapters: installing moto[server]==$moto_version into $venv (PyPI)"
  mkdir -p .tools
  python3 -m venv "$venv" || { echo "adapters: python3 -m venv failed: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "moto[server]==$moto_version" \
    || { echo "adapters: pip could not install moto[server]==$moto_version (is PyPI reachable?)" >&2; exit 1; }
else
  echo "adapters: moto $moto_version present in $venv"
fi
[ "${1:-}" = "--install-only" ] && exit 0
node --test tests/adapters/
