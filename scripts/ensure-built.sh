#!/usr/bin/env bash
# Makes the npm scripts that run compiled code (dlq, provision, bench) work on a fresh clone:
# installs npm packages when missing and builds when dist/ is missing or older than any source.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Progress goes to stderr: the command that runs next may print JSON for scripts on stdout.
exec 1>&2

ensure_node_modules
stamp="$REPO/dist/.build-stamp"
if [ ! -f "$stamp" ] || [ -n "$(cd "$REPO" && find libs services tools bench package-lock.json tsconfig.json tsconfig.build.json \
  -newer "$stamp" \( -name '*.ts' -o -name '*.avsc' -o -name '*.json' \) -print -quit 2>/dev/null)" ]; then
  build >&2
fi
