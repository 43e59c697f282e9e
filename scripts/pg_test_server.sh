#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the tests runs on loopback and prints its connection URL.
#   url=$(bash scripts/pg_test_server.sh)
# Idempotent: installs Debian's package `postgresql` if missing (as root), creates a cluster if
# there is none, starts it as the postgres user (port 5432 if free, else a free port), and creates
# the login role `inobhut_test` (CREATEDB; only reachable on 127.0.0.1). The tests create a fresh
# database per session with this role (tests/conftest.py, fixture `pg_url`).
# Messages for people go to stderr (German); stdout carries only the URL.
set -euo pipefail
# Everything the tools print (pg_ctlcluster says e.g. "Removed stale pid file." on stdout) goes to
# stderr: the body runs as `main >&2`, and only the final URL is echoed to stdout afterwards. No
# extra descriptor may hold the caller's stdout: the server started here inherits every open
# descriptor above 2 and lives on, so `$(…)` would wait for it forever (a CI run hung so).

main() {
ROLE=inobhut_test
PASS=inobhut_test   # a test role on loopback only; never used for real data

fail() { echo "PostgreSQL für die Tests: $*" >&2; exit 2; }

as_postgres() { runuser -u postgres -- "$@"; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== postgresql (Server für den PostgreSQL-Test der Pipeline) wird installiert" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    fail "Der Server fehlt. Bitte als root 'apt-get install postgresql' ausführen oder INOBHUT_TEST_PG_URL auf einen laufenden Server setzen."
  fi
fi
[ "$(id -u)" = "0" ] || fail "Zum Starten des Servers werden root-Rechte gebraucht (Start als Benutzer postgres). Alternativ INOBHUT_TEST_PG_URL setzen."

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# the first cluster that exists (pg_lsclusters: Ver Cluster Port Status Owner ...)
read -r VER NAME PORT STATUS _ < <(pg_lsclusters --no-header 2>/dev/null | head -n1) || true
if [ -z "${VER:-}" ]; then
  VER=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  NAME=main
  PORT=5432
  port_free "$PORT" || PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "== PostgreSQL-Cluster $VER/$NAME wird auf Port $PORT angelegt" >&2
  pg_createcluster --port="$PORT" "$VER" "$NAME" >/dev/null
  STATUS=down
fi
if [ "$STATUS" != "online" ]; then
  if ! port_free "$PORT"; then
    NEW=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "== Port $PORT ist belegt: Cluster $VER/$NAME wird auf Port $NEW umgestellt" >&2
    pg_conftool "$VER" "$NAME" set port "$NEW"
    PORT=$NEW
  fi
  echo "== PostgreSQL $VER/$NAME wird gestartet (Port $PORT, nur 127.0.0.1/localhost)" >&2
  pg_ctlcluster "$VER" "$NAME" start || fail "Der Cluster $VER/$NAME startet nicht; siehe /var/log/postgresql/postgresql-$VER-$NAME.log."
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || fail "Der Server antwortet nicht auf 127.0.0.1:$PORT."

cd /  # runuser keeps the working directory; postgres may not be allowed to read it
if [ "$(as_postgres psql -p "$PORT" -XtAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  as_postgres psql -p "$PORT" -Xq -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASS'"
fi
URL="postgresql://$ROLE:$PASS@127.0.0.1:$PORT/postgres"
}

URL=
main >&2
echo "$URL"
