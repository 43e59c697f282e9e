"""Rendering the reports of a run: the glue between warehouse, statistics, disclosure and reports.

Belongs here: reading the statistics tables and the delivery status once, choosing the
disclosure method per audience from the settings, rendering the monthly Landesberichte (per
network) and Jugendamtsberichte (per office), and the index page over everything under
``<out>/berichte``. Report contents live in ``inobhut.reports.builders``; disclosure rules in
``inobhut.disclosure``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from inobhut import __version__, config, disclosure, faultpoint
from inobhut.config import Paths
from inobhut.parallel import parallel
from inobhut.warehouse import Warehouse

FIXED_TABLES = ("bewegung", "beendete", "uma_quote", "plaetze", "fristen_42a")


def make_protect(method: str):
    """The ``protect`` callable the report builders expect, for one disclosure method."""

    def protect(df: pd.DataFrame, value_cols: list[str], total_label: str | None,
                groups: list[tuple[list[str], str]] | None = None, forced: set[tuple[str, str]] | None = None):
        """``groups``: sums within every row; ``forced``: (row label, column) of cells hidden in
        another table of the report (see :func:`inobhut.disclosure.protect`)."""
        label_col = next(c for c in df.columns if c not in value_cols)
        df = df.reset_index(drop=True)
        has_total = total_label is not None and (df[label_col] == total_label).any()
        if has_total:  # disclosure expects the total as the last row
            order = [i for i in df.index if df.at[i, label_col] != total_label] + list(df.index[df[label_col] == total_label])
            df = df.loc[order].reset_index(drop=True)
        mask = None
        if forced:
            mask = np.array([[(str(lab), c) in forced for c in value_cols] for lab in df[label_col]], dtype=bool)
        pt = disclosure.protect(df, method, value_cols=value_cols, total_row=bool(has_total), groups=groups,
                                forced=mask)
        shown = df.copy().astype(object)
        for c in value_cols:
            shown[c] = [("." if sup else (int(v) if float(v).is_integer() else v))
                        for v, sup in zip(pt.values[c].tolist(), pt.suppressed[c].tolist())]
        return shown, pt.footnote, pt  # the ProtectedTable goes to the release check

    return protect


def _delivery_statuses(con, last_month: str):
    from inobhut.reports import DeliveryStatus

    df = con.execute(
        "SELECT ags AS jugendamt, dataset, monat, verdict, version, received_at AS eingegangen "
        "FROM deliveries WHERE monat <= ? AND verdict IS NOT NULL",
        [last_month],
    ).df()
    return DeliveryStatus.from_frame(df)


def _findings_by_month(con) -> dict[tuple[str, str], pd.DataFrame]:
    """(month, network) -> findings per office, rule and severity: ``anzahl`` and ``bestaetigt``
    (how many of them the office confirmed, warehouse column ``findings.bestaetigt``)."""
    df = con.execute(
        "SELECT f.monat, f.ags, f.rule_id, f.severity, count(*) AS anzahl, "
        "count(*) FILTER (WHERE coalesce(f.bestaetigt, FALSE)) AS bestaetigt FROM findings f "
        "JOIN deliveries d USING (ags, dataset, monat, version) GROUP BY ALL ORDER BY ALL"
    ).df()
    verbund = {o.ags: o.verbund for o in config.offices()}
    df["verbund"] = df["ags"].map(verbund)
    out = {}
    for (m, v), g in df.groupby(["monat", "verbund"]):
        out[(m, v)] = g[["ags", "rule_id", "severity", "anzahl", "bestaetigt"]].reset_index(drop=True)
    return out


def render_months(paths: Paths, wh: Warehouse, months: list[str]) -> list[Path]:
    """Landesbericht per network and Jugendamtsbericht per office for every month."""
    from inobhut.reports.stats_index import prepare

    with wh.connect() as con:
        tables, present = report_tables(con, months)
        statuses = _delivery_statuses(con, max(months))
        findings = _findings_by_month(con)
    global _JOB
    _JOB = {"ix": prepare(tables, present), "statuses": statuses, "findings": findings, "berichte": paths.out / "berichte", "out": paths.out,
            "protect": make_protect(config.settings()["geheimhaltung"]["landesbericht"])}
    # Jugendamtsberichte live in <out>/jugendaemter/<ags>/ now; a folder left by an older version
    # under the Land-level berichte/ would hand office reports to the Land: remove it
    shutil.rmtree(paths.out / "berichte" / "jugendamtsbericht", ignore_errors=True)
    tasks = [("landesbericht", v, m) for m in months for v in config.networks()]
    tasks += [("jugendamtsbericht", o.ags, m) for m in months for o in config.offices()]
    # Rendering is CPU-bound pure Python (openpyxl, Jinja2): spread it over the cores.
    # fork: the workers inherit the prepared statistics instead of re-reading them.
    written = [p for chunk in parallel(_render_task, tasks, min_jobs=16, chunksize=8) for p in chunk]
    _JOB = None
    return written


def report_tables(con, months: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, set[str]]]:
    """The rows of the statistics tables that the monthly reports of ``months`` look up, and the
    offices and networks with rows anywhere in ``bewegung`` and ``beendete``
    (``stats_index.StatsIndex``): ``bewegung`` of the time series' months (``HISTORY_MONTHS`` up to
    each month), ``beendete`` of the months' years (the year to date, or the year's row), the
    Stichtag tables and ``fristen_42a`` of the months themselves. A nightly run on ten years
    indexed every row of 120 months for one month's reports."""
    from inobhut.calendar import add_months
    from inobhut.reports.stats_index import HISTORY_MONTHS
    from inobhut.statistics import _finish
    from inobhut.stat_store import ensure_tables, period_sql

    ensure_tables(con)
    first = add_months(min(months), -(HISTORY_MONTHS - 1))
    years = sorted({m[:4] for m in months})
    tables = {}
    for name in (*FIXED_TABLES, "personal"):
        period = f"trim({period_sql(name)})"  # as builders._month_text reads it
        if name == "bewegung":
            cond, args = f"left({period}, 7) BETWEEN ? AND ?", [first, max(months)]
        elif name == "beendete":
            cond, args = f"left({period}, 4) IN (SELECT unnest(?::VARCHAR[]))", [years]
        else:
            cond, args = f"left({period}, 7) IN (SELECT unnest(?::VARCHAR[]))", [list(months)]
        tables[name] = _finish(con.execute(f"SELECT * FROM stat_{name} WHERE {cond}", args).df(), name)
    present = {name: {r[0] for r in con.execute(f"SELECT DISTINCT trim(jugendamt::VARCHAR) FROM stat_{name}").fetchall()}
               for name in ("bewegung", "beendete")}
    return tables, present


