"""Disclosure control (Geheimhaltung) for tables that leave an office: ``sperrung``,
``rundung3``, ``keine``, and the linear-programming audit of suppression patterns.

Belongs here: deciding which cells of a count table are shown, rounded or suppressed, the
display strings with the official symbols (``–`` nothing, ``.`` secret or unknown), the German
footnote naming the method, and the audit. Not here: computing the tables
(:mod:`inobhut.statistics`), choosing the method per audience (settings ``[geheimhaltung]``),
layout (:mod:`inobhut.reports`).

Table model
-----------
``protect`` takes a *wide* table: one DataFrame row per table line, the count cells in
``value_cols`` (non-negative integers, totals computed by the caller from UNPROTECTED values).

* ``total_row=True``: the LAST row is the column total of all other rows.
* ``total_col=True``: the LAST of ``value_cols`` is the row total of the other value columns.
* neither: cells are protected individually (primary suppression only -- without a shown
  total nothing can be recomputed).
* ``forced``: a boolean mask over ``value_cols`` of cells that must be suppressed because
  another table of the same report hides the same value (``sperrung`` only; secondary
  suppression and the audit then work as for any other suppressed cell).
* ``groups=[(parts, total), ...]`` (column names of ``value_cols``): further equations within
  every row, for tables whose columns add up in more than one way -- e.g. Beendete by office
  with insgesamt = §42 + §42a = männlich + weiblich, or Fristen with begonnen = fristgerecht +
  verspätet + ohne Meldung. Secondary suppression and the audit treat them like row totals.

Other columns (labels, derived values) pass through; ``derived={col: base_col}`` names
derived values (shares, means, medians, quotas) and the count column holding their number of
cases: they are shown as ``.`` when that base is below ``min_cases`` (``sperrung`` and
``rundung3``) or when the base cell is suppressed (``sperrung``).

``sperrung``
    Primary: every count 1 or 2 (totals included) is suppressed. Secondary, repeated until
    stable: every *line equation* (a row with its row total, a column with its column total,
    and the margins with the grand total) in which exactly one entry -- cell OR total -- is
    suppressed gets a second suppression: the smallest non-zero unsuppressed cell of that
    line (the line's total if no such cell is left). This is the spec's rule ("in every row
    and column with a shown total ...") extended to lines whose total itself is suppressed,
    because a suppressed total with all cells shown is just as recomputable.
    Then the audit runs; as long as a primarily suppressed cell can still be narrowed
    (typically a cycle of suppressed cells that passes through another small cell, e.g. 2
    and 1 on a diagonal of a 2×2 block: the 1 pins the 2 to at least 1), suppression is
    extended: first the smallest non-zero unsuppressed cell in a line of the failing cell,
    else the smallest non-zero unsuppressed entry (cells before totals) of the whole table,
    followed by the secondary closure again. This terminates: with every non-zero entry
    suppressed each cell ranges from 0 (all zero) to at least 3 (the true values times 3).
``rundung3``
    Every count, totals included, is rounded independently to the nearest multiple of 3;
    totals may therefore differ from the sum of the rounded cells. A rounded 0 is shown as
    ``0`` (it may stand for 0 or 1), never as ``–``, so that it does not reveal a true zero.
``keine``
    Values as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

METHODS = ("sperrung", "rundung3", "keine")
NICHTS = "–"  # nothing there (0)
GEHEIM = "."  # secret or unknown

FOOTNOTES = {
    "sperrung": (
        "Geheimhaltung (Sperrung): Fallzahlen von 1 oder 2 sind gesperrt (.), ebenso weitere Werte, "
        "aus denen sie sich zurückrechnen ließen; Anteile, Quoten, Mittelwerte und Mediane aus weniger "
        "als {min_cases} Fällen sind ebenfalls gesperrt. Zeichen: – nichts vorhanden, . geheim zu halten "
        "oder unbekannt. Summen sind aus den ungesperrten Werten berechnet."
    ),
    "rundung3": (
        "Geheimhaltung (Rundung auf Vielfache von 3): Alle Fallzahlen einschließlich der Summen sind "
        "unabhängig voneinander auf das nächste Vielfache von 3 gerundet; Summen können daher von der "
        "Summe der gerundeten Einzelwerte abweichen. 0 bedeutet 0 oder 1 Fall. Anteile, Quoten, "
        "Mittelwerte und Mediane aus weniger als {min_cases} Fällen sind gesperrt (.)."
    ),
    "keine": "Ohne Geheimhaltungsverfahren (nicht anonymisierte Werte). Zeichen: – nichts vorhanden.",
}


@dataclass
class ProtectedTable:
    """Result of :func:`protect`.

    ``display``: the input table with value and derived columns as display strings.
    ``suppressed``/``primary``: bool frames over ``value_cols`` (True = shown as ``.``).
    ``values``: the published numbers (rounded for ``rundung3``; NaN where suppressed),
    e.g. for writing real numbers into Excel next to the symbols.
    """

    display: pd.DataFrame
    suppressed: pd.DataFrame
    primary: pd.DataFrame
    values: pd.DataFrame
    method: str
    footnote: str
    original: pd.DataFrame = field(repr=False)
    total_row: bool = False
    total_col: bool = False
    min_cases: int = 3
    extended: int = 0  # cells added by the audit-driven extension
    derived: dict[str, str] = field(default_factory=dict)  # derived column -> its count column
    groups: tuple = ()  # ((part column indices), total column index): further row equations


@dataclass
class AuditResult:
    passed: bool
    ranges: pd.DataFrame  # row, col, value, primary, lower, upper, ok


def format_count(v) -> str:
    """German integer display: ``1.234``; 0 as ``–``."""
    if v is None or pd.isna(v):
        return GEHEIM
    v = int(v)
    return NICHTS if v == 0 else f"{v:,}".replace(",", ".")


def format_decimal(v, decimals: int = 1) -> str:
    if v is None or pd.isna(v):
        return GEHEIM
    return f"{float(v):,.{decimals}f}".replace(",", "\u202f").replace(".", ",").replace("\u202f", ".")


def _lines(shape: tuple[int, int], total_row: bool, total_col: bool,
           groups: tuple = ()) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Line equations ``sum(cells) = total`` of the table's margins and column ``groups``."""
    n, m = shape
    rows = range(n - 1) if total_row else range(n)
    cols = range(m - 1) if total_col else range(m)
    out = []
    if total_col:
        for i in range(n):
            out.append(([(i, j) for j in cols], (i, m - 1)))
    for parts, total in groups:
        for i in range(n):
            out.append(([(i, j) for j in parts], (i, total)))
    if total_row:
        for j in range(m):
            out.append(([(i, j) for i in rows], (n - 1, j)))
    return out


