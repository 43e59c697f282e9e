"""HTML rendering of reports (Jinja2, self-contained pages).

Belongs here: turning a :class:`~inobhut.reports.model.ReportModel` into one HTML5 page
(inline CSS, inline SVG charts, no external requests); the Jinja environment and stylesheet the
run's front page (:mod:`.index_page`) shares.
Templates live in the ``report_templates`` package (``bericht.html.j2``, ``index.html.j2``,
``bericht.css``) and are loaded through ``importlib.resources``; the Jinja environment is
created once per process. Does not belong here: Excel, report contents.
"""

from __future__ import annotations

import os
import posixpath
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from inobhut import atomic

from .common import DISCLOSURE_LABELS, report_tables
from .fmt import fmt_datetime, fmt_value
from .model import SYMBOLS, ReportModel, ReportTable
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
    return atomic.write_text(path, text, newline="\n", keep_unchanged=True)  # an unchanged page keeps its file (and mtime)


def write_html(model: ReportModel, path: Path) -> Path:
    """Write the report as one self-contained HTML page."""
    return _write_text(Path(path), render_html_text(model))


# ---------------------------------------------------------------- shared with the index page (.index_page)
def _href(target: Path, base: Path) -> str:
    folder, name = os.path.split(_real(target))
    return quote(_rel_dir(folder, _real_dir(os.path.abspath(base))) + name)


@lru_cache(maxsize=8192)
def _rel_dir(folder: str, base: str) -> str:
    """``folder`` relative to ``base`` with ``/`` and a trailing ``/`` ("" for ``base`` itself):
    ``os.path.relpath`` once per folder instead of once per linked file (15,000 links, a few
    hundred folders on ten years of history)."""
    rel = os.path.relpath(folder, base)
    return "" if rel == os.curdir else rel.replace(os.sep, posixpath.sep) + posixpath.sep


def _real(path: Path) -> str:
    """``Path.resolve()`` of a file: its directory resolved once per directory (an index page
    links 15,000 files on ten years of history; resolving each path component by component
    took half of its time), the file itself only if it is a symbolic link."""
    p = os.path.abspath(path)
    if os.path.islink(p):
        return os.path.realpath(p)
    return os.path.join(_real_dir(os.path.dirname(p)), os.path.basename(p))


@lru_cache(maxsize=8192)
def _real_dir(d: str) -> str:
    return os.path.realpath(d)


def forget_resolved_dirs() -> None:
    """Before a new page: directories may have been moved or linked since the last one."""
    _real_dir.cache_clear()
    _rel_dir.cache_clear()