_JOB: dict | None = None


def _render_task(task: tuple[str, str, str]) -> list[Path]:
    from inobhut.outputs import render_if_changed
    from inobhut.reports import build_jugendamtsbericht, build_landesbericht, office_report_path, report_path

    kind, scope, month = task
    job = _JOB
    assert job is not None
    if kind == "landesbericht":
        empty = pd.DataFrame(columns=["ags", "rule_id", "severity", "anzahl", "bestaetigt"])
        model = build_landesbericht(job["ix"], scope, month, job["statuses"], job["protect"],
                                    findings=job["findings"].get((month, scope), empty))
        base = report_path(job["berichte"], kind, scope, month, scope)
    else:
        model = build_jugendamtsbericht(job["ix"], scope, month, job["statuses"])
        base = office_report_path(job["out"], kind, scope, month)  # the office's folder, not the Land's
    written = render_if_changed(model, base)[0]
    faultpoint.reached("reports")
    return written


def render_index_page(paths: Paths, wh: Warehouse) -> Path:
    """``<out>/berichte/index.html``, the run's front page: the latest month's deliveries, the
    changes against the previous data status, and every output of a kind registered in
    :mod:`inobhut.reports.kinds` (found below ``<out>``, linked relatively)."""
    from inobhut import overview
    from inobhut.reports import FrontPageData, IndexEntry, render_index
    from inobhut.reports.kinds import find_outputs, output_kind

    berichte = paths.out / "berichte"
    berichte.mkdir(parents=True, exist_ok=True)
    keys = set(config.office_keys())
    entries = []
    for f in find_outputs(paths.out):
        k = output_kind(f.kind)
        if f.scope in keys:
            o = config.office(f.scope)
            network, scope_label = o.verbund, o.label
        else:
            network, scope_label = f.scope, ""
        period = _period_text(f.period)
        title = f"{k.title} {scope_label or config.networks_label(f.scope)} {period}".strip()
        entries.append(IndexEntry(kind=f.kind, title=title, network=network, month=f.period, files=f.files,
                                  scope=scope_label))
    with wh.connect() as con:
        month, stand, due, networks = overview.latest_month_status(con, paths)
        inputs, _ = overview.delivery_inputs(con)
    data = FrontPageData(out=paths.out, month=month, stand=stand, due=due, networks=networks,
                         changes=overview.changes(inputs, overview.comparison_base(paths.out, inputs)) if inputs else None)
    created = stand if stand is not None else dt.datetime(2000, 1, 1)
    return render_index(entries, berichte, {"created_at": created, "product_version": __version__,
                                            "title": "Berichte und Lieferungen",
                                            "description": "Startseite dieses Datenstands: Lieferungen des neuesten Monats, "
                                                           "Änderungen, neueste Berichte und das Archiv aller Berichte."},
                        overview=data)


