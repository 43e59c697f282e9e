#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the whole test suite.
#   bash scripts/test.sh [pytest arguments]
# Needs: Python 3.11 and the package registries (PyPI; Debian's packages for Chromium, which
# the browser tests use headless, Java, LibreOffice Calc, poppler-utils and python3.11-venv;
# the npm registry for the W3C Nu Html Checker). Run as root to let it apt-get install what is
# missing; otherwise it names the missing Debian package and stops.
# Installs into ./.venv with the pinned versions of requirements.lock and the checker into
# ./.tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
VNU_VERSION=26.9.27  # vnu-jar on npm: the W3C Nu Html Checker (tests/test_html_validity.py)

apt_install() {  # apt_install <command> <Debian package> <why> [packages, one of which must be installed]
  if command -v "$1" >/dev/null 2>&1; then
    [ -z "${4:-}" ] && return 0
    command -v dpkg >/dev/null 2>&1 || return 0
    for p in $4; do  # e.g. soffice without Calc
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && return 0
    done
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== $2 ($3) wird installiert"
    [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "$1 fehlt: bitte 'apt-get install $2' (als root) ausführen." >&2
    exit 2
  fi
}
apt_install chromium chromium "headless, für die Browser-Tests"
apt_install java default-jre-headless "für den Nu Html Checker"
apt_install npm npm "lädt den Nu Html Checker"
apt_install soffice libreoffice-calc-nogui "öffnet die Excel-Dateien im Test" "libreoffice-calc-nogui libreoffice-calc"
apt_install unshare util-linux "Netz-Namensraum für den Test ohne Netz (tests/test_security_e2e.py)"
apt_install pdftotext poppler-utils "prüft die Druckansicht der Excel-Dateien (PDF)"
apt_install setpriv util-linux "Störungstests: ein Lauf ohne die Rechte-Ausnahmen von root (tests/test_faults_state.py)"
apt_install mount mount "Störungstests: ein kleines tmpfs als volle Platte (braucht root)"
apt_install systemd-analyze systemd "prüft die systemd-Units in deploy/"
if [ ! -f .tools/node_modules/vnu-jar/build/dist/vnu.jar ] || \
   ! grep -q "\"version\": \"$VNU_VERSION\"" .tools/node_modules/vnu-jar/package.json 2>/dev/null; then
  echo "== Nu Html Checker (vnu-jar $VNU_VERSION) wird installiert"
  npm install -s --prefix .tools --no-audit --no-fund --ignore-scripts "vnu-jar@$VNU_VERSION" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  command -v "$PY" >/dev/null 2>&1 || { echo "$PY fehlt: bitte 'apt-get install python3.11' (Debian 12) ausführen." >&2; exit 2; }
  if ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then  # Debian ships venv/ensurepip separately
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "== python3.11-venv (für '$PY -m venv') wird installiert"
      [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null; APT_UPDATED=1; }
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >/dev/null
    else
      echo "$PY kann keine virtuelle Umgebung anlegen (Modul venv/ensurepip fehlt)." >&2
      echo "Unter Debian/Ubuntu: 'apt-get install python3.11-venv' (als root) ausführen, dann erneut starten." >&2
      exit 2
    fi
  fi
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c requirements.lock -e ".[test,docs]"

echo "== Codeprüfung (ruff check)"
.venv/bin/ruff check .

# PostgreSQL for the end-to-end test on production-like Dagster storage (installed and started
# if missing; the tests create a fresh database per session)
if [ -z "${INOBHUT_TEST_PG_URL:-}" ]; then
  INOBHUT_TEST_PG_URL=$(bash scripts/pg_test_server.sh)
  export INOBHUT_TEST_PG_URL
fi

export GX_ANALYTICS_ENABLED=false
# on all cores (pytest-xdist; most tests are whole pipeline runs that wait on subprocesses, disk and
# the database in parts): 14 min 31 s on 2 cores, 27 min 38 s in one process before the Data Docs
# site was built once per validation call. `-n 0` in the arguments runs it
# in one process; at most 4 workers (each runs whole pipelines with their own worker pools:
# memory); the 15 slowest tests are named at the end
exec .venv/bin/python -m pytest -n auto --maxprocesses=4 --durations=15 "$@"
