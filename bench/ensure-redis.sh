#!/usr/bin/env bash
# The BullMQ baseline needs redis-server (Debian package). Installs it when missing and root
# with apt-get can; otherwise says what to do. The bench starts its own instance on a loopback
# port with a temporary directory; it never touches a system Redis.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench: installing redis-server (Debian)" >&2
  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # The Debian package may start a system service; the bench does not use it.
  exit 0
fi
echo "bench: redis-server is missing; install it (apt-get install redis-server) for the BullMQ baseline" >&2
exit 1