def finish_outputs(paths: Paths, wh: Warehouse, run_id: str) -> tuple[Path, Path, list[Path]]:
    """The end of a successful run: the index page, ``manifest.json`` (its ``ausgabe`` events for
    new or changed outputs carry ``run_id``), the run's end in the audit trail, then the Protokoll
    (outside the reproducible outputs). Returns index page, manifest and Protokoll files.

    Two runs finishing at the same time (``inobhut run`` finishes outside Dagster's pool) do so
    one after the other (``<staging>/.uebersicht.lock``): each manifest is compared with the one
    before it, and no output is recorded twice."""
    from filelock import FileLock

    from inobhut import audit
    from inobhut.audit_report import write_audit_reports
    from inobhut.manifest import write_manifest
    from inobhut.overview import manifest_read_once

    paths.staging.mkdir(parents=True, exist_ok=True)
    with FileLock(str(paths.staging / ".uebersicht.lock"), timeout=3600), manifest_read_once():
        index = render_index_page(paths, wh)
        with audit.lauf(run_id):
            manifest = write_manifest(paths, wh)
        audit.record_once(paths.archive, "lauf_ende", lauf=run_id, detail={"ergebnis": "erfolgreich"})
        return index, manifest, write_audit_reports(paths, wh)


def _period_text(period: str) -> str:
    from inobhut.reports.index_page import period_text

    return period_text(period)


# ---------------------------------------------------------------- reports that are not per office × month
def read_facilities(con) -> pd.DataFrame:
    """Every facility at its latest Stichtag in the latest plaetze delivery of its office, with
    its previous Stichtag (``vorher_*``, empty if none) -- the input of the Platzübersicht."""
    return con.execute(
        """
        WITH f AS (
            SELECT jugendamt, monat, einrichtung, stichtag, angebot, traeger_art, alter_von, alter_bis,
                   plaetze_genehmigt AS genehmigt, plaetze_belegt AS belegt, plaetze_gesperrt AS gesperrt,
                   plaetze_genehmigt - plaetze_belegt - plaetze_gesperrt AS frei,
                   row_number() OVER (PARTITION BY jugendamt, einrichtung ORDER BY stichtag DESC, monat DESC) AS rn
            FROM plaetze),
        latest AS (SELECT jugendamt, max(monat) AS monat FROM plaetze GROUP BY jugendamt)
        SELECT a.jugendamt, a.monat, a.einrichtung, a.stichtag, a.angebot, a.traeger_art, a.alter_von, a.alter_bis,
               a.genehmigt, a.belegt, a.gesperrt, a.frei,
               b.stichtag AS vorher_stichtag, b.frei AS vorher_frei, b.gesperrt AS vorher_gesperrt
        FROM f a JOIN latest l ON a.jugendamt = l.jugendamt AND a.monat = l.monat
        LEFT JOIN f b ON a.jugendamt = b.jugendamt AND a.einrichtung = b.einrichtung AND b.rn = 2
        WHERE a.rn = 1
        ORDER BY a.jugendamt, a.einrichtung
        """
    ).df()


