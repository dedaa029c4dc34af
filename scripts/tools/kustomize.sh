#!/usr/bin/env bash
# kustomize, built from the Go module proxy on first use and cached in .stack/bin (git-ignored).
# The first build takes about 80 s on 2 cores (module downloads included); later calls start at once.
#
#   bash scripts/tools/kustomize.sh build deploy/k8s/overlays/dev   run kustomize (installs it first if missing)
#   bash scripts/tools/kustomize.sh --install                       install only; prints the binary's path
#
# KUSTOMIZE_VERSION pins the version (v5.8.3 and later need a newer Go than the machines have).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.2}"
BIN_DIR="$STACK_DIR/bin"
BIN="$BIN_DIR/kustomize-$KUSTOMIZE_VERSION"

install_kustomize() {
  [ -x "$BIN" ] && return 0
  require go "Go 1.26 (go install from the Go module proxy)"
  mkdir -p "$BIN_DIR"
  local gobin; gobin="$(mktemp -d "$BIN_DIR/.gobin.XXXXXX")"
  log "building kustomize $KUSTOMIZE_VERSION from the Go module proxy (once; cached in $BIN_DIR)" >&2
  local started=$SECONDS
  if ! GOBIN="$gobin" GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
      go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2; then
    rm -rf "$gobin"
    die "go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION failed"
  fi
  # Rename into place: a concurrent caller sees either no binary or a complete one.
  mv -f "$gobin/kustomize" "$BIN"
  rm -rf "$gobin"
  log "kustomize $KUSTOMIZE_VERSION built in $((SECONDS - started)) s" >&2
}

install_kustomize
if [ "${1:-}" = "--install" ]; then
  echo "$BIN"
  exit 0
fi
exec "$BIN" "$@"
