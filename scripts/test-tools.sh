#!/usr/bin/env bash
# The system tools some integration tests drive, installed from Debian's packages when missing
# (as root with apt-get): prometheus/promtool (deploy/monitoring), docker-compose (compose file,
# validated offline, no engine), go (builds kustomize for deploy/k8s), redis-server (the bench's
# BullMQ baseline in the bench smoke test), chromium (the web console's browser test), nginx (the
# TLS and basic-auth front of the registry in the secured stack test, STACK_SECURE=1). What cannot be installed is listed in
# RAG_TEST_MISSING_TOOLS: the tests that need it skip with that reason, counted at the end.
# With RAG_TEST_REQUIRE_ALL_TOOLS=1 (CI) a missing tool is an error instead.

have_tool() {
  case "$1" in
    prometheus) [ -x "$(command -v prometheus)" ] && [ -x "$(command -v promtool)" ] ;;
    docker-compose) command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 ;;
    nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

debian_package() {
  case "$1" in
    go) echo golang-go ;;
    nginx) echo nginx-light ;;
    *) echo "$1" ;;
  esac
}

ensure_test_tools() {
  local missing=() tool apt_updated=""
  for tool in prometheus docker-compose go redis-server chromium nginx; do
    have_tool "$tool" && continue
    if { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; } && command -v apt-get >/dev/null 2>&1; then
      local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
      if [ -z "$apt_updated" ]; then $sudo apt-get update -qq || true; apt_updated=1; fi
      log "installing $(debian_package "$tool") (Debian) for the tests that need $tool"
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$(debian_package "$tool")" >/dev/null || true
    fi
    have_tool "$tool" || missing+=("$tool")
  done
  export RAG_TEST_MISSING_TOOLS="${missing[*]:-}"
  if [ -n "$RAG_TEST_MISSING_TOOLS" ]; then
    [ "${RAG_TEST_REQUIRE_ALL_TOOLS:-0}" = 1 ] && die "missing and not installable: $RAG_TEST_MISSING_TOOLS"
    printf '\033[1;33mwarning:\033[0m could not install %s: the tests that need them will be SKIPPED (install them and run again)\n' "$RAG_TEST_MISSING_TOOLS" >&2
  fi
}
