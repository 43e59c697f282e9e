"""The run's front page ``<out>/berichte/index.html``.

Belongs here: turning the outputs found (:mod:`.kinds`) and the data overview
(:mod:`inobhut.overview`) into the view of ``report_templates/index.html.j2``, in the order an
operator and the Land level read it the morning after: (1) the deliveries of the latest month per
network (office × dataset, colour and text, links to the Prüfberichte), (2) the changes against
the previous data status, (3) the newest output of every kind, (4) the archive of all outputs as
one period × kind grid per network. Every link is relative and derived from a file found, never
from a hard-coded path. Not here: reading the warehouse, finding files.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from markupsafe import Markup

from inobhut import config

from .common import dataset_label, network_label, office_label
from .fmt import fmt_date, fmt_datetime, fmt_month, fmt_period
from .html import _css, _href, _write_text, environment, forget_resolved_dirs
from . import kinds as _kinds
from .kinds import FILE_KINDS, output_kind
from .model import IndexEntry

#: at most this many changed versions are listed one by one (the rest is counted)
CHANGES_LISTED = 40


@dataclass(frozen=True)
class IndexMeta:
    created_at: dt.datetime
    product_version: str
    title: str = "Berichte"
    description: str = ""


@dataclass
class FrontPageData:
    """What :mod:`inobhut.overview` read for the page (see there)."""

    out: Path  # <out>: the Prüfberichte are under <out>/pruefberichte
    month: str = ""
    stand: dt.datetime | None = None
    due: str = ""
    networks: list = field(default_factory=list)  # overview.NetworkStatus
    changes: object | None = None  # overview.Changes


@lru_cache(maxsize=1)
def _css_index() -> Markup:
    """The front page's own rules (``report_templates/index.css``), after the report stylesheet."""
    return Markup(resources.files("report_templates").joinpath("index.css").read_text(encoding="utf-8"))


def _file_kind(p: Path) -> str:
    suffix = p.suffix if isinstance(p, Path) else Path(p).suffix
    return FILE_KINDS.get(suffix.lower(), suffix)


def period_text(key: str, periodless: str = "") -> str:
    """German text of a period key: ``2025`` Jahr 2025, ``2025-03`` März 2025, ``2025-03-07``
    07.03.2025, ``2025-03-07_2025-03-12`` 07.03.2025 bis 12.03.2025, ``""`` ``periodless``."""
    if "_" in key:
        a, b = key.split("_", 1)
        return f"{fmt_date(a)} bis {fmt_date(b)}"
    if len(key) == 10:
        return fmt_date(key)
    return fmt_period(key) or periodless


_period_label = period_text


def _cell_period(key: str) -> str:
    """Days and ranges of days are listed in the month they start in."""
    return key[:7] if len(key) >= 10 else key


def _period_sort(key: str) -> tuple:
    """Periodless first, then newest first; a year before its months (``2025``, ``2025-12``, …)."""
    start = key.split("_")[0]
    return (key != "", [-int(p) for p in start.split("-")] if key else [], -len(key))


def _kind_order(kind: str) -> tuple[int, str]:
    order = [k.kind for k in _kinds.OUTPUT_KINDS]
    return (order.index(kind) if kind in order else len(order), kind)


def _net_order(kind: str):
    k = output_kind(kind)
    order = [*(k.network_first if k else ()), *config.networks()]
    return lambda n: (order.index(n) if n in order else len(order), n)


def _entry_view(e: IndexEntry, out_dir: Path) -> dict:
    files = [{"href": _href(f, out_dir), "kind": _file_kind(f)} for f in e.files]
    return {"title": e.title, "scope": e.scope or network_label(e.network), "files": files,
            "context": f"{e.title}".strip()}


def _anchor(*parts: str) -> str:
    return "a-" + "-".join(p or "x" for p in parts)


