#!/usr/bin/env bash
# Creates the virtualenv the benchmark runs LlamaIndex from (.bench-venv at the repository root)
# and installs LlamaIndex's ingestion pipeline, OpenAI embeddings and Elasticsearch store from
# PyPI, pinned so runs compare the same code. Prints the interpreter's path.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$REPO/.bench-venv"
PACKAGES=(llama-index-core==0.14.25 llama-index-embeddings-openai==0.7.0 llama-index-vector-stores-elasticsearch==0.7.0)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >&2
fi
if ! "$VENV/bin/pip" freeze 2>/dev/null | grep -q '^llama-index-vector-stores-elasticsearch==0.7.0$'; then
  echo "bench: installing ${PACKAGES[*]} into $VENV" >&2
  "$VENV/bin/pip" install -q "${PACKAGES[@]}" >&2
fi
echo "$VENV/bin/python"
