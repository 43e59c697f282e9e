"""Test helper: a fresh PostgreSQL database per test session, on the server scripts/test.sh starts.

Belongs here: finding the test server (``INOBHUT_TEST_PG_URL``, exported by ``scripts/test.sh``;
without it ``scripts/pg_test_server.sh`` is run, which installs and starts one as root), creating
and dropping the session's database. A missing server FAILS the test (never a skip): the
production storage is part of the product.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg_test_server.sh"


def server_url() -> str:
    url = os.environ.get("INOBHUT_TEST_PG_URL")
    if url:
        return url
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.fail("Kein PostgreSQL-Server für die Tests: INOBHUT_TEST_PG_URL ist nicht gesetzt und "
                    f"scripts/pg_test_server.sh scheiterte: {proc.stderr.strip()}", pytrace=False)
    return proc.stdout.strip().splitlines()[-1]


def pg_env(url: str) -> dict[str, str]:
    """The ``INOBHUT_PG_*`` variables deploy/dagster.yaml reads, for the database at ``url``."""
    parts = urlsplit(url)
    return {"INOBHUT_PG_HOST": parts.hostname or "127.0.0.1", "INOBHUT_PG_PORT": str(parts.port or 5432),
            "INOBHUT_PG_DB": parts.path.lstrip("/"), "INOBHUT_PG_USER": parts.username or "",
            "INOBHUT_PG_PASSWORD": parts.password or ""}


def with_db(url: str, db: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the test server's maintenance database (found or started once per session)."""
    return server_url()


@pytest.fixture
def pg_url(pg_server):
    """URL of a new, empty database for one test (dropped afterwards)."""
    import psycopg2

    base = pg_server
    db = f"inobhut_test_{uuid.uuid4().hex[:12]}"
    try:
        con = psycopg2.connect(base, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL unter {base} nicht erreichbar: {exc}", pytrace=False)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    try:
        yield with_db(base, db)
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        con.close()
