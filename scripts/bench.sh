#!/usr/bin/env bash
# One command from a fresh clone to a benchmark report: installs npm packages, builds, starts
# the local stack (Kafka, schema registry, Elasticsearch; downloaded through Maven on first use)
# and runs `npm run bench` with the given arguments (redis-server for the baseline is installed
# from Debian's packages when missing). Report: bench/results/latest.md.
#   bash scripts/bench.sh                 # full run
#   bash scripts/bench.sh --smoke         # a minute
set -euo pipefail
source "$(dirname "$0")/lib.sh"

prepare_local
node "$REPO/dist/bench/main.js" "$@"
