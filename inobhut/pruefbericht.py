"""The Prüfbericht of one delivery version: an HTML page and an Excel workbook (German).

Belongs here: turning a :class:`~inobhut.validation.ValidationResult` plus the delivery's
metadata into ``<out_dir>/<dataset>_<YYYY-MM>_v<N>.html``, ``.xlsx`` and ``.json`` (machine-readable,
modelled on the ESS validation report format). The output depends
only on its inputs (no current time inside), so reruns give the same HTML bytes. Not here:
the checks (:mod:`inobhut.validation`), deciding where reports live (the caller's ``out_dir``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from inobhut import atomic
from inobhut.validation import Finding, ValidationResult, rules
from inobhut.warehouse import VERDICT_ACCEPTED, VERDICT_REJECTED
from schemas.datasets import DATASETS

HTML_LIMIT = 50  # findings shown per rule in HTML; Excel has all
COLUMNS = ("Regel", "Schwere", "Zeile", "Spalte", "Gelieferter Wert", "Meldung", "Korrekturhinweis")
MAX_WIDTH = 80


@dataclass
class _Group:
    rule_id: str
    severity: str
    titel: str
    count: int
    shown: list[Finding]
    css: str


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("report_templates", "."), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


def base_name(meta: dict) -> str:
    return meta.get("base_name") or f"{meta['dataset']}_{meta['month']}_v{meta['version']}"


def _received_label(v: Any) -> str:
    if v is None or v == "":
        return "–"
    if isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v)
        except ValueError:
            return v
    if isinstance(v, dt.datetime):
        return v.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%d.%m.%Y")
    return str(v)


def _groups(findings: list[Finding], limit: int | None) -> list[_Group]:
    catalogue = rules()
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    order = {rid: i for i, rid in enumerate(catalogue)}
    out = []
    for rid in sorted(by_rule, key=lambda r: (by_rule[r][0].severity != "Fehler", order.get(r, 10**6), r)):
        fs = by_rule[rid]
        r = catalogue.get(rid)
        sev = fs[0].severity
        out.append(_Group(rid, sev, r.titel if r else rid, len(fs), fs if limit is None else fs[:limit],
                          "fehler" if sev == "Fehler" else "hinweis"))
    return out


def _summary(result: ValidationResult) -> str:
    n_f = sum(1 for f in result.findings if f.severity == "Fehler")
    n_h = sum(1 for f in result.findings if f.severity == "Hinweis" and not f.bestaetigt)
    n_b = sum(1 for f in result.findings if f.bestaetigt)
    parts = [f"{n_f} Fehler", f"{n_h} Hinweis{'e' if n_h != 1 else ''}"]
    if n_b:
        parts.append(f"{n_b} bestätigte Hinweis{'e' if n_b != 1 else ''}")
    text = ", ".join(parts) + "."
    if result.verdict == VERDICT_REJECTED:
        text += " Die Lieferung wurde abgelehnt; eine zuvor angenommene Version bleibt gültig. Bitte die Fehler beheben und die Datei erneut liefern."
    elif result.verdict == VERDICT_ACCEPTED:
        text += " Die Lieferung wurde angenommen."
    else:
        text += " Die Lieferung wurde angenommen; bitte die Hinweise prüfen."
    return text


#: optional columns of the federal statistic (docs/meldungen.md): the Prüfbericht says whether they came
BUND_OPTIONAL = ("herkunft_eltern", "familiensprache")


def _bund_optional_label(result: ValidationResult, dataset: str) -> str | None:
    """One German line on the optional federal-statistic columns of a massnahmen delivery (no
    finding: files without them stay valid); None for other datasets and rejected versions."""
    if dataset != "massnahmen" or result.frame is None:
        return None
    f = result.frame
    parts = []
    for col in BUND_OPTIONAL:
        header = DATASETS["massnahmen"].column(col).header
        n = int(f[col].notna().sum()) if col in f.columns else 0
        parts.append(f"{header}: in {n} von {len(f)} Zeilen angegeben")
    text = "; ".join(parts) + "."
    if all(int(f[c].notna().sum()) == 0 if c in f.columns else True for c in BUND_OPTIONAL):
        text += " Freiwillig; ohne Angabe meldet die Bundesstatistik „nicht erhoben“ (siehe docs/meldungen.md)."
    return text


def _meta_view(result: ValidationResult, meta: dict) -> dict:
    month = str(meta["month"])
    ds = DATASETS.get(meta["dataset"])
    enc = result.encoding or ("Excel" if str(meta.get("file_name", "")).lower().endswith(".xlsx") else "–")
    delim = {";": "Semikolon", ",": "Komma", "\t": "Tabulator"}.get(result.delimiter or "", "")
    return {
        "ags": meta["ags"], "office_name": meta.get("office_name") or meta["ags"], "dataset": meta["dataset"],
        "dataset_title": ds.title if ds else meta["dataset"], "month": month,
        "month_label": f"{month[5:7]}/{month[:4]}" if len(month) == 7 else month,
        "version": meta.get("version", "–"), "file_name": meta.get("file_name", "–"), "sha256": meta.get("sha256") or "–",
        "received_label": _received_label(meta.get("received_at")),
        "encoding_label": f"{enc} / {delim}" if delim else enc,
        "bund_optional": _bund_optional_label(result, meta["dataset"]),
    }


def _template():
    return _env().get_template("pruefbericht.html.j2")


def preload() -> None:
    """Load what writing a Prüfbericht needs on first use (template, Excel writer), e.g. in a
    process that is about to fork the writers."""
    import xlsxwriter.packager  # noqa: F401

    from inobhut import xlsx_io, xlsx_print  # noqa: F401

    _template()


def render_html(result: ValidationResult, meta: dict, limit: int = HTML_LIMIT) -> str:
    verdict_class = {VERDICT_ACCEPTED: "urteil-angenommen", VERDICT_REJECTED: "urteil-abgelehnt"}.get(result.verdict, "urteil-hinweise")
    return _template().render(
        result=result, meta=_meta_view(result, meta), groups=_groups(result.findings, limit), limit=limit,
        verdict_class=verdict_class, summary=_summary(result))


def _row(f: Finding) -> tuple:
    sev = f.severity + (" (bestätigt)" if f.bestaetigt else "")
    return (f.rule_id, sev, f.zeile, f.spalte or "", f.wert or "", f.meldung, f.hinweis)


def write_excel(result: ValidationResult, meta: dict, path: Path) -> None:
    """The workbook: sheet "Übersicht" (the delivery, the verdict, findings per rule) and sheet
    "Befunde" (every finding, an Excel table with filters). Written with XlsxWriter (one
    Prüfbericht per delivery version: openpyxl took three times as long, docs/leistung.md); every
    text, a delivered value included, is written as text, never as a formula."""
    from inobhut.xlsx_io import xlsxwriter_workbook
    from inobhut.xlsx_print import setup_print_xlsxwriter

    mv = _meta_view(result, meta)
    wb = xlsxwriter_workbook(path, _created_at(meta))
    bold = wb.add_format({"bold": True})

    def put(ws, r: int, values: tuple | list, fmt=None) -> None:
        for c, v in enumerate(values):
            if v is None or v == "":
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(r, c, v, fmt)
            else:
                ws.write_string(r, c, str(v), fmt)

    ov = wb.add_worksheet("Übersicht")
    ov_widths = [28, 70, 40, 10]
    for i, w in enumerate(ov_widths):
        ov.set_column(i, i, w)
    doc_title = f"Prüfbericht {mv['office_name']} ({mv['ags']}), {mv['dataset']}, {mv['month_label']}, Version {mv['version']}"
    setup_print_xlsxwriter(ov, doc_title, ov_widths)
    ov.write_string(0, 0, "Prüfbericht", bold)
    ov.write_string(0, 1, f"{mv['office_name']} ({mv['ags']}) · {mv['dataset']} · {mv['month_label']}")
    r = 2
    for label, value in (("Urteil", result.verdict), ("Zusammenfassung", _summary(result)),
                         ("Fehlanzeige", "ja" if result.fehlanzeige else "nein"),
                         ("Jugendamt", f"{mv['office_name']} ({mv['ags']})"), ("Datensatz", mv["dataset"]),
                         ("Berichtsmonat", mv["month_label"]), ("Version", mv["version"]), ("Datei", mv["file_name"]),
                         ("Prüfsumme (SHA-256)", mv["sha256"]), ("Eingang", mv["received_label"]),
                         ("Datenzeilen", result.n_rows), ("Zeichensatz / Trennzeichen", mv["encoding_label"]),
                         ("Stand der Prüfregeln", result.rules_version),
                         *([("Merkmale der Bundesstatistik", mv["bund_optional"])] if mv["bund_optional"] else [])):
        ov.write_string(r, 0, label, bold)
        put(ov, r, (None, value))
        r += 1
    r += 1
    put(ov, r, ("Regel", "Prüfung", "Schwere", "Anzahl"), bold)
    for g in _groups(result.findings, 0):
        r += 1
        put(ov, r, (g.rule_id, g.titel, g.severity, g.count))

    ws = wb.add_worksheet("Befunde")
    rows = [_row(f) for f in result.findings] or [("", "", None, "", "", "Keine Befunde.", "")]
    widths = [len(h) + 4 for h in COLUMNS]  # room for the filter button
    for row in rows:
        for i, v in enumerate(row):
            if v is not None:
                widths[i] = max(widths[i], min(len(str(v)) + 2, MAX_WIDTH))
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.freeze_panes(1, 0)
    setup_print_xlsxwriter(ws, doc_title, widths, header_row=1)
    ws.add_table(0, 0, len(rows), len(COLUMNS) - 1, {
        "name": "Befunde", "style": "Table Style Medium 2", "autofilter": True,
        "columns": [{"header": h} for h in COLUMNS]})
    for i, row in enumerate(rows, start=1):
        put(ws, i, row)
    wb.close()


def _created_at(meta: dict) -> dt.datetime | None:
    """The workbook's document time: the receipt time of the delivery (never the clock)."""
    v = meta.get("received_at")
    if isinstance(v, str) and v:
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            return None
    return v if isinstance(v, dt.datetime) else None