def _alter_geschlecht(con, years: list[str]) -> pd.DataFrame:
    """Ended measures by year, office, Altersgruppe and Geschlecht (m/w; d and o count as m),
    with the counting rules of :mod:`inobhut.statistics`."""
    from inobhut import statistics as st

    parts = []
    for y in years:
        m = st._ended_measures(con, st.zeitraum(y), "beginn, geburtsmonat, geschlecht")
        if len(m):
            parts.append(pd.DataFrame({
                "jahr": y, "jugendamt": m["jugendamt"],
                "altersgruppe": st._classify(st._age_years(m["geburtsmonat"], m["beginn"]), st.ALTERSGRUPPEN),
                "geschlecht": m["geschlecht"].map({"m": "m", "d": "m", "o": "m", "w": "w"}), "anzahl": 1}))
    if not parts:
        return pd.DataFrame(columns=["jahr", "jugendamt", "altersgruppe", "geschlecht", "anzahl"])
    df = pd.concat(parts, ignore_index=True)
    return df.groupby(["jahr", "jugendamt", "altersgruppe", "geschlecht"], as_index=False)["anzahl"].sum()


def _outlook(con, verbund: str) -> pd.DataFrame | None:
    """The five-year outlook as a report frame (one row per year × scenario × Angebot with the
    columns of ``inobhut.reports.strategie.OUTLOOK_LABELS``); None without enough history."""
    from inobhut.outlook import report_frame

    return report_frame(con, verbund)


def _render(model, base: Path) -> list[Path]:
    """Render unless the report's inputs are unchanged (fingerprint beside the files)."""
    from inobhut.outputs import render_if_changed

    written = render_if_changed(model, base)[0]
    faultpoint.reached("reports")
    return written


def render_all_other_reports(paths: Paths, wh: Warehouse, today: dt.date | None = None) -> list[Path]:
    """Lieferstatus for every month with deliveries (per network), the Platzübersicht (per
    network, latest Stichtag), the Jahresbericht for every year with data and the
    Strategiebericht (per network). Landesebene reports pass the release check first.

    A Lieferstatus or Jahresbericht whose input key (every input of its builder call, see
    :func:`_other_reports`) equals the one stored at its last render is not even built
    (:func:`inobhut.outputs.render_if_inputs_changed`): a nightly run on a long history builds
    the reports of the changed months and years only. Returns every file, written or not."""
    from inobhut.outputs import render_if_inputs_changed

    written: list[Path] = []
    for base, build, key in _other_reports(paths, wh, today, keys=True):
        if key is None:
            written += _render(build(), base)
        else:
            written += render_if_inputs_changed(key, build, base)[0]
            faultpoint.reached("reports")
    return written


def other_report_models(paths: Paths, wh: Warehouse, today: dt.date | None = None):
    """The models of :func:`render_all_other_reports` with the base path of their files, one at
    a time (``(ReportModel, Path)``), built from the warehouse (all of them, no input keys)."""
    for base, build, _ in _other_reports(paths, wh, today, keys=False):
        yield build(), base


