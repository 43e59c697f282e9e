"""Export for the Landesebene: the case-based statistics tables of a network for one period,
by office, protected with the configured method (``[geheimhaltung] export_landesebene``).

Belongs here: turning the protected count blocks of :func:`inobhut.tables.protected_blocks`
into one machine-readable CSV per table, the release check before anything is written, and
the file layout ``<out>/landesebene/<verbund>/<zeitraum>/<tabelle>.csv``. Not here: the
tables (:mod:`inobhut.tables`), the disclosure algorithms (:mod:`inobhut.disclosure`).

Format (UTF-8, ``,``, ``\\n``, decimal point), one row per shown value::

    zeitraum,verbund,jugendamt,block,spalte,wert,zeichen

``jugendamt`` is the office key or the network key (total row); ``block`` the characteristic
of long tables (``beendete``: ``anlass``, ``geschlecht`` …; empty otherwise); ``spalte`` the
column of the block (a code such as ``01``, ``zugaenge_1``, ``zusammen``, a derived value such as
``anteil_fristgerecht_pct``); ``wert`` the number (empty when secret or not computed);
``zeichen`` ``.`` when secret (gesperrt), else empty. Under ``rundung3`` the counts are the
rounded ones and derived values (shares, means, medians) are written as secret: computed from the
exact counts they would undo the rounding.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from inobhut import config
from inobhut.disclosure import GEHEIM, release_check
from inobhut.stat_store import write_csv
from inobhut.tables import protected_blocks

COLUMNS = ["zeitraum", "verbund", "jugendamt", "block", "spalte", "wert", "zeichen"]


class ExportRefused(RuntimeError):
    """The release check failed or no disclosure method is set (German message)."""


def method() -> str:
    return str(config.settings()["geheimhaltung"].get("export_landesebene", "sperrung"))


def _number(v: float, decimals: int) -> str:
    if decimals == 0:
        return str(int(round(v)))
    return f"{v:.{decimals}f}"


def export_tables(con: duckdb.DuckDBPyConnection, zeitraum: str, verbund: str, out: Path,
                  verfahren: str | None = None) -> list[Path]:
    """Write the protected tables of ``verbund`` for ``zeitraum`` (``JJJJ``, ``JJJJ-MM`` or
    ``JJJJ-MM..JJJJ-MM``) below ``out``; returns the files. Raises :class:`ExportRefused`
    (nothing written) when the release check fails."""
    verfahren = verfahren or method()
    blocks = protected_blocks(con, zeitraum, verbund, verfahren)
    problems = release_check({w.key: pt for w, pt in blocks})
    if verfahren == "keine":
        problems = [f"Verfahren „keine“ ist für die Landesebene nicht zulässig ({verbund}, {zeitraum})."] + problems
    if problems:
        raise ExportRefused("Export an die Landesebene verweigert – Freigabeprüfung nicht bestanden:\n- "
                            + "\n- ".join(problems))
    rows: dict[str, list[dict]] = {}
    for w, pt in blocks:
        table, _, block = w.key.partition("/")
        dest = rows.setdefault(table, [])
        for i, ja in enumerate(w.frame["jugendamt"]):
            for c in w.value_cols:
                v = pt.values[c].iloc[i]
                secret = bool(pt.suppressed[c].iloc[i]) or pd.isna(v)
                dest.append({"jugendamt": ja, "block": block, "spalte": c,
                             "wert": "" if secret else _number(float(v), 0), "zeichen": GEHEIM if secret else ""})
            for c in w.derived:
                v = w.frame[c].iloc[i]
                dec = w.decimals.get(c, 1) if w.decimals else 1
                secret = verfahren == "rundung3" or pt.display[c].iloc[i] == GEHEIM
                if pd.isna(v) and not secret:
                    cell = {"wert": "", "zeichen": ""}  # not computed (e.g. no cases)
                else:
                    cell = {"wert": "" if secret else _number(float(v), dec), "zeichen": GEHEIM if secret else ""}
                dest.append({"jugendamt": ja, "block": block, "spalte": c, **cell})
    target = Path(out) / "landesebene" / verbund / zeitraum.replace("..", "_bis_")
    target.mkdir(parents=True, exist_ok=True)
    return [write_csv(pd.DataFrame(recs).assign(zeitraum=zeitraum, verbund=verbund)[COLUMNS], target / f"{table}.csv")
            for table, recs in rows.items()]


def networks_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Networks with at least one member office that has accepted Maßnahmen data."""
    keys = {r[0] for r in con.execute("SELECT DISTINCT jugendamt FROM massnahmen").fetchall()}
    return [v for v in config.networks() if keys & {o.ags for o in config.network_offices(v)}]