def _archive(entries: Sequence[IndexEntry], out_dir: Path) -> list[dict]:
    by_net: dict[str, dict[str, dict[str, list[IndexEntry]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for e in entries:
        by_net[e.network][_cell_period(e.month)][e.kind].append(e)
    nets = []
    for net in sorted(by_net, key=_net_order("")):
        kinds = sorted({k for p in by_net[net].values() for k in p}, key=_kind_order)
        rows = []
        for period in sorted(by_net[net], key=_period_sort):
            cells = []
            for kind in kinds:
                es = sorted(by_net[net][period].get(kind, []), key=lambda e: (e.month, e.scope, e.title))
                k = output_kind(kind)
                cells.append({"kind": kind, "label": k.title if k else kind, "id": _anchor(net, kind, period),
                              "entries": [_entry_view(e, out_dir) for e in es]})
            periodless = "neuester Stand"
            rows.append({"label": _period_label(period, periodless), "cells": cells})
        nets.append({"key": net, "label": network_label(net), "id": _anchor(net),
                     "kinds": [{"kind": k, "label": (output_kind(k).label if output_kind(k) else k)} for k in kinds],
                     "rows": rows})
    return nets


def _newest(entries: Sequence[IndexEntry], out_dir: Path) -> list[dict]:
    grouped: dict[str, dict[str, list[IndexEntry]]] = defaultdict(lambda: defaultdict(list))
    for e in entries:
        grouped[e.kind][e.network].append(e)
    out = []
    for kind in sorted(grouped, key=_kind_order):
        k = output_kind(kind)
        items = []
        for net in sorted(grouped[kind], key=_net_order(kind)):
            es = grouped[kind][net]
            latest = sorted({e.month for e in es}, key=_period_sort)[0]
            mine = sorted((e for e in es if e.month == latest), key=lambda e: (e.scope, e.title))
            cell_period = _cell_period(latest)
            item = {"network": network_label(net),
                    "period": _period_label(latest, k.periodless if k else "gesamter Zeitraum"), "count": len(mine),
                    "anchor": _anchor(net, kind, cell_period)}
            item["entry"] = _entry_view(mine[0], out_dir) if len(mine) == 1 else None
            items.append(item)
        out.append({"kind": kind, "label": k.label if k else kind, "rows": items})
    return out


def _status_view(data: FrontPageData, out_dir: Path) -> dict | None:
    from inobhut.overview import STATES

    if not data.month:
        return None
    nets = []
    for ns in data.networks:
        rows = []
        for ags, label, cells in ns.rows:
            rows.append({"label": label, "cells": [
                {"state": c.state, "text": c.text,
                 "href": _href(c.pruefbericht, out_dir) if c.pruefbericht else "",
                 "aria": f"Prüfbericht {dataset_label(c.dataset)}, {label}, {fmt_month(ns.month)}"} for c in cells]})
        n_offices = len(ns.rows)
        complete = sum(1 for _, _, cells in ns.rows if all(c.state in ("angenommen", "hinweise") for c in cells))
        summary = [f"{complete} von {n_offices} Jugendämtern vollständig angenommen"]
        summary += [f"{n} × {STATES[s]}" for s, n in ns.counts.items() if n and s not in ("angenommen",)]
        for state in ("abgelehnt", "ueberfaellig"):  # who needs a call, by name
            who = [f"{label} ({', '.join(dataset_label(c.dataset) for c in cells if c.state == state)})"
                   for _, label, cells in ns.rows if any(c.state == state for c in cells)]
            if who:
                more = f" und {len(who) - 10} weitere" if len(who) > 10 else ""
                summary.append(f"{STATES[state]}: {', '.join(who[:10])}{more}")
        nets.append({"key": ns.network, "label": network_label(ns.network), "rows": rows,
                     "summary": "; ".join(summary) + ".", "id": f"status-{ns.network}"})
    stand = fmt_datetime(data.stand) if data.stand is not None else "unbekannt (keine Eingangszeiten)"
    return {"month": fmt_month(data.month), "stand": stand, "due": data.due,
            "datasets": [dataset_label(d) for d in _datasets()], "networks": nets,
            "legend": [{"state": s, "text": t} for s, t in STATES.items()]}


def _datasets():
    from schemas.datasets import DATASET_NAMES

    return DATASET_NAMES


def _changes_view(data: FrontPageData, out_dir: Path) -> dict | None:
    ch = data.changes
    if ch is None:
        return None
    parts = []
    if ch.new:
        verdicts = ", ".join(f"{n} {v}" for v, n in sorted(ch.by_verdict.items()))
        parts.append(f"{ch.new} neue Versionen ({verdicts})")
    if ch.put_in_force:
        parts.append(f"{ch.put_in_force} Versionen neu in Kraft gesetzt")
    if ch.removed:
        parts.append(f"{ch.removed} Versionen nicht mehr im Datenstand")
    # a first run lists only what needs action (rejections); later runs every change
    shown = [c for c in ch.items if c.verdict == "abgelehnt"] if ch.first_run else ch.items
    items = sorted(shown, key=lambda c: (c.verdict != "abgelehnt", c.what.startswith("neu"), c.ags, c.dataset, c.month,
                                            c.version))
    rows = []
    for c in items[:CHANGES_LISTED]:
        pb = data.out / "pruefberichte" / c.ags / f"{c.dataset}_{c.month}_v{c.version}.html"
        rows.append({"office": office_label(c.ags) if c.ags in config.office_keys() else c.ags,
                     "dataset": dataset_label(c.dataset), "month": fmt_month(c.month), "version": c.version,
                     "what": c.what, "verdict": c.verdict or "–", "href": _href(pb, out_dir) if pb.is_file() else ""})
    base = fmt_datetime(dt.datetime.fromisoformat(ch.base_time)) if ch.base_time else ""
    return {"first_run": ch.first_run, "base": base, "summary": "; ".join(parts), "rows": rows,
            "more": max(0, len(items) - CHANGES_LISTED)}


def render_index(entries: Sequence[IndexEntry], out_dir: Path, meta: IndexMeta | Mapping,
                 overview: FrontPageData | None = None) -> Path:
    """Write ``out_dir/index.html``: the front page of the run (relative links)."""
    out_dir = Path(out_dir)
    if isinstance(meta, Mapping):
        meta = IndexMeta(**meta)
    forget_resolved_dirs()
    text = environment().get_template("index.html.j2").render(
        meta=meta, css=_css(), css_index=_css_index(), created=fmt_datetime(meta.created_at), count=len(entries),
        status=_status_view(overview, out_dir) if overview else None,
        changes=_changes_view(overview, out_dir) if overview else None,
        newest=_newest(entries, out_dir), archive=_archive(entries, out_dir))
    return _write_text(out_dir / "index.html", text)
