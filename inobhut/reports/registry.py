"""Report tables from the table registry: titles, column labels, number formats, footnotes.

Belongs here: small accessors that the report builders use to take, for every report table
that shows a table of ``shared/spec/statistics.md``, the German title stem, the column labels,
the Excel number formats and the footnotes from its single definition in
:mod:`inobhut.tables` -- so the tidy export, the Excel sheet and the HTML table share them.
Does not belong here: the definitions themselves (:mod:`inobhut.tables`), report layout
(rows by office, period text, disclosure, symbols: :mod:`.builders`, :mod:`.network`).
"""

from __future__ import annotations

from inobhut.tables import TableDef, table


def tdef(name: str) -> TableDef:
    """The registry definition of statistics table ``name``."""
    return table(name)


def title(name: str, rest: str = "") -> str:
    """The registry title of ``name`` followed by the report-specific ``rest`` (e.g. ``", März 2025"``)."""
    return table(name).title + rest


def label(name: str, col: str, qualifier: str = "") -> str:
    """German column label of ``col`` in table ``name``; ``qualifier`` is appended after a blank
    (e.g. ``"§42"`` or ``"Verbund"``) where a report shows the column more than once."""
    lbl = table(name).column_labels[col]
    return f"{lbl} {qualifier}" if qualifier else lbl


def number_format(name: str, col: str) -> str:
    """Excel number format of ``col`` in table ``name``."""
    return table(name).number_formats[col]


def columns(name: str, cols: list[str] | tuple[str, ...], qualifier: str = "") -> dict[str, str]:
    """``{report header: number format}`` for the number columns ``cols`` of table ``name``, in order."""
    return {label(name, c, qualifier): number_format(name, c) for c in cols}


def footnotes(name: str) -> list[str]:
    """The registry footnotes of table ``name`` (settings-dependent ones generated now)."""
    return table(name).footnotes()