def _expression(rule_id: str) -> str:
    r = rules().get(rule_id)
    if r is None:
        return ""
    impl = r.extra.get("umsetzung", "")
    from schemas.gx_suites import SUITE

    for s in SUITE:
        if s.rule == rule_id:
            return f"{impl}: {s.expectation}({', '.join(sorted(s.kwargs('massnahmen' if 'massnahmen' in s.datasets else s.datasets[0], _pr())))})"
    return impl


def _pr() -> dict:
    from inobhut.config import settings

    return settings()["pruefung"]


def report_json(result: ValidationResult, meta: dict) -> dict:
    """The machine-readable validation result, modelled on the ESS validation report format:
    the data source, the rules evaluated (id, severity, expression, description, result) and
    one result per record that violated a rule (record = row as in the delivered file)."""
    counts = result.counts()
    catalogue = rules()
    return {
        "format": "inobhut-validierungsbericht/1 (angelehnt an das ESS validation report format)",
        "data_source": {
            "jugendamt": meta["ags"], "datensatz": meta["dataset"], "berichtsmonat": meta["month"],
            "version": meta.get("version"), "datei": meta.get("file_name"), "sha256": meta.get("sha256"),
            "eingang": meta.get("received_at"), "zeilen": int(result.n_rows),
            "zeichensatz": result.encoding, "trennzeichen": result.delimiter,
        },
        "rule_set": {"version": result.rules_version, "katalog": "schemas/rules.yaml"},
        "verdict": result.verdict,
        "fehlanzeige": bool(result.fehlanzeige),
        "summary": {"fehler": result.n_fehler, "hinweise": result.n_hinweise,
                    "bestaetigt": sum(1 for f in result.findings if f.bestaetigt)},
        "rules": [
            {"rule_id": rid, "severity": r.schwere, "level": r.ebene, "description": r.titel,
             "expression": _expression(rid), "result": "FALSE" if counts.get(rid) else "TRUE",
             "violations": counts.get(rid, 0)}
            for rid, r in catalogue.items() if counts.get(rid)
        ],
        "results": [
            {"rule_id": f.rule_id, "severity": f.severity, "record": f.zeile, "variable": f.spalte,
             "value": f.wert, "result": "FALSE", "confirmed": bool(f.bestaetigt),
             "message": f.meldung, "fix": f.hinweis}
            for f in result.findings
        ],
    }


def write_json(result: ValidationResult, meta: dict, path: Path) -> None:
    import json

    atomic.write_text(path, json.dumps(report_json(result, meta), ensure_ascii=False, indent=1) + "\n")


def write_pruefbericht(result: ValidationResult, meta: dict, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<dataset>_<YYYY-MM>_v<N>.html``, ``.xlsx`` and ``.json`` (machine-readable,
    ESS-like); returns the three paths.

    ``meta``: ags, office_name, dataset, month, version, file_name, sha256, received_at
    (optional ``base_name`` overrides the file name stem)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = base_name(meta)
    html_path, xlsx_path = out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
    atomic.write_text(html_path, render_html(result, meta))
    with atomic.replacing(xlsx_path) as tmp_xlsx:  # unique per process: two runs never share it
        write_excel(result, meta, tmp_xlsx)
    json_path = out_dir / f"{stem}.json"
    write_json(result, meta, json_path)
    return [html_path, xlsx_path, json_path]
