#!/usr/bin/env bash
# One command from a fresh clone to a running pipeline on the local stack:
# installs npm packages, builds, starts Kafka + schema registry + Elasticsearch (downloaded
# through Maven on first use), provisions topics/schemas/index, starts the four services.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

prepare_local
log "provisioning topics, schemas and index"
node "$REPO/dist/tools/provision/main.js"
bash "$REPO/scripts/services.sh" up

KEY_FILE="$STACK_DIR/dev-api-key"
KEY="$(cat "$KEY_FILE" 2>/dev/null || echo '<your key>')"
cat <<MSG

Pipeline running. Gateway: http://127.0.0.1:${GATEWAY_PORT:-3000} (web console at the same address)
Development API key (every scope, every tenant; also in $KEY_FILE):
  $KEY

  # upload a file
  curl -H "Authorization: Bearer \$(cat .stack/dev-api-key)" -F file=@examples/kafka-consumer-groups.md http://127.0.0.1:${GATEWAY_PORT:-3000}/v1/documents
  # follow its status (use the documentId from the answer)
  curl -H "Authorization: Bearer \$(cat .stack/dev-api-key)" http://127.0.0.1:${GATEWAY_PORT:-3000}/v1/documents/<documentId>
  # search
  curl -H "Authorization: Bearer \$(cat .stack/dev-api-key)" -H 'Content-Type: application/json' -d '{"query":"how do consumer groups rebalance","k":3}' http://127.0.0.1:${GATEWAY_PORT:-3000}/v1/search

Stop: bash scripts/services.sh down && npm run stack:down
MSG
