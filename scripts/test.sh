#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the whole test suite.
#   bash scripts/test.sh [pytest arguments]
# Needs: Python 3.11 and the package registries (PyPI; Debian's packages for Chromium, which
# the browser tests use headless). Installs into ./.venv with the pinned versions of
# requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== Chromium (headless, für die Browser-Tests) wird installiert"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium fehlt: bitte 'apt-get install chromium' (als root) ausführen." >&2
    exit 2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c requirements.lock -e ".[test]"

export GX_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