def _secondary(x: np.ndarray, sup: np.ndarray, lines) -> None:
    """Close ``sup`` (in place) under the rule: no line equation with exactly one unknown."""
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            entries = [*cells, total]
            if sum(sup[e] for e in entries) != 1:
                continue
            cand = [c for c in cells if not sup[c] and x[c] > 0]
            if cand:
                pick = min(cand, key=lambda c: (x[c], c))
            elif not sup[total] and x[total] > 0:
                pick = total
            else:  # the only unknown equals a sum of shown zeros -> it is 0 and not secret
                continue
            sup[pick] = True
            changed = True


def _system(x: np.ndarray, sup: np.ndarray, lines):
    """The linear system a reader has: one variable per suppressed entry, one equation per line
    with an unknown. Returns (variable index by entry, A_eq, b_eq)."""
    var = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(*np.nonzero(sup)))}
    a_rows, b = [], []
    for cells, total in lines:
        row = np.zeros(len(var))
        rhs = 0.0
        for c in cells:
            if c in var:
                row[var[c]] += 1
            else:
                rhs -= x[c]
        if total in var:
            row[var[total]] -= 1
        else:
            rhs += x[total]
        if row.any():
            a_rows.append(row)
            b.append(rhs)
    return var, (np.array(a_rows) if a_rows else None), (np.array(b) if b else None)


# Solved linear programs of this process: (variable, direction, system) -> (status, objective).
# Protecting a table ends with a round in which every primary entry passes, and the release
# check audits the same pattern again -- the same programs (a quarter of all at a nightly run).
# The result of a program depends on nothing but its data (the key: a 128-bit digest of the
# system, whose dtype is always float64); bounded, oldest dropped first.
_SOLVED: dict[tuple, tuple[int, float]] = {}
_SOLVED_MAX = 20_000


def _solve(n: int, k: int, sign: int, a_eq, b_eq) -> tuple[int, float]:
    """(status, objective) of minimising ``sign`` times variable ``k`` of ``n`` (non-negative)
    subject to ``a_eq @ v = b_eq``."""
    key = (n, k, sign, None if a_eq is None else
           (a_eq.shape, hashlib.blake2b(a_eq.tobytes() + b_eq.tobytes(), digest_size=16).digest()))
    hit = _SOLVED.get(key)
    if hit is None:
        c = np.zeros(n)
        c[k] = sign
        res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hit = (int(res.status), float(res.fun) if res.status == 0 else 0.0)
        if len(_SOLVED) >= _SOLVED_MAX:
            del _SOLVED[next(iter(_SOLVED))]
        _SOLVED[key] = hit
    return hit


