"""Realistic delivery mistakes injected into synthetic deliveries (``inobhut generate
--fehlerquote``): which kinds exist, which datasets they apply to and what the validation is
expected to say (:data:`ERROR_KINDS`), and how each is written into a month's rows as the
office's delivery style would have it.

Belongs here: the mistakes; the simulation is in :mod:`inobhut.generate`, which calls
:func:`_maybe_inject` per file, the delivery styles, formatting and writing of files in
:mod:`inobhut.generate_delivery`. Deterministic for a seed, like the rest of the generator.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from inobhut.calendar import month_end
from inobhut.config import Office
from inobhut.generate_delivery import DeliveryStyle, _ags_int, _blank, _rng
from schemas.datasets import DATASETS


#: kind -> (datasets it applies to, weight, severity expected from the validation)
ERROR_KINDS: dict[str, tuple[tuple[str, ...], float, str]] = {
    "unbekannter_code": (("massnahmen", "uma", "plaetze", "personal"), 3, "Fehler"),
    "ungueltiges_datum": (("massnahmen", "uma", "plaetze", "personal"), 2, "Fehler"),
    "ende_vor_beginn": (("massnahmen", "uma"), 2, "Fehler"),
    "pflichtwert_fehlt": (("massnahmen", "uma", "plaetze", "personal"), 2, "Fehler"),
    "geschlecht_leer": (("massnahmen", "uma"), 1, "Fehler"),
    "fallnummer_doppelt": (("massnahmen", "uma"), 1.5, "Fehler"),
    "zeile_doppelt": (("plaetze",), 1, "Fehler"),
    "summenzeile": (("massnahmen", "uma", "plaetze", "personal"), 1.5, "Fehler"),
    "dezimalkomma_in_ganzzahl": (("plaetze", "personal"), 1.5, "Fehler"),
    "plaetze_frei_inkonsistent": (("plaetze",), 2, "Fehler"),
    "beginn_nach_berichtsmonat": (("massnahmen",), 1, "Fehler"),
    "volljaehrig_bei_beginn": (("massnahmen",), 1, "Fehler"),
    "massnahme2_ohne_unbegleitet": (("massnahmen",), 1, "Fehler"),
    "meldung_bei_massnahme1": (("massnahmen",), 1, "Fehler"),
    "fremdes_jugendamt": (("massnahmen", "uma", "plaetze", "personal"), 1, "Fehler"),
    "negative_anzahl": (("plaetze", "personal"), 1, "Fehler"),
    "alter_von_groesser_bis": (("plaetze",), 0.7, "Fehler"),
    "jugendamt_ohne_fuehrende_null": (("massnahmen", "uma", "plaetze", "personal"), 1.5, "kein Fehler"),
}

_CODE_COLS = {"massnahmen": ["massnahme", "geschlecht", "angeregt_durch", "aufenthalt_vorher", "unterbringung", "anlaesse"],
              "uma": ["hilfeart", "geschlecht", "ende_grund"], "plaetze": ["angebot", "traeger_art"],
              "personal": ["bereich"]}
_BAD_CODES = {"massnahme": "3", "geschlecht": "x", "angeregt_durch": "9", "aufenthalt_vorher": "13",
              "unterbringung": "4", "anlaesse": "15", "hilfeart": "9", "ende_grund": "9", "angebot": "8",
              "traeger_art": "03", "bereich": "6"}
_DATE_COLS = {"massnahmen": ["beginn"], "uma": ["zustaendig_seit"], "plaetze": ["stichtag"], "personal": ["stichtag"]}
_REQUIRED = {"massnahmen": ["beginn", "massnahme", "geburtsmonat", "anlaesse", "unterbringung"],
             "uma": ["zustaendig_seit", "staatsangehoerigkeit", "hilfeart", "geburtsmonat"],
             "plaetze": ["angebot", "plaetze_genehmigt", "vzae_soll"], "personal": ["vzae_soll", "bereich"]}


def _col(ds: str, name: str) -> int:
    return DATASETS[ds].column_names.index(name)


def _header(ds: str, name: str) -> str:
    return DATASETS[ds].column(name).header


def _fmt_one_date(d: dt.date, style: DeliveryStyle):
    if style.kind == "xlsx":
        return dt.datetime(d.year, d.month, d.day)
    return d.strftime("%d.%m.%Y" if style.kind == "csv_de" else "%Y-%m-%d")


def _parse_cell_date(v, style: DeliveryStyle) -> dt.date | None:
    if v in (None, ""):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    return dt.datetime.strptime(v, "%d.%m.%Y" if style.kind == "csv_de" else "%Y-%m-%d").date()


def inject_if_fits(kind: str, ds: str, rows: list[list], style: DeliveryStyle, month: str, r: np.random.Generator,
                   o: Office) -> list[tuple[int, str]] | None:
    """:func:`_inject`, all or nothing: a mistake that cannot be applied to the rows as they are
    (a cell an earlier mistake of the same file changed: "3,5", 31.02., a blank) does not fit --
    the rows are restored and None is returned, as for any mistake that does not fit."""
    before = [list(row) for row in rows]
    try:
        return _inject(kind, ds, rows, style, month, r, o)
    except (ValueError, TypeError, AttributeError):  # int(""), strptime("31.02."), None.year …
        rows[:] = before
        return None


def _int_cell(v) -> int | None:
    """The integer in a generated cell (int in XLSX, text in CSV); None for a blank or anything
    an earlier injected mistake left there (e.g. "3,5")."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _inject(kind: str, ds: str, rows: list[list], style: DeliveryStyle, month: str, r: np.random.Generator,
            o: Office) -> list[tuple[int, str]] | None:
    """Apply one mistake to ``rows`` (in place). Returns [(row index, column header)] or None if
    the kind does not fit this file."""
    n = len(rows)
    if n == 0:
        return None
    i = int(r.integers(n))
    bl = _blank(style)
    if kind == "unbekannter_code":
        name = str(r.choice(_CODE_COLS[ds]))
        rows[i][_col(ds, name)] = _BAD_CODES[name]
        return [(i, _header(ds, name))]
    if kind == "ungueltiges_datum":
        name = _DATE_COLS[ds][0]
        y = int(month[:4])
        rows[i][_col(ds, name)] = f"31.02.{y}" if style.kind != "csv_iso" else f"{y}-02-31"
        return [(i, _header(ds, name))]
    if kind == "ende_vor_beginn":
        b_name, e_name = ("beginn", "ende") if ds == "massnahmen" else ("zustaendig_seit", "zustaendig_bis")
        b = _parse_cell_date(rows[i][_col(ds, b_name)], style)
        rows[i][_col(ds, e_name)] = _fmt_one_date(b - dt.timedelta(days=int(r.integers(1, 20))), style)
        eg = _col(ds, "ende_grund")
        if rows[i][eg] in (None, ""):
            rows[i][eg] = "1"
            if ds == "massnahmen":
                rows[i][_col(ds, "anschluss")] = "01"
        return [(i, _header(ds, e_name))]
    if kind == "pflichtwert_fehlt":
        name = str(r.choice(_REQUIRED[ds]))
        rows[i][_col(ds, name)] = bl
        return [(i, _header(ds, name))]
    if kind == "geschlecht_leer":
        rows[i][_col(ds, "geschlecht")] = bl
        return [(i, _header(ds, "geschlecht"))]
    if kind == "fallnummer_doppelt":
        if n < 2:
            return None
        j = (i + 1 + int(r.integers(n - 1))) % n
        rows[j][0] = rows[i][0]
        return [(j, _header(ds, "fallnummer"))]
    if kind == "zeile_doppelt":
        rows.insert(i + 1, list(rows[i]))
        return [(i + 1, _header(ds, "einrichtung"))]
    if kind == "summenzeile":
        total = [bl] * len(rows[0])
        total[0] = "Summe"
        cols = DATASETS[ds].columns
        for k, c in enumerate(cols):
            if c.kind == "int" and c.name not in ("alter_von", "alter_bis"):
                vals = [v for v in (_int_cell(row[k]) for row in rows) if v is not None]  # "3,5" of an earlier mistake: left out
                total[k] = sum(vals) if style.kind == "xlsx" else str(sum(vals))
        if ds in ("massnahmen", "uma"):
            total[1] = n if style.kind == "xlsx" else str(n)
        rows.append(total)
        return [(len(rows) - 1, _header(ds, cols[0].name))]
    if kind == "dezimalkomma_in_ganzzahl":
        name = "plaetze_belegt" if ds == "plaetze" else "faelle"
        k = _col(ds, name)
        v = _int_cell(rows[i][k])
        if v is None:  # blank, or changed by an earlier mistake: does not fit this row
            return None
        rows[i][k] = f"{v},5"
        return [(i, _header(ds, name))]
    if kind == "plaetze_frei_inkonsistent":
        k = _col(ds, "plaetze_frei")
        vals = [_int_cell(rows[i][_col(ds, c)]) for c in ("plaetze_genehmigt", "plaetze_belegt", "plaetze_gesperrt")]
        if None in vals:  # blank, or changed by an earlier mistake: does not fit this row
            return None
        g, b, s = vals
        wrong = g - b - s + int(r.choice([-2, -1, 1, 2, 3]))
        rows[i][k] = wrong if style.kind == "xlsx" else str(wrong)
        return [(i, _header(ds, "plaetze_frei"))]
    if kind == "beginn_nach_berichtsmonat":
        d = month_end(month) + dt.timedelta(days=int(r.integers(1, 20)))
        k = _col(ds, "beginn")
        rows[i][k] = _fmt_one_date(d, style)
        for c in ("ende", "ende_grund", "anschluss", "meldung_landesstelle", "verteilentscheidung", "zuweisung_jugendamt"):
            rows[i][_col(ds, c)] = bl
        return [(i, _header(ds, "beginn"))]
    if kind == "volljaehrig_bei_beginn":
        b = _parse_cell_date(rows[i][_col(ds, "beginn")], style)
        gm = dt.date(b.year - 19, b.month, 1)
        rows[i][_col(ds, "geburtsmonat")] = gm.strftime("%Y-%m" if style.kind == "csv_iso" else "%m.%Y")
        return [(i, _header(ds, "geburtsmonat"))]
    if kind == "massnahme2_ohne_unbegleitet":
        cand = [k for k, row in enumerate(rows) if row[_col(ds, "massnahme")] == "2"]
        if not cand:
            return None
        k = cand[int(r.integers(len(cand)))]
        rows[k][_col(ds, "unbegleitet")] = 0 if style.kind == "xlsx" else "0"
        return [(k, _header(ds, "unbegleitet"))]
    if kind == "meldung_bei_massnahme1":
        cand = [k for k, row in enumerate(rows) if row[_col(ds, "massnahme")] == "1"]
        if not cand:
            return None
        k = cand[int(r.integers(len(cand)))]
        b = _parse_cell_date(rows[k][_col(ds, "beginn")], style)
        rows[k][_col(ds, "meldung_landesstelle")] = _fmt_one_date(min(b + dt.timedelta(days=2), month_end(month)), style)
        return [(k, _header(ds, "meldung_landesstelle"))]
    if kind == "fremdes_jugendamt":
        other = "08111" if o.ags != "08111" else "08115"
        rows[i][_col(ds, "jugendamt")] = other
        return [(i, _header(ds, "jugendamt"))]
    if kind == "negative_anzahl":
        name = "plaetze_gesperrt" if ds == "plaetze" else "stellen_unbesetzt"
        k = _col(ds, name)
        fix_frei = ds == "plaetze" and rows[i][_col(ds, "plaetze_frei")] not in (None, "")
        if fix_frei:
            g, b = _int_cell(rows[i][_col(ds, "plaetze_genehmigt")]), _int_cell(rows[i][_col(ds, "plaetze_belegt")])
            if g is None or b is None:  # changed by an earlier mistake: does not fit this row
                return None
        rows[i][k] = -1 if style.kind == "xlsx" else "-1"
        if fix_frei:
            rows[i][_col(ds, "plaetze_frei")] = (g - b + 1) if style.kind == "xlsx" else str(g - b + 1)
        return [(i, _header(ds, name))]
    if kind == "alter_von_groesser_bis":
        kv, kb = _col(ds, "alter_von"), _col(ds, "alter_bis")
        von, bis = _int_cell(rows[i][kv]), _int_cell(rows[i][kb])
        if von is None or bis is None:  # blank, or changed by an earlier mistake: does not fit
            return None
        rows[i][kv], rows[i][kb] = rows[i][kb], rows[i][kv]
        if bis <= von:
            return None
        return [(i, _header(ds, "alter_von"))]
    if kind == "jugendamt_ohne_fuehrende_null":
        k = _col(ds, "jugendamt")
        short = o.ags.lstrip("0")
        for row in rows:
            row[k] = int(short) if style.kind == "xlsx" else short
        return [(0, _header(ds, "jugendamt"))]
    raise ValueError(kind)


