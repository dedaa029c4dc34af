#!/usr/bin/env bash
# Starts/stops the four services as background processes on the local stack.
#   services.sh up | down | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
SERVICES=(indexer embedder chunker gateway)
# The heap settings of the container image (deploy/node-options), unless NODE_OPTIONS is set.
export NODE_OPTIONS="${NODE_OPTIONS:-$(cat "$REPO/deploy/node-options")}"
declare -A PORTS=([gateway]="${GATEWAY_PORT:-3000}" [chunker]=3001 [embedder]=3002 [indexer]=3003)

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
alive() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# The gateway needs an API key unless GATEWAY_AUTH=none: without API_KEYS / API_KEYS_FILE, a
# development operator key (every scope, every tenant) is created once and kept in
# $STACK_DIR/dev-api-key (the CLI and the console's examples read it from there).
ensure_dev_api_key() {
  [ "${GATEWAY_AUTH:-api-key}" = "none" ] && return 0
  [ -n "${API_KEYS:-}${API_KEYS_FILE:-}" ] && return 0
  export API_KEYS_FILE="$STACK_DIR/dev-api-keys.json"
  if [ ! -s "$STACK_DIR/dev-api-key" ] || [ ! -s "$API_KEYS_FILE" ]; then
    rm -f "$API_KEYS_FILE" "$STACK_DIR/dev-api-key"
    node "$REPO/dist/tools/cli/main.js" keys create --id dev-admin --tenant '*' --scopes ingest,search,admin \
      --file "$API_KEYS_FILE" --key-file "$STACK_DIR/dev-api-key" 2>/dev/null
    log "created a development API key: $STACK_DIR/dev-api-key"
  fi
}

up() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  ensure_dev_api_key
  for svc in "${SERVICES[@]}"; do
    if alive "$svc"; then log "$svc already running (pid $(pid_of "$svc"))"; continue; fi
    HTTP_PORT="${PORTS[$svc]}" setsid nohup node "$REPO/dist/services/$svc/src/main.js" >>"$LOG_DIR/$svc.log" 2>&1 &
    echo $! >"$RUN_DIR/$svc.pid"
  done
  for svc in "${SERVICES[@]}"; do
    local port="${PORTS[$svc]}" deadline=$((SECONDS + 90))
    until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
      alive "$svc" || die "$svc exited during start-up; see $LOG_DIR/$svc.log"
      [ $SECONDS -lt $deadline ] || die "$svc not ready after 90 s; see $LOG_DIR/$svc.log"
      sleep 0.5
    done
    log "$svc ready on http://127.0.0.1:$port (log: $LOG_DIR/$svc.log)"
  done
}

down() {
  for svc in gateway chunker embedder indexer; do
    local pid; pid="$(pid_of "$svc")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      log "$svc stopped"
    fi
    rm -f "$RUN_DIR/$svc.pid"
  done
}

status() {
  for svc in "${SERVICES[@]}"; do
    if alive "$svc"; then
      local ready="not ready"
      curl -fsS "http://127.0.0.1:${PORTS[$svc]}/readyz" >/dev/null 2>&1 && ready="ready"
      printf '%-9s pid %-7s port %-5s %s\n' "$svc" "$(pid_of "$svc")" "${PORTS[$svc]}" "$ready"
    else
      printf '%-9s stopped\n' "$svc"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