def _lower(e, var, a_eq, b_eq, x) -> float:
    status, fun = _solve(len(var), var[e], 1, a_eq, b_eq)
    return fun if status == 0 else float(x[e])


def _upper(e, var, a_eq, b_eq, x) -> float:
    status, fun = _solve(len(var), var[e], -1, a_eq, b_eq)
    return np.inf if status == 3 else (-fun if status == 0 else float(x[e]))


def _ranges(x: np.ndarray, sup: np.ndarray, lines, only: np.ndarray | None = None
            ) -> list[tuple[tuple[int, int], float, float]]:
    """Feasible range of every suppressed entry (of those also in the mask ``only``) given
    everything shown (LP, non-negative)."""
    var, a_eq, b_eq = _system(x, sup, lines)
    return [(e, _lower(e, var, a_eq, b_eq, x), _upper(e, var, a_eq, b_eq, x))
            for e in var if only is None or only[e]]


def audit_pattern(x: np.ndarray, sup: np.ndarray, primary: np.ndarray, total_row: bool, total_col: bool,
                  min_cases: int = 3, groups: tuple = (), primary_only: bool = False) -> AuditResult:
    """Audit one suppression pattern: every primarily suppressed entry must be able to take
    0 and at least ``min_cases`` given the shown cells and sums. ``primary_only``: compute the
    ranges of the primary entries only (all that decides the result)."""
    lines = _lines(x.shape, total_row, total_col, groups)
    rows = []
    for (i, j), lo, hi in _ranges(x.astype(float), sup, lines, primary if primary_only else None):
        ok = (not primary[i, j]) or (lo <= 1e-6 and hi >= min_cases - 1e-6)
        rows.append({"row": i, "col": j, "value": int(x[i, j]), "primary": bool(primary[i, j]),
                     "lower": lo, "upper": hi, "ok": ok})
    ranges = pd.DataFrame(rows, columns=["row", "col", "value", "primary", "lower", "upper", "ok"])
    return AuditResult(passed=bool(ranges["ok"].all()) if len(ranges) else True, ranges=ranges)


def _with_hidden_rest(x: np.ndarray, total_row: bool) -> tuple[np.ndarray, bool]:
    """The table as the reader can reason about it when its total row is MORE than the sum of
    the rows shown (rows left out, e.g. offices listed as "noch nicht geliefert" whose earlier
    cases still count in the network total): a hidden rest row (total minus the rows) is
    inserted before the total -- unknown to the reader, so it is modelled as suppressed and
    never primary. Without it the equations contradict each other, every linear program fails
    and no pattern can pass. Returns (x, whether a rest row was inserted)."""
    if not total_row or x.shape[0] < 2:
        return x, False
    rest = x[-1] - x[:-1].sum(axis=0)
    if not (rest > 1e-9).any() or (rest < -1e-9).any():
        return x, False
    return np.vstack([x[:-1], np.clip(rest, 0, None), x[-1:]]), True


def _insert_rest(a: np.ndarray, value: bool) -> np.ndarray:
    return np.vstack([a[:-1], np.full((1, a.shape[1]), value), a[-1:]])


def _consistent_total(x: np.ndarray, total_row: bool) -> bool:
    """Whether the total row may be used as a sum: rows adding up to MORE than the total cannot
    be modelled (the total is then an ordinary row for the audit)."""
    return not total_row or not (x[-1] - x[:-1].sum(axis=0) < -1e-9).any()


def audit(pt: ProtectedTable) -> AuditResult:
    """Audit the suppression pattern of a protected table (``rundung3``/``keine`` suppress
    nothing and always pass)."""
    x = pt.original.to_numpy(dtype=float)
    sup, primary = pt.suppressed.to_numpy(), pt.primary.to_numpy()
    total_row = pt.total_row and _consistent_total(x, pt.total_row)
    x, rest = _with_hidden_rest(x, total_row)
    if rest:
        sup, primary = _insert_rest(sup, True), _insert_rest(primary, False)
    return audit_pattern(x, sup, primary, total_row, pt.total_col, pt.min_cases, pt.groups, primary_only=True)