def _other_reports(paths: Paths, wh: Warehouse, today: dt.date | None, *, keys: bool):
    """``(base path, build, input key)`` of every report of :func:`render_all_other_reports`:
    ``build()`` returns the model; the key (only with ``keys``; None for the Platzübersicht and
    the Strategiebericht, built every time) is a digest of everything the build reads:

    * both: the program's sources, schemas, settings and member offices
      (``stat_refresh.program_signature``), the renderer, templates and library versions
      (``outputs.input_key``), network and period;
    * Lieferstatus: the rows of ``delivery_status`` of the network's offices and the month (all
      the builder looks at), the due date, whether ``today`` is past it (the builder's only use
      of the day), the unassignable files shown;
    * Jahresbericht: the in-force Maßnahmen deliveries of the year (data status), the disclosure
      method, and -- instead of ``beendete`` of the year and the previous year and Alter ×
      Geschlecht of the year, which cost a statistics computation per year -- what those are
      computed from: every ``massnahmen`` row of the network's offices in the months of the year
      and of the previous year (:func:`_massnahmen_digests`; a measure counts in the year of its
      Ende from the file of that month, ``statistics._ended_measures``). So only the years whose
      reports are built have their statistics computed.
    """
    from functools import partial

    from inobhut.outputs import frame_digest, input_key, inputs_unchanged, row_hashes
    from inobhut.reports import report_path
    from inobhut.reports.network import build_jahresbericht, build_lieferstatus, build_platzuebersicht
    from inobhut.reports.strategie import build_strategiebericht
    from inobhut.stat_refresh import program_signature
    from inobhut.stat_store import read_table
    from inobhut.status import delivery_status, due_date

    berichte = paths.out / "berichte"
    settings = config.settings()["geheimhaltung"]
    jahr_method = settings.get("jahresbericht", "sperrung")
    program = program_signature() if keys else ""
    networks = config.networks()
    members = {v: {o.ags for o in config.network_offices(v)} for v in networks}
    with wh.connect() as con:
        months = [r[0] for r in con.execute("SELECT DISTINCT monat FROM deliveries ORDER BY 1").fetchall()]
        if not months:
            return
        statuses = _delivery_statuses(con, max(months))
        status_df = delivery_status(con, months)
        facilities = read_facilities(con)
        years = sorted({r[0][:4] for r in con.execute("SELECT DISTINCT monat FROM massnahmen").fetchall()})
        history = {n: read_table(con, n) for n in ("bewegung", "uma_quote", "kapazitaet", "personal")}
        outlooks = {v: _outlook(con, v) for v in networks}
        # the Jahresbericht's data status: the in-force Maßnahmen deliveries of the network and year
        data_status: dict[tuple[str, str], list] = {(v, y): [] for v in networks for y in years}
        network_of = {a: v for v in networks for a in members[v]}
        for s in _in_force(statuses):
            if s.dataset == "massnahmen" and (network_of.get(s.jugendamt), s.monat[:4]) in data_status:
                data_status[(network_of[s.jugendamt], s.monat[:4])].append(s)
        jahr_keys: dict[tuple[str, str], str | None] = {(v, y): None for v in networks for y in years}
        wanted = years
        if keys:
            sources = _massnahmen_digests(con)

            def source(v: str, y: str):
                return [(a, sources.get((y, a), "-")) for a in sorted(members[v])] if y in years else None

            for v, y in jahr_keys:
                prev = str(int(y) - 1)
                jahr_keys[(v, y)] = input_key(program, "jahresbericht", v, y, jahr_method, data_status[(v, y)],
                                              source(v, y), source(v, prev))
            wanted = sorted({y for (v, y), k in jahr_keys.items()
                             if not inputs_unchanged(k, report_path(berichte, "jahresbericht", v, y, v))})
        needed = sorted(set(wanted) | {str(int(y) - 1) for y in wanted if str(int(y) - 1) in years})
        beendete = {y: read_beendete(con, y) for y in needed}
        ag = {y: _alter_geschlecht(con, [y]) for y in wanted}

    def statistics_of(table: dict, read, y: str) -> pd.DataFrame:
        """``table[y]``, read now if a report turned out to need it after the check above (e.g.
        a file deleted meanwhile)."""
        if y not in table:
            with wh.connect() as con:
                table[y] = read(con, y)
        return table[y]

    def jahresbericht(v: str, y: str):
        rows_v = members[v] | {v}  # the builder reads the rows of the network and of its offices only
        prev = str(int(y) - 1)
        cur = statistics_of(beendete, read_beendete, y)
        before = statistics_of(beendete, read_beendete, prev) if prev in years else None
        ag_y = statistics_of(ag, lambda con, y: _alter_geschlecht(con, [y]), y)
        # Alter × Geschlecht of the network; the builder reads the rows of the year only
        a = ag_y[ag_y["jugendamt"].isin(members[v])].groupby(["jahr", "altersgruppe", "geschlecht"],
                                                             as_index=False)["anzahl"].sum()
        return build_jahresbericht(cur[cur["jugendamt"].isin(rows_v)],
                                   None if before is None else before[before["jugendamt"].isin(rows_v)],
                                   a[a["jahr"].astype(str) == y], v, y, data_status[(v, y)], make_protect(jahr_method))

    from inobhut.landing import load_state

    unassignable = load_state(paths.staging)
    status_rows = row_hashes(status_df) if keys else None
    for v in networks:
        # the builder reads only the rows of the network's offices and the month (same rows, same order)
        status_v = status_df[status_df["ags"].isin(members[v])]
        by_month = {m: g for m, g in status_v.groupby("monat", sort=False)}
        for m in months:
            status_m = by_month.get(m, status_v.iloc[:0])
            due = due_date(m)
            items = unassignable_for(unassignable, v, m, months)
            build = partial(build_lieferstatus, status_m, v, m, due, unassignable=items, today=today)
            # build_lieferstatus uses today only as "today > due"
            key = input_key(program, "lieferstatus", v, m, due, today is not None and today > due,
                            frame_digest(status_m, status_rows), items) if keys else None
            yield report_path(berichte, "lieferstatus", v, m, v), build, key
        yield (report_path(berichte, "platzuebersicht", v, "", v),
               partial(build_platzuebersicht, facilities, v, statuses), None)
        for y in years:
            yield report_path(berichte, "jahresbericht", v, y, v), partial(jahresbericht, v, y), jahr_keys[(v, y)]
        yield (report_path(berichte, "strategiebericht", v, "", v),
               partial(build_strategiebericht, history, v, statuses,
                       make_protect(settings.get("strategiebericht", "sperrung")), outlook=outlooks.get(v)), None)


