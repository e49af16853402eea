#!/usr/bin/env bash
# The test command: set up the machine (scripts/setup.sh), then typecheck, lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
AUDIOLAB_SETUP_DOCKER="${AUDIOLAB_SETUP_DOCKER:-1}" bash scripts/setup.sh
# shellcheck disable=SC1091
. .cache/env.sh
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint (ESLint, and the layers' import rules)"; npm run -s lint
echo "== tests"
mkdir -p .cache
if npx vitest run --reporter=default --reporter=json --outputFile=.cache/vitest.json "$@"; then rc=0; else rc=$?; fi
node -e '
  const r = JSON.parse(require("fs").readFileSync(".cache/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
'
exit "$rc"