def _extend(x: np.ndarray, sup: np.ndarray, primary: np.ndarray, total_row: bool, total_col: bool,
            min_cases: int, groups: tuple = ()) -> int:
    """Add suppressions until the audit passes; returns the number of cells added.

    Each round takes the first primary entry (row-major) whose range is too narrow and adds
    one suppression in one of its lines. An entry found safe stays safe: a further suppression
    turns a known value into an unknown, which can only widen every range. So each round checks
    only the entries not yet found safe, from the one that failed last, and stops at the first
    failure -- the same result as auditing the whole table every round, at a fraction of the
    linear programs."""
    lines = _lines(x.shape, total_row, total_col, groups)
    totals = {t for _, t in lines}
    added = 0
    pending = [(int(i), int(j)) for i, j in zip(*np.nonzero(primary & sup))]
    xf = x.astype(float)
    while True:
        var, a_eq, b_eq = _system(xf, sup, lines)
        cell = None
        for k, e in enumerate(pending):
            if _lower(e, var, a_eq, b_eq, xf) > 1e-6 or _upper(e, var, a_eq, b_eq, xf) < min_cases - 1e-6:
                cell, pending = e, pending[k:]
                break
        if cell is None:
            return added
        cand = {c for cells, total in lines if cell in cells or cell == total for c in cells
                if not sup[c] and x[c] > 0}
        if not cand:
            cand = {(int(i), int(j)) for i, j in zip(*np.nonzero((~sup) & (x > 0)))}
            interior = {c for c in cand if c not in totals}
            cand = interior or cand
        if not cand:  # cannot happen: everything non-zero suppressed passes the audit
            raise RuntimeError("Sperrung: Prüfung nicht erfüllbar")
        pick = min(cand, key=lambda c: (x[c], c))
        sup[pick] = True
        added += 1
        _secondary(x, sup, lines)


def protect(df: pd.DataFrame, method: str, *, value_cols: list[str], total_row: bool = False,
            total_col: bool = False, min_cases: int = 3, derived: dict[str, str] | None = None,
            decimals: int | dict[str, int] = 1,
            groups: list[tuple[list[str], str]] | None = None,
            forced: np.ndarray | None = None) -> ProtectedTable:
    """Apply a disclosure method to a wide count table (see the module docstring)."""
    if method not in METHODS:
        raise ValueError(f"Unbekanntes Geheimhaltungsverfahren „{method}“; erlaubt: {', '.join(METHODS)}.")
    derived = dict(derived or {})
    pos = {c: j for j, c in enumerate(value_cols)}
    group_ix = tuple((tuple(pos[c] for c in parts), pos[total]) for parts, total in (groups or []))
    counts = df[value_cols]
    if counts.isna().to_numpy().any() and (total_row or total_col or group_ix):
        raise ValueError("Tabellen mit Summen dürfen keine fehlenden Fallzahlen enthalten.")
    x = counts.fillna(0).to_numpy(dtype=float)
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("Geheimhaltung gilt nur für nicht negative ganze Fallzahlen.")
    missing = counts.isna().to_numpy()
    # a "total" with nothing to add up (the table is only its total row or column) is an
    # ordinary line: treating it as a sum of zero lines would pin it to 0 in the audit
    total_row = total_row and x.shape[0] > 1
    total_col = total_col and x.shape[1] > 1
    primary = np.zeros(x.shape, dtype=bool)
    sup = np.zeros(x.shape, dtype=bool)
    shown = x.copy()
    extended = 0
    if method == "sperrung":
        primary = (x >= 1) & (x < min_cases)
        sup = primary.copy()
        if forced is not None:  # hidden in another table of the same report: hidden here too
            sup |= np.asarray(forced, dtype=bool) & (x > 0)
        # rows left out of a total (see _with_hidden_rest): the suppression works on the table
        # with the hidden rest row, which is dropped again afterwards
        sums = total_row and _consistent_total(x, total_row)
        xs, rest = _with_hidden_rest(x, sums)
        sup_s, primary_s = (_insert_rest(sup, True), _insert_rest(primary, False)) if rest else (sup, primary)
        _secondary(xs, sup_s, _lines(xs.shape, sums, total_col, group_ix))
        extended = _extend(xs, sup_s, primary_s, sums, total_col, min_cases, group_ix)
        sup = np.delete(sup_s, -2, axis=0) if rest else sup_s
        total_row = sums
        shown = np.where(sup, np.nan, x)
    elif method == "rundung3":
        shown = 3 * np.floor(x / 3 + 0.5)
    shown = np.where(missing, np.nan, shown)

    display = df.copy()
    for k, col in enumerate(value_cols):
        if method == "rundung3":
            display[col] = [GEHEIM if missing[i, k] else f"{int(v):,}".replace(",", ".") for i, v in enumerate(shown[:, k])]
        else:
            display[col] = [format_count(v) for v in shown[:, k]]
    sup_df = pd.DataFrame(sup | missing, index=df.index, columns=value_cols)
    for col, base in derived.items():
        dec = decimals.get(col, 1) if isinstance(decimals, dict) else decimals
        base_vals = df[base]
        hide = pd.Series(False, index=df.index)
        if method != "keine":
            hide = base_vals.isna() | (base_vals < min_cases)
            if method == "sperrung" and base in value_cols:
                hide = hide | sup_df[base]
        display[col] = [GEHEIM if h else format_decimal(v, dec) for h, v in zip(hide, df[col])]
    values = pd.DataFrame(shown, index=df.index, columns=value_cols)
    return ProtectedTable(
        display=display, suppressed=sup_df, primary=pd.DataFrame(primary, index=df.index, columns=value_cols),
        values=values, method=method, footnote=FOOTNOTES[method].format(min_cases=min_cases),
        original=counts.fillna(0).astype(float), total_row=total_row, total_col=total_col, min_cases=min_cases,
        extended=extended, derived=derived, groups=group_ix,
    )


