"""Statutory outputs of an office (the reports the law requires), computed from the warehouse.

Belongs here: the federal statistic of provisional protective measures (``bund``), the
working-day UMA report to the Land distribution office (``uma_tag``) and the §42a deadline list
for the office (``fristen``), each as a plain-Python function over a DuckDB connection plus small
writers per output format. Does not belong here: Dagster (see ``assets/statutory/``), the command
line (``pipelines/cli_meldung.py``), the Land-level reports (``inobhut.reports``).

Where the outputs go (see docs/meldungen.md and docs/sicherheit.md, "wer sieht was"):
``<out>/jugendaemter/<ags>/…`` for everything that goes to one office only (federal statistic
record file and workbook, deadline list); ``<out>/berichte/uma_tagesmeldung/…`` for the UMA report
to the Land distribution office (no case data).
"""