def _massnahmen_digests(con) -> dict[tuple[str, str], str]:
    """(year, office) -> count and order-independent sum of the hashes of every ``massnahmen``
    row (all columns) of the office in the months of the year: what ``beendete`` and Alter ×
    Geschlecht of the year are computed from (one query over the table, no statistics)."""
    rows = con.execute("SELECT substr(monat, 1, 4), jugendamt, count(*), sum(hash(m)::HUGEINT) "
                       "FROM massnahmen m GROUP BY ALL").fetchall()
    return {(y, a): f"{n}:{s}" for y, a, n, s in rows}


def unassignable_for(items, verbund: str, month: str, months: list[str]) -> list:
    """The unassignable files shown in the Lieferstatus of ``verbund`` and ``month``: those of
    the network's offices (a file without a recognisable member office in every network) and of
    the month (a file without a month that has a Lieferstatus in the newest month)."""
    keys = {o.ags for o in config.network_offices(verbund)}
    newest = max(months)
    return [u for u in items
            if (u.ags is None or u.ags in keys) and (u.month == month or (u.month not in months and month == newest))]


def render_network_reports(paths: Paths, wh: Warehouse) -> list[Path]:
    """Alias of :func:`render_all_other_reports` (reports that are not per office × month)."""
    return render_all_other_reports(paths, wh)


def read_beendete(con, year: str) -> pd.DataFrame:
    """Statistics ``beendete`` for the calendar year ``year`` (offices and network rows)."""
    from inobhut.statistics import compute_beendete

    return compute_beendete(con, year)


def _in_force(statuses):
    from inobhut.reports.model import in_force

    return in_force(statuses)