def release_check(protected_tables) -> list[str]:
    """Check protected tables before they leave an office (reports for the Landesebene).

    ``protected_tables``: a mapping name -> :class:`ProtectedTable` or an iterable of them.
    Returns the problems as German sentences (empty list = release allowed):

    * method ``keine`` (unprotected values by office);
    * ``sperrung``: a count 1 or 2 on display, or a failing LP audit (a primarily suppressed
      cell whose feasible range does not reach from 0 to at least ``min_cases``);
    * ``rundung3``: a shown count that is not a multiple of 3;
    * a derived value (share, quota, mean, median) shown although its number of cases is
      below ``min_cases`` or (``sperrung``) its count cell is suppressed.
    """
    items = list(protected_tables.items()) if isinstance(protected_tables, dict) else [
        (f"Tabelle {i + 1}", pt) for i, pt in enumerate(protected_tables)]
    problems: list[str] = []
    for name, pt in items:
        if pt.method not in ("sperrung", "rundung3"):
            problems.append(f"{name}: ohne Geheimhaltungsverfahren („{pt.method}“) – darf nicht an die Landesebene.")
            continue
        cols = list(pt.original.columns)
        shown = pt.display[cols].to_numpy()
        if pt.method == "sperrung":
            small = np.isin(shown, ["1", "2"])
            if small.any():
                problems.append(f"{name}: {int(small.sum())} Fallzahl(en) von 1 oder 2 werden angezeigt.")
            res = audit(pt)
            if not res.passed:
                bad = res.ranges[~res.ranges["ok"]]
                cells = "; ".join(f"Zeile {int(r.row) + 1}, Spalte „{cols[int(r.col)]}“: {r.lower:g} bis {r.upper:g}"
                                  for r in bad.itertuples())
                problems.append(f"{name}: gesperrte Werte lassen sich eingrenzen ({cells}).")
        else:
            vals = pt.values.to_numpy(dtype=float)
            off = ~np.isnan(vals) & (np.mod(vals, 3) != 0)
            if off.any():
                problems.append(f"{name}: {int(off.sum())} Fallzahl(en) sind nicht auf Vielfache von 3 gerundet.")
        for col, base in pt.derived.items():
            if base in pt.original.columns:
                base_vals = pt.original[base]
                secret = pt.suppressed[base] if pt.method == "sperrung" else pd.Series(False, index=base_vals.index)
            elif base in pt.display.columns:
                base_vals = pd.to_numeric(pt.display[base], errors="coerce")
                secret = pd.Series(False, index=base_vals.index)
            else:
                problems.append(f"{name}: Fallzahl „{base}“ zu „{col}“ fehlt; Prüfung nicht möglich.")
                continue
            must_hide = base_vals.isna() | (base_vals < pt.min_cases) | secret
            leaked = must_hide & (pt.display[col] != GEHEIM)
            if leaked.any():
                problems.append(f"{name}: „{col}“ wird in {int(leaked.sum())} Zeile(n) aus weniger als "
                                f"{pt.min_cases} Fällen oder zu einer gesperrten Fallzahl angezeigt.")
    return problems
