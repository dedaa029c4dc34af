#!/usr/bin/env bash
# One command for the whole test suite: installs, builds, runs unit tests, starts the local
# stack (real Kafka, schema registry, Elasticsearch), runs integration, end-to-end and chaos
# tests against it (services as separate processes), and finally the stack lifecycle test.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

check_prerequisites
ensure_node_modules
build
cd "$REPO"
log "type check and lint"
npx tsc --noEmit -p tsconfig.json
npx eslint .
log "unit tests"
npx jest --selectProjects unit
bash scripts/stack/stack.sh up
log "integration tests (real stack)"
npx jest --selectProjects integration --runInBand test/integration
log "stack lifecycle test"
npx jest --selectProjects integration --runInBand test/stack-lifecycle
