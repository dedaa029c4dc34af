# Shared helpers for the project's scripts.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO/.stack}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed ($2)"
}

check_prerequisites() {
  require node "Node.js 20 or newer"
  require npm "comes with Node.js"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node -v))"
}

# npm ci when node_modules is missing or older than the lockfile; the dependency patches
# (patches/, applied by the postinstall script) again when one is newer than node_modules.
ensure_node_modules() {
  if [ ! -d "$REPO/node_modules" ] || [ "$REPO/package-lock.json" -nt "$REPO/node_modules/.package-lock.json" ]; then
    log "installing npm packages (npm ci)"
    (cd "$REPO" && npm ci --no-audit --no-fund)
  elif [ -n "$(find "$REPO/patches" -name '*.patch' -newer "$REPO/node_modules/.package-lock.json" 2>/dev/null)" ]; then
    log "applying dependency patches (patch-package)"
    (cd "$REPO" && npx --no-install patch-package && touch node_modules/.package-lock.json)
  fi
}

build() {
  log "building (tsc)"
  (cd "$REPO" && npm run --silent build)
}

# From a fresh clone to a running local stack: prerequisites, npm packages, build, stack up.
prepare_local() {
  check_prerequisites
  ensure_node_modules
  build
  bash "$REPO/scripts/stack/stack.sh" up
}
