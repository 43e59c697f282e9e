"""Entry points that write a report (Excel + HTML) and the run's index page.

Belongs here: ``render_report`` (one model -> ``<out_base>.xlsx`` and ``<out_base>.html``),
``render_index`` (re-exported from :mod:`.html`) and the default file layout under
``<out>/berichte/``. Does not belong here: layout details of either format.
"""

from __future__ import annotations

from pathlib import Path

from .excel import write_xlsx
from .html import write_html
from .index_page import IndexMeta, render_index
from .model import LANDESEBENE_KINDS, IndexEntry, ReleaseRefused, ReportModel

__all__ = ["render_report", "render_index", "report_path", "office_dir", "office_report_path", "OFFICE_DIR", "index_entry", "IndexMeta", "check_release"]


def check_release(model: ReportModel) -> None:
    """Refuse a Landesebene report (Landes-, Jahres-, Strategiebericht) whose protected tables
    fail :func:`inobhut.disclosure.release_check`, or that claims no disclosure method."""
    if model.kind not in LANDESEBENE_KINDS:
        return
    from inobhut.disclosure import release_check

    problems = []
    if model.disclosure_method == "keine":
        problems.append("Berichte für die Landesebene brauchen ein Geheimhaltungsverfahren (eingestellt ist „keine“).")
    problems += release_check(model.protected)
    if problems:
        raise ReleaseRefused(f"{model.title}, {model.period}: Freigabeprüfung der Geheimhaltung nicht bestanden, "
                             "der Bericht wird nicht geschrieben. " + " ".join(problems))


def render_report(model: ReportModel, out_base: Path) -> list[Path]:
    """Write ``out_base.xlsx`` and ``out_base.html``; returns both paths (HTML first).
    Same model, same bytes. Landesebene reports pass :func:`check_release` first."""
    check_release(model)
    out_base = Path(out_base)
    html = write_html(model, out_base.with_name(out_base.name + ".html"))
    xlsx = write_xlsx(model, out_base.with_name(out_base.name + ".xlsx"))
    return [html, xlsx]


def report_path(berichte_dir: Path, kind: str, scope_key: str, period_key: str, network: str = "") -> Path:
    """Default base path (without suffix) of a report under ``<out>/berichte``:
    ``<kind>/<network>/<YYYY-MM>/<kind>_<scope>_<YYYY-MM>`` (network level omitted when it
    equals the scope)."""
    parts = [kind]
    if network and network != scope_key:
        parts.append(network)
    else:
        parts.append(scope_key)
    if period_key:
        parts.append(period_key)
    name = "_".join(p for p in (kind, scope_key, period_key) if p)
    return Path(berichte_dir).joinpath(*parts, name)


OFFICE_DIR = "jugendaemter"  # <out>/jugendaemter/<ags>/: everything for one office (docs/sicherheit.md)


def office_dir(out: Path, ags: str) -> Path:
    """The folder of one office under ``<out>``: its own reports and statutory outputs, handed to
    that office only (Land-level reports are under ``<out>/berichte``)."""
    return Path(out) / OFFICE_DIR / ags


def office_report_path(out: Path, kind: str, ags: str, period_key: str) -> Path:
    """Base path (without suffix) of a report for one office:
    ``<out>/jugendaemter/<ags>/<kind>/<kind>_<ags>_<YYYY-MM>``."""
    name = "_".join(p for p in (kind, ags, period_key) if p)
    return office_dir(out, ags) / kind / name


def index_entry(model: ReportModel, files: list[Path]) -> IndexEntry:
    """The index-page entry of a rendered report."""
    scope = model.scope if model.kind != "landesbericht" else ""
    return IndexEntry(kind=model.kind, title=model.title, network=model.network or model.scope_key,
                      month=model.period_key, files=tuple(files), scope=scope)
