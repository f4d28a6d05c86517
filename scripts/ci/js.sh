#!/usr/bin/env bash
# JS tests against the built package (node's test runner) and a type check of
# the generated TypeScript declarations.
set -euo pipefail
cd "$(dirname "$0")/../.."
node --test tests/js/
npx tsc --noEmit -p tests/types/tsconfig.json
echo "typescript: tests/types compiled against pkg/petrichain.d.ts"