def _maybe_inject(ds: str, rows: list[list], style: DeliveryStyle, month: str, o: Office, seed: int,
                  fehlerquote: float, file_name: str) -> list[dict]:
    if fehlerquote <= 0 or not rows:
        return []
    mi = int(month[:4]) * 12 + int(month[5:7])
    r = _rng(seed, _ags_int(o.ags), 7, mi, list(DATASETS).index(ds))
    if r.random() >= fehlerquote:
        return []
    kinds = [k for k, (dss, _, _) in ERROR_KINDS.items() if ds in dss]
    if style.kind == "xlsx":
        kinds = [k for k in kinds if k != "dezimalkomma_in_ganzzahl" or ds in ("plaetze", "personal")]
    w = np.array([ERROR_KINDS[k][1] for k in kinds])
    n_err = 1 if r.random() < 0.75 else 2
    out: list[dict] = []
    used: set[str] = set()
    for _ in range(n_err * 3):  # a few attempts, some kinds do not fit every file
        if len(used) >= n_err:
            break
        kind = str(r.choice(kinds, p=w / w.sum()))
        if kind in used:
            continue
        # a total row must stay the last row; apply it after all others
        if kind == "summenzeile" and len(used) + 1 < n_err:
            continue
        if "summenzeile" in used:
            break
        hits = inject_if_fits(kind, ds, rows, style, month, r, o)
        if not hits:
            continue
        used.add(kind)
        sev = ERROR_KINDS[kind][2]
        for row_i, col in hits:
            out.append({"file": file_name, "row": row_i + 2, "column": col, "kind": kind, "severity": sev})
    return out


# ---------------------------------------------------------------------------------------------
