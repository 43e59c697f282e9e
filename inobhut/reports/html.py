"""HTML rendering of reports and of the index page (Jinja2, self-contained pages).

Belongs here: turning a :class:`~inobhut.reports.model.ReportModel` into one HTML5 page
(inline CSS, inline SVG charts, no external requests) and the run's ``berichte/index.html``.
Templates live in the ``report_templates`` package (``bericht.html.j2``, ``index.html.j2``,
``bericht.css``) and are loaded through ``importlib.resources``; the Jinja environment is
created once per process. Does not belong here: Excel, report contents.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from inobhut import config

from .common import DISCLOSURE_LABELS, network_label, report_tables
from .fmt import fmt_datetime, fmt_month, fmt_period, fmt_value
from .model import KIND_LABELS, SYMBOLS, IndexEntry, ReportModel, ReportTable
from .svg import legend, svg_chart


def _load_template(name: str) -> tuple[str, None, callable]:
    text = resources.files("report_templates").joinpath(name).read_text(encoding="utf-8")
    return text, None, lambda: True


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja environment (created once; templates are compiled once and cached)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    return env


@lru_cache(maxsize=1)
def _css() -> Markup:
    """The stylesheet, marked safe: autoescaping would turn its quotes into ``&#34;`` inside
    ``<style>``, where entities are not decoded (the font list was silently dropped)."""
    return Markup(resources.files("report_templates").joinpath("bericht.css").read_text(encoding="utf-8"))


def _table_view(t: ReportTable, note_nums: list[int]) -> dict:
    cols = list(t.data.columns)
    label_col = t.label_column
    totals = set(t.total_rows or [])
    rows = []
    for i, rec in enumerate(t.data.astype(object).values.tolist()):
        cells = []
        for c, v in zip(cols, rec):
            fmt = t.number_formats.get(c)
            cells.append({
                "text": fmt_value(v, fmt),
                "head": c == label_col,
                "num": fmt is not None,
            })
        rows.append({"cells": cells, "total": i in totals})
    view = {
        "id": t.id,
        "title": t.title,
        "description": t.description,
        "columns": [{"name": c, "num": c in t.number_formats} for c in cols],
        "rows": rows,
        "notes": note_nums,
        "chart": None,
    }
    if t.chart is not None:
        view["chart"] = {"svg": svg_chart(t, f"dia-{t.id}"), "title": t.chart.title,
                         "alt": t.chart.alt_text, "legend": legend(t)}
    return view


def render_html_text(model: ReportModel) -> str:
    tables = report_tables(model)
    notes, refs = model.numbered_notes()
    for t in tables[len(model.tables):]:
        refs[t.id] = []
        for n in t.notes:
            if n not in notes:
                notes.append(n)
            refs[t.id].append(notes.index(n) + 1)
    method = DISCLOSURE_LABELS.get(model.disclosure_method, model.disclosure_method)
    tpl = environment().get_template("bericht.html.j2")
    return tpl.render(
        m=model,
        css=_css(),
        tables=[_table_view(t, refs.get(t.id, [])) for t in tables],
        notes=list(enumerate(notes, 1)),
        symbols=list(SYMBOLS.items()),
        definitions=[*model.definitions, ("Geheimhaltung", f"{method}. {model.disclosure_note}".strip())],
        method=method,
        created=fmt_datetime(model.created_at),
    )


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    from inobhut.outputs import replace_if_changed

    replace_if_changed(Path(tmp), path)  # an unchanged page keeps its file (and mtime)
    return path


def write_html(model: ReportModel, path: Path) -> Path:
    """Write the report as one self-contained HTML page."""
    return _write_text(Path(path), render_html_text(model))


# ---------------------------------------------------------------- index page
@dataclass(frozen=True)
class IndexMeta:
    created_at: dt.datetime
    product_version: str
    title: str = "Berichte"
    description: str = ""


def _href(target: Path, base: Path) -> str:
    rel = os.path.relpath(Path(target).resolve(), Path(base).resolve())
    return quote(rel.replace(os.sep, posixpath.sep))


def _file_kind(p: Path) -> str:
    return {".html": "HTML", ".xlsx": "Excel", ".csv": "CSV", ".pdf": "PDF"}.get(Path(p).suffix.lower(), Path(p).suffix)


#: networks listed first on the index page for a report kind (the coordination office's network)
NETWORK_FIRST: dict[str, tuple[str, ...]] = {"platzuebersicht": ("SH-KOOP",)}
#: heading on the index page of reports without a month or year
PERIODLESS: dict[str, str] = {"platzuebersicht": "neuester Stichtag", "strategiebericht": "gesamter Zeitraum"}


def render_index(entries: Sequence[IndexEntry], out_dir: Path, meta: IndexMeta | Mapping) -> Path:
    """Write ``out_dir/index.html`` linking every report of the run (relative links),
    grouped by report kind, network and month (newest month first)."""
    out_dir = Path(out_dir)
    if isinstance(meta, Mapping):
        meta = IndexMeta(**meta)
    kinds_order = list(KIND_LABELS)
    net_order = list(config.networks())
    grouped: dict[str, dict[str, dict[str, list[IndexEntry]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for e in entries:
        grouped[e.kind][e.network][e.month].append(e)
    groups = []
    for kind in sorted(grouped, key=lambda k: (kinds_order.index(k) if k in kinds_order else len(kinds_order), k)):
        nets = []
        order = [*NETWORK_FIRST.get(kind, ()), *net_order]
        for net in sorted(grouped[kind], key=lambda n: (order.index(n) if n in order else len(order), n)):
            months = []
            for month in sorted(grouped[kind][net], reverse=True):
                items = []
                for e in sorted(grouped[kind][net][month], key=lambda e: (e.scope, e.title)):
                    files = [{"href": _href(f, out_dir), "kind": _file_kind(f)} for f in e.files]
                    items.append({"title": e.title, "scope": e.scope, "files": files,
                                  "context": f"{e.scope or e.title}, {fmt_period(month)}".strip(", ")})
                months.append({"key": month, "label": fmt_period(month) or PERIODLESS.get(kind, "gesamter Zeitraum"),
                               "reports": items})
            nets.append({"key": net, "label": network_label(net), "months": months})
        groups.append({"kind": kind, "label": KIND_LABELS.get(kind, kind), "networks": nets})
    text = environment().get_template("index.html.j2").render(
        meta=meta, css=_css(), groups=groups, created=fmt_datetime(meta.created_at), count=len(entries))
    return _write_text(out_dir / "index.html", text)
