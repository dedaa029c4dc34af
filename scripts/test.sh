#!/usr/bin/env bash
# One command for the whole test suite: installs, builds, runs unit tests, starts the local
# stack (real Kafka, schema registry, Elasticsearch), runs integration, end-to-end and chaos
# tests against it (services as separate processes), and finally the stack lifecycle test.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/test-tools.sh"

check_prerequisites
ensure_node_modules
build
ensure_test_tools
export RAG_TEST_SKIP_LOG="$REPO/.stack/test-skips.log"
mkdir -p "$REPO/.stack" && : >"$RAG_TEST_SKIP_LOG"
report_skips() {
  [ -s "$RAG_TEST_SKIP_LOG" ] || return 0
  printf '\033[1;33mSKIPPED because a tool could not be installed (%s test file(s)):\033[0m\n' "$(wc -l <"$RAG_TEST_SKIP_LOG")"
  sed 's/^/  /' "$RAG_TEST_SKIP_LOG"
}
trap report_skips EXIT
cd "$REPO"
log "dependency advisories"
bash "$REPO/scripts/audit.sh"
log "type check and lint"
npx tsc --noEmit -p tsconfig.json
npx eslint .
log "unit tests"
# pdf.js (through unpdf) and pptxgenjs load modules with a dynamic import, which jest's VM runs
# only with this flag.
export NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}"
npx jest --selectProjects unit
bash scripts/stack/stack.sh up
log "integration tests (real stack)"
npx jest --selectProjects integration --runInBand test/integration
log "stack lifecycle test"
npx jest --selectProjects integration --runInBand test/stack-lifecycle
